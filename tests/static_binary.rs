//! The static musl build runs anywhere: in a root directory holding nothing but the binary (no
//! libc, no /dev, no /proc, no /etc), with an environment holding nothing but what the request
//! needs — the situation of a distroless or `FROM scratch` image.
//!
//! Needs the binary built first (`.ci/run` does it):
//!   cargo build --release --locked --target x86_64-unknown-linux-musl
//! and root (for `chroot`). Otherwise these tests say why on stderr and pass — except when
//! `CI=true`, where they fail, because CI builds the binary and runs as root.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{binary, Output, Run};

const TARGET: &str = "x86_64-unknown-linux-musl";
const TOKEN: &str = "glcbt-64_StAtIc_0123456789abcdef";

/// `$STATIC_BINARY`, else the musl release build in this build's target directory (the
/// directory two levels above the binary cargo built for these tests; `HELPER_UNDER_TEST` does
/// not apply: these tests need the file itself).
fn static_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("STATIC_BINARY") {
        return path.into();
    }
    let tested = binary::built();
    let target_dir = tested.parent().and_then(Path::parent).expect("target dir");
    target_dir
        .join(TARGET)
        .join("release")
        .join("git-credential-gitlab-ci")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The static binary, or `None` (after saying why) when this machine cannot run the test.
fn prerequisites(needs_root: bool) -> Option<PathBuf> {
    let binary = static_binary();
    let missing = if !binary.is_file() {
        Some(format!(
            "{} is missing; build it with: cargo build --release --locked --target {TARGET}",
            binary.display()
        ))
    } else if let Some(newer) = newer_source(&binary) {
        Some(format!(
            "{} is older than {}; rebuild it with: cargo build --release --locked --target {TARGET}",
            binary.display(),
            newer.display()
        ))
    } else if needs_root && !is_root() {
        Some("chroot needs root".to_string())
    } else {
        None
    };
    match missing {
        None => Some(binary),
        Some(why) if in_ci() => panic!("CI=true but the static-binary test cannot run: {why}"),
        Some(why) => {
            eprintln!("SKIPPED static binary test: {why}");
            None
        }
    }
}

/// A source file changed after `binary` was built, if any: testing a stale build proves nothing.
/// Only `src/` counts: cargo rebuilds (and so re-dates the binary) whenever one of those is
/// newer, while a touched but unchanged Cargo.toml leaves the binary as it is.
fn newer_source(binary: &Path) -> Option<PathBuf> {
    let built = std::fs::metadata(binary).and_then(|m| m.modified()).ok()?;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    std::fs::read_dir(src)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|f| {
            std::fs::metadata(f)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > built)
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Does the ELF file request a program interpreter (a dynamic loader)? Reads the program
/// headers of a 64-bit little-endian ELF.
fn has_interpreter(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not a 64-bit ELF");
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    const PT_INTERP: u32 = 3;
    (0..phnum).any(|i| u32_at(phoff + i * phentsize) == PT_INTERP)
}

#[test]
fn musl_build_is_statically_linked() {
    let Some(binary) = prerequisites(false) else {
        return;
    };
    let elf = std::fs::read(&binary).unwrap();
    assert!(
        !has_interpreter(&elf),
        "the musl binary asks for a dynamic loader"
    );
    let dynamic = std::fs::read(binary::built()).unwrap();
    assert!(
        has_interpreter(&dynamic),
        "the check can tell a dynamic binary"
    );
    if let Ok(out) = Command::new("file").arg("-b").arg(&binary).output() {
        let description = String::from_utf8_lossy(&out.stdout);
        assert!(
            description.contains("statically linked") || description.contains("static-pie linked"),
            "file says: {description}"
        );
    }
    eprintln!("static binary: {} bytes", elf.len());
}

/// A new root directory holding nothing but a copy of `binary`, as `/git-credential-gitlab-ci`.
fn root_holding_only(binary: &Path) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::copy(binary, root.path().join("git-credential-gitlab-ci")).unwrap();
    let entries: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "the root holds only the binary");
    root
}

/// Runs `/git-credential-gitlab-ci <args>` chrooted into `root`, with exactly `env`.
fn run_chrooted(root: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    // By absolute path: with the environment cleared there is no PATH to search.
    let chroot = ["/usr/sbin/chroot", "/usr/bin/chroot", "/sbin/chroot"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .expect("chroot (coreutils) is installed");
    let mut run = Run::new(args)
        .program(chroot)
        .arg(root)
        .arg("/git-credential-gitlab-ci")
        .stdin(stdin);
    for (key, value) in env {
        run = run.env(key, value);
    }
    let out = run.output();
    out.assert_stderr_rules();
    out
}

#[test]
fn static_binary_answers_get_in_an_empty_root_with_an_empty_environment() {
    let Some(binary) = prerequisites(true) else {
        return;
    };
    let root = root_holding_only(&binary);

    // Only the two variables a job provides; no PATH, HOME, locale or anything else.
    let job = [
        ("CI_SERVER_URL", "https://gitlab.example.com"),
        ("CI_JOB_TOKEN", TOKEN),
    ];
    let out = run_chrooted(
        root.path(),
        &["get"],
        &job,
        b"protocol=https\nhost=gitlab.example.com\n",
    );
    assert_eq!(
        out.stdout_text(),
        format!("username=gitlab-ci-token\npassword={TOKEN}\n"),
        "stderr: {}",
        out.stderr_text()
    );
    assert_eq!(out.code, Some(0));

    // Another host: nothing.
    let out = run_chrooted(
        root.path(),
        &["get"],
        &job,
        b"protocol=https\nhost=evil.com\n",
    );
    assert_eq!((out.code, out.stdout.len()), (Some(0), 0));

    // A completely empty environment, the server given as an option: runs, declines others.
    let out = run_chrooted(
        root.path(),
        &["--server", "https://gitlab.example.com", "get"],
        &[],
        b"protocol=https\nhost=evil.com\n",
    );
    assert_eq!((out.code, out.stdout.len()), (Some(0), 0));
    let out = run_chrooted(root.path(), &["--version"], &[], b"");
    assert!(out.stdout_text().starts_with("git-credential-gitlab-ci "));
}

#[test]
fn static_binary_speaks_docker_protocol_in_an_empty_root() {
    let Some(binary) = prerequisites(true) else {
        return;
    };
    let root = root_holding_only(&binary);
    let env = [
        ("CI_REGISTRY", "registry.example.com"),
        ("CI_JOB_TOKEN", TOKEN),
    ];
    let out = run_chrooted(
        root.path(),
        &["docker", "get"],
        &env,
        b"registry.example.com",
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr_text());
    assert_eq!(
        out.stdout_text(),
        format!(
            "{{\"Secret\":\"{TOKEN}\",\"ServerURL\":\"registry.example.com\",\"Username\":\"gitlab-ci-token\"}}\n"
        )
    );
}
