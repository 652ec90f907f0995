//! Opening files that others can plant: agents write in the run folder, and a repository can
//! commit symlinks. Nothing here blocks, and nothing writes through a symlink.
//!
//! - Reading: only regular files are read. The type is checked before opening (a FIFO would
//!   block the open, a device could be endless), the open is non-blocking, and the opened file
//!   is checked again (it may have been swapped in between).
//! - Writing: files are opened with `O_NOFOLLOW`, and the folders the tool writes in are
//!   refused when they are symlinks ([`check_dirs`]): an atomic write renames a temporary file
//!   over its target, which replaces a symlink rather than following it, but the temporary
//!   file is created in the target's folder, so that folder must be the real one.

use std::fs::{self, File, FileType, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What a file type is, for messages: "a FIFO (named pipe)", "a directory", ….
pub(crate) fn type_name(t: FileType) -> &'static str {
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

fn not_regular(path: &Path, t: FileType) -> Error {
    Error::failure(format!(
        "{} is {}, not a regular file; git swarm reads only regular files",
        path.display(),
        type_name(t)
    ))
    .hint("replace it with a regular file")
}

/// Opens `path` for reading when it is a regular file (a symlink to one is followed); any
/// other file is refused at once, without blocking.
pub(crate) fn open_regular(path: &Path) -> Result<File> {
    let meta = fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
    if !meta.file_type().is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    let t = f
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .file_type();
    if !t.is_file() {
        return Err(not_regular(path, t));
    }
    Ok(f)
}

/// Reads a regular file, refusing one larger than `limit` bytes (checked while reading, so a
/// file that grows is caught too).
pub(crate) fn read_regular(path: &Path, limit: Option<u64>) -> Result<Vec<u8>> {
    let f = open_regular(path)?;
    let mut bytes = Vec::new();
    match limit {
        Some(max) => {
            f.take(max + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::io("read", path, e))?;
            if bytes.len() as u64 > max {
                return Err(Error::failure(format!(
                    "{} is more than the {max} bytes git swarm reads",
                    path.display()
                ))
                .hint("write a smaller file (results and plans are summaries, not logs)"));
            }
        }
        None => {
            let mut f = f;
            f.read_to_end(&mut bytes)
                .map_err(|e| Error::io("read", path, e))?;
        }
    }
    Ok(bytes)
}

/// Like [`read_regular`], with `None` when nothing is at `path`.
pub(crate) fn read_if_exists(path: &Path, limit: Option<u64>) -> Result<Option<Vec<u8>>> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => read_regular(path, limit).map(Some),
    }
}

/// Refuses `path` (a file of the repository at `root`, such as `.swarm/standards.md`) when it
/// resolves outside the repository: a repository can commit a symlink to any file of the
/// machine, and what the tool reads from these files goes into messages and into the context
/// packs handed to agents. A path that does not resolve (missing, dangling) passes; reading
/// it says what is wrong.
pub(crate) fn check_inside(root: &Path, path: &Path) -> Result<()> {
    let (Ok(real), Ok(root_real)) = (fs::canonicalize(path), fs::canonicalize(root)) else {
        return Ok(());
    };
    if real.starts_with(&root_real) {
        return Ok(());
    }
    Err(Error::failure(format!(
        "{} leads outside the repository (to {}) through a symlink; git swarm reads the repository's own files only",
        path.display(),
        real.display()
    ))
    .hint(format!(
        "replace {} with a regular file in the repository",
        path.display()
    )))
}

/// Opens `path` for appending (created if missing) without following a symlink and without
/// blocking on a FIFO; anything but a regular file is refused.
pub(crate) fn open_append(path: &Path) -> Result<File> {
    open_write(path, OpenOptions::new().create(true).append(true))
}

/// Creates (or truncates) a log file for a command's output, without following a symlink.
pub(crate) fn create_log(path: &Path) -> Result<File> {
    open_write(
        path,
        OpenOptions::new().create(true).write(true).truncate(true),
    )
}

/// Opens `path` read-write (created if missing, not truncated) without following a symlink;
/// for lock files.
pub(crate) fn open_rw(path: &Path) -> Result<File> {
    open_write(
        path,
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false),
    )
}

fn open_write(path: &Path, opts: &mut OpenOptions) -> Result<File> {
    let f = opts
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                symlink_refused(path)
            } else if e.raw_os_error() == Some(libc::ENXIO) {
                // O_NONBLOCK write-open of a FIFO without a reader.
                match fs::symlink_metadata(path) {
                    Ok(m) => not_regular(path, m.file_type()),
                    Err(_) => Error::io("open", path, e),
                }
            } else {
                Error::io("open", path, e)
            }
        })?;
    let t = f
        .metadata()
        .map_err(|e| Error::io("open", path, e))?
        .file_type();
    if !t.is_file() {
        return Err(not_regular(path, t));
    }
    Ok(f)
}

/// The error for a symlink where git swarm writes; says where it leads, and when it leads
/// nowhere.
pub(crate) fn symlink_refused(path: &Path) -> Error {
    let target = fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    let dangling = fs::metadata(path).is_err();
    Error::failure(format!(
        "{} is a symlink (to {target}{}); git swarm does not write through symlinks",
        path.display(),
        if dangling { ", which does not exist" } else { "" }
    ))
    .hint(format!(
        "remove the symlink {} (and put a real {} there if one is needed), then run the command again",
        path.display(),
        if dangling { "file or folder" } else { "file or folder in its place" }
    ))
}

/// Refuses when `dir`, or a folder between `root` and `dir`, is a symlink or not a folder.
/// Folders that do not exist yet are fine (they are created as real folders). `root` itself
/// is where the user works and is taken as it is.
pub(crate) fn check_dirs(root: &Path, dir: &Path) -> Result<()> {
    let Ok(rel) = dir.strip_prefix(root) else {
        return Ok(());
    };
    let mut cur = PathBuf::from(root);
    for comp in rel.components() {
        cur.push(comp);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => return Err(symlink_refused(&cur)),
            Ok(m) if !m.is_dir() => {
                return Err(Error::failure(format!(
                    "{} is {}, where git swarm expects a folder",
                    cur.display(),
                    type_name(m.file_type())
                ))
                .hint(format!("move {} away", cur.display())));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// Creates `dir` and the folders above it up to `root`, refusing to go through a symlink.
pub(crate) fn create_dirs(root: &Path, dir: &Path) -> Result<()> {
    check_dirs(root, dir)?;
    crate::files::atomic::create_dir_all(dir)?;
    // A folder made a symlink while we created the ones below it is caught here.
    check_dirs(root, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }

    #[test]
    fn a_fifo_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        mkfifo(&p);
        let e = read_regular(&p, Some(10)).unwrap_err();
        assert!(e.message.contains("a FIFO (named pipe)"), "{}", e.message);
        let e = open_append(&p).unwrap_err();
        assert!(e.message.contains("FIFO"), "{}", e.message);
        let e = open_rw(&p).unwrap_err();
        assert!(e.message.contains("FIFO"), "{}", e.message);
    }

    #[test]
    fn directories_and_oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_regular(dir.path(), None).unwrap_err();
        assert!(e.message.contains("a directory"), "{}", e.message);
        let p = dir.path().join("big");
        fs::write(&p, "0123456789").unwrap();
        assert!(read_regular(&p, Some(9)).is_err());
        assert_eq!(read_regular(&p, Some(10)).unwrap().len(), 10);
    }

    #[test]
    fn appends_do_not_follow_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        let link = dir.path().join("events.jsonl");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let e = open_append(&link).unwrap_err();
        assert!(e.message.contains("which does not exist"), "{}", e.message);
        assert!(!outside.exists());
    }

    #[test]
    fn symlinked_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        fs::create_dir_all(root.join(".swarm")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join(".swarm/runs")).unwrap();
        let e = check_dirs(&root, &root.join(".swarm/runs/abc/archive")).unwrap_err();
        assert!(
            e.message.contains(".swarm/runs is a symlink"),
            "{}",
            e.message
        );
        assert!(check_dirs(&root, &root.join(".swarm/other/x")).is_ok());
    }
}
