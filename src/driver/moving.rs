//! A run taken from a remote onto this clone (`git swarm resume`, and `git swarm work` for one
//! worker): its state fetched and written into `.swarm/runs/<id>`, its branches fetched, its
//! worktrees made again here from the pushed branches.

use std::path::Path;

use crate::error::{Error, Result};
use crate::machine::state::RunStatus;
use crate::store::ledger::Stage;
use crate::store::state_remote::{self, Backing};
use crate::store::{RunDir, Session, state_move, state_ref};

/// Which worktrees the resumed run gets here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Worktrees {
    /// The run's own and those of its workers in flight (the coordinating machine).
    All,
    /// Only this worker's (`git swarm work`).
    Worker(String),
}

/// Fetches run `id`'s state from `remote` and makes this clone's copy of the run that
/// state. A copy here with steps the remote lacks is refused (it would be lost) unless
/// `force`.
pub(crate) fn resume(
    session: &Session,
    id: &str,
    remote: &str,
    force: bool,
    worktrees: &Worktrees,
) -> Result<(RunDir, RunStatus)> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::usage(format!(
            "'{id}' is not a run id (letters, digits, '-' and '_')"
        )));
    }
    let root = session.ws.root.clone();
    let repo = session.repo()?;
    crate::git::require_remote(&repo, remote)?;
    session.swarm.ensure_dirs()?;
    crate::git::ensure_exclude(&session.ws.common_dir, "/.swarm/runs/")?;
    let Some(tip) = state_remote::fetch(&root, remote, id)? else {
        return Err(Error::failure(format!(
            "the remote '{remote}' has no run {id} ({})",
            state_ref::ref_name(id)
        ))
        .hint(format!(
            "on the clone that has the run: 'git swarm push --run {id} --remote {remote}'"
        )));
    };
    let run = session.swarm.run(id);
    crate::files::safe::create_dirs(&root, &run.path)?;
    let _lock = session.lock(&run)?;
    let resuming = run.path.join(state_ref::RESUMING).exists();
    let head = state_ref::head(&run).filter(|_| run.status_path().exists() && !resuming);
    let up_to_date = head == Some(tip);
    if let Some(h) = head.filter(|h| *h != tip) {
        let ours_in_theirs = crate::git::ops::is_ancestor(&root, &h.to_string(), &tip.to_string())?;
        if !ours_in_theirs && !force {
            return Err(Error::refused(format!(
                "this clone's copy of run {id} has steps the remote '{remote}' does not have (its state {} is not in the remote's {})",
                abbrev(&h.to_string()),
                abbrev(&tip.to_string())
            ))
            .hint(format!(
                "'git swarm push --run {id}' sends them, if the remote has not moved on; 'git swarm resume {id} --force' drops them for the remote's state"
            )));
        }
    }
    if !up_to_date {
        state_move::materialise(&repo, &root, &run, tip)?;
        let config = session.config_location()?.path;
        state_move::relocate(&run, &root, &config)?;
        state_move::settle(&repo, &run, tip)?;
    }
    let st = run.require_status()?;
    let mut b = Backing {
        remote: remote.to_string(),
        pushed: Some(tip.to_string()),
        ..state_remote::backing(&run).unwrap_or_default()
    };
    if !up_to_date {
        b.branches.clear();
    }
    fetch_branches(session, &run, &st, &mut b, worktrees)?;
    state_remote::save(&run, &b)?;
    session.swarm.set_active(id, st.outcome.is_in_progress())?;
    if st.outcome.is_in_progress() {
        make_worktrees(session, &run, &st, worktrees)?;
    }
    drop(_lock);
    Ok((run, st))
}

fn abbrev(s: &str) -> &str {
    &s[..s.len().min(12)]
}

/// A worktree of the run this clone needs: its branch, its path, the worker it is for (`None`:
/// the run's own, where the batch's first worker works too).
struct Needed {
    branch: String,
    path: String,
    worker: Option<String>,
}

fn needed(run: &RunDir, st: &RunStatus, worktrees: &Worktrees) -> Result<Vec<Needed>> {
    let ledger = run.ledger()?;
    let mut out = Vec::new();
    let own = || match (&st.branch, &st.worktree_path) {
        (Some(b), Some(p)) => Some(Needed {
            branch: b.clone(),
            path: p.clone(),
            worker: None,
        }),
        _ => None,
    };
    for o in &ledger.owned {
        let Some(w) = &o.worker else { continue };
        let mine = match worktrees {
            Worktrees::All => true,
            Worktrees::Worker(x) => x == w,
        };
        if mine && matches!(o.stage, Stage::Creating | Stage::Created) {
            out.push(Needed {
                branch: o.branch.clone(),
                path: o.path.clone(),
                worker: Some(w.clone()),
            });
        }
    }
    match worktrees {
        Worktrees::All => out.extend(own()),
        // A worker without a worktree of its own works in the run's.
        Worktrees::Worker(_) if out.is_empty() => out.extend(own()),
        Worktrees::Worker(_) => {}
    }
    // The names came from another machine: only names git swarm could have made become git
    // arguments (the paths are confined where the worktrees are made).
    if let Some(n) = out.iter().find(|n| !state_remote::plain_branch(&n.branch)) {
        return Err(Error::failure(format!(
            "run {}'s state names the branch {:?}, which git swarm would not have made",
            run.id, n.branch
        ))
        .hint("the state was not written by git swarm; take runs only from remotes you trust"));
    }
    Ok(out)
}

/// The branches of the run that this clone needs: fetched from the remote into local
/// branches (a branch checked out here is moved in its worktree, only forward).
fn fetch_branches(
    session: &Session,
    run: &RunDir,
    st: &RunStatus,
    b: &mut Backing,
    worktrees: &Worktrees,
) -> Result<()> {
    let root = &session.ws.root;
    for n in needed(run, st, worktrees)? {
        let (branch, path) = (n.branch, n.path);
        let p = Path::new(&path);
        let checked_out =
            p.join(".git").exists() && crate::git::worktree_branch(p).as_deref() == Some(&branch);
        let value = if checked_out {
            // git fetches into no branch checked out in a worktree: through a ref of its own.
            let incoming = state_remote::fetch_incoming(root, &b.remote, &run.id, &branch)?;
            if crate::git::worktree::is_whole(p) {
                crate::git::remote_refs::fast_forward(p, &incoming)?;
            } else {
                // Half-made (a resume killed while making it): made again from the branch
                // afterwards, so only the branch moves.
                crate::git::remote_refs::fast_forward_ref(root, &branch, &incoming)?;
            }
            crate::git::resolve(root, &format!("refs/heads/{branch}")).ok()
        } else {
            state_remote::fetch_branch(root, &b.remote, &run.id, &branch)?
        };
        if let Some(v) = value {
            b.branches.insert(branch, v);
        }
    }
    Ok(())
}

/// Makes the run's worktrees that this clone lacks, from the fetched branches.
fn make_worktrees(
    session: &Session,
    run: &RunDir,
    st: &RunStatus,
    worktrees: &Worktrees,
) -> Result<()> {
    let repo = session.repo()?;
    for n in needed(run, st, worktrees)? {
        let p = Path::new(&n.path);
        let whole = crate::git::worktree::is_whole(p)
            && crate::git::worktree_branch(p).as_deref() == Some(n.branch.as_str());
        // Anything else at the place — a worktree whose making was cut short (a `resume`
        // killed during it), or something of someone's — is for `create_worktree` to judge:
        // the run's own half-made one is made again, anything else stops the command.
        if whole || !crate::git::branch_exists(&repo, &n.branch) {
            continue;
        }
        super::effects::create_worktree(
            session,
            run,
            Path::new(&n.path),
            &n.branch,
            &n.branch,
            n.worker.as_deref(),
            if n.worker.is_none() {
                st.swarm.sparse.as_deref()
            } else {
                None
            },
        )?;
    }
    Ok(())
}
