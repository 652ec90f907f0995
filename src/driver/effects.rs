//! Performing a transition's effects in the crash-safe order, and the git steps they take —
//! each recorded in the run's ledger before it starts.

use std::path::Path;

use crate::error::{Error, Result};
use crate::files::atomic;
use crate::git::{self, worktree::State};
use crate::machine::{Effect, Transition};
use crate::store::ledger::{self, Stage};
use crate::store::{RunDir, events};

use super::{Session, place};
use crate::store::now;

/// Performs a transition: effects in order, then the events, then the status. A crash at any
/// point leaves files that the next invocation completes (see `present_results`).
pub fn apply(session: &Session, run: &RunDir, t: &Transition) -> Result<()> {
    // Agents write in the run folder while a step runs: its folders are checked again right
    // before the tool writes in them.
    run.check_folders()?;
    // The run's state in git must be the one this folder recorded last: a run that advanced
    // elsewhere is not advanced here (nothing changes).
    let repo = session.repo()?;
    crate::trace::mark("state: expected start");
    let expected = crate::store::state_ref::expected(&repo, run)?;
    crate::trace::mark("state: expected");
    let message = format!(
        "step {} ({}): {}",
        t.status.swarm.step,
        t.status.swarm.seq,
        t.events
            .iter()
            .map(|e| e.signal.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    // A run whose state lives on a remote claims the step there first: of two machines
    // advancing the same state, the one whose claim does not land changes nothing.
    let expected =
        crate::store::state_remote::claim(&repo, &session.ws.root, run, expected, &message)?
            .or(expected);
    crate::store::remove_torn_temp_files(run);
    let active = t.status.outcome.is_in_progress();
    if active {
        session.swarm.set_active(&run.id, true)?;
    }
    atomic::create_dir_all(&run.archive_dir())?;
    super::spares::adopt_all(session, run, &t.effects)?;
    for e in &t.effects {
        perform(session, run, e)?;
    }
    crate::trace::mark("apply: effects performed");
    // The effects changed git: content trees are computed afresh from here.
    session.snapshot().clear_trees();
    events::append(&run.events_path(), &t.events)?;
    run.write_status(&t.status)?;
    crate::store::manager_plan::write(run, &t.status)?;
    // The run folder as it is now, recorded in git (`refs/swarm/runs/<id>`).
    crate::store::state_ref::record(&repo, run, &message, expected)?;
    if let Some(mut b) = crate::store::state_remote::backing(run) {
        crate::store::state_remote::push_pending(&repo, &session.ws.root, run, &mut b)?;
    }
    if !active {
        session.swarm.set_active(&run.id, false)?;
    }
    Ok(())
}

fn perform(session: &Session, run: &RunDir, e: &Effect) -> Result<()> {
    match e {
        Effect::Move { from, to } => {
            if from.exists() {
                atomic::rename(from, to)?;
            }
        }
        Effect::Sweep { from, to } => {
            if from.exists() {
                atomic::rename(from, to)?;
            }
        }
        Effect::Copy { from, to } => {
            // The source (the accepted plan) is in a folder agents write in: read it as a
            // regular file only, so a FIFO swapped in cannot block the transition.
            let bytes = crate::files::safe::read_regular(from, None)?;
            atomic::write(to, &bytes)?;
        }
        Effect::WriteJson { path, value } => atomic::write_json(path, value)?,
        Effect::WriteText { path, text } => atomic::write(path, text.as_bytes())?,
        Effect::CreateWorktree {
            branch,
            path,
            base,
            worker,
            sparse,
            ..
        } => create_worktree(
            session,
            run,
            Path::new(path),
            branch,
            base,
            worker.as_deref(),
            sparse.as_deref(),
        )?,
        Effect::WidenSparse { path, dirs } => {
            let p = Path::new(path);
            git_step(
                session,
                run,
                &format!("widen the sparse worktree {path} by {}", dirs.join(", ")),
                || git::worktree::widen(p, dirs),
            )?;
        }
        Effect::MergeWorkers { into, workers } => {
            super::merging::merge_workers(session, run, Path::new(into), workers)?
        }
        Effect::RemoveWorktree { path } => remove_worktree(session, run, Path::new(path), false)?,
        Effect::MergeConflicting { into, worker } => {
            super::merging::merge_conflicting(session, run, Path::new(into), worker)?
        }
        Effect::ConcludeMerge { into } => {
            let into = Path::new(into);
            git_step(
                session,
                run,
                &format!("conclude the resolved merge in {}", into.display()),
                || git::merge_tree::conclude(into).map(drop),
            )?;
        }
    }
    Ok(())
}

/// Removes a worktree of the run's whose removal was decided. The decision is recorded first
/// (stage `Removing`): a removal cut short — git killed half-way, the directory losing files
/// and perhaps its `.git` — is finished on the next call, with force, since what the
/// directory lost was judged expendable before git started. `force`: remove even with
/// changes (the caller decided they are committed elsewhere or not wanted).
pub fn remove_worktree(session: &Session, run: &RunDir, p: &Path, force: bool) -> Result<()> {
    let path = p.display().to_string();
    let mut l = run.ledger()?;
    let before = l.stage_of(&path);
    let resumed = before == Some(Stage::Removing);
    l.mark(&path, Stage::Removing);
    run.save_ledger(&l)?;
    if let Err(e) = git_step(session, run, &format!("worktree remove {path}"), || {
        git::worktree::remove(&session.ws.root, p, force || resumed)
    }) {
        // git refused (a lock, changes) and said so: nothing was removed, and the next call
        // judges the worktree afresh.
        if let Some(stage) = before.filter(|_| !resumed) {
            let mut l = run.ledger()?;
            l.mark(&path, stage);
            run.save_ledger(&l)?;
        }
        return Err(e);
    }
    let mut l = run.ledger()?;
    l.mark(&path, Stage::Removed);
    run.save_ledger(&l)
}

/// Has the run decided to remove its worktree at `path` and been cut short doing it?
pub fn removal_cut_short(run: &RunDir, path: &Path) -> Result<bool> {
    Ok(run.ledger()?.stage_of(&path.display().to_string()) == Some(Stage::Removing))
}

/// Runs one git operation of the run's, recorded in its ledger before it starts. When the
/// record of an earlier one is still there, that one was cut short (the tool and its git were
/// killed): the lock files its git left — no process has them open — are removed first, with
/// a note.
pub fn git_step<T>(
    session: &Session,
    run: &RunDir,
    what: &str,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let mut l = run.ledger()?;
    if let Some(prev) = l.op.take() {
        for lock in git::locks::remove_stale(&session.ws.common_dir) {
            crate::cli::style::note(format!(
                "removed {}, left by git when '{}' of run {} was interrupted",
                lock.display(),
                prev.what,
                run.id
            ));
        }
    }
    l.op = Some(ledger::Op {
        what: what.to_string(),
        pid: std::process::id(),
        at: now(),
    });
    run.save_ledger(&l)?;
    let out = f();
    // git ran to its end (success or a reported failure): it released its locks.
    let mut l = run.ledger()?;
    l.op = None;
    run.save_ledger(&l)?;
    out
}

/// Creates the worktree `path` on `branch` (from `base`) for the run or one of its workers —
/// recorded in the run's ledger before git starts, so that after any interruption the next
/// attempt finds it its own: a complete one is kept, a half-made one (git killed during
/// `worktree add`) is undone and made again. Nothing the run did not record is adopted: a
/// worktree, branch or directory of someone else's stops the command, naming what to remove.
pub(crate) fn create_worktree(
    session: &Session,
    run: &RunDir,
    p: &Path,
    branch: &str,
    base: &str,
    worker: Option<&str>,
    sparse: Option<&[String]>,
) -> Result<()> {
    let root = &session.ws.root;
    let path = p.display().to_string();
    let mut ledger = run.ledger()?;
    // Runs that recorded only `worktree.json` (before the ledger existed) own that place.
    if worker.is_none()
        && ledger.find(&path, branch).is_none()
        && let Ok(intent) = crate::files::read_json(&run.worktree_intent_path())
        && intent.get("branch").and_then(serde_json::Value::as_str) == Some(branch)
        && intent.get("path").and_then(serde_json::Value::as_str) == Some(path.as_str())
    {
        ledger.set(ledger::Owned {
            path: path.clone(),
            branch: branch.to_string(),
            worker: None,
            base: base.to_string(),
            stage: Stage::Creating,
        });
    }
    // A spare's use cut short (`spares::adopt`): undone, then the worktree is made anew.
    if super::spares::undo_use(session, run, &path)? {
        ledger = run.ledger()?;
    }
    let owned = ledger.find(&path, branch).is_some();
    let foreign = |why: String| {
        Error::failure(format!(
            "{why}; run {} did not create it, so git swarm leaves it alone",
            run.id
        ))
        .hint(format!(
            "if it is not needed, remove it ('git worktree remove --force {path}', or delete the directory), then run 'git swarm next --run {}'",
            run.id
        ))
    };
    // Nothing at the place and nothing of the run's recorded there: absent, without asking
    // git for its list (a registration of someone else's there makes git refuse below).
    let made = ledger
        .find(&path, branch)
        .is_some_and(|o| o.stage == Stage::Created);
    let state = if !owned && std::fs::symlink_metadata(p).is_err() {
        State::Absent
    } else if made
        && git::worktree::is_whole(p)
        && git::worktree_branch(p).as_deref() == Some(branch)
    {
        // Made whole by the run (a spare taken before the effects): nothing to ask git.
        State::Complete
    } else {
        git::worktree::inspect(root, p, branch)?
    };
    match state {
        State::Complete if owned => {
            mark(run, &path, Stage::Created)?;
            return crate::agents::worktree_setup::prepare(session, run, p);
        }
        State::Complete => {
            return Err(foreign(format!("{path} is a worktree on {branch}")));
        }
        State::HalfMade(why) if owned => {
            crate::cli::style::note(format!("{why}; removing it and creating it again"));
            git_step(
                session,
                run,
                &format!("undo the half-made worktree {path}"),
                || git::worktree::undo_half_made(root, &session.ws.common_dir, p),
            )?;
        }
        State::HalfMade(why) | State::Foreign(why) => return Err(foreign(why)),
        // A creation of the run's cut short so early that git had made only its record under
        // `.git/worktrees` (no directory yet): the record is pruned, not left beside the new.
        State::Absent
            if ledger
                .find(&path, branch)
                .is_some_and(|o| o.stage == Stage::Creating) =>
        {
            // Killed before git wrote the record's `gitdir`: the record is invisible to git
            // and, locked, never pruned — removed as the creation's own.
            let common = &session.ws.common_dir;
            git_step(session, run, "worktree prune", || {
                for r in git::worktree::forget_unfinished_records(common, p)? {
                    crate::cli::style::note(format!(
                        "removed {}, left by the creation of {path} that was cut short",
                        r.display()
                    ));
                }
                git::worktree::prune(root)
            })?;
        }
        State::Absent => {}
    }
    // The last word before git checks anything out: every worktree, the run's and each
    // worker's, stays in an allowed place (the run's was judged when it was chosen).
    place::confine(
        root,
        p,
        if worker.is_none() {
            place::Source::Status
        } else {
            place::Source::Worker
        },
    )?;
    let repo = session.repo()?;
    let mut branch_exists = git::branch_exists(&repo, branch);
    let mut base = base.to_string();
    // Made completely once (the run worked there): the branch holds the run's work.
    let made_before = ledger
        .find(&path, branch)
        .is_some_and(|o| o.stage != Stage::Creating);
    if made_before && !branch_exists {
        // Made again for a re-opened run after its worktree and branch were cleaned up: from
        // the branch as pushed, never from the start (that would drop the run's work).
        let pushed = repo
            .remote_names()
            .iter()
            .map(|r| format!("refs/remotes/{r}/{branch}"))
            .find(|r| git::ref_exists(&repo, r));
        match pushed {
            Some(r) => base = r,
            None => {
                return Err(Error::failure(format!(
                    "run {}'s branch {branch} is gone, and no remote has it: its work cannot be restored",
                    run.id
                ))
                .hint(format!(
                    "restore the branch ('git branch {branch} <commit>', e.g. from 'git reflog'), then run the command again; or 'git swarm abort --run {}'",
                    run.id
                )));
            }
        }
        branch_exists = false;
    }
    let base = base.as_str();
    if branch_exists && !owned {
        return Err(Error::failure(format!(
            "branch {branch} exists already and run {} did not create it, so git swarm does not take it over",
            run.id
        ))
        .hint(format!(
            "if {branch} is not needed, delete it ('git branch -D {branch}'), then run 'git swarm next --run {}'",
            run.id
        )));
    }
    // Intent first: recorded with the run before git creates anything.
    if worker.is_none() {
        atomic::write_json(
            &run.worktree_intent_path(),
            &serde_json::json!({"branch": branch, "path": path, "base": base}),
        )?;
    }
    ledger.set(ledger::Owned {
        path: path.clone(),
        branch: branch.to_string(),
        worker: worker.map(str::to_string),
        base: base.to_string(),
        stage: Stage::Creating,
    });
    run.save_ledger(&ledger)?;
    git_step(
        session,
        run,
        &format!("worktree add {path} on {branch}"),
        || git::worktree::add(root, p, branch, base, branch_exists, sparse),
    )?;
    mark(run, &path, Stage::Created)?;
    crate::agents::worktree_setup::prepare(session, run, p)
}

fn mark(run: &RunDir, path: &str, stage: Stage) -> Result<()> {
    let mut l = run.ledger()?;
    if l.owned
        .iter()
        .any(|o| Path::new(&o.path) == Path::new(path) && o.stage != stage)
    {
        l.mark(path, stage);
        run.save_ledger(&l)?;
    }
    Ok(())
}

/// Removes the worktrees and branches of merged workers whose removal was decided (stage
/// `Removing` in the run's ledger). Merged means nothing in them can be lost: forced.
pub(crate) fn finish_removals(session: &Session, run: &RunDir) -> Result<()> {
    super::spares::drop_unneeded(session, run)?;
    let root = &session.ws.root;
    let ledger = run.ledger()?;
    let workers: Vec<&ledger::Owned> = ledger
        .owned
        .iter()
        .filter(|o| o.worker.is_some() && matches!(o.stage, Stage::Removing | Stage::Removed))
        .collect();
    if workers.is_empty() {
        return Ok(());
    }
    // A removal cut short between the worktree and the branch leaves the branch: looked up
    // in process (no git to start on every call).
    let repo = session.repo()?;
    let todo: Vec<(String, String, Stage)> = workers
        .iter()
        .filter(|o| o.stage == Stage::Removing || git::branch_exists(&repo, &o.branch))
        .map(|o| (o.path.clone(), o.branch.clone(), o.stage))
        .collect();
    for (path, branch, stage) in todo {
        if stage == Stage::Removing {
            remove_worktree(session, run, Path::new(&path), true)?;
        }
        git_step(session, run, &format!("branch -D {branch}"), || {
            git::ops::delete_branch(root, &branch)
        })?;
    }
    Ok(())
}

/// Removes the git locks an earlier, dead agent left in `inv`'s work tree (no process has them
/// open), with a note.
pub(crate) fn release_dead_agents_locks(run: &RunDir, inv: &crate::machine::state::Invocation) {
    let cwd = Path::new(&inv.cwd);
    let Ok(ws) = crate::git::discover(cwd) else {
        return;
    };
    for lock in crate::git::locks::remove_stale_of_worktree(&ws.common_dir, cwd) {
        crate::cli::style::note(format!(
            "removed {}, left by a git that died with an earlier {} of run {}",
            lock.display(),
            inv.who(),
            run.id
        ));
    }
}
