//! npm fetching git dependencies through git's credential helpers — `npm install git+https://…`
//! and `npm ci` from the lock file (npm runs git with `GIT_ASKPASS=echo`) — against the
//! GitLab-faithful server `gitlab.test` of `tests/support`, with the helper configured as
//! docs/usage.md says.
//!
//! It proves: the private dependency is fetched (and pinned in the lock file without
//! credentials); a dependency on another server (`other.test`, a decoy that would accept the job
//! token) never gets the token; a wrong token fails under a generous time limit (a hang is a
//! failure; speed is never asserted); the token is in no file under `HOME` (npm's cache, the
//! lock file, `node_modules`, `TMPDIR`).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::auth_log::*;
use support::clients::git_url;
use support::gitlab_job::{tool_available, GitLabJob};
use support::*;

const TIMEOUT: Duration = Duration::from_secs(120);

/// npm with no registry in reach (so only the git server can satisfy it), no audit, no fund
/// message, no update check; its cache is `$HOME/.npm`.
fn npm(env: &ClientEnv, args: &[&str], cwd: &Path) -> Command {
    let mut cmd = env.command("npm");
    cmd.args(args)
        .args(["--no-audit", "--no-fund", "--no-update-notifier"])
        .env("npm_config_registry", "http://127.0.0.1:9/")
        .current_dir(cwd);
    cmd
}

fn package_json(name: &str, dependencies: &str) -> String {
    format!(
        "{{\"name\": \"{name}\", \"version\": \"1.0.0\", \"main\": \"index.js\", \
         \"dependencies\": {{{dependencies}}}}}\n"
    )
}

fn app(env: &ClientEnv, name: &str) -> PathBuf {
    let dir = env.work().join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("package.json"), package_json(name, "")).unwrap();
    dir
}

#[test]
fn npm_install_git_url_and_npm_ci_from_the_lock_file() {
    if !tool_available("npm", &["--version"]) {
        return;
    }
    let lab = GitLabJob::start("npm");
    let other = lab.decoy(&["other.test"]);
    let env = &lab.env;
    let head = lab.server.create_repo(
        "group/npm-private",
        &[
            ("package.json", package_json("npm-private", "").as_bytes()),
            ("index.js", b"module.exports = 42;\n"),
        ],
    );
    let url = git_url(&lab.server, "group/npm-private");
    eprintln!(
        "testing npm {}",
        env.run(env.command("npm").arg("--version")).stdout.trim()
    );

    let dir = app(env, "app");
    env.run(npm(env, &["install", &url], &dir));
    let installed = dir.join("node_modules/npm-private/index.js");
    assert_eq!(fs::read(&installed).unwrap(), b"module.exports = 42;\n");
    let lock = fs::read_to_string(dir.join("package-lock.json")).unwrap();
    assert!(
        lock.contains(&format!(
            "{}#{head}",
            lab.server.repo_url("group/npm-private")
        )),
        "the lock file does not pin the commit:\n{lock}"
    );
    assert_challenged_then_served(
        &lab.server,
        &[("POST", "/group/npm-private.git/git-upload-pack")],
    );

    // npm ci, with neither node_modules nor npm's cache left: it must clone again.
    fs::remove_dir_all(dir.join("node_modules")).unwrap();
    fs::remove_dir_all(env.home().join(".npm")).unwrap();
    lab.server.clear_log();
    env.run(npm(env, &["ci"], &dir));
    assert_eq!(fs::read(&installed).unwrap(), b"module.exports = 42;\n");
    assert_served_with_the_job_token(
        &lab.server,
        &[("POST", "/group/npm-private.git/git-upload-pack")],
    );

    // A package of ours that depends on one on the other server, private there.
    other.create_repo(
        "group/foreign",
        &[("package.json", package_json("foreign", "").as_bytes())],
    );
    let foreign = format!("\"foreign\": \"{}\"", git_url(&other, "group/foreign"));
    lab.server.create_repo(
        "group/npm-with-foreign",
        &[(
            "package.json",
            package_json("npm-with-foreign", &foreign).as_bytes(),
        )],
    );
    let dir2 = app(env, "app2");
    let with_foreign = git_url(&lab.server, "group/npm-with-foreign");
    env.run_unchecked(npm(env, &["install", &with_foreign], &dir2), TIMEOUT)
        .assert_failed_without_hanging();
    // npm's GIT_ASKPASS=echo makes git send the prompt as a user name where no helper answers:
    // harmless, and never the token.
    assert_never_received_the_job_token(&other);
    assert!(other.log().iter().all(|r| !r.offered_ci_username()));

    // A wrong token: git gets the 401 and npm gives up.
    let wrong = lab.wrong_token_env();
    lab.server.clear_log();
    let dir3 = app(&wrong, "app3");
    wrong
        .run_unchecked(npm(&wrong, &["install", &url], &dir3), TIMEOUT)
        .assert_failed_without_hanging();
    assert_wrong_token_refused(&lab.server);

    env.assert_token_not_on_disk(&[]);
    wrong.assert_token_not_on_disk(&[]);
}
