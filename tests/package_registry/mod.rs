//! A GitLab generic package registry on loopback, as far as the release path uses it:
//! `PUT /api/v4/projects/<id>/packages/generic/<name>/<version>/<file>` stores the body when the
//! `JOB-TOKEN` header is the job token (201), else 401; `GET` of the same path serves it (a
//! public project), else 404. Plain HTTP/1.1, one connection at a time; stopped when dropped.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request the registry saw.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The `JOB-TOKEN` header was present and equal to the job token.
    pub job_token_ok: bool,
    pub status: u16,
}

#[derive(Default)]
struct State {
    files: BTreeMap<String, Vec<u8>>,
    log: Vec<Request>,
}

pub struct Registry {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Registry {
    pub fn start(job_token: &str) -> Registry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, token) = (state.clone(), stop.clone(), job_token.to_string());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let _ = serve(stream, &s, &token);
                }
            }
        });
        Registry {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// What GitLab calls `CI_API_V4_URL`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v4", self.addr)
    }

    /// Stores a file as if uploaded, at a path under the API URL.
    pub fn preload(&self, path: &str, body: Vec<u8>) {
        let mut state = self.state.lock().unwrap();
        state.files.insert(format!("/api/v4/{path}"), body);
    }

    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        let state = self.state.lock().unwrap();
        state.files.get(&format!("/api/v4/{path}")).cloned()
    }

    pub fn log(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, job_token: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let (method, path) = match (words.next(), words.next()) {
        (Some(m), Some(p)) => (m.to_string(), p.to_string()),
        _ => return Ok(()),
    };
    let (mut length, mut token, mut expect) = (0usize, None::<String>, false);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((&header, ""));
        let value = value.trim().to_string();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().unwrap_or(0),
            "job-token" => token = Some(value),
            "expect" => expect = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    let mut out = stream;
    let job_token_ok = token.as_deref() == Some(job_token);
    let (status, body): (u16, Vec<u8>) = match method.as_str() {
        "PUT" if !job_token_ok => (401, b"{\"message\":\"401 Unauthorized\"}".to_vec()),
        "PUT" => {
            if expect {
                out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            }
            let mut data = vec![0; length];
            reader.read_exact(&mut data)?;
            state.lock().unwrap().files.insert(path.clone(), data);
            (201, b"{\"message\":\"201 Created\"}".to_vec())
        }
        "GET" => match state.lock().unwrap().files.get(&path) {
            Some(data) => (200, data.clone()),
            None => (404, b"{\"message\":\"404 Not Found\"}".to_vec()),
        },
        _ => (405, Vec::new()),
    };
    state.lock().unwrap().log.push(Request {
        method,
        path,
        job_token_ok,
        status,
    });
    let reason = match status {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(&body)?;
    out.flush()
}
