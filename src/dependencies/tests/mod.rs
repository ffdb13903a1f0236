//! The reader's tests, one file per manifest kind; here the helpers they share and what
//! holds for every kind (file names, files that do not parse, hostile and oversized files).

mod cargo;
mod golang;
mod npm;
mod precommit;
mod python;

use super::*;

/// (name, location as displayed, reference) of every dependency found in one file.
fn found(path: &str, text: &str) -> Vec<(String, String, Option<String>)> {
    let scan = scan(&[ManifestFile { path, text }], None);
    assert!(scan.problems.is_empty(), "{path}: {:?}", scan.problems);
    scan.dependencies
        .iter()
        .map(|d| {
            let m = &d.mentions[0];
            (m.name.clone(), d.location.to_string(), m.reference.clone())
        })
        .collect()
}

fn row(name: &str, location: &str, reference: Option<&str>) -> (String, String, Option<String>) {
    (name.into(), location.into(), reference.map(Into::into))
}

#[test]
fn file_kinds_come_from_their_names() {
    let cases = [
        ("Cargo.toml", Some(Kind::CargoManifest)),
        ("crates/x/Cargo.toml", Some(Kind::CargoManifest)),
        ("Cargo.lock", Some(Kind::CargoLock)),
        ("tools/go.mod", Some(Kind::GoMod)),
        ("web/package.json", Some(Kind::PackageJson)),
        ("package-lock.json", Some(Kind::PackageLock)),
        ("npm-shrinkwrap.json", Some(Kind::PackageLock)),
        ("requirements.txt", Some(Kind::Requirements)),
        ("requirements-dev.txt", Some(Kind::Requirements)),
        ("requirements/test.txt", Some(Kind::Requirements)),
        ("py/requirements/base.txt", Some(Kind::Requirements)),
        ("notes.txt", None),
        ("pyproject.toml", Some(Kind::Pyproject)),
        ("poetry.lock", Some(Kind::PoetryLock)),
        ("uv.lock", Some(Kind::UvLock)),
        (".pre-commit-config.yaml", Some(Kind::PreCommit)),
        ("cargo.toml", None),
        ("go.sum", None),
    ];
    for (path, kind) in cases {
        assert_eq!(Kind::of(path), kind, "{path}");
    }
}

#[test]
fn manifests_that_do_not_parse_are_reported_not_fatal() {
    let files = [
        ManifestFile {
            path: "Cargo.toml",
            text: "[dependencies\nx = { git = \"https://u:SECRET@h/x\" }",
        },
        ManifestFile {
            path: "a/Cargo.toml",
            text: "x = { git = \"https://u:SECRET@h/x\" ",
        },
        ManifestFile {
            path: "package.json",
            text: "{\"dependencies\": {",
        },
        ManifestFile {
            path: "web/package.json",
            text: "[1, 2]",
        },
        ManifestFile {
            path: ".pre-commit-config.yaml",
            text: "repos:\n  - repo: [unclosed\n",
        },
        ManifestFile {
            path: "uv.lock",
            text: "= 1",
        },
        ManifestFile {
            path: "ok/Cargo.toml",
            text: "[dependencies]\nx = { git = \"https://gitlab.example.com/g/x\" }",
        },
    ];
    let scan = scan(&files, None);
    let problems: Vec<&str> = scan.problems.iter().map(|p| p.file.as_str()).collect();
    assert_eq!(
        problems,
        [
            "Cargo.toml",
            "a/Cargo.toml",
            "package.json",
            "web/package.json",
            ".pre-commit-config.yaml",
            "uv.lock"
        ]
    );
    assert_eq!(scan.dependencies.len(), 1);
    for problem in &scan.problems {
        assert!(!problem.message.contains("SECRET"), "{problem:?}");
        assert!(!problem.message.contains('\n'), "{problem:?}");
    }
    assert!(
        scan.problems[0].message.starts_with("line 1, column"),
        "{:?}",
        scan.problems[0]
    );
    assert_eq!(scan.problems[3].message, "not a JSON object");
}

#[test]
fn hostile_files_cost_their_length_and_print_safely() {
    // Deep nesting, aliases that would explode if expanded, escapes and forged lines.
    let deep_yaml = format!("repos: {}{}", "[".repeat(20_000), "]".repeat(20_000));
    let laughs = (1..9).fold("a: &a0 [x, x]\n".to_string(), |text, n| {
        format!(
            "{text}a{n}: &a{n} [*a{}, *a{}, *a{}]\n",
            n - 1,
            n - 1,
            n - 1
        )
    });
    let deep_toml = format!("x = {}{}", "[".repeat(20_000), "]".repeat(20_000));
    let deep_json = format!(
        "{{\"dependencies\": {}{}}}",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let forged = "[dependencies]\n\"x\\u001b[2J\\nok healthy\" = { git = \"https://gitlab.example.com/g/x\\u001b]8;;\" }\n";
    let files = [
        ManifestFile {
            path: ".pre-commit-config.yaml",
            text: &deep_yaml,
        },
        ManifestFile {
            path: "x/.pre-commit-config.yaml",
            text: &laughs,
        },
        ManifestFile {
            path: "Cargo.toml",
            text: &deep_toml,
        },
        ManifestFile {
            path: "package.json",
            text: &deep_json,
        },
        ManifestFile {
            path: "f/Cargo.toml",
            text: forged,
        },
    ];
    let scan = scan(&files, None);
    for dependency in &scan.dependencies {
        for mention in &dependency.mentions {
            for field in [&mention.name, &mention.written] {
                assert!(!field.chars().any(char::is_control), "{field:?}");
            }
        }
    }
    assert!(scan
        .problems
        .iter()
        .all(|p| !p.message.chars().any(char::is_control)));
}

#[test]
fn oversized_files_are_reported_unread() {
    let big = " ".repeat(MAX_FILE_BYTES + 1);
    let scan = scan(
        &[ManifestFile {
            path: "package-lock.json",
            text: &big,
        }],
        None,
    );
    assert_eq!(scan.problems.len(), 1);
    assert!(scan.problems[0].message.contains("larger than"));
}

#[test]
fn locations_print_as_one_line_whatever_the_file_held() {
    let go = "require gitlab.example.com/g/x v1.0.0\u{1b}[2J\n";
    let subs = [crate::gitconfig::Entry::new(
        "submodule.s.url",
        Some("git@gitlab.example.com:g/\u{1b}]8;;x\n.git"),
    )];
    let submodules = Submodules {
        path: ".gitmodules",
        entries: &subs,
        origin: None,
    };
    let scan = scan(
        &[ManifestFile {
            path: "go.mod",
            text: go,
        }],
        Some(&submodules),
    );
    assert_eq!(scan.dependencies.len(), 2);
    for dependency in &scan.dependencies {
        let shown = dependency.location.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }
}
