//! `configure` and `unconfigure`, driven as a user would, in isolated environments (temporary
//! `HOME`, no system config, `--file` or `--global` only), against the GitLab-like test server
//! with real git and cargo. No test writes the machine's own git configuration: the only
//! `--system` run is a `--dry-run` with `GIT_CONFIG_SYSTEM` pointing at a temporary file.

mod support;

use std::fs;
use std::path::Path;

use support::{binary, ClientEnv, GitServer, Job, Run, RunOutput, TestCa};

/// The helper under test, as `configure` writes it: the absolute path it was run by.
fn ours() -> String {
    binary::path().display().to_string()
}

/// Runs a verb of the helper; panics unless it succeeds and obeys the output rules.
fn helper(env: &ClientEnv, args: &[&str]) -> RunOutput {
    let out = env.run_verb(args, None);
    assert!(out.success(), "{out}");
    out
}

fn git_config_get_all(env: &ClientEnv, file: &Path, key: &str) -> Vec<String> {
    let mut cmd = env.git(["config", "--file"]);
    cmd.arg(file).args(["--get-all", key]);
    let out = env.run_unchecked(cmd, support::env::DEFAULT_TIMEOUT);
    out.stdout.lines().map(str::to_string).collect()
}

/// The job-token allowlist scenario every test starts from: a server, a repository, a job
/// environment whose global config already has `credential.helper=store`.
fn job_with_store_first(label: &str) -> (TestCa, GitServer, ClientEnv) {
    let Job {
        ca, server, env, ..
    } = Job::with_only_helper(label, "store");
    (ca, server, env)
}

#[test]
fn configure_global_after_store_clones_and_keeps_the_token_out_of_git_credentials() {
    let (_ca, server, env) = job_with_store_first("configure_store");
    let out = helper(&env, &["configure", "--global"]);
    assert!(out.stdout.contains(".gitconfig"), "{out}");

    env.run(env.git(["clone", &server.repo_url("group/project"), "clone"]));
    assert_eq!(
        fs::read(env.work().join("clone/README.md")).unwrap(),
        b"hello\n"
    );
    // credential-store is still configured, first; it was asked, found nothing, and was never
    // given the token to store.
    let stored = fs::read_to_string(env.home().join(".git-credentials")).unwrap_or_default();
    assert!(
        !stored.contains(env.token().unwrap()),
        "~/.git-credentials holds the job token"
    );
    let gitconfig = env.home().join(".gitconfig");
    assert_eq!(
        git_config_get_all(&env, &gitconfig, "credential.helper")[0],
        "store"
    );
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn without_configure_store_would_write_the_token_so_the_check_above_can_fail() {
    let (_ca, server, env) = job_with_store_first("store_leaks");
    env.run(env.git(["config", "--global", "--add", "credential.helper", &ours()]));
    env.run(env.git(["clone", &server.repo_url("group/project"), "clone"]));
    let stored = fs::read_to_string(env.home().join(".git-credentials")).unwrap_or_default();
    assert!(stored.contains(env.token().unwrap()));
}

#[test]
fn configure_twice_leaves_one_entry_and_the_same_bytes() {
    let (_ca, server, env) = job_with_store_first("configure_twice");
    let file = env.home().join("target.gitconfig");
    fs::write(
        &file,
        "[user]\n\tname = Someone\n[credential]\n\thelper = store\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    helper(&env, &["configure", "--file", path, "--rewrite-ssh"]);
    let once = fs::read(&file).unwrap();
    helper(&env, &["configure", "--file", path, "--rewrite-ssh"]);
    assert_eq!(
        String::from_utf8(fs::read(&file).unwrap()).unwrap(),
        String::from_utf8(once).unwrap()
    );
    let helpers = git_config_get_all(&env, &file, "credential.helper");
    assert_eq!(helpers, ["store".to_string(), ours()]);
    let scoped = git_config_get_all(&env, &file, &format!("credential.{}.helper", server.url()));
    assert_eq!(scoped, ["".to_string(), ours()]);
    let rewrites = git_config_get_all(&env, &file, &format!("url.{}/.insteadOf", server.url()));
    assert_eq!(rewrites, ["git@localhost:", "ssh://git@localhost/"]);
}

#[test]
fn configure_replaces_an_earlier_registration_with_other_options() {
    let (_ca, _server, env) = job_with_store_first("configure_replace");
    let file = env.home().join("target.gitconfig");
    let path = file.to_str().unwrap();
    helper(
        &env,
        &["configure", "--file", path, "--server", "https://a.example"],
    );
    helper(
        &env,
        &["configure", "--file", path, "--server", "https://b.example"],
    );
    let helpers = git_config_get_all(&env, &file, "credential.helper");
    assert_eq!(helpers, [format!("{} --server https://b.example", ours())]);
    assert!(git_config_get_all(&env, &file, "credential.https://a.example.helper").is_empty());
}

#[test]
fn unconfigure_restores_the_file_byte_for_byte_with_git_2_47_and_2_39() {
    let (_ca, _server, mut env) = job_with_store_first("unconfigure");
    let path_var = env.var("PATH").unwrap().to_string_lossy().into_owned();
    let gits = ["/usr/local/bin", "/usr/bin"]
        .into_iter()
        .filter(|dir| Path::new(dir).join("git").exists());
    for dir in gits {
        // configure and unconfigure write through the first git on PATH.
        env.set_var("PATH", format!("{dir}:{path_var}"));
        let file = env.home().join("target.gitconfig");
        let original = "# my settings\n[user]\n\tname = Someone\n[credential]\n\thelper = store\n\tuseHttpPath = false\n[url \"https://mirror.example/\"]\n\tinsteadOf = git@mirror.example:\n[core]\n\tautocrlf = input\n";
        fs::write(&file, original).unwrap();
        let path = file.to_str().unwrap();
        let args = [
            "--file",
            path,
            "--server",
            "https://second.example:8443/gitlab",
            "--token-file",
            "/run/secrets/ci_job_token",
        ];
        let mut configure = vec!["configure", "--rewrite-ssh"];
        configure.extend(args);
        helper(&env, &configure);
        assert_ne!(fs::read_to_string(&file).unwrap(), original, "{dir}");
        let mut unconfigure = vec!["unconfigure"];
        unconfigure.extend(args);
        let out = helper(&env, &unconfigure);
        assert!(out.stdout.contains("unconfigured"), "{out}");
        assert_eq!(fs::read_to_string(&file).unwrap(), original, "{dir}");
    }
}

#[test]
fn configure_writes_helper_options_shell_quoted_and_git_runs_them() {
    let (_ca, server, env) = job_with_store_first("configure_quoted");
    let dir = env.home().join("secret dir");
    fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("job token");
    fs::write(&token_file, format!("{}\n", env.token().unwrap())).unwrap();
    let mut env = env;
    env.remove_var("CI_JOB_TOKEN");
    helper(
        &env,
        &[
            "configure",
            "--global",
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    );
    let helpers = git_config_get_all(&env, &env.home().join(".gitconfig"), "credential.helper");
    assert_eq!(
        helpers.last().unwrap(),
        &format!("{} --token-file '{}'", ours(), token_file.display())
    );
    env.run(env.git(["ls-remote", &server.repo_url("group/project")]));
}

#[test]
fn global_with_git_config_global_redirected_serves_git_clone_and_cargo_libgit2() {
    let Job {
        server, mut env, ..
    } = Job::start_with("configure_runner", |env| env.no_helper());
    // As GitLab Runner does: git reads only this file as its global configuration.
    let runner_config = env.home().join("runner/gitconfig");
    fs::create_dir_all(runner_config.parent().unwrap()).unwrap();
    fs::write(&runner_config, "[safe]\n\tdirectory = *\n").unwrap();
    env.set_var("GIT_CONFIG_GLOBAL", &runner_config);

    let out = helper(&env, &["configure", "--global"]);
    for file in [env.home().join(".gitconfig"), runner_config.clone()] {
        assert!(out.stdout.contains(&file.display().to_string()), "{out}");
        assert_eq!(
            git_config_get_all(&env, &file, "credential.helper"),
            [ours()],
            "{}",
            file.display()
        );
    }

    let app = support::cargo_project(&server, &env);
    env.run(env.git(["clone", &server.repo_url("group/private-dep"), "dep"]));

    server.clear_log();
    let mut cmd = env.cargo(["fetch"]);
    cmd.current_dir(&app);
    env.run(cmd);
    let log = server.log();
    assert!(
        !log.is_empty() && log.iter().all(|r| r.user_agent.contains("libgit2")),
        "cargo did not fetch through libgit2:\n{}",
        server.log_text()
    );
    assert!(
        log.iter()
            .any(|r| r.status == 200 && r.offered_ci_username()),
        "{}",
        server.log_text()
    );
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn ssh_style_clone_goes_over_https_after_rewrite_ssh() {
    let Job {
        server,
        token,
        mut env,
        ..
    } = Job::start_with("configure_ssh", |env| env.no_helper());
    server.create_repo("group/x", &[("README.md", b"via https\n")]);
    env.remove_var("CI_SERVER_URL");
    env.set_var("CI_SERVER_SHELL_SSH_HOST", "localhost");
    // No ssh may be attempted: a rewrite that does not apply fails loudly here.
    env.set_var("GIT_SSH_COMMAND", "false");
    helper(
        &env,
        &[
            "configure",
            "--global",
            "--server",
            &server.url(),
            "--rewrite-ssh",
        ],
    );
    for (url, dir) in [
        ("git@localhost:group/x.git", "scp"),
        ("ssh://git@localhost/group/x.git", "ssh"),
    ] {
        env.run(env.git(["clone", url, dir]));
        assert_eq!(
            fs::read(env.work().join(dir).join("README.md")).unwrap(),
            b"via https\n"
        );
    }
    let config = fs::read_to_string(env.home().join(".gitconfig")).unwrap();
    assert!(!config.contains(&token));
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn dry_run_prints_the_git_config_commands_and_writes_nothing() {
    let (_ca, server, env) = job_with_store_first("dry_run");
    let file = env.home().join("never-written.gitconfig");
    let out = helper(
        &env,
        &["configure", "--file", file.to_str().unwrap(), "--dry-run"],
    );
    assert!(!file.exists());
    let expected = [
        format!(
            "git config --file {} --add credential.helper {}",
            file.display(),
            ours()
        ),
        format!(
            "git config --file {} --add credential.{}.helper ''",
            file.display(),
            server.url()
        ),
        format!(
            "git config --file {} --add credential.{}.helper {}",
            file.display(),
            server.url(),
            ours()
        ),
    ];
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected, "{out}");
    // The printed commands do what configure does.
    for line in out.stdout.lines() {
        let mut cmd = env.command("sh");
        cmd.args(["-c", line]);
        env.run(cmd);
    }
    assert_eq!(
        git_config_get_all(&env, &file, "credential.helper"),
        [ours()]
    );
}

#[test]
fn system_dry_run_names_every_gits_system_file_and_libgit2s() {
    let (_ca, _server, mut env) = job_with_store_first("system_dry_run");
    let system = env.home().join("system-gitconfig");
    env.remove_var("GIT_CONFIG_NOSYSTEM");
    env.set_var("GIT_CONFIG_SYSTEM", &system);
    let out = helper(&env, &["configure", "--system", "--dry-run"]);
    assert!(
        out.stdout.contains(&format!(
            "--file {} --add credential.helper",
            system.display()
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("--file /etc/gitconfig --add credential.helper"),
        "{out}"
    );
    assert!(!system.exists());
}

#[test]
fn configure_warns_when_a_later_file_would_still_give_the_token_to_store() {
    let (_ca, server, mut env) = job_with_store_first("configure_warns");
    // Configure a "system" file; the global file (read later) keeps credential.helper=store.
    let system = env.home().join("system-gitconfig");
    env.remove_var("GIT_CONFIG_NOSYSTEM");
    env.set_var("GIT_CONFIG_SYSTEM", &system);
    let out = helper(&env, &["configure", "--file", system.to_str().unwrap()]);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("warning"), "{out}");
    assert!(lines[0].contains(&server.url()), "{out}");
    assert!(lines[0].contains("'store'"), "{out}");
    assert!(lines[0].contains(".gitconfig"), "{out}");
    // Configuring the global file as well silences it.
    let out = helper(&env, &["configure", "--global"]);
    assert!(out.stderr.is_empty(), "{out}");
}

#[test]
fn configure_never_writes_the_token() {
    let (_ca, _server, env) = job_with_store_first("configure_no_token");
    let file = env.home().join("target.gitconfig");
    helper(
        &env,
        &[
            "configure",
            "--file",
            file.to_str().unwrap(),
            "--rewrite-ssh",
        ],
    );
    let written = fs::read_to_string(&file).unwrap();
    assert!(written.contains("credential"), "{written}");
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn configure_help_documents_targets_and_the_global_double_write() {
    for (verb, needles) in [
        (
            "configure",
            &[
                "--system",
                "--global",
                "--file",
                "--rewrite-ssh",
                "--dry-run",
                "--server",
                "--token-file",
                "GIT_CONFIG_GLOBAL",
                "$HOME/.gitconfig",
                "/etc/gitconfig",
                "LAST credential.helper",
                "CI_SERVER_SHELL_SSH_HOST",
            ][..],
        ),
        (
            "unconfigure",
            &["--system", "--global", "--file", "exactly"][..],
        ),
    ] {
        let out = Run::new(&[verb, "--help"]).output();
        assert_eq!(out.code, Some(0));
        let help = out.stdout_text();
        for needle in needles {
            assert!(help.contains(needle), "{verb} --help lacks {needle:?}");
        }
    }
}

#[test]
fn default_target_is_global_when_git_reads_no_system_file() {
    // A dry run, so that a wrong choice could never touch the machine's system file.
    let (_ca, _server, env) = job_with_store_first("default_target");
    assert_eq!(
        env.var("GIT_CONFIG_NOSYSTEM"),
        Some(std::ffi::OsStr::new("1"))
    );
    let out = helper(&env, &["configure", "--dry-run"]);
    let global = env.home().join(".gitconfig");
    assert!(
        out.stdout
            .lines()
            .all(|l| l.starts_with(&format!("git config --file {} ", global.display()))),
        "{out}"
    );
    assert!(!out.stdout.contains("/etc/gitconfig"), "{out}");
}

#[test]
fn configure_run_through_a_symlink_writes_the_link_path() {
    let (_ca, _server, env) = job_with_store_first("configure_symlink");
    let bin = env.home().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let link = bin.join("git-credential-gitlab-ci");
    std::os::unix::fs::symlink(binary::built(), &link).unwrap();
    let file = env.home().join("target.gitconfig");
    let mut cmd = env.command(&link);
    cmd.args(["configure", "--file", file.to_str().unwrap()]);
    env.run(cmd);
    assert_eq!(
        git_config_get_all(&env, &file, "credential.helper"),
        [link.to_str().unwrap()]
    );
}

#[test]
fn server_section_with_other_keys_before_store_still_keeps_store_away() {
    let (_ca, server, env) = job_with_store_first("configure_section_first");
    let gitconfig = env.home().join(".gitconfig");
    // The server's section comes first and holds a key of its own; store comes after it.
    let original = format!(
        "[credential \"{}\"]\n\tusername = gitlab-ci-token\n{}",
        server.url(),
        fs::read_to_string(&gitconfig).unwrap()
    );
    fs::write(&gitconfig, &original).unwrap();
    helper(&env, &["configure", "--global"]);
    env.run(env.git(["clone", &server.repo_url("group/project"), "clone"]));
    let stored = fs::read_to_string(env.home().join(".git-credentials")).unwrap_or_default();
    assert!(
        !stored.contains(env.token().unwrap()),
        "store got the token"
    );
    helper(&env, &["unconfigure", "--global"]);
    assert_eq!(fs::read_to_string(&gitconfig).unwrap(), original);
}
