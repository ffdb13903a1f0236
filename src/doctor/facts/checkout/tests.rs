use std::os::unix::fs::symlink;

use super::*;
use crate::env::Env;

const TOKEN: &str = "glcbt-64_checkout_secret_0123456789";

fn write(root: &Path, rel: &str, text: &str) {
    let file = root.join(rel);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

fn env(home: &Path) -> Env {
    Env::from_vars([
        ("PATH", std::env::var_os("PATH").unwrap_or_default()),
        ("HOME", home.into()),
        ("GIT_CONFIG_NOSYSTEM", "1".into()),
    ])
}

fn read_with(root: &Path, origin: Option<&str>, bounds: Bounds) -> Checkout {
    let env = env(root);
    let git = Git::new(&env);
    let diagnostics = Diagnostics::new(false, vec![zeroize::Zeroizing::new(TOKEN.into())]);
    read(&git, root, origin, &diagnostics, bounds)
}

fn locations(checkout: &Checkout) -> Vec<String> {
    checkout
        .scan
        .dependencies
        .iter()
        .map(|d| d.location.to_string())
        .collect()
}

const DEP: &str = "[dependencies]\nx = { git = \"https://gitlab.example.com/g/x.git\" }\n";

#[test]
fn the_walk_reads_manifests_by_name_in_order_and_skips_tool_directories_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "b/Cargo.toml", DEP);
    write(
        root,
        "a/package.json",
        r#"{"dependencies": {"y": "git+https://gitlab.example.com/g/y.git"}}"#,
    );
    write(
        root,
        "notes.txt",
        "z @ git+https://gitlab.example.com/g/z.git\n",
    );
    for skipped in SKIPPED_DIRS {
        write(
            root,
            &format!("{skipped}/Cargo.toml"),
            DEP.replace("g/x", "g/skipped").as_str(),
        );
    }
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "Cargo.toml",
        &DEP.replace("g/x", "g/outside"),
    );
    symlink(outside.path(), root.join("linked-dir")).unwrap();
    std::fs::create_dir_all(root.join("c")).unwrap();
    symlink(outside.path().join("Cargo.toml"), root.join("c/Cargo.toml")).unwrap();
    let checkout = read_with(root, None, BOUNDS);
    assert_eq!(checkout.files, ["a/package.json", "b/Cargo.toml"]);
    assert_eq!(
        locations(&checkout),
        [
            "https://gitlab.example.com/g/y.git",
            "https://gitlab.example.com/g/x.git"
        ]
    );
    assert!(checkout.notes.is_empty(), "{:?}", checkout.notes);
}

#[test]
fn a_fifo_in_a_manifests_place_is_reported_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("package.json");
    let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    // The walk skips it (not a regular file); asked for it by name (an include), it is refused.
    let checkout = read_with(dir.path(), None, BOUNDS);
    assert!(checkout.files.is_empty());
    assert_eq!(
        read_text(&fifo, MAX_FILE_BYTES),
        Err("not a regular file; not read".to_string())
    );
}

#[test]
fn bounds_stop_the_walk_with_a_note_and_the_plan_keeps_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..5 {
        write(
            root,
            &format!("d{i}/Cargo.toml"),
            &DEP.replace("g/x", &format!("g/x{i}")),
        );
    }
    write(root, "a/b/c/d/Cargo.toml", &DEP.replace("g/x", "g/deep"));
    let few = Bounds { files: 3, ..BOUNDS };
    let checkout = read_with(root, None, few);
    assert_eq!(checkout.files.len(), 3, "{:?}", checkout.files);
    assert_eq!(checkout.notes, ["stopped at 3 files"]);

    let shallow = Bounds { depth: 3, ..BOUNDS };
    let checkout = read_with(root, None, shallow);
    assert!(!locations(&checkout).iter().any(|l| l.contains("deep")));
    assert_eq!(checkout.notes, ["not entered (deeper than 3): a/b/c"]);

    let small = Bounds {
        bytes: DEP.len() * 2 + 10,
        ..BOUNDS
    };
    let checkout = read_with(root, None, small);
    assert_eq!(locations(&checkout).len(), 2);
    assert!(checkout
        .scan
        .problems
        .iter()
        .all(|p| p.message == "past the plan's bound on bytes read; not read"));
    let entries = Bounds {
        entries: 2,
        ..BOUNDS
    };
    let checkout = read_with(root, None, entries);
    assert_eq!(
        checkout.notes,
        ["the walk stopped after 2 directory entries"]
    );
}

#[test]
fn texts_are_scrubbed_of_the_secrets_before_anything_parses_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A token in a query string survives userinfo scrubbing; the scrubber sees it first.
    write(
        root,
        "requirements.txt",
        &format!("x @ git+https://gitlab.example.com/g/x.git?private_token={TOKEN}\n"),
    );
    write(root, "Cargo.toml", &format!("[dependencies\n{TOKEN} = 1\n"));
    write(
        root,
        ".gitmodules",
        &format!("[submodule \"s\"]\n\tpath = s\n\turl = ../{TOKEN}.git\n"),
    );
    let origin = format!("https://gitlab-ci-token:{TOKEN}@gitlab.example.com/group/app.git");
    let checkout = read_with(root, Some(&origin), BOUNDS);
    let everything = format!("{checkout:?}");
    assert!(!everything.contains(TOKEN), "{everything}");
    assert!(everything.contains("[REDACTED]"), "{everything}");
    assert_eq!(
        checkout.files,
        [".gitmodules", "Cargo.toml", "requirements.txt"]
    );
    // The relative URL still resolved against the origin, whose password stays a password.
    let relative = &checkout.scan.dependencies[0];
    assert_eq!(
        relative.location.to_string(),
        "https://gitlab.example.com/group/[REDACTED].git"
    );
}

#[test]
fn included_files_are_read_inside_the_checkout_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "requirements.txt",
        "-r base.txt\n-r linked/evil.txt\n-r ../up.txt\n",
    );
    write(
        root,
        "base.txt",
        "b @ git+https://gitlab.example.com/g/base.git\n",
    );
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "evil.txt",
        "e @ git+https://gitlab.example.com/g/evil.git\n",
    );
    symlink(outside.path(), root.join("linked")).unwrap();
    let checkout = read_with(root, None, BOUNDS);
    assert_eq!(
        locations(&checkout),
        ["https://gitlab.example.com/g/base.git"]
    );
    assert_eq!(checkout.files, ["requirements.txt", "base.txt"]);
    let refused: Vec<(&str, &str)> = checkout
        .scan
        .problems
        .iter()
        .map(|p| (p.file.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        refused,
        [(
            "linked/evil.txt",
            "outside the checkout (through a link); not read"
        )]
    );
}

#[test]
fn the_origin_is_the_current_branchs_remote_else_origin_and_its_first_url() {
    let entry = |k: &str, v: &str| Entry::new(k, Some(v));
    let entries = [
        entry("remote.origin.url", "https://a.example/g/app.git"),
        entry("remote.origin.url", "https://mirror.example/g/app.git"),
        entry("remote.fork.url", "https://b.example/me/app.git"),
        entry("branch.feature.remote", "fork"),
    ];
    assert_eq!(
        origin_url(&entries, None).as_deref(),
        Some("https://a.example/g/app.git")
    );
    assert_eq!(
        origin_url(&entries, Some("main")).as_deref(),
        Some("https://a.example/g/app.git")
    );
    assert_eq!(
        origin_url(&entries, Some("feature")).as_deref(),
        Some("https://b.example/me/app.git")
    );
    assert_eq!(origin_url(&entries[2..], None), None);
}
