//! Running git: the configuration commands `configure` and `doctor` need, with the environment
//! snapshot. git itself reads and writes the files (`git config --file F ... -z`): its parser,
//! its quoting and its lock-file-and-rename writes are the ones every client agrees with; a
//! second parser here would be one more reader that could understand a file differently.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::env::Env;
use crate::gitconfig::{parse_list, Entry, LIBGIT2_SYSTEM_FILE};
use crate::helper_value;

/// A failure to run git or to read what it printed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run {program} ({kind}); install git or put it on PATH")]
    Spawn {
        program: String,
        kind: io::ErrorKind,
    },
    #[error("{command} failed: {message}")]
    Failed { command: String, message: String },
    #[error("{} is not a regular file, so it is not read as git configuration", .0.display())]
    NotRegular(PathBuf),
}

/// The git program used to read and write configuration, run with the environment snapshot.
#[derive(Debug, Clone)]
pub struct Git<'a> {
    pub program: OsString,
    env: &'a Env,
}

impl<'a> Git<'a> {
    /// The `git` found on `PATH`.
    pub fn new(env: &'a Env) -> Git<'a> {
        Git::at("git", env)
    }

    /// The git at `program`.
    pub fn at(program: impl Into<OsString>, env: &'a Env) -> Git<'a> {
        Git {
            program: program.into(),
            env,
        }
    }

    fn command(&self) -> Command {
        let mut command = self.env.command(&self.program);
        command.stdin(Stdio::null());
        command
    }

    /// Runs git; `Ok(None)` when git exits with one of `tolerated` (e.g. 1: key not found).
    pub fn run(&self, args: &[&OsStr], tolerated: &[i32]) -> Result<Option<Vec<u8>>, GitError> {
        let output = self
            .command()
            .args(args)
            .output()
            .map_err(|e| GitError::Spawn {
                program: self.program.to_string_lossy().into_owned(),
                kind: e.kind(),
            })?;
        if output.status.success() {
            return Ok(Some(output.stdout));
        }
        if output
            .status
            .code()
            .is_some_and(|code| tolerated.contains(&code))
        {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(GitError::Failed {
            command: format!(
                "git {}",
                args.iter()
                    .map(|a| helper_value::quote(&a.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            message: stderr.lines().next().unwrap_or("no message").to_string(),
        })
    }

    /// Every entry of one file, in file order; none when the file does not exist. Only a
    /// regular file is handed to git: git would block reading a FIFO with no writer.
    pub fn list_file(&self, file: &Path) -> Result<Vec<Entry>, GitError> {
        match std::fs::metadata(file) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Ok(meta) if !meta.is_file() => return Err(GitError::NotRegular(file.to_path_buf())),
            _ => {}
        }
        let out = self.run(
            &[
                OsStr::new("config"),
                OsStr::new("--file"),
                file.as_os_str(),
                OsStr::new("--list"),
                OsStr::new("-z"),
            ],
            &[],
        )?;
        Ok(parse_list(&out.unwrap_or_default(), false))
    }

    /// Every entry git would read here (system, global, local, command line), in git's order.
    pub fn list_all(&self) -> Result<Vec<Entry>, GitError> {
        let out = self.run(
            &[
                OsStr::new("config"),
                OsStr::new("--list"),
                OsStr::new("--show-scope"),
                OsStr::new("--show-origin"),
                OsStr::new("-z"),
            ],
            &[],
        )?;
        Ok(parse_list(&out.unwrap_or_default(), true))
    }

    /// `git --version`, for reports.
    pub fn version(&self) -> Option<String> {
        let out = self.run(&[OsStr::new("--version")], &[]).ok()??;
        Some(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// The system configuration file this git reads: `git var GIT_CONFIG_SYSTEM` (git 2.42 and
    /// later, honouring `GIT_CONFIG_SYSTEM`), else `/etc/gitconfig`.
    pub fn system_file(&self) -> PathBuf {
        match self.run(&[OsStr::new("var"), OsStr::new("GIT_CONFIG_SYSTEM")], &[]) {
            Ok(Some(out)) => {
                let text = String::from_utf8_lossy(&out).trim().to_string();
                if text.is_empty() {
                    PathBuf::from(LIBGIT2_SYSTEM_FILE)
                } else {
                    PathBuf::from(text)
                }
            }
            _ => PathBuf::from(LIBGIT2_SYSTEM_FILE),
        }
    }
}

/// The gits whose system files count: the one on PATH, Debian's and one built under
/// /usr/local, each when present.
pub fn installed_gits(env: &Env) -> Vec<PathBuf> {
    let mut gits: Vec<PathBuf> = Vec::new();
    if let Some(found) = env
        .path_dirs()
        .into_iter()
        .map(|dir| dir.join("git"))
        .find(|p| p.is_file())
    {
        gits.push(found);
    }
    for fixed in ["/usr/bin/git", "/usr/local/bin/git"] {
        let fixed = PathBuf::from(fixed);
        if fixed.is_file() && !gits.contains(&fixed) {
            gits.push(fixed);
        }
    }
    gits
}
