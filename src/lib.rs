//! `git-credential-gitlab-ci`: a git credential helper that answers git's credential requests
//! for the GitLab server of a CI job — and for nothing else — with `gitlab-ci-token` and the job
//! token.
//!
//! The code follows one rule: decisions are pure, I/O is at the edges, and the environment is
//! read once. The binary's `main.rs` and `cli.rs` (the only code that knows clap) parse the
//! command line into a [`program::Invocation`] ([`options::HelperOptions`] and each verb's
//! options), take an [`env`](mod@env) snapshot, [`program::run`] it, and turn its
//! [`outcome::Outcome`] into the exit status.
//!
//! The core, shared by every protocol:
//! - [`protocol`] turns git's bytes into a [`protocol::Request`] and an [`protocol::Answer`]
//!   into bytes;
//! - [`server`] says which servers are configured and holds the one origin comparison;
//! - [`token`] loads the token from its source; [`policy::decide`] decides;
//! - [`urls`] is the one way URLs and `host[:port]` are read;
//! - [`diagnostics`] writes every stderr line and is the one scrubber of secrets.
//!
//! The modes and verbs: [`helper`] speaks git's credential protocol; [`docker`] speaks
//! Docker's for the job's registries; [`goauth`] (Go's GOAUTH command) and [`keyring`] (pip's
//! and uv's keyring subprocess) are handed a whole URL, which [`policy::decide_url`] reads as
//! git's `url=` attribute and decides with the same [`policy::decide`]; [`configure`] registers the helper in git (and Docker)
//! configuration; [`doctor`] explains a setup and a failing clone. What they share:
//! [`gitconfig`] (the configuration model and git's helper rules), [`git`] (running git),
//! [`helper_value`] (the `credential.helper` value language) and [`process`] (running a program
//! under a time limit).
//!
//! For doctor's dependency plan: [`dependencies`] reads a checkout's manifests into the
//! repositories a job will fetch and says which are for our servers; [`doctor::git_failure`] names the
//! cause of a failed `git ls-remote`/fetch/push from git's stderr; [`printable`] makes any text
//! from outside safe to print (one line, no userinfo).

pub mod configure;
pub mod dependencies;
pub mod diagnostics;
pub mod docker;
pub mod doctor;
pub mod env;
pub mod files;
pub mod git;
pub mod gitconfig;
pub mod goauth;
pub mod helper;
pub mod helper_value;
pub mod keyring;
pub mod options;
pub mod outcome;
pub mod policy;
pub mod printable;
pub mod process;
pub mod program;
pub mod protocol;
pub mod server;
pub mod token;
pub mod urls;
