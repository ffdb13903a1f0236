//! Reading git configuration through `git config`, and the pure rules `configure` and `doctor`
//! share: which `credential.helper` values are ours, which helpers git runs for a server, and
//! how a helper value is quoted for the shell git runs it through.
//!
//! git itself reads and writes the files (`git config --file F ... -z`): its parser, its quoting
//! and its lock-file-and-rename writes are the ones every client agrees with; a second parser
//! here would be one more reader that could understand a file differently.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::env::Env;
use crate::server::Server;

/// The binary's file name; a helper value whose program has this name is ours.
pub const BINARY_NAME: &str = "git-credential-gitlab-ci";

/// One configuration entry as `git config --list -z` reports it. `key` has its section and
/// variable name in lower case and its subsection as written; `value` is `None` for a bare key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `system`, `global`, `local`, `worktree`, `command`; empty when not asked for.
    pub scope: String,
    /// `file:/path`, `command line:`, ...; empty when not asked for.
    pub origin: String,
    pub key: String,
    pub value: Option<String>,
}

impl Entry {
    pub fn new(key: &str, value: Option<&str>) -> Entry {
        Entry {
            scope: String::new(),
            origin: String::new(),
            key: key.into(),
            value: value.map(Into::into),
        }
    }

    /// (section, subsection, name) — `url.https://a.example/.insteadof` gives
    /// `("url", Some("https://a.example/"), "insteadof")`.
    pub fn parts(&self) -> (&str, Option<&str>, &str) {
        split_key(&self.key)
    }

    /// Where the entry came from, for reports: the file, or "the command line".
    pub fn place(&self) -> String {
        match self.origin.strip_prefix("file:") {
            Some(path) => path.to_string(),
            None if self.origin.starts_with("command line") => {
                "the command line or GIT_CONFIG_COUNT variables".into()
            }
            None => self.origin.clone(),
        }
    }
}

/// Splits a configuration key at its first and last dot, as git does.
pub fn split_key(key: &str) -> (&str, Option<&str>, &str) {
    let Some(first) = key.find('.') else {
        return (key, None, "");
    };
    let last = key.rfind('.').unwrap_or(first);
    if first == last {
        (&key[..first], None, &key[first + 1..])
    } else {
        (&key[..first], Some(&key[first + 1..last]), &key[last + 1..])
    }
}

/// Parses `git config --list -z` output, with `--show-scope` and `--show-origin` when
/// `with_origin` (scope and origin then precede each entry).
pub fn parse_list(bytes: &[u8], with_origin: bool) -> Vec<Entry> {
    let text = String::from_utf8_lossy(bytes);
    let mut fields = text.split('\0');
    let mut entries = Vec::new();
    loop {
        let (scope, origin) = if with_origin {
            match (fields.next(), fields.next()) {
                (Some(s), Some(o)) if !s.is_empty() => (s.to_string(), o.to_string()),
                _ => break,
            }
        } else {
            (String::new(), String::new())
        };
        let Some(item) = fields.next().filter(|i| !i.is_empty()) else {
            break;
        };
        let (key, value) = match item.split_once('\n') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (item.to_string(), None),
        };
        entries.push(Entry {
            scope,
            origin,
            key,
            value,
        });
    }
    entries
}

/// Is this `credential.helper` value our helper? True for an absolute or relative path whose
/// file name is the binary's (quoted or not, with or without a leading `!`), and for the short
/// name `gitlab-ci` (which git runs as `git credential-gitlab-ci`).
pub fn is_our_helper(value: &str) -> bool {
    let command = value.strip_prefix('!').unwrap_or(value);
    let Some(words) = shell_split(command) else {
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
pub fn our_helper_args(value: &str) -> Option<Vec<String>> {
    if !is_our_helper(value) {
        return None;
    }
    let command = value.strip_prefix('!').unwrap_or(value);
    shell_split(command).map(|w| w.into_iter().skip(1).collect())
}

/// Quotes `word` for `sh`, leaving plain words alone so the value stays readable.
pub fn shell_quote(word: &str) -> String {
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
pub fn shell_split(text: &str) -> Option<Vec<String>> {
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
pub fn helper_value(program: &str, args: &[String]) -> String {
    let quoted = shell_quote(program);
    let mut value = if quoted == program && program.starts_with('/') {
        quoted
    } else {
        format!("!{quoted}")
    };
    for arg in args {
        value.push(' ');
        value.push_str(&shell_quote(arg));
    }
    value
}

/// Does the subsection `pattern` of a `credential.<url>.*` key apply to requests for `server`,
/// as git matches it for a request without a path and without a user name? Scheme equal, host
/// equal ignoring case (a `*` label matches one label), port equal after defaults, no path
/// beyond `/`, no user name.
pub fn url_applies(pattern: &str, server: &Server) -> bool {
    let Ok(url) = crate::urls::parse(pattern) else {
        return false;
    };
    if url.scheme() != server.scheme.as_str()
        || !url.username().is_empty()
        || !matches!(url.path(), "" | "/")
    {
        return false;
    }
    if url.port_or_known_default() != Some(server.port) {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let labels: Vec<&str> = host.split('.').collect();
    let wanted: Vec<&str> = server.host.split('.').collect();
    labels.len() == wanted.len()
        && labels
            .iter()
            .zip(&wanted)
            .all(|(p, w)| *p == "*" || p.eq_ignore_ascii_case(w))
}

/// The helpers git runs for `server`, in order, from `entries` in git's reading order: every
/// `credential.helper` and every `credential.<url>.helper` whose URL applies, an empty value
/// clearing the list so far.
pub fn helper_chain<'a>(entries: &'a [Entry], server: &Server) -> Vec<&'a Entry> {
    let mut chain = Vec::new();
    for entry in entries {
        let applies = match entry.parts() {
            ("credential", None, "helper") => true,
            ("credential", Some(url), "helper") => url_applies(url, server),
            _ => false,
        };
        if !applies {
            continue;
        }
        match entry.value.as_deref() {
            None | Some("") => chain.clear(),
            Some(_) => chain.push(entry),
        }
    }
    chain
}

/// A failure to run git or to read what it printed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run {program} ({kind}); install git or put it on PATH")]
    Spawn {
        program: String,
        kind: io::ErrorKind,
    },
    #[error("{command} failed: {message}")]
    Failed { command: String, message: String },
}

/// The git program used to read and write configuration, run with the environment snapshot.
#[derive(Debug, Clone)]
pub struct Git<'a> {
    pub program: OsString,
    env: &'a Env,
}

impl<'a> Git<'a> {
    /// The `git` found on `PATH`.
    pub fn new(env: &'a Env) -> Git<'a> {
        Git::at("git", env)
    }

    /// The git at `program`.
    pub fn at(program: impl Into<OsString>, env: &'a Env) -> Git<'a> {
        Git {
            program: program.into(),
            env,
        }
    }

    fn command(&self) -> Command {
        let mut command = self.env.command(&self.program);
        command.stdin(Stdio::null());
        command
    }

    /// Runs git; `Ok(None)` when git exits with one of `tolerated` (e.g. 1: key not found).
    pub fn run(&self, args: &[&OsStr], tolerated: &[i32]) -> Result<Option<Vec<u8>>, GitError> {
        let output = self
            .command()
            .args(args)
            .output()
            .map_err(|e| GitError::Spawn {
                program: self.program.to_string_lossy().into_owned(),
                kind: e.kind(),
            })?;
        if output.status.success() {
            return Ok(Some(output.stdout));
        }
        if output
            .status
            .code()
            .is_some_and(|code| tolerated.contains(&code))
        {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(GitError::Failed {
            command: format!(
                "git {}",
                args.iter()
                    .map(|a| shell_quote(&a.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            message: stderr.lines().next().unwrap_or("no message").to_string(),
        })
    }

    /// Every entry of one file, in file order; none when the file does not exist.
    pub fn list_file(&self, file: &Path) -> Result<Vec<Entry>, GitError> {
        if !file.exists() {
            return Ok(Vec::new());
        }
        let out = self.run(
            &[
                OsStr::new("config"),
                OsStr::new("--file"),
                file.as_os_str(),
                OsStr::new("--list"),
                OsStr::new("-z"),
            ],
            &[],
        )?;
        Ok(parse_list(&out.unwrap_or_default(), false))
    }

    /// Every entry git would read here (system, global, local, command line), in git's order.
    pub fn list_all(&self) -> Result<Vec<Entry>, GitError> {
        let out = self.run(
            &[
                OsStr::new("config"),
                OsStr::new("--list"),
                OsStr::new("--show-scope"),
                OsStr::new("--show-origin"),
                OsStr::new("-z"),
            ],
            &[],
        )?;
        Ok(parse_list(&out.unwrap_or_default(), true))
    }

    /// `git --version`, for reports.
    pub fn version(&self) -> Option<String> {
        let out = self.run(&[OsStr::new("--version")], &[]).ok()??;
        Some(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// The system configuration file this git reads: `git var GIT_CONFIG_SYSTEM` (git 2.42 and
    /// later, honouring `GIT_CONFIG_SYSTEM`), else `/etc/gitconfig`.
    pub fn system_file(&self) -> PathBuf {
        match self.run(&[OsStr::new("var"), OsStr::new("GIT_CONFIG_SYSTEM")], &[]) {
            Ok(Some(out)) => {
                let text = String::from_utf8_lossy(&out).trim().to_string();
                if text.is_empty() {
                    PathBuf::from(LIBGIT2_SYSTEM_FILE)
                } else {
                    PathBuf::from(text)
                }
            }
            _ => PathBuf::from(LIBGIT2_SYSTEM_FILE),
        }
    }
}

/// The system file libgit2 (and so cargo) reads, and Debian's git.
pub const LIBGIT2_SYSTEM_FILE: &str = "/etc/gitconfig";

/// The gits whose system files count: the one on PATH, Debian's and one built under
/// /usr/local, each when present.
pub fn installed_gits(env: &Env) -> Vec<PathBuf> {
    let mut gits: Vec<PathBuf> = Vec::new();
    if let Some(found) = env
        .path_dirs()
        .into_iter()
        .map(|dir| dir.join("git"))
        .find(|p| p.is_file())
    {
        gits.push(found);
    }
    for fixed in ["/usr/bin/git", "/usr/local/bin/git"] {
        let fixed = PathBuf::from(fixed);
        if fixed.is_file() && !gits.contains(&fixed) {
            gits.push(fixed);
        }
    }
    gits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::Origin;

    fn server(url: &str) -> Server {
        Server::parse(url, Origin::Option).unwrap()
    }

    #[test]
    fn splits_keys_at_first_and_last_dot() {
        assert_eq!(
            split_key("credential.helper"),
            ("credential", None, "helper")
        );
        assert_eq!(
            split_key("credential.https://a.example:8443.helper"),
            ("credential", Some("https://a.example:8443"), "helper")
        );
        assert_eq!(
            split_key("url.https://a.example/.insteadof"),
            ("url", Some("https://a.example/"), "insteadof")
        );
    }

    #[test]
    fn parses_list_output_with_and_without_origins() {
        let plain = b"credential.helper\nstore\0credential.https://a.b.helper\n\0core.bare\0";
        assert_eq!(
            parse_list(plain, false),
            vec![
                Entry::new("credential.helper", Some("store")),
                Entry::new("credential.https://a.b.helper", Some("")),
                Entry::new("core.bare", None),
            ]
        );
        let with = b"global\0file:/h/.gitconfig\0credential.helper\nx y\nz\0";
        let got = parse_list(with, true);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].scope, "global");
        assert_eq!(got[0].place(), "/h/.gitconfig");
        assert_eq!(got[0].value.as_deref(), Some("x y\nz"));
    }

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
            assert!(is_our_helper(ours), "{ours}");
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
            assert!(!is_our_helper(theirs), "{theirs}");
        }
    }

    #[test]
    fn helper_values_quote_what_the_shell_would_split() {
        assert_eq!(helper_value("/usr/bin/h", &[]), "/usr/bin/h");
        assert_eq!(
            helper_value(
                "/usr/bin/h",
                &["--server".into(), "https://a.example:8443".into()]
            ),
            "/usr/bin/h --server https://a.example:8443"
        );
        let odd = helper_value(
            "/opt/my tools/h",
            &["--token-file".into(), "/run/it's $HOME".into()],
        );
        assert_eq!(
            odd,
            r#"!'/opt/my tools/h' --token-file '/run/it'\''s $HOME'"#
        );
        // What sh would make of it, by our splitter and by sh itself.
        assert_eq!(
            shell_split(&odd[1..]).unwrap(),
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
    fn url_patterns_apply_like_gits_credential_matching() {
        let s = server("https://gitlab.example.com:8443");
        for (pattern, applies) in [
            ("https://gitlab.example.com:8443", true),
            ("https://GitLab.example.com:8443/", true),
            ("https://*.example.com:8443", true),
            ("https://gitlab.example.com", false),
            ("http://gitlab.example.com:8443", false),
            ("https://gitlab.example.com:8443/group", false),
            ("https://u@gitlab.example.com:8443", false),
            ("https://example.com:8443", false),
            ("gitlab.example.com", false),
        ] {
            assert_eq!(url_applies(pattern, &s), applies, "{pattern}");
        }
        assert!(url_applies(
            "https://gitlab.example.com:443",
            &server("https://gitlab.example.com")
        ));
    }

    #[test]
    fn helper_chain_follows_order_and_resets() {
        let s = server("https://gitlab.example.com");
        let entries = vec![
            Entry::new("credential.helper", Some("store")),
            Entry::new("credential.helper", Some("/b/git-credential-gitlab-ci")),
            Entry::new("credential.https://other.example.helper", Some("")),
            Entry::new("credential.https://gitlab.example.com.helper", Some("")),
            Entry::new(
                "credential.https://gitlab.example.com.helper",
                Some("/b/git-credential-gitlab-ci"),
            ),
        ];
        let names = |c: Vec<&Entry>| -> Vec<String> {
            c.iter().map(|e| e.value.clone().unwrap()).collect()
        };
        assert_eq!(
            names(helper_chain(&entries, &s)),
            ["/b/git-credential-gitlab-ci"]
        );
        let mut later = entries.clone();
        later.push(Entry::new("credential.helper", Some("cache")));
        assert_eq!(
            names(helper_chain(&later, &s)),
            ["/b/git-credential-gitlab-ci", "cache"]
        );
        assert_eq!(
            names(helper_chain(&entries, &server("https://other.example"))),
            Vec::<String>::new()
        );
    }
}
