//! Carrying out a plan on one file: the `git config --file` commands, or, for `--dry-run`, the
//! same commands printed.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use crate::git::Git;

use super::{Action, Change, Error};

/// Runs `changes` on `file` and, when configuring, checks that `helper` is now the file's last
/// `credential.helper` (what libgit2 runs).
pub fn apply(
    git: &Git,
    action: Action,
    file: &Path,
    changes: &[Change],
    helper: &str,
) -> Result<(), Error> {
    if action == Action::Configure {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::CreateDir(dir.to_path_buf(), e.kind()))?;
        }
    }
    for change in changes {
        let args = change.git_args(file);
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        // 5: nothing matched an unset; the plan only unsets what it read, but a concurrent
        // writer may have been first, and the result is the same.
        git.run(&args, &[5])?;
    }
    if action == Action::Configure {
        let after = git.list_file(file)?;
        let last = after
            .iter()
            .rev()
            .find(|e| e.key == "credential.helper")
            .and_then(|e| e.value.as_deref());
        if last != Some(helper) {
            return Err(Error::NotLast(file.to_path_buf()));
        }
    }
    Ok(())
}

/// `--dry-run`: the commands as a user would type them, or a line saying there is nothing to do.
pub fn print(file: &Path, changes: &[Change], out: &mut impl Write) {
    if changes.is_empty() {
        let _ = writeln!(out, "# {}: nothing to change", file.display());
    }
    for change in changes {
        let _ = writeln!(out, "{}", change.shell(file));
    }
}
