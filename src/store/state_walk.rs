//! Walking the run folder for its record: each file's blob (unchanged files by their stat
//! data, without reading them) and each folder's tree, hashed in memory; the objects the
//! repository lacks are written at the end of the record.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use gix::ObjectId;
use gix::objs::tree::{Entry, EntryKind};

use super::state_ref::{Cache, failed, stat_of};
use crate::error::{Error, Result};

/// How much of each log file is recorded (its end).
pub(crate) const LOG_CAP: u64 = 256 * 1024;
/// A top-level folder that held more files than this at the last record is walked on a
/// thread of its own.
const PARALLEL_FROM: usize = 200;
/// Files outside `logs/` larger than this are left out of the record.
pub(crate) const FILE_CAP: u64 = 16 * 1024 * 1024;

/// Is `name` (in the run folder's top level or below) left out of the record? The folder's
/// own bookkeeping of the record (`.state-*`) belongs to this machine.
pub(super) fn left_out(name: &[u8]) -> bool {
    name.starts_with(b".state-")
        || name.ends_with(b".lock")
        || (name.starts_with(b".") && name.ends_with(b".tmp"))
}

/// Objects made while a record is built, written all at once at its end.
pub(super) type Pending = Vec<(gix::objs::Kind, Vec<u8>, ObjectId)>;

/// Hashes `data` as an object of `kind`, keeping it to be written.
pub(super) fn hashed(
    hash: gix::hash::Kind,
    kind: gix::objs::Kind,
    data: Vec<u8>,
    out: &mut Pending,
) -> Result<ObjectId> {
    let oid =
        gix::objs::compute_hash(hash, kind, &data).map_err(|e| failed("hash an object", e))?;
    out.push((kind, data, oid));
    Ok(oid)
}

/// Writes the objects that the repository lacks (a redundant write at worst: the check does
/// not list the pack folder again).
pub(super) fn flush(repo: &gix::Repository, pending: Pending) -> Result<()> {
    use gix::objs::Write;
    for (kind, data, oid) in pending {
        if repo.objects.exists_without_refresh(&oid) {
            continue;
        }
        repo.objects
            .write_buf_with_known_id(kind, &data, oid)
            .map_err(|e| failed(&format!("store object {oid}"), e))?;
    }
    Ok(())
}

/// The tree of the folder `dir` (`rel` in the record; `None`: nothing recorded in it), its
/// files' stat data and blobs put into `new`, the objects to write into `out`. At the top
/// level each subfolder (`archive/`, `logs/`: the ones that grow) is walked on a thread of its
/// own while the files are looked at here.
pub(super) fn write_dir(
    hash: gix::hash::Kind,
    dir: &Path,
    rel: &str,
    old: &Cache,
    new: &mut Cache,
    out: &mut Pending,
) -> Result<Option<ObjectId>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| failed(&format!("read {}", dir.display()), e))?;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for e in entries.flatten() {
        if left_out(e.file_name().as_bytes()) {
            continue;
        }
        // The kind from the directory listing itself; a symlink is never followed.
        match e.file_type() {
            Ok(t) if t.is_dir() => dirs.push(e),
            Ok(t) if t.is_file() => files.push(e),
            _ => {}
        }
    }
    let mut tree = gix::objs::Tree::empty();
    // A thread costs more than a small folder's walk: only folders that held many files at
    // the last record get one.
    let big = |e: &std::fs::DirEntry| {
        let prefix = format!("{}/", join(rel, e));
        old.files
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .nth(PARALLEL_FROM)
            .is_some()
    };
    let (threaded, inline): (Vec<_>, Vec<_>) = dirs.iter().partition(|e| rel.is_empty() && big(e));
    let walked = std::thread::scope(|scope| -> Result<()> {
        let mut threads = Vec::new();
        for e in threaded {
            threads.push(scope.spawn(move || {
                let (mut c, mut o) = (Cache::default(), Pending::new());
                let path = join(rel, e);
                let t = write_dir(hash, &e.path(), &path, old, &mut c, &mut o);
                (e.file_name(), t, c, o)
            }));
        }
        for e in inline {
            let path = join(rel, e);
            if let Some(oid) = write_dir(hash, &e.path(), &path, old, new, out)? {
                tree.entries.push(tree_entry(e, oid));
            }
        }
        for e in &files {
            // Stat data relative to the directory (no walk of the whole path).
            let Ok(meta) = e.metadata() else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let path = join(rel, e);
            let log = path.starts_with("logs/");
            if !log && meta.len() > FILE_CAP {
                // Not the run's own (its files are far smaller): an agent's dump is no state.
                continue;
            }
            let stat = stat_of(&meta);
            let cached = old.files.get(&path).filter(|c| c.0 == stat);
            let oid = match cached {
                Some((_, oid)) => *oid,
                None => match read_capped(&e.path(), log)? {
                    Some(data) => hashed(hash, gix::objs::Kind::Blob, data, out)?,
                    None => continue,
                },
            };
            new.files.insert(path, (stat, oid));
            let kind = if meta.mode() & 0o111 != 0 {
                EntryKind::BlobExecutable
            } else {
                EntryKind::Blob
            };
            tree.entries.push(Entry {
                mode: kind.into(),
                filename: e.file_name().as_bytes().into(),
                oid,
            });
        }
        for t in threads {
            let (name, sub, c, o) = t
                .join()
                .map_err(|_| failed("walk the folder", "a thread stopped"))?;
            if let Some(oid) = sub? {
                tree.entries.push(Entry {
                    mode: EntryKind::Tree.into(),
                    filename: name.as_bytes().into(),
                    oid,
                });
            }
            new.files.extend(c.files);
            out.extend(o);
        }
        Ok(())
    });
    walked?;
    if tree.entries.is_empty() {
        return Ok(None);
    }
    tree.entries.sort();
    let mut buf = Vec::new();
    gix::objs::WriteTo::write_to(&tree, &mut buf)
        .map_err(|e| failed(&format!("store the tree of {}", dir.display()), e))?;
    Ok(Some(hashed(hash, gix::objs::Kind::Tree, buf, out)?))
}

/// The record's path of the entry `e` of the folder at `rel`.
fn join(rel: &str, e: &std::fs::DirEntry) -> String {
    let name = e.file_name();
    let name = name.to_string_lossy();
    let mut path = String::with_capacity(rel.len() + 1 + name.len());
    if !rel.is_empty() {
        path.push_str(rel);
        path.push('/');
    }
    path.push_str(&name);
    path
}

fn tree_entry(e: &std::fs::DirEntry, oid: ObjectId) -> Entry {
    Entry {
        mode: EntryKind::Tree.into(),
        filename: e.file_name().as_bytes().into(),
        oid,
    }
}

/// A file's bytes (a log's last [`LOG_CAP`] bytes: only those are read), as a regular file
/// only; `None` for one outside `logs/` that grew past [`FILE_CAP`] meanwhile.
fn read_capped(path: &Path, log: bool) -> Result<Option<Vec<u8>>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = crate::files::safe::open_regular(path)?;
    let io = |e| Error::io("read", path, e);
    let mut data = Vec::new();
    if !log {
        f.take(FILE_CAP + 1).read_to_end(&mut data).map_err(io)?;
        return Ok((data.len() as u64 <= FILE_CAP).then_some(data));
    }
    let len = f.metadata().map_err(io)?.len();
    if len > LOG_CAP {
        f.seek(SeekFrom::Start(len - LOG_CAP)).map_err(io)?;
    }
    f.take(LOG_CAP).read_to_end(&mut data).map_err(io)?;
    Ok(Some(data))
}
