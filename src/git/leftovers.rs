//! What an interrupted `git worktree remove` leaves: a directory whose files are either
//! identical to a commit's (git's checkout, safe to delete) or something else (someone's work,
//! never touched). Judged file by file against the commits the worktree was at.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::Git;
use super::gc_ops::{DotGit, dot_git};
use crate::error::{Error, IoContext, Result};

/// A file of a commit's tree.
#[derive(Debug, Clone)]
struct TreeFile {
    mode: String,
    oid: gix::ObjectId,
    size: Option<u64>,
}

/// Every file of `commit`'s tree by path (`git ls-tree -r -l -z`).
fn tree_files(root: &Path, commit: &str) -> Result<HashMap<String, TreeFile>> {
    let out = Git::new(root)
        .args(["ls-tree", "-r", "-l", "-z", "--full-tree", commit])
        .run()?;
    let mut map = HashMap::new();
    for rec in out.split('\0').filter(|r| !r.is_empty()) {
        let Some((meta, path)) = rec.split_once('\t') else {
            continue;
        };
        let mut f = meta.split_whitespace();
        let (Some(mode), Some(_kind), Some(oid), Some(size)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Ok(oid) = gix::ObjectId::from_hex(oid.as_bytes()) else {
            continue;
        };
        map.insert(
            path.to_string(),
            TreeFile {
                mode: mode.to_string(),
                oid,
                size: size.parse().ok(),
            },
        );
    }
    Ok(map)
}

/// What a half-removed worktree's directory still holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Leftovers {
    /// No file at all (empty folders and git's `.git` pointer file do not count).
    Nothing,
    /// Only files byte-identical to the same path in this commit: a (partial) checkout of it.
    Checkout(String),
    /// A file that is no commit's: its path (relative to the directory) and why.
    Foreign(String, String),
}

/// One file found in a directory, relative to it.
enum Found {
    File(String, PathBuf, u64),
    Link(String, Vec<u8>),
}

/// Walks `dir` without following symlinks; `.git` at its top is left out (the caller judged
/// it). An entry that is neither file, folder nor symlink, or whose name is not UTF-8, is
/// foreign at once.
fn walk(dir: &Path, rel: &str, out: &mut Vec<Found>) -> std::result::Result<(), (String, String)> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| (rel.to_string(), format!("cannot be read: {e}")))?;
    for e in entries.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            return Err((
                format!("{rel}{}", e.file_name().to_string_lossy()),
                "its name is not UTF-8".into(),
            ));
        };
        if rel.is_empty() && name == ".git" {
            continue;
        }
        let r = format!("{rel}{name}");
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).map_err(|e| (r.clone(), e.to_string()))?;
        let t = meta.file_type();
        if t.is_dir() {
            walk(&p, &format!("{r}/"), out)?;
        } else if t.is_file() {
            out.push(Found::File(r, p, meta.len()));
        } else if t.is_symlink() {
            let target = std::fs::read_link(&p).map_err(|e| (r.clone(), e.to_string()))?;
            out.push(Found::Link(r, target.as_os_str().as_bytes().to_vec()));
        } else {
            return Err((r, "is not a regular file, folder or symlink".into()));
        }
    }
    Ok(())
}

/// Does the file found match the tree's entry at its path?
fn matches(tree: &HashMap<String, TreeFile>, found: &Found) -> std::result::Result<(), String> {
    let blob = |bytes: &[u8], t: &TreeFile| {
        gix::objs::compute_hash(t.oid.kind(), gix::objs::Kind::Blob, bytes)
            .is_ok_and(|h| h == t.oid)
    };
    match found {
        Found::File(r, p, len) => {
            let t = tree.get(r).ok_or("is in no commit of the run")?;
            if !t.mode.starts_with("100") || t.size != Some(*len) {
                return Err("differs from the commit".into());
            }
            let bytes = std::fs::read(p).map_err(|e| format!("cannot be read: {e}"))?;
            if blob(&bytes, t) {
                Ok(())
            } else {
                Err("differs from the commit".into())
            }
        }
        Found::Link(r, target) => {
            let t = tree.get(r).ok_or("is in no commit of the run")?;
            if t.mode == "120000" && blob(target, t) {
                Ok(())
            } else {
                Err("differs from the commit".into())
            }
        }
    }
}

fn found_path(f: &Found) -> &str {
    match f {
        Found::File(r, ..) | Found::Link(r, _) => r,
    }
}

/// Judges what `dir` holds against `commits` (the first that explains every file wins).
pub(crate) fn leftovers(root: &Path, dir: &Path, commits: &[String]) -> Result<Leftovers> {
    let mut found = Vec::new();
    if let Err((path, why)) = walk(dir, "", &mut found) {
        return Ok(Leftovers::Foreign(path, why));
    }
    if found.is_empty() {
        return Ok(Leftovers::Nothing);
    }
    let mut first_miss = None;
    let mut tried = std::collections::HashSet::new();
    for c in commits.iter().filter(|c| !c.is_empty() && tried.insert(*c)) {
        let Ok(tree) = tree_files(root, c) else {
            continue;
        };
        match found
            .iter()
            .find_map(|f| matches(&tree, f).err().map(|why| (f, why)))
        {
            None => return Ok(Leftovers::Checkout(c.clone())),
            Some((f, why)) => {
                first_miss.get_or_insert_with(|| (found_path(f).to_string(), why));
            }
        }
    }
    let (path, why) = first_miss.unwrap_or_else(|| {
        (
            found_path(&found[0]).to_string(),
            "no commit to compare with".into(),
        )
    });
    Ok(Leftovers::Foreign(path, why))
}

/// Removes a half-removed worktree's directory, judging every file again as it goes: a file
/// identical to `commit` (or none, when `commit` is `None` and the directory held nothing) is
/// deleted, anything else stays. Returns what stayed (empty: the directory is gone).
pub(crate) fn remove_leftovers(
    root: &Path,
    dir: &Path,
    commit: Option<&str>,
) -> Result<Vec<String>> {
    let tree = match commit {
        Some(c) => tree_files(root, c)?,
        None => HashMap::new(),
    };
    let mut found = Vec::new();
    if let Err((path, why)) = walk(dir, "", &mut found) {
        return Ok(vec![format!("{path} ({why})")]);
    }
    let mut kept = Vec::new();
    for f in &found {
        match matches(&tree, f) {
            Ok(()) => {
                let p = dir.join(found_path(f));
                std::fs::remove_file(&p).ctx("remove", &p)?;
            }
            Err(why) => kept.push(format!("{} ({why})", found_path(f))),
        }
    }
    if !kept.is_empty() {
        return Ok(kept);
    }
    if !matches!(dot_git(dir), DotGit::Foreign(_)) {
        let g = dir.join(".git");
        if g.exists() {
            std::fs::remove_file(&g).ctx("remove", &g)?;
        }
    }
    remove_empty_dirs(dir)?;
    Ok(if std::fs::symlink_metadata(dir).is_ok() {
        vec!["something appeared while gc removed it".into()]
    } else {
        Vec::new()
    })
}

/// Removes `dir` and the empty folders under it, bottom-up; a folder that is not empty stays.
fn remove_empty_dirs(dir: &Path) -> Result<()> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&e.path())?;
            }
        }
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", dir, e)),
    }
}
