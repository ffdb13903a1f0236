//! The binary: parse the command line (cli), read the environment once (env), run the verb in
//! the library, and turn its outcome into the exit status.

mod cli;

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;

use cli::Invocation;
use git_credential_gitlab_ci::diagnostics::{Diagnostics, DEBUG_ENV};
use git_credential_gitlab_ci::env::Env;
use git_credential_gitlab_ci::outcome::Outcome;
use git_credential_gitlab_ci::token::{TokenSource, DEFAULT_TOKEN_ENV};
use git_credential_gitlab_ci::{configure, docker, doctor, helper, server};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.first().cloned();
    let outcome = match cli::parse(&args) {
        Ok(invocation) => run(invocation, argv0),
        Err(error) => {
            let env = Env::read([DEFAULT_TOKEN_ENV], argv0);
            let diagnostics = Diagnostics::from_env(&env, &[DEFAULT_TOKEN_ENV]);
            cli::usage(error, &diagnostics, &mut io::stdout().lock())
        }
    };
    ExitCode::from(outcome.code())
}

fn run(invocation: Invocation, argv0: Option<OsString>) -> Outcome {
    let (stdin, mut stdout) = (io::stdin().lock(), io::stdout().lock());
    match invocation {
        Invocation::Helper(options, operation) => {
            let (env, diagnostics) = protocol_env(&server::VARIABLES, &options.token, argv0);
            helper::run(operation, &options, &env, stdin, &mut stdout, &diagnostics)
        }
        Invocation::Docker(token, options, operation) => {
            let (env, diagnostics) = match operation {
                docker::Operation::Configure => verb_env(&token, argv0),
                _ => protocol_env(&docker::VARIABLES, &token, argv0),
            };
            let run = docker::run;
            run(
                operation,
                &options,
                &token,
                &env,
                stdin,
                &mut stdout,
                &diagnostics,
            )
        }
        Invocation::Configure(action, options, helper) => {
            let (env, diagnostics) = verb_env(&helper.token, argv0);
            configure::run(action, &options, &helper, &env, &diagnostics, &mut stdout)
        }
        Invocation::Doctor(options, helper) => {
            let (env, diagnostics) = verb_env(&helper.token, argv0);
            let context = doctor::Context {
                env: &env,
                options: &helper,
                diagnostics: &diagnostics,
                read_helper_options: &cli::read_helper_options,
            };
            doctor::run(&context, &options, &mut stdout)
        }
    }
}

/// The protocol paths read only `variables`, the debug switch and the token variables.
fn protocol_env(
    variables: &[&str],
    token: &TokenSource,
    argv0: Option<OsString>,
) -> (Env, Diagnostics) {
    let secrets = token.secret_variables();
    let names = variables.iter().chain([&DEBUG_ENV]).chain(&secrets);
    let env = Env::read(names.copied(), argv0);
    let diagnostics = Diagnostics::from_env(&env, &secrets);
    (env, diagnostics)
}

/// The verbs read the whole environment.
fn verb_env(token: &TokenSource, argv0: Option<OsString>) -> (Env, Diagnostics) {
    let env = Env::read_all(argv0);
    let diagnostics = Diagnostics::from_env(&env, &token.secret_variables());
    (env, diagnostics)
}
