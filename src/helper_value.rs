//! The `credential.helper` value language: how git runs a value (through `sh`, a leading `!`
//! for a shell snippet), how a value is quoted and split into words, and which values run this
//! helper. `configure` writes values with it, `doctor` and `configure` read them with it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The binary's file name; a helper value whose program has this name is ours.
pub const BINARY_NAME: &str = "git-credential-gitlab-ci";

/// The words of the command a value runs (after a leading `!`); `None` for an unterminated
/// quote.
fn words(value: &str) -> Option<Vec<String>> {
    split(value.strip_prefix('!').unwrap_or(value))
}

/// Is this `credential.helper` value our helper? True for an absolute or relative path whose
/// file name is the binary's (quoted or not, with or without a leading `!`), and for the short
/// name `gitlab-ci` (which git runs as `git credential-gitlab-ci`).
pub fn is_ours(value: &str) -> bool {
    let Some(words) = words(value) else {
        return false;
    };
    let Some(program) = words.first() else {
        return false;
    };
    if !value.starts_with('!') && program == "gitlab-ci" {
        return true;
    }
    Path::new(program)
        .file_name()
        .is_some_and(|name| name == OsStr::new(BINARY_NAME))
}

/// The options of one of our helper values (the words after the program), when it is ours.
pub fn our_args(value: &str) -> Option<Vec<String>> {
    if !is_ours(value) {
        return None;
    }
    words(value).map(|w| w.into_iter().skip(1).collect())
}

/// The program a value runs: its first word.
pub fn program(value: &str) -> Option<PathBuf> {
    words(value)?.into_iter().next().map(PathBuf::from)
}

/// A helper's program, shortened and quoted, for messages: never its whole value (which might
/// embed a secret of its own).
pub fn short_name(value: &str) -> String {
    let command = value.strip_prefix('!').unwrap_or(value);
    let first = command.split_whitespace().next().unwrap_or("");
    let mut name: String = first.chars().take(60).collect();
    if value.starts_with('!') {
        name.insert(0, '!');
    }
    format!("'{name}'")
}

/// Quotes `word` for `sh`, leaving plain words alone so the value stays readable.
pub fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+:,./-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Splits a command line the way `sh` would for the quoting we produce and what people
/// usually write: single quotes, double quotes (with `\"`, `\\`, `\$`, `` \` ``), backslash
/// escapes, blanks between words. `None` for an unterminated quote.
pub fn split(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            '\n' => {}
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => word.push(c),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// The `credential.helper` value that runs `program` with `args`. git runs an absolute path
/// through the shell as is, so a path that needs quoting must use the `!` form (a value that
/// starts with a quote would be taken for a short helper name).
pub fn compose(program: &str, args: &[String]) -> String {
    let quoted = quote(program);
    let mut value = if quoted == program && program.starts_with('/') {
        quoted
    } else {
        format!("!{quoted}")
    };
    for arg in args {
        value.push(' ');
        value.push_str(&quote(arg));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn recognises_our_helper_values_only() {
        for ours in [
            "/usr/local/bin/git-credential-gitlab-ci",
            "/usr/local/bin/git-credential-gitlab-ci --server https://a.example",
            "!'/opt/my tools/git-credential-gitlab-ci' --token-file /run/secrets/t",
            "!/x/git-credential-gitlab-ci",
            "gitlab-ci",
            "gitlab-ci --server a.example",
            "git-credential-gitlab-ci",
        ] {
            assert!(is_ours(ours), "{ours}");
        }
        for theirs in [
            "store",
            "cache --timeout 60",
            "/usr/bin/git-credential-manager",
            "!f() { echo password=x; }; f",
            "/x/git-credential-gitlab-ci-old",
            "/x/git-credential-gitlab-ci.sh",
            "",
            "'unterminated",
        ] {
            assert!(!is_ours(theirs), "{theirs}");
        }
    }

    #[test]
    fn helper_values_quote_what_the_shell_would_split() {
        assert_eq!(compose("/usr/bin/h", &[]), "/usr/bin/h");
        assert_eq!(
            compose(
                "/usr/bin/h",
                &["--server".into(), "https://a.example:8443".into()]
            ),
            "/usr/bin/h --server https://a.example:8443"
        );
        let odd = compose(
            "/opt/my tools/h",
            &["--token-file".into(), "/run/it's $HOME".into()],
        );
        assert_eq!(
            odd,
            r#"!'/opt/my tools/h' --token-file '/run/it'\''s $HOME'"#
        );
        // What sh would make of it, by our splitter and by sh itself.
        assert_eq!(
            split(&odd[1..]).unwrap(),
            ["/opt/my tools/h", "--token-file", "/run/it's $HOME"]
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\n' {}", &odd[1..]))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "/opt/my tools/h\n--token-file\n/run/it's $HOME\n"
        );
    }

    #[test]
    fn programs_and_short_names_come_from_the_first_word() {
        assert_eq!(
            program("!'/opt/my tools/h' --x").as_deref(),
            Some(Path::new("/opt/my tools/h"))
        );
        assert_eq!(program("").as_deref(), None);
        assert_eq!(short_name("store --file=/x"), "'store'");
        assert_eq!(short_name("!f() { echo password=s3cr3t; }; f"), "'!f()'");
        assert_eq!(
            our_args("/b/git-credential-gitlab-ci --server 'a b'"),
            Some(vec!["--server".to_string(), "a b".to_string()])
        );
        assert_eq!(our_args("store"), None);
    }
}
