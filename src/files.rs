//! The one way this program reads a file it is pointed at (a token file, Docker's
//! `config.json`, a git configuration file to rewrite) and replaces a file of the user's.
//!
//! - Only regular files. A FIFO, a device, a socket or a directory is refused by name, never
//!   read and never replaced: `GIT_CONFIG_GLOBAL=/dev/null` must stay the device, and a FIFO
//!   with no writer must not block a `get` forever.
//! - Reading never blocks: the path is checked with `stat` before it is opened (so a device is
//!   not even opened), opened with `O_NONBLOCK | O_NOCTTY | O_CLOEXEC`, and the opened
//!   descriptor is checked again with `fstat` (the file may have been swapped in between).
//! - Reading is bounded: at most the caller's limit, and "too large" is told apart.
//! - Replacing is atomic: the new content is written to `<file>.lock` — git's lock file, taken
//!   exclusively, so a concurrent git or a second run fails instead of racing — with the old
//!   file's mode, synced, and renamed over the file. Through a symbolic link the file it leads
//!   to is replaced, and the link stays.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// What is at a path, when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Directory,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    /// Anything else `stat` may report.
    Other,
}

impl Kind {
    /// `None` for a regular file.
    fn of(meta: &Metadata) -> Option<Kind> {
        let kind = meta.file_type();
        Some(match () {
            _ if kind.is_file() => return None,
            _ if kind.is_dir() => Kind::Directory,
            _ if kind.is_fifo() => Kind::Fifo,
            _ if kind.is_char_device() => Kind::CharDevice,
            _ if kind.is_block_device() => Kind::BlockDevice,
            _ if kind.is_socket() => Kind::Socket,
            _ => Kind::Other,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Directory => "a directory",
            Kind::Fifo => "a FIFO (named pipe)",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Socket => "a socket",
            Kind::Other => "not a regular file",
        })
    }
}

/// Why a file could not be read. Each caller words its own message (and names the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    NotRegular(Kind),
    TooLarge,
    Io(io::ErrorKind),
}

/// Opens a regular file for reading, without blocking; see the module docs.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    let io = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => ReadError::NotFound,
        kind => ReadError::Io(kind),
    };
    // Before opening: opening some devices has effects of its own (a tape rewinds, a terminal
    // may become the controlling one).
    if let Some(kind) = Kind::of(&std::fs::metadata(path).map_err(io)?) {
        return Err(ReadError::NotRegular(kind));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(io)?;
    match Kind::of(&file.metadata().map_err(io)?) {
        Some(kind) => Err(ReadError::NotRegular(kind)),
        None => Ok(file),
    }
}

/// The content of a regular file of at most `limit` bytes, in a buffer zeroized on drop (it may
/// hold a token or stored logins).
pub fn read_regular(path: &Path, limit: usize) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let file = open_regular(path)?;
    let mut bytes = Zeroizing::new(Vec::new());
    // One byte past the limit tells "too large" from "exactly the limit".
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.kind()))?;
    if bytes.len() > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// Most symbolic links followed to find the file a path leads to (Linux's own limit).
const MAX_LINKS: usize = 40;

/// The file that writing `path` would change: `path` itself, or the end of its chain of
/// symbolic links — which need not exist yet (a dotfile manager's link to a file not written).
pub fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

/// What is at a (resolved) path about to be replaced: nothing (`None`), or a regular file (its
/// metadata). Anything else is refused.
pub fn existing_regular(path: &Path) -> Result<Option<Metadata>, ReadError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => match Kind::of(&meta) {
            Some(kind) => Err(ReadError::NotRegular(kind)),
            None => Ok(Some(meta)),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReadError::Io(e.kind())),
    }
}

/// Why a replacement could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceError {
    /// `<file>.lock` exists: a git (or another run) is writing the file, or a crash left it.
    Locked,
    /// The file is not a regular file (it changed since it was checked).
    NotRegular(Kind),
    Io(io::ErrorKind),
}

impl From<io::Error> for ReplaceError {
    fn from(e: io::Error) -> Self {
        ReplaceError::Io(e.kind())
    }
}

/// The lock file of `target`, as git names it: `<file>.lock`.
pub fn lock_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// A file being replaced: its new content is built in `<file>.lock`, and only [`commit`]
/// renames it over the file. Dropped without a commit, the lock file is removed and the file
/// is as it was — whatever failed in between.
///
/// [`commit`]: Replacement::commit
#[derive(Debug)]
pub struct Replacement {
    target: PathBuf,
    lock: PathBuf,
    committed: bool,
}

impl Replacement {
    /// Takes the lock of `target` (already resolved, see [`resolve_links`]) and fills it with a
    /// copy of the current file (when there is one), keeping its mode; a new file gets
    /// `new_mode`, or the default (`0666` less the umask) when that is `None`.
    pub fn begin(target: &Path, new_mode: Option<u32>) -> Result<Replacement, ReplaceError> {
        let source = match open_regular(target) {
            Ok(file) => Some(file),
            Err(ReadError::NotFound) => None,
            Err(ReadError::NotRegular(kind)) => return Err(ReplaceError::NotRegular(kind)),
            Err(ReadError::TooLarge) => return Err(ReplaceError::Io(io::ErrorKind::InvalidData)),
            Err(ReadError::Io(kind)) => return Err(ReplaceError::Io(kind)),
        };
        let lock = lock_path(target);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        options.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
        let mut out = match options.open(&lock) {
            Ok(out) => out,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(ReplaceError::Locked),
            Err(e) => return Err(e.into()),
        };
        // From here on, dropping the replacement removes the lock file.
        let replacement = Replacement {
            target: target.to_path_buf(),
            lock,
            committed: false,
        };
        let mode = match &source {
            Some(file) => Some(file.metadata()?.permissions().mode() & 0o7777),
            None => new_mode,
        };
        if let Some(mode) = mode {
            // Explicitly, since the mode given at creation is reduced by the umask.
            out.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        if let Some(mut file) = source {
            io::copy(&mut file, &mut out)?;
        }
        Ok(replacement)
    }

    /// The lock file, holding the new content: what to change (e.g. with `git config --file`).
    pub fn path(&self) -> &Path {
        &self.lock
    }

    /// Replaces the lock file's content with `content`.
    pub fn write(&self, content: &[u8]) -> Result<(), ReplaceError> {
        let mut out = OpenOptions::new()
            .write(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.lock)?;
        out.write_all(content)?;
        Ok(())
    }

    /// Makes the new content durable and renames it over the file, in one step.
    pub fn commit(mut self) -> Result<(), ReplaceError> {
        // The lock file may have been replaced meanwhile (git config writes its own lock and
        // renames it over ours), so it is opened again by name.
        File::open(&self.lock)?.sync_all()?;
        std::fs::rename(&self.lock, &self.target)?;
        self.committed = true;
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename itself is durable once the directory is; best effort.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.lock);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo").arg(path).status();
        assert!(status.unwrap().success(), "mkfifo {}", path.display());
    }

    #[test]
    fn reads_regular_files_within_the_bound_and_refuses_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(&*read_regular(&file, 5).unwrap(), b"12345");
        assert_eq!(read_regular(&file, 4), Err(ReadError::TooLarge));
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        // No writer: a blocking open would never return.
        assert_eq!(
            read_regular(&fifo, 5),
            Err(ReadError::NotRegular(Kind::Fifo))
        );
        assert_eq!(
            read_regular(dir.path(), 5),
            Err(ReadError::NotRegular(Kind::Directory))
        );
        assert_eq!(
            read_regular(Path::new("/dev/null"), 5),
            Err(ReadError::NotRegular(Kind::CharDevice))
        );
        assert_eq!(
            read_regular(&dir.path().join("missing"), 5),
            Err(ReadError::NotFound)
        );
        let link = dir.path().join("link");
        symlink(&file, &link).unwrap();
        assert_eq!(&*read_regular(&link, 5).unwrap(), b"12345");
    }

    #[test]
    fn links_resolve_to_the_file_they_lead_to_even_when_it_does_not_exist_yet() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles").join("gitconfig");
        std::fs::create_dir(dir.path().join("dotfiles")).unwrap();
        let link = dir.path().join(".gitconfig");
        symlink("dotfiles/gitconfig", &link).unwrap();
        assert_eq!(resolve_links(&link).unwrap(), real);
        let twice = dir.path().join("again");
        symlink(&link, &twice).unwrap();
        assert_eq!(resolve_links(&twice).unwrap(), real);
        let plain = dir.path().join("plain");
        assert_eq!(resolve_links(&plain).unwrap(), plain);
        let looped = dir.path().join("loop");
        symlink(&looped, &looped).unwrap();
        assert!(resolve_links(&looped).is_err());
    }

    #[test]
    fn a_replacement_keeps_the_mode_and_changes_nothing_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(&file, b"old\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let replacement = Replacement::begin(&file, Some(0o600)).unwrap();
        assert_eq!(
            std::fs::read(replacement.path()).unwrap(),
            b"old\n",
            "a copy"
        );
        replacement.write(b"new\n").unwrap();
        assert_eq!(
            Replacement::begin(&file, None).unwrap_err(),
            ReplaceError::Locked,
            "the lock is exclusive"
        );
        drop(replacement);
        assert_eq!(std::fs::read(&file).unwrap(), b"old\n", "untouched");
        assert!(!dir.path().join("config.lock").exists(), "lock removed");

        let replacement = Replacement::begin(&file, None).unwrap();
        replacement.write(b"new\n").unwrap();
        replacement.commit().unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new\n");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
        assert!(!dir.path().join("config.lock").exists());

        let created = dir.path().join("new.json");
        let replacement = Replacement::begin(&created, Some(0o600)).unwrap();
        replacement.write(b"{}").unwrap();
        replacement.commit().unwrap();
        let mode = std::fs::metadata(&created).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn nothing_but_a_regular_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        assert_eq!(
            Replacement::begin(&fifo, None).unwrap_err(),
            ReplaceError::NotRegular(Kind::Fifo)
        );
        assert_eq!(
            existing_regular(&fifo).unwrap_err(),
            ReadError::NotRegular(Kind::Fifo)
        );
        assert!(!dir.path().join("fifo.lock").exists());
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        assert!(matches!(
            existing_regular(&dir.path().join("none")),
            Ok(None)
        ));
    }
}
