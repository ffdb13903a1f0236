//! End-to-end tests with real clients — git 2.47 and 2.39, submodules, cargo (libgit2 and
//! git CLI transports), git-lfs, gitoxide — against a GitLab-like HTTPS server
//! (`tests/support/`), with the helper configured as the README tells users.
//!
//! Every test has its own CA, server(s) and client environment, asserts on the server's auth
//! log, and ends by checking that the job token was written to no file.

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use support::auth_log::*;
use support::*;

const GIT_247: &str = "/usr/local/bin/git";
const GIT_239: &str = "/usr/bin/git";

/// Hang guard for commands that are expected to fail: they must fail, not hang (git-lfs, for
/// one, retries a rejected token forever).
const FAILURE_TIMEOUT: Duration = Duration::from_secs(30);

/// A CA, an HTTPS server accepting a fresh token, and a job environment for that server.
fn setup(label: &str) -> Job {
    Job::start(label)
}

fn git_version(env: &ClientEnv, git: &str) -> String {
    env.run(env.command(git).arg("--version"))
        .stdout
        .trim()
        .to_string()
}

fn rev_parse(env: &ClientEnv, git: &str, dir: &Path, rev: &str) -> String {
    let mut cmd = env.command(git);
    cmd.current_dir(dir).args(["rev-parse", rev]);
    env.run(cmd).stdout.trim().to_string()
}

/// ls-remote, clone, fetch and push with one git binary.
fn git_clone_fetch_push(git: &str, label: &str) {
    let Job {
        server, env, token, ..
    } = setup(label);
    eprintln!("testing {}", git_version(&env, git));
    let first = server.create_repo("group/project", &[("README.md", b"hello\n")]);
    let url = server.repo_url("group/project");

    let mut cmd = env.command(git);
    cmd.args(["ls-remote", &url]);
    let out = env.run(cmd);
    assert!(
        out.stdout.contains(&format!("{first}\trefs/heads/main")),
        "{out}"
    );

    let mut cmd = env.command(git);
    cmd.args(["clone", &url, "clone"]);
    env.run(cmd);
    let clone = env.work().join("clone");
    assert_eq!(fs::read(clone.join("README.md")).unwrap(), b"hello\n");

    let second = server.commit_files(
        "group/project",
        &[("CHANGELOG.md", b"second\n")],
        "Second commit",
    );
    let mut cmd = env.command(git);
    cmd.current_dir(&clone).args(["fetch", "origin"]);
    env.run(cmd);
    assert_eq!(rev_parse(&env, git, &clone, "origin/main"), second);

    let mut cmd = env.command(git);
    cmd.current_dir(&clone)
        .args(["merge", "--ff-only", "--quiet", "origin/main"]);
    env.run(cmd);
    fs::write(clone.join("pushed.txt"), "from the job\n").unwrap();
    for args in [
        &["add", "pushed.txt"][..],
        &["commit", "--quiet", "-m", "Pushed by the job"][..],
        &["push", "origin", "HEAD:main"][..],
    ] {
        let mut cmd = env.command(git);
        cmd.current_dir(&clone).args(args);
        env.run(cmd);
    }
    assert_eq!(
        server.head("group/project"),
        rev_parse(&env, git, &clone, "HEAD")
    );

    assert_challenged_then_served(
        &server,
        &[
            ("GET", "/info/refs?service=git-upload-pack"),
            ("POST", "/git-upload-pack"),
            ("GET", "/info/refs?service=git-receive-pack"),
            ("POST", "/git-receive-pack"),
        ],
    );
    assert_eq!(env.token(), Some(token.as_str()));
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn git_2_47_ls_remote_clone_fetch_push() {
    assert!(
        Path::new(GIT_247).exists(),
        "{GIT_247} is missing: this machine is expected to have git 2.47 there"
    );
    git_clone_fetch_push(GIT_247, "git247");
}

#[test]
fn git_2_39_ls_remote_clone_fetch_push() {
    if !Path::new(GIT_239).exists() {
        eprintln!("SKIPPED: {GIT_239} (Debian's git 2.39) is not installed");
        return;
    }
    git_clone_fetch_push(GIT_239, "git239");
}

#[test]
fn clone_recurse_submodules_absolute_and_relative_https_urls() {
    let Job { server, env, .. } = setup("submodule");
    let sub = server.create_repo("group/sub", &[("sub.txt", b"from the submodule\n")]);
    server.create_repo("group/super", &[("README.md", b"superproject\n")]);
    let relative = server.create_repo("group/relative", &[("rel.txt", b"relative URL\n")]);
    server.add_submodule(
        "group/super",
        "libs/sub",
        &server.repo_url("group/sub"),
        &sub,
    );
    server.add_submodule("group/super", "libs/rel", "../relative.git", &relative);

    env.run(env.git([
        "clone",
        "--recurse-submodules",
        &server.repo_url("group/super"),
        "super",
    ]));
    let checkout = env.work().join("super");
    assert_eq!(
        fs::read(checkout.join("libs/sub/sub.txt")).unwrap(),
        b"from the submodule\n"
    );
    assert_eq!(
        fs::read(checkout.join("libs/rel/rel.txt")).unwrap(),
        b"relative URL\n"
    );
    assert_challenged_then_served(
        &server,
        &[
            ("POST", "/group/super.git/git-upload-pack"),
            ("POST", "/group/sub.git/git-upload-pack"),
            ("POST", "/group/relative.git/git-upload-pack"),
        ],
    );
    env.assert_token_not_on_disk(&[]);
}

fn cargo_fetch(git_fetch_with_cli: bool, label: &str) {
    let Job {
        server, mut env, ..
    } = setup(label);
    if git_fetch_with_cli {
        env.set_var("CARGO_NET_GIT_FETCH_WITH_CLI", "true");
    }
    let app = support::cargo_project(&server, &env);
    let head = server.head("group/private-dep");

    let mut cmd = env.cargo(["fetch"]);
    cmd.current_dir(&app);
    env.run(cmd);

    let lock = fs::read_to_string(app.join("Cargo.lock")).unwrap();
    let source = format!("git+{}#{head}", server.repo_url("group/private-dep"));
    assert!(lock.contains(&source), "Cargo.lock lacks {source}:\n{lock}");
    assert!(
        env.cargo_home().join("git/checkouts").is_dir(),
        "cargo did not check the dependency out"
    );

    assert_challenged_then_served(
        &server,
        &[
            (
                "GET",
                "/group/private-dep.git/info/refs?service=git-upload-pack",
            ),
            ("POST", "/group/private-dep.git/git-upload-pack"),
        ],
    );
    // Prove which transport did the work.
    let log = server.log();
    let libgit2 = log
        .iter()
        .filter(|r| r.user_agent.contains("libgit2"))
        .count();
    if git_fetch_with_cli {
        assert_eq!(libgit2, 0, "libgit2 was used:\n{}", server.log_text());
    } else {
        assert_eq!(
            libgit2,
            log.len(),
            "not everything went through libgit2:\n{}",
            server.log_text()
        );
    }
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn cargo_fetch_private_git_dependency_libgit2() {
    cargo_fetch(false, "cargo_libgit2");
}

#[test]
fn cargo_fetch_private_git_dependency_git_cli() {
    cargo_fetch(true, "cargo_cli");
}

#[test]
fn git_lfs_push_and_clone() {
    let Job { server, env, .. } = setup("lfs");
    let lfs_version = env.run_unchecked(env.git(["lfs", "version"]), FAILURE_TIMEOUT);
    if !lfs_version.success() {
        // .ci/run installs git-lfs and sets CI=true: there a missing git-lfs is a failure.
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but git-lfs is not installed (apt-get install git-lfs): {lfs_version}"
        );
        eprintln!("SKIPPED git-lfs test: git-lfs is not installed (apt-get install git-lfs)");
        return;
    }
    server.create_empty_repo("group/lfs");
    let url = server.repo_url("group/lfs");
    env.run(env.git(["lfs", "install", "--skip-repo"]));

    let push_dir = env.work().join("push");
    env.run(env.git(["init", "--quiet", push_dir.to_str().unwrap()]));
    // 200 kB of bytes that do not compress, so git-lfs really transfers them.
    let data: Vec<u8> = (0u32..200_000)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(push_dir.join("data.bin"), &data).unwrap();
    for args in [
        &["lfs", "install", "--local"][..],
        &["lfs", "track", "*.bin"][..],
        &["add", ".gitattributes", "data.bin"][..],
        &["commit", "--quiet", "-m", "Add an LFS object"][..],
        &["remote", "add", "origin", &url][..],
        &["push", "origin", "HEAD:main"][..],
    ] {
        let mut cmd = env.git(args);
        cmd.current_dir(&push_dir);
        env.run(cmd);
    }
    let mut cmd = env.git(["lfs", "ls-files", "--long"]);
    cmd.current_dir(&push_dir);
    let listing = env.run(cmd).stdout;
    let oid = listing
        .split_whitespace()
        .next()
        .expect("git lfs ls-files lists the object")
        .to_string();
    assert_eq!(
        server.lfs_object("group/lfs", &oid).as_deref(),
        Some(&data[..]),
        "the server did not receive the LFS object"
    );

    env.run(env.git(["clone", &url, "clone"]));
    assert_eq!(
        fs::read(env.work().join("clone/data.bin")).unwrap(),
        data,
        "the clone has no LFS content (smudge failed?)"
    );

    assert_challenged_then_served(
        &server,
        &[
            ("POST", "/group/lfs.git/info/lfs/objects/batch"),
            ("PUT", &format!("/info/lfs/objects/{oid}")),
            ("GET", &format!("/info/lfs/objects/{oid}")),
            ("POST", "/group/lfs.git/git-receive-pack"),
        ],
    );
    assert!(
        server
            .log()
            .iter()
            .any(|r| r.auth == AuthOutcome::Ok && r.user_agent.starts_with("git-lfs/")),
        "git-lfs itself never authenticated:\n{}",
        server.log_text()
    );
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn second_server_on_another_port_gets_nothing() {
    let Job {
        ca, server, env, ..
    } = setup("ci_server");
    let other_token = unique_token("other_server");
    let other = GitServer::start(&ca, &other_token);
    server.create_repo("group/project", &[("README.md", b"ours\n")]);
    other.create_repo("group/project", &[("README.md", b"theirs\n")]);
    let app = support::cargo_project(&other, &env);

    // Sanity: the job's own server works in this environment.
    env.run(env.git(["ls-remote", &server.repo_url("group/project")]));
    assert_challenged_then_served(&server, &[("POST", "/git-upload-pack")]);

    // Same host name, another port. The git CLI:
    let out = env.run_unchecked(
        env.git(["clone", &other.repo_url("group/project"), "other"]),
        FAILURE_TIMEOUT,
    );
    assert_no_credentials_offered(&other);
    assert!(!out.success() && !out.timed_out(), "{out}");
    assert!(
        out.stderr.contains("terminal prompts disabled")
            || out.stderr.contains("could not read Username"),
        "git did not stop for lack of credentials: {out}"
    );

    // cargo's libgit2 transport:
    other.clear_log();
    let mut cmd = env.cargo(["fetch"]);
    cmd.current_dir(&app);
    let out = env.run_unchecked(cmd, FAILURE_TIMEOUT);
    assert_no_credentials_offered(&other);
    assert!(
        other.log().iter().all(|r| r.user_agent.contains("libgit2")),
        "{}",
        other.log_text()
    );
    assert!(!out.success() && !out.timed_out(), "{out}");

    // The job's own server, named by its IP address instead of `localhost`, is another host
    // for the helper too (it matches the host exactly).
    server.clear_log();
    let out = env.run_unchecked(
        env.git([
            "ls-remote",
            &format!("{}/group/project.git", server.ip_url()),
        ]),
        FAILURE_TIMEOUT,
    );
    assert!(server
        .log()
        .iter()
        .all(|r| r.host.starts_with("127.0.0.1:")));
    assert_no_credentials_offered(&server);
    assert!(!out.success() && !out.timed_out(), "{out}");

    env.assert_token_not_on_disk(&[]);
}

#[test]
fn plain_http_on_the_servers_host_and_port_gets_nothing() {
    // The job's server is https://localhost:PORT; something answers plain http on that same
    // host and port (here: the only thing listening there). The token must not go over http.
    let ca = TestCa::new();
    let token = unique_token("plain_http");
    let server = GitServer::start_http(&token);
    server.create_repo("group/project", &[("README.md", b"hello\n")]);
    let https_url = format!("https://localhost:{}", server.port());
    let env = ClientEnv::new(&ca, &https_url, &token);

    let out = env.run_unchecked(
        env.git(["ls-remote", &server.repo_url("group/project")]),
        FAILURE_TIMEOUT,
    );
    assert!(!out.success() && !out.timed_out(), "{out}");
    assert_no_credentials_offered(&server);
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn wrong_token_fails_without_hanging_and_git_sends_erase() {
    let ca = TestCa::new();
    let token = unique_token("right");
    let wrong = unique_token("wrong");
    let server = GitServer::start(&ca, &token);
    server.create_repo("group/project", &[("README.md", b"hello\n")]);
    let env = ClientEnv::builder(&ca)
        .server_url(server.url())
        .token(&wrong)
        .record_operations_after()
        .build();

    let out = env.run_unchecked(
        env.git(["clone", &server.repo_url("group/project"), "clone"]),
        FAILURE_TIMEOUT,
    );
    assert!(!out.timed_out(), "the clone hung: {out}");
    assert!(!out.success(), "{out}");
    assert!(
        out.stderr.contains("Authentication failed"),
        "not git's authentication error: {out}"
    );
    let operations = env.helper_operations();
    assert!(
        operations.iter().any(|op| op == "erase"),
        "git did not send erase; helpers saw {operations:?}"
    );
    assert!(
        !operations.iter().any(|op| op == "store"),
        "git sent store for a rejected token: {operations:?}"
    );
    assert_wrong_token_refused(&server);
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn gitoxide_clone() {
    if find_on_path("gix").is_none() {
        eprintln!(
            "SKIPPED: gitoxide's `gix` is not on PATH (cargo install gitoxide takes ~7.5 minutes)"
        );
        return;
    }
    let Job { server, env, .. } = setup("gix");
    server.create_repo("group/project", &[("README.md", b"hello gix\n")]);
    env.run(
        env.command("gix")
            .args(["clone", &server.repo_url("group/project"), "clone"]),
    );
    assert_eq!(
        fs::read(env.work().join("clone/README.md")).unwrap(),
        b"hello gix\n"
    );
    assert_challenged_then_served(&server, &[("POST", "/git-upload-pack")]);
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn leak_scanner_finds_planted_token() {
    let dir = tempfile::tempdir().unwrap();
    let token = unique_token("planted");
    let nested = dir.path().join("a/b/c");
    fs::create_dir_all(&nested).unwrap();
    fs::write(nested.join("clean"), "nothing here").unwrap();
    assert!(find_bytes_in_tree(dir.path(), token.as_bytes()).is_empty());
    let mut bytes = vec![0u8, 159, 146, 150];
    bytes.extend_from_slice(token.as_bytes());
    fs::write(nested.join("binary.pack"), &bytes).unwrap();
    assert_eq!(
        find_bytes_in_tree(dir.path(), token.as_bytes()),
        vec![nested.join("binary.pack")]
    );
    let basic = support::token_needles(&token).pop().unwrap();
    fs::write(
        dir.path().join("a/trace"),
        format!("Authorization: Basic {basic}\n"),
    )
    .unwrap();
    assert_eq!(
        find_bytes_in_tree(dir.path(), basic.as_bytes()),
        vec![dir.path().join("a/trace")]
    );
}

#[test]
fn server_accepts_chunked_gzip_bodies_and_refuses_early_on_expect() {
    if find_on_path("curl").is_none() {
        eprintln!("SKIPPED: curl is not on PATH");
        return;
    }
    let Job {
        ca,
        token,
        server,
        env,
    } = setup("selftest");
    let head = server.create_repo("group/project", &[("README.md", b"hello\n")]);
    let dir = tempfile::tempdir().unwrap();
    // A protocol v0 upload-pack request, gzip-compressed, sent chunked.
    let request = format!("0032want {head}\n00000009done\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, request.as_bytes()).unwrap();
    fs::write(dir.path().join("body.gz"), gz.finish().unwrap()).unwrap();
    let url = format!("{}/git-upload-pack", server.repo_url("group/project"));
    let mut cmd = env.command("curl");
    cmd.current_dir(dir.path())
        .args(["-sS", "--fail", "--cacert"])
        .arg(ca.ca_cert_path())
        .args(["-u", &format!("gitlab-ci-token:{token}")])
        .args([
            "-H",
            "Content-Type: application/x-git-upload-pack-request",
            "-H",
            "Content-Encoding: gzip",
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            "@body.gz",
            "-o",
            "reply",
            &url,
        ]);
    let out = env.run_unchecked(cmd, FAILURE_TIMEOUT);
    assert!(out.success(), "{out}\n{}", server.log_text());
    let reply = fs::read(dir.path().join("reply")).unwrap();
    assert!(
        reply.starts_with(b"0008NAK\nPACK"),
        "not a pack: {:?}",
        String::from_utf8_lossy(&reply[..reply.len().min(40)])
    );

    // Without credentials and with `Expect: 100-continue`, the server answers 401 before the
    // body. curl is told to wait far longer than the hang guard for that answer before it
    // sends the body anyway, so a server that does not refuse early shows as a timeout.
    let mut cmd = env.command("curl");
    cmd.current_dir(dir.path())
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(ca.ca_cert_path())
        .args([
            "-H",
            "Expect: 100-continue",
            "--expect100-timeout",
            "3600",
            "--data-binary",
            "@body.gz",
            &url,
        ]);
    let out = env.run_unchecked(cmd, FAILURE_TIMEOUT);
    assert!(!out.timed_out(), "the server waited for the body: {out}");
    assert_eq!(out.stdout, "401", "{out}");
    let log = server.log();
    assert_eq!(log.len(), 2, "{}", server.log_text());
    assert_eq!(log[0].auth, AuthOutcome::Ok);
    assert_eq!(log[1].auth, AuthOutcome::None);
    assert_eq!(log[1].status, 401);
}
