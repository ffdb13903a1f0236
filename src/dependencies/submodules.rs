//! `.gitmodules`, as `git config --file .gitmodules --list -z` lists it (git's own parser; see
//! [`crate::gitconfig`]).

use super::location::{is_relative, resolve_relative, Location, Unresolvable};
use super::Parsed;
use crate::gitconfig::Entry;

/// `.gitmodules` as the caller read it.
#[derive(Debug, Clone, Copy)]
pub struct Submodules<'a> {
    /// Where it is, relative to the checkout (`.gitmodules`).
    pub path: &'a str,
    /// `git config --file .gitmodules --list -z`, parsed by [`crate::gitconfig::parse_list`].
    pub entries: &'a [Entry],
    /// The superproject's remote URL as configured (`remote.origin.url`, or the remote of the
    /// current branch), which relative URLs resolve against. `None` when it has none.
    pub origin: Option<&'a str>,
}

/// One mention per `submodule.<name>.url`, with `submodule.<name>.branch` as its reference; the
/// last value of a key wins, as in git.
pub(super) fn parse(subs: &Submodules<'_>) -> Parsed {
    let mut modules: Vec<(&str, Option<&str>, Option<&str>)> = Vec::new();
    for entry in subs.entries {
        let ("submodule", Some(name), key) = entry.parts() else {
            continue;
        };
        let value = entry.value.as_deref();
        let index = match modules.iter().position(|(n, _, _)| *n == name) {
            Some(i) => i,
            None => {
                modules.push((name, None, None));
                modules.len() - 1
            }
        };
        match key {
            "url" => modules[index].1 = value,
            "branch" => modules[index].2 = value,
            _ => {}
        }
    }
    let mut parsed = Parsed::default();
    for (name, url, branch) in modules {
        let Some(url) = url else {
            parsed.problems.push(format!("submodule {name} has no url"));
            continue;
        };
        let location = if is_relative(url) {
            let resolved = subs
                .origin
                .ok_or(Unresolvable::NoOrigin)
                .and_then(|origin| resolve_relative(origin, url))
                .map(|absolute| Box::new(resolve_again(&absolute)));
            Location::Relative(resolved)
        } else {
            Location::of_git_url(url)
        };
        parsed.push(name, url, branch, location);
    }
    parsed
}

/// A resolved URL is read like any other; one that is still relative (the origin was a relative
/// path) is a local path.
fn resolve_again(absolute: &str) -> Location {
    if is_relative(absolute) {
        Location::Local
    } else {
        Location::of_git_url(absolute)
    }
}
