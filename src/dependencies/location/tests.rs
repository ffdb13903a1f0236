use super::*;

fn ssh(host: &str, port: Option<u16>, path: &str) -> (String, Option<u16>, String) {
    (host.to_string(), port, path.to_string())
}

#[test]
fn git_urls_are_read_as_git_reads_them_by_table() {
    let https = |text: &str| match Location::of_git_url(text) {
        Location::Https(u) => Some((u.url.to_string(), u.userinfo)),
        _ => None,
    };
    assert_eq!(
        https("https://gitlab.example.com/g/x.git"),
        Some(("https://gitlab.example.com/g/x.git".into(), Userinfo::None))
    );
    assert_eq!(
        https("https://gitlab-ci-token:glcbt-SECRET@GitLab.example.com:8443/g/x.git"),
        Some((
            "https://gitlab.example.com:8443/g/x.git".into(),
            Userinfo::Password
        ))
    );
    assert!(matches!(
        Location::of_git_url("https://someone@gitlab.example.com/g/x.git"),
        Location::Https(WebUrl { userinfo: Userinfo::User(ref n), .. }) if n.is("someone")
    ));
    for hidden in [
        "https://gitlab.example.com/g/x.git\nhealthy",
        "https://gitlab.exa\tmple.com/g/x.git",
        "https://gitlab.example.com/g/\u{1b}]8;;x.git",
    ] {
        assert_eq!(
            Location::of_git_url(hidden),
            Location::NotAUrl,
            "{hidden:?}"
        );
    }
    assert!(matches!(
        Location::of_git_url("http://gitlab.internal/g/x.git"),
        Location::Http(_)
    ));

    let as_ssh = |text: &str| match Location::of_git_url(text) {
        Location::Ssh(s) => Some((s.host, s.port, s.path)),
        _ => None,
    };
    let cases = [
        (
            "git@GitLab.example.com:g/x.git",
            Some(ssh("gitlab.example.com", None, "g/x.git")),
        ),
        (
            "gitlab.example.com:g/x.git",
            Some(ssh("gitlab.example.com", None, "g/x.git")),
        ),
        (
            "ssh://git@gitlab.example.com:2222/g/x.git",
            Some(ssh("gitlab.example.com", Some(2222), "/g/x.git")),
        ),
        (
            "ssh://gitlab.example.com/g/x.git",
            Some(ssh("gitlab.example.com", None, "/g/x.git")),
        ),
        (
            "git+ssh://git@gitlab.example.com/g/x.git",
            Some(ssh("gitlab.example.com", None, "/g/x.git")),
        ),
        (
            "ssh+git://git@gitlab.example.com/g/x.git",
            Some(ssh("gitlab.example.com", None, "/g/x.git")),
        ),
        ("git@[::1]:g/x.git", Some(ssh("::1", None, "g/x.git"))),
        (
            "ssh://git@[::1]:2222/g/x.git",
            Some(ssh("::1", Some(2222), "/g/x.git")),
        ),
        ("ssh://git@h:0/x", None),
        ("ssh://git@:22/x", None),
        ("./a:b", None),
        ("host:", None),
    ];
    for (text, expected) in cases {
        assert_eq!(as_ssh(text), expected, "{text:?}");
    }

    let kinds = [
        ("/srv/git/x.git", "Local"),
        ("./x", "Local"),
        ("x/y:z", "Local"),
        ("file:///srv/git/x.git", "Local"),
        ("git://gitlab.example.com/g/x.git", "OtherScheme(\"git\")"),
        ("-uhttps://evil/x", "NotAUrl"),
        ("", "NotAUrl"),
        ("https://b\u{fc}cher.example/x.git", "NotAUrl"),
        ("https://GitLab%2Eexample.com/x.git", "NotAUrl"),
        ("https:///x.git", "NotAUrl"),
        ("we$ird://x", "NotAUrl"),
    ];
    for (text, expected) in kinds {
        assert_eq!(
            format!("{:?}", Location::of_git_url(text)),
            expected,
            "{text:?}"
        );
    }
}

#[test]
fn ssh_locations_keep_no_user_name_but_git() {
    // git takes `deploy` for the host here (the first `:` ends it); the text is scrubbed anyway.
    let Location::Ssh(s) = Location::of_git_url("deploy:SECRET@gitlab.example.com:g/x.git") else {
        panic!("not ssh");
    };
    assert!(!s.git_user);
    assert!(
        !s.text.contains("SECRET") && !s.text.contains("deploy"),
        "{}",
        s.text
    );
    let Location::Ssh(s) = Location::of_git_url("ssh://deploy:SECRET@gitlab.example.com/g/x.git")
    else {
        panic!("not ssh");
    };
    assert!(!s.git_user);
    assert_eq!(s.text, "ssh://***@gitlab.example.com/g/x.git");
    let Location::Ssh(s) = Location::of_git_url("git@gitlab.example.com:g/x.git") else {
        panic!("not ssh");
    };
    assert!(s.git_user);
    assert_eq!(s.text, "git@gitlab.example.com:g/x.git");
}

#[test]
fn user_names_never_show_in_debug_output() {
    let location = Location::of_git_url("https://glpat-SECRET@gitlab.example.com/g/x.git");
    let debug = format!("{location:?} {location}");
    assert!(!debug.contains("SECRET"), "{debug}");
    let location = Location::of_git_url("https://u:glpat-SECRET@gitlab.example.com/g/x.git");
    let debug = format!("{location:?} {location}");
    assert!(!debug.contains("SECRET"), "{debug}");
}

#[test]
fn relative_urls_resolve_as_git_resolves_them_by_table() {
    // Each row is also checked against real git in tests/dependency_sources.rs.
    let ok = |s: &str| Ok(s.to_string());
    let cases: &[(&str, &str, Result<String, Unresolvable>)] = &[
        (
            "https://h/group/app.git",
            "../lib.git",
            ok("https://h/group/lib.git"),
        ),
        (
            "https://h/group/app.git/",
            "../lib.git",
            ok("https://h/group/lib.git"),
        ),
        (
            "https://h/group/app.git",
            "../../other/lib.git",
            ok("https://h/other/lib.git"),
        ),
        (
            "https://h/group/app.git",
            "./lib.git",
            ok("https://h/group/app.git/lib.git"),
        ),
        (
            "https://h/group/app.git",
            "./../lib.git",
            ok("https://h/group/lib.git"),
        ),
        (
            "https://h/group/app.git",
            "../././lib.git",
            ok("https://h/group/lib.git"),
        ),
        (
            "https://h/group/app.git",
            "../lib/./x.git",
            ok("https://h/group/lib/./x.git"),
        ),
        (
            "https://h/group/app.git",
            "../lib.git/",
            ok("https://h/group/lib.git"),
        ),
        // git chops into the scheme's slashes, then at the scheme's colon.
        ("https://h/app.git", "../../lib.git", ok("https://lib.git")),
        (
            "https://h/g/app.git",
            "../../../../x.git",
            ok("https:/x.git"),
        ),
        (
            "https://h/g/app.git",
            "../../../../../x.git",
            ok("https:x.git"),
        ),
        ("/app.git", "../../lib.git", ok("lib.git")),
        (
            "https://gitlab-ci-token:SECRET@h/group/app.git",
            "../lib.git",
            ok("https://gitlab-ci-token:SECRET@h/group/lib.git"),
        ),
        (
            "git@h:group/app.git",
            "../lib.git",
            ok("git@h:group/lib.git"),
        ),
        ("git@h:group/app.git", "../../lib.git", ok("git@h:lib.git")),
        ("h:app.git", "../lib.git", ok("h:lib.git")),
        (
            "ssh://git@h:2222/group/app.git",
            "../lib.git",
            ok("ssh://git@h:2222/group/lib.git"),
        ),
        ("/srv/git/app.git", "../lib.git", ok("/srv/git/lib.git")),
        ("../app.git", "../lib.git", ok("../lib.git")),
        ("app", "../lib.git", ok("lib.git")),
        ("app", "../../lib.git", Err(Unresolvable::TooManyUps)),
        ("", "../lib.git", Err(Unresolvable::NoOrigin)),
        (
            "https://h/group/app.git",
            "https://other/x.git",
            ok("https://other/x.git"),
        ),
    ];
    for (origin, url, expected) in cases {
        assert_eq!(
            &resolve_relative(origin, url),
            expected,
            "{origin:?} + {url:?}"
        );
    }
}

#[test]
fn same_repository_has_one_key() {
    let key = |t: &str| Location::of_git_url(t).key();
    assert_eq!(
        key("https://GitLab.example.com/g/x.git"),
        key("https://gitlab.example.com:443/g/x")
    );
    assert_eq!(
        key("https://gitlab.example.com/g/x/"),
        key("https://u:p@gitlab.example.com/g/x.git")
    );
    assert_ne!(
        key("https://gitlab.example.com/g/x"),
        key("http://gitlab.example.com/g/x")
    );
    assert_ne!(
        key("https://gitlab.example.com/g/x"),
        key("https://gitlab.example.com/g/y")
    );
    assert_eq!(
        key("git@gitlab.example.com:g/x.git"),
        key("ssh://git@gitlab.example.com/g/x")
    );
    assert_ne!(
        key("git@gitlab.example.com:g/x.git"),
        key("https://gitlab.example.com/g/x.git")
    );
}
