//! Test infrastructure shared by the integration tests (`mod support;`): a throw-away CA,
//! a GitLab-like HTTPS git server, and isolated client environments.
#![allow(dead_code)]

pub mod env;
pub mod git_server;
pub mod tls;

#[allow(unused_imports)]
pub use env::{find_bytes_in_tree, run_with_timeout, unique_token, ClientEnv, RunOutput};
#[allow(unused_imports)]
pub use git_server::{AuthOutcome, GitServer, LoggedRequest, CI_USERNAME};
#[allow(unused_imports)]
pub use tls::TestCa;
