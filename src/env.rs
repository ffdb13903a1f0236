//! The environment snapshot: everything the program reads from its process environment, read
//! once by `main` and passed down. No other module calls `std::env`, so a test drives any verb
//! in-process with a snapshot it made (a temporary `HOME`, a made-up `CI_SERVER_URL`) instead
//! of changing the test process's environment.
//!
//! Values are kept as bytes ([`OsString`]): what a value means, and whether it is valid, is for
//! the module that reads it (`server`, `token`, `docker`, `configure`, `doctor`).
//!
//! Two ways to take it, for two costs:
//! - [`Env::read`]: only the named variables. The credential protocols (`get`, `store`,
//!   `erase`, docker's `get`) run on every fetch and read a handful of variables; copying a CI
//!   job's hundreds of variables would cost more than the rest of the request.
//! - [`Env::read_all`]: every variable, the current directory and the executable's path, for
//!   the verbs. The processes they start (git) get exactly this environment ([`Env::command`]),
//!   so what git reads is what the verb saw.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use zeroize::Zeroize;

pub struct Env {
    /// In the environment's order. A list, not a map: a lookup is a short scan, and sorting
    /// would cost more code than it saves time.
    vars: Vec<(OsString, OsString)>,
    /// Whether `vars` is the whole environment ([`Env::read_all`], or a test's).
    complete: bool,
    argv0: Option<OsString>,
    cwd: Option<PathBuf>,
    exe: Result<PathBuf, io::ErrorKind>,
}

impl Env {
    /// The named variables of the process environment (each that is set), and the program name.
    pub fn read<'a>(names: impl IntoIterator<Item = &'a str>, argv0: Option<OsString>) -> Env {
        let vars = names
            .into_iter()
            .filter_map(|name| Some((OsString::from(name), std::env::var_os(name)?)))
            .collect();
        Env {
            vars,
            complete: false,
            argv0,
            cwd: None,
            exe: Err(io::ErrorKind::Unsupported),
        }
    }

    /// The whole process environment, the current directory and the path of this executable.
    pub fn read_all(argv0: Option<OsString>) -> Env {
        Env {
            vars: std::env::vars_os().collect(),
            complete: true,
            argv0,
            cwd: std::env::current_dir().ok(),
            exe: std::env::current_exe().map_err(|e| e.kind()),
        }
    }

    /// A complete snapshot holding exactly `vars`, with no current directory, program name or
    /// executable path (see the `with_` methods): what tests build.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Env
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Env {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            complete: true,
            argv0: None,
            cwd: None,
            exe: Err(io::ErrorKind::NotFound),
        }
    }

    pub fn with_cwd(mut self, cwd: impl Into<PathBuf>) -> Env {
        self.cwd = Some(cwd.into());
        self
    }

    pub fn with_exe(mut self, exe: impl Into<PathBuf>) -> Env {
        self.exe = Ok(exe.into());
        self
    }

    pub fn with_argv0(mut self, argv0: impl Into<OsString>) -> Env {
        self.argv0 = Some(argv0.into());
        self
    }

    /// The variable's value, when it is set (possibly empty); the first, should it be twice.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// The variable's value, when it is set and not empty: how most variables are read, since
    /// CI systems and shells export empty variables for "unset".
    pub fn non_empty(&self, name: &str) -> Option<&OsStr> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// An on/off switch: on when set to anything but empty, `0` or `false`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
    }

    /// Every variable in the snapshot, by name.
    pub fn vars(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The directories of `PATH`, in order.
    pub fn path_dirs(&self) -> Vec<PathBuf> {
        self.get("PATH")
            .map(|path| std::env::split_paths(path).collect())
            .unwrap_or_default()
    }

    /// The name the program was run as (`argv[0]`).
    pub fn argv0(&self) -> Option<&OsStr> {
        self.argv0.as_deref()
    }

    /// The current directory, when known.
    pub fn cwd(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// The path of the running executable, as the operating system reports it.
    pub fn exe(&self) -> Result<&Path, io::ErrorKind> {
        self.exe.as_deref().map_err(|e| *e)
    }

    /// A command that runs `program` with exactly this environment, in this current directory.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        debug_assert!(self.complete, "child processes need the whole environment");
        let mut command = Command::new(program);
        command
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        command
    }
}

impl fmt::Debug for Env {
    /// Names only: values may be secrets (the job token, a registry password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field(
                "vars",
                &self.vars.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

impl Drop for Env {
    /// The snapshot holds the job token; leave no copy of it in freed memory.
    fn drop(&mut self) {
        for (_, value) in &mut self.vars {
            let mut bytes = std::mem::take(value).into_encoded_bytes();
            bytes.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_as_set_empty_or_flags() {
        let env = Env::from_vars([
            ("A", "x"),
            ("EMPTY", ""),
            ("ON", "1"),
            ("ZERO", "0"),
            ("NO", "false"),
        ]);
        assert_eq!(env.get("A"), Some(OsStr::new("x")));
        assert_eq!(env.get("EMPTY"), Some(OsStr::new("")));
        assert_eq!(env.non_empty("EMPTY"), None);
        assert_eq!(env.get("UNSET"), None);
        assert!(env.flag("ON") && env.flag("A"));
        assert!(!env.flag("ZERO") && !env.flag("NO") && !env.flag("EMPTY") && !env.flag("UNSET"));
    }

    #[test]
    fn children_get_exactly_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_vars([("ONLY_THIS", "value")]).with_cwd(dir.path());
        let out = env.command("/usr/bin/env").output().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "ONLY_THIS=value\n");
        let out = env.command("/bin/pwd").output().unwrap();
        let pwd = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        assert_eq!(
            pwd.canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
    }

    #[test]
    fn debug_output_names_variables_but_never_shows_values() {
        let env = Env::from_vars([("CI_JOB_TOKEN", "glcbt-64_secret_value")]);
        let shown = format!("{env:?}");
        assert!(shown.contains("CI_JOB_TOKEN"), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn path_is_split_into_directories() {
        let env = Env::from_vars([("PATH", "/a/bin:/b/bin")]);
        assert_eq!(env.path_dirs(), [PathBuf::from("/a/bin"), "/b/bin".into()]);
        assert!(Env::from_vars::<&str, &str>([]).path_dirs().is_empty());
    }
}
