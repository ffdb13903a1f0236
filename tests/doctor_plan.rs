//! `doctor`'s dependency plan against the GitLab-faithful test server behind a CONNECT proxy
//! (`gitlab.test`, and named servers next to it): one checkout with a dependency of every kind
//! in every manifest kind gets one plan that names each problem with GitLab's cause and the
//! exact fix, probes nothing on a server that is not configured, and prints no secret.

mod support;

use std::fs;
use std::path::PathBuf;

use support::{token_needles, GitLabJob, GitServer, RunOutput};

/// A job of `group/app` on gitlab.test whose helper also answers for second.test (which does
/// not accept this job's token), with elsewhere.test next to them, configured nowhere.
struct World {
    job: GitLabJob,
    second: GitServer,
    elsewhere: GitServer,
    checkout: PathBuf,
}

impl World {
    fn start(label: &str) -> World {
        let mut job = GitLabJob::start(label);
        job.env.set_var("CI_PROJECT_PATH", job.server.job_project());
        let second = job.add_server("second.test");
        let elsewhere = job.add_server("elsewhere.test");
        let out = job.env.run_verb(
            &["configure", "--global", "--server", "https://second.test"],
            None,
        );
        assert!(out.success(), "{out}");
        let checkout = job.env.work().join("app");
        fs::create_dir_all(&checkout).unwrap();
        let git = |args: &[&str]| {
            let mut cmd = job.env.git(args);
            cmd.current_dir(&checkout);
            job.env.run(cmd);
        };
        git(&["init", "--quiet"]);
        // GitLab Runner's layout: the origin URL carries the job token.
        let origin = format!(
            "https://gitlab-ci-token:{}@gitlab.test/group/app.git",
            job.token
        );
        git(&["remote", "add", "origin", &origin]);
        World {
            job,
            second,
            elsewhere,
            checkout,
        }
    }

    fn write(&self, path: &str, text: &str) {
        let file = self.checkout.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }

    /// `doctor ARGS` in the checkout; the output rules and the token checked on both streams.
    fn doctor(&self, args: &[&str]) -> RunOutput {
        let mut words = vec!["doctor"];
        words.extend_from_slice(args);
        let out = self.job.env.run_verb(&words, Some(&self.checkout));
        assert_no_secret(&out, &self.job.token);
        out
    }
}

fn assert_no_secret(out: &RunOutput, token: &str) {
    for needle in token_needles(token) {
        assert!(
            !out.stdout.contains(&needle),
            "a form of the token on stdout:\n{out}"
        );
        assert!(
            !out.stderr.contains(&needle),
            "a form of the token on stderr:\n{out}"
        );
    }
}

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// The checkout of the issue's "Done when": healthy dependencies, one denied by the allowlist,
/// one denied for the triggering user, one missing, one with a rejected token, a relative
/// submodule, one on another server — in every manifest kind.
fn every_kind(world: &World) {
    let server = &world.job.server;
    for repo in [
        "group/lib",
        "group/gohealthy",
        "group/sub/gomod",
        "group/hooks",
        "group/denied",
        "group/private-user",
    ] {
        server.create_repo(repo, &[("README.md", b"hello\n")]);
    }
    server.update_project("group/denied", |p| p.allowlist.clear());
    server.update_project("group/private-user", |p| {
        p.triggering_user_has_access = false
    });
    world
        .second
        .create_repo("group/rejected", &[("README.md", b"hello\n")]);
    world
        .elsewhere
        .create_repo("other/x", &[("README.md", b"hello\n")]);

    world.write(
        ".gitmodules",
        "[submodule \"lib\"]\n\tpath = lib\n\turl = ../lib.git\n\
         [submodule \"over-ssh\"]\n\tpath = over-ssh\n\turl = git@gitlab.test:group/lib.git\n",
    );
    world.write(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\n\
         lib = { git = \"https://gitlab.test/group/lib.git\" }\n\
         denied = { git = \"https://gitlab.test/group/denied.git\", branch = \"main\" }\n",
    );
    world.write(
        "Cargo.lock",
        &format!(
            "version = 4\n\n[[package]]\nname = \"denied\"\nversion = \"0.1.0\"\n\
             source = \"git+https://gitlab.test/group/denied.git?branch=main#{SHA}\"\n"
        ),
    );
    world.write(
        "tools/go.mod",
        "module gitlab.test/group/app/tools\n\ngo 1.24\n\nrequire (\n\
         \tgitlab.test/group/sub/gomod v1.0.0\n\tgitlab.test/group/gohealthy v1.2.0\n\
         \tgithub.com/pkg/errors v0.9.1\n)\n",
    );
    world.write(
        "web/package.json",
        r#"{"name": "web", "dependencies": {
            "private-user": "git+https://gitlab.test/group/private-user.git",
            "other": "git+https://elsewhere.test/other/x.git"}}"#,
    );
    world.write(
        "web/package-lock.json",
        &format!(
            r#"{{"lockfileVersion": 3, "packages": {{"node_modules/private-user": {{
                "resolved": "git+https://gitlab.test/group/private-user.git#{SHA}"}}}}}}"#
        ),
    );
    world.write(
        "requirements.txt",
        "missing @ git+https://gitlab.test/group/missing.git@v1\n",
    );
    world.write(
        "py/pyproject.toml",
        "[tool.poetry]\nname = \"py\"\n\n[tool.poetry.dependencies]\n\
         rejected = { git = \"https://second.test/group/rejected.git\" }\n",
    );
    world.write(
        "py/poetry.lock",
        &format!(
            "[[package]]\nname = \"rejected\"\nversion = \"1.0\"\n\n[package.source]\n\
             type = \"git\"\nurl = \"https://second.test/group/rejected.git\"\n\
             reference = \"HEAD\"\nresolved_reference = \"{SHA}\"\n"
        ),
    );
    world.write(
        ".pre-commit-config.yaml",
        concat!(
            "repos:\n",
            "  - repo: https://gitlab.test/group/hooks.git\n    rev: v1\n    hooks: [{id: lint}]\n",
            "  - repo: local\n    hooks: [{id: mine, name: mine, entry: 'true', language: system}]\n",
        ),
    );
    // What the walk must not read.
    world.write(
        "node_modules/dep/package.json",
        r#"{"dependencies": {"inner": "git+https://gitlab.test/group/inner.git"}}"#,
    );
    world.write(
        "target/package/x/Cargo.toml",
        "[dependencies]\ninner = { git = \"https://gitlab.test/group/inner.git\" }\n",
    );
}

/// The plan line of the dependency at `location`.
fn line<'a>(out: &'a RunOutput, location: &str) -> &'a str {
    let prefix = format!(" {location}");
    let found: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(&prefix))
        .collect();
    assert_eq!(found.len(), 1, "{location}: {found:?}\n{out}");
    found[0]
}

#[test]
fn one_plan_names_every_problem_with_its_cause_and_fix_and_probes_no_other_server() {
    let world = World::start("plan_every_kind");
    every_kind(&world);
    let out = world.doctor(&["--deps"]);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");

    let ok = |location: &str, cause: &str| {
        let l = line(&out, location);
        assert!(l.starts_with("  ok "), "{l}");
        assert!(l.contains(cause), "{l}");
    };
    let problem = |location: &str, cause: &str, fix: &str| {
        let l = line(&out, location);
        assert!(l.starts_with("  PROBLEM "), "{l}");
        assert!(l.contains(cause), "{location}: {cause:?} not in {l}");
        let number = l.rsplit("[fix ").next().unwrap().trim_end_matches(']');
        let heading = format!("fix {number}: {fix}");
        assert!(
            out.stdout.lines().any(|h| h == heading),
            "{location}: no line {heading:?}\n{out}"
        );
    };
    // The relative submodule resolves against the origin (whose token is never shown) and is
    // the same repository as the Cargo.toml dependency: one line for both.
    ok(
        "https://gitlab.test/group/lib.git",
        "resolved against the origin URL",
    );
    assert!(line(&out, "https://gitlab.test/group/lib.git")
        .contains(".gitmodules: lib; Cargo.toml: lib"));
    ok(
        "https://gitlab.test/group/hooks.git",
        "the job token can read it",
    );
    ok(
        "gitlab.test/group/gohealthy@v1.2.0",
        "the job token can read it",
    );
    problem(
        "https://gitlab.test/group/denied.git",
        "the job token of group/app may not access group/denied (403)",
        "add group/app to group/denied's job token allowlist: in group/denied, Settings → CI/CD → Job token permissions, add group/app",
    );
    problem(
        "https://gitlab.test/group/private-user.git",
        "the user who triggered the pipeline cannot read group/private-user (403)",
        "give the user who runs the pipeline at least Reporter access to group/private-user, or run the pipeline as a user who has it",
    );
    problem(
        "https://gitlab.test/group/missing.git",
        "does not exist, or is not visible to this job (404)",
        "check the URL (group, project, .git); if the project exists, make sure the job's project may see it: in the target, Settings → CI/CD → Job token permissions",
    );
    problem(
        "https://second.test/group/rejected.git",
        "rejected the job token (401)",
        "use the running job's CI_JOB_TOKEN with the user name gitlab-ci-token; never a token saved in an image, cache or file from an earlier job",
    );
    problem(
        "git@gitlab.test:group/lib.git",
        "fetched over SSH",
        "git-credential-gitlab-ci configure --global --rewrite-ssh (git then fetches https://gitlab.test over https through this helper), or write an https or relative URL in .gitmodules",
    );
    let exe = support::binary::path();
    problem(
        "gitlab.test/group/sub/gomod@v1.0.0",
        "nested subgroup",
        &format!("export GOAUTH='{} goauth' (Go 1.24 or later; other GOAUTH methods go before it, separated by ;)", exe.display()),
    );
    for other in [
        "https://elsewhere.test/other/x.git",
        "github.com/pkg/errors@v0.9.1",
    ] {
        let l = line(&out, other);
        assert!(l.starts_with("  not ours "), "{l}");
        assert!(l.contains("not probed with the token"), "{l}");
    }
    assert!(
        !out.stdout.contains("group/inner"),
        "node_modules or target was read:\n{out}"
    );
    assert!(
        out.stdout
            .contains("dependencies: 6 with a problem, 6 fix(es):"),
        "{out}"
    );

    // Never probed: not a request to the server, not even a tunnel to it.
    assert!(
        world.elsewhere.log().is_empty(),
        "{}",
        world.elsewhere.log_text()
    );
    let targets = world.job.proxy.targets();
    assert!(
        targets
            .iter()
            .all(|t| t == "gitlab.test:443" || t == "second.test:443"),
        "{targets:?}"
    );
    // second.test saw gitlab-ci-token offered (and refused), as a job's fetch would.
    assert!(world.second.log().iter().any(|r| r.offered_ci_username()));

    // docs/troubleshooting.md shows this very plan, as a job would print it.
    let shown = out
        .stdout
        .replace(&world.checkout.display().to_string(), "/builds/group/app")
        .replace(
            &exe.display().to_string(),
            "/usr/local/bin/git-credential-gitlab-ci",
        );
    let doc = support::docs::read("docs/troubleshooting.md");
    assert!(
        doc.contains(&format!(
            "```text\n$ git-credential-gitlab-ci doctor --deps\n{shown}```"
        )),
        "docs/troubleshooting.md no longer shows the plan doctor prints; paste this:\n{shown}"
    );
}

#[test]
fn the_json_plan_has_one_entry_per_dependency_with_files_url_status_cause_and_fix() {
    let world = World::start("plan_json");
    every_kind(&world);
    let out = world.doctor(&["--deps", "--format", "json"]);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid JSON");
    assert!(plan.get("checks").is_none(), "--deps prints the plan alone");
    let entries = plan["dependencies"].as_array().unwrap();
    let by_url = |url: &str| -> &serde_json::Value {
        let found: Vec<&serde_json::Value> = entries.iter().filter(|e| e["url"] == url).collect();
        assert_eq!(found.len(), 1, "{url}: {found:?}");
        found[0]
    };
    let expected = [
        (
            "https://gitlab.test/group/lib.git",
            "ok",
            &[".gitmodules", "Cargo.toml"][..],
        ),
        ("git@gitlab.test:group/lib.git", "problem", &[".gitmodules"]),
        (
            "https://gitlab.test/group/denied.git",
            "problem",
            &["Cargo.lock", "Cargo.toml"],
        ),
        (
            "gitlab.test/group/sub/gomod@v1.0.0",
            "problem",
            &["tools/go.mod"],
        ),
        (
            "gitlab.test/group/gohealthy@v1.2.0",
            "ok",
            &["tools/go.mod"],
        ),
        (
            "github.com/pkg/errors@v0.9.1",
            "not_ours",
            &["tools/go.mod"],
        ),
        (
            "https://gitlab.test/group/private-user.git",
            "problem",
            &["web/package-lock.json", "web/package.json"],
        ),
        (
            "https://elsewhere.test/other/x.git",
            "not_ours",
            &["web/package.json"],
        ),
        (
            "https://gitlab.test/group/missing.git",
            "problem",
            &["requirements.txt"],
        ),
        (
            "https://second.test/group/rejected.git",
            "problem",
            &["py/poetry.lock", "py/pyproject.toml"],
        ),
        (
            "https://gitlab.test/group/hooks.git",
            "ok",
            &[".pre-commit-config.yaml"],
        ),
    ];
    assert_eq!(entries.len(), expected.len(), "{entries:#?}");
    for (url, status, files) in expected {
        let entry = by_url(url);
        assert_eq!(entry["status"], status, "{entry}");
        assert_eq!(entry["files"], serde_json::json!(files), "{entry}");
        assert!(
            entry["cause"].as_str().is_some_and(|c| !c.is_empty()),
            "{entry}"
        );
        assert_eq!(entry["fix"].is_string(), status == "problem", "{entry}");
    }
    assert_eq!(
        by_url("https://gitlab.test/group/denied.git")["fix"],
        "add group/app to group/denied's job token allowlist: in group/denied, Settings → CI/CD → Job token permissions, add group/app"
    );
    assert_eq!(
        by_url("gitlab.test/group/sub/gomod@v1.0.0")["probed"],
        "https://gitlab.test/group/sub/gomod.git"
    );
    assert_eq!(plan["problems"], 6);
    assert_eq!(plan["healthy"], false);
    assert!(world.elsewhere.log().is_empty());
}

#[test]
fn doctor_in_a_checkout_ends_its_report_with_the_plan_and_goauth_set_to_ours_is_enough() {
    let mut world = World::start("plan_in_report");
    let server = &world.job.server;
    server.create_repo("group/sub/gomod", &[("README.md", b"hello\n")]);
    world.write(
        "go.mod",
        "module gitlab.test/group/app\n\nrequire gitlab.test/group/sub/gomod/v2 v2.0.1\n",
    );
    let goauth = format!("{} goauth", support::binary::path().display());
    world.job.env.set_var("GOAUTH", &goauth);
    let out = world.doctor(&[]);
    // The setup checks first (the proxy variables trip cargo's check), then the plan.
    assert!(out.stdout.starts_with("note     git "), "{out}");
    let plan = out.stdout.find("dependency plan for ").expect("a plan");
    assert!(out.stdout[..plan].contains("ok       token"), "{out}");
    let l = line(&out, "gitlab.test/group/sub/gomod/v2@v2.0.1");
    assert!(l.starts_with("  ok "), "{l}");
    assert!(
        l.contains("(probed as https://gitlab.test/group/sub/gomod.git)"),
        "{l}"
    );
    assert!(
        out.stdout.contains("dependencies: no problem found"),
        "{out}"
    );

    world.job.env.remove_var("GOAUTH");
    let out = world.doctor(&["--deps"]);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
    assert!(line(&out, "gitlab.test/group/sub/gomod/v2@v2.0.1")
        .contains("GOAUTH does not run this helper"));
}

#[test]
fn the_example_pipelines_dependency_plan_job_runs_early_never_fails_the_pipeline_and_works_as_written(
) {
    let text = support::docs::read("examples/gitlab-ci.yml");
    let docs =
        yaml_rust2::YamlLoader::load_from_str(&text).expect("examples/gitlab-ci.yml is YAML");
    let job = &docs[0]["dependency-plan"];
    assert_eq!(job["stage"].as_str(), Some(".pre"), "{job:?}");
    assert_eq!(job["allow_failure"].as_bool(), Some(true), "{job:?}");
    let script: Vec<&str> = job["script"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert_eq!(script, ["git-credential-gitlab-ci doctor --deps"]);

    let world = World::start("plan_example");
    world
        .job
        .server
        .create_repo("group/lib", &[("README.md", b"hello\n")]);
    world.write(
        ".gitmodules",
        "[submodule \"lib\"]\n\tpath = lib\n\turl = ../lib.git\n",
    );
    let words: Vec<&str> = script[0].split_whitespace().skip(1).collect();
    let out = world.job.env.run_verb(&words, Some(&world.checkout));
    assert_no_secret(&out, &world.job.token);
    assert_eq!(out.status.and_then(|s| s.code()), Some(0), "{out}");
    assert!(out.stdout.starts_with("dependency plan for "), "{out}");
}
