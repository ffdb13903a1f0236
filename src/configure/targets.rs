//! Which files a target means, and which path of this program goes into the helper value.

use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::git::{installed_gits, Git};
use crate::gitconfig::LIBGIT2_SYSTEM_FILE;

use super::Error;

/// Which git configuration files to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Target {
    /// The system files when they are all writable and `GIT_CONFIG_NOSYSTEM` is not set, else
    /// the global ones.
    #[default]
    Auto,
    /// `--system`.
    System,
    /// `--global`.
    Global,
    /// `--file PATH`.
    File(PathBuf),
}

/// Which files a target means. `--global`: `$HOME/.gitconfig`, which git and libgit2 both read,
/// and also `GIT_CONFIG_GLOBAL` when it names another file (git then reads only that one, and
/// libgit2 never reads it). `--system`: the system file of each git present, and
/// `/etc/gitconfig` for libgit2. Neither: the system files when all are writable and
/// `GIT_CONFIG_NOSYSTEM` is not set, else the global ones.
pub fn files(target: &Target, env: &Env) -> Result<Vec<PathBuf>, Error> {
    match target {
        Target::File(file) => return Ok(vec![file.clone()]),
        Target::System => return Ok(system_files(env)),
        Target::Global => return global_files(env),
        Target::Auto => {}
    }
    let system = system_files(env);
    if !env.flag("GIT_CONFIG_NOSYSTEM") && system.iter().all(|f| writable(f)) {
        Ok(system)
    } else {
        global_files(env)
    }
}

fn system_files(env: &Env) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = installed_gits(env)
        .into_iter()
        .map(|git| Git::at(git, env).system_file())
        .collect();
    files.push(PathBuf::from(LIBGIT2_SYSTEM_FILE));
    dedup_paths(files)
}

fn global_files(env: &Env) -> Result<Vec<PathBuf>, Error> {
    let home = env.non_empty("HOME").ok_or(Error::NoHome)?;
    let mut files = vec![Path::new(home).join(".gitconfig")];
    if let Some(global) = env.non_empty("GIT_CONFIG_GLOBAL") {
        files.push(PathBuf::from(global));
    }
    Ok(dedup_paths(files))
}

fn dedup_paths(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut out = Vec::new();
    for file in files {
        let canonical = canonical(&file);
        if !seen.contains(&canonical) {
            seen.push(canonical);
            out.push(file);
        }
    }
    out
}

/// The file's canonical path, or its directory's canonical path joined with its name.
fn canonical(file: &Path) -> PathBuf {
    if let Ok(path) = file.canonicalize() {
        return path;
    }
    match (file.parent(), file.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map(|d| d.join(name))
            .unwrap_or_else(|_| file.to_path_buf()),
        _ => file.to_path_buf(),
    }
}

/// Can this file be written (or created)? Opening for append changes nothing; creating is
/// probed with a new empty file that is removed again.
fn writable(file: &Path) -> bool {
    if file.exists() {
        return std::fs::OpenOptions::new().append(true).open(file).is_ok();
    }
    let Some(dir) = file.parent() else {
        return false;
    };
    let probe = dir.join(format!(
        ".git-credential-gitlab-ci-probe-{}",
        std::process::id()
    ));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

/// The absolute path to write: the path this program was started by (through a symbolic link
/// such as /usr/local/bin/git-credential-gitlab-ci, or found on PATH) when it leads to this very
/// executable, so that an upgrade behind the link keeps working; else the executable's own path.
pub fn program_path(env: &Env, cwd: &Path) -> Result<PathBuf, Error> {
    let exe = env.exe().map_err(Error::CurrentExe)?.to_path_buf();
    let real = exe.canonicalize().unwrap_or_else(|_| exe.clone());
    let candidate = env.argv0().map(PathBuf::from).and_then(|arg0| {
        if arg0.components().count() > 1 {
            Some(cwd.join(arg0))
        } else {
            env.path_dirs()
                .into_iter()
                .map(|dir| dir.join(&arg0))
                .find(|p| p.is_file())
        }
    });
    match candidate.map(|p| normalize(&p)) {
        Some(path) if path.is_absolute() && path.canonicalize().ok() == Some(real) => Ok(path),
        _ => Ok(exe),
    }
}

/// Removes `.` components and resolves `..` lexically (the path is known to exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}
