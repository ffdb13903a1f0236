//! The binary: parse the command line (cli), read the environment once (env), run what it asks
//! for in the library (program), and turn the outcome into the exit status.

mod cli;

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;

use git_credential_gitlab_ci::diagnostics::Diagnostics;
use git_credential_gitlab_ci::env::Env;
use git_credential_gitlab_ci::program;

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
            // Parsing failed, so the token options are found leniently: the message may quote
            // a word that is the token of any of them.
            let sources = cli::token_sources(&args);
            let names: Vec<&str> = sources.iter().flat_map(|s| s.secret_variables()).collect();
            let env = Env::read(names, argv0);
            let diagnostics = Diagnostics::for_sources(&env, &sources);
            cli::usage(error, &diagnostics, &mut io::stdout().lock())
        }
    };
    ExitCode::from(outcome.code())
}
