//! Resource bounds: what an oversized or repetitive request costs the helper.
//!
//! Each binary run is measured with `wait4`, which reports the child's own peak resident set
//! size (`ru_maxrss`), so tests running in parallel do not disturb each other's numbers. The
//! bound asserted here is a generous multiple of what was measured (docs/security.md has the
//! numbers); what it catches is growth with the input: 10 MiB of input must not cost 10 MiB.
//! Time is not asserted (speed is for the benchmarks); a run that hangs is killed after
//! [`HANG_TIMEOUT`] and fails.

mod support;

use std::process::Command;
use std::time::Duration;

use git_credential_gitlab_ci::protocol::{parse_request, ProtocolError, MAX_REQUEST_BYTES};
use support::{assert_stderr_rules, docs, run_with_timeout, Run};

/// Peak RSS allowed for any run, in KiB. Measured (debug build, see docs/security.md): about
/// 4.2 MiB for a normal request and for every input refused at a bound (10 MiB lines, 10^6
/// lines), 6.2 MiB for a docker store of 10 MiB (1 MiB read and dropped), and about 17 MiB for
/// the worst accepted request (1 MiB of distinct keys, each kept in the duplicate-key set).
const MAX_RSS_KIB: i64 = 32 * 1024;

/// Generous: the slowest run here (1 MiB of distinct keys, debug build) takes about a second.
const HANG_TIMEOUT: Duration = Duration::from_secs(300);

struct Measured {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    max_rss_kib: i64,
}

/// Set for the re-executed test binary that acts as the measuring parent.
const PROBE_DIR: &str = "RESOURCES_PROBE_DIR";
const TOKEN: &str = "glcbt-64_resources-test-token";

/// Runs the helper on `input` and measures its peak RSS.
///
/// Why the detour: Linux carries the peak RSS of the process that *execs* into the new
/// program's `ru_maxrss`, and std spawns with vfork, so a helper started from this test harness
/// (which holds tens of MiB of test inputs) would report the harness's peak, not its own. So
/// this test binary re-executes itself with only [`probe_child`] selected: that small process
/// starts the helper with the input file as stdin and reads its `ru_maxrss` with `wait4`. The
/// number is then an upper bound on the helper's own peak (the probe process, ~2–3 MiB, is the
/// floor).
fn measure(operation: &str, input: &[u8]) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("input"), input).unwrap();
    std::fs::write(dir.path().join("operation"), operation).unwrap();
    let mut probe = Command::new(std::env::current_exe().unwrap());
    probe
        .args(["probe_child", "--exact", "--test-threads=1", "--quiet"])
        .env(PROBE_DIR, dir.path());
    let probe = run_with_timeout(probe, HANG_TIMEOUT);
    assert!(!probe.timed_out(), "the helper hung: {probe}");
    assert!(probe.success(), "probe failed: {probe}");
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    let text = |name: &str| String::from_utf8(read(name)).unwrap();
    let measured = Measured {
        code: text("code").trim().parse().ok(),
        stdout: read("stdout"),
        stderr: text("stderr"),
        max_rss_kib: text("rss").trim().parse().unwrap(),
    };
    eprintln!(
        "{operation} on {} bytes: peak RSS {} KiB, exit {:?} (after {:.2?})",
        input.len(),
        measured.max_rss_kib,
        measured.code,
        probe.elapsed,
    );
    measured
}

/// The measuring parent (see [`measure`]); does nothing in a normal test run.
#[test]
fn probe_child() {
    let Some(dir) = std::env::var_os(PROBE_DIR) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let file = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    let operation = std::fs::read_to_string(dir.join("operation")).unwrap();
    let words: Vec<&str> = operation.split(' ').collect();
    let child = Run::new(&words)
        .env("CI_SERVER_URL", "https://gitlab.example.com")
        .env("CI_REGISTRY", "registry.gitlab.example.com")
        .env("CI_JOB_TOKEN", TOKEN)
        .command()
        .stdin(std::fs::File::open(dir.join("input")).unwrap())
        .stdout(file("stdout"))
        .stderr(file("stderr"))
        .spawn()
        .expect("start the helper");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it in for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    // Reaped already: std's Child must not wait for it again (dropping it does not).
    drop(child);
    let code = match libc::WIFEXITED(status) {
        true => libc::WEXITSTATUS(status).to_string(),
        false => "signal".to_string(),
    };
    std::fs::write(dir.join("code"), code).unwrap();
    // ru_maxrss is in KiB on Linux.
    std::fs::write(dir.join("rss"), usage.ru_maxrss.to_string()).unwrap();
}

#[track_caller]
fn assert_refused(m: &Measured, message: &str) {
    assert_eq!(m.stdout, b"", "nothing on stdout");
    assert_eq!(m.code, Some(1), "stderr: {}", m.stderr);
    assert_eq!(m.stderr.lines().count(), 1, "one line: {}", m.stderr);
    assert!(m.stderr.contains(message), "{:?} in {}", message, m.stderr);
    assert_stderr_rules(m.stderr.as_bytes(), Some(TOKEN));
    assert_bounded(m);
}

#[track_caller]
fn assert_bounded(m: &Measured) {
    assert!(
        m.max_rss_kib <= MAX_RSS_KIB,
        "peak RSS {} KiB > {MAX_RSS_KIB} KiB",
        m.max_rss_kib
    );
}

const TEN_MIB: usize = 10 * 1024 * 1024;

#[test]
fn baseline_request_is_answered() {
    let m = measure("get", b"protocol=https\nhost=gitlab.example.com\n");
    assert_eq!(
        m.stdout,
        format!("username=gitlab-ci-token\npassword={TOKEN}\n").as_bytes()
    );
    assert_eq!(m.code, Some(0));
    assert_bounded(&m);
}

#[test]
fn one_ten_mib_line_is_refused_after_a_bounded_read() {
    let mut input = b"protocol=https\nhost=gitlab.example.com\nwwwauth[]=".to_vec();
    input.resize(TEN_MIB, b'a');
    input.push(b'\n');
    let m = measure("get", &input);
    assert_refused(&m, "request line 3 is longer than 65536 bytes");
}

#[test]
fn ten_mib_without_a_line_feed_is_refused() {
    let m = measure("get", &vec![b'h'; TEN_MIB]);
    assert_refused(&m, "request line 1 is longer than 65536 bytes");
}

#[test]
fn a_million_repeated_lines_are_refused_at_the_request_bound() {
    let mut input = b"protocol=https\nhost=gitlab.example.com\n".to_vec();
    input.extend(b"wwwauth[]=Basic realm=\"GitLab\"\n".repeat(1_000_000));
    assert!(input.len() > TEN_MIB * 2);
    let m = measure("get", &input);
    assert_refused(&m, "request is longer than 1048576 bytes");
}

#[test]
fn a_million_repeated_single_value_lines_are_refused_at_the_second() {
    let input = b"host=gitlab.example.com\n".repeat(1_000_000);
    let m = measure("get", &input);
    assert_refused(&m, "gives the key 'host' more than once (line 2)");
}

#[test]
fn store_and_erase_read_a_bounded_amount_and_succeed() {
    for operation in ["store", "erase"] {
        let m = measure(operation, &b"password=x\n".repeat(1_000_000));
        assert_eq!((m.code, m.stdout.as_slice()), (Some(0), &b""[..]));
        assert_eq!(m.stderr, "");
        assert_bounded(&m);
    }
}

/// 1 MiB of distinct short keys: the most entries a request can carry, each of which must be
/// checked for duplicates. Finding: the check was a linear scan per line, so this input took
/// about a minute of CPU in a release build; it is now a hash set.
fn distinct_keys_request() -> Vec<u8> {
    let mut input = b"protocol=https\nhost=gitlab.example.com\n".to_vec();
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    'outer: for a in alphabet {
        for b in alphabet {
            for c in alphabet {
                if input.len() + 5 > MAX_REQUEST_BYTES {
                    break 'outer;
                }
                if [a, b, c] == [&b'u', &b'r', &b'l'] {
                    continue; // `url=` with an empty value is an invalid URL
                }
                input.extend_from_slice(&[*a, *b, *c, b'=', b'\n']);
            }
        }
    }
    input
}

#[test]
fn distinct_keys_up_to_the_request_bound_are_accepted_in_bounded_memory() {
    let input = distinct_keys_request();
    let lines = input.len() / 5;
    assert!(lines > 200_000, "{lines} lines");
    // The binary first: it runs under the hang guard, the library call below does not.
    let m = measure("get", &input);
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    assert_bounded(&m);
    let parsed = parse_request(&input);
    assert!(parsed.is_ok(), "{parsed:?}");
}

#[test]
fn the_library_parser_stops_at_the_bounds() {
    let long_line = vec![b'a'; TEN_MIB];
    assert_eq!(
        parse_request(&long_line),
        Err(ProtocolError::LineTooLong { line: 1 })
    );
    let many = b"capability[]=authtype\n".repeat(1_000_000);
    assert_eq!(parse_request(&many), Err(ProtocolError::TooLong));
}

#[test]
fn docker_get_reads_a_bounded_amount() {
    let mut input = b"registry.gitlab.example.com\n".to_vec();
    input.resize(TEN_MIB, b'a');
    let m = measure("docker get", &input);
    assert_eq!(
        (m.code, m.stdout.as_slice()),
        (Some(1), &b"credentials not found in native keychain\n"[..]),
        "stderr: {}",
        m.stderr
    );
    assert_stderr_rules(m.stderr.as_bytes(), Some(TOKEN));
    assert_bounded(&m);
}

#[test]
fn docker_store_and_erase_read_a_bounded_amount() {
    for operation in ["docker store", "docker erase"] {
        let m = measure(operation, &vec![b'{'; TEN_MIB]);
        assert_eq!((m.code, m.stdout.as_slice()), (Some(0), &b""[..]));
        assert_eq!(m.stderr, "");
        assert_bounded(&m);
    }
}

#[test]
fn docs_state_the_asserted_memory_bound() {
    docs::assert_says(
        "docs/security.md",
        &format!("a peak RSS of at most **{} MiB**", MAX_RSS_KIB / 1024),
    );
}
