//! A run whose state lives on a remote (after `git swarm push` or `git swarm resume`): every
//! transition first *claims* the step on the remote — a commit of the unchanged folder pushed
//! with a lease on the state the transition starts from — and only then changes anything;
//! after the transition the new state (and the run's branches that moved) follow with a lease
//! on the claim, in one atomic push. Of two machines advancing the same state, exactly one
//! claim lands; the other is refused before it changes anything.
//!
//! Workers on other machines (`git swarm work`) add their result to the state as `work:`
//! commits that only add files; the coordinating machine takes those in (and nothing else) when
//! it syncs. A claim on the remote means a transition is under way: a worker waits for it.

use std::collections::BTreeMap;
use std::path::Path;

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use super::state_ref::{self, ref_name};
use super::state_tree;
use super::{RunDir, ledger::Stage};
use crate::error::{Error, Result};
use crate::git::remote_refs::fetch_ref;

/// This machine's record of the remote that holds the run's state.
const BACKING: &str = ".state-remote.json";
/// The first words of a commit a worker elsewhere adds its result with.
pub(crate) const WORK: &str = "work: ";
/// The first words of a claim.
pub(crate) const CLAIM: &str = "claim: ";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Backing {
    pub remote: String,
    /// The state commit the remote holds, as far as this machine knows.
    #[serde(default)]
    pub pushed: Option<String>,
    /// The run's branches as last pushed (or fetched) with the state.
    #[serde(default)]
    pub branches: BTreeMap<String, String>,
    /// A claim being pushed (recorded before the push: one that landed but was cut short
    /// before this machine took it is recognised as its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claiming: Option<String>,
}

impl Backing {
    fn pushed_id(&self) -> Option<ObjectId> {
        self.pushed
            .as_deref()
            .and_then(|p| ObjectId::from_hex(p.as_bytes()).ok())
    }
}

/// Where the run's branches travel with its state: beside it, never under `refs/heads/` (a
/// run's branch shows up as a branch only when it is published, with what its tester passed).
pub(crate) fn branch_ref(id: &str, branch: &str) -> String {
    format!("refs/swarm/branches/{id}/{branch}")
}

pub(crate) fn backing(run: &RunDir) -> Option<Backing> {
    std::fs::read(run.path.join(BACKING))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

pub(crate) fn save(run: &RunDir, b: &Backing) -> Result<()> {
    crate::files::atomic::write_json(&run.path.join(BACKING), b)
}

pub(crate) use crate::git::remote_refs::{Lease, Pushed, Update, push};

/// Fetches the run's state from `remote` (into `refs/swarm/fetched/<id>`); `None` when the
/// remote has none.
pub(crate) fn fetch(dir: &Path, remote: &str, id: &str) -> Result<Option<ObjectId>> {
    let local = format!("refs/swarm/fetched/{id}");
    match fetch_ref(dir, remote, &ref_name(id), &local)? {
        None => Ok(None),
        Some(v) => Ok(Some(ObjectId::from_hex(v.as_bytes()).map_err(|e| {
            Error::failure(format!("{local} is not a commit id: {e}"))
        })?)),
    }
}

/// Fetches run `id`'s `branch` from `remote` into the local branch of that name; `None` when
/// the remote has none.
pub(crate) fn fetch_branch(
    dir: &Path,
    remote: &str,
    id: &str,
    branch: &str,
) -> Result<Option<String>> {
    fetch_ref(
        dir,
        remote,
        &branch_ref(id, branch),
        &format!("refs/heads/{branch}"),
    )
}

/// Fetches run `id`'s `branch` from `remote` to `refs/swarm/incoming/<id>/<branch>` (for a
/// branch checked out here, which git does not fetch into); returns the commit.
pub(crate) fn fetch_incoming(dir: &Path, remote: &str, id: &str, branch: &str) -> Result<String> {
    let local = format!("refs/swarm/incoming/{id}/{branch}");
    fetch_ref(dir, remote, &branch_ref(id, branch), &local)?.ok_or_else(|| {
        Error::failure(format!(
            "the remote '{remote}' has no {} for run {id}",
            branch_ref(id, branch)
        ))
    })
}

pub(crate) fn advanced_elsewhere(id: &str) -> Error {
    Error::refused(format!(
        "the run advanced on another machine; run 'git swarm resume {id}'"
    ))
    .hint(format!(
        "nothing was changed here; 'git swarm resume {id}' takes the newer state from the remote"
    ))
}

/// Brings a remote-backed run level with its remote before a transition: pushes what this
/// machine recorded but could not push (a push cut short), then takes in the results workers
/// elsewhere added. Anything else on the remote is another machine's step: refused.
pub(crate) fn sync(repo: &gix::Repository, root: &Path, run: &RunDir) -> Result<()> {
    let Some(mut b) = backing(run) else {
        return Ok(());
    };
    push_pending(repo, root, run, &mut b)?;
    let tip = fetch(root, &b.remote, &run.id)?;
    if tip != b.pushed_id() {
        match tip {
            Some(tip) if absorb(repo, root, run, &mut b, tip)? => {}
            _ => return Err(advanced_elsewhere(&run.id)),
        }
    }
    Ok(())
}

/// Pushes the folder's recorded state and the run's branches that moved, with a lease on
/// what the remote held last. Nothing to push: nothing done.
pub(crate) fn push_pending(
    repo: &gix::Repository,
    root: &Path,
    run: &RunDir,
    b: &mut Backing,
) -> Result<()> {
    settle_claim(repo, root, run, b)?;
    let Some(head) = state_ref::head(run) else {
        return Ok(());
    };
    let mut updates = Vec::new();
    let moved = branches_moved(repo, run, b);
    if Some(head) != b.pushed_id() {
        updates.push(Update {
            src: head.to_string(),
            dst: ref_name(&run.id),
            lease: match &b.pushed {
                Some(p) => Lease::Is(p.clone()),
                None => Lease::Absent,
            },
        });
    }
    if updates.is_empty() && moved.is_empty() {
        return Ok(());
    }
    for (branch, value) in &moved {
        updates.push(Update {
            src: value.clone(),
            dst: branch_ref(&run.id, branch),
            lease: match b.branches.get(branch) {
                Some(v) => Lease::Is(v.clone()),
                None => Lease::Any,
            },
        });
    }
    crate::failpoint!("state-push-before");
    match push(root, &b.remote, &updates)? {
        Pushed::Done => {
            b.pushed = Some(head.to_string());
            b.branches.extend(moved);
            save(run, b)?;
            Ok(())
        }
        Pushed::Lost => Err(advanced_elsewhere(&run.id)),
    }
}

/// A claim of this machine's whose push was cut short: taken when it landed (the folder is
/// the claim's parent's, which the claim does not change), forgotten when it did not.
fn settle_claim(repo: &gix::Repository, root: &Path, run: &RunDir, b: &mut Backing) -> Result<()> {
    let Some(claim) = b
        .claiming
        .as_deref()
        .and_then(|c| ObjectId::from_hex(c.as_bytes()).ok())
    else {
        return Ok(());
    };
    if fetch(root, &b.remote, &run.id)? == Some(claim) {
        if state_ref::head(run) != Some(claim) {
            state_ref::set_head(run, claim)?;
        }
        let now = state_ref::current(repo, &run.id);
        if now != Some(claim) {
            state_ref::move_ref(repo, &run.id, now, claim, "take a claim cut short")?;
        }
        b.pushed = Some(claim.to_string());
    }
    b.claiming = None;
    save(run, b)
}

/// The run's branches (its own and its workers' in flight) whose local value differs from
/// the one last pushed.
fn branches_moved(repo: &gix::Repository, run: &RunDir, b: &Backing) -> Vec<(String, String)> {
    let mut names = Vec::new();
    if let Ok(Some(st)) = run.load_status()
        && let Some(branch) = st.branch
    {
        names.push(branch);
    }
    if let Ok(l) = run.ledger() {
        for o in l.owned {
            if o.worker.is_some() && matches!(o.stage, Stage::Creating | Stage::Created) {
                names.push(o.branch);
            }
        }
    }
    let mut out = Vec::new();
    for name in names {
        let Some(value) = repo
            .find_reference(format!("refs/heads/{name}").as_str())
            .ok()
            .and_then(|mut r| r.peel_to_id().ok())
            .map(|i| i.to_string())
        else {
            continue;
        };
        if b.branches.get(&name) != Some(&value) && !out.iter().any(|(n, _)| *n == name) {
            out.push((name, value));
        }
    }
    out
}

/// Claims the transition that starts from the folder's state `expected` on the remote (a
/// remote-backed run only; `None` otherwise): returns the claim, the state the transition
/// then records on. Results that workers elsewhere added meanwhile are taken in and the claim
/// made again on them; a step of another machine refuses, changing nothing.
pub(crate) fn claim(
    repo: &gix::Repository,
    root: &Path,
    run: &RunDir,
    expected: Option<ObjectId>,
    message: &str,
) -> Result<Option<ObjectId>> {
    let Some(mut b) = backing(run) else {
        return Ok(None);
    };
    push_pending(repo, root, run, &mut b)?;
    let mut parent = expected;
    for _ in 0..32 {
        let tree = match parent {
            Some(p) => state_tree::commit_tree(repo, p)?,
            None => ObjectId::empty_tree(repo.object_hash()),
        };
        let text = format!(
            "{CLAIM}{message}\n\nSwarm-Claim: {} {}\n",
            hostname(),
            std::process::id()
        );
        let claim = state_tree::commit(repo, tree, &parent.into_iter().collect::<Vec<_>>(), &text)?;
        let update = Update {
            src: claim.to_string(),
            dst: ref_name(&run.id),
            lease: match parent {
                Some(p) => Lease::Is(p.to_string()),
                None => Lease::Absent,
            },
        };
        b.claiming = Some(claim.to_string());
        save(run, &b)?;
        match push(root, &b.remote, &[update])? {
            Pushed::Done => {
                crate::failpoint!("state-claimed");
                state_ref::set_head(run, claim)?;
                state_ref::move_ref(repo, &run.id, parent, claim, &text)?;
                b.pushed = Some(claim.to_string());
                b.claiming = None;
                save(run, &b)?;
                return Ok(Some(claim));
            }
            Pushed::Lost => {
                b.claiming = None;
                save(run, &b)?;
                let tip = fetch(root, &b.remote, &run.id)?;
                match tip {
                    Some(tip) if absorb(repo, root, run, &mut b, tip)? => parent = Some(tip),
                    _ => return Err(advanced_elsewhere(&run.id)),
                }
            }
        }
    }
    Err(advanced_elsewhere(&run.id))
}

/// Takes in `tip` when everything between the state this machine pushed last and `tip` is
/// results added by workers elsewhere (`work:` commits that only add files): their files are
/// written into the folder, the workers' branches fetched into their worktrees, and the state
/// moves to `tip`. `false` (nothing changed) for anything else.
fn absorb(
    repo: &gix::Repository,
    root: &Path,
    run: &RunDir,
    b: &mut Backing,
    tip: ObjectId,
) -> Result<bool> {
    let pushed = b.pushed_id();
    if state_ref::head(run) != pushed {
        return Ok(false);
    }
    let mut chain = Vec::new();
    let mut cur = Some(tip);
    while cur != pushed {
        let Some(c) = cur else { return Ok(false) };
        let (msg, parent) = state_tree::message_and_parent(repo, c)?;
        if !msg.starts_with(WORK) || chain.len() > 512 {
            return Ok(false);
        }
        chain.push((c, msg, parent));
        cur = parent;
    }
    for (c, msg, parent) in chain.iter().rev() {
        let old = match parent {
            Some(p) => state_tree::files_of(repo, *p)?,
            None => Default::default(),
        };
        let new = state_tree::files_of(repo, *c)?;
        if old.iter().any(|(p, v)| new.get(p) != Some(v)) {
            return Ok(false);
        }
        let added: Vec<String> = new
            .keys()
            .filter(|p| !old.contains_key(*p))
            .cloned()
            .collect();
        for p in &added {
            let local = run.path.join(p);
            if let Some(bytes) = crate::files::safe::read_if_exists(&local, None)? {
                let theirs = repo
                    .find_object(new[p].1)
                    .map_err(|e| Error::failure(format!("could not read {p} of the state: {e}")))?;
                if bytes != theirs.data {
                    return Err(Error::failure(format!(
                        "{} differs from the one a worker elsewhere recorded in the run's state",
                        local.display()
                    ))
                    .hint("move the file away if it is not needed, then run the command again"));
                }
            }
        }
        state_tree::write_into(repo, root, &run.path, &new, &added)?;
        if let Some((branch, commit)) = trailer_pair(msg) {
            take_worker_branch(root, run, b, &branch, &commit)?;
        }
    }
    state_ref::set_head(run, tip)?;
    let local = state_ref::current(repo, &run.id);
    state_ref::move_ref(
        repo,
        &run.id,
        local,
        tip,
        "take in results of workers elsewhere",
    )?;
    b.pushed = Some(tip.to_string());
    save(run, b)?;
    Ok(true)
}

/// `Swarm-Branch:` and `Swarm-Commit:` of a `work:` commit.
pub(crate) fn trailer_pair(msg: &str) -> Option<(String, String)> {
    let get = |key: &str| {
        msg.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    Some((get("Swarm-Branch:")?, get("Swarm-Commit:")?))
}

/// Brings the worker's branch (and its worktree here, if it has one) to the commit the
/// worker elsewhere pushed.
fn take_worker_branch(
    root: &Path,
    run: &RunDir,
    b: &mut Backing,
    branch: &str,
    commit: &str,
) -> Result<()> {
    if !commit.bytes().all(|c| c.is_ascii_hexdigit()) || !plain_branch(branch) {
        return Err(Error::failure(format!(
            "a worker's result in run {}'s state names the branch {branch:?} at {commit:?}, which git swarm did not write",
            run.id
        )));
    }
    // Its worktree here: a worker's own, or the run's (where the batch's first worker works).
    let own = run
        .load_status()?
        .filter(|st| st.branch.as_deref() == Some(branch))
        .and_then(|st| st.worktree_path);
    let worktree = run
        .ledger()?
        .owned
        .into_iter()
        .find(|o| o.branch == branch && o.worker.is_some() && o.stage == Stage::Created)
        .map(|o| o.path)
        .or(own);
    match worktree.filter(|p| Path::new(p).exists()) {
        Some(p) => {
            let wt = Path::new(&p);
            let incoming = fetch_incoming(root, &b.remote, &run.id, branch)?;
            if crate::git::worktree_head(wt).as_deref() != Some(commit) {
                crate::git::remote_refs::fast_forward(wt, &incoming)?;
            }
        }
        None => {
            fetch_branch(root, &b.remote, &run.id, branch)?;
        }
    }
    b.branches.insert(branch.to_string(), commit.to_string());
    Ok(())
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}

/// A branch name git swarm could have made: no option, no `..`, plain characters.
pub(crate) fn plain_branch(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.contains("..")
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"/-_.".contains(&c))
}
