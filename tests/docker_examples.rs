//! The Docker examples (`examples/`, `docs/docker.md`), exercised as far as no Docker daemon is
//! needed — there is none on these machines. The BuildKit recipe's secret-mounted `RUN` is
//! taken from `examples/buildkit/Dockerfile` and run as BuildKit would run it: the secret as a
//! file, the command in a shell, against the GitLab-like HTTPS test server. The runner image's
//! and the CI job's commands are checked and, where they need no daemon, run.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::env::DEFAULT_TIMEOUT;
use support::{binary, find_token_in_trees, unique_token, AuthOutcome, ClientEnv, Run};
use support::{GitServer, TestCa};

fn example(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// A Dockerfile's instructions, continuation lines joined and comment lines dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part.trim_end());
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

/// The shell command of the `RUN` that mounts the `ci_job_token` secret, without its flags.
fn secret_run_command(dockerfile: &str) -> String {
    let run = instructions(dockerfile)
        .into_iter()
        .find(|i| i.starts_with("RUN ") && i.contains("--mount=type=secret,id=ci_job_token"))
        .expect("a RUN with the ci_job_token secret mount");
    let mut words = run["RUN ".len()..].trim_start();
    while let Some(rest) = words.strip_prefix("--") {
        words = rest
            .split_once(' ')
            .map(|(_, r)| r.trim_start())
            .unwrap_or("");
    }
    words.to_string()
}

fn shell(env: &ClientEnv, command: &str) -> support::RunOutput {
    let mut cmd = env.command("sh");
    cmd.args(["-c", command]);
    env.run_unchecked(cmd, DEFAULT_TIMEOUT)
}

struct Recipe {
    env: ClientEnv,
    secrets: tempfile::TempDir,
    secret: PathBuf,
    src: PathBuf,
    command: String,
}

/// The recipe's RUN, with BuildKit's paths mapped into temporary directories: the secret file,
/// the helper binary, and `/src`. `CI_SERVER_URL` is the build argument (an environment
/// variable inside RUN, as BuildKit sets it). No `CI_JOB_TOKEN` and no git helper configured.
fn recipe(ca: &TestCa, server: &GitServer, secret_content: &str) -> Recipe {
    let mut env = ClientEnv::builder(ca).no_helper().build();
    env.set_var("CI_SERVER_URL", server.url());
    let secrets = tempfile::Builder::new()
        .prefix("run-secrets-")
        .tempdir()
        .unwrap();
    let secret = secrets.path().join("ci_job_token");
    std::fs::write(&secret, secret_content).unwrap();
    let src = env.work().join("src");
    let command = secret_run_command(&example("buildkit/Dockerfile"));
    assert!(command.starts_with("git "), "{command}");
    let mapped = command
        .replace("/run/secrets/ci_job_token", secret.to_str().unwrap())
        .replace(
            "/usr/local/bin/git-credential-gitlab-ci",
            binary::path().to_str().unwrap(),
        )
        .replace(" /src/", &format!(" {}/", src.display()));
    Recipe {
        env,
        secrets,
        secret,
        src,
        command: mapped,
    }
}

#[test]
fn buildkit_recipe_clones_a_private_dependency_with_the_secret_file_and_leaves_the_token_nowhere_else(
) {
    let ca = TestCa::new();
    let token = unique_token("buildkit");
    let server = GitServer::start(&ca, &token);
    server.create_repo(
        "group/private-dependency",
        &[("lib.txt", b"private dependency\n")],
    );
    // BuildKit writes the secret exactly as given; with `env=CI_JOB_TOKEN` there is no newline.
    let r = recipe(&ca, &server, &token);

    let out = shell(&r.env, &r.command);
    assert!(out.success(), "{out}\nserver log:\n{}", server.log_text());
    let clone = r.src.join("private-dependency");
    assert_eq!(
        std::fs::read_to_string(clone.join("lib.txt")).unwrap(),
        "private dependency\n"
    );
    assert!(
        server.log().iter().any(|req| req.auth == AuthOutcome::Ok),
        "the server saw no request with the token:\n{}",
        server.log_text()
    );
    assert!(
        !out.stdout.contains(&token) && !out.stderr.contains(&token),
        "{out}"
    );

    // `git -c` left no helper in any config, and the token is in no file but the secret.
    let mut cmd = r.env.git(["config", "--get-all", "credential.helper"]);
    cmd.current_dir(&clone);
    let helpers = r.env.run_unchecked(cmd, Duration::from_secs(30));
    assert_eq!(helpers.stdout, "", "a credential.helper was persisted");
    let mut found = find_token_in_trees(&[r.env.home(), r.secrets.path()], &token);
    found.retain(|path| path != &r.secret);
    assert!(found.is_empty(), "the token was written to {found:?}");
}

#[test]
fn buildkit_recipe_uses_the_secret_and_nothing_else() {
    let ca = TestCa::new();
    let token = unique_token("buildkit-wrong");
    let server = GitServer::start(&ca, &token);
    server.create_repo("group/private-dependency", &[("lib.txt", b"x\n")]);
    // A wrong secret (with the trailing newline a `src=` file usually has): the clone fails,
    // so the credential came from the secret file and from nowhere else.
    let mut r = recipe(&ca, &server, "glcbt-64_not-the-token\n");
    r.env.set_var("CI_JOB_TOKEN", &token);
    let out = shell(&r.env, &r.command);
    assert!(!out.success(), "{out}");
    assert!(
        server
            .log()
            .iter()
            .any(|req| req.auth == AuthOutcome::WrongPassword),
        "{}",
        server.log_text()
    );
    assert!(!r.src.join("private-dependency/lib.txt").exists());
}

#[test]
fn examples_never_pass_the_token_by_argument_login_or_url() {
    let files = [
        "buildkit/Dockerfile",
        "runner-image/Dockerfile",
        "gitlab-ci.yml",
    ];
    for file in files {
        let all = example(file);
        // Comments may explain what not to do; the instructions and commands may not do it.
        let text: String = all
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        for (needle, why) in [
            (
                "docker login",
                "writes the token into ~/.docker/config.json",
            ),
            (
                "ARG CI_JOB_TOKEN",
                "build arguments end up in the provenance",
            ),
            (
                "--build-arg CI_JOB_TOKEN",
                "build arguments end up in the provenance",
            ),
            (
                "gitlab-ci-token:",
                "a token in a URL ends up in .git/config and logs",
            ),
            (
                "${CI_JOB_TOKEN}@",
                "a token in a URL ends up in .git/config and logs",
            ),
            (
                "$CI_JOB_TOKEN@",
                "a token in a URL ends up in .git/config and logs",
            ),
        ] {
            assert!(!text.contains(needle), "{file} contains {needle:?}: {why}");
        }
        for line in text.lines().filter(|l| l.contains("CI_JOB_TOKEN")) {
            assert!(
                line.trim_start().starts_with('#')
                    || line.contains("--secret id=ci_job_token,env=CI_JOB_TOKEN"),
                "{file}: CI_JOB_TOKEN used outside a BuildKit secret: {line}"
            );
        }
    }
    let buildkit = example("buildkit/Dockerfile");
    assert!(buildkit.starts_with("# syntax=docker/dockerfile:1"));
    assert!(example("gitlab-ci.yml").contains("-f examples/buildkit/Dockerfile"));
}

#[test]
fn runner_image_links_the_docker_name_and_configures_the_system() {
    let dockerfile = example("runner-image/Dockerfile");
    let steps = instructions(&dockerfile);
    assert!(steps.contains(
        &"COPY git-credential-gitlab-ci /usr/local/bin/git-credential-gitlab-ci".to_string()
    ));
    let run = steps
        .iter()
        .find(|s| s.contains("configure --system"))
        .expect("a RUN with configure --system");
    assert!(
        run.contains("git-credential-gitlab-ci configure --system"),
        "{run}"
    );
    // The link part of that RUN, run in a scratch bin directory: the link speaks Docker's
    // protocol. (`configure --system` is the configure verb's, tested with it.)
    let link = run["RUN ".len()..]
        .split("&&")
        .next()
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(
        link,
        "ln -s git-credential-gitlab-ci /usr/local/bin/docker-credential-gitlab-ci"
    );
    let bin = tempfile::tempdir().unwrap();
    std::fs::copy(binary::built(), bin.path().join("git-credential-gitlab-ci")).unwrap();
    let status = std::process::Command::new("sh")
        .args([
            "-c",
            &link.replace("/usr/local/bin", bin.path().to_str().unwrap()),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let out = Run::new(&["list"])
        .program(bin.path().join("docker-credential-gitlab-ci"))
        .env("CI_REGISTRY", "registry.example.com")
        .output();
    assert_eq!(
        out.stdout_text(),
        "{\"registry.example.com\":\"gitlab-ci-token\"}\n"
    );
}

#[test]
fn ci_job_docker_configure_step_writes_cred_helpers_and_never_the_token() {
    let job = example("gitlab-ci.yml");
    let step = job
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("- git-credential-gitlab-ci docker configure"))
        .expect("the job runs docker configure");
    assert_eq!(step, "");
    let home = tempfile::tempdir().unwrap();
    let token = unique_token("job");
    let out = Run::new(&["docker", "configure"])
        .env("HOME", home.path())
        .env("CI_REGISTRY", "registry.example.com")
        .env("CI_DEPENDENCY_PROXY_SERVER", "gitlab.example.com:443")
        .env("CI_JOB_TOKEN", &token)
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr_text());
    out.assert_stderr_rules();
    let config = std::fs::read_to_string(home.path().join(".docker/config.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"credHelpers": {
            "registry.example.com": "gitlab-ci",
            "gitlab.example.com:443": "gitlab-ci",
        }})
    );
    assert!(find_token_in_trees(&[home.path()], &token).is_empty());
}
