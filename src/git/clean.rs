//! The clean-tree gate: is there anything a run could lose or mix up? Staged and modified
//! files always count; untracked files count unless the policy allows them; ignored files and
//! `.swarm/runs/` never count.

use gix::bstr::ByteSlice;

use crate::error::{Error, Result};

/// One reason the tree is not clean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dirt {
    pub kind: &'static str,
    pub path: String,
}

/// Stops after this many findings: the message needs a few examples, not all of them.
const ENOUGH: usize = 20;

/// The first findings that make the work tree of `repo` dirty (empty: clean).
pub(crate) fn dirt(repo: &gix::Repository, count_untracked: bool) -> Result<Vec<Dirt>> {
    // A sparse index (sparse worktrees) is read by neither walk in process: git says.
    let sparse = repo.index_or_empty().is_ok_and(|i| i.is_sparse());
    let fast = if sparse || std::env::var_os("GIT_SWARM_FULL_STATUS").is_some() {
        None
    } else {
        super::clean_fast::dirt(repo, count_untracked).map_err(|e| {
            Error::failure(format!(
                "could not compute the status of {}: {e}",
                repo.workdir()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ))
        })?
    };
    match fast {
        Some(mut d) => {
            d.sort_by(|a, b| a.path.cmp(&b.path));
            Ok(d)
        }
        None if sparse => by_git(repo, count_untracked),
        None => full(repo, count_untracked),
    }
}

/// `git status --porcelain -z`, for a work tree whose index is sparse.
fn by_git(repo: &gix::Repository, count_untracked: bool) -> Result<Vec<Dirt>> {
    let dir = repo
        .workdir()
        .ok_or_else(|| Error::failure("a bare repository has no work tree"))?;
    let untracked = if count_untracked { "-unormal" } else { "-uno" };
    let mut found = Vec::new();
    for (xy, path) in status_entries(dir, untracked)? {
        let (x, y) = (xy.as_bytes()[0], xy.as_bytes()[1]);
        let kind = match (x, y) {
            (b'?', b'?') => "untracked",
            (b'U', _) | (_, b'U') | (b'A', b'A') | (b'D', b'D') => "conflict",
            (_, b'D') => "deleted",
            (_, b'M') | (_, b'T') => "modified",
            _ => "staged",
        };
        let path = path.trim_end_matches('/').to_string();
        if ignorable(&path) {
            continue;
        }
        found.push(Dirt { kind, path });
        if found.len() >= ENOUGH {
            break;
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// `git status --porcelain=v1 -z --no-renames` of the work tree at `dir`: `(XY, path)` per
/// entry. `untracked`: git's `-u` option (`-uno`, `-unormal`, `-uall`).
pub(crate) fn status_entries(
    dir: &std::path::Path,
    untracked: &str,
) -> Result<Vec<(String, String)>> {
    let out = super::Git::new(dir)
        .args(["status", "--porcelain=v1", "-z", "--no-renames", untracked])
        .run()?;
    Ok(out
        .split('\0')
        .filter(|e| e.len() > 3)
        .map(|e| {
            let (xy, path) = e.split_at(3);
            (xy[..2].to_string(), path.to_string())
        })
        .collect())
}

/// The full gix status, for repositories the fast walk does not model.
fn full(repo: &gix::Repository, count_untracked: bool) -> Result<Vec<Dirt>> {
    use gix::status::UntrackedFiles;
    let fail = |e: &dyn std::fmt::Display| {
        Error::failure(format!(
            "could not compute the status of {}: {e}",
            repo.workdir()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ))
    };
    let platform = repo
        .status(gix::progress::Discard)
        .map_err(|e| fail(&e))?
        .untracked_files(if count_untracked {
            UntrackedFiles::Collapsed
        } else {
            UntrackedFiles::None
        })
        .index_worktree_rewrites(None)
        .index_worktree_submodules(gix::status::Submodule::AsConfigured { check_dirty: true });
    let iter = platform.into_iter(Vec::new()).map_err(|e| fail(&e))?;
    let mut out = Vec::new();
    for item in iter {
        let item = item.map_err(|e| fail(&e))?;
        let Some(d) = classify(&item) else { continue };
        if ignorable(&d.path) {
            continue;
        }
        out.push(d);
        if out.len() >= ENOUGH {
            break;
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn classify(item: &gix::status::Item) -> Option<Dirt> {
    use gix::status::Item;
    use gix::status::index_worktree::iter::Summary;
    match item {
        Item::TreeIndex(change) => Some(Dirt {
            kind: "staged",
            path: change.location().to_str_lossy().into_owned(),
        }),
        Item::IndexWorktree(change) => {
            let kind = match change.summary()? {
                Summary::Added => "untracked",
                Summary::Removed => "deleted",
                Summary::Modified | Summary::TypeChange => "modified",
                Summary::Renamed | Summary::Copied => "renamed",
                Summary::IntentToAdd => "intent-to-add",
                Summary::Conflict => "conflict",
            };
            Some(Dirt {
                kind,
                path: change.rela_path().to_str_lossy().into_owned(),
            })
        }
    }
}

/// `.swarm/runs/` is the tool's own state; it never makes the tree dirty, even before
/// `info/exclude` lists it.
fn ignorable(path: &str) -> bool {
    path == ".swarm/runs" || path.starts_with(".swarm/runs/")
}

/// A one-paragraph description of the findings for an error message.
pub(crate) fn describe(dirt: &[Dirt]) -> String {
    let mut lines: Vec<String> = dirt
        .iter()
        .take(10)
        .map(|d| format!("  {:<10} {}", d.kind, d.path))
        .collect();
    if dirt.len() > 10 {
        lines.push(format!("  … and more ({}+ in all)", dirt.len()));
    }
    lines.join("\n")
}
