//! Running a program under a time limit, with both of its outputs captured and bounded, and
//! none of its processes left behind.
//!
//! The program runs in a process group of its own. When it has not exited by the deadline, the
//! whole group is killed (git's `ls-remote` runs `git-remote-https`, which may run helpers);
//! when it exits, whatever it left running in the group is killed too, so a straggler can
//! neither outlive the caller nor keep the output pipes open. Output beyond the bound is read
//! and dropped, so a chatty program never blocks on a full pipe.

use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From the start; a duration too long to represent means no limit.
    pub timeout: Duration,
    /// Bytes kept of each of stdout and stderr.
    pub max_output: usize,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// `None` when the program was killed at the time limit.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Some output was beyond [`Limits::max_output`] and dropped.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }
}

/// After the program exits, how long its pipes may stay open before it is assumed that a
/// process outside its group (one that started a session of its own) holds them.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Runs `command` (stdin is the caller's to set; stdout and stderr are captured) within
/// `limits`. `Err` only when the program cannot be started.
pub fn run(command: &mut Command, limits: Limits) -> io::Result<Finished> {
    let start = Instant::now();
    let deadline = start.checked_add(limits.timeout);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let (sender, outputs) = mpsc::channel();
    for (index, pipe) in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .enumerate()
    {
        let sender = sender.clone();
        let max = limits.max_output;
        thread::spawn(move || {
            let result = pipe.map_or_else(|| (Vec::new(), false), |p| read_bounded(p, max));
            let _ = sender.send((index, result));
        });
    }
    drop(sender);

    let status = wait(&mut child, deadline);
    kill_group(&child);
    let elapsed = start.elapsed();

    let mut captured = [(Vec::new(), false), (Vec::new(), false)];
    let mut truncated = false;
    let drain_until = Instant::now() + DRAIN_GRACE;
    for _ in 0..2 {
        let wait = drain_until.saturating_duration_since(Instant::now());
        match outputs.recv_timeout(wait) {
            Ok((index, output)) => captured[index] = output,
            // A process outside the group still holds a pipe: give up on what it would write.
            Err(_) => truncated = true,
        }
    }
    let [(stdout, cut_out), (stderr, cut_err)] = captured;
    Ok(Finished {
        status,
        stdout,
        stderr,
        truncated: truncated || cut_out || cut_err,
        elapsed,
    })
}

/// Waits for the program until the deadline; `None` when it had to be killed.
fn wait(child: &mut Child, deadline: Option<Instant>) -> Option<ExitStatus> {
    // Short polls first: most programs here finish in milliseconds.
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if deadline.is_some_and(|d| Instant::now() >= d) => break,
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(_) => break,
        }
    }
    kill_group(child);
    let _ = child.wait();
    None
}

/// SIGKILL to the program's process group: the program itself and everything it started that
/// is still running. Harmless when none is left.
fn kill_group(child: &Child) {
    let Ok(group) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a negative pid names
    // the process group the child leads (process_group(0) above).
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// Reads `pipe` to its end, keeping the first `max` bytes; true when more came.
fn read_bounded(mut pipe: impl Read, max: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 8192];
    let mut truncated = false;
    loop {
        match pipe.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                let room = max.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
                truncated |= n > room;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    (kept, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]).stdin(Stdio::null());
        command
    }

    const LIMITS: Limits = Limits {
        timeout: Duration::from_secs(60),
        max_output: 1024,
    };

    #[test]
    fn captures_both_outputs_and_the_status() {
        let done = run(&mut sh("echo out; echo err >&2; exit 3"), LIMITS).unwrap();
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
        assert_eq!(done.status.and_then(|s| s.code()), Some(3));
        assert!(!done.success() && !done.timed_out() && !done.truncated);
    }

    #[test]
    fn output_beyond_the_bound_is_dropped_without_blocking_the_program() {
        // 1 MiB on each pipe: far more than a pipe buffer holds.
        let script = "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; echo done >&2";
        let done = run(&mut sh(script), LIMITS).unwrap();
        assert!(done.success(), "{done:?}");
        assert_eq!((done.stdout.len(), done.stderr.len()), (1024, 1024));
        assert!(done.truncated);
    }

    #[test]
    fn a_program_past_its_time_limit_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
        let limits = Limits {
            timeout: Duration::from_millis(300),
            ..LIMITS
        };
        let done = run(&mut sh(&script), limits).unwrap();
        assert!(done.timed_out(), "{done:?}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        assert!(
            !process_exists(pid.trim()),
            "the grandchild sleep {pid} survived"
        );
    }

    #[test]
    fn what_a_program_leaves_running_is_killed_when_it_exits() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        // The straggler keeps stderr open; the run must still end promptly.
        let script = format!("sleep 300 & echo $! > {}; echo bye", pid_file.display());
        let done = run(&mut sh(&script), LIMITS).unwrap();
        assert!(done.success(), "{done:?}");
        assert_eq!(done.stdout, b"bye\n");
        assert!(done.elapsed < Duration::from_secs(60));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        assert!(
            !process_exists(pid.trim()),
            "the straggler sleep {pid} survived"
        );
    }

    #[test]
    fn an_unrepresentable_time_limit_means_none() {
        let limits = Limits {
            timeout: Duration::MAX,
            ..LIMITS
        };
        assert!(run(&mut sh("exit 0"), limits).unwrap().success());
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let err = run(&mut Command::new("/nonexistent/program"), LIMITS).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    /// Is the process alive (and not a zombie waiting for its parent)?
    fn process_exists(pid: &str) -> bool {
        // Killed processes are reaped by init (their parent, sh, is gone) within moments.
        for _ in 0..100 {
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => return false,
                Ok(stat) if stat.contains(") Z ") => return false,
                Ok(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
        true
    }
}
