//! Worktrees at the level of intent: what state one is in after any interruption, and adding
//! and removing them so that a half-made or half-removed one is finished or undone — never
//! adopted as complete.
//!
//! A `git worktree add` killed mid-way leaves a registration marked `locked initializing`, a
//! directory with only `.git` or a partial checkout with no index; a killed `worktree remove`
//! leaves a registration whose directory has lost its `.git` file. [`inspect`] tells these
//! apart from a complete worktree and from one that is not the caller's.

use std::path::{Path, PathBuf};

use super::{Git, read_gitfile};
use crate::error::{Error, Result};

/// One entry of `git worktree list --porcelain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub path: PathBuf,
    pub head: Option<String>,
    /// `refs/heads/<branch>`, shortened to `<branch>`.
    pub branch: Option<String>,
    /// `Some(reason)` when locked (`initializing` while `worktree add` runs).
    pub locked: Option<String>,
    pub prunable: bool,
}

/// Every worktree git knows of the repository at `root`.
pub(crate) fn list(root: &Path) -> Result<Vec<Entry>> {
    let out = Git::new(root)
        .args(["worktree", "list", "--porcelain"])
        .run()?;
    let mut all = Vec::new();
    let mut cur: Option<Entry> = None;
    for line in out.lines() {
        if let Some(p) = line.strip_prefix("worktree ") {
            all.extend(cur.take());
            cur = Some(Entry {
                path: PathBuf::from(p),
                ..Entry::default()
            });
        } else if let Some(e) = cur.as_mut() {
            if let Some(h) = line.strip_prefix("HEAD ") {
                e.head = Some(h.to_string());
            } else if let Some(b) = line.strip_prefix("branch refs/heads/") {
                e.branch = Some(b.to_string());
            } else if line == "locked" {
                e.locked = Some(String::new());
            } else if let Some(r) = line.strip_prefix("locked ") {
                e.locked = Some(r.to_string());
            } else if line.starts_with("prunable") {
                e.prunable = true;
            }
        }
    }
    all.extend(cur);
    Ok(all)
}

fn same(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The state of the place where a worktree on `branch` should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// Nothing there, and git knows no worktree there.
    Absent,
    /// A complete worktree on `branch`: registered, not being created, with an index.
    Complete,
    /// A worktree on `branch` whose creation or removal was cut short (the reason says how);
    /// only its owner may finish or undo it.
    HalfMade(String),
    /// Something else is there (another branch, a directory git does not know, files): never
    /// touched.
    Foreign(String),
}

/// What is at `path`, for a worktree on `branch`.
pub(crate) fn inspect(root: &Path, path: &Path, branch: &str) -> Result<State> {
    let entries = list(root)?;
    let entry = entries.iter().find(|e| same(&e.path, path));
    if !path.exists() {
        return Ok(match entry {
            Some(_) => State::HalfMade(format!(
                "git still lists a worktree at {} whose directory is gone",
                path.display()
            )),
            None => State::Absent,
        });
    }
    let Some(e) = entry else {
        return Ok(if leftover_directory(path) {
            State::HalfMade(format!(
                "{} holds nothing but a .git file of a worktree git no longer knows",
                path.display()
            ))
        } else {
            State::Foreign(format!(
                "{} exists and is not a worktree of this repository",
                path.display()
            ))
        });
    };
    // `worktree add` registers the worktree on a detached HEAD, locked, and points HEAD at the
    // branch later: killed in between, it is a half-made worktree, not another branch's.
    if e.branch.is_none() && e.locked.as_deref() == Some("initializing") {
        return Ok(State::HalfMade(format!(
            "the creation of {} was interrupted (git marks it 'locked initializing', its HEAD not yet on {branch})",
            path.display()
        )));
    }
    if e.branch.as_deref() != Some(branch) {
        return Ok(State::Foreign(format!(
            "{} is a worktree on {}, not on {branch}",
            path.display(),
            e.branch.as_deref().unwrap_or("a detached HEAD")
        )));
    }
    if e.locked.as_deref() == Some("initializing") {
        return Ok(State::HalfMade(format!(
            "the creation of {} was interrupted (git marks it 'locked initializing')",
            path.display()
        )));
    }
    let gitfile = path.join(".git");
    let Ok(admin) = read_gitfile(&gitfile) else {
        return Ok(State::HalfMade(format!(
            "{} has lost its .git file (an interrupted removal)",
            path.display()
        )));
    };
    if !admin.join("index").is_file() {
        return Ok(State::HalfMade(format!(
            "{} has no index: its checkout was interrupted",
            path.display()
        )));
    }
    Ok(State::Complete)
}

/// Is `path` empty, or does it hold only a `.git` file (what an interrupted `worktree add`
/// leaves once git forgot the registration)?
fn leftover_directory(path: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(path) else {
        return false;
    };
    let names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
    names.is_empty()
        || (names.len() == 1
            && names[0] == ".git"
            && std::fs::symlink_metadata(path.join(".git")).is_ok_and(|m| m.is_file()))
}

/// Undoes a half-made worktree of the caller's: unlocks and unregisters it and removes its
/// directory (whose content is only git's interrupted checkout, or what was left of a removal
/// the caller had decided). The branch stays.
pub(crate) fn undo_half_made(root: &Path, common_dir: &Path, path: &Path) -> Result<()> {
    let _ = Git::new(root)
        .args(["worktree", "unlock"])
        .arg_path(path)
        .run();
    let _ = Git::new(root)
        .args(["worktree", "remove", "--force", "--force"])
        .arg_path(path)
        .run();
    if path.exists() {
        std::fs::remove_dir_all(path).map_err(|e| {
            Error::failure(format!(
                "could not remove the half-made worktree {}: {e}",
                path.display()
            ))
            .hint(format!(
                "remove {} by hand, then run the command again",
                path.display()
            ))
        })?;
    }
    // A record git had not finished (no `gitdir` yet) is invisible to the commands above.
    forget_unfinished_records(common_dir, path)?;
    prune(root)
}

/// The records under `.git/worktrees` that a `git worktree add` of `path` killed before it
/// wrote their `gitdir` leaves: named after the path's last component (with git's number
/// when taken), holding git's `initializing` lock and no `gitdir` — invisible to `git worktree
/// list`, and never pruned by git since locked. Removed when no process is creating `path`;
/// returns them. Call only for a creation of `path` the caller recorded and found cut short.
pub(crate) fn forget_unfinished_records(common_dir: &Path, path: &Path) -> Result<Vec<PathBuf>> {
    let Some(base) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(Vec::new());
    };
    let Ok(entries) = std::fs::read_dir(common_dir.join("worktrees")) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name
            .strip_prefix(base.as_str())
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()));
        let dir = e.path();
        let unfinished = e.file_type().is_ok_and(|t| t.is_dir())
            && std::fs::symlink_metadata(dir.join("gitdir")).is_err()
            && std::fs::read_to_string(dir.join("locked"))
                .is_ok_and(|l| l.trim() == "initializing");
        if ours && unfinished {
            found.push(dir);
        }
    }
    if found.is_empty() {
        return Ok(found);
    }
    // The processes of the creation that was cut short may take a moment to be gone (killed,
    // not yet reaped); one still at work after that is someone's.
    let mut waited = 0;
    while super::gc_ops::creation_running(path, None) {
        if waited == 20 {
            let names: Vec<String> = found.iter().map(|d| d.display().to_string()).collect();
            return Err(Error::failure(format!(
                "a process is still creating the worktree {}, whose record git had not finished ({})",
                path.display(),
                names.join(", ")
            ))
            .hint(format!(
                "if no 'git worktree add' of {} is running, remove {} and run the command again",
                path.display(),
                names.join(" and ")
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    for dir in &found {
        std::fs::remove_dir_all(dir).map_err(|e| {
            Error::failure(format!(
                "could not remove {}, left by a 'git worktree add' of {} that was cut short: {e}",
                dir.display(),
                path.display()
            ))
            .hint(format!(
                "remove {} by hand, then run the command again",
                dir.display()
            ))
        })?;
    }
    Ok(found)
}

/// `git worktree prune`: forgets registrations whose directories are gone.
pub(crate) fn prune(root: &Path) -> Result<()> {
    Git::new(root).args(["worktree", "prune"]).run().map(|_| ())
}

/// Creates the worktree `path` on `branch`: a new branch from `base`, or the existing branch
/// (a creation that died after git made the branch).
pub(crate) fn add(
    root: &Path,
    path: &Path,
    branch: &str,
    base: &str,
    branch_exists: bool,
    sparse: Option<&[String]>,
) -> Result<()> {
    crate::failpoint!("worktree-add-before");
    // Parallel checkout (git ≥ 2.32; older versions ignore the setting): workers' worktrees
    // are created while agents wait.
    let mut git = Git::new(root).args(["-c", "checkout.workers=0", "worktree", "add", "--quiet"]);
    if sparse.is_some() {
        // Checked out below, once the cone is set: only its directories are written.
        git = git.args(["--no-checkout"]);
    }
    let git = git.arg_path(path);
    if branch_exists {
        git.args([branch]).run()?;
    } else {
        git.args(["-b", branch, base]).run()?;
    }
    if let Some(dirs) = sparse {
        // Until the checkout below the worktree has no index: an interruption here leaves a
        // half-made worktree (see `inspect`), undone and made again.
        set_cone(path, dirs)?;
        crate::failpoint!("worktree-sparse-before-checkout");
        Git::new(path)
            .args(["-c", "checkout.workers=0", "read-tree", "-mu", "HEAD"])
            .run()?;
    }
    crate::failpoint!("worktree-add-after");
    Ok(())
}

/// Creates a spare worktree at `path` on a detached HEAD at `commit` (no branch).
pub(crate) fn add_detached(root: &Path, path: &Path, commit: &str) -> Result<()> {
    crate::failpoint!("spare-add-before");
    Git::new(root)
        .args([
            "-c",
            "checkout.workers=0",
            "worktree",
            "add",
            "--quiet",
            "--detach",
        ])
        .arg_path(path)
        .args([commit])
        .run()?;
    crate::failpoint!("spare-add-after");
    Ok(())
}

/// Makes the spare worktree at `from`, checked out at `commit`, the worktree `to` on a new
/// `branch` from `base`: `git worktree move`, then — when `base` is the spare's commit — the
/// branch made there and HEAD pointed at it (nothing to check out), else `git checkout -b`
/// (which writes only the files in which `base` differs).
pub(crate) fn adopt_spare(
    root: &Path,
    from: &Path,
    commit: &str,
    to: &Path,
    branch: &str,
    base: &str,
) -> Result<()> {
    Git::new(root)
        .args(["worktree", "move"])
        .arg_path(from)
        .arg_path(to)
        .run()?;
    crate::failpoint!("spare-moved");
    if super::resolve(root, base).ok().as_deref() == Some(commit) {
        Git::new(root)
            .args(["branch", "--no-track", branch, commit])
            .run()?;
        Git::new(to)
            .args([
                "symbolic-ref",
                "-m",
                &format!("checkout: moving from {commit} to {branch}"),
                "HEAD",
                &format!("refs/heads/{branch}"),
            ])
            .run()?;
    } else {
        Git::new(to)
            .args([
                "-c",
                "checkout.workers=0",
                "checkout",
                "-q",
                "-b",
                branch,
                base,
            ])
            .run()?;
    }
    crate::failpoint!("spare-adopted");
    Ok(())
}

/// Sets the cone of the sparse worktree at `path` (directories, relative to its root; the
/// root's own files are always there). Read on stdin: a directory is never taken for an option.
pub(crate) fn set_cone(path: &Path, dirs: &[String]) -> Result<()> {
    let mut list = String::new();
    for d in dirs {
        list.push_str(d);
        list.push('\n');
    }
    Git::new(path)
        .args([
            "sparse-checkout",
            "set",
            "--cone",
            "--sparse-index",
            "--stdin",
        ])
        .input(list.into_bytes())
        .run()
        .map(|_| ())
}

/// Widens the cone of the sparse worktree at `path` by `dirs` (checked out at once).
pub(crate) fn widen(path: &Path, dirs: &[String]) -> Result<()> {
    let mut list = String::new();
    for d in dirs {
        list.push_str(d);
        list.push('\n');
    }
    Git::new(path)
        .args(["sparse-checkout", "add", "--stdin"])
        .input(list.into_bytes())
        .run()
        .map(|_| ())
}

/// Is `path` a whole worktree: registered in place, with an index, not locked (what
/// `git worktree add` leaves once it finished)?
pub(crate) fn is_whole(path: &Path) -> bool {
    registered_in_place(path)
        && read_gitfile(&path.join(".git"))
            .is_ok_and(|admin| admin.join("index").is_file() && !admin.join("locked").exists())
}

/// Is `path` a worktree whose `.git` file names an admin folder whose `gitdir` names this
/// `.git` file back (what git writes for a registered worktree)?
fn registered_in_place(path: &Path) -> bool {
    let dotgit = path.join(".git");
    let Ok(admin) = read_gitfile(&dotgit) else {
        return false;
    };
    let Ok(back) = std::fs::read_to_string(admin.join("gitdir")) else {
        return false;
    };
    same(Path::new(back.trim()), &dotgit)
}

/// Removes the worktree at `path`, finishing a removal that was cut short (its directory has
/// lost `.git`, or git no longer lists it). `force`: also when it holds changes (the caller
/// decided they are committed elsewhere or not wanted).
pub(crate) fn remove(root: &Path, path: &Path, force: bool) -> Result<()> {
    crate::failpoint!("worktree-remove-before");
    // A whole worktree is known by its `.git` file and the admin folder pointing back at it;
    // only anything less needs git's list.
    let whole = registered_in_place(path);
    let listed = whole || list(root)?.iter().any(|e| same(&e.path, path));
    if listed && path.join(".git").is_file() {
        let mut g = Git::new(root).args(["worktree", "remove"]);
        if force {
            g = g.args(["--force"]);
        }
        match g.arg_path(path).run() {
            Ok(_) => {}
            // Locked by an interrupted creation of the caller's: unlock, then remove.
            Err(e) if path.exists() && force => {
                let _ = Git::new(root)
                    .args(["worktree", "unlock"])
                    .arg_path(path)
                    .run();
                Git::new(root)
                    .args(["worktree", "remove", "--force", "--force"])
                    .arg_path(path)
                    .run()
                    .map_err(|_| e)?;
            }
            Err(e) => return Err(e),
        }
        if whole {
            // git removed its own record with the worktree: nothing is left to prune.
            crate::failpoint!("worktree-remove-after");
            return Ok(());
        }
    } else if path.exists() && (listed || leftover_directory(path)) {
        // A removal killed half-way: git deleted `.git` and some files but still lists the
        // worktree (or left only its `.git` file); the removal was decided before it began,
        // so what is left is finished off.
        std::fs::remove_dir_all(path).map_err(|e| {
            Error::failure(format!("could not finish removing {}: {e}", path.display())).hint(
                format!(
                    "remove {} by hand, then run the command again",
                    path.display()
                ),
            )
        })?;
    } else if path.exists() {
        return Err(Error::failure(format!(
            "{} is not a worktree of this repository; git swarm does not remove it",
            path.display()
        ))
        .hint(format!(
            "look at what {} holds; remove it yourself if it is not needed, then run the command again",
            path.display()
        )));
    }
    prune(root)?;
    crate::failpoint!("worktree-remove-after");
    Ok(())
}
