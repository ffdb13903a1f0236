//! Whether the token is available and well-formed (never the token, nor its length).

use crate::token::{TokenError, TokenSource};

use super::super::report::Check;

pub fn check(source: &TokenSource, loaded: &Result<(), TokenError>) -> Check {
    match loaded {
        Ok(()) => Check::ok(
            "token",
            format!("available from {source} and well-formed (give a PROBE_URL to check that the server accepts it)"),
        ),
        Err(e) => Check::problem(
            "token",
            e.to_string(),
            "in a job, CI_JOB_TOKEN is set by GitLab; in docker build pass it as a secret and use --token-file /run/secrets/ci_job_token",
        ),
    }
}
