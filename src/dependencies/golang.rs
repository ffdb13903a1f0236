//! `go.mod`: `require` and `replace`, single lines and `( … )` blocks.
//!
//! Read by hand: the only full parser is Go's own (golang.org/x/mod/modfile). The grammar is
//! small — one directive per line, `//` comments, tokens separated by blanks, optionally
//! quoted with `"…"` or `` `…` ``, and a block opened by a directive whose line ends in `(` and
//! closed by a line `)`. A line that does not fit is reported and the rest is still read.

use super::location::Location;
use super::Parsed;

struct Require {
    path: String,
    version: String,
    line: String,
}

struct Replace {
    old: String,
    old_version: Option<String>,
    new: String,
    new_version: Option<String>,
    line: String,
}

pub(super) fn go_mod(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    let mut requires: Vec<Require> = Vec::new();
    let mut replaces: Vec<Replace> = Vec::new();
    let mut block: Option<(String, usize)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let tokens = match tokens(raw) {
            Ok(t) => t,
            Err(e) => {
                parsed.problems.push(format!("line {number}: {e}"));
                continue;
            }
        };
        if tokens.is_empty() {
            continue;
        }
        let (verb, args) = match &block {
            Some(_) if tokens == [")"] => {
                block = None;
                continue;
            }
            Some((verb, _)) => (verb.clone(), &tokens[..]),
            None if tokens.len() == 2 && tokens[1] == "(" => {
                block = Some((tokens[0].clone(), number));
                continue;
            }
            None if tokens.len() == 3 && tokens[1] == "(" && tokens[2] == ")" => continue,
            None => (tokens[0].clone(), &tokens[1..]),
        };
        let line = args.join(" ");
        match verb.as_str() {
            "require" => match args {
                [path, version] => requires.push(Require {
                    path: path.clone(),
                    version: version.clone(),
                    line,
                }),
                _ => parsed.problems.push(format!(
                    "line {number}: require needs a module path and a version"
                )),
            },
            "replace" => match replace(args, line) {
                Some(r) => replaces.push(r),
                None => parsed.problems.push(format!(
                    "line {number}: replace needs `old [version] => new [version]`"
                )),
            },
            _ => {}
        }
    }
    if let Some((verb, opened)) = block {
        parsed
            .problems
            .push(format!("line {opened}: the {verb} block is never closed"));
    }
    let mut used = vec![false; replaces.len()];
    for require in &requires {
        // Go applies a version-specific replacement before a general one.
        let chosen = replaces
            .iter()
            .position(|r| r.old == require.path && r.old_version.as_ref() == Some(&require.version))
            .or_else(|| {
                replaces
                    .iter()
                    .position(|r| r.old == require.path && r.old_version.is_none())
            });
        match chosen {
            Some(i) => {
                used[i] = true;
                let r = &replaces[i];
                let written = format!("{} => {}", require.line, r.line);
                parsed.push(
                    &require.path,
                    &written,
                    Some(&require.version),
                    replacement(r),
                );
            }
            None => parsed.push(
                &require.path,
                &require.line,
                Some(&require.version),
                module(&require.path, Some(&require.version)),
            ),
        }
    }
    // A replacement no require names may still be used by a dependency's own go.mod.
    for (r, used) in replaces.iter().zip(used) {
        if !used {
            parsed.push(&r.old, &r.line, r.old_version.as_deref(), replacement(r));
        }
    }
    Ok(())
}

fn replace(args: &[String], line: String) -> Option<Replace> {
    let arrow = args.iter().position(|a| a == "=>")?;
    let (old, new) = (&args[..arrow], &args[arrow + 1..]);
    let (old, old_version) = match old {
        [path] => (path.clone(), None),
        [path, version] => (path.clone(), Some(version.clone())),
        _ => return None,
    };
    let (new, new_version) = match new {
        [path] => (path.clone(), None),
        [path, version] => (path.clone(), Some(version.clone())),
        _ => return None,
    };
    Some(Replace {
        old,
        old_version,
        new,
        new_version,
        line,
    })
}

/// A replacement is a directory when it starts like a path (modfile's `IsDirectoryPath`).
fn replacement(r: &Replace) -> Location {
    let local = r.new.starts_with("./")
        || r.new.starts_with("../")
        || r.new.starts_with('/')
        || r.new == "."
        || r.new == "..";
    if local {
        Location::Local
    } else {
        module(&r.new, r.new_version.as_deref())
    }
}

fn module(path: &str, version: Option<&str>) -> Location {
    // A module path is slash-separated, starts with a domain-like element, no blanks.
    let first = path.split('/').next().unwrap_or_default();
    let plausible = !first.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~/+".contains(c));
    if !plausible {
        return Location::NotAUrl;
    }
    Location::GoModule {
        path: path.to_string(),
        version: version.map(crate::printable::one_line),
    }
}

/// The tokens of one line, `//` comments dropped, quotes removed.
fn tokens(line: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if line[i..].starts_with("//") {
            break;
        }
        match c {
            '(' | ')' => {
                chars.next();
                out.push(c.to_string());
            }
            '"' => {
                chars.next();
                let mut token = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, e)) => token.push(e),
                            None => return Err("unterminated quoted string"),
                        },
                        Some((_, c)) => token.push(c),
                        None => return Err("unterminated quoted string"),
                    }
                }
                out.push(token);
            }
            '`' => {
                chars.next();
                let mut token = String::new();
                loop {
                    match chars.next() {
                        Some((_, '`')) => break,
                        Some((_, c)) => token.push(c),
                        None => return Err("unterminated raw string"),
                    }
                }
                out.push(token);
            }
            _ => {
                let mut token = String::new();
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() || "()".contains(c) || line[j..].starts_with("//") {
                        break;
                    }
                    token.push(c);
                    chars.next();
                }
                out.push(token);
            }
        }
    }
    Ok(out)
}
