use super::*;
use crate::dependencies::{scan, ManifestFile};
use crate::doctor::facts::checkout::Checkout;
use crate::doctor::facts::probe::{Outcome, Probe, Target};
use crate::doctor::fixtures::{entry, healthy, OURS};
use crate::doctor::git_failure::Ended;
use crate::token::{TokenError, TokenSource};

const ALLOWLIST: &str = "remote: Authentication by CI/CD job token not allowed from app to lib.\nfatal: unable to access 'https://gitlab.example.com/group/sub/lib.git/': The requested URL returned error: 403\n";

/// The healthy job's facts with a checkout holding `requirements` and `go.mod`, and every
/// probe `answer` gives an outcome for.
fn facts_with(requirements: &str, go_mod: &str, answer: impl Fn(&str) -> Option<Outcome>) -> Facts {
    let mut facts = healthy();
    facts
        .vars
        .insert("CI_PROJECT_PATH".into(), "group/app".into());
    let files = [
        ManifestFile {
            path: "requirements.txt",
            text: requirements,
        },
        ManifestFile {
            path: "go.mod",
            text: go_mod,
        },
    ];
    facts.checkout = Some(Checkout {
        root: "/builds/group/app".into(),
        files: vec!["requirements.txt".into(), "go.mod".into()],
        scan: scan(&files, None),
        notes: Vec::new(),
    });
    let servers: Vec<Server> = servers::known(&facts)
        .0
        .into_iter()
        .map(|k| k.server)
        .collect();
    facts.probes = probe_urls(&facts, &servers)
        .into_iter()
        .filter_map(|url| {
            Some(Probe {
                outcome: answer(&url)?,
                target: Target {
                    url,
                    access: Access::Read,
                    helper: OURS.into(),
                },
            })
        })
        .collect();
    facts
}

fn ok_answer(_: &str) -> Option<Outcome> {
    Some(Outcome::Finished {
        ended: Ended::Exited(0),
        stderr: String::new(),
    })
}

/// (status, location, cause, fix) of the one dependency in `requirements`.
fn one(requirement: &str) -> (Status, String, String, Option<String>) {
    let facts = facts_with(requirement, "", ok_answer);
    let plan = judge(&facts).unwrap();
    assert_eq!(plan.entries.len(), 1, "{requirement}: {:?}", plan.entries);
    let e = &plan.entries[0];
    (e.status, e.location.clone(), e.cause.clone(), e.fix.clone())
}

#[test]
fn each_kind_of_reach_has_its_status_cause_and_fix() {
    use Status::{NotOurs, Note, Ok, Problem};
    let cases = [
        (
            "x @ git+https://gitlab.example.com/g/x.git",
            Ok,
            "the job token can read it, through this helper",
            None,
        ),
        (
            "x @ git+https://github.com/g/x.git",
            NotOurs,
            "another host: not probed with the token",
            None,
        ),
        (
            "x @ git+ssh://git@gitlab.example.com/g/x.git",
            Problem,
            "fetched over SSH",
            Some("configure --global --rewrite-ssh"),
        ),
        (
            "x @ git+https://deploy@gitlab.example.com/g/x.git",
            Problem,
            "names a user other than gitlab-ci-token",
            Some("without a user name in requirements.txt"),
        ),
        (
            "x @ git+https://gitlab.example.com:8443/g/x.git",
            Problem,
            "another scheme or port",
            Some("write the URL as https://gitlab.example.com/… in requirements.txt"),
        ),
        (
            "x @ git+http://gitlab.example.com/g/x.git",
            Problem,
            "another scheme or port",
            Some("https://gitlab.example.com/…"),
        ),
        (
            "x @ https://gitlab.example.com/g/x-1.0.tar.gz",
            Note,
            "package manager's own HTTP client",
            None,
        ),
        (
            "x @ git+https://gitlab-ci-token:glpat-xyz@gitlab.example.com/g/x.git",
            Ok,
            "git sends the credentials written in the URL instead",
            None,
        ),
        ("x @ git+file:///srv/git/x.git", Note, "a local path", None),
        (
            "x @ git+git://gitlab.example.com/g/x.git",
            Note,
            "a git:// URL",
            None,
        ),
    ];
    for (requirement, status, cause, fix) in cases {
        let (got, location, text, got_fix) = one(requirement);
        assert_eq!(got, status, "{requirement}: {text}");
        assert!(text.contains(cause), "{requirement}: {text}");
        match fix {
            None => assert_eq!(got_fix, None, "{requirement}"),
            Some(fix) => assert!(
                got_fix.as_deref().unwrap_or_default().contains(fix),
                "{requirement}: {got_fix:?}"
            ),
        }
        assert!(
            !location.contains("glpat") && !location.contains("deploy"),
            "{location}"
        );
    }
}

#[test]
fn gitlabs_refusal_names_both_projects_in_full_and_other_hosts_are_never_targets() {
    let facts = facts_with(
        "lib @ git+https://gitlab.example.com/group/sub/lib.git\nother @ git+https://gitlab.example.com.evil/group/sub/lib.git\n",
        "",
        |url| {
            Some(Outcome::Finished {
                ended: Ended::Exited(128),
                stderr: if url.contains("evil") { "unreachable" } else { ALLOWLIST }.into(),
            })
        },
    );
    assert_eq!(
        facts
            .probes
            .iter()
            .map(|p| p.target.url.as_str())
            .collect::<Vec<_>>(),
        ["https://gitlab.example.com/group/sub/lib.git"]
    );
    let plan = judge(&facts).unwrap();
    assert_eq!(plan.entries[0].fix.as_deref(), Some("add group/app to group/sub/lib's job token allowlist: in group/sub/lib, Settings → CI/CD → Job token permissions, add group/app"));
    assert_eq!(plan.entries[1].status, Status::NotOurs);
    assert_eq!(plan.problems(), 1);
    assert!(!plan.healthy());
}

#[test]
fn without_the_token_nothing_is_probed_and_every_target_says_why() {
    let mut facts = facts_with("x @ git+https://gitlab.example.com/g/x.git", "", |_| None);
    facts.token = Err(TokenError::Unset(TokenSource::default()));
    let plan = judge(&facts).unwrap();
    assert_eq!(plan.entries[0].status, Status::Problem);
    assert!(plan.entries[0]
        .cause
        .starts_with("not probed: the environment variable CI_JOB_TOKEN is not set"));
}

#[test]
fn go_modules_are_probed_at_their_repository_and_nested_ones_need_goauth() {
    let go = "module gitlab.example.com/group/app\nrequire (\n\tgitlab.example.com/group/sub/deep/v3 v3.0.0\n\tgitlab.example.com/group/flat v1.0.0\n\tgolang.org/x/mod v0.20.0\n)\n";
    let facts = facts_with("", go, ok_answer);
    let plan = judge(&facts).unwrap();
    let rows: Vec<(&str, Option<&str>, Status)> = plan
        .entries
        .iter()
        .map(|e| (e.location.as_str(), e.probed.as_deref(), e.status))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "gitlab.example.com/group/sub/deep/v3@v3.0.0",
                Some("https://gitlab.example.com/group/sub/deep.git"),
                Status::Problem
            ),
            (
                "gitlab.example.com/group/flat@v1.0.0",
                Some("https://gitlab.example.com/group/flat.git"),
                Status::Ok
            ),
            ("golang.org/x/mod@v0.20.0", None, Status::NotOurs),
        ]
    );
    assert_eq!(
        plan.entries[0].fix.as_deref(),
        Some("export GOAUTH='/usr/local/bin/git-credential-gitlab-ci goauth' (Go 1.24 or later; other GOAUTH methods go before it, separated by ;)")
    );
    let mut facts = facts;
    facts.vars.insert(
        "GOAUTH".into(),
        "netrc;/opt/bin/git-credential-gitlab-ci --server https://gitlab.example.com goauth".into(),
    );
    assert!(judge(&facts).unwrap().healthy());
}

#[test]
fn go_repositories_and_goauth_are_read_as_go_reads_them() {
    for (module, repo) in [
        ("h/group/proj", "https://h/group/proj.git"),
        ("h/group/proj/v2", "https://h/group/proj.git"),
        ("h/group/proj/v10", "https://h/group/proj.git"),
        ("h/group/proj/v1", "https://h/group/proj/v1.git"),
        ("h/group/proj/v02", "https://h/group/proj/v02.git"),
        ("h/group/proj.git/sub/pkg", "https://h/group/proj.git"),
        ("h/group/proj.git", "https://h/group/proj.git"),
    ] {
        assert_eq!(go_repository_url(module), repo, "{module}");
    }
    for (goauth, ours) in [
        (Some("/usr/local/bin/git-credential-gitlab-ci goauth"), true),
        (Some("git-credential-gitlab-ci --server h goauth"), true),
        (Some("netrc; /b/git-credential-gitlab-ci goauth "), true),
        (Some("netrc"), false),
        (Some("git /builds/app"), false),
        (Some("/b/git-credential-gitlab-ci"), false),
        (Some("/b/not-git-credential-gitlab-ci goauth"), false),
        (None, false),
    ] {
        assert_eq!(goauth_names_ours(goauth), ours, "{goauth:?}");
    }
}

#[test]
fn insteadof_bases_with_credentials_are_probed_clean_and_the_projects_path_drops_the_root() {
    let mut facts = facts_with("x @ git+https://gitlab.example.com/g/x.git", "", ok_answer);
    // GitLab Runner's legacy layout.
    facts.entries.push(entry(
        "url.https://gitlab-ci-token:glcbt-legacy@gitlab.example.com/.insteadof",
        "https://gitlab.example.com/",
        "/h/.gitconfig",
    ));
    let servers: Vec<Server> = servers::known(&facts)
        .0
        .into_iter()
        .map(|k| k.server)
        .collect();
    assert_eq!(
        probe_urls(&facts, &servers),
        ["https://gitlab.example.com/g/x.git"]
    );
    let plan = judge(&facts).unwrap();
    assert!(
        plan.entries[0].cause.contains("readable with the credentials in url.https://gitlab-ci-token:***@gitlab.example.com/.insteadOf, which git sends instead of asking this helper"),
        "{:?}",
        plan.entries[0]
    );
    assert!(!format!("{plan:?}").contains("glcbt-legacy"));

    facts.vars.insert(
        "CI_SERVER_URL".into(),
        "https://gitlab.example.com/gitlab".into(),
    );
    assert_eq!(
        project_of("https://gitlab.example.com/gitlab/group/sub/p.git", &facts).as_deref(),
        Some("group/sub/p")
    );
    assert_eq!(
        project_of("https://gitlab.example.com/gitlab/a//b.git", &facts),
        None
    );
    assert_eq!(
        project_of("https://gitlab.example.com/gitlab", &facts),
        None
    );
}
