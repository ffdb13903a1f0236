//! Self-tests of the test server's HTTP faces other than git (`tests/support`): GitLab's go-get
//! middleware, its PyPI registry (with a wheel built in memory and installed by pip) and the LFS
//! batch API's refusals, driven by `curl` and `pip` through the proxy that names the server
//! `gitlab.test`.

mod support;

use std::fs;
use std::time::Duration;

use support::access;
use support::gitlab_job::{tool_available, GitLabJob};
use support::go_get::go_import_of;
use support::*;

const TIMEOUT: Duration = Duration::from_secs(30);

/// `git <args>` in `env`'s work directory, whatever the outcome.
fn git(env: &ClientEnv, args: &[&str]) -> RunOutput {
    let mut cmd = env.command("git");
    cmd.args(args);
    env.run_unchecked(cmd, TIMEOUT)
}

#[test]
fn go_get_is_always_200_and_names_the_full_path_only_to_callers_who_may_read() {
    let lab = GitLabJob::start("go_get");
    if !tool_available("curl", &["--version"]) {
        return;
    }
    for name in [
        "group/sub/proj",
        "group/sub/denied",
        "group/lib",
        "group/open/mod",
    ] {
        lab.server.create_repo(
            name,
            &[("go.mod", format!("module gitlab.test/{name}\n").as_bytes())],
        );
    }
    lab.server
        .update_project("group/sub/denied", |p| p.allowlist.clear());
    lab.server
        .update_project("group/open/mod", |p| p.visibility = Visibility::Public);
    let job = Some(("gitlab-ci-token", lab.token.as_str()));
    let wrong = Some(("gitlab-ci-token", "glcbt-wrong"));
    let other_user = Some(("someone", lab.token.as_str()));
    let tag = |root: &str| format!("gitlab.test/{root} git https://gitlab.test/{root}.git");
    for (path, user, root) in [
        ("group/sub/proj", None, "group/sub"),
        ("group/sub/proj", wrong, "group/sub"),
        ("group/sub/proj", other_user, "group/sub"),
        ("group/sub/proj", job, "group/sub/proj"),
        ("group/sub/proj/pkg/deeper", job, "group/sub/proj"),
        ("group/sub/proj/pkg/deeper", None, "group/sub"),
        ("group/sub/denied", job, "group/sub"),
        ("group/sub/missing", job, "group/sub"),
        ("group/lib", None, "group/lib"),
        ("group/open/mod/pkg", None, "group/open/mod"),
    ] {
        let answer = lab.curl(&format!("https://gitlab.test/{path}?go-get=1"), user, &[]);
        assert_eq!(answer.status, 200, "{path} {user:?}");
        assert_eq!(answer.header("content-type"), Some("text/html"));
        let text = answer.text();
        assert_eq!(
            go_import_of(&text),
            Some(tag(root).as_str()),
            "{path} {user:?}: {text}"
        );
    }
    assert!(lab.server.log().iter().all(|r| r.status == 200));

    // Go then fetches the truncated path's repository, which is not a project.
    let out = git(
        &lab.env,
        &["ls-remote", "https://gitlab.test/group/sub.git"],
    );
    assert!(
        out.stderr
            .contains("fatal: repository 'https://gitlab.test/group/sub.git/' not found"),
        "{out}"
    );
}

fn pypi_lab(label: &str) -> (GitLabJob, Wheel) {
    let lab = GitLabJob::start(label);
    let wheel = Wheel::pure("private-lib", "1.0.0", "def answer():\n    return 42\n");
    for name in ["group/pylib", "group/denied", "group/open"] {
        lab.server.publish_wheel(name, &wheel);
    }
    lab.server
        .update_project("group/denied", |p| p.allowlist.clear());
    lab.server
        .update_project("group/open", |p| p.visibility = Visibility::Public);
    (lab, wheel)
}

#[test]
fn pypi_index_links_a_published_wheel_by_sha256_for_a_project_and_its_group() {
    let (lab, wheel) = pypi_lab("pypi_index");
    if !tool_available("curl", &["--version"]) {
        return;
    }
    let job = Some(("gitlab-ci-token", lab.token.as_str()));
    let project = lab.server.pypi_index_url("group/pylib");
    let group = lab.server.pypi_group_index_url("group");
    assert!(
        project.starts_with("https://gitlab.test/api/v4/projects/"),
        "{project}"
    );
    for index in [&project, &group] {
        let listing = lab.curl(&format!("{index}/"), job, &[]);
        assert_eq!(listing.status, 200);
        assert!(
            listing
                .text()
                .contains(&format!("href=\"{index}/private-lib\"")),
            "{}",
            listing.text()
        );
        for name in ["private-lib", "Private_Lib"] {
            let page = lab.curl(&format!("{index}/{name}/"), job, &[]);
            assert_eq!(
                page.header("content-type"),
                Some("text/html; charset=utf-8")
            );
            let base = index.strip_suffix("/simple").unwrap();
            let sha = wheel.sha256_hex();
            let href = format!("{base}/files/{sha}/{}#sha256={sha}", wheel.filename);
            assert!(
                page.text().contains(&format!("<a href=\"{href}\"")),
                "{}",
                page.text()
            );
            let file = lab.curl(href.split('#').next().unwrap(), job, &[]);
            assert_eq!(file.body, wheel.bytes);
        }
    }
    // The group lists the package once per readable project (pylib, open), not denied's.
    let page = lab.curl(&format!("{group}/private-lib/"), job, &[]).text();
    assert_eq!(page.matches("<a href").count(), 2, "{page}");
}

#[test]
fn pypi_refuses_with_the_packages_realm_and_hides_projects_a_job_may_not_read() {
    let (lab, _) = pypi_lab("pypi_refusals");
    if !tool_available("curl", &["--version"]) {
        return;
    }
    let job = Some(("gitlab-ci-token", lab.token.as_str()));
    let index = lab.server.pypi_index_url("group/pylib");
    for user in [
        None,
        Some(("gitlab-ci-token", "glcbt-wrong")),
        Some(("someone", lab.token.as_str())),
    ] {
        let answer = lab.curl(&format!("{index}/private-lib/"), user, &[]);
        assert_eq!(answer.status, 401, "{user:?}");
        assert_eq!(
            answer.header("www-authenticate"),
            Some(access::PACKAGES_REALM)
        );
        assert_eq!(answer.text(), access::API_UNAUTHORIZED);
    }
    let denied = lab.curl(
        &format!("{}/private-lib/", lab.server.pypi_index_url("group/denied")),
        job,
        &[],
    );
    assert_eq!(
        (denied.status, denied.text().as_str()),
        (404, access::API_NOT_FOUND)
    );
    let missing = lab.curl(&format!("{index}/no-such-package/"), job, &[]);
    assert_eq!(
        (missing.status, missing.text().as_str()),
        (404, access::API_PACKAGE_NOT_FOUND)
    );
    let by_path = lab.curl(
        "https://gitlab.test/api/v4/projects/group%2Fpylib/packages/pypi/simple/private-lib/",
        job,
        &[],
    );
    assert_eq!(by_path.status, 200);
    let public = lab.curl(
        &format!("{}/private-lib/", lab.server.pypi_index_url("group/open")),
        None,
        &[],
    );
    assert_eq!(public.status, 200);
}

#[test]
fn pip_installs_the_wheel_from_the_index_through_the_proxy() {
    let (lab, wheel) = pypi_lab("pip");
    if !tool_available("python3", &["-m", "pip", "--version"]) {
        return;
    }
    // A public project: this checks the wheel and the index, not how pip authenticates.
    let target = lab.env.work().join("site");
    // ClientEnv points PIP_CERT and REQUESTS_CA_BUNDLE at the test CA's bundle.
    let mut cmd = lab.env.command("python3");
    cmd.args([
        "-m",
        "pip",
        "install",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--no-deps",
        "--target",
    ])
    .arg(&target)
    .args([
        "--index-url",
        &lab.server.pypi_index_url("group/open"),
        "private-lib==1.0.0",
    ]);
    lab.env.run(cmd);
    let mut cmd = lab.env.command("python3");
    cmd.env("PYTHONPATH", &target).args([
        "-c",
        &format!("import {}; print({0}.answer())", wheel.module),
    ]);
    assert_eq!(lab.env.run(cmd).stdout.trim(), "42");
    assert!(target.join("private_lib-1.0.0.dist-info/RECORD").is_file());
}

#[test]
fn wheel_record_lists_every_file_with_its_sha256() {
    let wheel = Wheel::pure("my.pkg", "0.1", "X = 1\n");
    assert_eq!(wheel.filename, "my_pkg-0.1-py3-none-any.whl");
    if !tool_available("python3", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(&wheel.filename);
    fs::write(&path, &wheel.bytes).unwrap();
    let check = "import base64, hashlib, sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\n\
        rows = [l.split(',') for l in z.read('my_pkg-0.1.dist-info/RECORD').decode().splitlines()]\n\
        names = set(z.namelist()); assert names == {r[0] for r in rows}, (names, rows)\n\
        for name, digest, size in rows:\n\
        \x20   if digest:\n\
        \x20       data = z.read(name)\n\
        \x20       assert digest == 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode(), name\n\
        \x20       assert int(size) == len(data)\n\
        print(len(rows))\n";
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", check]).arg(&path);
    let out = run_with_timeout(cmd, TIMEOUT);
    assert!(out.success(), "{out}");
    assert_eq!(out.stdout.trim(), "5");
}

#[test]
fn lfs_batch_says_403_to_readers_who_may_not_upload_and_404_to_the_others() {
    let lab = GitLabJob::start("lfs");
    if !tool_available("curl", &["--version"]) {
        return;
    }
    for name in ["group/nopush", "group/denied"] {
        lab.server.create_repo(name, &[("README.md", b"x\n")]);
    }
    lab.server
        .update_project("group/nopush", |p| p.job_token_push = false);
    lab.server
        .update_project("group/denied", |p| p.allowlist.clear());
    let job = Some(("gitlab-ci-token", lab.token.as_str()));
    let batch = |name: &str, operation: &str, user| {
        let body = format!(
            r#"{{"operation":"{operation}","objects":[{{"oid":"{}","size":1}}]}}"#,
            "a".repeat(64)
        );
        let url = format!("{}/info/lfs/objects/batch", lab.server.repo_url(name));
        lab.curl(
            &url,
            user,
            &[
                "-X",
                "POST",
                "-H",
                "Content-Type: application/vnd.git-lfs+json",
                "--data-binary",
                &body,
            ],
        )
    };
    let forbidden = batch("group/nopush", "upload", job);
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        forbidden.header("content-type"),
        Some("application/vnd.git-lfs+json")
    );
    assert!(
        forbidden.text().contains(access::LFS_FORBIDDEN),
        "{}",
        forbidden.text()
    );
    assert_eq!(batch("group/nopush", "download", job).status, 200);
    let hidden = batch("group/denied", "download", job);
    assert_eq!(hidden.status, 404);
    assert!(
        hidden.text().contains(r#""message":"Not found.""#),
        "{}",
        hidden.text()
    );
    assert_eq!(batch("group/nopush", "download", None).status, 401);
}
