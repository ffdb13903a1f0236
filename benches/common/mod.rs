//! What both benchmarks take on their command line: `[--smoke] [HELPER]`.

use std::path::PathBuf;

pub struct BenchArgs {
    /// A few iterations only, so the benchmark is exercised without being measured.
    pub smoke: bool,
    /// The helper binary to measure (default: the one cargo built for this benchmark).
    pub helper: PathBuf,
}

pub fn args() -> BenchArgs {
    // `cargo bench` passes `--bench` to every harness; it means nothing here.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let helper = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_git-credential-gitlab-ci")));
    BenchArgs {
        smoke: args.iter().any(|a| a == "--smoke"),
        helper: std::fs::canonicalize(&helper).expect("the helper binary exists"),
    }
}
