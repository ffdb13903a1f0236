//! The options every mode shares, as `main` parsed them from the command line: what a
//! `credential.helper` value can say about the helper. Each verb's own options live with the
//! verb (`configure::Options`, `doctor::Options`, `docker::Options`).

use crate::policy::DEFAULT_USERNAME;
use crate::token::TokenSource;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperOptions {
    /// The `--server` values in the order given, unparsed: each mode reads them with
    /// [`crate::server::configured_servers`] and decides what a bad one means for it.
    pub servers: Vec<String>,
    /// `--username`; [`DEFAULT_USERNAME`] unless given.
    pub username: String,
    /// `--token-env` or `--token-file`; `CI_JOB_TOKEN` unless given.
    pub token: TokenSource,
}

impl Default for HelperOptions {
    fn default() -> Self {
        HelperOptions {
            servers: Vec::new(),
            username: DEFAULT_USERNAME.into(),
            token: TokenSource::default(),
        }
    }
}
