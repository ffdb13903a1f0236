//! `doctor`: explains the setup, the dependencies a checkout will fetch, and failures, in a
//! readable report on standard output (or JSON for scripts).
//!
//! Three steps: [`facts::gather`] reads everything (git's configuration, our helper values and
//! their options, the token's availability, cargo's settings, the checkout's manifests, the
//! probes) — the only I/O; [`checks::all`] and [`plan::judge`] judge those facts, purely, one
//! module per topic; [`report`] prints one line per check and per dependency. The report never
//! contains the token, nor its length: the checks only learn whether it loaded, and every text
//! from outside (files, git's stderr) is scrubbed by the one scrubber ([`Diagnostics::scrub`])
//! and escaped to one printable line ([`crate::printable`]) — every line printed passes
//! through both once more ([`report::Printer`]).

pub mod checks;
pub mod facts;
pub mod git_failure;
pub mod plan;
pub mod report;

use std::io::Write;
use std::time::Duration;

use crate::diagnostics::Diagnostics;
use crate::env::Env;
use crate::options::HelperOptions;
use crate::outcome::Outcome;

/// `--timeout`'s default, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// What `doctor` is asked to check besides the setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A repository URL to try with `git ls-remote` through the helper.
    pub probe_url: Option<String>,
    /// With `probe_url`: whether the job token may push there too.
    pub push: bool,
    /// `--deps`: the dependency plan alone (also outside a work tree: the current directory).
    pub deps: bool,
    pub format: Format,
    /// How long all probes together may take.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            probe_url: None,
            push: false,
            deps: false,
            format: Format::Text,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// What doctor works with, built once by `main`.
pub struct Context<'a> {
    pub env: &'a Env,
    /// doctor's own `--server`, `--username`, `--token-env` and `--token-file`.
    pub options: &'a HelperOptions,
    pub diagnostics: &'a Diagnostics,
    /// Reads the options of one of our helper values (the words after the program) exactly as
    /// the binary reads its command line; `None` when that would be a usage error. The library
    /// knows no clap, so `main` passes the command line's own parser.
    pub read_helper_options: &'a dyn Fn(&[String]) -> Option<HelperOptions>,
}

/// Runs every check (none with `--deps`), judges the dependencies when a plan is wanted, and
/// prints the report to `out`: success when neither finds a problem.
pub fn run(ctx: &Context, options: &Options, out: &mut impl Write) -> Outcome {
    let facts = facts::gather(ctx, options);
    let mut checks = match options.deps {
        true => Vec::new(),
        false => checks::all(&facts),
    };
    let plan = plan::judge(&facts);
    if options.deps && plan.is_none() {
        checks.push(report::Check::problem(
            "deps",
            "no checkout to read: the current directory is unknown (removed while doctor started?)",
            "run doctor --deps inside the checkout",
        ));
    }
    let printer = report::Printer::new(ctx.diagnostics);
    let text = match options.format {
        Format::Text => printer.text(&checks, plan.as_ref(), options.deps),
        Format::Json => printer.json(&checks, plan.as_ref(), options.deps),
    };
    let _ = out.write_all(text.as_bytes());
    let healthy = report::healthy(&checks) && plan.as_ref().map_or(true, plan::Plan::healthy);
    Outcome::from_success(healthy)
}

/// What the checks' and the plan's tests build their facts from.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::facts::{Facts, OurHelper};
    use super::Options;
    use crate::gitconfig::Entry;
    use crate::options::HelperOptions;
    use crate::server::{Origin, Server};
    use crate::token::TokenSource;

    pub const OURS: &str = "/usr/local/bin/git-credential-gitlab-ci";

    pub fn server(url: &str) -> Server {
        Server::parse(url, Origin::Option).unwrap()
    }

    /// An entry as `git config --list --show-origin` reports it, from the file `origin`.
    pub fn entry(key: &str, value: &str, origin: &str) -> Entry {
        let mut entry = Entry::new(key, Some(value));
        entry.origin = format!("file:{origin}");
        entry
    }

    /// A configured job: the server from CI_SERVER_URL, configure --global's entries in
    /// `/h/.gitconfig`, the token loads, libgit2 finds the helper; no checkout, no probe.
    pub fn healthy() -> Facts {
        let home = "/h/.gitconfig";
        let entries = vec![
            entry("credential.helper", OURS, home),
            entry("credential.https://gitlab.example.com.helper", "", home),
            entry("credential.https://gitlab.example.com.helper", OURS, home),
        ];
        Facts {
            asked: Options::default(),
            git_version: Some("git version 2.47.3".into()),
            ours: vec![OurHelper {
                place: home.into(),
                value: OURS.into(),
                options: Some(HelperOptions::default()),
                runnable: Some(true),
            }],
            env_server: Ok(Some(
                Server::parse("https://gitlab.example.com", Origin::ServerUrl).unwrap(),
            )),
            options: HelperOptions::default(),
            token_source: TokenSource::default(),
            token: Ok(()),
            vars: Default::default(),
            cargo_configs: Vec::new(),
            libgit2: vec![(home.into(), vec![entry("credential.helper", OURS, home)])],
            exe: OURS.into(),
            checkout: None,
            probes: Vec::new(),
            entries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(env: &Env, options: &Options) -> (Outcome, String) {
        let diagnostics = Diagnostics::new(false, Vec::new());
        let context = Context {
            env,
            options: &HelperOptions::default(),
            diagnostics: &diagnostics,
            read_helper_options: &|_| None,
        };
        let mut out = Vec::new();
        let outcome = run(&context, options, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    }

    #[test]
    fn deps_reads_the_current_directory_outside_a_work_tree_and_says_when_there_is_none() {
        let home = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            "x @ git+https://elsewhere.example/g/x.git\n",
        )
        .unwrap();
        let vars = || {
            [
                ("PATH", std::env::var_os("PATH").unwrap_or_default()),
                ("HOME", home.path().into()),
                ("GIT_CONFIG_NOSYSTEM", "1".into()),
                ("CI_SERVER_URL", "https://gitlab.example.com".into()),
            ]
        };
        let deps = Options {
            deps: true,
            ..Options::default()
        };
        let env = Env::from_vars(vars()).with_cwd(dir.path());
        let (outcome, text) = run_with(&env, &deps);
        assert_eq!(outcome, Outcome::Success, "{text}");
        assert!(text.starts_with("dependency plan for "), "{text}");
        assert!(
            text.contains("  not ours  https://elsewhere.example/g/x.git"),
            "{text}"
        );
        // Without --deps, a directory that is not a work tree gets no plan.
        let (_, text) = run_with(&env, &Options::default());
        assert!(!text.contains("dependency plan"), "{text}");

        let (outcome, text) = run_with(&Env::from_vars(vars()), &deps);
        assert_eq!(outcome, Outcome::Failure, "{text}");
        assert!(
            text.contains("PROBLEM  deps        no checkout to read"),
            "{text}"
        );
    }
}
