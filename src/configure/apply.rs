//! Carrying out a plan on one file: all of its `git config --file` commands, applied to a copy
//! that replaces the file only once every change is in and checked — or, for `--dry-run`, the
//! same commands printed.
//!
//! All or nothing: the copy is git's own lock file, `<file>.lock` ([`Replacement`]), so while
//! the change is under way no other git writes the file, and whatever stops it — a failing
//! command, a kill — leaves the file as it was: never a server with the empty reset but
//! without the helper after it. Only regular files are written ([`Target::check`]): a device
//! (`GIT_CONFIG_GLOBAL=/dev/null`), FIFO, socket or directory is refused by name and never
//! replaced; through a symbolic link, the file it leads to is written and the link stays.

use std::ffi::OsStr;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::files::{self, ReadError, ReplaceError, Replacement};
use crate::git::Git;
use crate::gitconfig::Entry;

use super::{Action, Change, Error};

/// A target file, checked: nothing or a regular file is at the end of its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// As the target was named (`$HOME/.gitconfig`, the `GIT_CONFIG_GLOBAL` value, `--file`).
    pub named: PathBuf,
    /// The file that is read and replaced: `named`, or where its symbolic links lead.
    pub file: PathBuf,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.named.display())?;
        if self.file != self.named {
            write!(f, " (a link to {})", self.file.display())?;
        }
        Ok(())
    }
}

impl Target {
    /// Resolves `named`'s links and checks that what it leads to is a regular file or nothing.
    pub fn check(named: &Path) -> Result<Target, Error> {
        let file = files::resolve_links(named)
            .map_err(|e| Error::Unreadable(named.to_path_buf(), e.kind()))?;
        let target = Target {
            named: named.to_path_buf(),
            file,
        };
        match files::existing_regular(&target.file) {
            Ok(_) => Ok(target),
            Err(ReadError::NotRegular(kind)) => Err(Error::NotRegular(target, kind)),
            Err(ReadError::Io(kind)) => Err(Error::Unreadable(target.file, kind)),
            Err(ReadError::NotFound | ReadError::TooLarge) => Ok(target),
        }
    }

    /// The file's entries, in file order; none when it does not exist yet.
    pub fn entries(&self, git: &Git) -> Result<Vec<Entry>, Error> {
        Ok(git.list_file(&self.file)?)
    }
}

/// Runs `changes` on a copy of the target and, when configuring, checks that `helper` is the
/// copy's last `credential.helper` (what libgit2 runs); only then does the copy replace the
/// file. No changes: the file is not touched at all.
pub fn apply(
    git: &Git,
    action: Action,
    target: &Target,
    changes: &[Change],
    helper: &str,
) -> Result<(), Error> {
    if changes.is_empty() {
        return Ok(());
    }
    if let Some(dir) = target.file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::CreateDir(dir.to_path_buf(), e.kind()))?;
    }
    let replace_error = |e: ReplaceError| match e {
        ReplaceError::Locked => Error::Locked {
            target: target.clone(),
        },
        ReplaceError::NotRegular(kind) => Error::NotRegular(target.clone(), kind),
        ReplaceError::Io(kind) => Error::Write(target.clone(), kind),
    };
    // A new file gets what git would give it (0666 less the umask); an old one keeps its mode.
    let copy = Replacement::begin(&target.file, None).map_err(replace_error)?;
    for change in changes {
        let args = change.git_args(copy.path());
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        // 5: nothing matched an unset; the plan only unsets what it read, and the copy holds
        // exactly that.
        git.run(&args, &[5])?;
    }
    if action == Action::Configure {
        let after = git.list_file(copy.path())?;
        let last = after
            .iter()
            .rev()
            .find(|e| e.key == "credential.helper")
            .and_then(|e| e.value.as_deref());
        if last != Some(helper) {
            return Err(Error::NotLast(target.named.clone()));
        }
    }
    copy.commit().map_err(replace_error)
}

/// `--dry-run`: the commands as a user would type them, or a line saying there is nothing to do.
pub fn print(target: &Target, changes: &[Change], out: &mut impl Write) {
    if changes.is_empty() {
        let _ = writeln!(out, "# {target}: nothing to change");
    }
    for change in changes {
        let _ = writeln!(out, "{}", change.shell(&target.named));
    }
}
