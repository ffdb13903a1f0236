//! Why a `git ls-remote`, fetch or push failed, from git's exit status and its whole stderr.
//!
//! git prints a GitLab answer's text/plain body after `remote: `, then one `fatal:` line with the
//! status; a credential helper git could not run shows up as the shell's own message before the
//! `fatal:` line. The classifier reads every line, because single words mislead: a missing
//! helper program is "…: not found" just as a missing project is "repository '…' not found"
//! (issue 11, rule 6). What it returns is structured; the only text it keeps from stderr is
//! escaped to one printable line and scrubbed of user information (see [`crate::printable`]).
//!
//! The texts matched are GitLab's (shared/reference/gitlab-responses.md) and git's and curl's as
//! printed by git 2.47 and 2.39; the tests hold the exact stderr they printed.

use crate::helper_value::BINARY_NAME;
use crate::printable;

mod advice;

/// How git ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    /// Killed, e.g. by the caller at its time limit.
    Killed,
}

/// What went wrong, with what is needed to name the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// 401 after a credential was sent: the job token was rejected.
    TokenRejected,
    /// 403: the target project's job token allowlist does not hold the source project.
    /// The paths are GitLab's, as it printed them; `None` when they did not look like paths.
    AllowlistDenied {
        source: Option<String>,
        target: Option<String>,
    },
    /// 403: the user who triggered the pipeline cannot read the target project.
    UserLacksAccess {
        target: Option<String>,
    },
    /// 404: no such project, or not visible to the job.
    NotFound,
    /// 403 on a push: job-token pushes are not allowed in the target project.
    PushNotAllowed,
    /// 403 on a push: the project is archived.
    ArchivedProject,
    /// 403: the instance or project allows git over SSH only.
    HttpPullDisabled,
    /// The shell could not run the configured helper program (missing, not executable), or git
    /// found no `git-credential-<name>` for a short helper name.
    HelperNotRunnable {
        /// The program as the shell named it, scrubbed and escaped.
        program: String,
        /// Whether it is this helper (by file name).
        ours: bool,
        problem: HelperProblem,
    },
    /// This helper ran and reported an error of its own (its `git-credential-gitlab-ci:` line).
    HelperFailed {
        message: String,
    },
    /// No helper gave a credential, and git could not prompt.
    NoHelperAnswered,
    /// TLS failed: certificate not trusted, name mismatch, handshake.
    Tls,
    Network(Network),
    /// A 403 with no text GitLab is known to send.
    Forbidden,
    /// Killed before it finished (the caller's time limit).
    TimedOut,
    /// Nothing above; `excerpt` says what git said last.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperProblem {
    Missing,
    NotExecutable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The host name did not resolve.
    Resolve,
    /// Nothing answered on the host and port (refused, unreachable).
    Connect,
    /// Connected, but too slow or timed out.
    Timeout,
    /// The proxy refused or failed the tunnel.
    Proxy,
}

/// A classified failure: the cause and git's most telling line, safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub cause: Cause,
    /// The `fatal:`/`error:` line (or the last line), one printable line without userinfo.
    pub excerpt: String,
}

/// Classifies a failed git run; `None` when git succeeded.
pub fn classify(ended: Ended, stderr: &str) -> Option<Failure> {
    if ended == Ended::Exited(0) {
        return None;
    }
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    let remote: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("remote: "))
        .map(str::trim)
        .collect();
    // GitLab's 403 sentences mean a credential was sent and judged: they are the cause even
    // when a helper failed on the way. A helper that could not run comes next: it explains a
    // following 401, 404 or "could not read Username".
    let cause = from_gitlab_403(&remote)
        .or_else(|| helper_trouble(&lines))
        .or_else(|| from_gitlab_other(&remote))
        .or_else(|| from_git_text(&lines))
        .unwrap_or(match ended {
            Ended::Killed => Cause::TimedOut,
            Ended::Exited(_) => Cause::Other,
        });
    Some(Failure {
        cause,
        excerpt: excerpt(&lines),
    })
}

/// GitLab's own 403 sentences, which git prints after `remote: `.
fn from_gitlab_403(remote: &[&str]) -> Option<Cause> {
    for line in remote {
        if let Some(rest) = line.strip_prefix("Authentication by CI/CD job token not allowed from ")
        {
            let rest = rest.strip_suffix('.').unwrap_or(rest);
            let (source, target) = match rest.split_once(" to ") {
                Some((s, t)) => (project_path(s), project_path(t)),
                None => (None, None),
            };
            return Some(Cause::AllowlistDenied { source, target });
        }
        if let Some(rest) =
            line.strip_prefix("Insufficient permissions to pull from the repository of project ")
        {
            let target = project_path(rest.strip_suffix('.').unwrap_or(rest));
            return Some(Cause::UserLacksAccess { target });
        }
        if line.starts_with("You are not allowed to push code to an archived project") {
            return Some(Cause::ArchivedProject);
        }
        if line.starts_with("You are not allowed to push code to this project") {
            return Some(Cause::PushNotAllowed);
        }
        if line.starts_with("Pulling over HTTP is not allowed") {
            return Some(Cause::HttpPullDisabled);
        }
    }
    None
}

/// GitLab's 404 and 401 bodies.
fn from_gitlab_other(remote: &[&str]) -> Option<Cause> {
    for line in remote {
        if line.starts_with("The project you were looking for could not be found") {
            return Some(Cause::NotFound);
        }
        if line.starts_with("HTTP Basic: Access denied") {
            return Some(Cause::TokenRejected);
        }
    }
    None
}

/// A GitLab project path as printed in its messages: `group/sub/project`. Anything else is not
/// kept, so no remote text that is not a path ends up in a fix.
pub fn project_path(text: &str) -> Option<String> {
    let ok = !text.is_empty()
        && text.len() <= 255
        && !text.starts_with(['/', '.', '-'])
        && !text.ends_with('/')
        && !text.contains("//")
        && !text.contains("..")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
    ok.then(|| text.to_string())
}

/// The shell's or git's complaint about the helper program, or this helper's own error line.
///
/// git runs `sh -c '<helper> get'`, so the shell names the command as its `$0`:
/// dash `<cmd> get: 1: <program>: not found`, bash `<cmd> get: line 1: <program>: No such file
/// or directory`, both `…: Permission denied`; busybox `sh: <program>: not found`. A short name
/// git cannot find: `git: 'credential-<name>' is not a git command.`
///
/// This helper's own line is the cause only when git then had no credential to send: after a
/// 401 the helper explains the rejection on `erase`, and that line is the 401's consequence.
fn helper_trouble(lines: &[&str]) -> Option<Cause> {
    let no_credential = lines.iter().any(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("terminal prompts disabled")
            || l.contains("could not read username")
            || l.contains("could not read password")
    });
    for line in lines {
        if let Some(message) = line.strip_prefix(crate::diagnostics::PREFIX) {
            if !no_credential {
                continue;
            }
            return Some(Cause::HelperFailed {
                message: printable::shown(message.trim()),
            });
        }
        if let Some(rest) = line.strip_prefix("git: 'credential-") {
            if let Some((name, _)) = rest.split_once("' is not a git command") {
                return Some(helper_cause(
                    &format!("git-credential-{name}"),
                    HelperProblem::Missing,
                ));
            }
        }
        let problem =
            if line.ends_with(": not found") || line.ends_with(": No such file or directory") {
                HelperProblem::Missing
            } else if line.ends_with(": Permission denied") {
                HelperProblem::NotExecutable
            } else {
                continue;
            };
        if line.starts_with("fatal:") || line.starts_with("error:") || line.starts_with("remote:") {
            continue;
        }
        let Some(program) = shell_complaint_program(line) else {
            continue;
        };
        return Some(helper_cause(program, problem));
    }
    None
}

/// The program a shell's "cannot run" line names: the field before the final message, after a
/// `N:` or `line N:` field (dash, bash) or after `sh:` (busybox). `None` for other lines.
fn shell_complaint_program(line: &str) -> Option<&str> {
    let (before, _) = line.rsplit_once(": ")?;
    let (head, program) = before.rsplit_once(": ")?;
    let line_field = head.rsplit_once(": ").map_or(head, |(_, last)| last);
    let numbered = line_field
        .strip_prefix("line ")
        .unwrap_or(line_field)
        .chars()
        .all(|c| c.is_ascii_digit())
        && !line_field.is_empty();
    let shell = head == "sh" || head.ends_with("/sh") || head == "bash";
    (numbered || shell)
        .then_some(program)
        .filter(|p| !p.is_empty())
}

fn helper_cause(program: &str, problem: HelperProblem) -> Cause {
    let name = program.rsplit('/').next().unwrap_or(program);
    Cause::HelperNotRunnable {
        program: printable::shown(program),
        ours: name == BINARY_NAME,
        problem,
    }
}

/// git's and curl's own messages.
fn from_git_text(lines: &[&str]) -> Option<Cause> {
    let all = lines.join("\n").to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| all.contains(n));
    let cause = if has(&["fatal: authentication failed", "returned error: 401"]) {
        Cause::TokenRejected
    } else if has(&["returned error: 404"])
        || lines
            .iter()
            .any(|l| l.starts_with("fatal: repository '") && l.ends_with("' not found"))
    {
        Cause::NotFound
    } else if has(&[
        "terminal prompts disabled",
        "could not read username",
        "could not read password",
    ]) {
        Cause::NoHelperAnswered
    } else if has(&[
        "ssl certificate problem",
        "server certificate verification failed",
        "ssl: no alternative certificate subject name",
        "certificate subject name",
        "gnutls_handshake() failed",
        "ssl_connect",
        "ssl connect error",
        "tls connect error",
        "schannel",
    ]) {
        Cause::Tls
    } else if has(&["could not resolve host", "could not resolve proxy"]) {
        if has(&["could not resolve proxy"]) {
            Cause::Network(Network::Proxy)
        } else {
            Cause::Network(Network::Resolve)
        }
    } else if has(&[
        "from proxy after connect",
        "connect tunnel failed",
        "proxy connect aborted",
    ]) {
        Cause::Network(Network::Proxy)
    } else if has(&["timed out", "operation too slow"]) {
        Cause::Network(Network::Timeout)
    } else if has(&[
        "failed to connect",
        "couldn't connect to server",
        "could not connect to server",
        "connection refused",
        "network is unreachable",
        "no route to host",
    ]) {
        Cause::Network(Network::Connect)
    } else if has(&["returned error: 403"]) {
        Cause::Forbidden
    } else {
        return None;
    };
    Some(cause)
}

/// git's most telling line: the first `fatal:`, else the first `error:`, else the last line.
fn excerpt(lines: &[&str]) -> String {
    let pick = lines
        .iter()
        .find(|l| l.starts_with("fatal:"))
        .or_else(|| lines.iter().find(|l| l.starts_with("error:")))
        .or_else(|| lines.last());
    match pick {
        Some(line) => printable::shown(line.trim()),
        None => "nothing".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DENIED: &str = "remote: HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See http://127.0.0.1/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied";

    fn cause(stderr: &str) -> Cause {
        classify(Ended::Exited(128), stderr).unwrap().cause
    }

    fn missing(program: &str) -> Cause {
        Cause::HelperNotRunnable {
            program: program.into(),
            ours: program.ends_with("git-credential-gitlab-ci"),
            problem: HelperProblem::Missing,
        }
    }

    /// stderr exactly as git 2.47.3 and 2.39.5 (Debian, libcurl-gnutls) printed it against a
    /// responder giving GitLab's answers (identical for both); rows marked "curl" are curl's
    /// texts as an OpenSSL build prints them, not captured on this machine.
    #[test]
    fn real_stderr_is_classified_by_table() {
        let denied = format!(
            "{DENIED}\nfatal: Authentication failed for 'http://127.0.0.1:46735/denied/g/x.git/'\n"
        );
        let cases: Vec<(String, Cause)> = vec![
            (denied.clone(), Cause::TokenRejected),
            (
                "remote: Authentication by CI/CD job token not allowed from group/app to group/sub/lib.\nfatal: unable to access 'http://127.0.0.1:46735/allow/g/x.git/': The requested URL returned error: 403\n".into(),
                Cause::AllowlistDenied { source: Some("group/app".into()), target: Some("group/sub/lib".into()) },
            ),
            (
                "remote: Insufficient permissions to pull from the repository of project group/sub/lib.\nfatal: unable to access 'http://127.0.0.1:46735/perm/g/x.git/': The requested URL returned error: 403\n".into(),
                Cause::UserLacksAccess { target: Some("group/sub/lib".into()) },
            ),
            (
                "remote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'http://127.0.0.1:46735/missing/g/x.git/' not found\n".into(),
                Cause::NotFound,
            ),
            (
                "Cloning into '/tmp/gf/c1'...\nremote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'http://127.0.0.1:46735/missing/g/x.git/' not found\n".into(),
                Cause::NotFound,
            ),
            (
                "remote: Pulling over HTTP is not allowed.\nfatal: unable to access 'http://127.0.0.1:46735/http/g/x.git/': The requested URL returned error: 403\n".into(),
                Cause::HttpPullDisabled,
            ),
            (
                "fatal: unable to access 'http://127.0.0.1:46735/bare403/g/x.git/': The requested URL returned error: 403\n".into(),
                Cause::Forbidden,
            ),
            (
                "remote: You are not allowed to push code to this project.\nfatal: unable to access 'http://127.0.0.1:46735/push/g/x.git/': The requested URL returned error: 403\n".into(),
                Cause::PushNotAllowed,
            ),
            (
                "remote: You are not allowed to push code to an archived project.\nfatal: unable to access 'http://127.0.0.1:46735/archived/g/x.git/': The requested URL returned error: 403\n".into(),
                Cause::ArchivedProject,
            ),
            // dash, the Debian /bin/sh git runs helpers through
            (
                "/opt/gone/git-credential-gitlab-ci get: 1: /opt/gone/git-credential-gitlab-ci: not found\nfatal: could not read Username for 'http://127.0.0.1:46735': terminal prompts disabled\n".into(),
                missing("/opt/gone/git-credential-gitlab-ci"),
            ),
            (
                "/opt/gone/git-credential-gitlab-ci --server https://h get: 1: /opt/gone/git-credential-gitlab-ci: not found\nfatal: could not read Username for 'http://127.0.0.1:46735': terminal prompts disabled\n".into(),
                missing("/opt/gone/git-credential-gitlab-ci"),
            ),
            (
                "/tmp/gf/git-credential-gitlab-ci get: 1: /tmp/gf/git-credential-gitlab-ci: Permission denied\nfatal: could not read Username for 'http://127.0.0.1:46735': terminal prompts disabled\n".into(),
                Cause::HelperNotRunnable { program: "/tmp/gf/git-credential-gitlab-ci".into(), ours: true, problem: HelperProblem::NotExecutable },
            ),
            // bash as /bin/sh (bash -c '<cmd> get' '<cmd> get', as git runs it)
            (
                "/opt/gone/git-credential-gitlab-ci get: line 1: /opt/gone/git-credential-gitlab-ci: No such file or directory\nfatal: could not read Username for 'https://h': terminal prompts disabled\n".into(),
                missing("/opt/gone/git-credential-gitlab-ci"),
            ),
            // busybox sh (Alpine), per its format "sh: <cmd>: not found"
            (
                "sh: /usr/local/bin/git-credential-gitlab-ci: not found\nfatal: could not read Username for 'https://h': terminal prompts disabled\n".into(),
                missing("/usr/local/bin/git-credential-gitlab-ci"),
            ),
            (
                "git: 'credential-gitlab-ci' is not a git command. See 'git --help'.\nfatal: could not read Username for 'http://127.0.0.1:46735': terminal prompts disabled\n".into(),
                missing("git-credential-gitlab-ci"),
            ),
            (
                "/usr/bin/git-credential-other get: 1: /usr/bin/git-credential-other: not found\nfatal: could not read Username for 'https://h': terminal prompts disabled\n".into(),
                Cause::HelperNotRunnable { program: "/usr/bin/git-credential-other".into(), ours: false, problem: HelperProblem::Missing },
            ),
            // Issue 11: a missing helper with a stale token from a store helper (401), and a
            // 404 after it: the helper is the cause, whatever "not found" follows.
            (
                format!("/opt/gone/git-credential-gitlab-ci get: 1: /opt/gone/git-credential-gitlab-ci: not found\n{denied}"),
                missing("/opt/gone/git-credential-gitlab-ci"),
            ),
            (
                "/opt/gone/git-credential-gitlab-ci get: 1: /opt/gone/git-credential-gitlab-ci: not found\nremote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'https://h/g/x.git/' not found\n".into(),
                missing("/opt/gone/git-credential-gitlab-ci"),
            ),
            (
                "git-credential-gitlab-ci: the request is for https://h, but the environment variable CI_JOB_TOKEN is not set; run inside a GitLab CI job, or point --token-env or --token-file at the job token\nfatal: could not read Username for 'https://h': terminal prompts disabled\n".into(),
                Cause::HelperFailed { message: "the request is for https://h, but the environment variable CI_JOB_TOKEN is not set; run inside a GitLab CI job, or point --token-env or --token-file at the job token".into() },
            ),
            // The 401 with this helper's own explanation on erase: still the 401.
            (
                format!("{DENIED}\ngit-credential-gitlab-ci: the server https://h rejected the job token (expired, or not this job's); run git-credential-gitlab-ci doctor to find out why\nfatal: Authentication failed for 'https://h/g/x.git/'\n"),
                Cause::TokenRejected,
            ),
            (
                "fatal: could not read Username for 'http://127.0.0.1:46735': terminal prompts disabled\n".into(),
                Cause::NoHelperAnswered,
            ),
            (
                "fatal: unable to access 'http://127.0.0.1:1/g/x.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server\n".into(),
                Cause::Network(Network::Connect),
            ),
            (
                "fatal: unable to access 'http://no-such-host.invalid/g/x.git/': Could not resolve host: no-such-host.invalid\n".into(),
                Cause::Network(Network::Resolve),
            ),
            (
                "fatal: unable to access 'http://127.0.0.1:39463/g/x.git/': Operation too slow. Less than 1000 bytes/sec transferred the last 1 seconds\n".into(),
                Cause::Network(Network::Timeout),
            ),
            (
                "fatal: unable to access 'https://127.0.0.1:46735/g/x.git/': gnutls_handshake() failed: An unexpected TLS packet was received.\n".into(),
                Cause::Tls,
            ),
            (
                "fatal: unable to access 'https://127.0.0.1:45269/g/x.git/': server certificate verification failed. CAfile: none CRLfile: none\n".into(),
                Cause::Tls,
            ),
            // curl
            (
                "fatal: unable to access 'https://h/x/': SSL certificate problem: self-signed certificate\n".into(),
                Cause::Tls,
            ),
            (
                "fatal: unable to access 'https://h/x/': Failed to connect to h port 443 after 130001 ms: Connection timed out\n".into(),
                Cause::Network(Network::Timeout),
            ),
            (
                "fatal: unable to access 'https://h/x/': Received HTTP code 407 from proxy after CONNECT\n".into(),
                Cause::Network(Network::Proxy),
            ),
            (
                "fatal: unable to access 'https://h/x/': The requested URL returned error: 502\n".into(),
                Cause::Other,
            ),
        ];
        for (stderr, expected) in cases {
            assert_eq!(cause(&stderr), expected, "{stderr}");
        }
    }

    #[test]
    fn only_failures_are_classified_and_a_kill_is_a_timeout() {
        assert_eq!(classify(Ended::Exited(0), "warning: x"), None);
        let killed = classify(Ended::Killed, "").unwrap();
        assert_eq!(killed.cause, Cause::TimedOut);
        assert_eq!(killed.excerpt, "nothing");
        // A recognised message wins over the kill.
        let killed = classify(
            Ended::Killed,
            "fatal: unable to access 'https://h/': Could not resolve host: h",
        );
        assert_eq!(killed.unwrap().cause, Cause::Network(Network::Resolve));
    }

    #[test]
    fn paths_that_are_not_gitlab_project_paths_are_not_kept() {
        for hostile in [
            "remote: Authentication by CI/CD job token not allowed from a\u{1b}[2J to ../../etc.",
            "remote: Authentication by CI/CD job token not allowed from group/app to evil$(rm -rf)/x.",
            "remote: Authentication by CI/CD job token not allowed from nothing.",
        ] {
            let Cause::AllowlistDenied { source, target } = cause(hostile) else {
                panic!("{hostile}");
            };
            let fix = Cause::AllowlistDenied { source: source.clone(), target: target.clone() }.fix(None);
            assert!(target.is_none(), "{hostile}: {target:?}");
            assert!(!fix.contains('\u{1b}') && !fix.contains("$("), "{fix}");
        }
    }

    #[test]
    fn excerpts_are_one_line_without_userinfo_or_token() {
        let stderr = "remote: \u{1b}[31mhealthy\u{1b}[0m\nfatal: unable to access 'https://gitlab-ci-token:glcbt-SECRET@h/x/': The requested URL returned error: 502\n";
        let failure = classify(Ended::Exited(128), stderr).unwrap();
        assert_eq!(
            failure.excerpt,
            "fatal: unable to access 'https://gitlab-ci-token:***@h/x/': The requested URL returned error: 502"
        );
        let helper = cause("git-credential-gitlab-ci: bad https://u:SECRET@h/\u{1b}[2J\nfatal: could not read Username for 'https://h': terminal prompts disabled\n");
        let Cause::HelperFailed { message } = helper else {
            panic!()
        };
        assert!(
            !message.contains("SECRET") && !message.contains('\u{1b}'),
            "{message}"
        );
    }

    #[test]
    fn the_allowlist_fix_names_both_projects() {
        let cause = Cause::AllowlistDenied {
            source: Some("group/app".into()),
            target: Some("group/sub/lib".into()),
        };
        assert_eq!(
            cause.fix(None),
            "add group/app to group/sub/lib's job token allowlist: in group/sub/lib, Settings → CI/CD → Job token permissions, add group/app"
        );
        let unnamed = Cause::AllowlistDenied {
            source: None,
            target: Some("group/lib".into()),
        };
        assert!(unnamed
            .fix(Some("group/app"))
            .starts_with("add group/app to group/lib's"));
        assert!(unnamed
            .fix(None)
            .contains("this job's project (CI_PROJECT_PATH)"));
        assert!(
            cause.explanation().contains("group/app")
                && cause.explanation().contains("group/sub/lib")
        );
        assert!(Cause::PushNotAllowed
            .fix(None)
            .contains("Allow Git push requests to the repository"));
        assert!(Cause::TokenRejected
            .explanation()
            .contains("gitlab-ci-token"));
    }
}
