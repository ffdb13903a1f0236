//! Running a program under a time limit, with both of its outputs captured and bounded, and
//! none of its processes left behind.
//!
//! The program runs in a process group of its own. When it has not exited by the deadline, the
//! whole group is killed (git's `ls-remote` runs `git-remote-https`, which may run helpers);
//! when it exits, whatever it left running in the group is killed too, so a straggler can
//! neither outlive the caller nor keep the output pipes open. Both pipes are read while the
//! program runs, and output beyond the bound is read and dropped, so a chatty program never
//! blocks on a full pipe.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
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

/// After the program ends, how long its pipes may stay open before it is assumed that a
/// process outside its group (one that started a session of its own) holds them.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// The longest wait between two looks at whether the program has exited.
const MAX_PAUSE: Duration = Duration::from_millis(20);

/// Runs `command` (stdin is the caller's to set; stdout and stderr are captured) within
/// `limits`. `Err` only when the program cannot be started.
///
/// One thread does it all: the pipes are read as `poll(2)` finds data on them, between looks
/// at whether the program has exited.
pub fn run(command: &mut Command, limits: Limits) -> io::Result<Finished> {
    let start = Instant::now();
    let deadline = start.checked_add(limits.timeout);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    // As files, so that one type reads both.
    let file = |fd: OwnedFd| File::from(fd);
    let max = limits.max_output;
    let mut stdout = Capture::new(child.stdout.take().map(OwnedFd::from).map(file), max);
    let mut stderr = Capture::new(child.stderr.take().map(OwnedFd::from).map(file), max);
    let mut ended: Option<(Option<ExitStatus>, Instant)> = None;
    let mut pause = Duration::from_millis(1);
    let mut gave_up = false;
    loop {
        if ended.is_none() {
            // An error here means the program cannot be waited for: count it as ended.
            let (exited, lost) = match child.try_wait() {
                Ok(status) => (status, false),
                Err(_) => (None, true),
            };
            if exited.is_some() || lost || deadline.is_some_and(|d| Instant::now() >= d) {
                // Exited or out of time: nothing of its group may outlive it.
                kill_group(&child);
                let status = exited.or_else(|| {
                    let _ = child.wait();
                    None
                });
                ended = Some((status, Instant::now()));
            }
        }
        if !stdout.is_open() && !stderr.is_open() {
            if ended.is_some() {
                break;
            }
        } else if let Some((_, at)) = ended {
            if at.elapsed() >= DRAIN_GRACE {
                gave_up = true;
                break;
            }
        }
        let mut wait = pause;
        if let Some(deadline) = deadline.filter(|_| ended.is_none()) {
            wait = wait.min(deadline.saturating_duration_since(Instant::now()));
        }
        wait_for_output(&mut [&mut stdout, &mut stderr], wait);
        pause = (pause * 2).min(MAX_PAUSE);
    }
    let (status, ended_at) = ended.unwrap_or((None, Instant::now()));
    Ok(Finished {
        status,
        truncated: gave_up || stdout.truncated || stderr.truncated,
        stdout: stdout.kept,
        stderr: stderr.kept,
        elapsed: ended_at - start,
    })
}

/// One output pipe being read: what is kept of it, and whether more came.
struct Capture {
    pipe: Option<File>,
    kept: Vec<u8>,
    max: usize,
    truncated: bool,
}

impl Capture {
    fn new(pipe: Option<File>, max: usize) -> Self {
        Capture {
            pipe,
            kept: Vec::new(),
            max,
            truncated: false,
        }
    }

    fn is_open(&self) -> bool {
        self.pipe.is_some()
    }

    /// Reads what `poll` said is there; closes the pipe at its end.
    fn read_ready(&mut self) {
        let Some(pipe) = &mut self.pipe else {
            return;
        };
        let mut buffer = [0u8; 8192];
        match pipe.read(&mut buffer) {
            Ok(0) => self.pipe = None,
            Ok(n) => {
                let room = self.max.saturating_sub(self.kept.len());
                self.kept.extend_from_slice(&buffer[..n.min(room)]);
                self.truncated |= n > room;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => self.pipe = None,
        }
    }
}

/// Waits up to `wait` for data (or the end) on the open pipes, and reads what came.
fn wait_for_output(captures: &mut [&mut Capture], wait: Duration) {
    let mut fds: Vec<libc::pollfd> = captures
        .iter()
        .filter_map(|c| c.pipe.as_ref())
        .map(|pipe| libc::pollfd {
            fd: pipe.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let millis = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures for the duration of the
    // call (with none, poll just sleeps).
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
    if ready <= 0 {
        return;
    }
    for capture in captures.iter_mut() {
        let Some(fd) = capture.pipe.as_ref().map(AsRawFd::as_raw_fd) else {
            continue;
        };
        if fds.iter().any(|p| p.fd == fd && p.revents != 0) {
            capture.read_ready();
        }
    }
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
                Ok(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        true
    }
}
