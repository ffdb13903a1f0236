//! `doctor`: explains the setup and failures in a readable report on standard output.
//!
//! Three steps: [`facts::gather`] reads everything (git's configuration, our helper values and
//! their options, the token's availability, cargo's settings, `.gitmodules`, the probe) — the
//! only I/O; [`checks::all`] judges those facts, purely, one module per topic; [`report`]
//! prints one line per check. The report never contains the token, nor its length: the checks
//! only learn whether it loaded, and what git said is scrubbed by the one scrubber
//! ([`Diagnostics::scrub`]).

pub mod checks;
pub mod facts;
pub mod git_failure;
pub mod probe;
pub mod report;

use std::io::Write;
use std::time::Duration;

use crate::diagnostics::Diagnostics;
use crate::env::Env;
use crate::options::HelperOptions;
use crate::outcome::Outcome;

/// What `doctor` is asked to check besides the setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A repository URL to try with `git ls-remote` through the helper.
    pub probe_url: Option<String>,
    /// How long the probe may take.
    pub timeout: Duration,
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

/// Runs every check and prints the report to `out`: success when healthy.
pub fn run(ctx: &Context, options: &Options, out: &mut impl Write) -> Outcome {
    let facts = facts::gather(ctx, options);
    let checks = checks::all(&facts);
    let _ = out.write_all(report::render(&checks).as_bytes());
    Outcome::from_success(report::healthy(&checks))
}

/// What the checks' tests build their facts from.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::gitconfig::Entry;
    use crate::server::{Origin, Server};

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
}
