//! The dependencies a CI job will fetch, read from a checkout's files.
//!
//! Pure: the caller finds and reads the files (bounded, [`MAX_FILE_BYTES`]) and runs
//! `git config --file .gitmodules --list -z`; [`scan`] turns their texts into one
//! [`Dependency`] per repository, each with every place it was found, and one [`Problem`] per
//! file that does not parse — reported, never fatal. [`reach`] then says whether a dependency is
//! for one of our servers and whether git will ask this helper for it.
//!
//! TOML, JSON and YAML are read by their crates (`toml`, `serde_json`, `saphyr-parser`); go.mod
//! and requirements.txt are line formats with no well-kept parser, read here line by line.
//!
//! Every text kept from a file (names, URLs as written, references) is already one printable
//! line without user information ([`crate::printable::shown`]): a report may print it as is.

mod cargo;
mod golang;
mod location;
mod npm;
mod precommit;
mod python;
mod reach;
mod submodules;

pub use location::{
    is_relative, resolve_relative, Location, SshUrl, Unresolvable, UserName, Userinfo, WebUrl,
};
pub use reach::{reach, rewrites, Bypass, Reach, Rewrite, Servers};
pub use submodules::Submodules;

use crate::printable::shown;

/// Files larger than this are reported, not parsed (a large monorepo's package-lock.json is a
/// few MiB).
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// The kinds of manifest read, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CargoManifest,
    CargoLock,
    GoMod,
    PackageJson,
    PackageLock,
    /// `requirements*.txt`, and any `.txt` in a `requirements/` directory.
    Requirements,
    Pyproject,
    PoetryLock,
    UvLock,
    PreCommit,
}

impl Kind {
    /// The kind of the file at `path` (relative, `/`-separated), from its name alone.
    pub fn of(path: &str) -> Option<Kind> {
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", path),
        };
        let kind = match name {
            "Cargo.toml" => Kind::CargoManifest,
            "Cargo.lock" => Kind::CargoLock,
            "go.mod" => Kind::GoMod,
            "package.json" => Kind::PackageJson,
            "package-lock.json" | "npm-shrinkwrap.json" => Kind::PackageLock,
            "pyproject.toml" => Kind::Pyproject,
            "poetry.lock" => Kind::PoetryLock,
            "uv.lock" => Kind::UvLock,
            ".pre-commit-config.yaml" | ".pre-commit-config.yml" => Kind::PreCommit,
            n if n.ends_with(".txt")
                && (n.starts_with("requirements")
                    || dir == "requirements"
                    || dir.ends_with("/requirements")) =>
            {
                Kind::Requirements
            }
            _ => return None,
        };
        Some(kind)
    }
}

/// One file as the caller read it.
#[derive(Debug, Clone, Copy)]
pub struct ManifestFile<'a> {
    /// Relative to the checkout, `/`-separated.
    pub path: &'a str,
    pub text: &'a str,
}

/// One place a dependency was found. Every field is one printable line without userinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The file, relative to the checkout.
    pub file: String,
    /// The manifest's own name for it: submodule, crate, module, package, hook repository.
    pub name: String,
    /// The URL or spec as written.
    pub written: String,
    /// Branch, tag, revision or version, when the manifest gives one.
    pub reference: Option<String>,
}

/// One repository (or module) the job will fetch, and every place that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub location: Location,
    pub mentions: Vec<Mention>,
}

/// A file that could not be read as its kind; its dependencies are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// One printable line; never the file's text around the error (it may hold a token).
    pub message: String,
}

/// A requirements file's `-r`/`-c` reference to another file, for the caller to read as well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub file: String,
    /// As written, relative to `file`'s directory.
    pub target: String,
}

impl Include {
    /// The included file's path relative to the checkout, when it stays inside it: relative,
    /// with `.` and `..` resolved against `file`'s directory and never above the top. `None`
    /// for an absolute path, a URL, or one that leaves the checkout — the caller reads only
    /// what this returns.
    pub fn path_in_checkout(&self) -> Option<String> {
        if self.target.starts_with('/') || self.target.contains("://") || self.target.contains('\\')
        {
            return None;
        }
        let mut parts: Vec<&str> = self.file.split('/').collect();
        parts.pop(); // the including file's own name
        for part in self.target.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                p => parts.push(p),
            }
        }
        (!parts.is_empty()).then(|| parts.join("/"))
    }
}

/// What [`scan`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub dependencies: Vec<Dependency>,
    pub problems: Vec<Problem>,
    pub includes: Vec<Include>,
    /// Location keys to indexes in `dependencies`.
    index: std::collections::BTreeMap<String, usize>,
}

/// What one parser found in one file, before deduplication.
#[derive(Debug, Default)]
struct Parsed {
    found: Vec<Found>,
    includes: Vec<String>,
    /// Problems of single lines or entries; the rest of the file was still read.
    problems: Vec<String>,
}

#[derive(Debug)]
struct Found {
    name: String,
    written: String,
    reference: Option<String>,
    location: Location,
}

impl Parsed {
    fn push(&mut self, name: &str, written: &str, reference: Option<&str>, location: Location) {
        self.found.push(Found {
            name: name.to_string(),
            written: written.to_string(),
            reference: reference.map(str::to_string),
            location,
        });
    }
}

/// Reads every file (and `.gitmodules`' entries), one [`Dependency`] per repository: the same
/// location named by a manifest and its lock file — or by two manifests — is one entry with
/// every mention, in the order first found. A file whose name is no manifest's is read as a
/// requirements file when a requirements file read here includes it (`-r base.txt`): give
/// [`scan`] the files [`Include::path_in_checkout`] names too.
pub fn scan(files: &[ManifestFile<'_>], submodules: Option<&Submodules<'_>>) -> Scan {
    let mut scan = Scan::default();
    if let Some(subs) = submodules {
        let parsed = submodules::parse(subs);
        scan.add(subs.path, parsed);
    }
    for file in files {
        if let Some(kind) = Kind::of(file.path) {
            scan.read(file, kind);
        }
    }
    // Included files, then the files they include, each once.
    let mut done: Vec<&str> = Vec::new();
    loop {
        let included: Vec<String> = scan
            .includes
            .iter()
            .filter_map(Include::path_in_checkout)
            .collect();
        let next: Vec<&ManifestFile<'_>> = files
            .iter()
            .filter(|f| Kind::of(f.path).is_none() && !done.contains(&f.path))
            .filter(|f| included.iter().any(|i| i == f.path))
            .collect();
        if next.is_empty() {
            break;
        }
        for file in next {
            done.push(file.path);
            scan.read(file, Kind::Requirements);
        }
    }
    scan
}

impl Scan {
    fn read(&mut self, file: &ManifestFile<'_>, kind: Kind) {
        if file.text.len() > MAX_FILE_BYTES {
            self.problems.push(Problem {
                file: shown(file.path),
                message: format!("larger than {} MiB; not read", MAX_FILE_BYTES >> 20),
            });
            return;
        }
        let mut parsed = Parsed::default();
        let result = match kind {
            Kind::CargoManifest => cargo::manifest(file.text, &mut parsed),
            Kind::CargoLock => cargo::lock(file.text, &mut parsed),
            Kind::GoMod => golang::go_mod(file.text, &mut parsed),
            Kind::PackageJson => npm::package_json(file.text, &mut parsed),
            Kind::PackageLock => npm::package_lock(file.text, &mut parsed),
            Kind::Requirements => python::requirements(file.text, &mut parsed),
            Kind::Pyproject => python::pyproject(file.text, &mut parsed),
            Kind::PoetryLock => python::poetry_lock(file.text, &mut parsed),
            Kind::UvLock => python::uv_lock(file.text, &mut parsed),
            Kind::PreCommit => precommit::config(file.text, &mut parsed),
        };
        match result {
            Ok(()) => self.add(file.path, parsed),
            Err(message) => self.problems.push(Problem {
                file: shown(file.path),
                message: shown(&message),
            }),
        }
    }

    fn add(&mut self, file: &str, parsed: Parsed) {
        let file_shown = shown(file);
        for message in parsed.problems {
            self.problems.push(Problem {
                file: file_shown.clone(),
                message: shown(&message),
            });
        }
        for target in parsed.includes {
            self.includes.push(Include {
                file: file.to_string(),
                target,
            });
        }
        for found in parsed.found {
            let mention = Mention {
                file: file_shown.clone(),
                name: shown(&found.name),
                written: shown(&found.written),
                reference: found.reference.as_deref().map(shown),
            };
            let key = found.location.key();
            match self.index.get(&key) {
                Some(&i) => {
                    let existing = &mut self.dependencies[i];
                    if !existing.mentions.contains(&mention) {
                        existing.mentions.push(mention);
                    }
                }
                None => {
                    self.index.insert(key, self.dependencies.len());
                    self.dependencies.push(Dependency {
                        location: found.location,
                        mentions: vec![mention],
                    });
                }
            }
        }
    }
}

/// A TOML parse error as `line L, column C: message`, without the source snippet toml's
/// `Display` adds (the line may hold a token).
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {}", error.message())
        }
        None => error.message().to_string(),
    }
}

/// A TOML table's entry by key.
fn get<'a, 'i>(table: &'a toml::de::DeTable<'i>, key: &str) -> Option<&'a toml::de::DeValue<'i>> {
    table.get(key).map(|v| v.get_ref())
}

#[cfg(test)]
mod tests;
