//! The command line, and the only code besides `main.rs` that knows clap. git runs
//! `git-credential-gitlab-ci [OPTIONS] <operation>`, with the options taken from the
//! `credential.helper` value and the operation always last.
//!
//! That grammar — the helper's options and one word — runs on every fetch, so it is parsed by a
//! small command of its own; the full tree of verbs ([`command`]) is built only for a verb,
//! `--help`, `--version` and any error, where it also writes clap's messages. Both take their
//! arguments from the same definitions (`cli/args.rs`), so they cannot disagree, and anything
//! the small command does not accept is parsed again by the full tree.
//!
//! This file names the library by its crate name and its parts by `#[path]`, so that another
//! crate (the man-page generator) can include it with `#[path = "../src/cli.rs"] mod cli;`.

#[path = "cli/args.rs"]
mod args;
#[path = "cli/help.rs"]
mod help;
#[path = "cli/tree.rs"]
mod tree;

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};
use git_credential_gitlab_ci::diagnostics::Diagnostics;
use git_credential_gitlab_ci::options::HelperOptions;
use git_credential_gitlab_ci::outcome::Outcome;
use git_credential_gitlab_ci::policy::DEFAULT_USERNAME;
use git_credential_gitlab_ci::program::Invocation;
use git_credential_gitlab_ci::token::TokenSource;
use git_credential_gitlab_ci::{configure, docker, doctor, helper, helper_value};

/// The name that selects the docker mode when the binary is invoked under it.
pub const DOCKER_BINARY_NAME: &str = "docker-credential-gitlab-ci";

/// Is `argv0` (the program name the binary was run as) the docker credential helper's?
pub fn is_docker_name(argv0: &OsStr) -> bool {
    Path::new(argv0)
        .file_name()
        .is_some_and(|name| name == DOCKER_BINARY_NAME)
}

/// The full command tree of `git-credential-gitlab-ci`: every verb, option and help text.
pub fn command() -> clap::Command {
    tree::Cli::command()
}

/// The full command tree of the binary run as `docker-credential-gitlab-ci`.
pub fn docker_command() -> clap::Command {
    tree::DockerCli::command()
}

/// Parses a command line (`args[0]` is the program name). `Err` is clap's: a usage error, or
/// `--help` and `--version`, for [`usage`] to print.
pub fn parse(args: &[OsString]) -> Result<Invocation, clap::Error> {
    let docker = args.first().is_some_and(|name| is_docker_name(name));
    match quick(args, docker) {
        Some(invocation) => Ok(invocation),
        None => full_tree(args, docker),
    }
}

/// The command line parsed by the full tree.
fn full_tree(args: &[OsString], docker: bool) -> Result<Invocation, clap::Error> {
    if docker {
        let matches = docker_command().try_get_matches_from(args)?;
        let cli = tree::DockerCli::from_arg_matches(&matches)?;
        return Ok(docker_invocation(cli.token.0, cli.docker));
    }
    let cli = tree::Cli::from_arg_matches(&command().try_get_matches_from(args)?)?;
    let options = cli.helper.0;
    Ok(match cli.verb {
        tree::Verb::Get => Invocation::Helper(options, helper::Operation::Get),
        tree::Verb::Store => Invocation::Helper(options, helper::Operation::Store),
        tree::Verb::Erase => Invocation::Helper(options, helper::Operation::Erase),
        tree::Verb::Other(_) => Invocation::Helper(options, helper::Operation::Other),
        tree::Verb::Docker(docker) => {
            // The docker mode answers for registries, always as gitlab-ci-token.
            if !options.servers.is_empty() || options.username != DEFAULT_USERNAME {
                return Err(clap::Error::raw(
                    ErrorKind::ArgumentConflict,
                    "--server and --username do not apply to the docker mode; use --registry",
                ));
            }
            docker_invocation(options.token, docker)
        }
        tree::Verb::Configure(args) => Invocation::Configure(
            configure::Action::Configure,
            configure_options(args),
            options,
        ),
        tree::Verb::Unconfigure(args) => Invocation::Configure(
            configure::Action::Unconfigure,
            configure_options(args),
            options,
        ),
        tree::Verb::Doctor(args) => Invocation::Doctor(
            doctor::Options {
                probe_url: args.probe_url,
                push: args.push,
                deps: args.deps,
                format: match args.format.as_str() {
                    "json" => doctor::Format::Json,
                    _ => doctor::Format::Text,
                },
                timeout: Duration::from_secs(args.timeout),
            },
            options,
        ),
    })
}

/// The helper grammar (options and one word) with the small command: `Some` when it is one of
/// the protocol's operations; `None` for anything else, which the full tree then parses.
fn quick(args: &[OsString], docker: bool) -> Option<Invocation> {
    // After `--`, clap's full tree takes the word for an unknown operation, the small command
    // for the operation itself; leave that spelling to the full tree.
    if args.iter().skip(1).any(|arg| arg == "--") {
        return None;
    }
    if docker {
        let grammar = args::token_args().into_iter().chain([args::registry_arg()]);
        let matches = args::one_word_command(DOCKER_BINARY_NAME, grammar)
            .try_get_matches_from(args)
            .ok()?;
        let operation = match args::operation(&matches)?.to_str() {
            Some("get") => docker::Operation::Get,
            Some("store") => docker::Operation::Store,
            Some("erase") => docker::Operation::Erase,
            Some("list") => docker::Operation::List,
            _ => return None,
        };
        let options = docker::Options {
            registries: args::registries(&matches),
        };
        return Some(Invocation::Docker(
            args::token_source(&matches),
            options,
            operation,
        ));
    }
    let grammar = args::server_args().into_iter().chain(args::token_args());
    let matches = args::one_word_command(helper_value::BINARY_NAME, grammar)
        .try_get_matches_from(args)
        .ok()?;
    let operation = match args::operation(&matches)?.to_str() {
        Some("get") => helper::Operation::Get,
        Some("store") => helper::Operation::Store,
        Some("erase") => helper::Operation::Erase,
        Some("docker" | "configure" | "unconfigure" | "doctor") => return None,
        // The full tree gives an unknown word everything after it; the same only when nothing
        // follows it.
        _ if !args::operation_is_last(&matches) => return None,
        _ => helper::Operation::Other,
    };
    Some(Invocation::Helper(
        args::helper_options(&matches),
        operation,
    ))
}

fn docker_invocation(token: TokenSource, args: tree::DockerArgs) -> Invocation {
    use tree::DockerOperation as Op;
    let args::Global(args::Registries(registries)) = args.registries;
    let operation = match args.operation {
        Op::Get => docker::Operation::Get,
        Op::Store => docker::Operation::Store,
        Op::Erase => docker::Operation::Erase,
        Op::List => docker::Operation::List,
        Op::Configure => docker::Operation::Configure,
        Op::Other(_) => docker::Operation::Other,
    };
    Invocation::Docker(token, docker::Options { registries }, operation)
}

fn configure_options(args: tree::ConfigureArgs) -> configure::Options {
    let target = match (args.file, args.system, args.global) {
        (Some(file), _, _) => configure::Target::File(file),
        (None, true, _) => configure::Target::System,
        (None, false, true) => configure::Target::Global,
        (None, false, false) => configure::Target::Auto,
    };
    configure::Options {
        target,
        rewrite_ssh: args.rewrite_ssh,
        dry_run: args.dry_run,
        docker: args.docker.then_some(docker::Options {
            registries: args.registries,
        }),
    }
}

/// The options of one of our `credential.helper` values (the words after the program), read
/// exactly as the binary reads them when git runs the value with `get`; `None` when git's run
/// would end in a usage error. This is the parser `doctor` is given.
pub fn read_helper_options(words: &[String]) -> Option<HelperOptions> {
    let args: Vec<OsString> = std::iter::once(helper_value::BINARY_NAME)
        .chain(words.iter().map(String::as_str))
        .chain(["get"])
        .map(OsString::from)
        .collect();
    match parse(&args) {
        Ok(Invocation::Helper(options, helper::Operation::Get)) => Some(options),
        _ => None,
    }
}

/// `--help` and `--version` go to `out`; a usage error becomes one prefixed line on stderr
/// (clap's multi-line report would break the one-line rule).
pub fn usage(error: clap::Error, diagnostics: &Diagnostics, out: &mut impl Write) -> Outcome {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let text = error.render().to_string();
            let _ = out.write_all(text.as_bytes());
            if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                Outcome::Usage
            } else {
                Outcome::Success
            }
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let message = first.strip_prefix("error: ").unwrap_or(first);
            diagnostics.error(&format_args!(
                "{message}; see git-credential-gitlab-ci --help"
            ));
            Outcome::Usage
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        std::iter::once(helper_value::BINARY_NAME)
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// The small command's reading of `args` must be the full tree's, and `parse` must give
    /// what the full tree alone gives.
    fn assert_agree(args: &[OsString], docker: bool) {
        let full = full_tree(args, docker).map_err(|e| e.kind());
        if let Some(quick) = quick(args, docker) {
            assert_eq!(Ok(quick), full, "{args:?}");
        }
        assert_eq!(parse(args).map_err(|e| e.kind()), full, "{args:?}");
    }

    #[test]
    fn the_small_command_agrees_with_the_full_tree_wherever_it_answers() {
        let lines: &[&[&str]] = &[
            &["get"],
            &["store"],
            &["erase"],
            &["frobnicate"],
            &["frobnicate", "--server", "x"],
            &["frobnicate", "--server", "frobnicate"],
            &["--server", "frobnicate", "frobnicate"],
            &["--server=frobnicate", "frobnicate"],
            &["--server", "a.example", "get"],
            &["--server=a.example", "--server", "b.example", "get"],
            &["get", "--server", "a.example"],
            &["--username", "deploy", "get"],
            &["--token-env", "MY_TOKEN", "get"],
            &["--token-file", "/run/secrets/t", "erase"],
            &["--token-file", "/t", "--token-env", "X", "get"],
            &["--username", "a", "--username", "b", "get"],
            &["--username", "a", "get", "--username", "b"],
            &["get", "extra"],
            &["--frobnicate", "get"],
            &["--server"],
            &["--server", "x"],
            &[],
            &["-h"],
            &["get", "--help"],
            &["--version", "get"],
            &["--", "get"],
            &["get", "--"],
            &[""],
            &["get=1"],
            &["help"],
        ];
        for words in lines {
            assert_agree(&args(words), false);
        }
        for words in [
            &["get"][..],
            &["get", "--server", "a.example"],
            &["frobnicate"],
            &["--server", "frobnicate", "frobnicate"],
        ] {
            assert!(quick(&args(words), false).is_some(), "{words:?}");
        }
        assert!(quick(&args(&["frobnicate", "--server", "x"]), false).is_none());
    }

    #[test]
    fn the_docker_name_has_its_own_small_command() {
        let args = |words: &[&str]| -> Vec<OsString> {
            std::iter::once("/usr/local/bin/docker-credential-gitlab-ci")
                .chain(words.iter().copied())
                .map(OsString::from)
                .collect()
        };
        for words in [
            &["get"][..],
            &["list"],
            &["--registry", "r.example:5050", "get"],
            &["--token-file", "/t", "store"],
            &["configure"],
            &["version"],
            &["--server", "x", "get"],
        ] {
            assert_agree(&args(words), true);
        }
        assert!(quick(&args(&["get"]), true).is_some());
        assert!(quick(&args(&["configure"]), true).is_none(), "a verb");
    }

    #[test]
    fn verbs_help_and_errors_go_to_the_full_tree() {
        for words in [
            &["configure", "--global"][..],
            &["doctor"],
            &["docker", "get"],
            &["--help"],
            &["--version"],
            &["get", "extra"],
            &[],
        ] {
            assert_eq!(quick(&args(words), false), None, "{words:?}");
        }
    }

    #[test]
    fn helper_values_are_read_with_the_binarys_parser() {
        let words = |s: &[&str]| -> Vec<String> { s.iter().map(|w| w.to_string()).collect() };
        let options = read_helper_options(&words(&[
            "--server",
            "a.example",
            "--server=b.example",
            "--token-file",
            "/run/s t",
        ]))
        .unwrap();
        assert_eq!(options.servers, ["a.example", "b.example"]);
        assert_eq!(options.token, TokenSource::File("/run/s t".into()));
        assert_eq!(options.username, DEFAULT_USERNAME);
        assert_eq!(read_helper_options(&[]), Some(HelperOptions::default()));
        assert_eq!(read_helper_options(&words(&["--bogus"])), None);
        assert_eq!(read_helper_options(&words(&["configure"])), None);
    }

    #[test]
    fn the_command_tree_is_valid() {
        command().debug_assert();
        docker_command().debug_assert();
        assert!(command()
            .get_subcommands()
            .any(|c| c.get_name() == "doctor"));
    }
}
