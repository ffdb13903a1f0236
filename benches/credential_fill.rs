//! `git credential fill` through our helper, side by side with what users run today.
//!
//! Run by `bench/run.sh` (`cargo bench --bench credential_fill -- [--smoke] HELPER`).
//! Each variant is a real `git credential fill` with its own global config file. The variants run
//! interleaved — one run of each, in turn, round after round — so drift on a shared machine
//! (another build, CPU frequency) hits all of them alike; medians are taken over all runs.
//!
//! Why not hyperfine for this part: Debian's hyperfine 1.15 cannot feed stdin without a shell,
//! and its shell-startup correction is as uncertain as the 0.1 ms differences measured here.
//! Spawning directly with `std::process::Command` (posix_spawn) adds no shell at all.

mod common;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const TOKEN: &str = "glcbt-64_benchmarkToken0123456789";

struct Variant {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    global_config: Option<PathBuf>,
    stdin: PathBuf,
    /// The exec-floor variant answers nothing, so git fails; that is expected.
    must_succeed: bool,
    times: Vec<f64>,
}

fn main() {
    let common::BenchArgs { smoke, helper } = common::args();
    let (rounds, warmup) = if smoke { (20, 3) } else { (400, 20) };

    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().to_path_buf();
    let home = work.join("home");
    let bin = work.join("bin");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&helper, bin.join("git-credential-gitlab-ci")).unwrap();

    let request = write(
        &work,
        "request",
        "protocol=https\nhost=gitlab.example.com\n\n",
    );
    let with_password = write(
        &work,
        "request-with-password",
        &format!("protocol=https\nhost=gitlab.example.com\nusername=gitlab-ci-token\npassword={TOKEN}\n\n"),
    );
    let store = write(
        &work,
        "credentials",
        &format!("https://gitlab-ci-token:{TOKEN}@gitlab.example.com\n"),
    );
    let config = |name: &str, helper_value: Option<&str>| {
        let path = work.join(format!("{name}.gitconfig"));
        std::fs::write(&path, "").unwrap();
        if let Some(value) = helper_value {
            let status = Command::new("git")
                .args(["config", "--file"])
                .arg(&path)
                .args(["credential.helper", value])
                .status()
                .unwrap();
            assert!(status.success());
        }
        Some(path)
    };
    let git = which("git");
    let fill = |name, config: Option<PathBuf>, stdin: &Path| Variant {
        name,
        program: git.clone(),
        args: vec!["credential".into(), "fill".into()],
        global_config: config,
        stdin: stdin.to_path_buf(),
        must_succeed: true,
        times: Vec::new(),
    };
    let mut variants = vec![
        fill(
            "fill: helper by absolute path",
            config("helper", Some(helper.to_str().unwrap())),
            &request,
        ),
        fill(
            "fill: inline shell helper",
            config(
                "shell",
                Some(
                    "!f() { echo username=gitlab-ci-token; echo \"password=${CI_JOB_TOKEN}\"; }; f",
                ),
            ),
            &request,
        ),
        fill(
            "fill: credential-store",
            config("store", Some(&format!("store --file={}", store.display()))),
            &request,
        ),
        fill(
            "fill: floor (user and password given)",
            config("floor", None),
            &with_password,
        ),
        fill(
            "fill: helper by short name",
            config("short", Some("gitlab-ci")),
            &request,
        ),
        Variant {
            must_succeed: false,
            ..fill(
                "fill: /bin/true as helper (exec floor)",
                config("true", Some("/bin/true")),
                &request,
            )
        },
        Variant {
            name: "helper run directly (get)",
            program: helper.clone(),
            args: vec!["get".into()],
            global_config: None,
            stdin: request.clone(),
            must_succeed: true,
            times: Vec::new(),
        },
        Variant {
            name: "/bin/true",
            program: "/bin/true".into(),
            args: vec![],
            global_config: None,
            stdin: request.clone(),
            must_succeed: true,
            times: Vec::new(),
        },
    ];

    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for round in 0..rounds + warmup {
        for v in &mut variants {
            let mut command = Command::new(&v.program);
            command
                .args(&v.args)
                .env_clear()
                .env("PATH", &path)
                .env("HOME", &home)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_TERMINAL_PROMPT", "0")
                .env("CI_SERVER_URL", "https://gitlab.example.com")
                .env("CI_JOB_TOKEN", TOKEN)
                .stdin(File::open(&v.stdin).unwrap())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(config) = &v.global_config {
                command.env("GIT_CONFIG_GLOBAL", config);
            }
            let start = Instant::now();
            let status = command.status().expect("spawn");
            let elapsed = start.elapsed().as_secs_f64() * 1000.0;
            assert!(status.success() || !v.must_succeed, "{} failed", v.name);
            if round >= warmup {
                v.times.push(elapsed);
            }
        }
    }

    let median = |name: &str| {
        let v = variants.iter().find(|v| v.name == name).unwrap();
        let mut t = v.times.clone();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    println!(
        "{rounds} interleaved rounds (+{warmup} warm-up), {} runs per variant",
        rounds
    );
    println!();
    println!("| variant | median (ms) |");
    println!("|---|---:|");
    for v in &variants {
        println!("| {} | {:.3} |", v.name, median(v.name));
    }
    let ours = median("fill: helper by absolute path");
    let shell = median("fill: inline shell helper");
    let store = median("fill: credential-store");
    let floor = median("fill: floor (user and password given)");
    let short = median("fill: helper by short name");
    let exec_floor = median("fill: /bin/true as helper (exec floor)");
    let direct = median("helper run directly (get)");
    let truth = median("/bin/true");
    println!();
    println!("| ratio | value | budget |");
    println!("|---|---:|---|");
    println!(
        "| helper / inline shell | {:.3} | {} |",
        ours / shell,
        verdict(ours / shell <= 1.15, "<= 1.15")
    );
    println!(
        "| helper / credential-store | {:.3} | {} |",
        ours / store,
        verdict(ours / store <= 0.85, "<= 0.85")
    );
    println!("| helper / floor | {:.3} | |", ours / floor);
    println!(
        "| helper / /bin/true as helper | {:.3} | |",
        ours / exec_floor
    );
    println!(
        "| /bin/true as helper / inline shell | {:.3} | |",
        exec_floor / shell
    );
    println!("| short name / absolute path | {:.3} | |", short / ours);
    println!("| helper direct / /bin/true | {:.3} | |", direct / truth);
    println!(
        "| helper direct - /bin/true (ms) | {:.3} | |",
        direct - truth
    );
}

fn verdict(ok: bool, budget: &str) -> String {
    format!("{budget}: {}", if ok { "within" } else { "OVER" })
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} not found on PATH"))
}
