//! The binary: parse the command line (cli), read the environment once (env), run what it asks
//! for in the library (program), and turn the outcome into the exit status.

mod cli;

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;

use git_credential_gitlab_ci::diagnostics::Diagnostics;
use git_credential_gitlab_ci::env::Env;
use git_credential_gitlab_ci::program;
use git_credential_gitlab_ci::token::DEFAULT_TOKEN_ENV;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.first().cloned();
    let outcome = match cli::parse(&args) {
        Ok(invocation) => {
            let env = match invocation.protocol_variables() {
                Some(names) => Env::read(names, argv0),
                None => Env::read_all(argv0),
            };
            let (stdin, mut stdout) = (io::stdin().lock(), io::stdout().lock());
            program::run(
                invocation,
                &env,
                &cli::read_helper_options,
                stdin,
                &mut stdout,
            )
        }
        Err(error) => {
            let env = Env::read([DEFAULT_TOKEN_ENV], argv0);
            let diagnostics = Diagnostics::from_env(&env, &[DEFAULT_TOKEN_ENV]);
            cli::usage(error, &diagnostics, &mut io::stdout().lock())
        }
    };
    ExitCode::from(outcome.code())
}
