//! The checks: pure functions from the gathered [`Facts`] to the report's lines, one module per
//! topic, in the order the report lists them.

pub mod cargo;
pub mod git;
pub mod probe;
pub mod servers;
pub mod token;

use super::facts::Facts;
use super::report::Check;

/// Every check, in report order.
pub fn all(facts: &Facts) -> Vec<Check> {
    let mut checks = vec![git::version(facts.git_version.as_deref())];
    let (servers, problems) = servers::known(facts);
    checks.extend(problems);
    checks.push(servers::check(&servers));
    checks.extend(servers::username(facts));
    checks.push(token::check(&facts.token_source, &facts.token));
    checks.extend(git::helper_programs(&facts.ours));
    for known in &servers {
        checks.push(git::chain(&facts.entries, &known.server));
    }

    let fetch_with_cli = cargo::fetch_with_cli(&facts.vars, &facts.cargo_configs);
    let traps = cargo::cargo_transport_traps(
        &facts.vars,
        cargo::git_http_proxy(&facts.entries),
        &facts.cargo_configs,
    );
    checks.push(cargo::transport(&traps, fetch_with_cli));
    if !fetch_with_cli {
        for known in &servers {
            checks.push(cargo::libgit2(&facts.libgit2, &known.server));
        }
    }

    checks.extend(probe::checks(facts));
    checks
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::doctor::facts::probe::{Access, Outcome, Probe, Target};
    use crate::doctor::fixtures::{self, healthy, OURS};
    use crate::doctor::git_failure::Ended;
    use crate::doctor::report::{Printer, Status};
    use crate::gitconfig::Entry;
    use crate::options::HelperOptions;
    use crate::server::{ServerError, Setting};
    use crate::token::{TokenError, TokenSource};

    const HOME: &str = "/h/.gitconfig";

    fn entry(key: &str, value: &str) -> Entry {
        fixtures::entry(key, value, HOME)
    }

    /// The (topic, status) of every line, and the whole text of the report.
    fn judged(facts: &Facts) -> (Vec<(&'static str, Status)>, String) {
        let checks = all(facts);
        let lines = checks.iter().map(|c| (c.topic, c.status)).collect();
        let diagnostics = crate::diagnostics::Diagnostics::new(false, Vec::new());
        (lines, Printer::new(&diagnostics).text(&checks, None, false))
    }

    #[test]
    fn checks_judge_gathered_facts_by_table() {
        use Status::{Note, Ok, Problem};
        /// A name, a change to the healthy facts, lines that must appear in this order, and a
        /// text the report must contain.
        type Case = (
            &'static str,
            fn(&mut Facts),
            &'static [(&'static str, Status)],
            &'static str,
        );
        let cases: &[Case] = &[
            (
                "healthy",
                |_| {},
                &[
                    ("git", Note),
                    ("servers", Ok),
                    ("token", Ok),
                    ("git", Ok),
                    ("cargo", Ok),
                    ("cargo", Ok),
                ],
                "answers for https://gitlab.example.com (from CI_SERVER_URL)",
            ),
            (
                "no git",
                |f| f.git_version = None,
                &[("git", Problem)],
                "git cannot be run",
            ),
            (
                "no server anywhere",
                |f| f.env_server = Result::Ok(None),
                &[("servers", Problem), ("token", Ok), ("cargo", Ok)],
                "no GitLab server is known",
            ),
            (
                "a bad CI_SERVER_URL",
                |f| {
                    f.env_server = Err(ServerError::Scheme {
                        setting: Setting::ServerUrl,
                    })
                },
                &[("servers", Problem), ("servers", Problem)],
                "CI_SERVER_URL must use https:// or http://",
            ),
            (
                "a server only in a helper value",
                |f| {
                    f.env_server = Result::Ok(None);
                    f.ours[0].options = Some(HelperOptions {
                        servers: vec!["gitlab.example.com".into()],
                        ..HelperOptions::default()
                    });
                },
                &[("servers", Ok)],
                "(from --server in the helper value in /h/.gitconfig)",
            ),
            (
                "another user name",
                |f| {
                    f.ours[0].options = Some(HelperOptions {
                        username: "deploy".into(),
                        ..HelperOptions::default()
                    })
                },
                &[("servers", Ok), ("servers", Note)],
                "answers with the user name deploy",
            ),
            (
                "no token",
                |f| f.token = Err(TokenError::Unset(TokenSource::default())),
                &[("token", Problem)],
                "CI_JOB_TOKEN is not set",
            ),
            (
                "the configured binary is gone",
                |f| f.ours[0].runnable = Some(false),
                &[("token", Ok), ("git", Problem), ("git", Ok)],
                "which does not exist or is not executable",
            ),
            (
                "store after us",
                |f| f.entries.push(entry("credential.helper", "store")),
                &[("git", Problem)],
                "'store' (from /h/.gitconfig) would be given the job token",
            ),
            (
                "libgit2 finds nothing",
                |f| f.libgit2 = vec![(HOME.into(), vec![])],
                &[("cargo", Ok), ("cargo", Problem)],
                "ignores GIT_CONFIG_GLOBAL",
            ),
            (
                "a cargo http trap, fetching with the CLI",
                |f| {
                    f.vars.insert("CARGO_HTTP_CAINFO".into(), "/ca.pem".into());
                    f.vars
                        .insert("CARGO_NET_GIT_FETCH_WITH_CLI".into(), "true".into());
                    f.libgit2 = vec![];
                },
                &[("git", Ok), ("cargo", Ok)],
                "cargo fetches with the git CLI",
            ),
            (
                "a cargo http trap",
                |f| {
                    f.cargo_configs = vec![(PathBuf::from("/c/config.toml"), "[http]\n".into())];
                },
                &[("cargo", Problem), ("cargo", Ok)],
                "the [http] table in /c/config.toml makes cargo fetch",
            ),
            (
                "a 404 probe",
                |f| {
                    let url = "https://gitlab.example.com/g/p.git";
                    f.asked.probe_url = Some(url.into());
                    f.probes = vec![Probe {
                        target: Target {
                            url: url.into(),
                            access: Access::Read,
                            helper: OURS.into(),
                        },
                        outcome: Outcome::Finished {
                            ended: Ended::Exited(128),
                            stderr: "remote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'https://gitlab.example.com/g/p.git/' not found\n".into(),
                        },
                    }];
                },
                &[("cargo", Ok), ("probe", Problem)],
                "does not exist, or is not visible to this job (404)",
            ),
            (
                "a probe URL not probed for want of a token",
                |f| {
                    f.asked.probe_url = Some("https://gitlab.example.com/g/p.git".into());
                    f.token = Err(TokenError::Unset(TokenSource::default()));
                },
                &[
                    ("token", Problem),
                    ("git", Ok),
                    ("cargo", Ok),
                    ("cargo", Ok),
                    ("probe", Problem),
                ],
                "not probed: the environment variable CI_JOB_TOKEN is not set",
            ),
        ];
        for (name, edit, expected, needle) in cases {
            let mut facts = healthy();
            edit(&mut facts);
            let (lines, report) = judged(&facts);
            assert!(
                lines.windows(expected.len()).any(|w| w == *expected),
                "{name}: {expected:?} not in {lines:?}"
            );
            assert!(
                report.contains(needle),
                "{name}: {needle:?} not in\n{report}"
            );
            let problem = lines.iter().any(|(_, s)| *s == Problem);
            assert_eq!(
                report.contains("healthy: no problem found"),
                !problem,
                "{name}:\n{report}"
            );
        }
    }
}
