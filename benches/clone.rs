//! `git clone` through the helper vs the same clone with the token in the URL
//! (`https://gitlab-ci-token:<token>@…`, the usual method), against the real-client test server
//! (`tests/support`): HTTPS, `git http-backend`, Basic auth, on 127.0.0.1.
//!
//! Run by `bench/run.sh` (`cargo bench --bench clone -- [--smoke] HELPER`). The two variants
//! alternate, clone after clone, and the medians are compared; removing the clone directory is
//! not timed.

mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use support::{unique_token, ClientEnv, GitServer, TestCa};

fn main() {
    let common::BenchArgs { smoke, helper } = common::args();
    let (rounds, warmup) = if smoke { (5, 1) } else { (60, 5) };

    let ca = TestCa::new();
    let token = unique_token("bench");
    let server = GitServer::start(&ca, &token);
    // A small repository: a few files, a few commits.
    server.create_repo(
        "group/bench",
        &[
            ("README.md", b"bench\n"),
            ("src/lib.rs", b"pub fn f() {}\n"),
        ],
    );
    for i in 0..5 {
        let content = format!("change {i}\n").repeat(200);
        server.commit_files(
            "group/bench",
            &[("CHANGES.md", content.as_bytes())],
            &format!("change {i}"),
        );
    }
    let env = ClientEnv::builder(&ca)
        .server_url(server.url())
        .token(&token)
        .helper_value(helper.to_str().unwrap())
        .build();

    let plain = server.repo_url("group/bench");
    let with_token = plain.replacen("https://", &format!("https://gitlab-ci-token:{token}@"), 1);
    let variants = [
        ("clone through the helper", plain),
        ("clone with the token in the URL", with_token),
    ];
    let mut times = [Vec::new(), Vec::new()];
    let target = env.work().join("clone");
    for round in 0..rounds + warmup {
        for (i, (_, url)) in variants.iter().enumerate() {
            let _ = std::fs::remove_dir_all(&target);
            let mut clone = env.git(["clone", "--quiet", url.as_str()]);
            clone.arg(&target);
            let start = Instant::now();
            let out = env.run(clone);
            let elapsed = start.elapsed().as_secs_f64() * 1000.0;
            assert!(out.success());
            if round >= warmup {
                times[i].push(elapsed);
            }
        }
    }
    // What each variant costs on the wire: one more clone of each, with the server's log.
    let mut wire = Vec::new();
    for (_, url) in &variants {
        let _ = std::fs::remove_dir_all(&target);
        server.clear_log();
        let mut clone = env.git(["clone", "--quiet", url.as_str()]);
        clone.arg(&target);
        env.run(clone);
        let log = server.log();
        let refused = log.iter().filter(|r| r.status == 401).count();
        wire.push((log.len(), refused));
    }
    let _ = std::fs::remove_dir_all(&target);

    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let helper_ms = median(&mut times[0]);
    let url_ms = median(&mut times[1]);
    println!(
        "{rounds} interleaved rounds (+{warmup} warm-up) against {}",
        server.url()
    );
    println!();
    println!("| variant | median (ms) |");
    println!("|---|---:|");
    println!("| {} | {helper_ms:.2} |", variants[0].0);
    println!("| {} | {url_ms:.2} |", variants[1].0);
    println!();
    for ((name, _), (requests, refused)) in variants.iter().zip(&wire) {
        println!("{name}: {requests} HTTP requests per clone, {refused} of them answered 401");
    }
    println!();
    let ratio = helper_ms / url_ms;
    let verdict = if ratio <= 1.02 { "within" } else { "OVER" };
    println!("| ratio | value | budget |");
    println!("|---|---:|---|");
    println!("| helper / token in URL | {ratio:.3} | <= 1.02: {verdict} |");
}
