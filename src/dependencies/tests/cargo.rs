//! Cargo.toml and Cargo.lock.

use super::*;

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
