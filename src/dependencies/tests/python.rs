//! requirements files, pyproject.toml, poetry.lock and uv.lock.

use super::*;

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
fn files_a_requirements_file_includes_are_read_whatever_their_names() {
    let files = [
        ManifestFile {
            path: "requirements.txt",
            text: "-r py/base.txt\n",
        },
        ManifestFile {
            path: "py/base.txt",
            text: "-c ../pins.txt\nlib @ git+https://gitlab.example.com/group/lib.git\n",
        },
        ManifestFile {
            path: "pins.txt",
            text: "pinned @ git+https://gitlab.example.com/group/pinned.git@v1\n",
        },
        ManifestFile {
            path: "notes.txt",
            text: "unread @ git+https://gitlab.example.com/group/unread.git\n",
        },
    ];
    let scan = scan(&files, None);
    let found: Vec<(&str, String)> = scan
        .dependencies
        .iter()
        .map(|d| (d.mentions[0].file.as_str(), d.location.to_string()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "py/base.txt",
                "https://gitlab.example.com/group/lib.git".to_string()
            ),
            (
                "pins.txt",
                "https://gitlab.example.com/group/pinned.git".to_string()
            ),
        ]
    );
}
