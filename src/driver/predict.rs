//! Facts of a batch's merge: what merging each remaining worker would do, predicted with
//! `git merge-tree` on commits made of the content as it is (objects only: no worktree, index
//! or ref changes), and whether a merge-fix pass left conflict markers.

use std::path::Path;

use crate::error::Result;
use crate::git::{self, merge_tree};
use crate::machine::Predicted;
use crate::machine::state::RunStatus;
use crate::store::Session;

/// The content of a work location as a commit: HEAD itself when nothing is uncommitted.
fn content_commit(session: &Session, dir: &Path, extra_parent: Option<&str>) -> Result<String> {
    let (head, tree) = git::content_tree(dir)?;
    if extra_parent.is_none() && git::tree_of(dir, &head)? == tree {
        return Ok(head);
    }
    let mut parents = vec![head.as_str()];
    parents.extend(extra_parent);
    merge_tree::commit_of(&session.ws.root, &tree, &parents)
}

/// Each remaining worker's predicted merge, in order, up to the first that conflicts — for a
/// complete batch whose merge is next (`None` otherwise).
pub(super) fn batch(
    session: &Session,
    st: &RunStatus,
) -> Option<std::result::Result<Vec<(String, Predicted)>, String>> {
    let b = st
        .swarm
        .batch
        .as_ref()
        .filter(|b| b.complete && !b.merged)?;
    if !st.swarm.pending.is_empty() {
        return None;
    }
    let into = st.worktree_path.clone()?;
    Some(predict(session, b, Path::new(&into)).map_err(|e| e.full_message()))
}

fn predict(
    session: &Session,
    b: &crate::machine::state::Batch,
    into: &Path,
) -> Result<Vec<(String, Predicted)>> {
    let root = &session.ws.root;
    let resolved = b.conflict.as_ref().filter(|c| c.resolved);
    // Workers that changed no path in common (nor a file where another made a directory)
    // merge cleanly: nothing to predict, no process to run.
    let disjoint = b.workers.iter().enumerate().all(|(i, x)| {
        b.workers[i + 1..]
            .iter()
            .all(|y| !crate::machine::batch::overlap(&x.changed, &y.changed))
    });
    if disjoint && resolved.is_none() {
        return Ok(Vec::new());
    }
    // A resolved conflict's merge is concluded before the rest: its content, with both
    // parents, is where the rest merges into.
    let merge_head = match resolved {
        Some(_) if git::ops::merge_in_progress(into) => {
            Some(git::query::rev_parse(into, "MERGE_HEAD")?)
        }
        _ => None,
    };
    let mut cur = content_commit(session, into, merge_head.as_deref())?;
    let mut out = Vec::new();
    for w in &b.workers {
        if b.merged_workers.contains(&w.worker)
            || resolved.is_some_and(|c| c.worker == w.worker)
            || Path::new(&w.path) == into
        {
            continue;
        }
        let wt = Path::new(&w.path);
        let theirs = if wt.join(".git").is_file() {
            content_commit(session, wt, None)?
        } else {
            match git::query::rev_parse(root, &format!("refs/heads/{}", w.branch)) {
                Ok(c) => c,
                // Merged and deleted by a merge an interruption cut off: nothing to predict.
                Err(_) => continue,
            }
        };
        if git::ops::is_ancestor(root, &theirs, &cur)? {
            continue;
        }
        let p = merge_tree::predict(root, &cur, &theirs)?;
        let conflicted = !p.conflicts.is_empty();
        if !conflicted {
            cur = merge_tree::commit_of(root, &p.tree, &[&cur, &theirs])?;
        }
        out.push((
            w.worker.clone(),
            Predicted {
                tree: p.tree,
                conflicts: p.conflicts,
            },
        ));
        if conflicted {
            break;
        }
    }
    Ok(out)
}

/// The files of the batch's unresolved conflict that still hold markers in the run's worktree.
pub(super) fn markers(st: &RunStatus) -> Vec<String> {
    let (Some(c), Some(into)) = (
        st.swarm
            .batch
            .as_ref()
            .and_then(|b| b.conflict.as_ref())
            .filter(|c| !c.resolved),
        st.worktree_path.as_deref(),
    ) else {
        return Vec::new();
    };
    merge_tree::with_markers(Path::new(into), &c.files)
}
