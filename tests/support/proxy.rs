//! An HTTP `CONNECT` proxy that gives loopback servers public names without `/etc/hosts`.
//!
//! Go module paths carry no port, so tests need `https://gitlab.test/...` to reach a server on
//! `127.0.0.1:PORT`. Clients that honour `HTTPS_PROXY`/`https_proxy` (git/libcurl, Go, curl, pip,
//! uv, npm) send `CONNECT gitlab.test:443` here; the proxy looks the authority up in its map and
//! tunnels the bytes to the mapped address, where TLS is between the client and the server (the
//! certificate names `gitlab.test`). Unmapped targets get `403` and no connection, so nothing in
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
    /// The request target: for `CONNECT`, the authority (`gitlab.test:443`), lower-cased.
    pub target: String,
    /// 200 (tunnel opened), 403 (not mapped), 405 (not `CONNECT`) or 502 (mapped address down).
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

/// `host` → `host:443`; `host:port` as is; lower-cased.
fn authority(target: &str) -> String {
    let target = target.to_ascii_lowercase();
    if target
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        target
    } else {
        format!("{target}:443")
    }
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

    /// Tunnels `CONNECT target` (`host` meaning `host:443`, or `host:port`) to `to`.
    pub fn map(&self, target: &str, to: SocketAddr) {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(authority(target), to);
    }

    /// Maps `server`'s authority (its public name on port 443, or `localhost:PORT`) and every
    /// alias (port 443) to it.
    pub fn route(&self, server: &GitServer) {
        self.map(server.authority(), server.addr());
        for name in server.names() {
            self.map(name, server.addr());
        }
    }

    /// Points `env`'s clients at this proxy (`HTTPS_PROXY` and `https_proxy`; libcurl reads the
    /// lower-case one first, Go either).
    pub fn apply(&self, env: &mut ClientEnv) {
        env.set_var("HTTPS_PROXY", self.url());
        env.set_var("https_proxy", self.url());
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
    let target = head.path.to_ascii_lowercase();
    let upstream = if head.method != "CONNECT" {
        Err(405)
    } else {
        let mapped = shared.routes.lock().unwrap().get(&target).copied();
        match mapped {
            None => Err(403),
            Some(addr) => TcpStream::connect(addr).map_err(|_| 502),
        }
    };
    shared.log.lock().unwrap().push(ProxyRequest {
        method: head.method.clone(),
        target: target.clone(),
        status: *upstream.as_ref().err().unwrap_or(&200),
    });
    let mut upstream = match upstream {
        Ok(upstream) => upstream,
        Err(405) => return refuse(&client, 405, "only CONNECT is supported"),
        Err(403) => return refuse(&client, 403, &format!("{target} is not mapped")),
        Err(status) => return refuse(&client, status, &format!("{target} refused")),
    };
    client.set_read_timeout(None)?;
    let _ = upstream.set_nodelay(true);
    sockets.lock().unwrap().push(upstream.try_clone()?);
    (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;

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
