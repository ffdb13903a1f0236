//! What a command line asks for, in the library's types, and running it: the one dispatch that
//! `main` and the in-process tests share. `cli` builds the [`Invocation`]; `main` takes the
//! environment snapshot it needs ([`Invocation::protocol_variables`]) and calls [`run`].
//!
//! A new mode plugs in here: a variant of [`Invocation`] holding its options, the variables it
//! reads in [`Invocation::protocol_variables`] (a protocol that runs on every fetch reads only
//! those; a verb takes the whole environment), its arm in [`Invocation::token`] and [`run`]; and
//! in `cli`, its words in the full tree and — when it runs on every fetch — in the small command.

use std::ffi::OsString;
use std::io::{BufRead, Write};

use crate::diagnostics::{Diagnostics, DEBUG_ENV};
use crate::env::Env;
use crate::options::HelperOptions;
use crate::outcome::Outcome;
use crate::token::TokenSource;
use crate::{configure, docker, doctor, goauth, helper, keyring, server};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// git's credential protocol: `get`, `store`, `erase`, or another word.
    Helper(HelperOptions, helper::Operation),
    /// Docker's: the `docker` verb, or the binary run as `docker-credential-gitlab-ci`.
    Docker(TokenSource, docker::Options, docker::Operation),
    Configure(configure::Action, configure::Options, HelperOptions),
    Doctor(doctor::Options, HelperOptions),
    /// Go's GOAUTH command: `goauth`, and the URL Go adds after a 4xx.
    Goauth(HelperOptions, Option<OsString>),
    /// pip's and uv's keyring: the `keyring` verb, or the binary run as `keyring`.
    Keyring(HelperOptions, keyring::Request),
}

impl Invocation {
    /// The variables a credential protocol reads — it runs on every fetch, and copying a CI
    /// job's hundreds of variables would cost more than the request — or `None` for a verb,
    /// which takes the whole environment ([`Env::read_all`]).
    pub fn protocol_variables(&self) -> Option<Vec<&str>> {
        let variables: &[&str] = match self {
            Invocation::Helper(..) | Invocation::Goauth(..) | Invocation::Keyring(..) => {
                &server::VARIABLES
            }
            Invocation::Docker(_, _, docker::Operation::Configure) => return None,
            Invocation::Docker(..) => &docker::VARIABLES,
            Invocation::Configure(..) | Invocation::Doctor(..) => return None,
        };
        let mut names = variables.to_vec();
        names.push(DEBUG_ENV);
        names.extend(self.token().secret_variables());
        Some(names)
    }

    /// Where the token comes from.
    pub fn token(&self) -> &TokenSource {
        match self {
            Invocation::Helper(options, _)
            | Invocation::Goauth(options, _)
            | Invocation::Keyring(options, _)
            | Invocation::Configure(_, _, options)
            | Invocation::Doctor(_, options) => &options.token,
            Invocation::Docker(token, _, _) => token,
        }
    }
}

/// Runs the invocation with `env`, the request (if any) on `input`, answers and reports on
/// `output`, problems on stderr. `read_helper_options` is the command line's own parser, for
/// `doctor` to read our helper values with (see [`doctor::Context`]).
pub fn run(
    invocation: Invocation,
    env: &Env,
    read_helper_options: &dyn Fn(&[String]) -> Option<HelperOptions>,
    input: impl BufRead,
    output: &mut impl Write,
) -> Outcome {
    let diagnostics = Diagnostics::for_sources(env, std::slice::from_ref(invocation.token()));
    match invocation {
        Invocation::Helper(options, operation) => {
            helper::run(operation, &options, env, input, output, &diagnostics)
        }
        Invocation::Docker(token, options, operation) => docker::run(
            operation,
            &options,
            &token,
            env,
            input,
            output,
            &diagnostics,
        ),
        Invocation::Configure(action, options, helper) => {
            configure::run(action, &options, &helper, env, &diagnostics, output)
        }
        Invocation::Goauth(options, url) => {
            goauth::run(url.as_deref(), &options, env, input, output, &diagnostics)
        }
        Invocation::Keyring(options, request) => {
            keyring::run(&request, &options, env, input, output, &diagnostics)
        }
        Invocation::Doctor(options, helper) => {
            let context = doctor::Context {
                env,
                options: &helper,
                diagnostics: &diagnostics,
                read_helper_options,
            };
            doctor::run(&context, &options, output)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_read_their_variables_the_debug_switch_and_the_token_variables() {
        let options = HelperOptions {
            token: TokenSource::Env("MY_TOKEN".into()),
            ..HelperOptions::default()
        };
        let get = Invocation::Helper(options.clone(), helper::Operation::Get);
        let names = get.protocol_variables().unwrap();
        for name in [
            "CI_SERVER_URL",
            "CI_SERVER_HOST",
            DEBUG_ENV,
            "CI_JOB_TOKEN",
            "MY_TOKEN",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        let docker_get = Invocation::Docker(
            TokenSource::default(),
            docker::Options::default(),
            docker::Operation::Get,
        );
        assert!(docker_get
            .protocol_variables()
            .unwrap()
            .contains(&"CI_REGISTRY"));
        let docker_configure = Invocation::Docker(
            TokenSource::default(),
            docker::Options::default(),
            docker::Operation::Configure,
        );
        assert_eq!(docker_configure.protocol_variables(), None);
        let doctor = Invocation::Doctor(doctor::Options::default(), options.clone());
        assert_eq!(doctor.protocol_variables(), None);
        // The URL modes read what git's protocol reads: the server, the token, the switch.
        let goauth = Invocation::Goauth(options.clone(), None);
        let keyring = Invocation::Keyring(
            options,
            keyring::Request {
                mode: keyring::Mode::Password,
                format: keyring::Format::Plain,
                operation: keyring::Operation::Get,
                service: None,
                user: None,
            },
        );
        for mode in [goauth, keyring] {
            assert_eq!(mode.protocol_variables(), get.protocol_variables());
        }
    }
}
