//! Docker registry `get` input: `decide_registry` on arbitrary bytes, both ways against the
//! oracle's hand-written exact forms, and the answer JSON round-trips whatever the request held.
#![no_main]

use std::sync::OnceLock;

use git_credential_gitlab_ci::docker::{answer_json, decide_registry, Registry, RegistryDecision};
use git_credential_gitlab_ci_fuzz::{expected_registry, registries, registry_address};
use libfuzzer_sys::fuzz_target;

static REGISTRIES: OnceLock<Vec<Registry>> = OnceLock::new();

const SECRET: &str = "glcbt-64_\"fuzz\\secret\u{2028}";

fuzz_target!(|data: &[u8]| {
    let registries = REGISTRIES.get_or_init(registries);
    let expected = expected_registry(data);
    match decide_registry(data, registries) {
        RegistryDecision::Answer {
            registry,
            server_url,
        } => {
            let i =
                expected.unwrap_or_else(|| panic!("answered {:?}", String::from_utf8_lossy(data)));
            assert_eq!(registry, &registries[i]);
            assert_eq!(server_url.as_bytes(), registry_address(data));
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
