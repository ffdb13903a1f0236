//! Whether cargo's git transports reach this helper: libgit2 (cargo's default) reads only
//! some files and runs only the last helper; some settings make cargo use a transport that
//! never calls credential helpers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::gitconfig::Entry;
use crate::helper_value;
use crate::server::Server;

use super::super::report::Check;

/// Does cargo fetch with the git CLI (`CARGO_NET_GIT_FETCH_WITH_CLI`, or
/// `net.git-fetch-with-cli` in a cargo config)? Then git's helper chain applies, not libgit2's.
pub fn fetch_with_cli(vars: &BTreeMap<String, String>, configs: &[(PathBuf, String)]) -> bool {
    vars.get("CARGO_NET_GIT_FETCH_WITH_CLI")
        .is_some_and(|v| v == "true")
        || configs.iter().any(|(_, t)| fetch_with_cli_in_config(t))
}

/// Does git's configuration set `http.proxy`?
pub fn git_http_proxy(entries: &[Entry]) -> bool {
    entries
        .iter()
        .any(|e| e.key == "http.proxy" && e.value.as_deref().is_some_and(|v| !v.is_empty()))
}

/// What cargo's libgit2 runs for a server: the last value of `credential.<scheme>://<host>.helper`
/// (no port), else of `credential.helper`, from the most important file that has the key.
pub fn libgit2(files: &[(PathBuf, Vec<Entry>)], server: &Server) -> Check {
    let scoped = format!(
        "credential.{}://{}.helper",
        server.scheme.as_str(),
        server.host
    );
    let find = |key: &str| {
        files.iter().find_map(|(file, entries)| {
            entries
                .iter()
                .rev()
                .find(|e| e.key == key)
                .map(|e| (file, e.value.clone().unwrap_or_default()))
        })
    };
    let found = find(&scoped).or_else(|| find("credential.helper"));
    let read: Vec<String> = files.iter().map(|(f, _)| f.display().to_string()).collect();
    match found {
        Some((file, value)) if helper_value::is_ours(&value) => Check::ok(
            "cargo",
            format!(
                "cargo's libgit2 runs this helper for {server} (from {})",
                file.display()
            ),
        ),
        Some((file, value)) => Check::problem(
            "cargo",
            format!(
                "cargo's libgit2 uses only the last credential.helper and would run {} (from {}) for {server}, not this helper",
                if value.is_empty() { "nothing".to_string() } else { helper_value::short_name(&value) },
                file.display()
            ),
            "git-credential-gitlab-ci configure --global (it writes $HOME/.gitconfig, which libgit2 reads, with this helper last), or export CARGO_NET_GIT_FETCH_WITH_CLI=true",
        ),
        None => Check::problem(
            "cargo",
            format!(
                "cargo's libgit2 finds no credential.helper in the files it reads ({}); it ignores GIT_CONFIG_GLOBAL and GIT_CONFIG_COUNT",
                read.join(", ")
            ),
            "git-credential-gitlab-ci configure --global (it also writes $HOME/.gitconfig), or export CARGO_NET_GIT_FETCH_WITH_CLI=true",
        ),
    }
}

/// Why cargo would use a transport that never calls credential helpers: `CARGO_HTTP_*`,
/// `HTTP_TIMEOUT`, proxy variables, git's `http.proxy`, an `[http]` table in a cargo config.
pub fn cargo_transport_traps(
    vars: &BTreeMap<String, String>,
    git_http_proxy: bool,
    cargo_configs: &[(PathBuf, String)],
) -> Vec<String> {
    let mut traps = Vec::new();
    for (name, value) in vars {
        if value.is_empty() {
            continue;
        }
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("CARGO_HTTP_") || upper == "HTTP_TIMEOUT" {
            traps.push(format!("the variable {name}"));
        } else if ["HTTP_PROXY", "HTTPS_PROXY"].contains(&upper.as_str()) {
            traps.push(format!("the proxy variable {name}"));
        }
    }
    if git_http_proxy {
        traps.push("git's http.proxy setting".into());
    }
    for (file, text) in cargo_configs {
        if has_http_table(text) {
            traps.push(format!("the [http] table in {}", file.display()));
        }
    }
    traps
}

/// Does a cargo config (TOML) set anything under `http`? A line-based look is enough here.
pub fn has_http_table(text: &str) -> bool {
    text.lines().map(str::trim).any(|line| {
        line == "[http]"
            || line.starts_with("[http.")
            || line.starts_with("http.")
            || line.replace(' ', "").starts_with("http={")
    })
}

/// Does a cargo config turn on `net.git-fetch-with-cli`?
pub fn fetch_with_cli_in_config(text: &str) -> bool {
    text.lines().map(str::trim).any(|line| {
        let line = line.replace(' ', "");
        (line.starts_with("git-fetch-with-cli=") || line.starts_with("net.git-fetch-with-cli="))
            && line.contains("=true")
    })
}

pub fn transport(traps: &[String], fetch_with_cli: bool) -> Check {
    match (traps.is_empty(), fetch_with_cli) {
        (_, true) => Check::ok(
            "cargo",
            "cargo fetches with the git CLI (net.git-fetch-with-cli), which runs git's helper chain",
        ),
        (true, false) => Check::ok(
            "cargo",
            "no CARGO_HTTP_*, HTTP_TIMEOUT, proxy or [http] setting turns off cargo's credential helper support",
        ),
        (false, false) => Check::problem(
            "cargo",
            format!(
                "{} makes cargo fetch git dependencies with a transport that never calls credential helpers; private dependencies fail with 401",
                traps.join(", ")
            ),
            "export CARGO_NET_GIT_FETCH_WITH_CLI=true (cargo then runs git, which uses the helper), or remove those settings",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::report::Status;
    use super::*;
    use crate::doctor::fixtures::{entry, server, OURS};

    #[test]
    fn libgit2_uses_the_last_value_of_the_most_important_file() {
        let s = server("https://localhost:8443");
        let home = PathBuf::from("/h/.gitconfig");
        let system = PathBuf::from("/etc/gitconfig");
        let files = vec![
            (
                home.clone(),
                vec![entry("credential.helper", OURS, "/h/.gitconfig")],
            ),
            (
                system.clone(),
                vec![entry("credential.helper", "store", "/etc/gitconfig")],
            ),
        ];
        assert_eq!(libgit2(&files, &s).status, Status::Ok);
        let files = vec![
            (
                home.clone(),
                vec![
                    entry("credential.helper", OURS, "/h/.gitconfig"),
                    entry("credential.helper", "store", "/h/.gitconfig"),
                ],
            ),
            (system.clone(), vec![]),
        ];
        assert_eq!(libgit2(&files, &s).status, Status::Problem);
        let files = vec![(home, vec![]), (system, vec![])];
        let check = libgit2(&files, &s);
        assert!(check.text.contains("GIT_CONFIG_GLOBAL"), "{}", check.text);
    }

    #[test]
    fn cargo_http_settings_proxies_and_http_tables_are_traps() {
        let vars: BTreeMap<String, String> = [
            ("CARGO_HTTP_CAINFO", "/ca.pem"),
            ("https_proxy", "http://proxy:3128"),
            ("HTTP_TIMEOUT", "30"),
            ("CARGO_HOME", "/c"),
            ("NO_PROXY", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let configs = vec![
            (
                PathBuf::from("/c/config.toml"),
                "[http]\ntimeout = 30\n".into(),
            ),
            (
                PathBuf::from("/w/.cargo/config.toml"),
                "[net]\nretry = 2\n".into(),
            ),
        ];
        let traps = cargo_transport_traps(&vars, true, &configs);
        assert_eq!(traps.len(), 5, "{traps:?}");
        assert!(traps
            .iter()
            .any(|t| t.contains("[http] table in /c/config.toml")));
        assert_eq!(transport(&traps, false).status, Status::Problem);
        assert!(transport(&traps, false)
            .fix
            .unwrap()
            .contains("CARGO_NET_GIT_FETCH_WITH_CLI=true"));
        assert_eq!(transport(&traps, true).status, Status::Ok);
        assert_eq!(transport(&[], false).status, Status::Ok);
        assert!(has_http_table("http.timeout = 3"));
        assert!(has_http_table("http = { timeout = 3 }"));
        assert!(!has_http_table("[https-things]\n# [http]"));
        assert!(fetch_with_cli_in_config("[net]\ngit-fetch-with-cli = true"));
    }
}
