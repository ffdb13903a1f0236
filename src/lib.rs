//! `git-credential-gitlab-ci`: a git credential helper that answers git's credential requests
//! for the GitLab server of a CI job — and for nothing else — with `gitlab-ci-token` and the job
//! token.
//!
//! The code follows one rule: decisions are pure, I/O is at the edges.
//! [`protocol`] turns bytes into a [`protocol::Request`] and an [`protocol::Answer`] into bytes,
//! [`policy::decide`] decides, [`server`] and [`token`] say what is configured, and [`helper`]
//! wires them to standard input and output. Everything written to standard error goes through
//! [`diagnostics`], which enforces the output rules on every line; every URL is parsed through
//! [`urls`].
//!
//! Around that core: [`docker`] speaks Docker's credential-helper protocol for the job's
//! registries with the same rules; [`configure`] registers the helper in git (and Docker)
//! configuration; [`doctor`] explains a setup and a failing clone; [`gitconfig`] is what both
//! know about reading git configuration and helper values.
//!
//! For doctor's dependency plan: [`dependencies`] reads a checkout's manifests into the
//! repositories a job will fetch and says which are for our servers; [`git_failure`] names the
//! cause of a failed `git ls-remote`/fetch/push from git's stderr; [`printable`] makes any text
//! from outside safe to print (one line, no userinfo).

pub mod cli;
pub mod configure;
pub mod dependencies;
pub mod diagnostics;
pub mod docker;
pub mod doctor;
pub mod git_failure;
pub mod gitconfig;
pub mod helper;
pub mod policy;
pub mod printable;
pub mod protocol;
pub mod server;
pub mod token;
pub mod urls;
