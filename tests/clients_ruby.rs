//! bundler fetching a git gem through git's credential helpers, from a Gemfile that needs no gem
//! server, against the GitLab-faithful server `gitlab.test` of `tests/support`, with the helper
//! configured as docs/usage.md says.
//!
//! It proves: the private gem is fetched (and pinned in `Gemfile.lock`); a gem on another server
//! (`other.test`, a decoy that would accept the job token) never gets the token; a wrong token
//! fails under a generous time limit (a hang is a failure; speed is never asserted); the token is
//! in no file under `HOME` (bundler's install path, cache and home, the lock file, `TMPDIR`).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::auth_log::*;
use support::gitlab_job::{tool_available, GitLabJob};
use support::*;

const TIMEOUT: Duration = Duration::from_secs(120);

/// A gem `name` in `group/<name>` on `server`: a gemspec and one file, no dependencies.
fn create_gem(server: &GitServer, name: &str) -> String {
    let module: String = name
        .split('_')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect();
    let gemspec = format!(
        "Gem::Specification.new do |s|\n  s.name = \"{name}\"\n  s.version = \"0.1.0\"\n  \
         s.summary = \"A private gem\"\n  s.authors = [\"CI\"]\n  \
         s.files = [\"lib/{name}.rb\"]\nend\n"
    );
    let lib = format!("module {module}\n  ANSWER = \"{name} from the private server\"\nend\n");
    server.create_repo(
        &format!("group/{name}"),
        &[
            (&format!("{name}.gemspec"), gemspec.as_bytes()),
            (&format!("lib/{name}.rb"), lib.as_bytes()),
        ],
    )
}

/// A Gemfile with one git gem and **no** `source` line: bundler then needs no gem server at all,
/// only git.
fn gemfile_project(env: &ClientEnv, name: &str, gem: &str, url: &str) -> PathBuf {
    let dir = env.work().join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("Gemfile"),
        format!("gem \"{gem}\", git: \"{url}\"\n"),
    )
    .unwrap();
    dir
}

/// bundler with its install path, user home and cache under `HOME` (as root it would otherwise
/// install into the system's gem directory).
fn bundle(env: &ClientEnv, args: &[&str], app: &Path) -> Command {
    let mut cmd = env.command("bundle");
    cmd.args(args)
        .current_dir(app)
        .env("BUNDLE_PATH", env.home().join("gems"))
        .env("BUNDLE_USER_HOME", env.home().join(".bundle"))
        .env("BUNDLE_APP_CONFIG", app.join(".bundle"))
        .env("BUNDLE_GEMFILE", app.join("Gemfile"));
    cmd
}

#[test]
fn bundler_git_gem_without_a_gem_server() {
    if !tool_available("bundle", &["--version"]) {
        return;
    }
    let lab = GitLabJob::start("bundler");
    let other = lab.decoy(&["other.test"]);
    let env = &lab.env;
    let head = create_gem(&lab.server, "private_gem");
    eprintln!(
        "testing {}",
        env.run(env.command("bundle").arg("--version"))
            .stdout
            .trim()
    );
    let url = lab.server.repo_url("group/private_gem");

    let app = gemfile_project(env, "app", "private_gem", &url);
    env.run(bundle(env, &["install"], &app));
    let lock = fs::read_to_string(app.join("Gemfile.lock")).unwrap();
    assert!(
        lock.contains(&format!("revision: {head}")),
        "Gemfile.lock does not pin the commit:\n{lock}"
    );
    let ruby = "require 'private_gem'; puts PrivateGem::ANSWER";
    let out = env.run(bundle(env, &["exec", "ruby", "-e", ruby], &app));
    assert_eq!(out.stdout.trim(), "private_gem from the private server");
    assert_challenged_then_served(
        &lab.server,
        &[("POST", "/group/private_gem.git/git-upload-pack")],
    );

    create_gem(&other, "foreign_gem");
    let app2 = gemfile_project(
        env,
        "app2",
        "foreign_gem",
        &other.repo_url("group/foreign_gem"),
    );
    env.run_unchecked(bundle(env, &["install"], &app2), TIMEOUT)
        .assert_failed_without_hanging();
    assert_no_credentials_offered(&other);

    let wrong = lab.wrong_token_env();
    lab.server.clear_log();
    let app3 = gemfile_project(&wrong, "app3", "private_gem", &url);
    wrong
        .run_unchecked(bundle(&wrong, &["install"], &app3), TIMEOUT)
        .assert_failed_without_hanging();
    assert_wrong_token_refused(&lab.server);

    env.assert_token_not_on_disk(&[]);
    wrong.assert_token_not_on_disk(&[]);
}
