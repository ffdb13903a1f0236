//! doctor keeps the promises of the edges: its probe has no side effects (no store, cache or
//! other helper receives anything), a helper program git cannot run is told apart from GitLab's
//! answers, no secret reaches the report (an `insteadOf` base or a PROBE_URL carrying the token,
//! parsed or not), text from files comes out inert, and the libgit2 model never depends on the
//! machine's `/etc/gitconfig`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{binary, token_needles, ClientEnv, Job, RunOutput};

fn assert_no_secret(out: &RunOutput, token: &str) {
    for needle in token_needles(token) {
        assert!(!out.stdout.contains(&needle), "the token on stdout:\n{out}");
        assert!(!out.stderr.contains(&needle), "the token on stderr:\n{out}");
    }
}

fn git(env: &ClientEnv, dir: &Path, args: &[&str]) {
    let mut cmd = env.git(args);
    cmd.current_dir(dir);
    env.run(cmd);
}

/// A work tree in `$HOME/work/app` whose requirements.txt names `urls`.
fn checkout(env: &ClientEnv, urls: &[String]) -> PathBuf {
    let dir = env.work().join("app");
    fs::create_dir_all(&dir).unwrap();
    git(env, &dir, &["init", "--quiet"]);
    let lines: Vec<String> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| format!("dep{i} @ git+{u}\n"))
        .collect();
    fs::write(dir.join("requirements.txt"), lines.concat()).unwrap();
    dir
}

#[test]
fn the_probe_runs_this_helper_alone_so_no_store_or_other_helper_receives_anything() {
    // store and a recording helper before us; a scoped store and one from GIT_CONFIG_COUNT after.
    let mut job = Job::start_with("probe_alone", |b| {
        b.helper_value("store").record_operations_after()
    });
    let env = &mut job.env;
    let ours = binary::path();
    env.run(
        env.git(["config", "--global", "--add", "credential.helper"])
            .arg(&ours),
    );
    let scoped = format!("credential.{}.helper", job.server.url());
    env.run(env.git(["config", "--global", "--add", &scoped, "store"]));
    let counted = env.home().join("counted-store");
    env.set_var("GIT_CONFIG_COUNT", "1");
    env.set_var("GIT_CONFIG_KEY_0", "credential.helper");
    env.set_var(
        "GIT_CONFIG_VALUE_0",
        format!("store --file {}", counted.display()),
    );
    job.server
        .create_repo("group/project", &[("README.md", b"hello\n")]);
    let url = job.server.repo_url("group/project");

    // A successful probe (git sends `store` to every helper of its list), a plan of the same
    // repository, and a rejected token (git sends `erase`).
    let out = env.run_verb(&["doctor", &url], None);
    assert!(
        out.stdout
            .contains("the job token can read it, through this helper"),
        "{out}"
    );
    // ... while the report still says what the real chain would do.
    assert!(out.stdout.contains("'store' (from"), "{out}");
    assert!(out.stdout.contains("would be given the job token"), "{out}");
    let app = checkout(env, std::slice::from_ref(&url));
    let out = env.run_verb(&["doctor", "--deps"], Some(&app));
    assert_eq!(out.status.and_then(|s| s.code()), Some(0), "{out}");
    let token = job.token.clone();
    env.set_var("CI_JOB_TOKEN", "glcbt-64_expired_00000000000000000000");
    let out = env.run_verb(&["doctor", &url], None);
    assert!(out.stdout.contains("rejected the job token (401)"), "{out}");
    env.set_var("CI_JOB_TOKEN", &token);

    assert!(!env.home().join(".git-credentials").exists(), "store ran");
    assert!(!counted.exists(), "the GIT_CONFIG_COUNT store ran");
    assert_eq!(
        env.helper_operations(),
        Vec::<String>::new(),
        "the recording helper ran"
    );
    env.assert_token_not_on_disk(&[]);

    // The control: git itself, with the same chain, hands the token to all of them.
    env.run(env.git(["ls-remote", &url]));
    let stored = fs::read_to_string(env.home().join(".git-credentials")).unwrap();
    assert!(stored.contains(&token), "the control did not reach store");
    assert!(counted.exists());
    assert!(env.helper_operations().contains(&"store".to_string()));
}

#[test]
fn a_helper_program_git_cannot_run_is_told_apart_from_a_404() {
    let job = Job::start("helper_gone");
    job.server
        .create_repo("group/project", &[("README.md", b"hello\n")]);
    // Configure a copy of the binary, then take the copy away.
    let gone = job.env.home().join("opt/git-credential-gitlab-ci");
    fs::create_dir_all(gone.parent().unwrap()).unwrap();
    fs::copy(binary::built(), &gone).unwrap();
    let mut configure = job.env.command(&gone);
    configure.args(["configure", "--global"]);
    job.env.run(configure);
    fs::remove_file(&gone).unwrap();

    for project in ["group/project", "group/absent"] {
        let url = job.server.repo_url(project);
        let out = job.env.run_verb(&["doctor", &url], None);
        assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
        let probe = out
            .stdout
            .lines()
            .find(|l| l.starts_with("PROBLEM  probe"))
            .unwrap_or_else(|| panic!("no probe problem: {out}"));
        assert!(
            probe.contains(&format!(
                "git could not run the credential helper {} (this helper): it does not exist there",
                gone.display()
            )),
            "{out}"
        );
        assert!(
            !probe.contains("404") && !probe.contains("allowlist"),
            "{out}"
        );
        assert!(
            out.stdout
                .contains("which does not exist or is not executable"),
            "{out}"
        );
    }
}

#[test]
fn no_secret_from_an_insteadof_base_or_a_probe_url_reaches_the_report() {
    let job = Job::start("secret_urls");
    let env = &job.env;
    job.server
        .create_repo("group/project", &[("README.md", b"hello\n")]);
    let server = job.server.url();
    // GitLab Runner's legacy layout.
    let base = format!(
        "url.https://gitlab-ci-token:{}@{}/.insteadOf",
        job.token,
        job.server.authority()
    );
    env.run(env.git(["config", "--global", &base, &format!("{server}/")]));
    let url = job.server.repo_url("group/project");
    let app = checkout(env, &[url.clone(), format!("{server}/group/absent.git")]);
    let out = env.run_verb(&["doctor"], Some(&app));
    assert_no_secret(&out, &job.token);
    assert!(
        out.stdout
            .contains(&format!("readable with the credentials in url.https://gitlab-ci-token:***@{}/.insteadOf, which git sends instead of asking this helper", job.server.authority())),
        "{out}"
    );

    let with_token = format!(
        "https://gitlab-ci-token:{}@{}/group/project.git",
        job.token,
        job.server.authority()
    );
    let unparsable = format!("https://user:{}@[broken/group/project.git", job.token);
    for (probe, said) in [
        (with_token, "(probed without the user information it carries): readable with the credentials in url.https://gitlab-ci-token:***@"),
        (unparsable, "URL using bad/illegal format"),
    ] {
        let out = env.run_verb(&["doctor", &probe], None);
        assert_no_secret(&out, &job.token);
        assert!(out.stdout.contains(said), "{out}");
        let json = env.run_verb(&["doctor", "--format", "json", &probe], None);
        assert_no_secret(&json, &job.token);
        let _: serde_json::Value = serde_json::from_str(&json.stdout).expect("valid JSON");
    }
}

#[test]
fn text_from_gitmodules_and_manifests_comes_out_inert() {
    let job = Job::start("inert");
    let env = &job.env;
    let app = checkout(env, &[format!("{}/group/absent.git", job.server.url())]);
    fs::write(
        app.join(".gitmodules"),
        "[submodule \"evil\u{1b}[2J\"]\n\tpath = evil\n\
         \turl = \"https://github.com/x/y.git\\nhealthy: no problem found\"\n\
         [submodule \"link\"]\n\tpath = link\n\turl = https://github.com/x/\u{1b}]8;;https://evil/\u{7}z.git\n",
    )
    .unwrap();
    fs::write(
        app.join("Cargo.toml"),
        "[dependencies]\n\"x\\u001b[31m\\r\\nok       token\" = { git = \"https://github.com/x/\\u202ez.git\" }\n",
    )
    .unwrap();
    for format in ["text", "json"] {
        let out = env.run_verb(&["doctor", "--deps", "--format", format], Some(&app));
        assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
        for c in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
            assert!(!out.stdout.contains(c), "{c:?} printed raw:\n{out}");
        }
        assert!(
            !out.stdout
                .lines()
                .any(|l| l.starts_with("healthy") || l.starts_with("ok ")),
            "a forged line:\n{out}"
        );
    }
}

#[test]
fn the_libgit2_model_reads_the_system_file_the_snapshot_names_never_the_machines() {
    let Job {
        server: _server,
        env,
        ..
    } = Job::start_with("libgit2_system", |env| env.no_helper());
    let check = |env: &ClientEnv| {
        let out = env.run_verb(&["doctor"], None);
        out.stdout
            .lines()
            .find(|l| l.contains("cargo's libgit2"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no libgit2 check: {out}"))
    };
    // What the tests see by default: no system file, whatever /etc/gitconfig holds.
    assert!(check(&env).starts_with("PROBLEM  cargo"), "{}", check(&env));
    // As after ./install.sh as root: this helper in the system file.
    let system = env.libgit2_system_file();
    fs::write(
        &system,
        format!("[credential]\n\thelper = {}\n", binary::path().display()),
    )
    .unwrap();
    let line = check(&env);
    assert!(line.starts_with("ok       cargo"), "{line}");
    assert!(
        line.contains(&format!("(from {})", system.display())),
        "{line}"
    );
}

#[test]
fn probes_run_within_the_time_limit_all_together() {
    // A server that accepts connections and never answers, named by several dependencies.
    let job = Job::start("plan_timeout");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let mut env = job.env;
    env.set_var("CI_SERVER_URL", format!("https://{addr}"));
    let urls: Vec<String> = (0..12)
        .map(|i| format!("https://{addr}/group/p{i}.git"))
        .collect();
    let app = checkout(&env, &urls);
    let out = env.run_unchecked(
        {
            let mut cmd = env.helper(&["doctor", "--deps", "--timeout", "2"]);
            cmd.current_dir(&app);
            cmd
        },
        Duration::from_secs(60),
    );
    assert!(!out.timed_out(), "{out}");
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("  PROBLEM "))
        .collect();
    assert_eq!(lines.len(), 12, "{out}");
    // Eight ran until the limit; the rest never started.
    for line in lines {
        assert!(
            line.contains("git did not finish in time")
                || line.contains("not probed: the --timeout of 2 s ran out first"),
            "{line}"
        );
    }
}
