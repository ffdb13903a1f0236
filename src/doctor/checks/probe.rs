//! What a probe's outcome means — GitLab's answer, a helper that could not run, TLS, the
//! network, the time limit — with the exact fix, from git's whole stderr ([`classify`]). One
//! verdict for PROBE_URL's check and for every dependency of the plan.

use std::time::Duration;

use crate::dependencies::{Userinfo, WebUrl};
use crate::doctor::facts::probe::{Access, Outcome, Probe};
use crate::doctor::facts::Facts;
use crate::doctor::git_failure::{classify, project_path, Cause};
use crate::printable::shown;
use crate::token::TokenError;

use super::super::plan;
use super::super::report::Check;

/// What GitLab's short messages cannot say, for naming both projects in full.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// This job's project, `CI_PROJECT_PATH`.
    pub job_project: Option<String>,
    /// The probed project's full path, from its URL (GitLab's messages name only its last
    /// segment).
    pub target: Option<String>,
    /// The `insteadOf` entry (its base's credentials redacted) whose credentials git sends for
    /// the probed URL instead of asking this helper: GitLab Runner's legacy layout.
    pub embedded: Option<String>,
}

/// A probe's meaning: whether all is well, what happened, and the fix when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub ok: bool,
    pub cause: String,
    pub fix: Option<String>,
}

impl Verdict {
    fn problem(cause: impl Into<String>, fix: impl Into<String>) -> Verdict {
        Verdict {
            ok: false,
            cause: cause.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The verdict on a probe; `None` when it was not run (the token does not load, or nothing
/// asked for it).
pub fn verdict(
    probe: Option<&Probe>,
    token: &Result<(), TokenError>,
    timeout: Duration,
    names: &Names,
) -> Verdict {
    let Some(probe) = probe else {
        return match token {
            Err(e) => Verdict::problem(
                format!("not probed: {e}"),
                "make the job token available first (see the token check)",
            ),
            Ok(()) => Verdict::problem("not probed", "run doctor again"),
        };
    };
    let access = probe.target.access;
    let (ended, stderr) = match &probe.outcome {
        Outcome::NotStarted => {
            return Verdict::problem(
                format!(
                    "not probed: the --timeout of {} s ran out first",
                    timeout.as_secs()
                ),
                "give doctor a longer --timeout, or check the network path to the server (DNS, firewall, proxy)",
            )
        }
        Outcome::CannotRun(why) => {
            return Verdict::problem(shown(why), "install git and put it on PATH")
        }
        Outcome::Finished { ended, stderr } => (*ended, stderr.as_str()),
    };
    let Some(failure) = classify(ended, stderr) else {
        let cause = match (access, &names.embedded) {
            (Access::Read, None) => "the job token can read it, through this helper".to_string(),
            (Access::Read, Some(rewrite)) => format!(
                "readable with the credentials in {rewrite}, which git sends instead of asking this helper"
            ),
            (Access::Push, _) => "the job token may push to it".to_string(),
        };
        return Verdict {
            ok: true,
            cause,
            fix: None,
        };
    };
    let job_project = names.job_project.as_deref().and_then(project_path);
    let cause = match failure.cause {
        Cause::AllowlistDenied { source, target } => Cause::AllowlistDenied {
            source: job_project.clone().or(source),
            target: names.target.clone().or(target),
        },
        Cause::UserLacksAccess { target } => Cause::UserLacksAccess {
            target: names.target.clone().or(target),
        },
        other => other,
    };
    let (explanation, fix) = match (&cause, &names.embedded) {
        (Cause::TokenRejected, Some(rewrite)) => (
            format!("the server rejected the credentials in {rewrite} (401), which git sends instead of asking this helper"),
            format!("remove {rewrite} from git's configuration (one left by an earlier job holds an expired token); the helper gives the job token without it"),
        ),
        _ => (cause.explanation(), cause.fix(job_project.as_deref())),
    };
    Verdict::problem(
        format!("{explanation} (git said: {})", failure.excerpt),
        fix,
    )
}

/// The check for PROBE_URL: one line for reading and, with `--push`, one for pushing.
pub fn checks(facts: &Facts) -> Vec<Check> {
    let Some(url) = &facts.asked.probe_url else {
        return Vec::new();
    };
    let mut accesses = vec![Access::Read];
    if facts.asked.push {
        accesses.push(Access::Push);
    }
    let probed = plan::probe_form(url);
    let names = Names {
        job_project: facts.vars.get("CI_PROJECT_PATH").cloned(),
        target: plan::project_of(&probed, facts),
        embedded: plan::embedded(facts, &probed),
    };
    let stripped = WebUrl::parse(url).is_some_and(|u| u.userinfo != Userinfo::None);
    let without_userinfo = match stripped {
        true => " (probed without the user information it carries)",
        false => "",
    };
    accesses
        .into_iter()
        .map(|access| {
            let probe = facts
                .probes
                .iter()
                .find(|p| p.target.url == probed && p.target.access == access);
            let verdict = verdict(probe, &facts.token, facts.asked.timeout, &names);
            let what = match access {
                Access::Read => "git ls-remote",
                Access::Push => "git push --dry-run",
            };
            let text = format!("{what} {}{without_userinfo}: {}", shown(url), verdict.cause);
            match verdict.fix {
                None => Check::ok("probe", text),
                Some(fix) => Check::problem("probe", text, fix),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::facts::probe::Target;
    use crate::doctor::git_failure::Ended;

    fn probe(access: Access, outcome: Outcome) -> Probe {
        Probe {
            target: Target {
                url: "https://gitlab.example.com/group/sub/lib.git".into(),
                access,
                helper: "git-credential-gitlab-ci".into(),
            },
            outcome,
        }
    }

    fn failed(stderr: &str) -> Outcome {
        Outcome::Finished {
            ended: Ended::Exited(128),
            stderr: stderr.into(),
        }
    }

    fn names() -> Names {
        Names {
            job_project: Some("group/app".into()),
            target: Some("group/sub/lib".into()),
            embedded: None,
        }
    }

    fn judged(access: Access, outcome: Outcome, names: &Names) -> Verdict {
        let probe = probe(access, outcome);
        verdict(Some(&probe), &Ok(()), Duration::from_secs(30), names)
    }

    #[test]
    fn gitlabs_answers_name_both_projects_in_full_and_the_exact_fix() {
        // GitLab names only the last segment of each path.
        let verdict = judged(
            Access::Read,
            failed("remote: Authentication by CI/CD job token not allowed from app to lib.\nfatal: unable to access 'https://gitlab.example.com/group/sub/lib.git/': The requested URL returned error: 403\n"),
            &names(),
        );
        assert!(!verdict.ok);
        assert_eq!(
            verdict.fix.as_deref(),
            Some("add group/app to group/sub/lib's job token allowlist: in group/sub/lib, Settings → CI/CD → Job token permissions, add group/app")
        );
        assert!(
            verdict
                .cause
                .contains("group/app may not access group/sub/lib (403)"),
            "{verdict:?}"
        );

        let verdict = judged(
            Access::Read,
            failed("remote: Insufficient permissions to pull from the repository of project lib.\nfatal: unable to access 'https://gitlab.example.com/group/sub/lib.git/': The requested URL returned error: 403\n"),
            &names(),
        );
        assert!(
            verdict.cause.contains("cannot read group/sub/lib (403)"),
            "{verdict:?}"
        );
        assert!(verdict
            .fix
            .unwrap()
            .contains("Reporter access to group/sub/lib"));

        let verdict = judged(
            Access::Push,
            failed("remote: You are not allowed to push code to this project.\nfatal: unable to access 'https://gitlab.example.com/group/sub/lib.git/': The requested URL returned error: 403\n"),
            &names(),
        );
        assert!(verdict
            .fix
            .unwrap()
            .contains("Allow Git push requests to the repository"));
    }

    #[test]
    fn outcomes_without_an_answer_have_their_own_verdicts() {
        let verdict = judged(Access::Read, Outcome::NotStarted, &names());
        assert!(
            verdict.cause.contains("--timeout of 30 s ran out"),
            "{verdict:?}"
        );
        let verdict = judged(
            Access::Read,
            Outcome::CannotRun("cannot run git (NotFound)".into()),
            &names(),
        );
        assert_eq!(
            verdict.fix.as_deref(),
            Some("install git and put it on PATH")
        );
        let unset = Err(TokenError::Unset(crate::token::TokenSource::default()));
        let verdict = super::verdict(None, &unset, Duration::from_secs(1), &names());
        assert!(
            verdict
                .cause
                .starts_with("not probed: the environment variable CI_JOB_TOKEN is not set"),
            "{verdict:?}"
        );
        let ok = Outcome::Finished {
            ended: Ended::Exited(0),
            stderr: String::new(),
        };
        assert!(judged(Access::Read, ok.clone(), &names()).ok);
        let embedded = Names {
            embedded: Some("url.https://gitlab-ci-token:***@gitlab.example.com/.insteadOf".into()),
            ..names()
        };
        assert!(judged(Access::Read, ok, &embedded)
            .cause
            .contains("credentials in url.https://gitlab-ci-token:***@gitlab.example.com/.insteadOf, which git sends instead of asking this helper"));
        let denied = failed("remote: HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See https://gitlab.example.com/help\nfatal: Authentication failed for 'https://gitlab.example.com/group/sub/lib.git/'\n");
        assert!(judged(Access::Read, denied.clone(), &names())
            .cause
            .contains("rejected the job token (401)"));
        assert!(judged(Access::Read, denied, &embedded)
            .cause
            .contains("rejected the credentials in url.https://gitlab-ci-token:***@"));
    }

    #[test]
    fn a_missing_helper_program_is_not_a_404() {
        let verdict = judged(
            Access::Read,
            failed("/opt/gone/git-credential-gitlab-ci get: 1: /opt/gone/git-credential-gitlab-ci: not found\nremote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'https://gitlab.example.com/group/sub/lib.git/' not found\n"),
            &names(),
        );
        assert!(verdict.cause.contains("could not run the credential helper /opt/gone/git-credential-gitlab-ci (this helper)"), "{verdict:?}");
        assert!(!verdict.cause.contains("404"), "{verdict:?}");
    }
}
