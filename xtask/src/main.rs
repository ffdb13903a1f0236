//! `cargo run -p xtask -- man OUT_DIR`: writes OUT_DIR/git-credential-gitlab-ci.1.
//!
//! The page's date is `SOURCE_DATE_EPOCH` when set (dist/build.sh sets it from the last
//! commit, so two builds give the same bytes), else today.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [task, out_dir] if task == "man" => match write_man(&PathBuf::from(out_dir)) {
            Ok(path) => {
                println!("{}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xtask: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo run -p xtask -- man OUT_DIR");
            ExitCode::from(2)
        }
    }
}

fn write_man(out_dir: &std::path::Path) -> Result<PathBuf, String> {
    let date = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => {
            let seconds = epoch
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("SOURCE_DATE_EPOCH is not a number of seconds: {epoch:?}"))?;
            xtask::date_from_epoch(seconds)
        }
        // Not asked to be reproducible: today.
        Err(_) => xtask::date_from_epoch(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ),
    };
    let page = xtask::man::render(xtask::command(), &date);
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let path = out_dir.join(xtask::man::FILE_NAME);
    std::fs::write(&path, page).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
