//! The only place that writes state files. Every write goes to a temporary file in the same
//! directory, is flushed to disk, and is renamed over the target, so a reader (or a process
//! killed halfway) sees either the old file or the new one, never a torn one.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, IoContext, Result};

/// Writes `bytes` to `path` atomically (temp file + fsync + rename + directory fsync).
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_mode(path, bytes, None)
}

/// Like `write`, for a file meant to be committed and read by others: mode 0644 instead of
/// the temporary file's 0600.
pub(crate) fn write_shared(path: &Path, bytes: &[u8]) -> Result<()> {
    write_mode(path, bytes, Some(0o644))
}

fn write_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::failure(format!("{} has no parent directory", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::failpoint!("atomic-write-before");
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .ctx("create a temporary file in", dir)?;
    tmp.write_all(bytes).ctx("write", tmp.path())?;
    if let Some(m) = mode {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(m))
            .ctx("set the permissions of", tmp.path())?;
    }
    tmp.as_file().sync_data().ctx("flush", tmp.path())?;
    crate::failpoint!("atomic-write-before-rename");
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    sync_dir(dir);
    crate::failpoint!("atomic-write-after-rename");
    Ok(())
}

/// Serialises `value` as pretty JSON (with a trailing newline) and writes it atomically.
pub(crate) fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::failure(format!("could not serialise {}: {e}", path.display())))?;
    bytes.push(b'\n');
    write(path, &bytes)
}

/// Renames `from` to `to` (same file system), then makes the rename durable.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    crate::failpoint!("rename-before");
    fs::rename(from, to).map_err(|e| {
        Error::failure(format!(
            "could not move {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })?;
    if let Some(dir) = to.parent() {
        sync_dir(dir);
    }
    crate::failpoint!("rename-after");
    Ok(())
}

/// Appends whole lines to `path`, creating it if needed. Used only for the event log, which
/// tolerates (and skips on read) a line torn by a crash. Never through a symlink, never into
/// anything but a regular file.
pub(crate) fn append(path: &Path, text: &str) -> Result<()> {
    let mut f = crate::files::safe::open_append(path)?;
    f.write_all(text.as_bytes()).ctx("append to", path)?;
    f.sync_data().ctx("flush", path)?;
    Ok(())
}

/// Creates a directory and its parents.
pub(crate) fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).ctx("create directory", path)
}

fn sync_dir(dir: &Path) {
    // Durability of the rename itself; failure here (e.g. on file systems that refuse to open
    // directories) does not make the state inconsistent, so it is not an error.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary files must not be left behind");
    }

    #[test]
    fn write_json_is_pretty_with_newline() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        write_json(&p, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\n  \"a\": 1\n}\n");
    }
}
