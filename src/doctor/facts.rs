//! Gathering what the checks judge: git's configuration, our helper values and their options,
//! the token's availability, cargo's settings, the checkout's dependencies ([`checkout`]) and
//! the probes ([`probe`]). The only I/O of `doctor`; everything after it is pure.

pub mod checkout;
pub mod probe;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::configure::plan::helper_args;
use crate::env::Env;
use crate::git::Git;
use crate::gitconfig::{helper_chain, Entry, LIBGIT2_SYSTEM_FILE};
use crate::helper_value::{self, BINARY_NAME};
use crate::options::HelperOptions;
use crate::server::{self, Server, ServerError};
use crate::token::{self, TokenError, TokenSource};

use self::checkout::Checkout;
use self::probe::{Access, Probe, Target};
use super::{checks, plan, Context, Options};

/// The variable that names the system file doctor assumes cargo's libgit2 reads. libgit2 reads
/// `/etc/gitconfig` whatever `GIT_CONFIG_NOSYSTEM` and `GIT_CONFIG_SYSTEM` say, so tests point
/// this at a file of their own instead of depending on the machine's.
pub const LIBGIT2_SYSTEM_ENV: &str = "GIT_CREDENTIAL_GITLAB_CI_LIBGIT2_SYSTEM_CONFIG";

/// Everything the checks need, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// What doctor was asked.
    pub asked: Options,
    /// `git --version`; `None` when git cannot be run.
    pub git_version: Option<String>,
    /// Every entry git reads here (system, global, local, command line), in git's order.
    pub entries: Vec<Entry>,
    /// Our helper values among `credential.helper` and `credential.<url>.helper`.
    pub ours: Vec<OurHelper>,
    /// The server from `CI_SERVER_*`, or why it cannot be used.
    pub env_server: Result<Option<Server>, ServerError>,
    /// doctor's own `--server`, `--username` and token options.
    pub options: HelperOptions,
    /// The token source the configured helper uses ([`token_source`]), and whether the token
    /// loads from it (never the token itself).
    pub token_source: TokenSource,
    pub token: Result<(), TokenError>,
    /// The environment as text, for the variables the checks look at (cargo's, the SSH host,
    /// `CI_PROJECT_PATH`, `GOAUTH`).
    pub vars: BTreeMap<String, String>,
    /// The cargo configuration files that apply here, with their text.
    pub cargo_configs: Vec<(PathBuf, String)>,
    /// The files libgit2 reads, most important first ([`libgit2_files`]), with their entries.
    pub libgit2: Vec<(PathBuf, Vec<Entry>)>,
    /// This executable, for fixes that name it.
    pub exe: String,
    /// The checkout's dependencies, when the plan is wanted: `doctor --deps`, or `doctor`
    /// without a PROBE_URL inside a work tree.
    pub checkout: Option<Checkout>,
    /// Every probe run: PROBE_URL's and the dependencies'. None when the token does not load.
    pub probes: Vec<Probe>,
}

/// One of our helper values in git's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurHelper {
    /// Where it is set ([`Entry::place`]).
    pub place: String,
    pub value: String,
    /// Its options as the binary reads them; `None` when git's run of it is a usage error.
    pub options: Option<HelperOptions>,
    /// For a program given by absolute path: whether it exists and is executable.
    pub runnable: Option<bool>,
}

pub fn gather(ctx: &Context, options: &Options) -> Facts {
    let env = ctx.env;
    let git = Git::new(env);
    let entries = git.list_all().unwrap_or_default();
    let ours = our_helpers(&entries, ctx.read_helper_options);
    let token_source = token_source(ctx.options, &ours);
    let token = token::load(&token_source, env).map(|_| ());
    let text = |name: &str| env.non_empty(name).map(PathBuf::from);
    let home = text("HOME");
    let cargo_home = text("CARGO_HOME").or_else(|| home.as_ref().map(|h| h.join(".cargo")));
    let repo = git_path(&git, "--absolute-git-dir");
    let system = text(LIBGIT2_SYSTEM_ENV).unwrap_or_else(|| PathBuf::from(LIBGIT2_SYSTEM_FILE));
    let libgit2 = libgit2_files(
        home.as_deref(),
        text("XDG_CONFIG_HOME").as_deref(),
        repo.as_deref(),
        &system,
    )
    .into_iter()
    .map(|file| {
        let entries = git.list_file(&file).unwrap_or_default();
        (file, entries)
    })
    .collect();
    // Without a current directory git would run in whatever directory this process is in.
    let top = env.cwd().and_then(|_| git_path(&git, "--show-toplevel"));
    let root = match (&top, options.deps) {
        (Some(top), _) if options.probe_url.is_none() => Some(top.clone()),
        (None, true) => env.cwd().map(Path::to_path_buf),
        _ => None,
    };
    let checkout = root.map(|root| {
        let branch = top.as_ref().and_then(|_| checkout::current_branch(&git));
        let origin = checkout::origin_url(&entries, branch.as_deref());
        checkout::read(
            &git,
            &root,
            origin.as_deref(),
            ctx.diagnostics,
            checkout::BOUNDS,
        )
    });
    let mut facts = Facts {
        asked: options.clone(),
        git_version: git.version(),
        ours,
        env_server: server::from_env(env),
        options: ctx.options.clone(),
        token_source,
        token,
        vars: env.vars().map(|(k, v)| (lossy(k), lossy(v))).collect(),
        cargo_configs: cargo_config_texts(env.cwd(), cargo_home.as_deref()),
        libgit2,
        exe: exe(env),
        checkout,
        probes: Vec::new(),
        entries,
    };
    if facts.token.is_ok() {
        let targets = targets(&facts, env);
        facts.probes = probe::run_all(&targets, options.timeout, env, ctx.diagnostics);
    }
    facts
}

/// What to probe: PROBE_URL (for reading, and for pushing with `--push`), and every dependency
/// the plan fetches through one of our servers; each through the helper git runs for its server.
fn targets(facts: &Facts, env: &Env) -> Vec<Target> {
    let servers: Vec<Server> = checks::servers::known(facts)
        .0
        .into_iter()
        .map(|k| k.server)
        .collect();
    let cwd = env.cwd().unwrap_or(Path::new("/"));
    let fallback = helper_value::compose(&facts.exe, &helper_args(&facts.options, cwd));
    let helper = |url: &str| {
        let server = servers.iter().find(|s| plan::is_for(url, s));
        server
            .and_then(|s| {
                helper_chain(&facts.entries, s)
                    .into_iter()
                    .rev()
                    .find_map(|e| e.value.clone().filter(|v| helper_value::is_ours(v)))
            })
            .unwrap_or_else(|| fallback.clone())
    };
    let mut wanted: Vec<(String, Access)> = Vec::new();
    if let Some(url) = &facts.asked.probe_url {
        let url = plan::probe_form(url);
        wanted.push((url.clone(), Access::Read));
        if facts.asked.push {
            wanted.push((url, Access::Push));
        }
    }
    wanted.extend(
        plan::probe_urls(facts, &servers)
            .into_iter()
            .map(|u| (u, Access::Read)),
    );
    let mut targets: Vec<Target> = Vec::new();
    for (url, access) in wanted {
        if !targets.iter().any(|t| t.url == url && t.access == access) {
            targets.push(Target {
                helper: helper(&url),
                url,
                access,
            });
        }
    }
    targets
}

/// This executable's path as a helper value names it; the binary's name when the system does
/// not say (git then finds it on PATH).
fn exe(env: &Env) -> String {
    env.exe()
        .ok()
        .and_then(Path::to_str)
        .map_or_else(|| BINARY_NAME.to_string(), str::to_string)
}

/// Our helper values, each with the options the binary would read from it.
pub fn our_helpers(
    entries: &[Entry],
    read_options: &dyn Fn(&[String]) -> Option<HelperOptions>,
) -> Vec<OurHelper> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |program: &Path| {
        std::fs::metadata(program).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    entries
        .iter()
        .filter(|e| matches!(e.parts(), ("credential", _, "helper")))
        .filter_map(|entry| {
            let value = entry.value.as_deref()?;
            let args = helper_value::our_args(value)?;
            let program = helper_value::program(value).filter(|p| p.is_absolute());
            Some(OurHelper {
                place: entry.place(),
                value: value.to_string(),
                options: read_options(&args),
                runnable: program.map(|p| runnable(&p)),
            })
        })
        .collect()
}

/// The token source the configured helper uses: doctor's own options when they differ from
/// the defaults, else those of the last helper value of ours, else the defaults.
pub fn token_source(options: &HelperOptions, ours: &[OurHelper]) -> TokenSource {
    if options.token != TokenSource::default() {
        return options.token.clone();
    }
    ours.iter()
        .rev()
        .find_map(|o| o.options.as_ref())
        .map_or_else(TokenSource::default, |o| o.token.clone())
}

/// The files libgit2 reads, most important first: the repository's, `$HOME/.gitconfig`,
/// `$XDG_CONFIG_HOME/git/config`, the system file (`/etc/gitconfig`, or [`LIBGIT2_SYSTEM_ENV`]).
pub fn libgit2_files(
    home: Option<&Path>,
    xdg: Option<&Path>,
    repo: Option<&Path>,
    system: &Path,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    files.extend(repo.map(|r| r.join("config")));
    if let Some(home) = home {
        files.push(home.join(".gitconfig"));
    }
    match (xdg, home) {
        (Some(xdg), _) => files.push(xdg.join("git/config")),
        (None, Some(home)) => files.push(home.join(".config/git/config")),
        _ => {}
    }
    files.push(system.to_path_buf());
    files
}

/// `git rev-parse <what>` in the current directory; `None` outside a repository.
fn git_path(git: &Git, what: &str) -> Option<PathBuf> {
    let out = git
        .run(&[OsStr::new("rev-parse"), OsStr::new(what)], &[128])
        .ok()??;
    Some(PathBuf::from(String::from_utf8_lossy(&out).trim()))
}
/// The cargo configuration files that apply here: `.cargo/config.toml` (and `config`) in this
/// directory and every parent, and in `CARGO_HOME`.
fn cargo_config_texts(cwd: Option<&Path>, cargo_home: Option<&Path>) -> Vec<(PathBuf, String)> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(cwd) = cwd {
        dirs.extend(cwd.ancestors().map(|d| d.join(".cargo")));
    }
    if let Some(home) = cargo_home {
        if !dirs.iter().any(|d| d == home) {
            dirs.push(home.to_path_buf());
        }
    }
    let mut out = Vec::new();
    for dir in dirs {
        for name in ["config.toml", "config"] {
            let file = dir.join(name);
            if let Ok(text) = std::fs::read_to_string(&file) {
                out.push((file, text));
            }
        }
    }
    out
}

fn lossy(text: &OsStr) -> String {
    text.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value: &str) -> Entry {
        let mut entry = Entry::new(key, Some(value));
        entry.origin = "file:/h/.gitconfig".into();
        entry
    }

    /// Hands back the words it was given as the servers, so the test sees exactly what the
    /// binary's parser would be asked to read; refuses `--bogus` as that parser would.
    fn echo(words: &[String]) -> Option<HelperOptions> {
        (!words.iter().any(|w| w == "--bogus")).then(|| HelperOptions {
            servers: words.to_vec(),
            ..HelperOptions::default()
        })
    }

    #[test]
    fn our_helpers_are_found_only_in_helper_keys_with_the_words_after_the_program() {
        let entries = [
            entry("credential.helper", "store"),
            entry("credential.helper", "/nonexistent/git-credential-gitlab-ci"),
            entry(
                "credential.https://a.example.helper",
                "!'git-credential-gitlab-ci' --token-env 'MY TOKEN'",
            ),
            entry("credential.helper", "/bin/git-credential-gitlab-ci --bogus"),
            entry("alias.x", "/bin/git-credential-gitlab-ci"),
        ];
        let ours = our_helpers(&entries, &echo);
        type Found<'a> = (&'a str, Option<Vec<String>>, Option<bool>);
        let found: Vec<Found> = ours
            .iter()
            .map(|o| {
                (
                    o.value.as_str(),
                    o.options.clone().map(|o| o.servers),
                    o.runnable,
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "/nonexistent/git-credential-gitlab-ci",
                    Some(vec![]),
                    Some(false)
                ),
                (
                    "!'git-credential-gitlab-ci' --token-env 'MY TOKEN'",
                    Some(vec!["--token-env".into(), "MY TOKEN".into()]),
                    None
                ),
                ("/bin/git-credential-gitlab-ci --bogus", None, Some(false)),
            ]
        );
        assert_eq!(ours[0].place, "/h/.gitconfig");
    }

    #[test]
    fn the_token_source_is_doctors_own_else_the_last_readable_configured_one() {
        let ours = |tokens: &[Option<&str>]| -> Vec<OurHelper> {
            tokens
                .iter()
                .map(|token| OurHelper {
                    place: "/h/.gitconfig".into(),
                    value: "git-credential-gitlab-ci".into(),
                    options: token.map(|name| HelperOptions {
                        token: TokenSource::Env(name.into()),
                        ..HelperOptions::default()
                    }),
                    runnable: None,
                })
                .collect()
        };
        let defaults = HelperOptions::default();
        let env = |name: &str| TokenSource::Env(name.into());
        assert_eq!(
            token_source(&defaults, &ours(&[Some("FIRST"), Some("LAST")])),
            env("LAST")
        );
        assert_eq!(
            token_source(&defaults, &ours(&[Some("FIRST"), None])),
            env("FIRST")
        );
        assert_eq!(token_source(&defaults, &[]), TokenSource::default());
        let own = HelperOptions {
            token: TokenSource::File("/run/t".into()),
            ..HelperOptions::default()
        };
        assert_eq!(token_source(&own, &ours(&[Some("LAST")])), own.token);
    }

    #[test]
    fn libgit2_reads_the_repository_home_xdg_and_system_files() {
        let system = Path::new(LIBGIT2_SYSTEM_FILE);
        let files = libgit2_files(
            Some(Path::new("/h")),
            None,
            Some(Path::new("/r/.git")),
            system,
        );
        assert_eq!(
            files,
            [
                PathBuf::from("/r/.git/config"),
                "/h/.gitconfig".into(),
                "/h/.config/git/config".into(),
                "/etc/gitconfig".into(),
            ]
        );
        let files = libgit2_files(Some(Path::new("/h")), Some(Path::new("/x")), None, system);
        assert_eq!(files[1], PathBuf::from("/x/git/config"));
        let files = libgit2_files(None, None, None, Path::new("/t/system"));
        assert_eq!(files, [PathBuf::from("/t/system")]);
    }
}
