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
#[path = "cli/suggest.rs"]
mod suggest;
#[path = "cli/tree.rs"]
mod tree;

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};
use git_credential_gitlab_ci::diagnostics::Diagnostics;
use git_credential_gitlab_ci::options::HelperOptions;
use git_credential_gitlab_ci::outcome::Outcome;
use git_credential_gitlab_ci::program::Invocation;
use git_credential_gitlab_ci::token::TokenSource;
use git_credential_gitlab_ci::{configure, docker, doctor, helper, helper_value, keyring};

/// The name that selects the docker mode when the binary is invoked under it.
pub const DOCKER_BINARY_NAME: &str = "docker-credential-gitlab-ci";

/// The name that selects the keyring mode: pip and uv run the first `keyring` on `PATH`.
pub const KEYRING_BINARY_NAME: &str = "keyring";

/// Is `argv0` (the program name the binary was run as) the docker credential helper's?
pub fn is_docker_name(argv0: &OsStr) -> bool {
    Path::new(argv0)
        .file_name()
        .is_some_and(|name| name == DOCKER_BINARY_NAME)
}

/// Is `argv0` the name pip and uv run (`keyring`, by any path)?
pub fn is_keyring_name(argv0: &OsStr) -> bool {
    Path::new(argv0)
        .file_name()
        .is_some_and(|name| name == KEYRING_BINARY_NAME)
}

/// The full command tree of `git-credential-gitlab-ci`: every verb, option and help text.
pub fn command() -> clap::Command {
    tree::Cli::command()
}

/// The full command tree of the binary run as `docker-credential-gitlab-ci`.
pub fn docker_command() -> clap::Command {
    tree::DockerCli::command()
}

/// The command of the binary run as `keyring`: small already (no verbs), so it has no small
/// command of its own.
pub fn keyring_command() -> clap::Command {
    tree::KeyringCli::command()
}

/// Parses a command line (`args[0]` is the program name). `Err` is clap's: a usage error, or
/// `--help` and `--version`, for [`usage`] to print.
pub fn parse(args: &[OsString]) -> Result<Invocation, clap::Error> {
    if args.first().is_some_and(|name| is_keyring_name(name)) {
        let matches = keyring_command().try_get_matches_from(args)?;
        let cli = tree::KeyringCli::from_arg_matches(&matches)?;
        return Ok(Invocation::Keyring(
            cli.helper.0,
            keyring_request(cli.keyring),
        ));
    }
    let docker = args.first().is_some_and(|name| is_docker_name(name));
    match quick(args, docker) {
        Some(invocation) => Ok(invocation),
        None => full_tree(args, docker),
    }
}

/// The verbs besides git's operations (`get`, `store`, `erase`), kept equal to the tree's
/// subcommands by a test: words the small command leaves to the full tree — all but `goauth`,
/// which Go runs before every HTTPS fetch, so the small command takes it.
const VERBS: &[&str] = &[
    "docker",
    "configure",
    "unconfigure",
    "doctor",
    "goauth",
    "keyring",
];

/// The command line parsed by the full tree.
fn full_tree(args: &[OsString], docker: bool) -> Result<Invocation, clap::Error> {
    if docker {
        let matches = docker_command().try_get_matches_from(args)?;
        let cli = tree::DockerCli::from_arg_matches(&matches)?;
        return docker_invocation(cli.token.0, cli.docker, docker_command());
    }
    let matches = command().try_get_matches_from(args)?;
    let cli = tree::Cli::from_arg_matches(&matches)?;
    // The helper options are global in the tree (git puts them before the operation, users
    // after the verb); a verb they do not apply to refuses them.
    for (option, why) in not_for(&cli.verb) {
        if args::given(&matches, option) {
            return Err(clap::Error::raw(
                ErrorKind::ArgumentConflict,
                format!("{option} does not apply to {why}"),
            ));
        }
    }
    let options = cli.helper.0;
    Ok(match cli.verb {
        tree::Verb::Get => Invocation::Helper(options, helper::Operation::Get),
        tree::Verb::Store => Invocation::Helper(options, helper::Operation::Store),
        tree::Verb::Erase => Invocation::Helper(options, helper::Operation::Erase),
        tree::Verb::Other(words) => {
            // git's rule for forward compatibility: an unknown operation, git's last word, is
            // ignored. Followed by more, it is no operation of git's but a mistyped verb.
            if words.len() > 1 {
                return Err(unknown_word(&words[0], command()));
            }
            Invocation::Helper(options, helper::Operation::Other)
        }
        tree::Verb::Docker(docker) => docker_invocation(options.token, docker, command())?,
        tree::Verb::Configure(args) => Invocation::Configure(
            configure::Action::Configure,
            configure_options(args),
            options,
        ),
        tree::Verb::Unconfigure(args) => Invocation::Configure(
            configure::Action::Unconfigure,
            unconfigure_options(args),
            options,
        ),
        tree::Verb::Goauth(args) => Invocation::Goauth(options, args.url),
        tree::Verb::Keyring(args) => Invocation::Keyring(options, keyring_request(args)),
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
    let mut command = args::one_word_command(helper_value::BINARY_NAME, grammar);
    // The word after the operation is for goauth only; git's `get` does not pay for it.
    if args.iter().skip(1).any(|arg| arg == "goauth") {
        command = args::with_url(command);
    }
    let matches = command.try_get_matches_from(args).ok()?;
    let word = args::operation(&matches)?.to_str();
    let url = args::url(&matches);
    // Go runs `goauth` before every HTTPS fetch, so it takes this path too, with the URL Go
    // adds after a 4xx; no other operation has a word after it.
    if word == Some("goauth") {
        return Some(Invocation::Goauth(
            args::helper_options(&matches),
            url.cloned(),
        ));
    }
    if url.is_some() {
        return None;
    }
    let operation = match word {
        Some("get") => helper::Operation::Get,
        Some("store") => helper::Operation::Store,
        Some("erase") => helper::Operation::Erase,
        Some(word) if VERBS.contains(&word) => return None,
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

/// The helper options a verb does not take (they are global in the tree), each with what the
/// message says instead.
fn not_for(verb: &tree::Verb) -> &'static [(&'static str, &'static str)] {
    const DOCKER: &str =
        "the docker mode, which answers for registries, always as gitlab-ci-token; use --registry";
    match verb {
        tree::Verb::Docker(_) => &[("--server", DOCKER), ("--username", DOCKER)],
        _ => &[],
    }
}

/// A usage error for an unknown word followed by more arguments, suggesting the verb of
/// `tree` it most likely stands for.
fn unknown_word(word: &OsStr, tree: clap::Command) -> clap::Error {
    let shown = git_credential_gitlab_ci::diagnostics::shown(word.as_bytes());
    let verbs: Vec<String> = tree
        .get_subcommands()
        .map(|verb| verb.get_name().to_string())
        .collect();
    let near = match word.to_str() {
        Some(word) => suggest::closest(word, verbs.iter().map(String::as_str)),
        None => Vec::new(),
    };
    let hint = match near.is_empty() {
        false => format!("did you mean {}?", near.join(" or ")),
        true => format!("the operations and verbs are {}", verbs.join(", ")),
    };
    clap::Error::raw(
        ErrorKind::InvalidSubcommand,
        format!("unknown operation '{shown}' followed by more arguments; {hint}"),
    )
}

fn docker_invocation(
    token: TokenSource,
    args: tree::DockerArgs,
    tree: clap::Command,
) -> Result<Invocation, clap::Error> {
    use tree::DockerOperation as Op;
    let args::Global(args::Registries(registries)) = args.registries;
    let operation = match args.operation {
        Op::Get => docker::Operation::Get,
        Op::Store => docker::Operation::Store,
        Op::Erase => docker::Operation::Erase,
        Op::List => docker::Operation::List,
        Op::Configure => docker::Operation::Configure,
        Op::Other(words) if words.len() > 1 => {
            let docker = match tree.find_subcommand("docker") {
                Some(docker) => docker.clone(),
                None => tree,
            };
            return Err(unknown_word(&words[0], docker));
        }
        Op::Other(_) => docker::Operation::Other,
    };
    Ok(Invocation::Docker(
        token,
        docker::Options { registries },
        operation,
    ))
}

fn keyring_request(args: tree::KeyringArgs) -> keyring::Request {
    use tree::{KeyringMode, KeyringOperation, KeyringOutput};
    keyring::Request {
        mode: match args.mode {
            KeyringMode::Password => keyring::Mode::Password,
            KeyringMode::Creds => keyring::Mode::Creds,
        },
        format: match args.output {
            KeyringOutput::Plain => keyring::Format::Plain,
            KeyringOutput::Json => keyring::Format::Json,
        },
        operation: match args.operation {
            KeyringOperation::Get => keyring::Operation::Get,
            KeyringOperation::Set => keyring::Operation::Set,
            KeyringOperation::Del => keyring::Operation::Del,
        },
        service: args.service,
        user: args.user,
    }
}

fn target(args: &tree::TargetArgs) -> configure::Target {
    match (&args.file, args.system, args.global) {
        (Some(file), _, _) => configure::Target::File(file.clone()),
        (None, true, _) => configure::Target::System,
        (None, false, true) => configure::Target::Global,
        (None, false, false) => configure::Target::Auto,
    }
}

fn configure_options(args: tree::ConfigureArgs) -> configure::Options {
    configure::Options {
        target: target(&args.target),
        rewrite_ssh: args.rewrite_ssh,
        dry_run: args.target.dry_run,
        docker: args.docker.then_some(docker::Options {
            registries: args.registries,
        }),
    }
}

fn unconfigure_options(args: tree::UnconfigureArgs) -> configure::Options {
    configure::Options {
        target: target(&args.target),
        rewrite_ssh: args.rewrite_ssh,
        dry_run: args.target.dry_run,
        docker: None,
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

/// Every token source a command line names, found leniently — the word after each
/// `--token-env` and `--token-file`, or after its `=`, wherever it stands, whatever else is
/// wrong with the line — so that a usage error, written before parsing succeeded, is scrubbed
/// of those tokens too (see [`usage`]).
pub fn token_sources(args: &[OsString]) -> Vec<TokenSource> {
    let mut sources = Vec::new();
    for (i, arg) in args.iter().enumerate().skip(1) {
        let bytes = arg.as_bytes();
        for option in ["--token-env", "--token-file"] {
            let value = match bytes.strip_prefix(option.as_bytes()) {
                Some(b"") => args.get(i + 1).map(|next| next.as_bytes()),
                Some(rest) => rest.strip_prefix(b"="),
                None => None,
            };
            let Some(value) = value else { continue };
            let source = match option {
                "--token-file" => TokenSource::File(PathBuf::from(OsStr::from_bytes(value))),
                _ => match std::str::from_utf8(value) {
                    Ok(name) => TokenSource::Env(name.to_string()),
                    // Not a name the program could read a variable by.
                    Err(_) => continue,
                },
            };
            sources.push(source);
        }
    }
    sources
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
            // clap's first paragraph, on one line (a list of missing arguments follows its
            // colon on lines of their own); the usage and tips after it are left out.
            let rendered = error.render().to_string();
            let first = rendered.split("\n\n").next().unwrap_or_default();
            let first = first.lines().map(str::trim).collect::<Vec<_>>().join(" ");
            let first = first.strip_prefix("error: ").unwrap_or(&first);
            let message = match first.is_empty() {
                true => "invalid arguments",
                false => first,
            };
            let separator = if message.ends_with('?') { " " } else { "; " };
            diagnostics.error(&format_args!(
                "{message}{separator}see git-credential-gitlab-ci --help"
            ));
            Outcome::Usage
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use git_credential_gitlab_ci::policy::DEFAULT_USERNAME;

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
            &["goauth"],
            &["goauth", "https://gitlab.example.com/x?go-get=1"],
            &["--server", "a.example", "goauth"],
            &["goauth", "--server", "a.example", "https://a.example/"],
            &["goauth", "https://a.example/", "--token-env", "T"],
            &["goauth", "https://a.example/", "extra"],
            &["goauth", ""],
            &["goauth", "--", "https://a.example/"],
            &["goauth", "--help"],
            &["keyring", "get", "https://a.example/", "gitlab-ci-token"],
            &[
                "keyring",
                "--mode=creds",
                "--output=json",
                "get",
                "https://a.example/",
            ],
            &["keyring", "diagnose"],
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
        // Go runs goauth before every HTTPS fetch: the small command answers it, URL or not.
        for words in [
            &["goauth"][..],
            &["--server", "a.example", "goauth"],
            &["goauth", "https://a.example/x"],
        ] {
            assert!(
                matches!(quick(&args(words), false), Some(Invocation::Goauth(..))),
                "{words:?}"
            );
        }
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
    fn the_keyring_name_reads_keyrings_command_line() {
        let args = |words: &[&str]| -> Vec<OsString> {
            std::iter::once("/opt/gitlab-ci/keyring-bin/keyring")
                .chain(words.iter().copied())
                .map(OsString::from)
                .collect()
        };
        let request =
            |mode, format, operation, service: Option<&str>, user: Option<&str>| keyring::Request {
                mode,
                format,
                operation,
                service: service.map(OsString::from),
                user: user.map(OsString::from),
            };
        use keyring::{Format, Mode, Operation};
        let index = "https://gitlab.example.com/simple/";
        let cases: &[(&[&str], keyring::Request)] = &[
            (
                &["get", index, "gitlab-ci-token"],
                request(
                    Mode::Password,
                    Format::Plain,
                    Operation::Get,
                    Some(index),
                    Some("gitlab-ci-token"),
                ),
            ),
            (
                &["--mode=creds", "--output=json", "get", index, "u"],
                request(
                    Mode::Creds,
                    Format::Json,
                    Operation::Get,
                    Some(index),
                    Some("u"),
                ),
            ),
            (
                &["--mode", "creds", "get", index],
                request(
                    Mode::Creds,
                    Format::Plain,
                    Operation::Get,
                    Some(index),
                    None,
                ),
            ),
            (
                &["set", index, "u"],
                request(
                    Mode::Password,
                    Format::Plain,
                    Operation::Set,
                    Some(index),
                    Some("u"),
                ),
            ),
            (
                &["del"],
                request(Mode::Password, Format::Plain, Operation::Del, None, None),
            ),
        ];
        for (words, expected) in cases {
            match parse(&args(words)) {
                Ok(Invocation::Keyring(options, got)) => {
                    assert_eq!(options, HelperOptions::default(), "{words:?}");
                    assert_eq!(&got, expected, "{words:?}");
                }
                other => panic!("{words:?}: {other:?}"),
            }
        }
        let with_server = parse(&args(&["--server", "h.example", "get", index, "u"]));
        assert!(
            matches!(&with_server, Ok(Invocation::Keyring(o, _)) if o.servers == ["h.example"]),
            "{with_server:?}"
        );
        for words in [
            &["diagnose"][..],
            &["--mode=secret", "get", index],
            &["get", index, "u", "extra"],
            &["--mode=creds", "--mode=password", "get", index, "u"],
        ] {
            let error = parse(&args(words)).unwrap_err();
            assert_ne!(error.kind(), ErrorKind::DisplayHelp, "{words:?}");
        }
        // The verb is the same mode.
        let verb: Vec<OsString> = [helper_value::BINARY_NAME, "keyring", "get", index, "u"]
            .map(OsString::from)
            .to_vec();
        assert!(matches!(parse(&verb), Ok(Invocation::Keyring(..))));
    }

    #[test]
    fn verbs_help_and_errors_go_to_the_full_tree() {
        for words in [
            &["configure", "--global"][..],
            &["doctor"],
            &["docker", "get"],
            &["keyring", "get", "https://a.example/", "u"],
            &["goauth", "--help"],
            &["goauth", "a", "b"],
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
    fn token_options_are_found_leniently_for_scrubbing() {
        let found = token_sources(&args(&[
            "--bogus",
            "--token-env",
            "MY_TOKEN",
            "--token-file=/run/a",
            "get",
            "extra",
            "--token-file",
            "/run/b",
            "--token-env=OTHER",
            "--token-file",
        ]));
        assert_eq!(
            found,
            [
                TokenSource::Env("MY_TOKEN".into()),
                TokenSource::File("/run/a".into()),
                TokenSource::File("/run/b".into()),
                TokenSource::Env("OTHER".into()),
            ]
        );
        assert!(token_sources(&args(&["--token-envy", "X", "get"])).is_empty());
    }

    #[test]
    fn the_verbs_the_small_command_leaves_alone_are_the_trees() {
        let tree: Vec<String> = command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|name| !["get", "store", "erase"].contains(&name.as_str()))
            .collect();
        assert_eq!(tree, VERBS);
    }

    #[test]
    fn an_unknown_word_is_ignored_only_as_the_single_last_argument() {
        let ignored = Ok(Invocation::Helper(
            HelperOptions::default(),
            helper::Operation::Other,
        ));
        assert_eq!(parse(&args(&["frobnicate"])).map_err(|e| e.kind()), ignored);
        assert_eq!(parse(&args(&["capability"])).map_err(|e| e.kind()), ignored);
        for (words, hint) in [
            (&["confgure", "--global"][..], "did you mean configure?"),
            (&["doctr", "https://x/y.git"], "did you mean doctor?"),
            (&["docter", "x"], "did you mean docker or doctor?"),
            (
                &["frobnicate", "--server", "x"],
                "the operations and verbs are get, ",
            ),
            (&["docker", "lsit", "x"], "did you mean list?"),
        ] {
            let error = parse(&args(words)).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidSubcommand, "{words:?}");
            assert!(error.to_string().contains(hint), "{words:?}: {error}");
        }
    }

    #[test]
    fn each_verb_takes_only_its_options() {
        for words in [
            &["unconfigure", "--docker"][..],
            &["unconfigure", "--registry", "r.example"],
            &["doctor", "--rewrite-ssh"],
            &["doctor", "--dry-run"],
            &["doctor", "--global"],
            &["docker", "--server", "x", "get"],
            &["--username", "gitlab-ci-token", "docker", "get"],
            &["get", "--dry-run"],
            &["store", "--global"],
            &["configure", "--registry", "r.example"],
        ] {
            assert!(parse(&args(words)).is_err(), "{words:?} accepted");
        }
        for words in [
            &["unconfigure", "--global", "--rewrite-ssh", "--dry-run"][..],
            &[
                "unconfigure",
                "--file",
                "f",
                "--server",
                "s",
                "--token-file",
                "t",
            ],
            &[
                "configure",
                "--global",
                "--docker",
                "--registry",
                "r",
                "--rewrite-ssh",
            ],
            &[
                "doctor",
                "--server",
                "s",
                "--token-env",
                "T",
                "--timeout",
                "5",
            ],
            &["docker", "--registry", "r", "--token-file", "t", "get"],
        ] {
            assert!(parse(&args(words)).is_ok(), "{words:?} refused");
        }
    }

    #[test]
    fn doctor_timeout_is_bounded() {
        for value in [
            "0",
            "3601",
            "18446744073709551615",
            "-1",
            "+5",
            " 5",
            "1e3",
            "",
        ] {
            let error = parse(&args(&["doctor", "--timeout", value])).unwrap_err();
            assert_ne!(error.kind(), ErrorKind::DisplayHelp, "{value:?}");
        }
        for (value, seconds) in [("1", 1), ("3600", tree::MAX_TIMEOUT_SECONDS)] {
            let Ok(Invocation::Doctor(options, _)) = parse(&args(&["doctor", "--timeout", value]))
            else {
                panic!("--timeout {value} refused");
            };
            assert_eq!(options.timeout, Duration::from_secs(seconds));
        }
        let help = command()
            .find_subcommand_mut("doctor")
            .unwrap()
            .render_help();
        let limit = format!("1 to {}", tree::MAX_TIMEOUT_SECONDS);
        assert!(
            help.to_string().contains(&limit),
            "doctor --help states {limit}"
        );
    }

    #[test]
    fn the_command_tree_is_valid() {
        command().debug_assert();
        docker_command().debug_assert();
        keyring_command().debug_assert();
        for verb in ["doctor", "goauth", "keyring"] {
            assert!(
                command().get_subcommands().any(|c| c.get_name() == verb),
                "{verb}"
            );
        }
    }
}
