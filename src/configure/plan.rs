//! The plan, computed purely: which servers (with their rewrite bases), which `insteadOf`
//! rewrites, which helper options go into the value, and the `git config` changes that take one
//! file's entries to configured or unconfigured.

use std::ffi::OsString;
use std::path::Path;

use crate::env::Env;
use crate::gitconfig::Entry;
use crate::helper_value;
use crate::options::HelperOptions;
use crate::policy::DEFAULT_USERNAME;
use crate::server::{self, Origin, Server, ServerError};
use crate::token::{TokenSource, DEFAULT_TOKEN_ENV};

use super::Action;

/// A server and the https base URL its SSH-style URLs are rewritten to (with the instance's
/// relative root, e.g. `https://example.com/gitlab/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBase {
    pub server: Server,
    pub base: String,
}

/// One `url.<base>.insteadOf = <value>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub base: String,
    pub value: String,
}

/// One `git config --file` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `--fixed-value --unset-all key value`: every entry of `key` with exactly `value`.
    Unset { key: String, value: String },
    /// `--add key value`.
    Add { key: String, value: String },
}

impl Change {
    pub fn git_args(&self, file: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["config".into(), "--file".into(), file.into()];
        match self {
            Change::Unset { key, value } => {
                args.extend(["--fixed-value".into(), "--unset-all".into()]);
                args.extend([key.into(), value.into()]);
            }
            Change::Add { key, value } => {
                args.push("--add".into());
                args.extend([key.into(), value.into()]);
            }
        }
        args
    }

    /// The command as a user would type it.
    pub fn shell(&self, file: &Path) -> String {
        let words: Vec<String> = self
            .git_args(file)
            .iter()
            .map(|a| helper_value::quote(&a.to_string_lossy()))
            .collect();
        format!("git {}", words.join(" "))
    }
}

/// The servers from the environment and `--server`, each with its rewrite base.
pub fn servers(env: &Env, options: &[String]) -> Result<Vec<ServerBase>, ServerError> {
    let mut servers: Vec<ServerBase> = Vec::new();
    let mut push = |server: Server, raw: Option<&str>| {
        if servers.iter().any(|t| t.server.same_origin(&server)) {
            return;
        }
        let path = raw.map(server::relative_root).unwrap_or_default();
        let base = format!("{server}{path}/");
        servers.push(ServerBase { server, base });
    };
    if let Some(server) = server::from_env(env)? {
        let raw = match server.origin {
            Origin::ServerUrl => env.non_empty("CI_SERVER_URL").and_then(|v| v.to_str()),
            _ => None,
        };
        push(server, raw);
    }
    for value in options {
        push(Server::parse(value, Origin::Option)?, Some(value));
    }
    Ok(servers)
}

/// The `insteadOf` rewrites for `--rewrite-ssh`: `git@<ssh host>:` and
/// `ssh://git@<ssh host>[:port]/` to each server's https base. The SSH host and port of the
/// environment (`CI_SERVER_SHELL_SSH_HOST`/`_PORT`) belong to the first server (the job's own
/// when `CI_SERVER_URL` is set); other servers use their own host and port 22. A value already
/// taken by an earlier server is not repeated (git would not know which to apply).
pub fn rewrites(
    targets: &[ServerBase],
    ssh_host: Option<&str>,
    ssh_port: Option<&str>,
) -> Vec<Rewrite> {
    let mut out: Vec<Rewrite> = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let (host, port) = match i {
            0 => (
                ssh_host.unwrap_or(&target.server.host).to_ascii_lowercase(),
                ssh_port.filter(|p| *p != "22"),
            ),
            _ => (target.server.host.clone(), None),
        };
        let ssh = match port {
            Some(port) => format!("ssh://git@{host}:{port}/"),
            None => format!("ssh://git@{host}/"),
        };
        for value in [format!("git@{host}:"), ssh] {
            if !out.iter().any(|r| r.value == value) {
                out.push(Rewrite {
                    base: target.base.clone(),
                    value,
                });
            }
        }
    }
    out
}

/// The changes that make `entries` (one file) configured (`Action::Configure`) or free of our
/// configuration (`Action::Unconfigure`). Pure.
///
/// Removed first: every `credential.helper` value that is ours; in every `credential.<url>`
/// section holding our helper, our helper and the empty reset; the rewrites in `rewrites` that
/// are present. Then, to configure: the helper as the last `credential.helper`, for each server
/// an empty reset followed by the helper, and the rewrites.
pub fn plan(
    action: Action,
    entries: &[Entry],
    helper: &str,
    targets: &[ServerBase],
    rewrites: &[Rewrite],
) -> Vec<Change> {
    let mut changes: Vec<Change> = Vec::new();
    let unset = |changes: &mut Vec<Change>, key: &str, value: &str| {
        let change = Change::Unset {
            key: key.into(),
            value: value.into(),
        };
        if !changes.contains(&change) {
            changes.push(change);
        }
    };
    let ours = |e: &Entry| e.value.as_deref().is_some_and(helper_value::is_ours);
    let scoped_with_ours: Vec<&str> = entries
        .iter()
        .filter(|e| ours(e))
        .filter_map(|e| match e.parts() {
            ("credential", Some(url), "helper") => Some(url),
            _ => None,
        })
        .collect();
    for entry in entries {
        let value = entry.value.as_deref().unwrap_or_default();
        match entry.parts() {
            ("credential", None, "helper") if ours(entry) => unset(&mut changes, &entry.key, value),
            ("credential", Some(url), "helper")
                if entry.value.is_some()
                    && scoped_with_ours.contains(&url)
                    && (ours(entry) || value.is_empty()) =>
            {
                unset(&mut changes, &entry.key, value)
            }
            ("url", Some(base), "insteadof")
                if rewrites.iter().any(|r| r.base == base && r.value == value) =>
            {
                unset(&mut changes, &entry.key, value)
            }
            _ => {}
        }
    }
    if action == Action::Configure {
        // Entries the removals leave in place: a `credential.<url>` section that still holds
        // one of them stays where it is in the file — possibly before a later
        // `credential.helper = store` — so the reset goes into a fresh, equivalent section
        // (`<url>/`, which git matches the same way) that git appends at the end.
        let kept: Vec<&Entry> = entries
            .iter()
            .filter(|e| {
                !changes.iter().any(|c| {
                    matches!(c, Change::Unset { key, value }
                        if *key == e.key && Some(value.as_str()) == e.value.as_deref())
                })
            })
            .collect();
        let occupied = |url: &str| {
            kept.iter()
                .any(|e| matches!(e.parts(), ("credential", Some(u), _) if u == url))
        };
        let mut add = |key: String, value: &str| {
            changes.push(Change::Add {
                key,
                value: value.into(),
            })
        };
        add("credential.helper".into(), helper);
        for target in targets {
            let plain = target.server.to_string();
            let slashed = format!("{plain}/");
            let url = match occupied(&plain) && !occupied(&slashed) {
                true => slashed,
                false => plain,
            };
            let key = format!("credential.{url}.helper");
            add(key.clone(), "");
            add(key, helper);
        }
        for rewrite in rewrites {
            add(format!("url.{}.insteadOf", rewrite.base), &rewrite.value);
        }
    }
    changes
}

/// The options written into the helper value: those that differ from the defaults.
pub fn helper_args(options: &HelperOptions, cwd: &Path) -> Vec<String> {
    let mut args = Vec::new();
    for server in &options.servers {
        args.extend(["--server".to_string(), server.clone()]);
    }
    if options.username != DEFAULT_USERNAME {
        args.extend(["--username".to_string(), options.username.clone()]);
    }
    match &options.token {
        TokenSource::File(path) => {
            let path = cwd.join(path);
            args.extend([
                "--token-file".to_string(),
                path.to_string_lossy().into_owned(),
            ]);
        }
        TokenSource::Env(name) if name != DEFAULT_TOKEN_ENV => {
            args.extend(["--token-env".to_string(), name.clone()]);
        }
        TokenSource::Env(_) => {}
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitconfig::helper_chain;

    const HELPER: &str = "/usr/local/bin/git-credential-gitlab-ci";

    fn gitlab() -> Vec<ServerBase> {
        let env = Env::from_vars([("CI_SERVER_URL", "https://gitlab.example.com/gitlab")]);
        servers(&env, &["localhost:8443".into()]).unwrap()
    }

    fn e(key: &str, value: &str) -> Entry {
        Entry::new(key, Some(value))
    }

    #[test]
    fn targets_keep_the_relative_root_for_rewrites_only() {
        let t = gitlab();
        assert_eq!(t[0].server.to_string(), "https://gitlab.example.com");
        assert_eq!(t[0].base, "https://gitlab.example.com/gitlab/");
        assert_eq!(t[1].server.to_string(), "https://localhost:8443");
        assert_eq!(t[1].base, "https://localhost:8443/");
    }

    #[test]
    fn rewrites_use_the_shell_ssh_host_and_port_for_the_first_server() {
        let t = gitlab();
        let values = |r: Vec<Rewrite>| -> Vec<(String, String)> {
            r.into_iter().map(|r| (r.base, r.value)).collect()
        };
        assert_eq!(
            values(rewrites(&t, Some("ssh.example.com"), Some("2222"))),
            [
                (
                    "https://gitlab.example.com/gitlab/".into(),
                    "git@ssh.example.com:".into()
                ),
                (
                    "https://gitlab.example.com/gitlab/".into(),
                    "ssh://git@ssh.example.com:2222/".into()
                ),
                ("https://localhost:8443/".into(), "git@localhost:".into()),
                (
                    "https://localhost:8443/".into(),
                    "ssh://git@localhost/".into()
                ),
            ]
        );
        let r = rewrites(&t[..1], None, Some("22"));
        assert_eq!(r[0].value, "git@gitlab.example.com:");
        assert_eq!(r[1].value, "ssh://git@gitlab.example.com/");
    }

    #[test]
    fn configure_plan_adds_helper_last_and_a_reset_per_server() {
        let t = gitlab();
        let changes = plan(
            Action::Configure,
            &[e("credential.helper", "store")],
            HELPER,
            &t,
            &[],
        );
        let add = |k: &str, v: &str| Change::Add {
            key: k.into(),
            value: v.into(),
        };
        assert_eq!(
            changes,
            [
                add("credential.helper", HELPER),
                add("credential.https://gitlab.example.com.helper", ""),
                add("credential.https://gitlab.example.com.helper", HELPER),
                add("credential.https://localhost:8443.helper", ""),
                add("credential.https://localhost:8443.helper", HELPER),
            ]
        );
    }

    #[test]
    fn plans_remove_earlier_values_of_our_helper_and_nothing_else() {
        let old = "/old/path/git-credential-gitlab-ci --server x.example";
        let entries = [
            e("credential.helper", "store"),
            e("credential.helper", old),
            e("credential.https://x.example.helper", ""),
            e("credential.https://x.example.helper", old),
            e("credential.https://y.example.helper", ""),
            e("credential.https://y.example.helper", "cache"),
            e("url.https://x.example/.insteadof", "git@x.example:"),
            e("url.https://x.example/.insteadof", "git@elsewhere:"),
        ];
        let rewrites = vec![Rewrite {
            base: "https://x.example/".into(),
            value: "git@x.example:".into(),
        }];
        let unset = |k: &str, v: &str| Change::Unset {
            key: k.into(),
            value: v.into(),
        };
        assert_eq!(
            plan(Action::Unconfigure, &entries, HELPER, &[], &rewrites),
            [
                unset("credential.helper", old),
                unset("credential.https://x.example.helper", ""),
                unset("credential.https://x.example.helper", old),
                unset("url.https://x.example/.insteadof", "git@x.example:"),
            ]
        );
        let configure = plan(Action::Configure, &entries, HELPER, &[], &rewrites);
        assert_eq!(configure.len(), 4 + 2);
        assert_eq!(
            configure[5],
            Change::Add {
                key: "url.https://x.example/.insteadOf".into(),
                value: "git@x.example:".into()
            }
        );
    }

    #[test]
    fn reset_goes_into_a_fresh_section_when_the_servers_section_holds_other_keys() {
        let t = &gitlab()[..1];
        let entries = [
            e(
                "credential.https://gitlab.example.com.username",
                "gitlab-ci-token",
            ),
            e("credential.helper", "store"),
        ];
        let changes = plan(Action::Configure, &entries, HELPER, t, &[]);
        assert_eq!(
            changes[1],
            Change::Add {
                key: "credential.https://gitlab.example.com/.helper".into(),
                value: "".into()
            }
        );
        // Configuring again finds its own section and keeps using it.
        let configured = [
            e(
                "credential.https://gitlab.example.com.username",
                "gitlab-ci-token",
            ),
            e("credential.helper", "store"),
            e("credential.helper", HELPER),
            e("credential.https://gitlab.example.com/.helper", ""),
            e("credential.https://gitlab.example.com/.helper", HELPER),
        ];
        let again = plan(Action::Configure, &configured, HELPER, t, &[]);
        assert_eq!(again.len(), 3 + 3, "{again:?}");
        assert_eq!(again[4], changes[1]);
        // and the helper chain for the server is ours alone.
        let chain = helper_chain(&configured, &t[0].server);
        assert_eq!(chain.len(), 1);
    }

    #[test]
    fn helper_args_carry_only_non_default_options() {
        let mut options = HelperOptions::default();
        assert!(helper_args(&options, Path::new("/w")).is_empty());
        options.servers = vec!["https://a.example".into()];
        options.token = TokenSource::Env("MY_TOKEN".into());
        assert_eq!(
            helper_args(&options, Path::new("/w")),
            ["--server", "https://a.example", "--token-env", "MY_TOKEN"]
        );
        options.token = TokenSource::File("secrets/t".into());
        assert_eq!(
            helper_args(&options, Path::new("/w"))[2..],
            ["--token-file", "/w/secrets/t"]
        );
    }

    #[test]
    fn dry_run_commands_are_shell_quoted() {
        let change = Change::Add {
            key: "credential.https://a.example.helper".into(),
            value: "".into(),
        };
        assert_eq!(
            change.shell(Path::new("/h/my config")),
            "git config --file '/h/my config' --add credential.https://a.example.helper ''"
        );
    }
}
