//! The Docker examples (`examples/`, `docs/docker.md`), exercised as far as no Docker daemon is
//! needed — there is none on these machines. The BuildKit recipe's secret-mounted `RUN` is
//! taken from `examples/buildkit/Dockerfile` and run as BuildKit would run it: the secret as a
//! file, the command in a shell, against the GitLab-like HTTPS test server. The runner image's
//! and the CI job's commands are checked and, where they need no daemon, run.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
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
    assert_eq!(copy_from_helper_image(&steps).len(), 1, "{steps:?}");
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

/// The scratch image's path users copy the helper from.
const IMAGE_BINARY: &str = "/usr/local/bin/git-credential-gitlab-ci";

/// The examples' `COPY --from=<helper image> /usr/local/bin/git-credential-gitlab-ci
/// /usr/local/bin/` instructions: the image references they copy from.
fn copy_from_helper_image(steps: &[String]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|s| {
            let words: Vec<&str> = s.split_whitespace().collect();
            match words.as_slice() {
                ["COPY", from, src, "/usr/local/bin/"] if *src == IMAGE_BINARY => {
                    from.strip_prefix("--from=").map(str::to_string)
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn examples_copy_the_helper_from_its_scratch_image_as_the_docs_show() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/docker.md"))
            .unwrap();
    for file in ["runner-image/Dockerfile", "buildkit/Dockerfile"] {
        let steps = instructions(&example(file));
        let images = copy_from_helper_image(&steps);
        assert_eq!(
            images.len(),
            1,
            "{file}: one COPY --from of the helper: {steps:?}"
        );
        let line = format!("COPY --from={} {IMAGE_BINARY} /usr/local/bin/", images[0]);
        assert!(
            docs.contains(&line),
            "docs/docker.md does not show {line:?}"
        );
        assert!(
            !steps
                .iter()
                .any(|s| s.starts_with("COPY git-credential-gitlab-ci")),
            "{file}: the build context no longer needs the binary"
        );
    }
}

/// The project's Dockerfile, split into stages: (the FROM line, the instructions after it).
fn scratch_image_stages() -> Vec<(String, Vec<String>)> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile");
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.starts_with("# syntax=docker/dockerfile:1"));
    let mut stages: Vec<(String, Vec<String>)> = Vec::new();
    for step in instructions(&text) {
        if step.starts_with("FROM ") {
            stages.push((step, Vec::new()));
        } else if let Some((_, steps)) = stages.last_mut() {
            steps.push(step);
        }
    }
    stages
}

#[test]
fn scratch_image_is_a_cross_building_stage_and_a_scratch_stage_with_one_copy() {
    let stages = scratch_image_stages();
    assert_eq!(stages.len(), 2, "{stages:?}");
    let (build_from, build) = &stages[0];
    assert!(
        build_from.starts_with("FROM --platform=$BUILDPLATFORM ")
            && build_from.ends_with(" AS build"),
        "the build stage runs on the build platform and cross-compiles: {build_from}"
    );
    assert!(build.contains(&"ARG TARGETARCH".to_string()), "{build:?}");
    assert!(build.contains(&"RUN dist/image-root.sh \"$TARGETARCH\" /out".to_string()));
    let (final_from, last) = &stages[1];
    assert_eq!(final_from, "FROM scratch");
    assert_eq!(last, &["COPY --from=build /out/ /".to_string()]);
}

/// Every file and link under `root`, relative, with `-> target` for links, sorted.
fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    std::fs::read_link(&path).unwrap().display()
                ));
            } else if kind.is_dir() {
                stack.push(path);
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// The build stage's RUN, run here as BuildKit runs it (in WORKDIR, the repository here), with
/// `/out` mapped to a temporary directory: the image's whole tree is the binary and the link,
/// of the right architecture. (Its binary comes from dist/release-binary.sh, as the release
/// archives' do; dist/reproducible.sh shows that build is the same from any path.)
#[test]
fn scratch_image_build_stage_lays_out_only_the_binary_and_the_docker_link() {
    let stages = scratch_image_stages();
    let run = stages[0]
        .1
        .iter()
        .find_map(|s| s.strip_prefix("RUN dist/image-root.sh"))
        .expect("the build stage runs dist/image-root.sh")
        .to_string();
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for (arch, triple, machine) in [
        ("amd64", "x86_64-unknown-linux-musl", 62u16),
        ("arm64", "aarch64-unknown-linux-musl", 183),
    ] {
        if !installed.lines().any(|l| l == triple) {
            let why = format!("the {triple} target is not installed (rustup target add {triple})");
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but {why}"
            );
            eprintln!("SKIPPED scratch image build stage for {arch}: {why}");
            continue;
        }
        let out = tempfile::tempdir().unwrap();
        let command = format!(
            "dist/image-root.sh{}",
            run.replace(" /out", &format!(" {}", out.path().display()))
        );
        let status = Command::new("sh")
            .args(["-c", &command])
            .env("TARGETARCH", arch)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "{command}");
        assert_eq!(
            tree(out.path()),
            [
                "usr/local/bin/docker-credential-gitlab-ci -> git-credential-gitlab-ci",
                "usr/local/bin/git-credential-gitlab-ci",
            ],
            "{arch}: the image holds only the binary and the link"
        );
        let binary = out.path().join(&IMAGE_BINARY[1..]);
        let bytes = std::fs::read(&binary).unwrap();
        assert_eq!(
            u16::from_le_bytes([bytes[18], bytes[19]]),
            machine,
            "{arch}"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&binary).unwrap().permissions().mode() & 0o777,
            0o755
        );
        if arch == "amd64" && std::env::consts::ARCH == "x86_64" {
            let version = Command::new(&binary)
                .arg("--version")
                .env_clear()
                .output()
                .unwrap();
            assert!(
                String::from_utf8_lossy(&version.stdout).starts_with("git-credential-gitlab-ci ")
            );
        }
    }
}
