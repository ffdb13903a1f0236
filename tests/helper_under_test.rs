//! Which program the black-box suites really ran. With `HELPER_UNDER_TEST` pointing at a
//! wrapper (`.ci/run`: `exec qemu-aarch64-static -0 "$0" <aarch64 build> "$@"`), a suite that
//! passes proves nothing unless the aarch64 code is what ran: this test starts the helper under
//! test, finds the helper's ELF file mapped into the running process (qemu maps the guest
//! binary; a native run maps the binary itself) and checks its machine type against
//! `HELPER_UNDER_TEST_MACHINE` (default: this host's architecture).

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NAME: &str = "git-credential-gitlab-ci";

/// ELF `e_machine` names for the architectures we ship.
fn machine_name(e_machine: u16) -> &'static str {
    match e_machine {
        62 => "x86_64",
        183 => "aarch64",
        _ => "other",
    }
}

fn elf_machine(file: &Path) -> Option<u16> {
    let header = std::fs::read(file).ok()?;
    (header.get(..4)? == b"\x7fELF").then(|| u16::from_le_bytes([header[18], header[19]]))
}

/// `pid` and every process below it.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", all[i]));
        for task in tasks.into_iter().flatten().flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            all.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
        i += 1;
    }
    all
}

/// Files named like the helper that are mapped into the process tree of `pid`.
fn mapped_helpers(pid: u32) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for p in process_tree(pid) {
        let maps = std::fs::read_to_string(format!("/proc/{p}/maps")).unwrap_or_default();
        for line in maps.lines() {
            let Some(path) = line.split_whitespace().nth(5).map(PathBuf::from) else {
                continue;
            };
            let named = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(NAME));
            if named && !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn the_helper_under_test_runs_code_of_the_expected_architecture() {
    let helper = support::binary::path();
    let expected =
        std::env::var("HELPER_UNDER_TEST_MACHINE").unwrap_or(std::env::consts::ARCH.to_string());
    let version = Command::new(&helper)
        .arg("--version")
        .env_clear()
        .output()
        .expect("run the helper under test");
    assert!(version.status.success(), "{version:?}");

    // `get` with stdin held open: the helper blocks reading the request while we look.
    let mut child = Command::new(&helper)
        .arg("get")
        .env_clear()
        .env("CI_SERVER_URL", "https://gitlab.example.com")
        .env("CI_JOB_TOKEN", "glcbt-64_arch_0123456789")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the helper under test");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mapped = loop {
        let mapped = mapped_helpers(child.id());
        if !mapped.is_empty() || Instant::now() > deadline {
            break mapped;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"protocol=https\nhost=gitlab.example.com\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "username=gitlab-ci-token\npassword=glcbt-64_arch_0123456789\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert_eq!(
        mapped.len(),
        1,
        "expected exactly one {NAME} ELF file mapped while {} ran (a wrapper must exec), found {mapped:?}",
        helper.display()
    );
    let machine = elf_machine(&mapped[0]).expect("the mapped helper is an ELF file");
    eprintln!(
        "helper under test: {} runs {} ({}), {}",
        helper.display(),
        mapped[0].display(),
        machine_name(machine),
        String::from_utf8_lossy(&version.stdout).trim()
    );
    assert_eq!(machine_name(machine), expected, "{}", mapped[0].display());
}
