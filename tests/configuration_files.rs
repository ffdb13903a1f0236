//! Write only what is ours, atomically: `configure` and `unconfigure` (git) and `docker
//! configure` write only regular files — a FIFO, socket, directory or device target is refused
//! by name and left exactly as it was — and a change is all or nothing: whatever interrupts
//! it, the file is either as it was or fully configured, never a server with the empty reset
//! but without the helper. Every target lives in a temporary directory; the devices are made
//! there with `mknod` (never the real `/dev/null`).

mod support;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use support::{ClientEnv, RunOutput};

const SERVER: &str = "https://gitlab.example.com";

/// An environment with a server and a registry, no helper configured, and a temporary `HOME`
/// (whose `.gitconfig` holds only git's user settings).
fn env() -> ClientEnv {
    let mut env = ClientEnv::local().server_url(SERVER).no_helper().build();
    env.set_var("CI_REGISTRY", "registry.example.com");
    env
}

/// `$HOME/.gitconfig` as it is now, to compare after a run that must write nothing.
fn global_config(env: &ClientEnv) -> String {
    fs::read_to_string(env.home().join(".gitconfig")).unwrap()
}

fn code(out: &RunOutput) -> Option<i32> {
    out.status.and_then(|s| s.code())
}

/// The one stderr line of a refusal.
#[track_caller]
fn refusal(out: &RunOutput) -> &str {
    assert_eq!(code(out), Some(1), "{out}");
    let lines = out.helper_lines();
    assert_eq!(lines.len(), 1, "one line: {out}");
    lines[0]
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.expect("mkfifo").success());
}

/// A character device like `/dev/null` (1, 3), made in a temporary directory. `None` when the
/// sandbox forbids `mknod` (it needs root); under `CI=true`, where the suite runs as root,
/// that is a failure.
fn char_device(path: &Path) -> Option<()> {
    let made = std::process::Command::new("mknod")
        .arg(path)
        .args(["c", "1", "3"])
        .output()
        .expect("mknod");
    if made.status.success() {
        return Some(());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "mknod failed under CI=true: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    eprintln!("NOTE: mknod is not allowed here; the character-device case is skipped");
    None
}

/// Something that is not a regular file, and how to tell it is still the same thing.
struct Odd {
    path: PathBuf,
    kind: &'static str,
    _listener: Option<UnixListener>,
}

impl Odd {
    #[track_caller]
    fn assert_unchanged(&self) {
        let meta = fs::symlink_metadata(&self.path).unwrap();
        let kind = meta.file_type();
        let same = match self.kind {
            "a FIFO (named pipe)" => kind.is_fifo(),
            "a socket" => kind.is_socket(),
            "a directory" => kind.is_dir() && fs::read_dir(&self.path).unwrap().count() == 0,
            "a character device" => kind.is_char_device() && meta.rdev() == libc_makedev(1, 3),
            other => unreachable!("{other}"),
        };
        assert!(same, "{} is no longer {}", self.path.display(), self.kind);
        let lock = PathBuf::from(format!("{}.lock", self.path.display()));
        assert!(!lock.exists(), "left {}", lock.display());
    }
}

/// `makedev(1, 3)` as Linux encodes it for `st_rdev`.
fn libc_makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// One of each kind of file that is not a regular file, in `dir`.
fn odd_files(dir: &Path) -> Vec<Odd> {
    let mut odd = Vec::new();
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    odd.push(Odd {
        path: fifo,
        kind: "a FIFO (named pipe)",
        _listener: None,
    });
    let socket = dir.join("socket");
    let listener = UnixListener::bind(&socket).unwrap();
    odd.push(Odd {
        path: socket,
        kind: "a socket",
        _listener: Some(listener),
    });
    let directory = dir.join("directory");
    fs::create_dir(&directory).unwrap();
    odd.push(Odd {
        path: directory,
        kind: "a directory",
        _listener: None,
    });
    let device = dir.join("null");
    if char_device(&device).is_some() {
        odd.push(Odd {
            path: device,
            kind: "a character device",
            _listener: None,
        });
    }
    odd
}

#[test]
fn configure_and_unconfigure_refuse_a_target_that_is_not_a_regular_file_and_leave_it_alone() {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    for odd in odd_files(dir.path()) {
        let path = odd.path.to_str().unwrap();
        for verb in [
            &["configure", "--file", path][..],
            &["configure", "--file", path, "--dry-run"],
            &["unconfigure", "--file", path],
            &["configure", "--file", path, "--rewrite-ssh", "--docker"],
        ] {
            let out = env.run_verb(verb, None);
            let line = refusal(&out);
            assert!(line.contains(path), "{verb:?}: {out}");
            assert!(line.contains(odd.kind), "{verb:?}: {out}");
            assert!(line.contains("not a regular file"), "{verb:?}: {out}");
            odd.assert_unchanged();
        }
    }
    assert!(!env.home().join(".docker").exists());
}

#[test]
fn configure_global_with_git_config_global_on_a_device_or_fifo_writes_nothing_at_all() {
    let mut env = env();
    let dir = tempfile::tempdir().unwrap();
    let before = global_config(&env);
    for odd in odd_files(dir.path()) {
        env.set_var("GIT_CONFIG_GLOBAL", &odd.path);
        for verb in [&["configure", "--global"][..], &["unconfigure", "--global"]] {
            let out = env.run_verb(verb, None);
            let line = refusal(&out);
            assert!(line.contains(odd.path.to_str().unwrap()), "{out}");
            assert!(line.contains("GIT_CONFIG_GLOBAL"), "says what to do: {out}");
            odd.assert_unchanged();
            // Every target is checked before any is written.
            assert_eq!(
                global_config(&env),
                before,
                "{verb:?} wrote $HOME/.gitconfig"
            );
        }
    }
}

#[test]
fn configure_through_a_symlink_writes_the_file_it_leads_to_and_keeps_its_mode() {
    let env = env();
    let dotfiles = env.home().join("dotfiles");
    fs::create_dir(&dotfiles).unwrap();
    let real = dotfiles.join("gitconfig");
    fs::write(&real, "[user]\n\tname = Someone\n").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
    let link = env.home().join(".gitconfig");
    fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("dotfiles/gitconfig", &link).unwrap();
    let out = env.run_verb(&["configure", "--global"], None);
    assert_eq!(code(&out), Some(0), "{out}");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = fs::read_to_string(&real).unwrap();
    assert!(
        text.contains("name = Someone") && text.contains("helper = "),
        "{text}"
    );
    assert_eq!(
        fs::metadata(&real).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    assert!(!dotfiles.join("gitconfig.lock").exists());

    // A link to a file that does not exist yet: the file is created where it points.
    let dangling = env.home().join("dangling");
    std::os::unix::fs::symlink("dotfiles/later", &dangling).unwrap();
    let out = env.run_verb(&["configure", "--file", dangling.to_str().unwrap()], None);
    assert_eq!(code(&out), Some(0), "{out}");
    assert!(fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::read_to_string(dotfiles.join("later"))
        .unwrap()
        .contains("helper = "));
}

#[test]
fn unconfigure_with_nothing_to_remove_does_not_touch_the_file() {
    let env = env();
    let file = env.home().join("gitconfig");
    fs::write(&file, "[core]\n\tautocrlf = input\n").unwrap();
    let before = fs::metadata(&file).unwrap();
    let out = env.run_verb(&["unconfigure", "--file", file.to_str().unwrap()], None);
    assert_eq!(code(&out), Some(0), "{out}");
    let after = fs::metadata(&file).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec())
    );
}

/// A `git` first on `PATH` that runs the real one, except that the `FAIL_AT`-th
/// `git config --add` fails — or, with `KILL=1`, kills the helper that ran it (SIGKILL, an
/// interruption nothing can clean up after).
fn interrupting_git(env: &mut ClientEnv, fail_at: u32, kill: bool) {
    let real = support::find_on_path("git").expect("git");
    let bin = env.home().join("interrupting-git");
    fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\n\
         case \" $* \" in *\" --add \"*)\n\
           n=$(cat \"$ADDS\" 2>/dev/null || echo 0); n=$((n + 1)); echo \"$n\" > \"$ADDS\"\n\
           if [ \"$n\" -eq {fail_at} ]; then\n\
             {}\n\
             echo 'fatal: injected failure' >&2; exit 1\n\
           fi ;;\n\
         esac\n\
         exec {} \"$@\"\n",
        if kill { "kill -9 $PPID; sleep 1" } else { ":" },
        real.display()
    );
    let git = bin.join("git");
    fs::write(&git, script).unwrap();
    fs::set_permissions(&git, fs::Permissions::from_mode(0o755)).unwrap();
    let path = env.var("PATH").unwrap().to_string_lossy().into_owned();
    env.set_var("PATH", format!("{}:{path}", bin.display()));
    env.set_var("ADDS", env.home().join("adds"));
}

const ORIGINAL: &str = "# mine\n[credential]\n\thelper = store\n[core]\n\tautocrlf = input\n";

#[test]
fn a_configure_that_fails_half_way_leaves_the_file_as_it_was() {
    // The plan adds, in order: the helper, the server's empty reset, the helper after it. A
    // failure at the third would leave, written change by change, a reset without the helper.
    for fail_at in [1, 2, 3] {
        let mut env = env();
        interrupting_git(&mut env, fail_at, false);
        let file = env.home().join("gitconfig");
        fs::write(&file, ORIGINAL).unwrap();
        let out = env.run_verb(&["configure", "--file", file.to_str().unwrap()], None);
        let line = refusal(&out);
        assert!(line.contains("injected failure"), "{out}");
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            ORIGINAL,
            "after add {fail_at}"
        );
        assert!(!env.home().join("gitconfig.lock").exists());
    }
}

#[test]
fn a_configure_killed_half_way_leaves_the_file_as_it_was_and_the_next_run_says_why_it_waits() {
    let mut env = env();
    interrupting_git(&mut env, 3, true);
    let file = env.home().join("gitconfig");
    fs::write(&file, ORIGINAL).unwrap();
    let out = env.run_verb(&["configure", "--file", file.to_str().unwrap()], None);
    assert_eq!(code(&out), None, "killed by a signal: {out}");
    assert_eq!(fs::read_to_string(&file).unwrap(), ORIGINAL);
    // The kill left git's lock file behind, as a killed git would: the next run refuses it.
    let lock = env.home().join("gitconfig.lock");
    assert!(lock.exists());
    env.set_var("ADDS", env.home().join("more-adds"));
    let out = env.run_verb(&["configure", "--file", file.to_str().unwrap()], None);
    let line = refusal(&out);
    assert!(
        line.contains(lock.to_str().unwrap()) && line.contains("remove"),
        "{out}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), ORIGINAL);
    fs::remove_file(&lock).unwrap();
    env.set_var("ADDS", env.home().join("no-more-kills"));
    fs::write(env.home().join("no-more-kills"), "100").unwrap();
    let out = env.run_verb(&["configure", "--file", file.to_str().unwrap()], None);
    assert_eq!(code(&out), Some(0), "{out}");
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# mine\n") && text.contains("gitlab-ci"),
        "{text}"
    );
}

#[test]
fn docker_configure_refuses_a_config_json_that_is_not_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    for odd in odd_files(dir.path()) {
        // DOCKER_CONFIG is a directory holding config.json: the odd file is put in its place.
        let config_dir = dir.path().join(format!("docker-{}", odd.kind.len()));
        fs::create_dir(&config_dir).unwrap();
        std::os::unix::fs::symlink(&odd.path, config_dir.join("config.json")).unwrap();
        for verb in [
            &["docker", "configure"][..],
            &["configure", "--global", "--docker"],
        ] {
            let mut env = env();
            env.set_var("DOCKER_CONFIG", &config_dir);
            let before = global_config(&env);
            let out = env.run_verb(verb, None);
            assert_eq!(code(&out), Some(1), "{out}");
            let line = out.helper_lines()[0];
            assert!(line.contains(odd.path.to_str().unwrap()), "{out}");
            assert!(line.contains(odd.kind), "{out}");
            odd.assert_unchanged();
            assert_eq!(
                global_config(&env),
                before,
                "git configuration written: {out}"
            );
        }
    }
}

#[test]
fn docker_configure_reads_config_json_with_a_size_bound() {
    let mut env = env();
    let config_dir = env.home().join(".docker");
    fs::create_dir(&config_dir).unwrap();
    let big = format!("{{\"psFormat\":\"{}\"}}", "x".repeat(2 << 20));
    fs::write(config_dir.join("config.json"), &big).unwrap();
    env.set_var("CI_REGISTRY", "registry.example.com");
    let out = env.run_verb(&["docker", "configure"], None);
    assert_eq!(code(&out), Some(1), "{out}");
    assert!(out.helper_lines()[0].contains("larger than"), "{out}");
    assert_eq!(
        fs::read_to_string(config_dir.join("config.json")).unwrap(),
        big
    );
}

#[test]
fn configure_docker_dry_run_fails_where_the_real_run_fails_and_writes_nothing() {
    let mut env = env();
    env.remove_var("CI_REGISTRY");
    let before = global_config(&env);
    for extra in [&[][..], &["--dry-run"]] {
        let mut verb = vec!["configure", "--global", "--docker"];
        verb.extend(extra);
        let out = env.run_verb(&verb, None);
        let line = refusal(&out);
        assert!(line.contains("no registry is known"), "{verb:?}: {out}");
        assert!(!out.stdout.contains("credHelpers"), "{out}");
        assert_eq!(
            global_config(&env),
            before,
            "{verb:?} wrote git configuration"
        );
        assert!(!env.home().join(".docker").exists());
    }
}
