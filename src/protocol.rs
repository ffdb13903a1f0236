//! git's credential-helper protocol: bytes in, a typed [`Request`] out; an [`Answer`] out as bytes.
//!
//! The parser is deliberately stricter than git's own reader. Every credential leak of 2020 and
//! 2025 came from two components splitting, trimming or merging the same bytes differently, so
//! anything that two readers could understand differently is refused instead of guessed:
//! duplicated single-value keys, lines without `=`, NUL bytes, a carriage return anywhere except
//! directly before the line feed, and a `url=` that disagrees with explicit fields.

use std::collections::HashSet;
use std::io::{self, BufRead, Write};

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::urls;

/// Longest line accepted, without its line terminator.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Most bytes read for one request, terminators included.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Why a request was refused. Messages name keys and positions, never values: values may hold
/// secrets (a `password=` line) or text shaped to look like protocol output.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("could not read the request from standard input ({0})")]
    Read(io::ErrorKind),
    #[error("request line {line} is longer than {MAX_LINE_BYTES} bytes")]
    LineTooLong { line: usize },
    #[error("request is longer than {MAX_REQUEST_BYTES} bytes")]
    TooLong,
    #[error("request line {line} contains a NUL byte")]
    Nul { line: usize },
    #[error("request line {line} contains a carriage return that does not end the line")]
    LoneCarriageReturn { line: usize },
    #[error("request line {line} has no '=' between key and value")]
    MissingEquals { line: usize },
    #[error("request gives the key '{key}' more than once (line {line})")]
    DuplicateKey { key: String, line: usize },
    #[error("the url attribute of the request is not a valid URL")]
    InvalidUrl,
    #[error("the url attribute of the request is ambiguous: {0}")]
    AmbiguousUrl(&'static str),
    #[error("the url attribute of the request disagrees with its '{0}' attribute")]
    UrlConflict(&'static str),
}

/// The attributes of a request that matter for the decision. Values are kept as raw bytes so
/// that nothing is decoded, trimmed or mapped on the way: what git sent is what gets compared.
/// Only the *presence* of a secret is kept; its bytes are never stored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Request {
    pub protocol: Option<Vec<u8>>,
    pub host: Option<Vec<u8>>,
    pub username: Option<Vec<u8>>,
    /// The caller already has a secret: a `password=` (possibly empty, as git reads it), a
    /// password in `url=`, or a `credential=` — git 2.46's pre-encoded credential, sent with
    /// or without its `authtype=`.
    pub has_password: bool,
}

/// Reads one request: lines up to a blank line or end of input, within the size bounds.
///
/// Reading stops at the blank line, so a caller that keeps its end of the pipe open while it
/// waits for the answer is not kept waiting.
pub fn read_request(input: impl BufRead) -> Result<Request, ProtocolError> {
    let mut fields = Fields::default();
    let mut lines = BoundedLines::new(input);
    while let Some((number, line)) = lines.next_line()? {
        if line.is_empty() {
            break;
        }
        fields.add(number, &line)?;
    }
    fields.into_request()
}

/// Parses a complete request held in memory (tests, fuzzing, benchmarks).
pub fn parse_request(bytes: &[u8]) -> Result<Request, ProtocolError> {
    read_request(bytes)
}

/// Reads and discards a request (for `store` and `erase`), within the same bounds, so the sender
/// never writes into a closed pipe. Errors are the caller's to ignore.
pub fn discard_request(input: impl BufRead) -> Result<(), ProtocolError> {
    let mut lines = BoundedLines::new(input);
    while let Some((_, line)) = lines.next_line()? {
        if line.is_empty() {
            break;
        }
    }
    Ok(())
}

/// A line number (from 1) and the line's bytes without terminator.
type Line = (usize, Zeroizing<Vec<u8>>);

/// Line reader that never buffers more than one bounded line, and stops after
/// [`MAX_REQUEST_BYTES`]. Line buffers are zeroized: they may hold a password.
struct BoundedLines<R> {
    input: R,
    consumed: usize,
    number: usize,
    done: bool,
}

impl<R: BufRead> BoundedLines<R> {
    fn new(input: R) -> Self {
        Self {
            input,
            consumed: 0,
            number: 0,
            done: false,
        }
    }

    /// The next line with its terminator (LF, or CR LF) removed; `None` at end of input.
    fn next_line(&mut self) -> Result<Option<Line>, ProtocolError> {
        if self.done {
            return Ok(None);
        }
        self.number += 1;
        let number = self.number;
        let mut line = Zeroizing::new(Vec::new());
        let terminated = loop {
            let available = match self.input.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ProtocolError::Read(e.kind())),
            };
            if available.is_empty() {
                break false;
            }
            // Never look further than the line may still grow: its content plus LF and one CR.
            let room = MAX_LINE_BYTES + 2 - line.len();
            let window = &available[..available.len().min(room + 1)];
            let (chunk, found) = match window.iter().position(|&b| b == b'\n') {
                Some(at) => (&window[..=at], true),
                None => (window, false),
            };
            let taken = chunk.len();
            if taken > room {
                return Err(ProtocolError::LineTooLong { line: number });
            }
            self.consumed += taken;
            if self.consumed > MAX_REQUEST_BYTES {
                return Err(ProtocolError::TooLong);
            }
            line.extend_from_slice(chunk);
            self.input.consume(taken);
            if found {
                break true;
            }
        };
        if !terminated {
            self.done = true;
            if line.is_empty() {
                return Ok(None);
            }
        }
        if terminated {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        if line.len() > MAX_LINE_BYTES {
            return Err(ProtocolError::LineTooLong { line: number });
        }
        if line.contains(&0) {
            return Err(ProtocolError::Nul { line: number });
        }
        if line.contains(&b'\r') {
            return Err(ProtocolError::LoneCarriageReturn { line: number });
        }
        Ok(Some((number, line)))
    }
}

/// The single-value attributes seen so far.
#[derive(Default)]
struct Fields {
    /// A set, not a list: a 1 MiB request holds ~175,000 distinct short keys, and a linear
    /// scan per line made that quadratic (about a minute of CPU per request).
    seen: HashSet<Vec<u8>>,
    protocol: Option<Vec<u8>>,
    host: Option<Vec<u8>>,
    username: Option<Vec<u8>>,
    has_password: bool,
    url: Option<Vec<u8>>,
}

impl Fields {
    fn add(&mut self, number: usize, line: &[u8]) -> Result<(), ProtocolError> {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            return Err(ProtocolError::MissingEquals { line: number });
        };
        let (key, value) = (&line[..eq], &line[eq + 1..]);
        // `key[]` attributes (capability[], wwwauth[], state[]) may repeat; none matters here.
        if key.ends_with(b"[]") {
            return Ok(());
        }
        if self.seen.contains(key) {
            return Err(ProtocolError::DuplicateKey {
                key: printable_key(key),
                line: number,
            });
        }
        self.seen.insert(key.to_vec());
        match key {
            b"protocol" => self.protocol = Some(value.to_vec()),
            b"host" => self.host = Some(value.to_vec()),
            b"username" => self.username = Some(value.to_vec()),
            b"password" | b"credential" => self.has_password = true,
            b"url" => self.url = Some(value.to_vec()),
            _ => {} // Unknown attributes are ignored, as the protocol asks.
        }
        Ok(())
    }

    fn into_request(self) -> Result<Request, ProtocolError> {
        let mut request = Request {
            protocol: self.protocol,
            host: self.host,
            username: self.username,
            has_password: self.has_password,
        };
        if let Some(url) = self.url {
            let from_url = request_from_url(&url)?;
            merge(&mut request.protocol, from_url.protocol, "protocol")?;
            merge(&mut request.host, from_url.host, "host")?;
            merge(&mut request.username, from_url.username, "username")?;
            request.has_password |= from_url.has_password;
        }
        Ok(request)
    }
}

/// git lets `url=` overwrite what came before it; we refuse any disagreement instead.
fn merge(
    explicit: &mut Option<Vec<u8>>,
    from_url: Option<Vec<u8>>,
    key: &'static str,
) -> Result<(), ProtocolError> {
    match (explicit.as_deref(), from_url) {
        (_, None) => Ok(()),
        (None, Some(value)) => {
            *explicit = Some(value);
            Ok(())
        }
        (Some(given), Some(value)) => {
            let same = if key == "host" {
                given.eq_ignore_ascii_case(&value)
            } else {
                given == value.as_slice()
            };
            if same {
                Ok(())
            } else {
                Err(ProtocolError::UrlConflict(key))
            }
        }
    }
}

/// Turns a `url=` value into the attributes git would derive from it, read strictly
/// ([`urls::read_strictly`]): a URL that two clients could read differently is refused.
///
/// Also how a URL handed over whole — Go's GOAUTH argument, a keyring SERVICE — becomes a
/// request, so that [`crate::policy::decide_url`] judges it exactly as git's `url=`.
pub fn request_from_url(raw: &[u8]) -> Result<Request, ProtocolError> {
    let text = std::str::from_utf8(raw).map_err(|_| ProtocolError::InvalidUrl)?;
    let url = urls::read_strictly(text).map_err(|e| match e {
        urls::StrictError::Invalid => ProtocolError::InvalidUrl,
        urls::StrictError::Ambiguous(why) => ProtocolError::AmbiguousUrl(why),
    })?;
    let (username, has_password) = match url.userinfo {
        None => (None, false),
        Some(userinfo) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, _)) => (user, true),
                None => (userinfo, false),
            };
            let user: Vec<u8> = percent_decode(user.as_bytes());
            (Some(user), password)
        }
    };
    Ok(Request {
        protocol: Some(url.scheme.as_bytes().to_vec()),
        host: Some(url.host_port.as_bytes().to_vec()),
        username,
        has_password,
    })
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if let [b'%', high, low, ..] = input[i..] {
            if let (Some(high), Some(low)) = (hex(high), hex(low)) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// A key as it may appear in a message: printable ASCII only, and short.
fn printable_key(key: &[u8]) -> String {
    key.iter()
        .take(40)
        .map(|&b| {
            if b.is_ascii_graphic() && b != b'=' {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

/// What the helper prints for `get`.
pub enum Answer {
    /// Let git ask the next helper.
    Nothing,
    Credential {
        username: String,
        password: SecretString,
    },
}

impl Answer {
    /// Writes the whole answer with one `write_all`, then flushes. git reads the output before it
    /// looks at the exit status, so nothing may be printed before the decision is final.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let Answer::Credential { username, password } = self else {
            return Ok(());
        };
        let password = password.expose_secret();
        let mut bytes = Zeroizing::new(Vec::with_capacity(
            username.len() + password.len() + "username=\npassword=\n".len(),
        ));
        bytes.extend_from_slice(b"username=");
        bytes.extend_from_slice(username.as_bytes());
        bytes.extend_from_slice(b"\npassword=");
        bytes.extend_from_slice(password.as_bytes());
        bytes.push(b'\n');
        out.write_all(&bytes)?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(protocol: &str, host: &str) -> Request {
        Request {
            protocol: Some(protocol.into()),
            host: Some(host.into()),
            ..Request::default()
        }
    }

    #[test]
    fn parses_requests_by_table() {
        let https = |host: &str| Ok(req("https", host));
        let cases: &[(&[u8], Result<Request, ProtocolError>)] = &[
            (b"protocol=https\nhost=a.example\n", https("a.example")),
            (b"protocol=https\nhost=a.example", https("a.example")),
            (b"protocol=https\r\nhost=a.example\r\n\r\n", https("a.example")),
            (b"protocol=https\nhost=a.example\n\nhost=b.example\n", https("a.example")),
            (
                b"capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=a.example\nwwwauth[]=Basic realm=\"GitLab\"\n",
                https("a.example"),
            ),
            (b"protocol=https\nhost=a.example\nfoo=1\nHost=b\n host=c\n", https("a.example")),
            (b"", Ok(Request::default())),
            (b"\n", Ok(Request::default())),
            (b"\nprotocol=https\n", Ok(Request::default())),
            (b"protocol=https\nhost=\n", Ok(req("https", ""))),
            (b"protocol=https\nhost=a=b\n", https("a=b")),
            (
                b"protocol=https\nhost=a.example\nusername=u\npassword=p\n",
                Ok(Request {
                    username: Some(b"u".to_vec()),
                    has_password: true,
                    ..req("https", "a.example")
                }),
            ),
            (b"host=a\nhost=b\n", Err(ProtocolError::DuplicateKey { key: "host".into(), line: 2 })),
            (b"x=1\nx=1\n", Err(ProtocolError::DuplicateKey { key: "x".into(), line: 2 })),
            (b"protocol=https\ngarbage\n", Err(ProtocolError::MissingEquals { line: 2 })),
            (b"protocol=https\nhost=a\0b\n", Err(ProtocolError::Nul { line: 2 })),
            (b"protocol=https\0", Err(ProtocolError::Nul { line: 1 })),
            (b"host=evil\rhost=a.example\n", Err(ProtocolError::LoneCarriageReturn { line: 1 })),
            (b"host=a.example\r\r\n", Err(ProtocolError::LoneCarriageReturn { line: 1 })),
            (b"host=a.example\r", Err(ProtocolError::LoneCarriageReturn { line: 1 })),
            (b"\r", Err(ProtocolError::LoneCarriageReturn { line: 1 })),
        ];
        for (input, expected) in cases {
            assert_eq!(
                &parse_request(input),
                expected,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn parses_url_attribute_by_table() {
        let ok = |protocol: &str, host: &str, username: Option<&str>, has_password: bool| {
            Ok(Request {
                protocol: Some(protocol.into()),
                host: Some(host.into()),
                username: username.map(Into::into),
                has_password,
            })
        };
        let ambiguous = |why| Err(ProtocolError::AmbiguousUrl(why));
        let not_canonical = ambiguous("its host is not written in canonical form");
        let cases: &[(&str, Result<Request, ProtocolError>)] = &[
            (
                "url=https://gitlab.example.com/group/p.git",
                ok("https", "gitlab.example.com", None, false),
            ),
            (
                "url=https://GitLab.example.com:8443",
                ok("https", "GitLab.example.com:8443", None, false),
            ),
            (
                "url=https://gitlab.example.com:0443/",
                ok("https", "gitlab.example.com:0443", None, false),
            ),
            (
                "url=https://u%40x@h.example/",
                ok("https", "h.example", Some("u@x"), false),
            ),
            (
                "url=https://u:p@h.example/",
                ok("https", "h.example", Some("u"), true),
            ),
            (
                "url=https://@h.example/",
                ok("https", "h.example", Some(""), false),
            ),
            (
                "url=https://[::1]:8443/x",
                ok("https", "[::1]:8443", None, false),
            ),
            (
                "url=https://a@b@h.example/",
                ok("https", "h.example", Some("a@b"), false),
            ),
            (
                "url=http://h.example\\@evil.example/",
                ambiguous("it contains a backslash"),
            ),
            (
                "url=https:h.example/x",
                ambiguous("it has no '//' after the scheme"),
            ),
            (
                // Built without IDNA (Cargo.toml pins idna_adapter 1.0): never mapped, refused.
                "url=https://gitlab\u{ff0e}example.com/",
                Err(ProtocolError::InvalidUrl),
            ),
            ("url=https://h%2eexample/", not_canonical.clone()),
            ("url=https://0x7f.1/", not_canonical.clone()),
            (
                "url=https://h.example:99999/",
                Err(ProtocolError::InvalidUrl),
            ),
            ("url=not a url", Err(ProtocolError::InvalidUrl)),
            ("url=", Err(ProtocolError::InvalidUrl)),
        ];
        for (input, expected) in cases {
            assert_eq!(
                &parse_request(input.as_bytes()),
                expected,
                "input {input:?}"
            );
        }
        assert_eq!(
            parse_request(b"url=https://h\xff/"),
            Err(ProtocolError::InvalidUrl)
        );
    }

    #[test]
    fn url_attribute_must_agree_with_explicit_fields() {
        let cases: &[(&str, Result<(), ProtocolError>)] = &[
            (
                "url=https://h.example/\nprotocol=https\nhost=H.example\n",
                Ok(()),
            ),
            (
                "protocol=https\nhost=h.example\nurl=https://h.example/x\n",
                Ok(()),
            ),
            (
                "url=https://evil.example/\nprotocol=https\nhost=h.example\n",
                Err(ProtocolError::UrlConflict("host")),
            ),
            (
                "url=http://h.example/\nprotocol=https\n",
                Err(ProtocolError::UrlConflict("protocol")),
            ),
            (
                "url=https://a@h.example/\nusername=b\n",
                Err(ProtocolError::UrlConflict("username")),
            ),
            (
                "url=https://h.example/\nurl=https://h.example/\n",
                Err(ProtocolError::DuplicateKey {
                    key: "url".into(),
                    line: 2,
                }),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                &parse_request(input.as_bytes()).map(|_| ()),
                expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn enforces_line_and_request_bounds() {
        let mut line = b"wwwauth[]=".to_vec();
        line.resize(MAX_LINE_BYTES, b'a');
        line.extend_from_slice(b"\r\n");
        assert!(
            parse_request(&line).is_ok(),
            "a line of exactly the limit is accepted"
        );
        line.insert(12, b'a');
        assert_eq!(
            parse_request(&line),
            Err(ProtocolError::LineTooLong { line: 1 })
        );
        line.truncate(MAX_LINE_BYTES + 1);
        assert_eq!(
            parse_request(&line),
            Err(ProtocolError::LineTooLong { line: 1 })
        );

        let many = b"wwwauth[]=x\n".repeat(MAX_REQUEST_BYTES / 12 + 1);
        assert_eq!(parse_request(&many), Err(ProtocolError::TooLong));
        let unterminated = vec![b'a'; 10 * 1024 * 1024];
        assert_eq!(
            parse_request(&unterminated),
            Err(ProtocolError::LineTooLong { line: 1 })
        );
    }

    #[test]
    fn answer_is_written_in_one_piece() {
        let mut out = Vec::new();
        Answer::Credential {
            username: "gitlab-ci-token".into(),
            password: SecretString::from("tok"),
        }
        .write_to(&mut out)
        .unwrap();
        assert_eq!(out, b"username=gitlab-ci-token\npassword=tok\n");
        let mut out = Vec::new();
        Answer::Nothing.write_to(&mut out).unwrap();
        assert!(out.is_empty());
    }
}
