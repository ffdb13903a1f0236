//! `install.sh` with no Rust toolchain: a prebuilt binary (`--binary`), a release archive
//! (`--tarball`, and the `install.sh` inside an unpacked one), the keyring link, and an
//! uninstall that leaves git's configuration as it was — also when the binary is gone already.
//!
//! Every run has `cargo`, `rustc` and `rustup` stripped from `PATH`, a temporary prefix and
//! `HOME`, `--global` (never the system files, even as root) and `GIT_CONFIG_GLOBAL` pointing
//! at a temporary file. The archive tests use `dist/build.sh`'s output (`RELEASE_DIR`, default
//! `target/dist`); without it they say so and pass, except under `CI=true`.

mod package_registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NAME: &str = "git-credential-gitlab-ci";
const TOKEN: &str = "glcbt-64_InStAlL_0123456789abcdef";
const SERVER: &str = "https://gitlab.example.com";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn helper_bin() -> &'static str {
    env!("CARGO_BIN_EXE_git-credential-gitlab-ci")
}

/// This process's PATH without any directory that holds cargo, rustc or rustup.
fn path_without_rust() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| {
            ["cargo", "rustc", "rustup"]
                .iter()
                .all(|tool| !dir.join(tool).exists())
        })
        .collect();
    std::env::join_paths(kept).unwrap().into_string().unwrap()
}

/// A machine as install.sh sees it: a prefix, a HOME, a GIT_CONFIG_GLOBAL file (absent until
/// written), no Rust toolchain on PATH.
struct Machine {
    root: tempfile::TempDir,
    path: String,
}

impl Machine {
    fn new() -> Machine {
        let root = tempfile::tempdir().unwrap();
        for dir in ["home", "prefix", "runner"] {
            std::fs::create_dir(root.path().join(dir)).unwrap();
        }
        let path = path_without_rust();
        let m = Machine { root, path };
        let which = m.sh(
            "command -v cargo || command -v rustup || command -v rustc",
            &[],
        );
        assert!(
            !which.status.success(),
            "a Rust tool is still on PATH: {which:?}"
        );
        m
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }
    fn prefix(&self) -> PathBuf {
        self.root.path().join("prefix")
    }
    fn bin(&self) -> PathBuf {
        self.prefix().join("bin")
    }
    fn runner_config(&self) -> PathBuf {
        self.root.path().join("runner/config")
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", &self.path)
            .env("HOME", self.home())
            .env("GIT_CONFIG_GLOBAL", self.runner_config())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LC_ALL", "C")
            .env("CI_SERVER_URL", SERVER)
            .env("CI_JOB_TOKEN", TOKEN)
            .current_dir(self.root.path())
            .stdin(Stdio::null());
        cmd
    }

    fn sh(&self, script: &str, args: &[&str]) -> Output {
        self.command("sh")
            .args(["-c", script, "sh"])
            .args(args)
            .output()
            .unwrap()
    }

    /// `sh <install.sh> --prefix P --global <args>`.
    fn install_sh(&self, script: &Path, args: &[&str]) -> Output {
        self.command("sh")
            .arg(script)
            .arg("--prefix")
            .arg(self.prefix())
            .arg("--global")
            .args(args)
            .output()
            .unwrap()
    }

    fn install(&self, args: &[&str]) -> Output {
        self.install_sh(&repo().join("install.sh"), args)
    }

    /// What git answers for the server with this machine's configuration.
    fn fill(&self) -> String {
        let mut child = self
            .command("git")
            .args(["credential", "fill"])
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"protocol=https\nhost=gitlab.example.com\n\n")
            .unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every file and link under the prefix and HOME, relative, sorted.
    fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if entry.file_type().unwrap().is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(self.root.path()).unwrap();
                    out.push(rel.display().to_string());
                }
            }
        }
        out.sort();
        out
    }
}

#[track_caller]
fn assert_ok(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "install.sh failed:\n{text}");
    text
}

fn answer() -> String {
    format!("protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword={TOKEN}\n")
}

#[test]
fn binary_installs_and_registers_without_cargo_and_uninstall_leaves_nothing() {
    let m = Machine::new();
    assert_ne!(m.fill(), answer(), "nothing answers before the install");
    let text = assert_ok(&m.install(&["--binary", helper_bin()]));
    assert!(text.contains("prebuilt"), "{text}");
    let target = m.bin().join(NAME);
    assert!(target.is_file());
    assert_eq!(
        std::fs::read_link(m.bin().join("docker-credential-gitlab-ci")).unwrap(),
        Path::new(NAME)
    );
    assert!(
        !m.bin().join("keyring").exists(),
        "no keyring link unless asked"
    );
    assert_eq!(m.fill(), answer());
    let config = std::fs::read_to_string(m.home().join(".gitconfig")).unwrap();
    assert!(
        config.contains(&format!("helper = {}", target.display())),
        "{config}"
    );
    assert!(
        config.contains("[credential \"https://gitlab.example.com\"]"),
        "{config}"
    );

    assert_ok(&m.install(&["--uninstall"]));
    assert_eq!(
        m.files(),
        Vec::<String>::new(),
        "uninstall left files behind"
    );
    assert_ne!(m.fill(), answer());
}

#[test]
fn uninstall_after_the_binary_is_gone_removes_every_entry_configure_wrote() {
    let m = Machine::new();
    // The user's own configuration: a store helper, an unrelated rewrite, in the runner's file.
    let mine = "[credential]\n\thelper = store\n[url \"https://github.com/\"]\n\tinsteadOf = git@github.com:\n[user]\n\tname = Someone\n";
    std::fs::write(m.runner_config(), mine).unwrap();
    assert_ok(&m.install(&["--binary", helper_bin()]));
    // Everything configure can add: a second server, SSH rewrites for both.
    let target = m.bin().join(NAME);
    let out = m
        .command(&target)
        .args(["configure", "--global", "--rewrite-ssh"])
        .args(["--server", "https://gitlab.internal:8443"])
        .env("CI_SERVER_SHELL_SSH_HOST", "ssh.gitlab.example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let written = std::fs::read_to_string(m.home().join(".gitconfig")).unwrap();
    for needle in [
        "insteadOf = git@ssh.gitlab.example.com:",
        "[credential \"https://gitlab.internal:8443\"]",
        "[url \"https://gitlab.internal:8443/\"]",
    ] {
        assert!(written.contains(needle), "{needle}: {written}");
    }

    std::fs::remove_file(&target).unwrap();
    let text = assert_ok(&m.install(&["--uninstall"]));
    assert!(text.contains("by hand"), "{text}");
    assert!(
        !m.home().join(".gitconfig").exists(),
        "the file configure created is gone, not left empty"
    );
    assert_eq!(std::fs::read_to_string(m.runner_config()).unwrap(), mine);
    assert_eq!(m.files(), vec!["runner/config".to_string()]);
}

#[test]
fn uninstall_with_the_binary_restores_an_existing_config_byte_for_byte() {
    let m = Machine::new();
    let mine = "# mine\n[credential]\n\thelper = cache --timeout 60\n[core]\n\teditor = vi\n";
    std::fs::write(m.home().join(".gitconfig"), mine).unwrap();
    assert_ok(&m.install(&["--binary", helper_bin()]));
    assert_ne!(
        std::fs::read_to_string(m.home().join(".gitconfig")).unwrap(),
        mine
    );
    let text = assert_ok(&m.install(&["--uninstall"]));
    assert!(!text.contains("by hand"), "{text}");
    assert_eq!(
        std::fs::read_to_string(m.home().join(".gitconfig")).unwrap(),
        mine
    );
    assert!(!m.runner_config().exists());
}

#[test]
fn keyring_link_only_when_asked_never_over_a_real_keyring_and_removed_only_when_ours() {
    let m = Machine::new();
    let dir = m.root.path().join("venv-bin");
    std::fs::create_dir(&dir).unwrap();
    let link = dir.join("keyring");
    let with_link = [
        "--binary",
        helper_bin(),
        "--keyring-link",
        dir.to_str().unwrap(),
    ];

    // A real keyring there: refused before anything is installed, and left as it was.
    std::fs::write(&link, "#!/bin/sh\necho real keyring\n").unwrap();
    let out = m.install(&with_link);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a link to"));
    assert_eq!(
        std::fs::read_to_string(&link).unwrap(),
        "#!/bin/sh\necho real keyring\n"
    );
    assert!(!m.bin().join(NAME).exists(), "nothing installed");
    std::fs::remove_file(&link).unwrap();

    assert_ok(&m.install(&with_link));
    assert_eq!(std::fs::read_link(&link).unwrap(), m.bin().join(NAME));
    // Running it again keeps the one link.
    assert_ok(&m.install(&with_link));
    assert_eq!(std::fs::read_link(&link).unwrap(), m.bin().join(NAME));

    assert_ok(&m.install(&["--uninstall", "--keyring-link", dir.to_str().unwrap()]));
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "our link is removed"
    );

    // A keyring link that points elsewhere is not ours: uninstall leaves it.
    std::os::unix::fs::symlink("/usr/bin/true", &link).unwrap();
    assert_ok(&m.install(&["--uninstall", "--keyring-link", dir.to_str().unwrap()]));
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("/usr/bin/true")
    );
}

#[test]
fn a_binary_that_cannot_run_here_is_refused() {
    let m = Machine::new();
    let fake = m.root.path().join(NAME);
    std::fs::write(&fake, b"\x7fELF\x02\x01\x01garbage").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = m.install(&["--binary", fake.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not run here"));
    assert!(!m.bin().exists());
}

/// The release archive for this machine, and its directory, from `dist/build.sh`.
fn release() -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::var_os("RELEASE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/dist"));
    let arch = std::env::consts::ARCH;
    let version = env!("CARGO_PKG_VERSION");
    let tarball = dir.join(format!("{NAME}-{version}-{arch}-linux.tar.gz"));
    let why = if !(tarball.is_file() && dir.join("SHA256SUMS").is_file()) {
        format!(
            "{} is missing; build it with dist/build.sh",
            tarball.display()
        )
    } else if let Some(newer) = newer_source(&tarball) {
        format!(
            "{} is older than {}; rebuild it with dist/build.sh",
            tarball.display(),
            newer.display()
        )
    } else {
        return Some((dir, tarball));
    };
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "CI=true but the release archive test cannot run: {why}"
    );
    eprintln!("SKIPPED release archive test: {why}");
    None
}

/// A file the archive is made of (install.sh, src/) changed after it was built, if any.
fn newer_source(archive: &Path) -> Option<PathBuf> {
    let built = std::fs::metadata(archive).and_then(|m| m.modified()).ok()?;
    let src = std::fs::read_dir(repo().join("src"))
        .into_iter()
        .flatten()
        .flatten();
    std::iter::once(repo().join("install.sh"))
        .chain(src.map(|e| e.path()))
        .find(|f| {
            std::fs::metadata(f)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > built)
        })
}

#[test]
fn release_tarball_installs_verified_with_its_man_page_and_no_cargo() {
    let Some((dir, tarball)) = release() else {
        return;
    };
    let m = Machine::new();
    let text = assert_ok(&m.install(&["--tarball", tarball.to_str().unwrap()]));
    assert!(text.contains("verified"), "{text}");
    assert_eq!(m.fill(), answer());
    let man = m.prefix().join(format!("share/man/man1/{NAME}.1"));
    assert!(std::fs::read_to_string(&man)
        .unwrap()
        .contains(".SH ENVIRONMENT"));
    assert_ok(&m.install(&["--uninstall"]));
    assert_eq!(m.files(), Vec::<String>::new());

    // The same archive, one byte changed: refused against SHA256SUMS, nothing installed.
    let tampered_dir = m.root.path().join("download");
    std::fs::create_dir(&tampered_dir).unwrap();
    let mut bytes = std::fs::read(&tarball).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let tampered = tampered_dir.join(tarball.file_name().unwrap());
    std::fs::write(&tampered, bytes).unwrap();
    std::fs::copy(dir.join("SHA256SUMS"), tampered_dir.join("SHA256SUMS")).unwrap();
    let out = m.install(&["--tarball", tampered.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!m.bin().join(NAME).exists());
}

#[test]
fn install_sh_inside_an_unpacked_release_installs_the_binary_next_to_it() {
    let Some((_dir, tarball)) = release() else {
        return;
    };
    let m = Machine::new();
    let unpacked = m.root.path().join("download");
    std::fs::create_dir(&unpacked).unwrap();
    let out = m
        .command("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let top = std::fs::read_dir(&unpacked)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut listing: Vec<String> = std::fs::read_dir(&top)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listing.sort();
    assert_eq!(
        listing,
        [
            "LICENSE",
            "README.md",
            "docker-credential-gitlab-ci",
            NAME,
            &format!("{NAME}.1"),
            "install.sh"
        ]
    );
    assert_ok(&m.install_sh(&top.join("install.sh"), &[]));
    assert_eq!(
        std::fs::read(m.bin().join(NAME)).unwrap(),
        std::fs::read(top.join(NAME)).unwrap()
    );
    assert!(m
        .prefix()
        .join(format!("share/man/man1/{NAME}.1"))
        .is_file());
    assert_eq!(m.fill(), answer());
    assert_ok(&m.install_sh(&top.join("install.sh"), &["--uninstall"]));
    std::fs::remove_dir_all(&unpacked).unwrap();
    assert_eq!(m.files(), Vec::<String>::new());
}

/// The README's "without a Rust toolchain" commands: the block that starts with `base=`.
fn readme_release_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let block: Vec<String> = readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split_once("```").map(|(code, _)| code))
        .find(|code| code.starts_with("base="))
        .expect("a README block starting with base=")
        .lines()
        .map(str::to_string)
        .collect();
    block
}

#[test]
fn readme_release_commands_download_verify_and_install_without_cargo() {
    let Some((dir, _)) = release() else {
        return;
    };
    let version = env!("CARGO_PKG_VERSION");
    let commands = readme_release_commands();
    let package = format!("packages/generic/{NAME}/{version}");
    assert!(
        commands[0].ends_with(&format!("/projects/PROJECT_ID/{package}")),
        "the README downloads the current version from the generic package registry: {}",
        commands[0]
    );
    // The registry holds what dist/publish.sh uploads (tests/release_pipeline.rs).
    let registry = package_registry::Registry::start("unused-here");
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let path = format!("projects/42/{package}/{file}");
        registry.preload(&path, std::fs::read(entry.path()).unwrap());
    }

    let m = Machine::new();
    let mut script = vec![format!("base={}/projects/42/{package}", registry.api_url())];
    script.extend(commands[1..].iter().cloned());
    // The last command is install.sh; here into the temporary prefix and HOME.
    let last = script.pop().unwrap();
    let install = last.split('#').next().unwrap().trim().to_string();
    assert!(install.ends_with("/install.sh"), "{install}");
    script.push(format!(
        "{install} --prefix '{}' --global",
        m.prefix().display()
    ));
    let out = m.sh(&format!("set -e\n{}", script.join("\n")), &[]);
    let text = assert_ok(&out);
    assert!(
        text.contains(": OK"),
        "sha256sum -c checked the archive: {text}"
    );
    assert!(text.contains("prebuilt"), "{text}");
    assert_eq!(m.fill(), answer());
    let downloads: Vec<_> = registry
        .log()
        .into_iter()
        .map(|r| (r.method, r.status))
        .collect();
    assert_eq!(
        downloads,
        [("GET".to_string(), 200), ("GET".to_string(), 200)]
    );

    // A download that does not match SHA256SUMS stops the commands before anything is installed.
    let m = Machine::new();
    let tarball = format!("{NAME}-{version}-{}-linux.tar.gz", std::env::consts::ARCH);
    let path = format!("projects/42/{package}/{tarball}");
    let mut bytes = registry.file(&path).unwrap();
    bytes[100] ^= 1;
    registry.preload(&path, bytes);
    let out = m.sh(&format!("set -e\n{}", script.join("\n")), &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("FAILED"),
        "{out:?}"
    );
    assert!(!m.bin().exists(), "nothing installed");
}
