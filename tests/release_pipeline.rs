//! The project's own `.gitlab-ci.yml`, checked as far as this machine allows: it parses; its
//! jobs test, build, publish, release and push the image with the scripts the repository has
//! (`.ci/run`, `dist/build.sh`, `dist/publish.sh`, the `Dockerfile`); the names, architectures
//! and URLs agree with what `dist/build.sh` makes; and the publish job's script, run here as a
//! runner would against a loopback package registry, uploads every archive with the job token
//! in a header and nowhere in the job log.

mod package_registry;

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

const NAME: &str = "git-credential-gitlab-ci";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pipeline() -> Yaml {
    let text = std::fs::read_to_string(repo().join(".gitlab-ci.yml")).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).expect(".gitlab-ci.yml is YAML");
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

fn strings(value: &Yaml) -> Vec<String> {
    value
        .as_vec()
        .unwrap_or_else(|| panic!("a list: {value:?}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn script(job: &Yaml) -> Vec<String> {
    strings(&job["script"])
}

/// The targets `dist/build.sh` builds (its `targets="..."` line).
fn dist_targets() -> Vec<String> {
    let build = std::fs::read_to_string(repo().join("dist/build.sh")).unwrap();
    let line = build
        .lines()
        .find_map(|l| l.strip_prefix("targets=\""))
        .expect("dist/build.sh names its targets");
    line.trim_end_matches('"')
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn on_tags_only(job: &Yaml) -> bool {
    strings(&Yaml::Array(
        job["rules"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|r| r["if"].clone())
            .collect(),
    )) == ["$CI_COMMIT_TAG"]
}

#[test]
fn gitlab_ci_yml_jobs_match_the_repository_scripts_targets_and_archive_names() {
    let ci = pipeline();
    assert_eq!(strings(&ci["stages"]), ["test", "build", "publish"]);
    let jobs: Vec<&str> = ci
        .as_hash()
        .unwrap()
        .keys()
        .filter_map(|k| k.as_str())
        .filter(|k| !["stages", "variables", "default"].contains(k))
        .collect();
    assert_eq!(
        jobs,
        ["test", "build", "publish-packages", "release", "image"]
    );
    let vars = &ci["variables"];
    assert_eq!(vars["PACKAGE"].as_str(), Some(NAME));
    let dist_dir = vars["DIST_DIR"].as_str().unwrap();
    assert_eq!(dist_dir, "target/dist", "dist/build.sh's default output");

    assert_eq!(script(&ci["test"]), ["bash .ci/run"]);

    let build = &ci["build"];
    let targets = dist_targets();
    assert_eq!(targets.len(), 2, "{targets:?}");
    assert_eq!(
        script(build),
        [
            format!("rustup target add {}", targets.join(" ")),
            "dist/build.sh \"$DIST_DIR\"".to_string()
        ]
    );
    assert_eq!(strings(&build["artifacts"]["paths"]), ["$DIST_DIR/"]);
    assert!(!has_rules(build), "build runs in every pipeline");

    let publish = &ci["publish-packages"];
    assert!(on_tags_only(publish));
    assert_eq!(strings(&publish["needs"]), ["build"]);
    assert_eq!(script(publish), ["dist/publish.sh \"$DIST_DIR\""]);

    // The release links exactly the files dist/build.sh makes, at the URLs publish.sh uses.
    let release = &ci["release"];
    assert!(on_tags_only(release));
    assert_eq!(strings(&release["needs"]), ["publish-packages"]);
    assert_eq!(
        release["release"]["tag_name"].as_str(),
        Some("$CI_COMMIT_TAG")
    );
    let base = "$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/$PACKAGE/$CI_COMMIT_TAG";
    let mut expected: Vec<String> = targets
        .iter()
        .map(|t| {
            let arch = t.split('-').next().unwrap();
            format!("$PACKAGE-$CI_COMMIT_TAG-{arch}-linux.tar.gz")
        })
        .collect();
    expected.push("SHA256SUMS".to_string());
    let links = release["release"]["assets"]["links"].as_vec().unwrap();
    let linked: Vec<(String, String)> = links
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let wanted: Vec<(String, String)> = expected
        .iter()
        .map(|f| (f.clone(), format!("{base}/{f}")))
        .collect();
    assert_eq!(linked, wanted);
    let publish_sh = std::fs::read_to_string(repo().join("dist/publish.sh")).unwrap();
    assert!(publish_sh.contains(
        "base=\"$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/$name/$version\""
    ));

    // The image: our helper answers the registry, both architectures image-root.sh knows.
    let image = &ci["image"];
    assert!(on_tags_only(image));
    let lines = script(image);
    assert!(lines.contains(&"git-credential-gitlab-ci docker configure".to_string()));
    let push = lines.last().unwrap();
    assert!(
        push.starts_with("docker buildx build --platform linux/amd64,linux/arm64 ")
            && push.ends_with(" --push ."),
        "{push}"
    );
    let image_root = std::fs::read_to_string(repo().join("dist/image-root.sh")).unwrap();
    for arch in ["amd64)", "arm64)"] {
        assert!(
            image_root.contains(arch),
            "dist/image-root.sh builds {arch}"
        );
    }

    // Nowhere does a script line put the job token on a command line or log in by hand.
    for job in jobs {
        for line in script(&ci[job]) {
            assert!(!line.contains("CI_JOB_TOKEN"), "{job}: {line}");
            assert!(!line.contains("docker login"), "{job}: {line}");
        }
    }
}

fn has_rules(job: &Yaml) -> bool {
    !job["rules"].is_badvalue()
}

/// The release directory `dist/build.sh` made, or `None` (after saying why; a failure under
/// `CI=true`, where `.ci/run` builds it first).
fn release_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RELEASE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/dist"));
    if dir.join("SHA256SUMS").is_file() {
        return Some(dir);
    }
    let why = format!(
        "no {}; build it with dist/build.sh",
        dir.join("SHA256SUMS").display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {why}"
    );
    eprintln!("SKIPPED publish job test: {why}");
    None
}

/// A `curl` first on PATH that records its arguments (one a line) in `argv.log`, then runs the
/// real curl: what any process on the machine could read from /proc while it runs.
fn recording_curl(dir: &Path) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let real = std::env::split_paths(&path)
        .map(|d| d.join("curl"))
        .find(|p| p.is_file())
        .expect("curl is installed");
    let log = dir.join("argv.log");
    let wrapper = dir.join("curl");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    log
}

/// Runs a job's script lines as a GitLab runner does: each echoed as `$ <line>` (unexpanded),
/// then run by the shell in the project directory, stopping at the first failure; `bin` comes
/// first on PATH. Returns the job log and whether the job passed.
fn run_job(lines: &[String], env: &[(&str, String)], bin: &Path) -> (String, bool) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&path)),
    )
    .unwrap();
    let mut log = String::new();
    for line in lines {
        log.push_str(&format!("$ {line}\n"));
        let out = Command::new("sh")
            .args(["-c", line])
            .current_dir(repo())
            .env_clear()
            .env("PATH", &path)
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .output()
            .unwrap();
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            return (log, false);
        }
    }
    (log, true)
}

#[test]
fn publish_job_uploads_every_archive_with_the_job_token_in_a_header_and_not_in_the_log() {
    let Some(dir) = release_dir() else { return };
    let token = "glcbt-64_PuBlIsH_0123456789abcdef";
    let registry = package_registry::Registry::start(token);
    let bin = tempfile::tempdir().unwrap();
    let argv = recording_curl(bin.path());
    let ci = pipeline();
    let lines = script(&ci["publish-packages"]);
    let version = env!("CARGO_PKG_VERSION");
    let env = |tag: &str| {
        vec![
            ("CI_API_V4_URL", registry.api_url()),
            ("CI_PROJECT_ID", "42".to_string()),
            ("CI_JOB_TOKEN", token.to_string()),
            ("CI_COMMIT_TAG", tag.to_string()),
            ("DIST_DIR", dir.display().to_string()),
        ]
    };

    // A tag that is not the version: refused before anything is uploaded.
    let (log, passed) = run_job(&lines, &env(&format!("v{version}")), bin.path());
    assert!(!passed, "{log}");
    assert!(registry.log().is_empty(), "{:?}", registry.log());

    let (log, passed) = run_job(&lines, &env(version), bin.path());
    assert!(passed, "{log}");
    assert!(
        !log.contains(token),
        "the job token is in the job log:\n{log}"
    );
    let arguments = std::fs::read_to_string(&argv).unwrap();
    assert!(arguments.contains("--upload-file"), "curl ran: {arguments}");
    assert!(
        !arguments.contains(token),
        "the job token is on curl's command line"
    );
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut files: Vec<String> = sums
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    assert_eq!(files.len(), dist_targets().len());
    files.push("SHA256SUMS".to_string());
    let package = format!("projects/42/packages/generic/{NAME}/{version}");
    let puts: Vec<(String, bool, u16)> = registry
        .log()
        .into_iter()
        .map(|r| (r.path, r.job_token_ok, r.status))
        .collect();
    let wanted: Vec<(String, bool, u16)> = files
        .iter()
        .map(|f| (format!("/api/v4/{package}/{f}"), true, 201))
        .collect();
    assert_eq!(puts, wanted);
    for file in &files {
        assert_eq!(
            registry.file(&format!("{package}/{file}")).unwrap(),
            std::fs::read(dir.join(file)).unwrap(),
            "{file} arrived as built"
        );
    }

    // A wrong token is a failed job, not a silent one.
    let mut wrong = env(version);
    wrong[2].1 = "glcbt-64_wrong".to_string();
    let (log, passed) = run_job(&lines, &wrong, bin.path());
    assert!(!passed && log.contains("failed"), "{log}");
}
