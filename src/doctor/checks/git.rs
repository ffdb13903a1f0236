//! What git runs: its version, the helper chain for each server, and whether our configured
//! helper programs still exist.

use crate::gitconfig::{helper_chain, Entry};
use crate::helper_value;
use crate::server::Server;

use super::super::facts::OurHelper;
use super::super::report::Check;

pub fn version(version: Option<&str>) -> Check {
    match version {
        Some(v) => Check::note("git", format!("using {v}")),
        None => Check::problem("git", "git cannot be run", "install git and put it on PATH"),
    }
}

/// The helpers git runs for a server, and whether one other than ours would get the token.
pub fn chain(entries: &[Entry], server: &Server) -> Check {
    let chain = helper_chain(entries, server);
    let ours = |e: &&Entry| e.value.as_deref().is_some_and(helper_value::is_ours);
    let describe = |e: &&Entry| {
        let name = match ours(e) {
            true => "this helper".to_string(),
            false => helper_value::short_name(e.value.as_deref().unwrap_or_default()),
        };
        format!("{name} (from {})", e.place())
    };
    let others: Vec<String> = chain.iter().filter(|e| !ours(e)).map(describe).collect();
    if chain.is_empty() {
        return Check::problem(
            "git",
            format!("git runs no credential helper for {server}"),
            "git-credential-gitlab-ci configure --global (or --system)",
        );
    }
    if !chain.iter().any(ours) {
        return Check::problem(
            "git",
            format!(
                "git runs {} for {server}, but not this helper",
                others.join(", ")
            ),
            "git-credential-gitlab-ci configure --global (or --system)",
        );
    }
    let order: Vec<String> = chain.iter().map(describe).collect();
    if !others.is_empty() {
        return Check::problem(
            "git",
            format!(
                "git runs {} for {server}; {} would be given the job token when git stores credentials after a success",
                order.join(", then "),
                others.join(" and ")
            ),
            format!("git-credential-gitlab-ci configure for the file of the last of them, which resets the list for {server}; or remove those helpers"),
        );
    }
    Check::ok(
        "git",
        format!("git runs only {} for {server}", order.join(", then ")),
    )
}

/// Our helper values whose program is an absolute path that cannot be run (moved or deleted
/// binary: git then prints `credential-…: not found` and asks for a password).
pub fn helper_programs(ours: &[OurHelper]) -> Vec<Check> {
    let mut seen: Vec<&str> = Vec::new();
    let mut checks = Vec::new();
    for helper in ours {
        if seen.contains(&helper.value.as_str()) {
            continue;
        }
        seen.push(&helper.value);
        let Some(program) = helper_value::program(&helper.value) else {
            continue;
        };
        if helper.runnable == Some(false) {
            checks.push(Check::problem(
                "git",
                format!(
                    "the helper configured in {} runs {}, which does not exist or is not executable",
                    helper.place,
                    program.display()
                ),
                "git-credential-gitlab-ci configure again with the installed binary (it replaces the old entry)",
            ));
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::super::super::report::Status;
    use super::*;
    use crate::doctor::fixtures::{entry, server, OURS};

    #[test]
    fn git_chain_is_a_problem_when_another_helper_would_get_the_token() {
        let s = server("https://gitlab.example.com");
        let ok = [
            entry("credential.helper", "store", "/h/.gitconfig"),
            entry("credential.helper", OURS, "/h/.gitconfig"),
            entry(
                "credential.https://gitlab.example.com.helper",
                "",
                "/h/.gitconfig",
            ),
            entry(
                "credential.https://gitlab.example.com.helper",
                OURS,
                "/h/.gitconfig",
            ),
        ];
        assert_eq!(chain(&ok, &s).status, Status::Ok);
        let bad = &ok[..2];
        let check = chain(bad, &s);
        assert_eq!(check.status, Status::Problem);
        assert!(
            check.text.contains("'store' (from /h/.gitconfig)"),
            "{}",
            check.text
        );
        assert_eq!(chain(&[], &s).status, Status::Problem);
        let theirs = [entry("credential.helper", "cache", "/h/.gitconfig")];
        assert!(chain(&theirs, &s).text.contains("not this helper"));
    }

    #[test]
    fn helper_programs_that_cannot_run_are_problems_once_each() {
        let helper = |value: &str, runnable| OurHelper {
            place: "/h/.gitconfig".into(),
            value: value.into(),
            options: None,
            runnable,
        };
        let ours = [
            helper("/gone/git-credential-gitlab-ci --server a", Some(false)),
            helper("/ok/git-credential-gitlab-ci", Some(true)),
            helper("git-credential-gitlab-ci", None),
            helper("/gone/git-credential-gitlab-ci --server a", Some(false)),
        ];
        let checks = helper_programs(&ours);
        assert_eq!(checks.len(), 1, "{checks:?}");
        assert!(checks[0].text.contains("/gone/git-credential-gitlab-ci"));
        assert_eq!(checks[0].status, Status::Problem);
    }

    #[test]
    fn the_git_version_is_a_note_and_a_missing_git_a_problem() {
        assert_eq!(version(Some("git version 2.47.3")).status, Status::Note);
        assert_eq!(version(None).status, Status::Problem);
    }
}
