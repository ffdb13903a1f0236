//! Text that came from outside — a checkout's files, git's stderr, a server's answer — made safe
//! to show: one printable line, no user information in any URL.
//!
//! A manifest or a remote's message can hold terminal escape sequences, line breaks that forge
//! a "healthy" line, or a URL with a token in it. Reports print such text only through here.

/// At most this many characters of an outside text are shown; the rest is cut with `…`.
pub const MAX_SHOWN: usize = 300;

/// `text` on one printable line: control characters, line and paragraph separators and the
/// invisible formatting characters that reorder or hide text (bidi controls, zero-width) are
/// written as `\n`, `\t`, `\u{…}`; a backslash is doubled so an escape cannot be forged. Cut at
/// [`MAX_SHOWN`] characters.
pub fn one_line(text: &str) -> String {
    bounded(text, MAX_SHOWN)
}

/// [`one_line`], cut at `max` characters (then ending in `…`).
pub fn bounded(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 8);
    for (shown, c) in text.chars().enumerate() {
        if shown == max {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// `text` with its control and invisible characters escaped as [`one_line`] does, nothing cut
/// and backslashes left alone: the last pass over each whole line of a report. Its parts from
/// outside were already [`shown`] (their backslashes doubled); this pass makes sure that nothing
/// printed — what the report wrote itself included — holds a line break or an escape sequence.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push(c),
            c => push_escaped(&mut out, c),
        }
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_hidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        c => out.push(c),
    }
}

fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}' // zero-width, LRM, RLM
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{feff}')
}

/// User names that are conventions, not secrets, and are worth showing: SSH's `git` and
/// GitLab's `gitlab-ci-token`.
const PUBLIC_USERS: [&str; 2] = ["git", "gitlab-ci-token"];

/// `text` with the user information of every URL in it replaced by `***` — parsed or not, so a
/// URL no parser accepts is scrubbed too. A password is always replaced; a user name only when
/// it is not one of the conventional ones (a token is sometimes passed as the user name). Covers
/// `scheme://user:pass@host` anywhere in the text and an scp-like `user@host:path` text.
pub fn scrub_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| "/?#\\\"'<>`".contains(c) || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(last_at) => {
                out.push_str(&scrub_one(&authority[..last_at]));
                out.push_str(&authority[last_at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    if out.is_empty() && !rest.contains("://") {
        if let Some((user, host_path)) = scp_parts(rest) {
            return format!("{}@{host_path}", scrub_one(user));
        }
    }
    out.push_str(rest);
    out
}

fn scrub_one(userinfo: &str) -> String {
    match userinfo.split_once(':') {
        Some((user, _)) if PUBLIC_USERS.contains(&user) => format!("{user}:***"),
        None if PUBLIC_USERS.contains(&userinfo) => userinfo.to_string(),
        _ => "***".to_string(),
    }
}

/// An scp-like `user@host:path` (or anything with an `@` before its first `/` and a `:`), split
/// at the last such `@`. Generous on purpose: `a:b@host:path` is scrubbed too.
fn scp_parts(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    if text[..colon].contains('/') {
        return None;
    }
    let head = &text[..text.find('/').unwrap_or(text.len())];
    let at = head.rfind('@')?;
    Some((&text[..at], &text[at + 1..]))
}

/// Both at once: what a report prints of an outside text.
pub fn shown(text: &str) -> String {
    one_line(&scrub_userinfo(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_becomes_one_printable_line() {
        let cases = [
            ("plain text", "plain text"),
            ("two\nlines", "two\\nlines"),
            (
                "ok\r\nhealthy: no problem found",
                "ok\\r\\nhealthy: no problem found",
            ),
            ("\u{1b}[31mred\u{1b}[0m", "\\u{1b}[31mred\\u{1b}[0m"),
            ("a\u{202e}txt.exe", "a\\u{202e}txt.exe"),
            ("zero\u{200b}width", "zero\\u{200b}width"),
            ("tab\there", "tab\\there"),
            ("back\\nslash", "back\\\\nslash"),
            ("nul\0", "nul\\u{0}"),
            ("del\u{7f}", "del\\u{7f}"),
            ("caf\u{e9}", "caf\u{e9}"),
        ];
        for (text, expected) in cases {
            assert_eq!(one_line(text), expected, "{text:?}");
        }
        assert_eq!(inert("a\\n\nb\u{1b}[2J"), "a\\n\\nb\\u{1b}[2J");
        assert_eq!(bounded("abcdef", 3), "abc…");
        let long = "x".repeat(MAX_SHOWN + 50);
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), MAX_SHOWN + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn user_information_is_scrubbed_parsed_or_not() {
        let cases = [
            (
                "https://gitlab-ci-token:glcbt-SECRET@gitlab.example.com/g/x.git",
                "https://gitlab-ci-token:***@gitlab.example.com/g/x.git",
            ),
            (
                "https://glpat-SECRET@gitlab.example.com/g/x.git",
                "https://***@gitlab.example.com/g/x.git",
            ),
            ("https://u:p@a@b.example/x", "https://***@b.example/x"),
            (
                "git+ssh://git@gitlab.example.com/g/x.git",
                "git+ssh://git@gitlab.example.com/g/x.git",
            ),
            (
                "fatal: unable to access 'https://user:SECRET@h/x/': 403",
                "fatal: unable to access 'https://***@h/x/': 403",
            ),
            (
                "a http://x:y@h1/ and https://z@h2 too",
                "a http://***@h1/ and https://***@h2 too",
            ),
            ("https://h\u{fc}st:SECRET@x/", "https://***@x/"),
            (
                "https://gitlab.example.com/g/x.git",
                "https://gitlab.example.com/g/x.git",
            ),
            (
                "git@gitlab.example.com:g/x.git",
                "git@gitlab.example.com:g/x.git",
            ),
            (
                "deploy:SECRET@gitlab.example.com:g/x.git",
                "***@gitlab.example.com:g/x.git",
            ),
            ("./relative/path@v1:x", "./relative/path@v1:x"),
            ("no url at all", "no url at all"),
        ];
        for (text, expected) in cases {
            assert_eq!(scrub_userinfo(text), expected, "{text:?}");
        }
        assert!(!shown("x https://a:SECRET@h/\nforged").contains("SECRET"));
    }
}
