//! pip and uv installing a private package from GitLab's PyPI registry (the simple index of
//! `tests/support/pypi.rs`, behind HTTP Basic with realm `GitLab Packages Registry`) with
//! `--keyring-provider subprocess`, the index URL holding only the user name
//! (`https://gitlab-ci-token@gitlab.test/api/v4/projects/<id>/packages/pypi/simple`), through a
//! `keyring` link to the helper in a directory of its own, first on `PATH`.
//!
//! For pip 23.2 (the venv's, from `ensurepip`), pip 26 (a second venv, from the wheel `.ci/run`
//! downloads into `CLIENT_WHEELS`, default `target/client-wheels`: it asks keyring in creds mode
//! for JSON) and uv, each test shows: the package installs and imports; the control, without the
//! link, fails; an index on another server (`other.test`, a decoy that would accept the job
//! token), alone or as an extra index, never receives the token; a wrong token fails under a generous time limit (a hang
//! is a failure; speed is never asserted); the token is in no file under `HOME`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::auth_log::*;
use support::clients::{link_keyring, venv};
use support::gitlab_job::{tool_available, GitLabJob};
use support::*;

const TIMEOUT: Duration = Duration::from_secs(120);

/// The pip 26 this suite installs from a local wheel (never from the network).
const PIP_26: &str = "pip==26.3";

/// The job: `private-lib` in the private project `group/pylib` of `gitlab.test`, and
/// `foreign-lib` in a private project of `other.test`.
struct Index {
    lab: GitLabJob,
    other: GitServer,
    wheel: Wheel,
    /// The project index URL with the user name and no password, as the docs tell users.
    url: String,
    /// The same on the other server.
    other_url: String,
}

fn with_user(index_url: &str) -> String {
    index_url.replacen("https://", "https://gitlab-ci-token@", 1)
}

fn index(label: &str) -> Index {
    let lab = GitLabJob::start(label);
    let other = lab.decoy(&["other.test"]);
    let wheel = Wheel::pure("private-lib", "1.0.0", "def answer():\n    return 42\n");
    lab.server.publish_wheel("group/pylib", &wheel);
    let foreign = Wheel::pure("foreign-lib", "1.0.0", "X = 1\n");
    other.publish_wheel("group/foreign", &foreign);
    let url = with_user(&lab.server.pypi_index_url("group/pylib"));
    let other_url = with_user(&other.pypi_index_url("group/foreign"));
    Index {
        lab,
        other,
        wheel,
        url,
        other_url,
    }
}

/// A venv whose pip is [`PIP_26`], installed from `CLIENT_WHEELS`; `None` (after a SKIPPED line,
/// or a failure under `CI=true`) when the wheel is not there.
fn pip26_venv(env: &ClientEnv) -> Option<PathBuf> {
    let wheels = std::env::var_os("CLIENT_WHEELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/client-wheels"));
    let has_wheel = std::fs::read_dir(&wheels)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("pip-26."))
        })
        .unwrap_or(false);
    if !has_wheel {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but no pip 26 wheel in {} (.ci/run downloads it)",
            wheels.display()
        );
        eprintln!(
            "SKIPPED: no pip 26 wheel in {} (python3 -m pip download --no-deps -d DIR {PIP_26})",
            wheels.display()
        );
        return None;
    }
    let venv = venv(env, "venv26");
    let mut cmd = env.command(venv.join("bin/python"));
    cmd.args(["-m", "pip", "install", "--no-index", "--find-links"])
        .arg(&wheels)
        .arg(PIP_26);
    env.run(cmd);
    Some(venv)
}

/// `pip install` of `private-lib` from `index` (and `extra` indexes) with the keyring provider,
/// reinstalled each time so that every run asks the indexes.
fn pip_install(env: &ClientEnv, venv: &Path, index: &str, extra: &[&str]) -> Command {
    let mut cmd = env.command(venv.join("bin/pip"));
    cmd.args([
        "install",
        "--no-cache-dir",
        "--no-deps",
        "--force-reinstall",
        "--keyring-provider",
        "subprocess",
        "--index-url",
        index,
    ]);
    for url in extra {
        cmd.args(["--extra-index-url", url]);
    }
    cmd.arg("private-lib==1.0.0");
    cmd
}

/// The uv executable itself. Its pyenv shim would put the Python version's `bin/` first on
/// `PATH` — where a real `keyring` may be installed, as on these machines — so the link would
/// no longer be the first `keyring` uv finds.
fn uv_program() -> PathBuf {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", "import uv; print(uv.find_uv_bin())"]);
    let out = run_with_timeout(cmd, TIMEOUT);
    match out.success() {
        true => PathBuf::from(out.stdout.trim()),
        false => PathBuf::from("uv"),
    }
}

/// `uv pip install` into `venv`, the same way.
fn uv_install(env: &ClientEnv, venv: &Path, index: &str, extra: &[&str]) -> Command {
    let mut cmd = env.command(uv_program());
    cmd.args([
        "pip",
        "install",
        "--no-cache",
        "--no-deps",
        "--reinstall",
        "--python",
    ])
    .arg(venv.join("bin/python"))
    .args(["--keyring-provider", "subprocess", "--index-url", index]);
    for url in extra {
        cmd.args(["--extra-index-url", url]);
    }
    cmd.arg("private-lib==1.0.0")
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_PROGRESS", "1");
    cmd
}

type Install<'a> = &'a dyn Fn(&ClientEnv, &Path, &str, &[&str]) -> Command;

/// What every client must show; `venv_for(env)` makes the venv the client installs into.
fn installs_through_the_keyring_link(
    label: &str,
    venv_for: &dyn Fn(&ClientEnv) -> Option<PathBuf>,
    install: Install,
) {
    let Index {
        mut lab,
        other,
        wheel,
        url,
        other_url,
    } = index(label);

    // The control: no keyring on PATH, so the client has no password to send and fails.
    let Some(venv) = venv_for(&lab.env) else {
        return;
    };
    let out = lab
        .env
        .run_unchecked(install(&lab.env, &venv, &url, &[]), TIMEOUT);
    out.assert_failed_without_hanging();
    assert!(
        lab.server.log().iter().any(|r| r.status == 401)
            && lab.server.log().iter().all(|r| r.auth != AuthOutcome::Ok),
        "{}",
        lab.server.log_text()
    );

    // Through the link: the package installs and imports.
    link_keyring(&mut lab.env);
    lab.server.clear_log();
    let out = lab
        .env
        .run_unchecked(install(&lab.env, &venv, &url, &[]), TIMEOUT);
    assert!(out.success(), "{out}\n{}", lab.server.log_text());
    let mut check = lab.env.command(venv.join("bin/python"));
    check.args([
        "-c",
        &format!("import {0}; print({0}.answer())", wheel.module),
    ]);
    assert_eq!(lab.env.run(check).stdout.trim(), "42");
    assert_served_with_the_job_token(
        &lab.server,
        &[
            ("GET", "/packages/pypi/simple/private-lib"),
            (
                "GET",
                &format!("/packages/pypi/files/{}/", wheel.sha256_hex()),
            ),
        ],
    );

    // An index on the other server, alone and as an extra index: asked, refused (401), and
    // never given the token (pip skips a refused extra index; uv stops at it).
    for (index, extra) in [
        (other_url.as_str(), &[][..]),
        (url.as_str(), &[&*other_url][..]),
    ] {
        other.clear_log();
        let out = lab
            .env
            .run_unchecked(install(&lab.env, &venv, index, extra), TIMEOUT);
        assert!(!out.timed_out(), "{out}");
        assert_never_received_the_job_token(&other);
        assert!(
            other.log().iter().any(|r| r.status == 401),
            "{}",
            other.log_text()
        );
    }

    // A wrong token: the keyring answers it, the registry refuses it, the install fails.
    let mut wrong = lab.wrong_token_env();
    link_keyring(&mut wrong);
    let venv_wrong = venv_for(&wrong).expect("the same client");
    lab.server.clear_log();
    let out = wrong.run_unchecked(install(&wrong, &venv_wrong, &url, &[]), TIMEOUT);
    out.assert_failed_without_hanging();
    assert_wrong_token_refused(&lab.server);

    lab.env.assert_token_not_on_disk(&[]);
    wrong.assert_token_not_on_disk(&[]);
}

fn python_venv(env: &ClientEnv) -> Option<PathBuf> {
    Some(venv(env, "venv"))
}

#[test]
fn pip_23_installs_from_the_gitlab_index_through_the_keyring_link() {
    if !tool_available("python3", &["-c", "import venv, ensurepip"]) {
        return;
    }
    installs_through_the_keyring_link("pip23_keyring", &python_venv, &pip_install);
}

#[test]
fn pip_26_installs_from_the_gitlab_index_through_the_keyring_link_in_creds_mode() {
    if !tool_available("python3", &["-c", "import venv, ensurepip"]) {
        return;
    }
    installs_through_the_keyring_link("pip26_keyring", &pip26_venv, &pip_install);
}

#[test]
fn uv_installs_from_the_gitlab_index_through_the_keyring_link() {
    if !tool_available("python3", &["-c", "import venv"]) || !tool_available("uv", &["--version"]) {
        return;
    }
    installs_through_the_keyring_link("uv_keyring", &python_venv, &uv_install);
}
