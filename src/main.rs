//! The binary: parse arguments, call the library, map the outcome to an exit status.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use git_credential_gitlab_ci::cli::{Cli, ConfigureArgs, Operation};
use git_credential_gitlab_ci::configure::{self, Action};
use git_credential_gitlab_ci::diagnostics::Diagnostics;
use git_credential_gitlab_ci::doctor;
use git_credential_gitlab_ci::helper;
use git_credential_gitlab_ci::server::ServerEnv;
use git_credential_gitlab_ci::token::DEFAULT_TOKEN_ENV;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    let diagnostics = Diagnostics::from_env(&[DEFAULT_TOKEN_ENV, &cli.helper.token_env]);
    match &cli.operation {
        Operation::Get => {
            let result = helper::get(
                &cli.helper,
                &ServerEnv::from_process_env(),
                io::stdin().lock(),
                &mut io::stdout().lock(),
                &diagnostics,
            );
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    diagnostics.error(&e);
                    ExitCode::FAILURE
                }
            }
        }
        Operation::Store => {
            helper::store_or_erase("store", io::stdin().lock(), &diagnostics);
            ExitCode::SUCCESS
        }
        Operation::Erase => {
            helper::erase(
                &cli.helper,
                &ServerEnv::from_process_env(),
                io::stdin().lock(),
                &diagnostics,
            );
            ExitCode::SUCCESS
        }
        Operation::Configure(args) => configure(Action::Configure, args, &cli, &diagnostics),
        Operation::Unconfigure(args) => configure(Action::Unconfigure, args, &cli, &diagnostics),
        Operation::Doctor(args) => {
            let secrets: Vec<String> = [DEFAULT_TOKEN_ENV, cli.helper.token_env.as_str()]
                .iter()
                .filter_map(|name| std::env::var(name).ok())
                .collect();
            let healthy = doctor::run(
                args,
                &cli.helper,
                &ServerEnv::from_process_env(),
                &secrets,
                &mut io::stdout().lock(),
            );
            match healthy {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            }
        }
        Operation::Other(_) => ExitCode::SUCCESS,
    }
}

fn configure(
    action: Action,
    args: &ConfigureArgs,
    cli: &Cli,
    diagnostics: &Diagnostics,
) -> ExitCode {
    let result = configure::run(
        action,
        args,
        &cli.helper,
        &ServerEnv::from_process_env(),
        diagnostics,
        &mut io::stdout().lock(),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            diagnostics.error(&e);
            ExitCode::FAILURE
        }
    }
}

/// `--help` and `--version` go to stdout; a usage error becomes one prefixed line on stderr
/// (clap's multi-line report would break the one-line rule) and exit status 2.
fn usage(error: clap::Error) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let text = error.render().to_string();
            let _ = io::stdout().lock().write_all(text.as_bytes());
            if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let message = first.strip_prefix("error: ").unwrap_or(first);
            Diagnostics::from_env(&[DEFAULT_TOKEN_ENV]).error(&format_args!(
                "{message}; see git-credential-gitlab-ci --help"
            ));
            ExitCode::from(2)
        }
    }
}
