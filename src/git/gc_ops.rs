//! What `git swarm gc` asks of git, and the few removals it makes. Each removal checks, as it
//! acts, the state gc decided on: a branch is deleted only if it still points at the commit
//! that was judged, a half-removed worktree loses only files identical to a commit.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::Git;
use crate::error::{Error, IoContext, Result};

/// One entry of `git worktree list --porcelain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
    pub head: Option<String>,
    /// The branch checked out, without `refs/heads/`.
    pub branch: Option<String>,
    /// `git worktree lock`'s reason (empty when none was given).
    pub locked: Option<String>,
    /// Why git considers the registration prunable (its directory or `.git` is gone).
    pub prunable: Option<String>,
}

/// The registered worktrees, the main one first.
pub fn worktrees(root: &Path) -> Result<Vec<Entry>> {
    let list = Git::new(root)
        .args(["worktree", "list", "--porcelain"])
        .run()?;
    let mut out = Vec::new();
    for block in list.split("\n\n") {
        let mut e = Entry {
            path: PathBuf::new(),
            head: None,
            branch: None,
            locked: None,
            prunable: None,
        };
        for l in block.lines() {
            if let Some(p) = l.strip_prefix("worktree ") {
                e.path = PathBuf::from(p);
            } else if let Some(h) = l.strip_prefix("HEAD ") {
                e.head = Some(h.to_string());
            } else if let Some(b) = l.strip_prefix("branch refs/heads/") {
                e.branch = Some(b.to_string());
            } else if l == "locked" || l.starts_with("locked ") {
                e.locked = Some(l["locked".len()..].trim().to_string());
            } else if l == "prunable" || l.starts_with("prunable ") {
                e.prunable = Some(l["prunable".len()..].trim().to_string());
            }
        }
        if !e.path.as_os_str().is_empty() {
            out.push(e);
        }
    }
    Ok(out)
}

/// The branch a run's work is merged into: the remote's default branch, else the current one.
pub fn default_base(root: &Path) -> String {
    let sym = |r: &str| {
        Git::new(root)
            .args(["symbolic-ref", "--quiet", "--short", r])
            .run()
            .ok()
            .filter(|s| !s.is_empty())
    };
    sym("refs/remotes/origin/HEAD")
        .or_else(|| sym("HEAD"))
        .unwrap_or_default()
}

/// The branches under `refs/heads/<prefix>`, with the commit each points at.
pub fn branches(root: &Path, prefix: &str) -> Result<Vec<(String, String)>> {
    let out = Git::new(root)
        .args([
            "for-each-ref",
            "--format=%(objectname) %(refname:short)",
            &format!("refs/heads/{prefix}"),
        ])
        .run()?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(oid, name)| (name.to_string(), oid.to_string()))
        .collect())
}

/// The commit `refs/heads/<branch>` points at, if the branch exists.
pub fn branch_tip(root: &Path, branch: &str) -> Option<String> {
    Git::new(root)
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}^{{commit}}"),
        ])
        .run()
        .ok()
        .filter(|s| !s.is_empty())
}

/// Is `rev` an ancestor of (or equal to) `of`?
pub fn is_ancestor(root: &Path, rev: &str, of: &str) -> bool {
    Git::new(root)
        .args(["merge-base", "--is-ancestor", rev, of])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Are the commits of `rev` safe elsewhere: merged into `base`, or on a remote-tracking
/// branch? Says where.
pub fn safe_elsewhere(root: &Path, rev: &str, base: &str) -> Option<String> {
    if !base.is_empty() && is_ancestor(root, rev, base) {
        return Some(format!("merged into {base}"));
    }
    let remotes = Git::new(root)
        .args([
            "branch",
            "-r",
            "--contains",
            rev,
            "--format=%(refname:short)",
        ])
        .run()
        .unwrap_or_default();
    remotes.lines().next().map(|r| format!("on {r}"))
}

/// Is `commit` reachable from some branch, remote-tracking branch or tag?
pub fn is_referenced(root: &Path, commit: &str) -> bool {
    Git::new(root)
        .args([
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            "--contains",
            commit,
            "refs/heads",
            "refs/remotes",
            "refs/tags",
        ])
        .run()
        .is_ok_and(|o| !o.trim().is_empty())
}

/// `git worktree remove <path>`, never forced: git itself refuses a worktree with modified or
/// untracked files, so a file written since gc looked is never lost.
pub fn remove_worktree(root: &Path, path: &Path) -> Result<()> {
    Git::new(root)
        .args(["worktree", "remove"])
        .arg_path(path)
        .run()
        .map(|_| ())
}

/// Removes git's record of a worktree whose directory is gone (`git worktree remove` accepts
/// a missing directory; unlike `git worktree prune` it touches no other registration).
pub fn forget_worktree(root: &Path, path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::failure(format!(
            "{} still exists; git's record of it is kept",
            path.display()
        )));
    }
    remove_worktree(root, path)
}

/// Whether the only changes in the worktree at `path` are files gone from it (deleted, or not
/// checked out yet) and files git does not track: what an interrupted `git worktree remove`
/// or `git worktree add` leaves. A change staged in the index is never one of those.
pub fn only_missing_files(path: &Path) -> Result<bool> {
    let out = Git::new(path)
        .args(["status", "--porcelain", "-z", "--untracked-files=all"])
        .run()?;
    Ok(out.split('\0').filter(|r| r.len() > 3).all(|r| {
        r.as_bytes()[..2]
            .iter()
            .all(|c| matches!(c, b' ' | b'D' | b'?'))
    }))
}

/// `git worktree unlock <path>`.
pub fn unlock_worktree(root: &Path, path: &Path) -> Result<()> {
    Git::new(root)
        .args(["worktree", "unlock"])
        .arg_path(path)
        .run()
        .map(|_| ())
}

/// Deletes `refs/heads/<branch>` only if it still points at `expected` (git checks and deletes
/// in one step), then its `branch.<name>.*` settings (upstream), if any.
pub fn delete_branch(root: &Path, branch: &str, expected: &str) -> Result<()> {
    Git::new(root)
        .args([
            "update-ref",
            "-d",
            &format!("refs/heads/{branch}"),
            expected,
        ])
        .run()?;
    // No section is not an error worth reporting: a branch that was never pushed has none.
    let _ = Git::new(root)
        .args(["config", "--remove-section", &format!("branch.{branch}")])
        .output();
    Ok(())
}

/// The `.git` entry of a directory that was (or is) a linked worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotGit {
    /// There is none.
    Missing,
    /// A `.git` file pointing at a registration that points back here: a working worktree.
    Live,
    /// A small `.git` file of git's that leads nowhere (a removed or foreign registration) or
    /// cannot be read as one: what an interrupted removal leaves.
    Stale,
    /// Something that is not git's pointer file (a directory: a repository of its own; a
    /// symlink; a large file).
    Foreign(String),
}

/// The state of `<dir>/.git`.
pub fn dot_git(dir: &Path) -> DotGit {
    let p = dir.join(".git");
    let meta = match std::fs::symlink_metadata(&p) {
        Ok(m) => m,
        Err(_) => return DotGit::Missing,
    };
    if meta.is_dir() {
        return DotGit::Foreign(".git is a directory (a repository of its own)".into());
    }
    if !meta.is_file() || meta.len() > 4096 {
        return DotGit::Foreign(".git is not git's pointer file".into());
    }
    let Ok(text) = std::fs::read_to_string(&p) else {
        return DotGit::Stale;
    };
    let Some(target) = text.lines().find_map(|l| l.strip_prefix("gitdir:")) else {
        return DotGit::Stale;
    };
    let admin = absolute_from(dir, target.trim());
    let back = std::fs::read_to_string(admin.join("gitdir")).ok();
    let points_back = back.is_some_and(|b| {
        let b = absolute_from(&admin, b.trim());
        same_file(&b, &p)
    });
    if points_back {
        DotGit::Live
    } else {
        DotGit::Stale
    }
}

fn absolute_from(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        super::normalize(&base.join(p))
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The registration (`<common dir>/worktrees/<id>`) whose `gitdir` names `<path>/.git`.
pub fn admin_dir(common_dir: &Path, path: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(common_dir.join("worktrees")).ok()?;
    let want = super::normalize(&path.join(".git"));
    entries.flatten().map(|e| e.path()).find(|admin| {
        std::fs::read_to_string(admin.join("gitdir"))
            .is_ok_and(|g| super::normalize(Path::new(g.trim())) == want)
    })
}

/// Whether some process may still be creating the worktree at `path`: one working inside it
/// (the checkout `git worktree add` starts there) or naming it on its command line (`git
/// worktree add <path>`). Where there is no `/proc` to ask, a lock younger than an hour counts
/// as live.
pub fn creation_running(path: &Path, lock_file: Option<&Path>) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        let age = lock_file
            .and_then(|f| std::fs::metadata(f).ok())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok());
        return age.is_none_or(|a| a < std::time::Duration::from_secs(3600));
    };
    let me = std::process::id().to_string();
    let want = super::normalize(path);
    for p in procs.flatten() {
        let name = p.file_name();
        let name = name.to_string_lossy();
        if name == me || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cwd = std::fs::read_link(p.path().join("cwd")).ok();
        if cwd.as_ref().is_some_and(|c| c.starts_with(&want)) {
            return true;
        }
        let Ok(cmdline) = std::fs::read(p.path().join("cmdline")) else {
            continue;
        };
        let names_it = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .any(|a| {
                let a = Path::new(std::ffi::OsStr::from_bytes(a));
                let full = match (&cwd, a.is_absolute()) {
                    (_, true) => a.to_path_buf(),
                    (Some(c), false) => c.join(a),
                    (None, false) => return false,
                };
                super::normalize(&full) == want
            });
        if names_it {
            return true;
        }
    }
    false
}

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
pub enum Leftovers {
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
pub fn leftovers(root: &Path, dir: &Path, commits: &[String]) -> Result<Leftovers> {
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
pub fn remove_leftovers(root: &Path, dir: &Path, commit: Option<&str>) -> Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_entries_are_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(root)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(root.join("a"), "a\n").unwrap();
        git(&["add", "a"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "a",
        ]);
        let wt = root.join("wt");
        git(&[
            "worktree",
            "add",
            "-q",
            wt.to_str().unwrap(),
            "-b",
            "swarm/x",
        ]);
        git(&[
            "worktree",
            "lock",
            "--reason",
            "initializing",
            wt.to_str().unwrap(),
        ]);
        let list = worktrees(root).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].branch.as_deref(), Some("swarm/x"));
        assert_eq!(list[1].locked.as_deref(), Some("initializing"));
        assert_eq!(dot_git(&wt), DotGit::Live);
        let head = list[1].head.clone().unwrap();
        assert_eq!(
            leftovers(root, &wt, std::slice::from_ref(&head)).unwrap(),
            Leftovers::Checkout(head.clone())
        );
        std::fs::write(wt.join("notes"), "mine").unwrap();
        assert!(matches!(
            leftovers(root, &wt, std::slice::from_ref(&head)).unwrap(),
            Leftovers::Foreign(p, _) if p == "notes"
        ));
        let kept = remove_leftovers(root, &wt, Some(&head)).unwrap();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(wt.join("notes").exists() && !wt.join("a").exists());
    }
}
