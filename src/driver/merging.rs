//! Merging a finished batch's workers into the run's worktree, and starting the merge a
//! conflict-fixing pass works in — each git step recorded in the run's ledger before it starts.

use std::path::Path;

use super::Session;
use super::effects::{git_step, remove_worktree};
use crate::error::{Error, Result};
use crate::git;
use crate::store::RunDir;
use crate::store::ledger::Stage;

/// A merge in progress in the run's worktree that this run's conflict merge started (its
/// `MERGE_HEAD` is the tip of a worker branch the run's ledger records) and whose hand-off an
/// interruption cut off: it is the run's own, to be made again.
fn own_conflict_merge(session: &Session, run: &RunDir, into: &Path) -> Option<String> {
    let head = git::query::rev_parse(into, "MERGE_HEAD").ok()?;
    let ledger = run.ledger().ok()?;
    ledger
        .owned
        .iter()
        .filter(|o| o.worker.is_some())
        .find_map(|o| {
            let tip = git::query::rev_parse(&session.ws.root, &format!("refs/heads/{}", o.branch));
            (tip.ok().as_deref() == Some(head.as_str()))
                .then(|| format!("merge {} leaving its conflicts", o.branch))
        })
}

/// How the ledger names the conflict merge of `branch` into `into`.
fn conflict_merge_step(branch: &str, into: &Path) -> String {
    format!(
        "merge {branch} into {} leaving its conflicts",
        into.display()
    )
}

/// A conflict merge (`git merge` leaving its conflicts) killed before git wrote `MERGE_HEAD`
/// leaves merged files — conflict markers too — in the run's worktree with no merge in
/// progress: no commit may take them in as a worker's leftovers. They are checked to be that
/// merge's own (`git::merge_batch::undo_cut_short`) and put back first; the merge is then made
/// again as if it never started.
fn undo_cut_short_conflict_merge(session: &Session, run: &RunDir, into: &Path) -> Result<()> {
    let ledger = run.ledger()?;
    let Some(op) = ledger.op.clone() else {
        return Ok(());
    };
    if git::ops::merge_in_progress(into) {
        return Ok(());
    }
    let Some(branch) = ledger
        .owned
        .iter()
        .filter(|o| o.worker.is_some())
        .map(|o| o.branch.as_str())
        .find(|b| conflict_merge_step(b, into) == op.what)
    else {
        return Ok(());
    };
    let undone = git_step(
        session,
        run,
        &format!(
            "undo the interrupted merge of {branch} in {}",
            into.display()
        ),
        || git::merge_batch::undo_cut_short(into, branch),
    );
    // Refused (someone's change is there): the merge stays recorded as cut short, so that the
    // next call checks again before anything takes its files in.
    let undone = match undone {
        Ok(u) => u,
        Err(e) => {
            let mut l = run.ledger()?;
            l.op = Some(op);
            run.save_ledger(&l)?;
            return Err(e);
        }
    };
    if !undone.is_empty() {
        crate::cli::style::note(format!(
            "put back {} in {} as they were before the merge of {branch} that was interrupted, to make it again",
            undone.join(", "),
            into.display()
        ));
    }
    Ok(())
}

/// Starts merging a worker's branch into the run's worktree, leaving its conflicts in the
/// files for the merge-fix pass (its leftovers are committed first). A merge of that branch
/// already in progress (the transition was cut off after it) is undone and made again.
pub(super) fn merge_conflicting(
    session: &Session,
    run: &RunDir,
    into: &Path,
    worker: &(String, String, String),
) -> Result<()> {
    let (message, branch, path) = worker;
    undo_cut_short_conflict_merge(session, run, into)?;
    if git::ops::merge_in_progress(into) {
        if own_conflict_merge(session, run, into).is_none() {
            return Err(foreign_merge(
                into,
                run,
                &format!("that run {} did not start", run.id),
            ));
        }
        git_step(
            session,
            run,
            &format!("undo the interrupted merge in {}", into.display()),
            || git::ops::merge_abort(into),
        )?;
    }
    let wt = Path::new(path);
    if wt.join(".git").is_file() {
        git_step(session, run, &format!("commit leftovers in {path}"), || {
            git::ops::commit_all(wt, message)
        })?;
    }
    let subject = format!("Merge {}", message.lines().next().unwrap_or_default());
    git_step(session, run, &conflict_merge_step(branch, into), || {
        git::merge_tree::merge_leaving_conflicts(into, branch, &subject).map(drop)
    })
}

/// Merges a finished batch: each worker's leftovers are committed on its branch, its branch is
/// merged into the run's worktree (all at once when they merge cleanly: `git::merge_batch`),
/// then its worktree and branch are removed. Every step is
/// skipped when already done, and each git step is recorded before it starts, so a crash in the
/// middle — the tool and its git killed together — is finished by running it again: a merge
/// the killed git left half made is undone and made again, a half-removed worktree finished.
/// Only workers the run's ledger records as its own are touched.
pub(super) fn merge_workers(
    session: &Session,
    run: &RunDir,
    into: &Path,
    workers: &[(String, String, String)],
) -> Result<()> {
    let root = &session.ws.root;
    undo_cut_short_conflict_merge(session, run, into)?;
    // A merge in progress in the run's worktree is one this run's killed git left (the ledger
    // still records an operation of the run's) — undone before anything else touches the
    // worktree, so that no commit ever takes a half-made merge in — or it is someone's own:
    // the command stops.
    if git::ops::merge_in_progress(into) {
        let own = own_conflict_merge(session, run, into);
        let Some(op) = run.ledger()?.op.map(|o| o.what).or(own) else {
            return Err(foreign_merge(
                into,
                run,
                &format!(
                    "that no interrupted step of run {} left (a conflict, or someone's own merge)",
                    run.id
                ),
            ));
        };
        crate::cli::style::note(format!(
            "undoing the merge in {} that was interrupted ('{}'), to make it again",
            into.display(),
            op
        ));
        git_step(
            session,
            run,
            &format!("undo the interrupted merge in {}", into.display()),
            || git::ops::merge_abort(into),
        )?;
    }
    // A batch merge cut short (its checkout killed half-way, its branch not yet moved) is
    // finished before anything else looks at the run's worktree: what is changed there is that
    // checkout's, never a worker's leftovers. The workers' own leftovers were committed before
    // it started.
    if run
        .ledger()?
        .op
        .is_some_and(|o| o.what.starts_with(BATCH_MERGE))
    {
        let merges = merges_of(session, into, workers)?;
        git_step(
            session,
            run,
            &format!(
                "{BATCH_MERGE} finishing the one cut short in {}",
                into.display()
            ),
            || git::merge_batch::merge_all(into, &merges, true),
        )?;
    }
    // First each worker's leftovers are committed (and removals cut short finished); then the
    // branches are merged, all at once when they merge cleanly.
    let mut to_merge: Vec<(String, String, String)> = Vec::new();
    for (message, branch, path) in workers {
        let wt = Path::new(path);
        if wt == into {
            // The worker that worked in the run's worktree: its work only needs committing.
            git_step(session, run, &format!("commit leftovers in {path}"), || {
                git::ops::commit_all(wt, message)
            })?;
            continue;
        }
        let ledger = run.ledger()?;
        if ledger.find(path, branch).is_none() {
            return Err(Error::failure(format!(
                "worker worktree {path} on {branch} is not recorded as run {}'s, so git swarm does not merge or remove it",
                run.id
            ))
            .hint(format!(
                "look at {path} and {branch}: merge the work by hand if it is this run's, then run 'git swarm next --run {}'",
                run.id
            )));
        }
        match ledger.stage_of(path) {
            // Merged, and its removal decided (perhaps cut short): only the removal is left.
            Some(Stage::Removing) => {
                remove_worktree(session, run, wt, true)?;
                git_step(session, run, &format!("branch -D {branch}"), || {
                    git::ops::delete_branch(root, branch)
                })?;
                continue;
            }
            Some(Stage::Removed) => {
                git_step(session, run, &format!("branch -D {branch}"), || {
                    git::ops::delete_branch(root, branch)
                })?;
                continue;
            }
            _ => {}
        }
        if wt.join(".git").is_file() {
            git_step(session, run, &format!("commit leftovers in {path}"), || {
                git::ops::commit_all(wt, message)
            })?;
        }
        to_merge.push((message.clone(), branch.clone(), path.clone()));
    }
    if to_merge.is_empty() {
        return Ok(());
    }
    let merges = merges_of(session, into, &to_merge)?;
    let names: Vec<&str> = merges.iter().map(|(b, _)| b.as_str()).collect();
    let at_once = git_step(
        session,
        run,
        &format!("{BATCH_MERGE} {} into {}", names.join(", "), into.display()),
        || git::merge_batch::merge_all(into, &merges, false),
    )?;
    for (branch, subject) in merges.iter().filter(|_| !at_once) {
        git_step(session, run, &format!("merge {branch} into {}", into.display()), || {
            git::ops::merge(into, branch, subject)
        })
        .map_err(|e| {
            e.hint(format!(
                "resolve the merge in {} by hand (or 'git merge --abort'), then run 'git swarm next'",
                into.display()
            ))
        })?;
    }
    // Merged: their removal is decided (the stage `Removing` says the merge is done) and
    // carried out by `finish_removals` — after the next agents are launched in exec mode, at
    // the end of the command otherwise — or by the next call after a kill.
    let mut l = run.ledger()?;
    for (_, _, path) in &to_merge {
        l.mark(path, Stage::Removing);
    }
    run.save_ledger(&l)
}

/// How the ledger names a batch merge in flight (a cut-short one is recognised by it).
const BATCH_MERGE: &str = "merge the batch:";

/// `(branch, merge message)` of the workers whose branches exist (the worker in the run's own
/// worktree has none of its own to merge).
fn merges_of(
    session: &Session,
    into: &Path,
    workers: &[(String, String, String)],
) -> Result<Vec<(String, String)>> {
    let repo = session.repo()?;
    Ok(workers
        .iter()
        .filter(|(_, branch, path)| Path::new(path) != into && git::branch_exists(&repo, branch))
        .map(|(message, branch, _)| {
            let subject = format!("Merge {}", message.lines().next().unwrap_or_default());
            (branch.clone(), subject)
        })
        .collect())
}

/// A merge in progress in the run's worktree that is not the run's: the command stops.
fn foreign_merge(into: &Path, run: &RunDir, whose: &str) -> Error {
    Error::failure(format!(
        "a merge is in progress in {} {whose}",
        into.display()
    ))
    .hint(format!(
        "finish or abort that merge in {} ('git merge --abort'), then run 'git swarm next --run {}'",
        into.display(),
        run.id
    ))
}
