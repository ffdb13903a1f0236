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
fn cargo_git_dependencies_are_found_in_every_table() {
    let text = r#"
[package]
name = "app"

[dependencies]
serde = "1"
lib = { git = "https://gitlab.example.com/group/lib.git", branch = "main" }
renamed = { git = "https://gitlab.example.com/group/lib2", package = "lib2", tag = "v2" }
local = { path = "../local" }
inherited = { workspace = true }

[dev-dependencies.fixtures]
git = "ssh://git@gitlab.example.com/group/fixtures.git"
rev = "0123abcd"

[build-dependencies]
gen = { git = "https://github.com/other/gen" }

[target.'cfg(unix)'.dependencies]
unixy = { git = "https://gitlab.example.com/group/unixy.git" }

[workspace.dependencies]
shared = { git = "https://gitlab.example.com/group/shared.git" }

[patch.crates-io]
serde = { git = "https://gitlab.example.com/forks/serde.git" }

[patch."https://github.com/other/gen"]
gen = { git = "https://gitlab.example.com/forks/gen.git" }
"#;
    assert_eq!(
        found("Cargo.toml", text),
        [
            row(
                "lib",
                "https://gitlab.example.com/group/lib.git",
                Some("branch main")
            ),
            row(
                "renamed",
                "https://gitlab.example.com/group/lib2",
                Some("tag v2")
            ),
            row(
                "fixtures",
                "ssh://git@gitlab.example.com/group/fixtures.git",
                Some("rev 0123abcd")
            ),
            row("gen", "https://github.com/other/gen", None),
            row("unixy", "https://gitlab.example.com/group/unixy.git", None),
            row(
                "shared",
                "https://gitlab.example.com/group/shared.git",
                None
            ),
            row("serde", "https://gitlab.example.com/forks/serde.git", None),
            row("gen", "https://gitlab.example.com/forks/gen.git", None),
        ]
    );
}

#[test]
fn a_manifest_and_its_lock_file_name_one_dependency() {
    let manifest = r#"
[dependencies]
lib = { git = "https://gitlab.example.com/group/lib.git", branch = "main" }
"#;
    let lock = r#"
version = 4

[[package]]
name = "lib"
version = "0.1.0"
source = "git+https://gitlab.example.com/group/lib.git?branch=main#9f8e7d6c5b4a"

[[package]]
name = "transitive"
version = "0.2.0"
source = "git+https://gitlab.example.com/group/transitive#abc"

[[package]]
name = "serde"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"
"#;
    let scan = scan(
        &[
            ManifestFile {
                path: "Cargo.toml",
                text: manifest,
            },
            ManifestFile {
                path: "Cargo.lock",
                text: lock,
            },
        ],
        None,
    );
    assert_eq!(scan.dependencies.len(), 2, "{:?}", scan.dependencies);
    let lib = &scan.dependencies[0];
    let places: Vec<(&str, Option<&str>)> = lib
        .mentions
        .iter()
        .map(|m| (m.file.as_str(), m.reference.as_deref()))
        .collect();
    assert_eq!(
        places,
        [
            ("Cargo.toml", Some("branch main")),
            ("Cargo.lock", Some("branch main, 9f8e7d6c5b4a"))
        ]
    );
    assert_eq!(scan.dependencies[1].mentions[0].name, "transitive");
}

#[test]
fn go_mod_requires_and_replacements_are_read_line_by_line() {
    let text = r#"module gitlab.example.com/group/app

go 1.22

require gitlab.example.com/group/single v1.0.0

require (
	gitlab.example.com/group/sub/proj v1.2.3 // indirect
	github.com/other/lib v0.4.0
	"gitlab.example.com/group/quoted" v0.0.1
	gitlab.example.com/group/replaced v1.0.0
	gitlab.example.com/group/pinned v2.0.0
	gitlab.example.com/group/local v0.1.0
)

replace gitlab.example.com/group/replaced => gitlab.example.com/forks/replaced v1.0.1
replace (
	gitlab.example.com/group/pinned v2.0.0 => gitlab.example.com/forks/pinned v2.0.5
	gitlab.example.com/group/pinned => gitlab.example.com/wrong/pinned v9.9.9
	gitlab.example.com/group/local => ../local
	gitlab.example.com/group/unused => gitlab.example.com/forks/unused v0.0.2
)
"#;
    assert_eq!(
        found("go.mod", text),
        [
            row(
                "gitlab.example.com/group/single",
                "gitlab.example.com/group/single@v1.0.0",
                Some("v1.0.0")
            ),
            row(
                "gitlab.example.com/group/sub/proj",
                "gitlab.example.com/group/sub/proj@v1.2.3",
                Some("v1.2.3")
            ),
            row(
                "github.com/other/lib",
                "github.com/other/lib@v0.4.0",
                Some("v0.4.0")
            ),
            row(
                "gitlab.example.com/group/quoted",
                "gitlab.example.com/group/quoted@v0.0.1",
                Some("v0.0.1")
            ),
            row(
                "gitlab.example.com/group/replaced",
                "gitlab.example.com/forks/replaced@v1.0.1",
                Some("v1.0.0")
            ),
            row(
                "gitlab.example.com/group/pinned",
                "gitlab.example.com/forks/pinned@v2.0.5",
                Some("v2.0.0")
            ),
            row(
                "gitlab.example.com/group/local",
                "a local path",
                Some("v0.1.0")
            ),
            row(
                "gitlab.example.com/group/pinned",
                "gitlab.example.com/wrong/pinned@v9.9.9",
                None
            ),
            row(
                "gitlab.example.com/group/unused",
                "gitlab.example.com/forks/unused@v0.0.2",
                None
            ),
        ]
    );
}

#[test]
fn go_mod_lines_that_do_not_fit_are_reported_and_the_rest_read() {
    let text = "module x\nrequire only/path\nrequire \"unterminated v1\nrequire (\n\tgitlab.example.com/g/ok v1.0.0\n";
    let scan = scan(
        &[ManifestFile {
            path: "go.mod",
            text,
        }],
        None,
    );
    let messages: Vec<&str> = scan.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "line 2: require needs a module path and a version",
            "line 3: unterminated quoted string",
            "line 4: the require block is never closed",
        ]
    );
    assert_eq!(scan.dependencies.len(), 1);
}

#[test]
fn npm_specs_are_read_as_npm_reads_them() {
    let text = r#"{
  "name": "web",
  "dependencies": {
    "left-pad": "^1.3.0",
    "https-git": "git+https://gitlab.example.com/group/https-git.git#v1.0.0",
    "ssh-url": "git+ssh://git@gitlab.example.com/group/ssh-url.git#semver:^2",
    "scp-overload": "git+ssh://git@gitlab.example.com:group/scp-overload.git",
    "ssh-port": "git+ssh://git@gitlab.example.com:2222/group/ssh-port.git"
  },
  "devDependencies": {
    "shorthand": "gitlab:group/shorthand#main",
    "gh": "github:user/gh",
    "bare": "user/bare",
    "tarball": "https://gitlab.example.com/group/tarball.git",
    "hosted-https": "https://gitlab.com/group/hosted-https.git"
  },
  "optionalDependencies": { "scp": "git@gitlab.example.com:group/scp.git" },
  "peerDependencies": { "local": "file:../local", "alias": "npm:other@1", "tag": "latest" }
}"#;
    assert_eq!(
        found("package.json", text),
        [
            // serde_json keeps an object's keys sorted.
            row(
                "https-git",
                "https://gitlab.example.com/group/https-git.git",
                Some("v1.0.0")
            ),
            row(
                "scp-overload",
                "git@gitlab.example.com:group/scp-overload.git",
                None
            ),
            row(
                "ssh-port",
                "git+ssh://git@gitlab.example.com:2222/group/ssh-port.git",
                None
            ),
            row(
                "ssh-url",
                "git+ssh://git@gitlab.example.com/group/ssh-url.git",
                Some("semver:^2")
            ),
            row("bare", "https://github.com/user/bare.git", None),
            row("gh", "https://github.com/user/gh.git", None),
            row(
                "hosted-https",
                "https://gitlab.com/group/hosted-https.git",
                None
            ),
            row(
                "shorthand",
                "https://gitlab.com/group/shorthand.git",
                Some("main")
            ),
            row(
                "tarball",
                "https://gitlab.example.com/group/tarball.git (download)",
                None
            ),
            row("scp", "git@gitlab.example.com:group/scp.git", None),
        ]
    );
}

#[test]
fn package_lock_git_sources_join_their_manifest_entry() {
    let manifest =
        r#"{"dependencies": {"lib": "git+https://gitlab.example.com/group/lib.git#main"}}"#;
    let lock = r#"{
  "lockfileVersion": 3,
  "packages": {
    "": { "dependencies": { "lib": "git+https://gitlab.example.com/group/lib.git#main" } },
    "node_modules/lib": {
      "version": "1.0.0",
      "resolved": "git+ssh://git@gitlab.example.com/group/lib.git#0a1b2c3d"
    },
    "node_modules/lib/node_modules/@scope/deep": {
      "resolved": "git+https://gitlab.example.com/group/deep.git#4e5f"
    },
    "node_modules/left-pad": {
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"
    }
  },
  "dependencies": {
    "old": { "version": "git+https://gitlab.example.com/group/old.git#77",
             "dependencies": { "older": { "version": "github:user/older#88" } } }
  }
}"#;
    let scan = scan(
        &[
            ManifestFile {
                path: "package.json",
                text: manifest,
            },
            ManifestFile {
                path: "package-lock.json",
                text: lock,
            },
        ],
        None,
    );
    let shown: Vec<String> = scan
        .dependencies
        .iter()
        .map(|d| format!("{} {}", d.mentions[0].name, d.location))
        .collect();
    assert_eq!(
        shown,
        [
            "lib https://gitlab.example.com/group/lib.git",
            "lib git+ssh://git@gitlab.example.com/group/lib.git",
            "@scope/deep https://gitlab.example.com/group/deep.git",
            "old https://gitlab.example.com/group/old.git",
            "older https://github.com/user/older.git",
        ]
    );
}

#[test]
fn requirements_lines_are_read_as_pip_reads_them() {
    let text = "\
# a comment
requests==2.31.0  # trailing comment
-r base.txt
--constraint=constraints.txt
-i https://pypi.example.com/simple
lib @ git+https://gitlab.example.com/group/lib.git@v1.2#egg=lib
git+https://gitlab.example.com/group/egg.git@main#egg=eggy&subdirectory=py
-e git+ssh://git@gitlab.example.com/group/editable.git#egg=editable
--editable=git+https://gitlab.example.com/group/edit2.git
long @ \\
    git+https://gitlab.example.com/group/long.git \\
    ; python_version >= \"3.9\"
scp @ git+git@gitlab.example.com:group/scp.git@v3
wheel @ https://gitlab.example.com/api/v4/projects/1/packages/generic/w/1/w-1-py3-none-any.whl
hg @ hg+https://hg.example.com/repo
tok @ git+https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/group/tok.git --hash=sha256:00
-e .
";
    let scan_result = scan(
        &[ManifestFile {
            path: "requirements.txt",
            text,
        }],
        None,
    );
    assert!(
        scan_result.problems.is_empty(),
        "{:?}",
        scan_result.problems
    );
    let targets: Vec<&str> = scan_result
        .includes
        .iter()
        .map(|i| i.target.as_str())
        .collect();
    assert_eq!(targets, ["base.txt", "constraints.txt"]);
    assert_eq!(
        found("requirements.txt", text),
        [
            row("lib", "https://gitlab.example.com/group/lib.git", Some("v1.2")),
            row("eggy", "https://gitlab.example.com/group/egg.git", Some("main")),
            row("editable", "ssh://git@gitlab.example.com/group/editable.git", None),
            row("edit2", "https://gitlab.example.com/group/edit2.git", None),
            row("long", "https://gitlab.example.com/group/long.git", None),
            row("scp", "git@gitlab.example.com:group/scp.git", Some("v3")),
            row(
                "wheel",
                "https://gitlab.example.com/api/v4/projects/1/packages/generic/w/1/w-1-py3-none-any.whl (download)",
                None
            ),
            row("hg", "a hg:// URL", None),
            row("tok", "https://gitlab.example.com/group/tok.git", None),
        ]
    );
    let written = &scan_result.dependencies[8].mentions[0].written;
    assert!(!written.contains("CI_JOB_TOKEN"), "{written}");
}

#[test]
fn pyproject_dependencies_of_every_tool_are_found() {
    let text = r#"
[project]
name = "app"
dependencies = [
  "requests>=2",
  "lib @ git+https://gitlab.example.com/group/lib.git@v1",
]
[project.optional-dependencies]
extra = ["ext[a,b] @ git+https://gitlab.example.com/group/ext.git"]

[dependency-groups]
dev = ["devtool @ git+ssh://git@gitlab.example.com/group/devtool.git", {include-group = "x"}]

[tool.poetry.dependencies]
python = "^3.11"
poet = { git = "https://gitlab.example.com/group/poet.git", branch = "main" }
multi = [
  { git = "https://gitlab.example.com/group/multi.git", tag = "v1", python = "<3.12" },
  { version = "^2", python = ">=3.12" },
]
[tool.poetry.group.test.dependencies]
tester = { git = "git@gitlab.example.com:group/tester.git", rev = "abc" }

[tool.uv.sources]
uvgit = { git = "https://gitlab.example.com/group/uvgit", tag = "v2" }
uvurl = { url = "https://gitlab.example.com/files/uvurl-1.0.tar.gz" }
uvlocal = { path = "../uvlocal" }
uvindex = { index = "internal" }
"#;
    assert_eq!(
        found("pyproject.toml", text),
        [
            row(
                "lib",
                "https://gitlab.example.com/group/lib.git",
                Some("v1")
            ),
            row("ext", "https://gitlab.example.com/group/ext.git", None),
            row(
                "devtool",
                "ssh://git@gitlab.example.com/group/devtool.git",
                None
            ),
            // toml keeps a table's keys sorted.
            row(
                "multi",
                "https://gitlab.example.com/group/multi.git",
                Some("tag v1")
            ),
            row(
                "poet",
                "https://gitlab.example.com/group/poet.git",
                Some("branch main")
            ),
            row(
                "tester",
                "git@gitlab.example.com:group/tester.git",
                Some("rev abc")
            ),
            row(
                "uvgit",
                "https://gitlab.example.com/group/uvgit",
                Some("tag v2")
            ),
            row(
                "uvurl",
                "https://gitlab.example.com/files/uvurl-1.0.tar.gz (download)",
                None
            ),
        ]
    );
}

#[test]
fn python_lock_files_give_git_sources() {
    let poetry = r#"
[[package]]
name = "poet"
version = "0.1.0"

[package.source]
type = "git"
url = "https://gitlab.example.com/group/poet.git"
reference = "main"
resolved_reference = "5e6f7a8b"

[[package]]
name = "indexed"
version = "1.0"

[package.source]
type = "legacy"
url = "https://gitlab.example.com/api/v4/projects/1/packages/pypi/simple"
reference = "gitlab"
"#;
    assert_eq!(
        found("poetry.lock", poetry),
        [row(
            "poet",
            "https://gitlab.example.com/group/poet.git",
            Some("5e6f7a8b")
        )]
    );
    let uv = r#"
version = 1
[[package]]
name = "uvgit"
version = "0.2.0"
source = { git = "https://gitlab.example.com/group/uvgit?tag=v2#1a2b3c" }

[[package]]
name = "requests"
version = "2.31.0"
source = { registry = "https://pypi.org/simple" }
"#;
    assert_eq!(
        found("uv.lock", uv),
        [row(
            "uvgit",
            "https://gitlab.example.com/group/uvgit",
            Some("tag v2, 1a2b3c")
        )]
    );
}

#[test]
fn pre_commit_repositories_are_found_and_local_ones_skipped() {
    let text = r#"
default_stages: [pre-commit]
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.5.0
    hooks:
      - id: trailing-whitespace
      - id: end-of-file-fixer
        args: [--fix, {nested: [1, 2]}]
  - repo: local
    hooks: [{id: mine, name: mine, entry: ./x, language: system}]
  - repo: meta
    hooks:
      - id: check-hooks-apply
  - {repo: "https://gitlab.example.com/group/hooks.git", rev: "1.0"}
  - repo: git@gitlab.example.com:group/ssh-hooks.git
    rev: &anchor v2
  - repo: https://gitlab.example.com/group/aliased
    rev: *anchor
ci:
  autofix_prs: false
"#;
    assert_eq!(
        found(".pre-commit-config.yaml", text),
        [
            row(
                "pre-commit-hooks",
                "https://github.com/pre-commit/pre-commit-hooks",
                Some("v4.5.0")
            ),
            row(
                "hooks",
                "https://gitlab.example.com/group/hooks.git",
                Some("1.0")
            ),
            row(
                "ssh-hooks",
                "git@gitlab.example.com:group/ssh-hooks.git",
                Some("v2")
            ),
            row("aliased", "https://gitlab.example.com/group/aliased", None),
        ]
    );
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
fn included_requirement_files_stay_inside_the_checkout() {
    let include = |file: &str, target: &str| {
        Include {
            file: file.into(),
            target: target.into(),
        }
        .path_in_checkout()
    };
    assert_eq!(
        include("requirements.txt", "base.txt").as_deref(),
        Some("base.txt")
    );
    assert_eq!(
        include("py/requirements/dev.txt", "../common.txt").as_deref(),
        Some("py/common.txt")
    );
    assert_eq!(
        include("py/r.txt", "./x/../y.txt").as_deref(),
        Some("py/y.txt")
    );
    assert_eq!(include("requirements.txt", "../outside.txt"), None);
    assert_eq!(include("a/r.txt", "../../outside.txt"), None);
    assert_eq!(include("r.txt", "/etc/passwd"), None);
    assert_eq!(include("r.txt", "https://example.com/r.txt"), None);
    assert_eq!(include("r.txt", ".."), None);
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
