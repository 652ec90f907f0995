//! A state commit's tree as a map of files: read one, build one, and write its files into a
//! run folder. Trees fetched from a remote were written by someone else: every name is
//! checked before it becomes a path, and writing never goes through a symlink.

use std::collections::BTreeMap;
use std::path::Path;

use gix::ObjectId;
use gix::objs::tree::{Entry, EntryKind};

use crate::error::{Error, Result};

/// Relative path (`/`-separated) → (kind, blob).
pub(crate) type Files = BTreeMap<String, (EntryKind, ObjectId)>;

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::failure(format!(
        "could not read the run's state in git ({what}): {e}"
    ))
}

/// The files of `commit`'s tree.
pub(crate) fn files_of(repo: &gix::Repository, commit: ObjectId) -> Result<Files> {
    let tree = commit_tree(repo, commit)?;
    let mut out = Files::new();
    walk(repo, tree, "", &mut out, 0)?;
    Ok(out)
}

/// The tree of `commit`.
pub(crate) fn commit_tree(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId> {
    let c = repo
        .find_object(commit)
        .map_err(|e| failed(&format!("find {commit}"), e))?
        .try_into_commit()
        .map_err(|e| failed(&format!("{commit} is not a commit"), e))?;
    Ok(c.tree_id()
        .map_err(|e| failed(&format!("the tree of {commit}"), e))?
        .detach())
}

/// `commit`'s message and first parent.
pub(crate) fn message_and_parent(
    repo: &gix::Repository,
    commit: ObjectId,
) -> Result<(String, Option<ObjectId>)> {
    let c = repo
        .find_object(commit)
        .map_err(|e| failed(&format!("find {commit}"), e))?
        .try_into_commit()
        .map_err(|e| failed(&format!("{commit} is not a commit"), e))?;
    let parent = c.parent_ids().next().map(|p| p.detach());
    let msg = c
        .message_raw()
        .map(|m| m.to_string())
        .map_err(|e| failed(&format!("the message of {commit}"), e))?;
    Ok((msg, parent))
}

fn walk(
    repo: &gix::Repository,
    tree: ObjectId,
    prefix: &str,
    out: &mut Files,
    depth: u32,
) -> Result<()> {
    if depth > 16 {
        return Err(failed("the tree", "nested too deeply"));
    }
    let t = repo
        .find_object(tree)
        .map_err(|e| failed(&format!("find tree {tree}"), e))?
        .try_into_tree()
        .map_err(|e| failed(&format!("{tree} is not a tree"), e))?;
    let decoded = t.decode().map_err(|e| failed("decode a tree", e))?;
    for e in &decoded.entries {
        let name = e.filename.to_string();
        check_name(&name)?;
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        match e.mode.kind() {
            EntryKind::Tree => walk(repo, e.oid.to_owned(), &path, out, depth + 1)?,
            EntryKind::Blob | EntryKind::BlobExecutable => {
                out.insert(path, (e.mode.kind(), e.oid.to_owned()));
            }
            // A link or a submodule has no place in a run folder: refused, never written.
            _ => {
                return Err(Error::failure(format!(
                    "the run's state in git holds {path}, which is not a file"
                ))
                .hint(
                    "the state ref was not written by git swarm; fetch it from a remote you trust",
                ));
            }
        }
    }
    Ok(())
}

/// A name from someone else's tree must be one plain path component.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.eq_ignore_ascii_case(".git")
    {
        return Err(Error::failure(format!(
            "the run's state in git holds a file named {name:?}, which cannot be a run folder's"
        ))
        .hint("the state ref was not written by git swarm; fetch it from a remote you trust"));
    }
    Ok(())
}

/// Builds the tree of `files` (nested), returning its id.
pub(crate) fn build(repo: &gix::Repository, files: &Files) -> Result<ObjectId> {
    let mut nested: BTreeMap<String, Files> = BTreeMap::new();
    let mut tree = gix::objs::Tree::empty();
    for (path, (kind, oid)) in files {
        match path.split_once('/') {
            Some((dir, rest)) => {
                nested
                    .entry(dir.to_string())
                    .or_default()
                    .insert(rest.to_string(), (*kind, *oid));
            }
            None => tree.entries.push(Entry {
                mode: (*kind).into(),
                filename: path.as_str().into(),
                oid: *oid,
            }),
        }
    }
    for (dir, sub) in &nested {
        tree.entries.push(Entry {
            mode: EntryKind::Tree.into(),
            filename: dir.as_str().into(),
            oid: build(repo, sub)?,
        });
    }
    tree.entries.sort();
    Ok(repo
        .write_object(&tree)
        .map_err(|e| failed("store a tree", e))?
        .detach())
}

/// git swarm, now, in UTC (looking up the local time zone lists all of
/// `/usr/share/zoneinfo`, which costs more than a whole state update).
pub(crate) fn signature() -> gix::actor::Signature {
    gix::actor::Signature {
        name: "git swarm".into(),
        email: "git-swarm@localhost".into(),
        time: gix::date::Time::now_utc(),
    }
}

/// A state commit of `tree` with `parents`, by git swarm, now.
pub(crate) fn commit_object(
    tree: ObjectId,
    parents: &[ObjectId],
    message: &str,
) -> gix::objs::Commit {
    let who = signature();
    gix::objs::Commit {
        message: message.into(),
        tree,
        author: who.clone(),
        committer: who,
        encoding: None,
        parents: parents.iter().copied().collect(),
        extra_headers: Vec::new(),
    }
}

/// Writes a commit of `tree` with `parents` (the ref is not touched).
pub(crate) fn commit(
    repo: &gix::Repository,
    tree: ObjectId,
    parents: &[ObjectId],
    message: &str,
) -> Result<ObjectId> {
    let commit = commit_object(tree, parents, message);
    Ok(repo
        .write_object(&commit)
        .map_err(|e| failed("write a commit", e))?
        .detach())
}

/// Writes `paths` of `files` into the folder `dir` (below `root`, the workspace), each
/// atomically, creating folders without going through a symlink.
pub(crate) fn write_into(
    repo: &gix::Repository,
    root: &Path,
    dir: &Path,
    files: &Files,
    paths: &[String],
) -> Result<()> {
    for path in paths {
        let Some((kind, oid)) = files.get(path) else {
            continue;
        };
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            crate::files::safe::create_dirs(root, parent)?;
        }
        let blob = repo
            .find_object(*oid)
            .map_err(|e| failed(&format!("find {path}"), e))?;
        crate::files::atomic::write(&target, &blob.data)?;
        if *kind == EntryKind::BlobExecutable {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_leave_the_folder_are_refused() {
        for bad in ["", ".", "..", "a/b", ".git", ".GIT", "a\\b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in ["run.status.json", "logs", ".hidden", "a..b"] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn a_built_tree_reads_back_as_the_same_files() {
        let dir = tempfile::tempdir().unwrap();
        let repo = gix::init(dir.path()).unwrap();
        let mut files = Files::new();
        for (p, text) in [("a.json", "1"), ("logs/x.log", "2"), ("logs/y/z", "3")] {
            let oid = repo.write_blob(text.as_bytes()).unwrap().detach();
            files.insert(p.to_string(), (EntryKind::Blob, oid));
        }
        let tree = build(&repo, &files).unwrap();
        let c = commit(&repo, tree, &[], "m").unwrap();
        assert_eq!(files_of(&repo, c).unwrap(), files);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let all: Vec<String> = files.keys().cloned().collect();
        write_into(&repo, dir.path(), &out, &files, &all).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("logs/y/z")).unwrap(), "3");
    }
}
