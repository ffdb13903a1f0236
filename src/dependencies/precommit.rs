//! `.pre-commit-config.yaml`: `repos: [{repo: URL, rev: …, hooks: …}]`; `local` and `meta`
//! are pre-commit's own and fetch nothing.
//!
//! Read as saphyr-parser events, not loaded into a document: only `repos[*].repo` and `.rev`
//! are looked at, everything else is skipped by depth, and aliases are never expanded (so a
//! "billion laughs" file costs its length, nothing more).

use saphyr_parser::{Event, Parser, ScanError};

use super::location::Location;
use super::Parsed;

pub(super) fn config(text: &str, parsed: &mut Parsed) -> Result<(), String> {
    let mut events = Events {
        parser: Parser::new_from_str(text),
    };
    loop {
        match events.next()? {
            Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => continue,
            Event::MappingStart(..) => break,
            Event::StreamEnd | Event::DocumentEnd => return Ok(()), // an empty file
            _ => return Err("the top level is not a mapping".into()),
        }
    }
    // The top-level mapping: key, value, key, value, … up to its end.
    loop {
        let key = match events.next()? {
            Event::MappingEnd => return Ok(()),
            Event::Scalar(key, ..) => Some(key),
            other => {
                events.skip(other)?;
                None
            }
        };
        let value = events.next()?;
        match (key.as_deref(), value) {
            (Some("repos"), Event::SequenceStart(..)) => repos(&mut events, parsed)?,
            (_, value) => events.skip(value)?,
        }
    }
}

/// The items of `repos`, up to the end of the sequence.
fn repos(events: &mut Events<'_>, parsed: &mut Parsed) -> Result<(), String> {
    loop {
        match events.next()? {
            Event::SequenceEnd => return Ok(()),
            Event::MappingStart(..) => {
                let (repo, rev) = repo_entry(events)?;
                if let Some(repo) = repo.filter(|r| r != "local" && r != "meta") {
                    let location = Location::of_git_url(&repo);
                    let name = repo_name(&repo);
                    parsed.push(&name, &repo, rev.as_deref(), location);
                }
            }
            other => events.skip(other)?,
        }
    }
}

/// `repo` and `rev` of one entry, up to the end of its mapping.
fn repo_entry(events: &mut Events<'_>) -> Result<(Option<String>, Option<String>), String> {
    let (mut repo, mut rev) = (None, None);
    loop {
        let key = match events.next()? {
            Event::MappingEnd => return Ok((repo, rev)),
            Event::Scalar(key, ..) => Some(key.into_owned()),
            other => {
                events.skip(other)?;
                None
            }
        };
        match (key.as_deref(), events.next()?) {
            (Some("repo"), Event::Scalar(value, ..)) => repo = Some(value.into_owned()),
            (Some("rev"), Event::Scalar(value, ..)) => rev = Some(value.into_owned()),
            (_, value) => events.skip(value)?,
        }
    }
}

/// The repository's last path element, as people call a hook repository.
fn repo_name(repo: &str) -> String {
    let path = repo.trim_end_matches('/');
    let last = path.rsplit(['/', ':']).next().unwrap_or(path);
    last.strip_suffix(".git").unwrap_or(last).to_string()
}

struct Events<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
}

impl<'a> Events<'a> {
    fn next(&mut self) -> Result<Event<'a>, String> {
        match self.parser.next_event() {
            Some(Ok((event, _))) => Ok(event),
            Some(Err(e)) => Err(scan_error(&e)),
            None => Err("unexpected end of the file".into()),
        }
    }

    /// Skips the node that `first` starts: a scalar or alias is whole; a collection runs to
    /// its matching end.
    fn skip(&mut self, first: Event<'a>) -> Result<(), String> {
        let mut depth: usize = match first {
            Event::SequenceStart(..) | Event::MappingStart(..) => 1,
            Event::StreamEnd => return Err("unexpected end of the file".into()),
            _ => return Ok(()),
        };
        while depth > 0 {
            match self.next()? {
                Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
                Event::SequenceEnd | Event::MappingEnd => depth -= 1,
                Event::StreamEnd => return Err("unexpected end of the file".into()),
                _ => {}
            }
        }
        Ok(())
    }
}

fn scan_error(e: &ScanError) -> String {
    let mark = e.marker();
    format!(
        "line {}, column {}: {}",
        mark.line(),
        mark.col() + 1,
        e.info()
    )
}
