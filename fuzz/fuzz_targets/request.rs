//! Request parser + decision. Invariants: no panic; an answer only for an exact form (checked
//! on the parsed request, on the raw lines, and, for `url=`, against the WHATWG reading of the
//! URL); and every exact, well-formed request is answered.
#![no_main]

use std::sync::OnceLock;

use git_credential_gitlab_ci::policy::{decide, Decision};
use git_credential_gitlab_ci::protocol::parse_request;
use git_credential_gitlab_ci::server::Server;
use git_credential_gitlab_ci_fuzz::{
    exact, reader_lines, servers, should_answer, whatwg_reads_as, Reader, USERNAME,
};
use libfuzzer_sys::fuzz_target;

static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let servers = SERVERS.get_or_init(servers);
    let Ok(request) = parse_request(data) else {
        return;
    };
    for value in [&request.protocol, &request.host].into_iter().flatten() {
        assert!(
            !value.iter().any(|b| matches!(b, b'\n' | b'\r' | 0)),
            "control byte in a parsed value"
        );
    }
    let protocol = request.protocol.as_deref().unwrap_or_default();
    let host = request.host.as_deref().unwrap_or_default();
    let should_answer = should_answer(
        protocol,
        host,
        request.username.as_deref(),
        request.has_password,
    );

    match decide(&request, servers, USERNAME) {
        Decision::Answer(server) => {
            assert!(
                should_answer,
                "answered a request the oracle refuses: {request:?}"
            );
            let lines = reader_lines(data, Reader::Git);
            let url = lines.iter().find_map(|l| l.strip_prefix(b"url="));
            match url {
                // The raw `host=` line itself names an exact form.
                None => assert!(
                    lines
                        .iter()
                        .any(|l| l.strip_prefix(b"host=").is_some_and(|h| exact(protocol, h))),
                    "answered, but no raw host line is exact"
                ),
                // A WHATWG reader of the same URL connects to the server we answered for.
                Some(url) => {
                    let url = std::str::from_utf8(url).unwrap();
                    assert!(whatwg_reads_as(url, server), "WHATWG reads {url} elsewhere");
                    let url = url::Url::parse(url).unwrap();
                    assert!(url.username().is_empty() || url.username() == USERNAME);
                    assert_eq!(url.password(), None);
                }
            }
        }
        Decision::Decline(why) => {
            assert!(
                !should_answer,
                "declined ({why}) an exact request: {request:?}"
            );
        }
    }
});
