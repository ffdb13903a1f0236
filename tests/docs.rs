//! The documentation cannot drift from the code. README.md and docs/ are read as text and checked
//! against the library's public constants and the binary's behaviour:
//!
//! - every number they state about the code is in [`claims`], written from the code: a changed
//!   value fails here until the sentence changes too, and a renamed constant is fixed in
//!   [`claims`] alone;
//! - the rule sections of docs/security.md hold no number that is not one of those claims;
//! - every test a document names exists, and every row of docs/usage.md's client table names
//!   the tests that show it (or says "not tested");
//! - nothing cites what lies outside the repository (issue numbers, branches, articles, notes
//!   kept elsewhere).
//!
//! Numbers about the tests themselves are pinned where they are defined: the property case counts
//! and allocation bounds in tests/properties.rs, the memory bound in tests/resources.rs.

mod support;

use std::path::Path;

use git_credential_gitlab_ci::docker::{MAX_CONFIG_BYTES, MAX_DISCARD_BYTES, MAX_GET_BYTES};
use git_credential_gitlab_ci::doctor::facts::checkout::BOUNDS;
use git_credential_gitlab_ci::doctor::facts::probe::MAX_PARALLEL;
use git_credential_gitlab_ci::protocol::{ProtocolError, MAX_LINE_BYTES, MAX_REQUEST_BYTES};
use git_credential_gitlab_ci::server::{Origin, Server};
use git_credential_gitlab_ci::token::MAX_TOKEN_BYTES;
use git_credential_gitlab_ci::urls::MAX_URL_BYTES;
use support::{docs, Run};

const SECURITY: &str = "docs/security.md";

/// Every document the checks read.
const DOCUMENTS: &[&str] = &[
    "README.md",
    "docs/usage.md",
    "docs/security.md",
    "docs/docker.md",
    "docs/troubleshooting.md",
    "docs/performance.md",
];

/// A sentence of a document that states a number the code defines.
struct Claim {
    doc: &'static str,
    says: String,
}

fn claim(doc: &'static str, says: impl Into<String>) -> Claim {
    Claim {
        doc,
        says: says.into(),
    }
}

/// `bytes` as the documents write sizes: `64 KiB`, `1 MiB`, else in bytes.
fn size(bytes: usize) -> String {
    match bytes {
        b if b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Every number the documents state about the code, written from the code (its public
/// constants, or what the binary does). Keep each sentence short enough to survive rewording
/// around it.
fn claims() -> Vec<Claim> {
    let port = |url: &str| Server::parse(url, Origin::Option).expect("a server").port;
    let line_too_long = |line| ProtocolError::LineTooLong { line }.to_string();
    vec![
        claim(
            SECURITY,
            format!(
                "at most {} per line and {} per request",
                size(MAX_LINE_BYTES),
                size(MAX_REQUEST_BYTES)
            ),
        ),
        // The line buffer holds one line and the CR LF that may end it.
        claim(
            SECURITY,
            format!(
                "the line buffer never exceeds {} + 2 bytes",
                size(MAX_LINE_BYTES)
            ),
        ),
        claim(
            SECURITY,
            format!(
                "at most {MAX_TOKEN_BYTES} bytes (what fits one {MAX_LINE_BYTES}-byte protocol \
                 line after `password=`)"
            ),
        ),
        claim(
            SECURITY,
            format!(
                "({} for https, {} for http)",
                port("https://h"),
                port("http://h")
            ),
        ),
        claim(
            SECURITY,
            format!(
                "a port is 1 to {} digits, no leading zero, 1 to {}",
                u16::MAX.to_string().len(),
                u16::MAX
            ),
        ),
        claim(SECURITY, "`idna_adapter` pinned to 1.0 in `Cargo.toml`"),
        claim(
            SECURITY,
            format!("exit status {}", malformed_request_exit_code()),
        ),
        claim(SECURITY, format!("refused: `{}`", line_too_long(3))),
        claim(SECURITY, format!("refused: `{}`", line_too_long(1))),
        claim(SECURITY, format!("refused: `{}`", ProtocolError::TooLong)),
        claim(
            SECURITY,
            format!("(reads {} + 1 byte)", size(MAX_GET_BYTES)),
        ),
        claim(
            SECURITY,
            format!("(reads and drops at most {})", size(MAX_DISCARD_BYTES)),
        ),
        claim(
            SECURITY,
            format!(
                "or longer than {}. The goauth and keyring",
                size(MAX_URL_BYTES)
            ),
        ),
        claim(
            "docs/docker.md",
            format!("requests are read bounded ({})", size(MAX_GET_BYTES)),
        ),
        claim(
            "docs/troubleshooting.md",
            format!("(`--timeout`, default {} s)", doctor_default_timeout()),
        ),
        claim(
            SECURITY,
            format!(
                "`doctor --timeout` takes 1 to {} seconds",
                doctor_longest_timeout()
            ),
        ),
        claim(
            "docs/troubleshooting.md",
            format!(
                "never more than {} files, {} or {} directories deep",
                BOUNDS.files,
                size(BOUNDS.bytes),
                BOUNDS.depth
            ),
        ),
        claim(
            "docs/troubleshooting.md",
            format!(
                "give a whole number of seconds from 1 to {}",
                doctor_longest_timeout()
            ),
        ),
        claim(
            "docs/troubleshooting.md",
            format!("is larger than {MAX_CONFIG_BYTES} bytes"),
        ),
        claim(
            "docs/troubleshooting.md",
            format!("`config.json` is read up to {}", size(MAX_CONFIG_BYTES)),
        ),
        claim(
            "docs/troubleshooting.md",
            format!("at most {MAX_PARALLEL} at once, all within `--timeout`"),
        ),
    ]
}

/// The longest `--timeout` that `doctor --help` states ("…, 1 to N").
fn doctor_longest_timeout() -> String {
    let help = Run::new(&["doctor", "--help"]).output().stdout_text();
    let after = &help[help
        .find("--timeout")
        .expect("doctor --help lists --timeout")..];
    let range = &after[after.find("1 to ").expect("--timeout states its range") + 5..];
    range.chars().take_while(char::is_ascii_digit).collect()
}

/// What `get` exits with for a malformed request.
fn malformed_request_exit_code() -> i32 {
    let out = Run::get(b"garbage\n")
        .env("CI_SERVER_URL", "https://gitlab.example.com")
        .env("CI_JOB_TOKEN", "glcbt-64_docs-test")
        .output();
    out.code.expect("an exit status")
}

/// The `[default: N]` that `doctor --help` shows for `--timeout`.
fn doctor_default_timeout() -> String {
    let help = Run::new(&["doctor", "--help"]).output().stdout_text();
    let after = &help[help
        .find("--timeout <SECONDS>")
        .expect("doctor --help lists --timeout")..];
    let default = &after[after.find("[default: ").expect("--timeout has a default") + 10..];
    default[..default.find(']').unwrap()].to_string()
}

#[test]
fn every_number_the_docs_state_about_the_code_is_the_codes() {
    for claim in claims() {
        docs::assert_says(claim.doc, &claim.says);
    }
    // Where the token bound comes from, as the sentence explains it.
    assert_eq!(MAX_TOKEN_BYTES, MAX_LINE_BYTES - "password=".len());
    let cargo = docs::read("Cargo.toml");
    assert!(
        cargo.contains("idna_adapter = \"=1.0.0\""),
        "Cargo.toml's idna pin"
    );
}

#[test]
fn the_rule_sections_of_security_md_state_no_number_the_code_does_not_pin() {
    let doc = docs::read(SECURITY);
    let tied: Vec<String> = claims()
        .iter()
        .filter(|c| c.doc == SECURITY)
        .map(|c| docs::folded(&c.says))
        .collect();
    for heading in ["## Matching rules", "## Parsing rules", "## Output rules"] {
        let mut text = docs::folded(docs::section(&doc, heading));
        for says in &tied {
            text = text.replace(says.as_str(), " ");
        }
        // Code spans are examples (`:0443`, `host=…:443`), and some names hold digits.
        let mut prose: String = text.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for name in ["UTF-8", "RFC 3986", "libgit2", "IPv6"] {
            prose = prose.replace(name, " ");
        }
        let untied: Vec<&str> = prose
            .split_whitespace()
            .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
            .filter(|w| !w.trim_start_matches(['(', '[']).starts_with("CVE-"))
            .collect();
        assert!(
            untied.is_empty(),
            "{SECURITY} {heading:?} states {untied:?}, which no test ties to the code: add it to \
             claims() in tests/docs.rs, or drop it"
        );
    }
}

#[test]
fn the_fuzzing_paragraph_states_what_fuzz_run_sh_does() {
    let script = docs::read("fuzz/run.sh");
    let value_after = |key: &str, nth: usize| -> usize {
        let rest = script
            .split(key)
            .nth(nth + 1)
            .unwrap_or_else(|| panic!("{key} in run.sh"));
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("a number after {key}"))
    };
    let runs = value_after("runs=${2:-", 0);
    let (max_len, docker_max_len) = (value_after("max_len=", 0), value_after("max_len=", 1));
    assert_eq!(runs % 1_000_000, 0, "{runs}");
    docs::assert_says(
        SECURITY,
        &format!("(all targets, {} million executions each", runs / 1_000_000),
    );
    docs::assert_says(
        SECURITY,
        &format!("Inputs are capped at {max_len} bytes ({docker_max_len} for Docker)"),
    );
    assert!(
        docker_max_len > MAX_GET_BYTES,
        "the docker target must reach past the request bound"
    );
}

/// Every function defined in a test file, by file stem.
fn test_functions() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(docs::path("tests")).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "rs") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            for rest in text.split("fn ").skip(1) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                found.push((stem.clone(), name));
            }
        }
    }
    found
}

/// The tests a text names: `file::test` spans for a file of tests/, and bare spans shaped like a
/// test name (lower-case words joined by at least three underscores).
fn named_tests(text: &str) -> Vec<(Option<String>, String)> {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    docs::code_spans(text)
        .into_iter()
        .filter_map(|span| match span.split_once("::") {
            Some((file, test))
                if is_name(file)
                    && is_name(test)
                    && docs::path(&format!("tests/{file}.rs")).is_file() =>
            {
                Some((Some(file.to_string()), test.to_string()))
            }
            None if is_name(span) && span.matches('_').count() >= 3 => {
                Some((None, span.to_string()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn every_test_the_docs_name_exists() {
    let functions = test_functions();
    let mut checked = 0;
    for doc in DOCUMENTS {
        for (file, test) in named_tests(&docs::read(doc)) {
            let exists = functions
                .iter()
                .any(|(f, t)| *t == test && file.as_ref().map_or(true, |file| f == file));
            let shown = match &file {
                Some(file) => format!("tests/{file}.rs: {test}"),
                None => test.clone(),
            };
            assert!(exists, "{doc} names the test {shown}, which does not exist");
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} test names found: is the check reading the docs?"
    );
}

#[test]
fn every_file_the_docs_name_exists() {
    for doc in DOCUMENTS {
        for span in docs::code_spans(&docs::read(doc)) {
            let shaped_like_ours = [
                "tests/",
                "src/",
                "docs/",
                "fuzz/",
                "bench/",
                "benches/",
                "examples/",
            ]
            .iter()
            .any(|dir| span.starts_with(dir));
            if shaped_like_ours && !span.contains(['*', ' ', '<']) {
                let path = span.trim_end_matches('/');
                assert!(
                    Path::new(&docs::path(path)).exists(),
                    "{doc} names {span}, which is not in the repository"
                );
            }
        }
    }
}

#[test]
fn every_client_row_of_usage_md_names_the_tests_that_show_it() {
    let doc = docs::read("docs/usage.md");
    let rows = docs::table_rows(&doc);
    let clients: Vec<&Vec<String>> = rows.iter().take_while(|row| row.len() == 4).collect();
    assert!(clients.len() >= 7, "the client table: {clients:?}");
    for row in clients {
        let (client, works, shown_by) = (&row[0], &row[1], &row[3]);
        let tests = named_tests(shown_by);
        if shown_by == "not tested" {
            assert!(
                works.starts_with("expected"),
                "docs/usage.md: {client} is not tested, so it may only be 'expected' to work"
            );
        } else {
            assert!(
                !tests.is_empty() && tests.iter().all(|(file, _)| file.is_some()),
                "docs/usage.md: the row for {client} names no file::test that shows it: {shown_by}"
            );
        }
    }
}

#[test]
fn the_docs_cite_nothing_outside_the_repository() {
    for doc in DOCUMENTS {
        let text = docs::folded(&docs::read(doc)).to_lowercase();
        for (i, _) in text.match_indices("issue") {
            let after = text[i + "issue".len()..].trim_start_matches([' ', '#']);
            assert!(
                !after.starts_with(|c: char| c.is_ascii_digit()),
                "{doc} cites an issue: {:?}",
                &text[i..(i + 20).min(text.len())]
            );
        }
        for outside in [
            "article",
            "branch `",
            "reference/",
            "shared/",
            "/work/",
            "pull request",
            "merge request",
            "once it lands",
        ] {
            assert!(!text.contains(outside), "{doc} cites {outside:?}");
        }
    }
}
