//! The binary: parse arguments, call the library, map the outcome to an exit status.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use git_credential_gitlab_ci::cli::{
    is_docker_name, Cli, ConfigureArgs, DockerArgs, DockerCli, DockerOperation, Operation,
    DEFAULT_USERNAME,
};
use git_credential_gitlab_ci::configure::{self, Action};
use git_credential_gitlab_ci::diagnostics::{Diagnostics, DEBUG_ENV};
use git_credential_gitlab_ci::doctor;
use git_credential_gitlab_ci::env::Env;
use git_credential_gitlab_ci::server;
use git_credential_gitlab_ci::token::{TokenSource, DEFAULT_TOKEN_ENV};
use git_credential_gitlab_ci::{docker, helper};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.first().cloned();
    if argv0.as_deref().is_some_and(is_docker_name) {
        let cli = match DockerCli::try_parse_from(&args) {
            Ok(cli) => cli,
            Err(e) => return usage(e, argv0),
        };
        let token_vars = [DEFAULT_TOKEN_ENV, &cli.token.token_env];
        let env = match cli.docker.operation {
            DockerOperation::Configure => Env::read_all(argv0),
            _ => Env::read(protocol_vars(&docker::VARIABLES, &token_vars), argv0),
        };
        let diagnostics = Diagnostics::from_env(&env, &token_vars);
        return run_docker(&cli.docker, &cli.token.source(), &env, &diagnostics);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return usage(e, argv0),
    };
    let token_vars = [DEFAULT_TOKEN_ENV, &cli.helper.token.token_env];
    let env = match &cli.operation {
        Operation::Get | Operation::Store | Operation::Erase | Operation::Other(_) => {
            Env::read(protocol_vars(&server::VARIABLES, &token_vars), argv0)
        }
        Operation::Docker(args) if !matches!(args.operation, DockerOperation::Configure) => {
            Env::read(protocol_vars(&docker::VARIABLES, &token_vars), argv0)
        }
        _ => Env::read_all(argv0),
    };
    let diagnostics = Diagnostics::from_env(&env, &token_vars);
    match &cli.operation {
        Operation::Get => {
            let result = helper::get(
                &cli.helper,
                &env,
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
            helper::erase(&cli.helper, &env, io::stdin().lock(), &diagnostics);
            ExitCode::SUCCESS
        }
        Operation::Docker(args) => {
            // The docker mode answers for registries, always as gitlab-ci-token.
            if !cli.helper.servers.is_empty() || cli.helper.username != DEFAULT_USERNAME {
                diagnostics.error(
                    &"--server and --username do not apply to the docker mode; use --registry",
                );
                return ExitCode::from(2);
            }
            run_docker(args, &cli.helper.token.source(), &env, &diagnostics)
        }
        Operation::Configure(args) => configure(Action::Configure, args, &cli, &env, &diagnostics),
        Operation::Unconfigure(args) => {
            configure(Action::Unconfigure, args, &cli, &env, &diagnostics)
        }
        Operation::Doctor(args) => {
            let secrets: Vec<String> = token_vars
                .iter()
                .filter_map(|name| env.get(name)?.to_str().map(String::from))
                .collect();
            let healthy = doctor::run(args, &cli.helper, &env, &secrets, &mut io::stdout().lock());
            match healthy {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            }
        }
        Operation::Other(_) => ExitCode::SUCCESS,
    }
}

/// The docker credential-helper mode. A failure is one line on stderr and the same line on
/// stdout, where Docker's clients read a helper's error text; the token is in neither.
/// What the protocol paths read: `variables`, the debug switch and the token variables.
fn protocol_vars<'a>(variables: &'a [&'a str], token_vars: &'a [&'a str]) -> Vec<&'a str> {
    let mut names = variables.to_vec();
    names.push(DEBUG_ENV);
    names.extend(token_vars);
    names
}

fn run_docker(
    args: &DockerArgs,
    source: &TokenSource,
    env: &Env,
    diagnostics: &Diagnostics,
) -> ExitCode {
    let fail = |error: &docker::Error| {
        let line = diagnostics.line(error);
        let _ = io::stdout().lock().write_all(line.as_bytes());
        diagnostics.error(error);
        ExitCode::FAILURE
    };
    let operation = &args.operation;
    if let DockerOperation::Store | DockerOperation::Erase = operation {
        let name = if let DockerOperation::Store = operation {
            "store"
        } else {
            "erase"
        };
        docker::store_or_erase(name, io::stdin().lock(), diagnostics);
        return ExitCode::SUCCESS;
    }
    if let DockerOperation::Other(_) = operation {
        return fail(&docker::Error::UnknownOperation);
    }
    let registries = match docker::configured_registries(env, &args.registries) {
        Ok(registries) => registries,
        Err(e) => return fail(&e.into()),
    };
    let result = match operation {
        DockerOperation::Get => docker::get(
            &registries,
            source,
            env,
            io::stdin().lock(),
            &mut io::stdout().lock(),
            diagnostics,
        )
        .map(|outcome| outcome == docker::GetOutcome::Answered),
        DockerOperation::List => docker::list(&registries, &mut io::stdout().lock()).map(|()| true),
        _ => configure_docker(&registries, env).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => fail(&e),
    }
}

/// `docker configure`: adds the credHelpers entries and says what it did on stdout.
fn configure_docker(registries: &[docker::Registry], env: &Env) -> Result<(), docker::Error> {
    docker::configure_and_report(
        registries,
        env.get("DOCKER_CONFIG").map(Path::new),
        env.get("HOME").map(Path::new),
        &mut io::stdout().lock(),
    )
    .map(|_| ())
}

fn configure(
    action: Action,
    args: &ConfigureArgs,
    cli: &Cli,
    env: &Env,
    diagnostics: &Diagnostics,
) -> ExitCode {
    let result = configure::run(
        action,
        args,
        &cli.helper,
        env,
        diagnostics,
        &mut io::stdout().lock(),
    );
    if let Err(e) = result {
        diagnostics.error(&e);
        return ExitCode::FAILURE;
    }
    if args.docker && action == Action::Configure {
        let registries = docker::configured_registries(env, &args.registries)
        .map_err(docker::Error::from)
        .and_then(|registries| match args.dry_run {
            true => {
                let names: Vec<String> = registries.iter().map(|r| format!("\"{r}\"")).collect();
                let line = format!(
                    "# docker: add credHelpers {} (value \"gitlab-ci\") to $DOCKER_CONFIG/config.json\n",
                    names.join(", ")
                );
                let _ = io::stdout().lock().write_all(line.as_bytes());
                Ok(())
            }
            false => configure_docker(&registries, env),
        });
        if let Err(e) = registries {
            diagnostics.error(&e);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// `--help` and `--version` go to stdout; a usage error becomes one prefixed line on stderr
/// (clap's multi-line report would break the one-line rule) and exit status 2.
fn usage(error: clap::Error, argv0: Option<OsString>) -> ExitCode {
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
            let env = Env::read([DEFAULT_TOKEN_ENV], argv0);
            Diagnostics::from_env(&env, &[DEFAULT_TOKEN_ENV]).error(&format_args!(
                "{message}; see git-credential-gitlab-ci --help"
            ));
            ExitCode::from(2)
        }
    }
}
