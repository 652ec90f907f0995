//! Spare worktrees. While the planner works (exec mode), `git swarm run` checks out the
//! worktrees the accepted plan will need — the run's own and one per parallel worker — on a
//! detached HEAD at the run's base commit, beside the workspace. When the plan is accepted,
//! creating a worktree takes a spare instead of checking out a whole tree: `git worktree move`
//! to its place, then `git checkout -b` of its branch (which writes only the files that
//! differ). Spares left over are removed as soon as the run has its worktree, or ends.
//!
//! Crash safety, as for every worktree of a run's: a spare is recorded in the run's ledger
//! before git creates it, and its use is recorded (`into`) before git moves it. A spare whose
//! creation was cut short is undone; a use that was cut short is undone at both places and
//! the worktree is made the ordinary way. gc counts spares as the run's (never removed while
//! the run is in progress).

use std::path::{Path, PathBuf};

use super::{Session, Tx, effects::git_step, place};
use crate::config::Workflow;
use crate::error::Result;
use crate::git;
use crate::machine::Effect;
use crate::machine::state::RunStatus;
use crate::store::RunDir;
use crate::store::ledger::{Owned, Spare, Stage};

/// At most this many spares, whatever the policy says.
const MAX: usize = 8;

/// How many spares the run wants now: while its first agent (the planner) works and its
/// worktree is not chosen yet, one for the run's worktree and one per further worker of a
/// parallel batch (`policies.worktree.spares` overrides; 0 turns them off). None for sparse
/// worktrees (cheap to make already, and their cones come from the plan), nor when the plan
/// waits for a person's approval.
pub(crate) fn wanted(session: &Session, st: &RunStatus, cfg: &Workflow) -> usize {
    if !st.outcome.is_in_progress() || !cfg.branching || st.worktree_path.is_some() {
        return 0;
    }
    let planning = st
        .swarm
        .pending
        .iter()
        .any(|p| cfg.agent(&p.agent).is_some_and(|a| a.first_step));
    if !planning {
        return 0;
    }
    let Ok(policies) = session.policies() else {
        return 0;
    };
    // A plan a person approves first gets nothing made for it before the approval.
    if policies.worktree.sparse_dirs().is_some() || policies.approval.plan {
        return 0;
    }
    let parallel = cfg
        .parallel_rules
        .first()
        .filter(|_| cfg.parallel_enabled)
        .map_or(1, |r| r.max_concurrent.max(1) as usize);
    policies.worktree.spares.unwrap_or(parallel).min(MAX)
}

/// Makes one more spare if the run wants one, under the run's lock and the repository's
/// worktree lock. `Ok(false)`: none wanted (or no place for one).
pub(crate) fn make_one(session: &Session, run: &RunDir) -> Result<bool> {
    let tx = Tx::begin(session, run)?;
    let st = tx.status()?;
    let cfg = tx.config(&st)?;
    let want = wanted(session, &st, &cfg);
    if want == 0 {
        return Ok(false);
    }
    let _repository = super::worktree_lock(session, &st, &cfg)?;
    let root = &session.ws.root;
    let mut ledger = run.ledger()?;
    // A creation cut short: undone, and made again below.
    for s in ledger
        .spares
        .iter()
        .filter(|s| s.stage == Stage::Creating && s.into.is_none())
    {
        let p = PathBuf::from(&s.path);
        git_step(
            session,
            run,
            &format!("undo the half-made spare {}", s.path),
            || git::worktree::undo_half_made(root, &session.ws.common_dir, &p),
        )?;
    }
    ledger
        .spares
        .retain(|s| s.stage != Stage::Creating || s.into.is_some());
    if ledger.spares.iter().filter(|s| s.into.is_none()).count() >= want {
        run.save_ledger(&ledger)?;
        return Ok(false);
    }
    let Some(path) = free_place(session, run, &st, &cfg, &ledger.spares)? else {
        return Ok(false);
    };
    let commit = st.swarm.base_commit.clone();
    let shown = path.display().to_string();
    ledger.spares.push(Spare {
        path: shown.clone(),
        commit: commit.clone(),
        stage: Stage::Creating,
        into: None,
    });
    run.save_ledger(&ledger)?;
    git_step(
        session,
        run,
        &format!("worktree add {shown} (a spare, at {commit})"),
        || git::worktree::add_detached(root, &path, &commit),
    )?;
    let mut ledger = run.ledger()?;
    for s in ledger.spares.iter_mut().filter(|s| s.path == shown) {
        s.stage = Stage::Created;
    }
    run.save_ledger(&ledger)?;
    crate::trace::mark(&format!("spares: made {shown}"));
    Ok(true)
}

/// [`make_one`], a failure noted (it ends the making: spares only save time).
pub(crate) fn make_one_noting(session: &Session, run: &RunDir) -> bool {
    make_one(session, run).unwrap_or_else(|e| {
        crate::cli::style::note(format!("no spare worktree: {}", e.message));
        false
    })
}

/// A place for a new spare, beside where the run's worktree will go: `spare-<run>-<n>` in
/// the worktree template's place.
fn free_place(
    session: &Session,
    run: &RunDir,
    st: &RunStatus,
    cfg: &Workflow,
    spares: &[Spare],
) -> Result<Option<PathBuf>> {
    let policies = session.policies()?;
    let short = crate::cli::report::abbrev(&st.run_id, 8);
    for n in 1..=99 {
        let (path, source) = place::worktree_path(
            &session.ws.root,
            cfg.worktree_path_template.as_deref(),
            policies.git.branching.worktree_name_template.as_deref(),
            &format!("spare-{short}-{n}"),
            &run.id,
        );
        place::confine(&session.ws.root, &path, source)?;
        let taken = spares.iter().any(|s| Path::new(&s.path) == path);
        if !taken && std::fs::symlink_metadata(&path).is_err() {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// One worktree a transition creates that a spare can become.
struct Use {
    from: PathBuf,
    /// The commit the spare is checked out at.
    commit: String,
    to: PathBuf,
    branch: String,
    /// What the branch starts from, resolved within the transition (a worker's base is the
    /// run's branch, made in the same transition: its start is used).
    start: String,
}

/// Before a transition's effects are performed: every worktree it creates new (nothing at its
/// place, nothing recorded, no branch yet, not sparse) takes a spare, all at once — recorded
/// in the run's ledger (the worktree as being created, the spare's `into`) with one write,
/// then moved and put on their branches in parallel, then recorded as made with one write.
/// The effects that create them then find them whole. A use git refuses is undone and left to
/// the effect, which checks out the worktree the ordinary way.
pub(crate) fn adopt_all(session: &Session, run: &RunDir, effects: &[Effect]) -> Result<()> {
    let creates: Vec<(&String, &String, &String, &Option<String>)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::CreateWorktree {
                branch,
                path,
                base,
                worker,
                sparse: None,
                ..
            } => Some((branch, path, base, worker)),
            _ => None,
        })
        .collect();
    if creates.is_empty() {
        return Ok(());
    }
    let mut ledger = run.ledger()?;
    let mut spares: Vec<PathBuf> = ledger
        .spares
        .iter()
        .filter(|s| s.stage == Stage::Created && s.into.is_none())
        .map(|s| PathBuf::from(&s.path))
        .filter(|p| git::worktree::is_whole(p))
        .collect();
    if spares.is_empty() {
        return Ok(());
    }
    let root = &session.ws.root;
    let repo = session.repo()?;
    let mut uses = Vec::new();
    for (branch, path, base, worker) in creates {
        let to = PathBuf::from(path);
        let source = if worker.is_none() {
            place::Source::Status
        } else {
            place::Source::Worker
        };
        let fresh = ledger.stage_of(path).is_none()
            && std::fs::symlink_metadata(&to).is_err()
            && !git::branch_exists(&repo, branch)
            && place::confine(root, &to, source).is_ok();
        if !fresh || spares.is_empty() {
            continue;
        }
        let start = effects
            .iter()
            .find_map(|e| match e {
                Effect::CreateWorktree {
                    branch: b, base: s, ..
                } if b == base => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| base.clone());
        let from = spares.remove(0);
        let commit = ledger
            .spares
            .iter()
            .find(|s| Path::new(&s.path) == from)
            .map(|s| s.commit.clone())
            .unwrap_or_default();
        // Intent first, as for any worktree of the run's.
        if worker.is_none() {
            crate::files::atomic::write_json(
                &run.worktree_intent_path(),
                &serde_json::json!({"branch": branch, "path": path, "base": base}),
            )?;
        }
        ledger.set(Owned {
            path: path.clone(),
            branch: branch.clone(),
            worker: worker.clone(),
            base: base.clone(),
            stage: Stage::Creating,
        });
        for s in ledger
            .spares
            .iter_mut()
            .filter(|s| Path::new(&s.path) == from)
        {
            s.into = Some(path.clone());
        }
        uses.push(Use {
            from,
            commit,
            to,
            branch: branch.clone(),
            start,
        });
    }
    if uses.is_empty() {
        return Ok(());
    }
    run.save_ledger(&ledger)?;
    let shown: Vec<String> = uses.iter().map(|u| u.to.display().to_string()).collect();
    let results = git_step(
        session,
        run,
        &format!("make spare worktrees {}", shown.join(", ")),
        || {
            Ok(std::thread::scope(|scope| {
                let handles: Vec<_> = uses
                    .iter()
                    .map(|u| {
                        scope.spawn(move || {
                            if let Some(parent) = u.to.parent() {
                                crate::files::atomic::create_dir_all(parent)?;
                            }
                            git::worktree::adopt_spare(
                                root, &u.from, &u.commit, &u.to, &u.branch, &u.start,
                            )
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(crate::error::Error::failure("a spare's move panicked"))
                        })
                    })
                    .collect::<Vec<Result<()>>>()
            }))
        },
    )?;
    let mut ledger = run.ledger()?;
    let mut refused = Vec::new();
    for (u, r) in uses.iter().zip(results) {
        let to = u.to.display().to_string();
        match r {
            Ok(()) => {
                ledger.spares.retain(|s| Path::new(&s.path) != u.from);
                ledger.mark(&to, Stage::Created);
                crate::trace::mark(&format!("spares: {} used for {to}", u.from.display()));
            }
            Err(e) => refused.push((to, e)),
        }
    }
    run.save_ledger(&ledger)?;
    for (to, e) in refused {
        crate::cli::style::note(format!(
            "could not use a spare worktree for {to} ({}); checking it out instead",
            e.message
        ));
        undo_use(session, run, &to)?;
    }
    Ok(())
}

/// A use of a spare for the worktree `to` that was cut short (or refused): the spare, at its
/// place or at `to`, is undone and forgotten, so the worktree is made the ordinary way. The
/// branch, if git made it, stays (the run's ledger records it as the run's). `Ok(false)`: no
/// use of a spare was in progress for `to`.
pub(crate) fn undo_use(session: &Session, run: &RunDir, to: &str) -> Result<bool> {
    let ledger = run.ledger()?;
    let Some(spare) = ledger
        .spares
        .iter()
        .find(|s| {
            s.into
                .as_deref()
                .is_some_and(|t| Path::new(t) == Path::new(to))
        })
        .cloned()
    else {
        return Ok(false);
    };
    let root = &session.ws.root;
    for p in [spare.path.as_str(), to] {
        let path = Path::new(p);
        if path.exists() || git::worktree::list(root)?.iter().any(|e| e.path == path) {
            git_step(
                session,
                run,
                &format!("undo the spare worktree at {p}"),
                || git::worktree::undo_half_made(root, &session.ws.common_dir, path),
            )?;
        }
    }
    let mut ledger = run.ledger()?;
    ledger.spares.retain(|s| s.path != spare.path);
    run.save_ledger(&ledger)?;
    Ok(true)
}

/// Removes the spares the run no longer needs — all of them once its worktree is chosen or it
/// ended — under the run's lock (the caller's). Uses cut short are left to the creation of
/// their worktree, which undoes them.
pub(crate) fn drop_unneeded(session: &Session, run: &RunDir) -> Result<()> {
    let ledger = run.ledger()?;
    if ledger.spares.iter().all(|s| s.into.is_some()) {
        return Ok(());
    }
    let st = run.require_status()?;
    if st.outcome.is_in_progress() && st.worktree_path.is_none() {
        return Ok(());
    }
    drop_all(session, run)
}

/// Removes every spare not being used (`abort`, the end of a run). The removal is decided in
/// the run's ledger first (stage `Removing`): one cut short — the directory half-deleted by a
/// killed git — is finished by the next call, with force, since the spare was judged unchanged
/// before git started.
pub(crate) fn drop_all(session: &Session, run: &RunDir) -> Result<()> {
    let root = &session.ws.root;
    let ledger = run.ledger()?;
    for s in ledger.spares.iter().filter(|s| s.into.is_none()) {
        let path = PathBuf::from(&s.path);
        if s.stage != Stage::Removing {
            // Never written by git swarm after its checkout: anything there is someone's. Left
            // alone (and forgotten, so that gc takes it for that person's worktree).
            let changed = git::worktree::is_whole(&path)
                && git::open(&path)
                    .and_then(|r| git::clean::dirt(&r, true))
                    .is_ok_and(|d| !d.is_empty());
            let mut l = run.ledger()?;
            if changed {
                crate::cli::style::note(format!(
                    "the spare worktree {} holds changes; left as it is (remove it with 'git worktree remove {}' when they are not needed)",
                    s.path, s.path
                ));
                l.spares.retain(|x| x.path != s.path);
                run.save_ledger(&l)?;
                continue;
            }
            for x in l.spares.iter_mut().filter(|x| x.path == s.path) {
                x.stage = Stage::Removing;
            }
            run.save_ledger(&l)?;
        }
        git_step(
            session,
            run,
            &format!("remove the spare worktree {}", s.path),
            || git::worktree::undo_half_made(root, &session.ws.common_dir, &path),
        )?;
        let mut l = run.ledger()?;
        l.spares.retain(|x| x.path != s.path);
        run.save_ledger(&l)?;
    }
    Ok(())
}
