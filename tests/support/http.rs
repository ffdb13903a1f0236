//! The HTTP/1.1 plumbing the test servers share: request heads, bodies (`Content-Length` or
//! chunked, optionally gzip), responses, and HTTP Basic credentials. Everything is bounded, so a
//! misbehaving client makes a request fail, never the test process grow without limit.
#![allow(dead_code)]

use std::io::{self, BufRead, Read, Write};

use base64::Engine as _;

/// The largest request body a test server accepts (a git push of a big pack, an LFS object).
pub const MAX_BODY: u64 = 256 * 1024 * 1024;

pub struct RequestHead {
    pub method: String,
    /// The request target up to `?` (for `CONNECT`, the authority).
    pub path: String,
    /// After `?`, without it; empty when there is none.
    pub query: String,
    pub version: String,
    /// Header names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`, percent-decoded (`+` stays `+`).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key) == name).then(|| percent_decode(value))
        })
    }

    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
            || self.version == "HTTP/1.0"
    }

    pub fn has_body(&self) -> bool {
        self.header("content-length")
            .is_some_and(|v| v.trim() != "0")
            || self.header("transfer-encoding").is_some()
    }

    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }
}

/// `%XX` escapes decoded; invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap() * 16 + hex(l).unwrap()) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What an `Authorization` header offered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorization {
    /// No `Authorization` header.
    Absent,
    /// A scheme other than Basic (e.g. `Bearer`): not HTTP Basic credentials at all.
    OtherScheme,
    /// `Basic` with a value that is not base64 of `user:password`.
    Malformed,
    Basic {
        user: String,
        password: String,
    },
}

pub fn authorization(head: &RequestHead) -> Authorization {
    let Some(value) = head.header("authorization") else {
        return Authorization::Absent;
    };
    let (scheme, encoded) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Authorization::OtherScheme;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return Authorization::Malformed;
    };
    let decoded = String::from_utf8_lossy(&decoded).into_owned();
    match decoded.split_once(':') {
        Some((user, password)) => Authorization::Basic {
            user: user.to_string(),
            password: password.to_string(),
        },
        None => Authorization::Malformed,
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// One line without its line ending, at most `limit` bytes.
pub fn read_line_limited(reader: &mut impl BufRead, limit: u64) -> io::Result<String> {
    let mut buf = Vec::new();
    reader.take(limit).read_until(b'\n', &mut buf)?;
    if !buf.ends_with(b"\n") && !buf.is_empty() {
        return Err(invalid("line too long"));
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    String::from_utf8(buf).map_err(|_| invalid("not UTF-8"))
}

/// The next request head, or `None` when the connection ended cleanly between requests.
pub fn read_head(reader: &mut impl BufRead) -> io::Result<Option<RequestHead>> {
    if reader.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let line = read_line_limited(reader, 16 * 1024)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("bad request line"));
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::new();
    loop {
        let line = read_line_limited(reader, 64 * 1024)?;
        if line.is_empty() {
            break;
        }
        if headers.len() > 200 {
            return Err(invalid("too many headers"));
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    Ok(Some(RequestHead {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        version: version.to_string(),
        headers,
    }))
}

/// The request body, de-chunked and gunzipped as its headers say.
pub fn read_body(reader: &mut impl BufRead, head: &RequestHead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let size_line = read_line_limited(reader, 1024)?;
            let size_hex = size_line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_hex, 16).map_err(|_| invalid("bad chunk size"))?;
            if size == 0 {
                // Trailers, then the final empty line.
                while !read_line_limited(reader, 64 * 1024)?.is_empty() {}
                break;
            }
            if body.len() as u64 + size > MAX_BODY {
                return Err(invalid("body too large"));
            }
            reader.take(size).read_to_end(&mut body)?;
            if !read_line_limited(reader, 2)?.is_empty() {
                return Err(invalid("bad chunk end"));
            }
        }
    } else if let Some(len) = head.header("content-length") {
        let len: u64 = len.parse().map_err(|_| invalid("bad content-length"))?;
        if len > MAX_BODY {
            return Err(invalid("body too large"));
        }
        reader.take(len).read_to_end(&mut body)?;
        if body.len() as u64 != len {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short body"));
        }
    }
    match head.header("content-encoding").map(str::to_ascii_lowercase) {
        Some(enc) if enc == "gzip" || enc == "x-gzip" => {
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .take(MAX_BODY)
                .read_to_end(&mut decoded)?;
            Ok(decoded)
        }
        _ => Ok(body),
    }
}

pub fn send_continue(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    out.flush()
}

pub fn write_response(out: &mut dyn Write, response: &Response, close: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(&response.body)?;
    out.flush()
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Status",
    }
}
