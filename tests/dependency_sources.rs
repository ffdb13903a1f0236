//! The dependency reader against the real tools it imitates: relative submodule URLs resolved
//! by real git (2.47 and 2.39), and `.gitmodules` listed by real `git config`.

mod support;

use std::path::Path;
use std::process::Command;

use git_credential_gitlab_ci::dependencies::{
    resolve_relative, scan, Location, Submodules, Unresolvable,
};
use git_credential_gitlab_ci::gitconfig::parse_list;

/// Both gits of these machines (both required under CI), at least one.
fn gits() -> Vec<&'static str> {
    let gits = support::installed_gits();
    assert!(!gits.is_empty(), "no git found");
    gits
}

fn git(git: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(git)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", dir.join("global.gitconfig"))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("run git")
}

/// What `git submodule init` writes for a submodule with `url` in a superproject whose origin is
/// `origin`; `None` when git refuses.
fn git_resolves(program: &str, origin: &str, url: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::write(repo.join("global.gitconfig"), "").unwrap();
    assert!(git(program, repo, &["init", "-q"]).status.success());
    assert!(git(program, repo, &["config", "remote.origin.url", origin])
        .status
        .success());
    std::fs::write(
        repo.join(".gitmodules"),
        format!("[submodule \"s\"]\n\tpath = s\n\turl = {url}\n"),
    )
    .unwrap();
    let gitlink = format!("160000,{},s", "1".repeat(40));
    assert!(git(
        program,
        repo,
        &["update-index", "--add", "--cacheinfo", &gitlink]
    )
    .status
    .success());
    if !git(program, repo, &["submodule", "init", "-q"])
        .status
        .success()
    {
        return None;
    }
    let out = git(program, repo, &["config", "submodule.s.url"]);
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end()
            .to_string(),
    )
}

const RELATIVE_CASES: &[(&str, &str)] = &[
    ("https://h/group/app.git", "../lib.git"),
    ("https://h/group/app.git/", "../lib.git"),
    ("https://h/group/app.git", "../../other/lib.git"),
    ("https://h/group/sub/app", "../../x/y.git"),
    ("https://h/group/app.git", "./lib.git"),
    ("https://h/group/app.git", "./../lib.git"),
    ("https://h/group/app.git", "../././lib.git"),
    ("https://h/group/app.git", "../lib/./x.git"),
    ("https://h/group/app.git", "../lib.git/"),
    ("https://h/app.git", "../../lib.git"),
    ("https://h/g/app.git", "../../../../x.git"),
    ("https://h/g/app.git", "../../../../../x.git"),
    (
        "https://gitlab-ci-token:SECRET@h/group/app.git",
        "../lib.git",
    ),
    ("https://h:8443/group/app.git", "../lib.git"),
    ("git@h:group/app.git", "../lib.git"),
    ("git@h:group/app.git", "../../lib.git"),
    ("git@h:app.git", "../../lib.git"),
    ("h:app.git", "../lib.git"),
    ("ssh://git@h:2222/group/app.git", "../lib.git"),
    ("ssh://git@h/app.git", "../../lib.git"),
    ("/srv/git/app.git", "../lib.git"),
    ("/srv/git/app.git", "../../../lib.git"),
    ("/app.git", "../../lib.git"),
    ("../app.git", "../lib.git"),
    ("./app.git", "../lib.git"),
    ("app", "../lib.git"),
    ("app", "../../lib.git"),
    ("group/app", "../../lib.git"),
];

#[test]
fn relative_submodule_urls_resolve_exactly_as_real_git_resolves_them() {
    for program in gits() {
        // The harness itself: git answers, and refuses what it must.
        assert_eq!(
            git_resolves(program, "https://h/group/app.git", "../lib.git").as_deref(),
            Some("https://h/group/lib.git")
        );
        assert_eq!(git_resolves(program, "app", "../../lib.git"), None);
        for (origin, url) in RELATIVE_CASES {
            let ours = resolve_relative(origin, url).ok();
            let theirs = git_resolves(program, origin, url);
            assert_eq!(ours, theirs, "{program}: origin {origin:?} + {url:?}");
        }
    }
}

#[test]
fn gitmodules_listed_by_real_git_config_become_dependencies() {
    let program = gits()[0];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".gitmodules");
    std::fs::write(
        &file,
        "[submodule \"lib\"]\n\tpath = lib\n\turl = ../lib.git\n\tbranch = main\n\
         [submodule \"tools\"]\n\tpath = tools\n\turl = git@gitlab.example.com:group/tools.git\n\
         [submodule \"Ext\"]\n\tpath = ext\n\turl = \"https://github.com/other/ext.git\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("global.gitconfig"), "").unwrap();
    let out = git(
        program,
        dir.path(),
        &["config", "--file", file.to_str().unwrap(), "--list", "-z"],
    );
    assert!(out.status.success());
    let entries = parse_list(&out.stdout, false);
    let subs = Submodules {
        path: ".gitmodules",
        entries: &entries,
        origin: Some("https://gitlab-ci-token:glcbt-SECRET@gitlab.example.com/group/app.git"),
    };
    let found = scan(&[], Some(&subs));
    let names: Vec<&str> = found
        .dependencies
        .iter()
        .map(|d| d.mentions[0].name.as_str())
        .collect();
    assert_eq!(names, ["lib", "tools", "Ext"]);
    let Location::Relative(Ok(lib)) = &found.dependencies[0].location else {
        panic!("{:?}", found.dependencies[0].location);
    };
    assert_eq!(lib.to_string(), "https://gitlab.example.com/group/lib.git");
    assert_eq!(
        found.dependencies[0].mentions[0].reference.as_deref(),
        Some("main")
    );
    assert!(!format!("{found:?}").contains("SECRET"));
    assert!(found.problems.is_empty());
    let none = Submodules {
        origin: None,
        ..subs
    };
    assert_eq!(
        scan(&[], Some(&none)).dependencies[0].location,
        Location::Relative(Err(Unresolvable::NoOrigin))
    );
}
