//! Cargo's git dependencies: `Cargo.toml` (`{ git = "…" }` in every dependency table, per
//! target, in `[workspace.dependencies]`, `[patch.*]` and the old `[replace]`) and `Cargo.lock`
//! (`source = "git+URL?branch=…#sha"`).

use toml::de::{DeTable, DeValue};

use super::location::Location;
use super::{get, toml_error, Parsed};

const DEPENDENCY_TABLES: [&str; 5] = [
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
];

pub(super) fn manifest(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    let root = DeTable::parse(text).map_err(|e| toml_error(text, &e))?;
    let root = root.get_ref();
    for name in DEPENDENCY_TABLES {
        dependency_table(get(root, name), parsed);
    }
    if let Some(targets) = get(root, "target").and_then(DeValue::as_table) {
        for (_, target) in targets.iter() {
            if let Some(target) = target.get_ref().as_table() {
                for name in DEPENDENCY_TABLES {
                    dependency_table(get(target, name), parsed);
                }
            }
        }
    }
    if let Some(workspace) = get(root, "workspace").and_then(DeValue::as_table) {
        dependency_table(get(workspace, "dependencies"), parsed);
    }
    if let Some(patches) = get(root, "patch").and_then(DeValue::as_table) {
        for (_, patch) in patches.iter() {
            dependency_table(Some(patch.get_ref()), parsed);
        }
    }
    dependency_table(get(root, "replace"), parsed);
    Ok(())
}

/// `name = { git = "…", branch | tag | rev = "…" }` entries of one table.
fn dependency_table(table: Option<&DeValue<'_>>, parsed: &mut Parsed) {
    let Some(table) = table.and_then(DeValue::as_table) else {
        return;
    };
    for (name, spec) in table.iter() {
        let Some(spec) = spec.get_ref().as_table() else {
            continue;
        };
        let Some(git) = get(spec, "git").and_then(DeValue::as_str) else {
            continue;
        };
        let reference = ["branch", "tag", "rev"].iter().find_map(|key| {
            get(spec, key)
                .and_then(DeValue::as_str)
                .map(|value| format!("{key} {value}"))
        });
        parsed.push(
            name.get_ref(),
            git,
            reference.as_deref(),
            Location::of_git_url(git),
        );
    }
}

pub(super) fn lock(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    let root = DeTable::parse(text).map_err(|e| toml_error(text, &e))?;
    let Some(packages) = get(root.get_ref(), "package").and_then(DeValue::as_array) else {
        return Ok(());
    };
    for package in packages.iter() {
        let Some(package) = package.get_ref().as_table() else {
            continue;
        };
        let Some(source) = get(package, "source").and_then(DeValue::as_str) else {
            continue;
        };
        let Some(git) = source.strip_prefix("git+") else {
            continue; // registry+…, sparse+…: a registry, not a repository
        };
        let name = get(package, "name")
            .and_then(DeValue::as_str)
            .unwrap_or("?");
        let (url, reference) = split_lock_url(git);
        parsed.push(
            name,
            source,
            reference.as_deref(),
            Location::of_git_url(url),
        );
    }
    Ok(())
}

/// `URL?branch=main#sha` → (`URL`, `branch main, sha`), as cargo and uv write git sources.
pub(super) fn split_lock_url(text: &str) -> (&str, Option<String>) {
    let (rest, commit) = match text.split_once('#') {
        Some((r, c)) => (r, Some(c)),
        None => (text, None),
    };
    let (url, query) = match rest.split_once('?') {
        Some((u, q)) => (u, Some(q.replacen('=', " ", 1))),
        None => (rest, None),
    };
    let reference = match (query, commit) {
        (Some(q), Some(c)) => Some(format!("{q}, {c}")),
        (Some(q), None) => Some(q),
        (None, Some(c)) => Some(c.to_string()),
        (None, None) => None,
    };
    (url, reference)
}
