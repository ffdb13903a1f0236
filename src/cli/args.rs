//! The helper's options, defined once. The small command of the protocol path and the full tree
//! both take their arguments from here, so the two can never accept different things; in the
//! full tree they are global, so that git's `<options> get` and a user's `configure --server X`
//! both work.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{value_parser, Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use git_credential_gitlab_ci::options::HelperOptions;
use git_credential_gitlab_ci::policy::DEFAULT_USERNAME;
use git_credential_gitlab_ci::token::{TokenSource, DEFAULT_TOKEN_ENV};

const SERVERS: &str = "servers";
const USERNAME: &str = "username";
const TOKEN_ENV: &str = "token_env";
const TOKEN_FILE: &str = "token_file";
const REGISTRIES: &str = "registries";

/// `--server` and `--username`.
pub fn server_args() -> [Arg; 2] {
    [
        Arg::new(SERVERS)
            .long("server")
            .value_name("URL")
            .action(ArgAction::Append)
            .help(
                "A GitLab server to answer for, e.g. https://gitlab.example.com:8443 or \
                 http://gitlab.internal (plain http only when written so); a bare host[:port] \
                 means https. Repeatable",
            ),
        Arg::new(USERNAME)
            .long("username")
            .value_name("NAME")
            .default_value(DEFAULT_USERNAME)
            .help("The user name to answer with; requests naming another user are left alone"),
    ]
}

/// `--token-env` and `--token-file`: where the token comes from, for the git and docker modes.
pub fn token_args() -> [Arg; 2] {
    [
        Arg::new(TOKEN_ENV)
            .long("token-env")
            .value_name("VAR")
            .default_value(DEFAULT_TOKEN_ENV)
            .help("The environment variable that holds the token"),
        Arg::new(TOKEN_FILE)
            .long("token-file")
            .value_name("PATH")
            .value_parser(value_parser!(PathBuf))
            .conflicts_with(TOKEN_ENV)
            .help(
                "Read the token from this file instead (e.g. a BuildKit secret at \
                 /run/secrets/ci_job_token); one trailing newline is stripped",
            ),
    ]
}

/// `--registry`, for the docker mode.
pub fn registry_arg() -> Arg {
    Arg::new(REGISTRIES)
        .long("registry")
        .value_name("HOST[:PORT]")
        .action(ArgAction::Append)
        .help(
            "A registry to answer for besides CI_REGISTRY and CI_DEPENDENCY_PROXY_SERVER, as \
             host[:port] (https only). Repeatable",
        )
}

/// Was the option with this long name (`--server`, `--username`, `--token-env`,
/// `--token-file`, `--registry`) given on the command line (not a default)?
pub fn given(matches: &ArgMatches, long: &str) -> bool {
    let id = match long {
        "--server" => SERVERS,
        "--username" => USERNAME,
        "--token-env" => TOKEN_ENV,
        "--token-file" => TOKEN_FILE,
        "--registry" => REGISTRIES,
        _ => return false,
    };
    matches!(
        matches
            .try_get_raw(id)
            .ok()
            .flatten()
            .map(|_| matches.value_source(id)),
        Some(Some(ValueSource::CommandLine))
    )
}

/// The options as the library takes them.
pub fn helper_options(matches: &ArgMatches) -> HelperOptions {
    HelperOptions {
        servers: strings(matches, SERVERS),
        username: matches
            .get_one::<String>(USERNAME)
            .cloned()
            .unwrap_or_else(|| DEFAULT_USERNAME.into()),
        token: token_source(matches),
    }
}

pub fn token_source(matches: &ArgMatches) -> TokenSource {
    match matches.get_one::<PathBuf>(TOKEN_FILE) {
        Some(path) => TokenSource::File(path.clone()),
        None => match matches.get_one::<String>(TOKEN_ENV) {
            Some(name) => TokenSource::Env(name.clone()),
            None => TokenSource::default(),
        },
    }
}

pub fn registries(matches: &ArgMatches) -> Vec<String> {
    strings(matches, REGISTRIES)
}

fn strings(matches: &ArgMatches, id: &str) -> Vec<String> {
    matches
        .get_many::<String>(id)
        .map(|values| values.cloned().collect())
        .unwrap_or_default()
}

/// The small command for a grammar of `args` and one word (`OPERATION`): no subcommands, no
/// global arguments, no help or version flags — whatever it does not accept goes to the full
/// tree, which explains it.
pub fn one_word_command(name: &'static str, args: impl IntoIterator<Item = Arg>) -> Command {
    Command::new(name)
        .args(args)
        .arg(Arg::new(OPERATION).value_parser(value_parser!(OsString)))
        .disable_help_flag(true)
        .disable_version_flag(true)
}

/// [`one_word_command`] with an optional word after the operation: the URL Go adds to
/// `goauth` after a 4xx. Every other operation takes no such word (see `cli::quick`).
pub fn with_url(command: Command) -> Command {
    command.arg(Arg::new(URL).value_parser(value_parser!(OsString)))
}

/// The word after the operation, of [`with_url`]; `None` also for a command without it.
pub fn url(matches: &ArgMatches) -> Option<&OsString> {
    matches.try_get_one::<OsString>(URL).ok().flatten()
}

const URL: &str = "url";

/// The operation word of [`one_word_command`].
pub fn operation(matches: &ArgMatches) -> Option<&OsString> {
    matches.get_one::<OsString>(OPERATION)
}

/// Does nothing follow the operation word?
pub fn operation_is_last(matches: &ArgMatches) -> bool {
    let Some(word) = matches.index_of(OPERATION) else {
        return false;
    };
    matches
        .ids()
        .filter(|id| id.as_str() != OPERATION)
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .filter_map(|id| matches.indices_of(id.as_str()))
        .flatten()
        .all(|index| index < word)
}

const OPERATION: &str = "operation";

/// A group of arguments that the full tree takes as global (`#[command(flatten)]` of
/// [`Global`]), so that they may stand before or after the verb.
pub trait Group: Sized {
    fn args() -> Vec<Arg>;
    fn read(matches: &ArgMatches) -> Self;
}

impl Group for HelperOptions {
    fn args() -> Vec<Arg> {
        server_args().into_iter().chain(token_args()).collect()
    }

    fn read(matches: &ArgMatches) -> Self {
        helper_options(matches)
    }
}

impl Group for TokenSource {
    fn args() -> Vec<Arg> {
        token_args().into()
    }

    fn read(matches: &ArgMatches) -> Self {
        token_source(matches)
    }
}

/// The `--registry` values.
#[derive(Debug, Clone)]
pub struct Registries(pub Vec<String>);

impl Group for Registries {
    fn args() -> Vec<Arg> {
        vec![registry_arg()]
    }

    fn read(matches: &ArgMatches) -> Self {
        Registries(registries(matches))
    }
}

/// A [`Group`] in the full tree.
#[derive(Debug, Clone)]
pub struct Global<T>(pub T);

impl<T: Group> Args for Global<T> {
    fn augment_args(command: Command) -> Command {
        command.args(T::args().into_iter().map(|arg| arg.global(true)))
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

impl<T: Group> FromArgMatches for Global<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Global(T::read(matches)))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0 = T::read(matches);
        Ok(())
    }
}
