//! The probe: `git ls-remote PROBE_URL` through the helper, without prompts, under a time limit
//! — what a clone would do first.

use std::process::Stdio;
use std::time::Duration;

use crate::diagnostics::Diagnostics;
use crate::env::Env;
use crate::process::{self, Limits};

/// What the probe did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The URL as shown in the report: without user information.
    pub url: String,
    pub success: bool,
    pub timed_out: bool,
    /// What git said, scrubbed of every secret in use.
    pub stderr: String,
}

/// Most bytes of git's output kept: its errors for `ls-remote` are a few lines.
const MAX_OUTPUT: usize = 64 * 1024;

pub fn run(url: &str, timeout: Duration, env: &Env, diagnostics: &Diagnostics) -> Probe {
    let mut command = env.command("git");
    command
        .args(["ls-remote", "--", url])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .stdin(Stdio::null());
    let limits = Limits {
        timeout,
        max_output: MAX_OUTPUT,
    };
    let (success, timed_out, stderr) = match process::run(&mut command, limits) {
        Ok(done) => (
            done.success(),
            done.timed_out(),
            String::from_utf8_lossy(&done.stderr).into_owned(),
        ),
        Err(e) => (false, false, format!("cannot run git ({})", e.kind())),
    };
    Probe {
        url: without_userinfo(url),
        success,
        timed_out,
        stderr: diagnostics.scrub(&stderr),
    }
}

/// A URL with any user information removed, for showing.
fn without_userinfo(url: &str) -> String {
    match crate::urls::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_lose_their_user_information() {
        assert_eq!(
            without_userinfo("https://u:glcbt-64_secret@h.example/g/p.git"),
            "https://h.example/g/p.git"
        );
        assert_eq!(
            without_userinfo("https://h.example/g/p.git"),
            "https://h.example/g/p.git"
        );
    }

    #[test]
    fn what_git_said_is_scrubbed_of_the_secrets_in_use() {
        use std::os::unix::fs::PermissionsExt;
        let bin = tempfile::tempdir().unwrap();
        let git = bin.path().join("git");
        std::fs::write(
            &git,
            "#!/bin/sh\necho \"fatal: glcbt-64_probe_secret rejected\" >&2\nexit 128\n",
        )
        .unwrap();
        std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env = Env::from_vars([("PATH", bin.path())]);
        let secret = zeroize::Zeroizing::new("glcbt-64_probe_secret".to_string());
        let diagnostics = Diagnostics::new(false, vec![secret]);
        let probe = run(
            "https://h.example/x.git",
            Duration::from_secs(60),
            &env,
            &diagnostics,
        );
        assert!(!probe.success && !probe.timed_out, "{probe:?}");
        assert_eq!(probe.stderr, "fatal: [REDACTED] rejected\n");
    }

    #[test]
    fn a_git_that_cannot_run_is_reported_as_what_git_said() {
        let env = Env::from_vars([("PATH", "/nonexistent")]);
        let diagnostics = Diagnostics::new(false, Vec::new());
        let probe = run(
            "https://h.example/x.git",
            Duration::from_secs(5),
            &env,
            &diagnostics,
        );
        assert!(!probe.success && !probe.timed_out);
        assert!(probe.stderr.starts_with("cannot run git"), "{probe:?}");
    }
}
