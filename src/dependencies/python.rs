//! Python: `requirements*.txt` (read by hand, as pip reads it), `pyproject.toml` (PEP 621
//! `project.dependencies` and `optional-dependencies`, PEP 735 `dependency-groups`, Poetry's
//! `{ git = "…" }` in `tool.poetry` dependencies and groups, `tool.uv.sources`), `poetry.lock`
//! (`[package.source] type = "git"`) and `uv.lock` (`source = { git = "…" }`).

use toml::de::{DeTable, DeValue};

use super::cargo::split_lock_url;
use super::location::{Location, WebUrl};
use super::{get, toml_error, Parsed};

/// requirements.txt, as pip's `req_file.py` reads it: a `\` at the end of a line joins the
/// next; `#` starts a comment at the line's start or after a blank (so `#egg=` in a URL is
/// kept); `-r`/`-c` name other files; `-e` takes a URL; other options are not about
/// repositories. Requirements are PEP 508 `name @ URL` or a bare VCS URL with `#egg=name`.
pub(super) fn requirements(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    for (number, line) in logical_lines(text) {
        let line = strip_comment(&line);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(target) = option_value(line, &["-r", "--requirement", "-c", "--constraint"]) {
            match target {
                Some(t) => parsed.includes.push(t.to_string()),
                None => parsed
                    .problems
                    .push(format!("line {number}: -r/-c without a file")),
            }
            continue;
        }
        let requirement = match option_value(line, &["-e", "--editable"]) {
            Some(Some(url)) => url,
            Some(None) => {
                parsed
                    .problems
                    .push(format!("line {number}: -e without a URL or path"));
                continue;
            }
            None if line.starts_with('-') => continue, // --index-url, --hash, -f, …
            None => line,
        };
        requirement_line(requirement, parsed);
    }
    Ok(())
}

/// Physical lines joined at a trailing `\`, each with the number of its first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let (start, mut joined) = current.take().unwrap_or((index + 1, String::new()));
        match line.strip_suffix('\\') {
            Some(head) => {
                joined.push_str(head);
                current = Some((start, joined));
            }
            None => {
                joined.push_str(line);
                out.push((start, joined));
            }
        }
    }
    out.extend(current);
    out
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return &line[..i];
        }
    }
    line
}

/// `Some(value)` when `line` is one of `names` (`-r x`, `-rx`, `--requirement=x`,
/// `--requirement x`); `Some(None)` when it is one without a value; `None` otherwise.
fn option_value<'a>(line: &'a str, names: &[&str]) -> Option<Option<&'a str>> {
    for name in names {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let value = if let Some(v) = rest.strip_prefix('=') {
            v
        } else if rest.starts_with(char::is_whitespace)
            || rest.is_empty()
            || !name.starts_with("--")
        {
            rest // `-r file`, `-rfile`
        } else {
            continue; // --requirements-something
        };
        let value = value.split_whitespace().next();
        return Some(value);
    }
    None
}

/// One requirement line (after options): the requirement is its first word, or `name @ URL`.
fn requirement_line(text: &str, parsed: &mut Parsed) {
    // Options may follow a requirement: `pkg @ URL --hash=…`.
    let text = match text.find(" --") {
        Some(i) => &text[..i],
        None => text,
    };
    if let Some((name, url)) = direct_reference(text) {
        push_url(parsed, name, url);
        return;
    }
    let url = text.split_whitespace().next().unwrap_or_default();
    if url.contains("://") || url.starts_with("git+") {
        let name = egg(url).unwrap_or_else(|| last_segment(url));
        push_url(parsed, &name, url);
    }
}

/// PEP 508 `name [extras] @ URL [; marker]`: the name, and the URL up to a blank.
fn direct_reference(text: &str) -> Option<(&str, &str)> {
    let (head, rest) = text.split_once('@')?;
    let name = head.split('[').next().unwrap_or(head).trim();
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !is_name || head.contains("://") {
        return None;
    }
    let url = rest.split_whitespace().next()?;
    Some((name, url.trim_end_matches(';')))
}

/// `#egg=name` in a URL's fragment.
fn egg(url: &str) -> Option<String> {
    let (_, fragment) = url.split_once('#')?;
    fragment
        .split('&')
        .find_map(|p| p.strip_prefix("egg="))
        .map(str::to_string)
}

fn last_segment(url: &str) -> String {
    let path = url.split(['#', '?']).next().unwrap_or(url);
    let path = path.trim_end_matches('/');
    let last = path.rsplit(['/', ':']).next().unwrap_or(path);
    let last = last.split('@').next().unwrap_or(last);
    last.strip_suffix(".git").unwrap_or(last).to_string()
}

fn push_url(parsed: &mut Parsed, name: &str, url: &str) {
    let (location, reference) = pip_url(url);
    parsed.push(name, url, reference.as_deref(), location);
}

/// A pip URL: `git+https://host/x.git@ref#egg=…`, `git+ssh://…`, scp-like `git+git@host:x`,
/// another VCS (`hg+…`), `file:`, or an archive to download.
pub(super) fn pip_url(url: &str) -> (Location, Option<String>) {
    let without_fragment = url.split('#').next().unwrap_or(url);
    let Some(vcs) = without_fragment.strip_prefix("git+") else {
        if let Some((scheme, _)) = without_fragment.split_once('+') {
            if ["hg", "svn", "bzr"].contains(&scheme) {
                return (Location::OtherScheme(scheme.into()), None);
            }
        }
        if without_fragment.starts_with("file:") {
            return (Location::Local, None);
        }
        let location =
            WebUrl::parse(without_fragment).map_or(Location::NotAUrl, Location::Download);
        return (location, None);
    };
    // The revision is after the last `@` of the path (pip's `get_url_rev_and_auth`).
    let path_start = match vcs.find("://") {
        Some(i) => vcs[i + 3..].find('/').map_or(vcs.len(), |j| i + 3 + j),
        None => vcs.find(':').unwrap_or(vcs.len()), // scp-like: the path is after the `:`
    };
    let (repo, reference) = match vcs[path_start..].rfind('@') {
        Some(at) => (
            &vcs[..path_start + at],
            Some(vcs[path_start + at + 1..].to_string()),
        ),
        None => (vcs, None),
    };
    (Location::of_git_url(repo), reference)
}

pub(super) fn pyproject(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    let root = DeTable::parse(text).map_err(|e| toml_error(text, &e))?;
    let root = root.get_ref();
    if let Some(project) = get(root, "project").and_then(DeValue::as_table) {
        pep508_array(get(project, "dependencies"), parsed);
        if let Some(extras) = get(project, "optional-dependencies").and_then(DeValue::as_table) {
            for (_, list) in extras.iter() {
                pep508_array(Some(list.get_ref()), parsed);
            }
        }
    }
    if let Some(groups) = get(root, "dependency-groups").and_then(DeValue::as_table) {
        for (_, list) in groups.iter() {
            pep508_array(Some(list.get_ref()), parsed);
        }
    }
    let tool = get(root, "tool").and_then(DeValue::as_table);
    if let Some(poetry) = tool
        .and_then(|t| get(t, "poetry"))
        .and_then(DeValue::as_table)
    {
        source_table(get(poetry, "dependencies"), parsed);
        source_table(get(poetry, "dev-dependencies"), parsed);
        if let Some(groups) = get(poetry, "group").and_then(DeValue::as_table) {
            for (_, group) in groups.iter() {
                if let Some(group) = group.get_ref().as_table() {
                    source_table(get(group, "dependencies"), parsed);
                }
            }
        }
    }
    if let Some(uv) = tool.and_then(|t| get(t, "uv")).and_then(DeValue::as_table) {
        source_table(get(uv, "sources"), parsed);
    }
    Ok(())
}

fn pep508_array(list: Option<&DeValue<'_>>, parsed: &mut Parsed) {
    let Some(list) = list.and_then(DeValue::as_array) else {
        return;
    };
    for item in list.iter() {
        if let Some((name, url)) = item.get_ref().as_str().and_then(direct_reference) {
            push_url(parsed, name, url);
        }
    }
}

/// `name = { git = "…", branch | tag | rev = "…" }` or `{ url = "…" }`, or an array of such
/// tables (Poetry's multiple constraints, uv's per-marker sources).
fn source_table(table: Option<&DeValue<'_>>, parsed: &mut Parsed) {
    let Some(table) = table.and_then(DeValue::as_table) else {
        return;
    };
    for (name, spec) in table.iter() {
        let specs: Vec<&DeTable<'_>> = match spec.get_ref() {
            DeValue::Table(t) => vec![t],
            DeValue::Array(a) => a.iter().filter_map(|v| v.get_ref().as_table()).collect(),
            _ => continue,
        };
        for spec in specs {
            if let Some(git) = get(spec, "git").and_then(DeValue::as_str) {
                let reference = ["branch", "tag", "rev"].iter().find_map(|key| {
                    get(spec, key)
                        .and_then(DeValue::as_str)
                        .map(|value| format!("{key} {value}"))
                });
                let repo = git.strip_prefix("git+").unwrap_or(git);
                parsed.push(
                    name.get_ref(),
                    git,
                    reference.as_deref(),
                    Location::of_git_url(repo),
                );
            } else if let Some(url) = get(spec, "url").and_then(DeValue::as_str) {
                let location = WebUrl::parse(url).map_or(Location::NotAUrl, Location::Download);
                parsed.push(name.get_ref(), url, None, location);
            }
        }
    }
}

pub(super) fn poetry_lock(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    for (name, source) in lock_packages(text)? {
        let Some(source) = source.as_table() else {
            continue;
        };
        let kind = get(source, "type").and_then(DeValue::as_str);
        let Some(url) = get(source, "url").and_then(DeValue::as_str) else {
            continue;
        };
        let reference = get(source, "resolved_reference")
            .or_else(|| get(source, "reference"))
            .and_then(DeValue::as_str);
        match kind {
            Some("git") => parsed.push(&name, url, reference, Location::of_git_url(url)),
            Some("url") => {
                let location = WebUrl::parse(url).map_or(Location::NotAUrl, Location::Download);
                parsed.push(&name, url, None, location);
            }
            _ => {} // legacy (an index), file, directory
        }
    }
    Ok(())
}

pub(super) fn uv_lock(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    for (name, source) in lock_packages(text)? {
        let Some(source) = source.as_table() else {
            continue;
        };
        if let Some(git) = get(source, "git").and_then(DeValue::as_str) {
            let (url, reference) = split_lock_url(git);
            parsed.push(&name, git, reference.as_deref(), Location::of_git_url(url));
        } else if let Some(url) = get(source, "url").and_then(DeValue::as_str) {
            let location = WebUrl::parse(url).map_or(Location::NotAUrl, Location::Download);
            parsed.push(&name, url, None, location);
        }
    }
    Ok(())
}

/// `[[package]]` entries of a lock file: (name, source value).
fn lock_packages(text: &str) -> Result<Vec<(String, DeValue<'_>)>, String> {
    let root = DeTable::parse(text).map_err(|e| toml_error(text, &e))?;
    let mut out = Vec::new();
    let root = root.into_inner();
    let Some(packages) = get(&root, "package").and_then(DeValue::as_array) else {
        return Ok(out);
    };
    for package in packages.iter() {
        let Some(package) = package.get_ref().as_table() else {
            continue;
        };
        let name = get(package, "name")
            .and_then(DeValue::as_str)
            .unwrap_or("?");
        if let Some(source) = get(package, "source") {
            out.push((name.to_string(), source.clone()));
        }
    }
    Ok(out)
}
