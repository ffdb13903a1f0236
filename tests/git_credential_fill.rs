//! The helper driven by real `git credential fill`, configured as the README tells users to:
//! by absolute path in `credential.helper`, in an isolated `HOME`, with no system config
//! (`support::ClientEnv`; the helper is `HELPER_UNDER_TEST` when that is set).

mod support;

use support::{assert_stderr_rules, ClientEnv, RunOutput};

const TOKEN: &str = "glcbt-64_FillToken_0123456789";

/// Both gits of these machines when present; the first one found on PATH otherwise.
fn gits() -> Vec<String> {
    let mut gits: Vec<String> = support::installed_gits()
        .into_iter()
        .map(String::from)
        .collect();
    if gits.is_empty() {
        gits.push("git".into());
    }
    gits
}

/// A job's environment for `CI_SERVER_URL=https://gitlab.example.com`, with `token` as
/// `CI_JOB_TOKEN` (unset: `None`) and our helper as the global `credential.helper`.
fn job(token: Option<&str>) -> ClientEnv {
    let builder = ClientEnv::local().server_url("https://gitlab.example.com");
    match token {
        Some(token) => builder.token(token).build(),
        None => builder.build(),
    }
}

/// `git credential <operation>` with `git`, `input` on stdin, whatever its outcome.
fn credential(env: &ClientEnv, git: &str, operation: &str, input: &str) -> RunOutput {
    let mut cmd = env.command(git);
    cmd.args(["credential", operation])
        .stdin(env.input(input.as_bytes()));
    env.run_unchecked(cmd, support::env::DEFAULT_TIMEOUT)
}

#[test]
fn git_credential_fill_gets_the_token_for_the_server() {
    let env = job(Some(TOKEN));
    for g in gits() {
        let out = credential(
            &env,
            &g,
            "fill",
            "protocol=https\nhost=gitlab.example.com\n\n",
        );
        assert!(out.success(), "{g}: {out}");
        assert!(out.stdout.contains("username=gitlab-ci-token\n"), "{out}");
        assert!(out.stdout.contains(&format!("password={TOKEN}\n")), "{out}");
        assert!(!out.stderr.contains(TOKEN), "{out}");
    }
}

#[test]
fn git_credential_fill_gets_nothing_for_another_host() {
    let env = job(Some(TOKEN));
    for g in gits() {
        let out = credential(
            &env,
            &g,
            "fill",
            "protocol=https\nhost=evil.example.com\n\n",
        );
        // No helper answered and prompts are off, so git fails without any credential.
        assert!(!out.success() && !out.timed_out(), "{g}: {out}");
        assert!(!out.stdout.contains(TOKEN), "{out}");
        assert!(!out.stdout.contains("password="), "{out}");
        assert!(!out.stderr.contains(TOKEN), "{out}");
    }
}

#[test]
fn git_credential_approve_and_reject_leave_no_trace() {
    let env = job(Some(TOKEN));
    for g in gits() {
        let request = format!(
            "protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword={TOKEN}\n\n"
        );
        for op in ["approve", "reject"] {
            let out = credential(&env, &g, op, &request);
            assert!(out.success(), "{g} {op}: {out}");
            assert!(!out.stderr.contains(TOKEN), "{out}");
        }
    }
    env.assert_token_not_on_disk(&[]);
}

#[test]
fn git_shows_our_error_line_when_the_token_is_missing() {
    let env = job(None);
    let out = credential(
        &env,
        &gits()[0],
        "fill",
        "protocol=https\nhost=gitlab.example.com\n\n",
    );
    assert!(!out.success() && !out.timed_out(), "{out}");
    let ours = out.helper_lines();
    assert_eq!(ours.len(), 1, "{out}");
    assert!(ours[0].contains("CI_JOB_TOKEN"), "{out}");
    assert_stderr_rules(ours.join("\n").as_bytes(), Some(TOKEN));
}
