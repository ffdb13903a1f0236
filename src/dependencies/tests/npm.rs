//! package.json and package-lock.json.

use super::*;

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
