//! Docker registry `get` input: `decide_registry` on arbitrary bytes, both ways against the
//! hand-written exact forms, and the answer JSON round-trips whatever the request held.
#![no_main]

use std::sync::OnceLock;

use git_credential_gitlab_ci::docker::{
    answer_json, decide_registry, Registry, RegistryDecision, RegistryOrigin, MAX_GET_BYTES,
};
use libfuzzer_sys::fuzz_target;

static REGISTRIES: OnceLock<Vec<Registry>> = OnceLock::new();

/// Configured registries and, for each, the exact `host[:port]` forms (lower-case) it answers.
const REGISTRIES_AND_FORMS: &[(&str, &[&str])] = &[
    (
        "registry.gitlab.example.com",
        &[
            "registry.gitlab.example.com",
            "registry.gitlab.example.com:443",
        ],
    ),
    ("registry.example.com:5050", &["registry.example.com:5050"]),
    ("[::1]:5000", &["[::1]:5000"]),
];

const SECRET: &str = "glcbt-64_\"fuzz\\secret\u{2028}";

fuzz_target!(|data: &[u8]| {
    let registries = REGISTRIES.get_or_init(|| {
        REGISTRIES_AND_FORMS
            .iter()
            .map(|(name, _)| Registry::parse(name, RegistryOrigin::Option).unwrap())
            .collect()
    });
    // The oracle: one trailing LF dropped, an optional lower-case `https://`, then an exact form
    // in any ASCII case.
    let given = data.strip_suffix(b"\n").unwrap_or(data);
    let address = given
        .strip_prefix(b"https://")
        .unwrap_or(given)
        .to_ascii_lowercase();
    let expected = (data.len() <= MAX_GET_BYTES)
        .then(|| {
            REGISTRIES_AND_FORMS
                .iter()
                .position(|(_, forms)| forms.iter().any(|f| f.as_bytes() == address))
        })
        .flatten();
    match decide_registry(data, registries) {
        RegistryDecision::Answer {
            registry,
            server_url,
        } => {
            let i =
                expected.unwrap_or_else(|| panic!("answered {:?}", String::from_utf8_lossy(data)));
            assert_eq!(registry, &registries[i]);
            assert_eq!(server_url.as_bytes(), given);
            let json = answer_json(server_url, "gitlab-ci-token", SECRET);
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(value["ServerURL"], server_url);
            assert_eq!(value["Username"], "gitlab-ci-token");
            assert_eq!(value["Secret"], SECRET);
            assert_eq!(json.iter().filter(|&&b| b == b'\n').count(), 1);
        }
        RegistryDecision::NotFound(why) => assert!(
            expected.is_none(),
            "not found ({why}): {:?}",
            String::from_utf8_lossy(data)
        ),
    }
});
