//! `host_matches` on arbitrary bytes, both ways: true exactly for the server's exact forms,
//! written out by hand below (ASCII case-insensitive, nothing else).
#![no_main]

use std::sync::OnceLock;

use git_credential_gitlab_ci::server::{host_matches, Server};
use git_credential_gitlab_ci_fuzz::servers;
use libfuzzer_sys::fuzz_target;

static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    for server in SERVERS.get_or_init(servers) {
        let expected = forms_of(server)
            .iter()
            .any(|form| data.eq_ignore_ascii_case(form.as_bytes()));
        assert_eq!(
            host_matches(data, server),
            expected,
            "host {:?} against {server}",
            String::from_utf8_lossy(data)
        );
    }
});

/// The exact forms that belong to one server.
fn forms_of(server: &Server) -> &'static [&'static str] {
    match (server.host.as_str(), server.port) {
        ("gitlab.example.com", 443) => &["gitlab.example.com", "gitlab.example.com:443"],
        ("gitlab.example.com", 8443) => &["gitlab.example.com:8443"],
        ("gitlab.internal", 80) => &["gitlab.internal", "gitlab.internal:80"],
        ("[::1]", 9443) => &["[::1]:9443"],
        _ => unreachable!("unknown server {server}"),
    }
}
