//! An HTTP `CONNECT` proxy that gives loopback servers public names without `/etc/hosts`.
//!
//! Go module paths carry no port, so tests need `https://gitlab.test/...` to reach a server on
//! `127.0.0.1:PORT`. Clients that honour `HTTPS_PROXY`/`https_proxy` (git/libcurl, Go, curl, pip,
//! uv, npm) send `CONNECT gitlab.test:443` here; the proxy looks the authority up in its map and
//! tunnels the bytes to the mapped address, where TLS is between the client and the server (the
//! certificate names `gitlab.test`). Plain-HTTP requests (`GET http://gitlab.test/…`, for
//! near-miss tests of the `http` scheme) are passed on the same way, one per connection.
//! Unmapped targets get `403` and no connection, so nothing in
//! a test reaches the network by accident. Every request is logged ([`ProxyRequest`]), mapped or
//! not, so a test can show which names a client tried.
//!
//! Do not point cargo at it: any proxy variable makes cargo drop libgit2's credential helpers
//! (`../shared/reference/clients.md`); cargo tests use [`super::GitServer::local_url`].
//!
//! Listens on `127.0.0.1`, port chosen by the OS; dropping it closes every tunnel and joins
//! every thread.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::env::ClientEnv;
use super::git_server::GitServer;
use super::http;

/// One request the proxy received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRequest {
    pub method: String,
    /// The authority asked for (`gitlab.test:443` for `CONNECT`, `gitlab.test:80` for
    /// `GET http://gitlab.test/…`), lower-cased; for a request of neither form, its target.
    pub target: String,
    /// 200 (tunnel opened or request passed on), 403 (not mapped), 405 (neither `CONNECT` nor
    /// an `http://` target) or 502 (mapped address down).
    pub status: u16,
}

/// One connection's sockets (shut down on drop, which ends its copies) and its thread.
type Connection = (Arc<Mutex<Vec<TcpStream>>>, JoinHandle<()>);

struct Shared {
    routes: Mutex<HashMap<String, SocketAddr>>,
    log: Mutex<Vec<ProxyRequest>>,
    stopping: AtomicBool,
    connections: Mutex<Vec<Connection>>,
}

pub struct ConnectProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

/// `host` → `host:<default_port>`; `host:port` as is; lower-cased.
fn authority(target: &str, default_port: u16) -> String {
    let target = target.to_ascii_lowercase();
    if target
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        target
    } else {
        format!("{target}:{default_port}")
    }
}

/// Where a request goes.
enum Target {
    /// `CONNECT host:port`: a tunnel (TLS end to end).
    Tunnel(String),
    /// `GET http://host[:port]/path`: forwarded as `GET /path`, one request per connection.
    Forward {
        authority: String,
        origin_form: String,
    },
}

fn target_of(head: &http::RequestHead) -> Option<Target> {
    if head.method == "CONNECT" {
        return Some(Target::Tunnel(head.path.to_ascii_lowercase()));
    }
    let rest = head.path.strip_prefix("http://")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let query = if head.query.is_empty() {
        String::new()
    } else {
        format!("?{}", head.query)
    };
    let path = if path.is_empty() { "/" } else { path };
    Some(Target::Forward {
        authority: authority(host, 80),
        origin_form: format!("{path}{query}"),
    })
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            routes: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("connect-proxy-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn proxy thread");
        ConnectProxy {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        }
    }

    /// `http://127.0.0.1:PORT`, the value for `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends requests for `target` (`host` meaning `host:443`, or `host:port`) to `to`.
    pub fn map(&self, target: &str, to: SocketAddr) {
        self.insert(authority(target, 443), to);
    }

    fn insert(&self, authority: String, to: SocketAddr) {
        self.shared.routes.lock().unwrap().insert(authority, to);
    }

    /// Maps `server`'s authority (its public name, or `localhost:PORT`) and every alias to it,
    /// on port 443 for an HTTPS server and 80 for a plain-HTTP one.
    pub fn route(&self, server: &GitServer) {
        let port = if server.scheme() == "https" { 443 } else { 80 };
        self.insert(authority(server.authority(), port), server.addr());
        for name in server.names() {
            self.insert(authority(name, port), server.addr());
        }
    }

    /// Points `env`'s clients at this proxy for https and http (both spellings: libcurl reads
    /// only the lower-case `http_proxy`, Go either).
    pub fn apply(&self, env: &mut ClientEnv) {
        for key in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            env.set_var(key, self.url());
        }
    }

    pub fn log(&self) -> Vec<ProxyRequest> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The `CONNECT` targets so far, in order.
    pub fn targets(&self) -> Vec<String> {
        self.log().into_iter().map(|r| r.target).collect()
    }

    pub fn clear_log(&self) {
        self.shared.log.lock().unwrap().clear();
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
        let connections = std::mem::take(&mut *self.shared.connections.lock().unwrap());
        for (sockets, handle) in connections {
            for socket in sockets.lock().unwrap().iter() {
                let _ = socket.shutdown(Shutdown::Both);
            }
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let Ok(control) = stream.try_clone() else {
            continue;
        };
        let sockets = Arc::new(Mutex::new(vec![control]));
        let (conn_shared, conn_sockets) = (Arc::clone(&shared), Arc::clone(&sockets));
        let handle = thread::spawn(move || {
            let _ = serve(&conn_shared, stream, &conn_sockets);
        });
        let mut connections = shared.connections.lock().unwrap();
        connections.retain(|(_, h)| !h.is_finished());
        connections.push((sockets, handle));
    }
}

fn refuse(mut client: &TcpStream, status: u16, text: &str) -> io::Result<()> {
    let response = http::Response::new(status, "text/plain", format!("{text}\n"));
    http::write_response(&mut client, &response, true)
}

fn serve(shared: &Shared, client: TcpStream, sockets: &Mutex<Vec<TcpStream>>) -> io::Result<()> {
    // The head is read under a time limit; an open tunnel may idle as long as its client likes.
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(head) = http::read_head(&mut reader)? else {
        return Ok(());
    };
    let target = target_of(&head);
    let (method, name) = match &target {
        Some(Target::Tunnel(authority)) | Some(Target::Forward { authority, .. }) => {
            (head.method.clone(), authority.clone())
        }
        None => (head.method.clone(), head.path.to_ascii_lowercase()),
    };
    let upstream = match &target {
        None => Err(405),
        Some(_) => {
            let mapped = shared.routes.lock().unwrap().get(&name).copied();
            match mapped {
                None => Err(403),
                Some(addr) => TcpStream::connect(addr).map_err(|_| 502),
            }
        }
    };
    shared.log.lock().unwrap().push(ProxyRequest {
        method,
        target: name.clone(),
        status: *upstream.as_ref().err().unwrap_or(&200),
    });
    let mut upstream = match upstream {
        Ok(upstream) => upstream,
        Err(405) => return refuse(&client, 405, "only CONNECT and http:// targets"),
        Err(403) => return refuse(&client, 403, &format!("{name} is not mapped")),
        Err(status) => return refuse(&client, status, &format!("{name} refused")),
    };
    client.set_read_timeout(None)?;
    let _ = upstream.set_nodelay(true);
    sockets.lock().unwrap().push(upstream.try_clone()?);
    match target {
        Some(Target::Forward { origin_form, .. }) => {
            // The request in origin form, without hop-by-hop headers, closing after the answer
            // (the next request on this connection would be in absolute form again).
            let mut request = format!("{} {origin_form} {}\r\n", head.method, head.version);
            for (name, value) in &head.headers {
                if !matches!(
                    name.as_str(),
                    "connection" | "proxy-connection" | "proxy-authorization" | "keep-alive"
                ) {
                    request.push_str(&format!("{name}: {value}\r\n"));
                }
            }
            request.push_str("Connection: close\r\n\r\n");
            upstream.write_all(request.as_bytes())?;
        }
        _ => (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?,
    }

    let (mut from_upstream, mut to_client) = (upstream.try_clone()?, client.try_clone()?);
    let downstream = thread::spawn(move || {
        let _ = io::copy(&mut from_upstream, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    // The reader hands over whatever the client sent after the head first (a ClientHello).
    let _ = io::copy(&mut reader, &mut upstream);
    let _ = upstream.shutdown(Shutdown::Write);
    let _ = downstream.join();
    Ok(())
}
