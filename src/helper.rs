//! git's credential-helper operations: read the request, decide, then write the answer once.

use std::io::{self, BufRead, Write};

use crate::diagnostics::{shown, Diagnostics};
use crate::env::Env;
use crate::options::HelperOptions;
use crate::outcome::Outcome;
use crate::policy::{decide, username_is_valid, Decision};
use crate::protocol::{discard_request, read_request, Answer, ProtocolError};
use crate::server::{configured_servers, Server, ServerError};
use crate::token::{self, TokenError};

/// The operation git asked for: the last word of its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Get,
    Store,
    Erase,
    /// Any other word: ignored, as git asks of helpers, so newer gits keep working.
    Other,
}

/// Runs one operation on the request in `input`; a failure is one line through `diagnostics`.
pub fn run(
    operation: Operation,
    options: &HelperOptions,
    env: &Env,
    input: impl BufRead,
    output: &mut impl Write,
    diagnostics: &Diagnostics,
) -> Outcome {
    match operation {
        Operation::Get => match get(options, env, input, output, diagnostics) {
            Ok(()) => Outcome::Success,
            Err(e) => {
                diagnostics.error(&e);
                Outcome::Failure
            }
        },
        Operation::Store => {
            store_or_erase("store", input, diagnostics);
            Outcome::Success
        }
        Operation::Erase => {
            erase(options, env, input, diagnostics);
            Outcome::Success
        }
        Operation::Other => Outcome::Success,
    }
}

/// A failure that makes `get` exit 1 with one line on standard error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("refused the credential request, nothing was answered: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("{0}")]
    Server(#[from] ServerError),
    #[error("the request is for {server}, but {error}")]
    Token { server: String, error: TokenError },
    #[error("--username must be one non-empty line")]
    Username,
    #[error("--username must not contain ':' to go into an Authorization header")]
    UsernameWithColon,
    #[error("could not write the answer ({0})")]
    Output(io::ErrorKind),
}

/// `get`: answers with the token when the request is for a configured server; otherwise prints
/// nothing. Nothing is written until the decision and the token are both final.
fn get(
    options: &HelperOptions,
    env: &Env,
    input: impl BufRead,
    output: &mut impl Write,
    diagnostics: &Diagnostics,
) -> Result<(), Error> {
    let answer = decide_answer(options, env, input, diagnostics)?;
    written(answer.write_to(output))
}

/// The outcome of writing an answer (with one `write_all`, then a flush). A caller that has gone
/// away — git, Go, pip — leaves nobody to read it, and that is not our failure.
pub fn written(result: io::Result<()>) -> Result<(), Error> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(|e| Error::Output(e.kind())),
    }
}

/// The configured servers and a usable `--username`: what every protocol reads before it
/// decides (git's here, Go's GOAUTH, pip's keyring).
pub fn configuration(options: &HelperOptions, env: &Env) -> Result<Vec<Server>, Error> {
    let servers = configured_servers(env, &options.servers)?;
    if !username_is_valid(&options.username) {
        return Err(Error::Username);
    }
    Ok(servers)
}

fn decide_answer(
    options: &HelperOptions,
    env: &Env,
    input: impl BufRead,
    diagnostics: &Diagnostics,
) -> Result<Answer, Error> {
    let request = read_request(input)?;
    let servers = configuration(options, env)?;
    let username = &options.username;
    diagnostics.debug(|| {
        let list: Vec<String> = servers
            .iter()
            .map(|s| format!("{s} (from {})", s.origin))
            .collect();
        match list.is_empty() {
            true => "servers: none".to_string(),
            false => format!("servers: {}", list.join(", ")),
        }
    });
    diagnostics.debug(|| {
        format!(
            "get: protocol '{}', host '{}'{}",
            shown(request.protocol.as_deref().unwrap_or(b"")),
            shown(request.host.as_deref().unwrap_or(b"")),
            match (&request.username, request.has_password) {
                (Some(_), true) => ", with a user name and a password",
                (Some(_), false) => ", with a user name",
                (None, true) => ", with a password",
                (None, false) => "",
            }
        )
    });
    match decide(&request, &servers, username) {
        Decision::Decline(why) => {
            diagnostics.debug(|| format!("declined, {why}; git will ask the next helper"));
            Ok(Answer::Nothing)
        }
        Decision::Answer(server) => {
            let source = &options.token;
            let password = token::load(source, env).map_err(|error| Error::Token {
                server: server.to_string(),
                error,
            })?;
            diagnostics
                .debug(|| format!("answering {server} as {username} with the token from {source}"));
            Ok(Answer::Credential {
                username: username.clone(),
                password,
            })
        }
    }
}

/// `store` and `erase`: the token is never written anywhere, so there is nothing to do but read
/// the request (so git never writes into a closed pipe) and say so when debugging.
fn store_or_erase(operation: &str, input: impl BufRead, diagnostics: &Diagnostics) {
    let _: Result<(), ProtocolError> = discard_request(input);
    diagnostics.debug(|| format!("{operation}: nothing to do, the job token is never stored"));
}

/// `erase`: git sends it after the server refused the credentials it used. When the request is
/// for a server this helper answers (the password check aside: erase carries the rejected
/// password), say so on one line and point at `doctor`; nothing else is done.
fn erase(options: &HelperOptions, env: &Env, input: impl BufRead, diagnostics: &Diagnostics) {
    let Ok(mut request) = read_request(input) else {
        diagnostics.debug(|| "erase: nothing to do, the job token is never stored");
        return;
    };
    request.has_password = false;
    let servers = configured_servers(env, &options.servers).unwrap_or_default();
    match decide(&request, &servers, &options.username) {
        Decision::Answer(server) => diagnostics.error(&format_args!(
            "the server {server} rejected the job token (expired, or not this job's); run git-credential-gitlab-ci doctor to find out why"
        )),
        Decision::Decline(_) => {
            diagnostics.debug(|| "erase: nothing to do, the job token is never stored")
        }
    }
}
