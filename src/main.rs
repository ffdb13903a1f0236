//! The binary: parse arguments, call the library, map the outcome to an exit status.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use git_credential_gitlab_ci::cli::{
    is_docker_name, Cli, ConfigureArgs, DockerArgs, DockerCli, DockerOperation, Operation,
    DEFAULT_USERNAME,
};
use git_credential_gitlab_ci::configure::{self, Action};
use git_credential_gitlab_ci::diagnostics::Diagnostics;
use git_credential_gitlab_ci::doctor;
use git_credential_gitlab_ci::server::ServerEnv;
use git_credential_gitlab_ci::token::{TokenSource, DEFAULT_TOKEN_ENV};
use git_credential_gitlab_ci::{docker, helper};

fn main() -> ExitCode {
    if std::env::args_os()
        .next()
        .is_some_and(|argv0| is_docker_name(&argv0))
    {
        let cli = match DockerCli::try_parse() {
            Ok(cli) => cli,
            Err(e) => return usage(e),
        };
        let diagnostics = Diagnostics::from_env(&[DEFAULT_TOKEN_ENV, &cli.token.token_env]);
        return run_docker(&cli.docker, &cli.token.source(), &diagnostics);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    let diagnostics = Diagnostics::from_env(&[DEFAULT_TOKEN_ENV, &cli.helper.token.token_env]);
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
        Operation::Docker(args) => {
            // The docker mode answers for registries, always as gitlab-ci-token.
            if !cli.helper.servers.is_empty() || cli.helper.username != DEFAULT_USERNAME {
                diagnostics.error(
                    &"--server and --username do not apply to the docker mode; use --registry",
                );
                return ExitCode::from(2);
            }
            run_docker(args, &cli.helper.token.source(), &diagnostics)
        }
        Operation::Configure(args) => configure(Action::Configure, args, &cli, &diagnostics),
        Operation::Unconfigure(args) => configure(Action::Unconfigure, args, &cli, &diagnostics),
        Operation::Doctor(args) => {
            let secrets: Vec<String> = [DEFAULT_TOKEN_ENV, cli.helper.token.token_env.as_str()]
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

/// The docker credential-helper mode. A failure is one line on stderr and the same line on
/// stdout, where Docker's clients read a helper's error text; the token is in neither.
fn run_docker(args: &DockerArgs, source: &TokenSource, diagnostics: &Diagnostics) -> ExitCode {
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
    let registries = match docker::configured_registries(
        &docker::RegistryEnv::from_process_env(),
        &args.registries,
    ) {
        Ok(registries) => registries,
        Err(e) => return fail(&e.into()),
    };
    let result = match operation {
        DockerOperation::Get => docker::get(
            &registries,
            source,
            io::stdin().lock(),
            &mut io::stdout().lock(),
            diagnostics,
        )
        .map(|outcome| outcome == docker::GetOutcome::Answered),
        DockerOperation::List => docker::list(&registries, &mut io::stdout().lock()).map(|()| true),
        _ => configure_docker(&registries).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => fail(&e),
    }
}

/// `docker configure`: adds the credHelpers entries and says what it did on stdout.
fn configure_docker(registries: &[docker::Registry]) -> Result<(), docker::Error> {
    let docker_config = std::env::var_os("DOCKER_CONFIG").map(std::path::PathBuf::from);
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    docker::configure_and_report(
        registries,
        docker_config.as_deref(),
        home.as_deref(),
        &mut io::stdout().lock(),
    )
    .map(|_| ())
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
    if let Err(e) = result {
        diagnostics.error(&e);
        return ExitCode::FAILURE;
    }
    if args.docker && action == Action::Configure {
        let registries = docker::configured_registries(
            &docker::RegistryEnv::from_process_env(),
            &args.registries,
        )
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
            false => configure_docker(&registries),
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
