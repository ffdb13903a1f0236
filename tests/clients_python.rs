//! Python tools fetching git dependencies through git's credential helpers — pip 23
//! (`install git+https://…` in a venv), uv (`pip install git+https://…`), poetry (`lock` of a git
//! dependency) and pre-commit (a hook repository) — against the GitLab-faithful server
//! `gitlab.test` of `tests/support`, with the helper configured as docs/usage.md says.
//!
//! Each test proves: the client gets the private dependency; a dependency on another server
//! (`other.test`, a decoy that would accept the job token) never gets the token; a wrong token
//! fails under a generous time limit (a hang is a failure; speed is never asserted); the token
//! is in no file under `HOME` (the tools' caches, virtual environments, lock files, `TMPDIR`).
//! (Installing from GitLab's PyPI registry through the keyring mode: `clients_pypi_keyring.rs`.)

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::auth_log::*;
use support::clients::{git_url, python_package, venv};
use support::gitlab_job::{tool_available, GitLabJob};
use support::*;

const TIMEOUT: Duration = Duration::from_secs(180);

/// A job with `group/private_pkg` on `gitlab.test`, `group/foreign_pkg` on the decoy
/// `other.test`, and `group/with_foreign` on `gitlab.test` depending on `foreign_pkg` by URL.
fn python_job(label: &str) -> (GitLabJob, GitServer) {
    let lab = GitLabJob::start(label);
    let other = lab.decoy(&["other.test"]);
    python_package(&lab.server, "private_pkg", &[]);
    python_package(&other, "foreign_pkg", &[]);
    python_package(
        &lab.server,
        "with_foreign",
        &[format!(
            "foreign_pkg @ {}",
            git_url(&other, "group/foreign_pkg")
        )],
    );
    (lab, other)
}

#[track_caller]
fn assert_imports(env: &ClientEnv, venv: &Path, module: &str) {
    let mut cmd = env.command(venv.join("bin/python"));
    cmd.args(["-c", &format!("import {module}; print({module}.ANSWER)")]);
    assert_eq!(
        env.run(cmd).stdout.trim(),
        format!("{module} from the private server")
    );
}

/// The client's install command for `args` (requirements and flags) into `venv`.
type Install<'a> = &'a dyn Fn(&ClientEnv, &Path, &[&str]) -> Command;

/// What the pip and uv tests do with their client; `version` is its `--version` command.
fn install_from_git(label: &str, version: Install, install: Install, reinstall: &str) {
    let (lab, other) = python_job(label);
    let env = &lab.env;
    let venv = venv(env, "venv");
    eprintln!(
        "testing {}",
        env.run(version(env, &venv, &[])).stdout.trim()
    );

    env.run(install(
        env,
        &venv,
        &[&git_url(&lab.server, "group/private_pkg")],
    ));
    assert_imports(env, &venv, "private_pkg");
    assert_challenged_then_served(
        &lab.server,
        &[("POST", "/group/private_pkg.git/git-upload-pack")],
    );

    let with_foreign = git_url(&lab.server, "group/with_foreign");
    env.run_unchecked(install(env, &venv, &[&with_foreign]), TIMEOUT)
        .assert_failed_without_hanging();
    assert_no_credentials_offered(&other);

    let wrong = lab.wrong_token_env();
    lab.server.clear_log();
    let private = git_url(&lab.server, "group/private_pkg");
    wrong
        .run_unchecked(install(&wrong, &venv, &[reinstall, &private]), TIMEOUT)
        .assert_failed_without_hanging();
    assert_wrong_token_refused(&lab.server);

    env.assert_token_not_on_disk(&[]);
    wrong.assert_token_not_on_disk(&[]);
}

#[test]
fn pip_install_git_url_in_a_venv() {
    if !tool_available("python3", &["-c", "import venv, ensurepip"]) {
        return;
    }
    let pip = |env: &ClientEnv, venv: &Path, args: &[&str]| {
        let mut cmd = env.command(venv.join("bin/pip"));
        cmd.args(args).env("PIP_NO_INDEX", "1");
        cmd
    };
    let pip_install = |env: &ClientEnv, venv: &Path, args: &[&str]| {
        let mut cmd = pip(env, venv, &["install"]);
        cmd.args(args);
        cmd
    };
    let version = |env: &ClientEnv, venv: &Path, _: &[&str]| pip(env, venv, &["--version"]);
    install_from_git("pip_git", &version, &pip_install, "--force-reinstall");
}

#[test]
fn uv_pip_install_git_url() {
    if !tool_available("python3", &["-c", "import venv"]) || !tool_available("uv", &["--version"]) {
        return;
    }
    let uv_install = |env: &ClientEnv, venv: &Path, args: &[&str]| {
        let mut cmd = env.command("uv");
        cmd.args(["pip", "install", "--no-index", "--python"])
            .arg(venv.join("bin/python"))
            .args(args)
            .env("UV_PYTHON_DOWNLOADS", "never")
            .env("UV_NO_PROGRESS", "1");
        cmd
    };
    let version = |env: &ClientEnv, _: &Path, _: &[&str]| {
        let mut cmd = env.command("uv");
        cmd.arg("--version");
        cmd
    };
    install_from_git("uv_git", &version, &uv_install, "--reinstall");
}

fn poetry_project(env: &ClientEnv, name: &str, dependency: &str) -> PathBuf {
    let dir = env.work().join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("pyproject.toml"),
        format!(
            "[project]\nname = \"{name}\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\n\
             dependencies = [\"{dependency}\"]\n\n[tool.poetry]\npackage-mode = false\n"
        ),
    )
    .unwrap();
    dir
}

fn poetry_lock(env: &ClientEnv, dir: &Path) -> Command {
    let mut cmd = env.command("poetry");
    cmd.args(["lock", "--no-interaction"]).current_dir(dir);
    cmd
}

#[test]
fn poetry_lock_of_a_git_dependency() {
    if !tool_available("poetry", &["--version"]) {
        return;
    }
    let (lab, other) = python_job("poetry");
    let env = &lab.env;
    let head = lab.server.head("group/private_pkg");
    eprintln!(
        "testing {}",
        env.run(env.command("poetry").arg("--version"))
            .stdout
            .trim()
    );
    let private = format!(
        "private_pkg @ {}",
        git_url(&lab.server, "group/private_pkg")
    );

    let dir = poetry_project(env, "app", &private);
    env.run(poetry_lock(env, &dir));
    let lock = fs::read_to_string(dir.join("poetry.lock")).unwrap();
    assert!(
        lock.contains(&format!("resolved_reference = \"{head}\"")),
        "poetry.lock does not pin the commit:\n{lock}"
    );
    // poetry's own git client (dulwich) gets the 401 first, then poetry runs the system git.
    assert_served_with_the_job_token(
        &lab.server,
        &[("POST", "/group/private_pkg.git/git-upload-pack")],
    );

    let with_foreign = format!(
        "with_foreign @ {}",
        git_url(&lab.server, "group/with_foreign")
    );
    let dir2 = poetry_project(env, "app2", &with_foreign);
    env.run_unchecked(poetry_lock(env, &dir2), TIMEOUT)
        .assert_failed_without_hanging();
    assert_no_credentials_offered(&other);

    let wrong = lab.wrong_token_env();
    lab.server.clear_log();
    let dir3 = poetry_project(&wrong, "app3", &private);
    wrong
        .run_unchecked(poetry_lock(&wrong, &dir3), TIMEOUT)
        .assert_failed_without_hanging();
    assert_wrong_token_refused(&lab.server);

    env.assert_token_not_on_disk(&[]);
    wrong.assert_token_not_on_disk(&[]);
}

/// A job environment the way pre-commit needs it: pre-commit removes the `GIT_*` variables
/// (`GIT_CONFIG_GLOBAL`, `GIT_CONFIG_NOSYSTEM`, `GIT_TERMINAL_PROMPT`, …; it keeps a few such as
/// `GIT_SSL_CAINFO` and `GIT_CONFIG_COUNT`, see `no_git_env` in pre-commit's `git.py`) before it
/// runs git, so the helper must be in `$HOME/.gitconfig` — written here by our own
/// `configure --global`.
fn precommit_env(lab: &GitLabJob, token: &str) -> ClientEnv {
    let env = lab.other_env(|b| b.server_url(lab.server.url()).token(token).no_helper());
    let out = env.run_verb(&["configure", "--global"], None);
    assert!(out.success(), "{out}");
    let gitconfig = fs::read_to_string(env.home().join(".gitconfig")).unwrap();
    let helper = support::binary::path().display().to_string();
    assert!(
        gitconfig.contains(&helper),
        "configure --global did not register the helper:\n{gitconfig}"
    );
    env
}

/// A hook repository `group/hooks` on `server` whose hook `say-hello` runs an executable script
/// from the repository itself; pushed into the bare repository directly (not over HTTP), so the
/// script keeps its executable bit. Returns the commit.
fn hook_repository(env: &ClientEnv, server: &GitServer, label: &str) -> String {
    let bare = server.create_empty_repo("group/hooks");
    let work = env.work().join(format!("hooks-src-{label}"));
    fs::create_dir_all(&work).unwrap();
    fs::write(
        work.join(".pre-commit-hooks.yaml"),
        "- id: say-hello\n  name: say hello\n  entry: hello.sh\n  language: script\n  \
         pass_filenames: false\n  always_run: true\n",
    )
    .unwrap();
    let script = work.join("hello.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\necho 'hello from the {label} hook repository'\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    for args in [
        &["init", "--quiet", "-b", "main"][..],
        &["add", ".pre-commit-hooks.yaml", "hello.sh"],
        &["commit", "--quiet", "-m", "hooks"],
        &["push", "--quiet", bare.to_str().unwrap(), "HEAD:main"],
    ] {
        let mut cmd = env.git(args);
        cmd.current_dir(&work);
        env.run(cmd);
    }
    server.head("group/hooks")
}

/// A git repository whose `.pre-commit-config.yaml` uses `say-hello` from `repo` at `rev`.
fn precommit_project(env: &ClientEnv, name: &str, repo: &str, rev: &str) -> PathBuf {
    let project = env.work().join(name);
    fs::create_dir_all(&project).unwrap();
    fs::write(
        project.join(".pre-commit-config.yaml"),
        format!("repos:\n- repo: {repo}\n  rev: {rev}\n  hooks:\n  - id: say-hello\n"),
    )
    .unwrap();
    for args in [
        &["init", "--quiet"][..],
        &["add", ".pre-commit-config.yaml"],
    ] {
        let mut cmd = env.git(args);
        cmd.current_dir(&project);
        env.run(cmd);
    }
    project
}

fn precommit_run(env: &ClientEnv, project: &Path) -> Command {
    let mut cmd = env.command("pre-commit");
    cmd.args(["run", "--all-files", "--verbose"])
        .current_dir(project)
        .env("PRE_COMMIT_HOME", env.home().join(".cache/pre-commit"));
    cmd
}

#[test]
fn pre_commit_hook_repository_through_home_gitconfig() {
    if !tool_available("pre-commit", &["--version"]) {
        return;
    }
    let lab = GitLabJob::start("precommit");
    let other = lab.decoy(&["other.test"]);
    let env = precommit_env(&lab, &lab.token);
    eprintln!(
        "testing {}",
        env.run(env.command("pre-commit").arg("--version"))
            .stdout
            .trim()
    );
    let rev = hook_repository(&env, &lab.server, "private");
    let hooks = lab.server.repo_url("group/hooks");

    let project = precommit_project(&env, "project", &hooks, &rev);
    let out = env.run(precommit_run(&env, &project));
    assert!(
        out.stdout
            .contains("hello from the private hook repository"),
        "the hook from the private repository did not run: {out}"
    );
    assert_challenged_then_served(&lab.server, &[("POST", "/group/hooks.git/git-upload-pack")]);

    let foreign_rev = hook_repository(&env, &other, "foreign");
    let project2 = precommit_project(
        &env,
        "project2",
        &other.repo_url("group/hooks"),
        &foreign_rev,
    );
    env.run_unchecked(precommit_run(&env, &project2), TIMEOUT)
        .assert_failed_without_hanging();
    assert_no_credentials_offered(&other);

    // The control: the helper only in a GIT_CONFIG_GLOBAL file (as GitLab Runner's token-free
    // mode does it) works for git itself but never reaches pre-commit's git. What the file names
    // is a recording wrapper around the helper, so the control holds whatever the machine's
    // system git configuration says (pre-commit strips GIT_CONFIG_NOSYSTEM too, so a helper
    // installed system-wide may still answer pre-commit's git — but never this file's).
    let mut runner_style =
        lab.other_env(|b| b.server_url(lab.server.url()).token(&lab.token).no_helper());
    let global = runner_style.home().join("runner-gitconfig");
    let calls = runner_style.home().join("runner-helper-calls");
    let wrapper = runner_style.home().join("runner-helper");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\nexec '{}' \"$@\"\n",
            calls.display(),
            support::binary::path().display()
        ),
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(
        &global,
        format!("[credential]\n\thelper = {}\n", wrapper.display()),
    )
    .unwrap();
    runner_style.set_var("GIT_CONFIG_GLOBAL", &global);
    runner_style.run(runner_style.git(["ls-remote", &hooks]));
    assert!(
        fs::read_to_string(&calls).is_ok_and(|c| c.lines().any(|l| l == "get")),
        "git itself did not run the GIT_CONFIG_GLOBAL helper"
    );
    fs::remove_file(&calls).unwrap();
    let project4 = precommit_project(&runner_style, "project4", &hooks, &rev);
    runner_style.run_unchecked(precommit_run(&runner_style, &project4), TIMEOUT);
    assert!(
        !calls.exists(),
        "pre-commit's git ran the helper from GIT_CONFIG_GLOBAL: {:?}",
        fs::read_to_string(&calls)
    );

    let wrong = precommit_env(&lab, &unique_token("wrong"));
    lab.server.clear_log();
    let project3 = precommit_project(&wrong, "project3", &hooks, &rev);
    wrong
        .run_unchecked(precommit_run(&wrong, &project3), TIMEOUT)
        .assert_failed_without_hanging();
    assert_wrong_token_refused(&lab.server);

    env.assert_token_not_on_disk(&[]);
    wrong.assert_token_not_on_disk(&[]);
    runner_style.assert_token_not_on_disk(&[]);
}
