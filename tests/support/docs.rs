//! Reading the repository's documentation, so that a test can pin what it says to the code: a
//! number to the constant it restates, a table row to the test that proves it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A file of this repository, by its path from the repository root.
pub fn path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The text of a file of this repository.
pub fn read(relative: &str) -> String {
    std::fs::read_to_string(path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// `text` with every run of white space (line breaks included) folded into one space, so that
/// a phrase is found however the paragraph is wrapped.
pub fn folded(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Panics unless `doc` says `phrase` (white space folded).
#[track_caller]
pub fn assert_says(doc: &str, phrase: &str) {
    assert!(
        folded(&read(doc)).contains(&folded(phrase)),
        "{doc} no longer says {phrase:?}: update it, or the code it describes"
    );
}

/// The part of a Markdown text under the heading `heading` (e.g. `## Matching rules`), up to
/// the next heading of the same or a higher level.
pub fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let level = heading.chars().take_while(|&c| c == '#').count();
    let start = text
        .lines()
        .position(|l| l.trim_end() == heading)
        .unwrap_or_else(|| panic!("no heading {heading:?}"));
    let lines: Vec<&str> = text.lines().collect();
    let end = (start + 1..lines.len())
        .find(|&i| {
            let hashes = lines[i].chars().take_while(|&c| c == '#').count();
            (1..=level).contains(&hashes) && lines[i][hashes..].starts_with(' ')
        })
        .unwrap_or(lines.len());
    let offset = |i: usize| -> usize { lines[..i].iter().map(|l| l.len() + 1).sum() };
    &text[offset(start)..offset(end).min(text.len())]
}

/// The rows of every Markdown table in `text` (header and separator rows left out), as cells.
pub fn table_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines().map(str::trim) {
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect();
        let separator = cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
        if separator {
            continue;
        }
        if in_table {
            rows.push(cells);
        }
        in_table = true; // the first row of a table is its header
    }
    rows
}

/// The spans written between single backticks in `text`.
pub fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}
