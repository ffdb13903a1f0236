//! Reading a checkout for the dependency plan: a bounded walk for the manifests
//! [`dependencies::Kind`] knows, each read as a regular file without following links and
//! without blocking, `.gitmodules` listed by git itself, and the origin URL that relative
//! submodule URLs resolve against. What is read is scrubbed of the secrets in use before
//! anything parses it, so no later step — a parse error, a cut display text — can hold a token.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::dependencies::{self, Kind, ManifestFile, Problem, Scan, Submodules, MAX_FILE_BYTES};
use crate::diagnostics::Diagnostics;
use crate::git::Git;
use crate::gitconfig::Entry;
use crate::printable::shown;

/// Directories never walked: git's own, and those build tools and package managers fill with
/// other projects' files (their manifests are not this checkout's dependencies).
pub const SKIPPED_DIRS: [&str; 8] = [
    ".git",
    "target",
    "node_modules",
    "vendor",
    ".venv",
    "venv",
    ".tox",
    "__pycache__",
];

/// Bounds of the walk: how deep, how many directory entries looked at, how many manifests and
/// bytes read. A monorepo stays far below them; a checkout that reaches one gets a note, and
/// the plan covers what was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub depth: usize,
    pub entries: usize,
    pub files: usize,
    pub bytes: usize,
}

pub const BOUNDS: Bounds = Bounds {
    depth: 12,
    entries: 50_000,
    files: 500,
    bytes: 64 << 20,
};

/// What was read of a checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The top of the work tree (or the current directory outside one), one printable line.
    pub root: String,
    /// The manifests read, relative to the root, in walk order (`.gitmodules` first).
    pub files: Vec<String>,
    pub scan: Scan,
    /// Where a bound stopped the walk, one printable line each.
    pub notes: Vec<String>,
}

/// Reads the checkout at `root`: `origin` is the superproject's remote URL (relative submodule
/// URLs resolve against it).
pub fn read(
    git: &Git,
    root: &Path,
    origin: Option<&str>,
    diagnostics: &Diagnostics,
    bounds: Bounds,
) -> Checkout {
    let mut notes = Vec::new();
    let mut paths = walk(root, bounds, &mut notes);
    let mut reader = Reader {
        root,
        diagnostics,
        budget: bounds.bytes,
        texts: Vec::new(),
        problems: Vec::new(),
    };
    for rel in &paths {
        reader.read(rel);
    }

    let gitmodules = root.join(".gitmodules");
    let modules: Option<Vec<Entry>> = match is_regular(&gitmodules) {
        false => None,
        true => match git.list_file(&gitmodules) {
            Ok(entries) => Some(
                entries
                    .into_iter()
                    .map(|mut e| {
                        e.key = diagnostics.scrub(&e.key);
                        e.value = e.value.map(|v| diagnostics.scrub(&v));
                        e
                    })
                    .collect(),
            ),
            Err(_) => {
                reader.problems.push(Problem {
                    file: ".gitmodules".into(),
                    message: "git cannot read it as a configuration file; not read".into(),
                });
                None
            }
        },
    };
    let origin = origin.map(|o| diagnostics.scrub(o));
    let scan_all = |texts: &[(String, String)]| {
        let files: Vec<ManifestFile> = texts
            .iter()
            .map(|(path, text)| ManifestFile { path, text })
            .collect();
        let submodules = modules.as_deref().map(|entries| Submodules {
            path: ".gitmodules",
            entries,
            origin: origin.as_deref(),
        });
        dependencies::scan(&files, submodules.as_ref())
    };

    // Requirements files name others (`-r base.txt`): read those too, inside the checkout only.
    let mut scan = scan_all(&reader.texts);
    for _ in 0..8 {
        let wanted: Vec<String> = scan
            .includes
            .iter()
            .filter_map(|i| i.path_in_checkout())
            .filter(|p| !paths.contains(p))
            .collect();
        if wanted.is_empty() {
            break;
        }
        for rel in wanted {
            if paths.contains(&rel) {
                continue;
            }
            if paths.len() >= bounds.files {
                notes.push(format!("stopped at {} files", bounds.files));
                break;
            }
            match inside(root, &root.join(&rel)) {
                true => reader.read(&rel),
                false => reader.problems.push(Problem {
                    file: shown(&rel),
                    message: "outside the checkout (through a link); not read".into(),
                }),
            }
            paths.push(rel);
        }
        if paths.len() >= bounds.files {
            break;
        }
        scan = scan_all(&reader.texts);
    }
    scan.problems.extend(reader.problems);
    let mut files: Vec<String> = modules
        .is_some()
        .then(|| ".gitmodules".into())
        .into_iter()
        .collect();
    files.extend(reader.texts.iter().map(|(path, _)| shown(path)));
    Checkout {
        root: shown(&root.to_string_lossy()),
        files,
        scan,
        notes,
    }
}

/// Reads manifests within a budget of bytes, scrubbed of the secrets in use.
struct Reader<'a> {
    root: &'a Path,
    diagnostics: &'a Diagnostics,
    budget: usize,
    /// (path relative to the root, text).
    texts: Vec<(String, String)>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn read(&mut self, rel: &str) {
        match read_text(&self.root.join(rel), self.budget.min(MAX_FILE_BYTES)) {
            Ok(text) => {
                self.budget -= text.len();
                self.texts
                    .push((rel.to_string(), self.diagnostics.scrub(&text)));
            }
            Err(message) => self.problems.push(Problem {
                file: shown(rel),
                message,
            }),
        }
    }
}

/// The manifests under `root`, relative and `/`-separated, in a stable order: directories are
/// read sorted, links are never followed, [`SKIPPED_DIRS`] are not entered.
fn walk(root: &Path, bounds: Bounds, notes: &mut Vec<String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut seen = 0usize;
    let mut pending: Vec<(PathBuf, String, usize)> = vec![(root.to_path_buf(), String::new(), 0)];
    while let Some((dir, rel, depth)) = pending.pop() {
        let Ok(reader) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<(String, std::fs::FileType)> = Vec::new();
        for entry in reader.flatten() {
            seen += 1;
            if seen > bounds.entries {
                notes.push(format!(
                    "the walk stopped after {} directory entries",
                    bounds.entries
                ));
                return found;
            }
            let (Some(name), Ok(kind)) = (
                entry.file_name().to_str().map(str::to_string),
                entry.file_type(),
            ) else {
                continue; // a name that is not UTF-8 is no manifest's
            };
            entries.push((name, kind));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut subdirs = Vec::new();
        for (name, kind) in entries {
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if kind.is_dir() {
                if SKIPPED_DIRS.contains(&name.as_str()) {
                    continue;
                }
                if depth + 1 >= bounds.depth {
                    notes.push(format!(
                        "not entered (deeper than {}): {}",
                        bounds.depth,
                        shown(&path)
                    ));
                    continue;
                }
                subdirs.push((dir.join(&name), path, depth + 1));
            } else if kind.is_file() && Kind::of(&path).is_some() {
                if found.len() >= bounds.files {
                    notes.push(format!("stopped at {} files", bounds.files));
                    return found;
                }
                found.push(path);
            }
        }
        // Depth first, in name order.
        pending.extend(subdirs.into_iter().rev());
    }
    found
}

/// A regular file's text, at most `max` bytes: opened without following a link and without
/// blocking (a FIFO put in a manifest's place never hangs doctor), its type checked on the
/// open file.
fn read_text(path: &Path, max: usize) -> Result<String, String> {
    let failed = |e: std::io::Error| format!("cannot be read ({}); not read", e.kind());
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(failed)?;
    let meta = file.metadata().map_err(failed)?;
    if !meta.is_file() {
        return Err("not a regular file; not read".into());
    }
    let too_big = || match max < MAX_FILE_BYTES {
        true => "past the plan's bound on bytes read; not read".to_string(),
        false => format!("larger than {} MiB; not read", MAX_FILE_BYTES >> 20),
    };
    if meta.len() > max as u64 {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() > max {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8; not read".into())
}

fn is_regular(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// Is `path` inside `root` once links are resolved?
fn inside(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize()) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

/// The superproject's remote URL relative submodule URLs resolve against, as git picks it:
/// the remote of the current branch (`branch.<name>.remote`), else `origin`; its first
/// `remote.<name>.url`.
pub fn origin_url(entries: &[Entry], branch: Option<&str>) -> Option<String> {
    let remote = branch
        .and_then(|b| {
            let key = format!("branch.{b}.remote");
            entries.iter().rev().find(|e| e.key == key)?.value.clone()
        })
        .unwrap_or_else(|| "origin".into());
    let key = format!("remote.{remote}.url");
    entries
        .iter()
        .find(|e| e.key == key)
        .and_then(|e| e.value.clone())
}

/// The current branch (`git symbolic-ref --short HEAD`); `None` when HEAD is detached, as in a
/// CI job.
pub fn current_branch(git: &Git) -> Option<String> {
    let out = git
        .run(
            &[
                OsStr::new("symbolic-ref"),
                OsStr::new("-q"),
                OsStr::new("--short"),
                OsStr::new("HEAD"),
            ],
            &[1, 128],
        )
        .ok()??;
    let branch = String::from_utf8(out).ok()?.trim().to_string();
    (!branch.is_empty()).then_some(branch)
}

#[cfg(test)]
mod tests;
