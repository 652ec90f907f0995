//! `git swarm gc`: what ended runs left behind, removed as one transaction beside the commands
//! that create it.
//!
//! Lock order: the repository's lock (`.swarm/runs/.worktrees.lock`, the one every creation of
//! a run's worktree and branch holds) first, waited for as `next` waits for it; then the lock
//! of each run whose leftovers gc would touch, only tried: `next` holds its run's lock while it
//! waits for the repository's, so gc never waits for a run while it holds the repository. A
//! busy run is left alone. Every removal is re-checked right before it happens against the run
//! folders as they are then and against git's state (same commit, same registration).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::Args;
use serde_json::{Value, json};

use crate::cli::report::Output;
use crate::commands::Context;
use crate::driver::{Session, place};
use crate::error::Result;
use crate::git::{
    self,
    gc_ops::{self, DotGit, Entry, Leftovers},
};
use crate::store::lock;

mod directories;
mod journal;
mod perform;
mod runs;

use perform::Step;
use runs::{RunInfo, State, check_state, real, scan};

/// Find what ended runs left behind — worktrees, swarm branches, old run folders, worktrees
/// whose removal was interrupted — and show what would be removed (the default), or remove
/// it with --apply.
///
/// Never removes uncommitted, unpushed or unmerged work, nor anything a run in progress or a
/// busy run uses: a worktree goes only when it is clean and its commits are on a remote or
/// merged; a branch only when its commits are on a remote or merged; a run folder only when
/// the run ended and is older than the retention age. Failed and escalated runs can be
/// resumed with 'git swarm retry', so theirs stay unless --include-resumable.
#[derive(Debug, Args)]
pub(crate) struct GcArgs {
    /// Remove what is listed (default: only show it).
    #[arg(long)]
    pub apply: bool,
    /// Run folders of runs that ended more than DAYS ago are removed (default: policies
    /// gc.retentionDays, else 30).
    #[arg(long, value_name = "DAYS")]
    pub older_than: Option<u64>,
    /// Also remove the leftovers of failed and escalated runs (which 'git swarm retry' could
    /// otherwise resume), under the same rules.
    #[arg(long)]
    pub include_resumable: bool,
}

/// How long gc tries a run's lock before it calls the run busy and leaves it alone.
const RUN_LOCK_TRY: Duration = Duration::from_millis(300);

/// The prefix of a run folder an interrupted gc was removing (renamed first, then deleted).
const TRASH_PREFIX: &str = ".gc-";

pub(crate) fn run(ctx: &Context, args: GcArgs) -> Result<Output> {
    let session = ctx.session()?;
    let policies = session.policies()?;
    let days = args.older_than.or(policies.gc.retention_days).unwrap_or(30);
    if args.apply {
        // The repository's lock lives in .swarm/runs: made as `start` makes it, so that no run
        // can create a worktree unseen while gc removes.
        session.swarm.ensure_dirs()?;
        git::ensure_exclude(&session.ws.common_dir, "/.swarm/runs/")?;
    }
    let _repository = if session.swarm.runs.is_dir() {
        Some(lock::acquire(
            &session.swarm.runs.join(".worktrees.lock"),
            "worktree creation",
            lock::default_timeout(),
        )?)
    } else {
        None
    };
    let root = session.ws.root.clone();
    let mut gc = Gc {
        runs: scan(&session.swarm),
        base: gc_ops::default_base(&root),
        prefix: policies.git.branching.branch_prefix.clone(),
        root,
        session: &session,
        apply: args.apply,
        include_resumable: args.include_resumable,
        cleared: HashMap::new(),
        locks: Vec::new(),
        gone: HashSet::new(),
        items: Vec::new(),
    };
    gc.finish_cut_short()?;
    gc.worktrees()?;
    gc.directories()?;
    gc.branches()?;
    gc.run_folders(days);
    Ok(gc.output(days))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Remove,
    Finish,
    Keep,
}

struct Item {
    kind: &'static str,
    target: String,
    action: Action,
    reason: String,
}

struct Verdict {
    action: Action,
    reason: String,
    step: Option<Step>,
}

fn keep(reason: impl Into<String>) -> Verdict {
    Verdict {
        action: Action::Keep,
        reason: reason.into(),
        step: None,
    }
}

fn act(action: Action, reason: impl Into<String>, step: Step) -> Verdict {
    Verdict {
        action,
        reason: reason.into(),
        step: Some(step),
    }
}

fn short(oid: &str) -> &str {
    &oid[..oid.len().min(12)]
}

struct Gc<'a> {
    session: &'a Session,
    root: PathBuf,
    apply: bool,
    include_resumable: bool,
    prefix: String,
    base: String,
    runs: Vec<RunInfo>,
    /// Per run id: may gc touch what it uses (decided once, under its lock)?
    cleared: HashMap<String, std::result::Result<(), String>>,
    locks: Vec<lock::RunLock>,
    /// Worktrees removed (with --apply) or that would be (without).
    gone: HashSet<PathBuf>,
    items: Vec<Item>,
}

impl Gc<'_> {
    /// Registered worktrees on swarm branches or recorded by a run.
    fn worktrees(&mut self) -> Result<()> {
        let entries = gc_ops::worktrees(&self.root)?;
        let main = entries.first().map(|e| e.path.clone());
        for e in entries.iter().skip(1) {
            if Some(&e.path) == main.as_ref() || e.path.starts_with(&self.session.ws.common_dir) {
                continue;
            }
            let claimers = self.claimers(Some(&e.path), e.branch.as_deref());
            let on_swarm_branch = e
                .branch
                .as_deref()
                .is_some_and(|b| b.starts_with(&self.prefix));
            if claimers.is_empty() && !on_swarm_branch {
                continue; // the user's own worktree
            }
            let target = e.path.display().to_string();
            if let Err(why) = self.gate(&claimers) {
                self.record("worktree", &target, keep(why));
                continue;
            }
            if let Some(reason) = &e.locked {
                let lock_file = gc_ops::admin_dir(&self.session.ws.common_dir, &e.path)
                    .map(|a| a.join("locked"));
                if reason != "initializing"
                    || gc_ops::creation_running(&e.path, lock_file.as_deref())
                {
                    let why = if reason == "initializing" {
                        "git is still creating it".to_string()
                    } else {
                        format!(
                            "locked with 'git worktree lock' ({}); run 'git worktree unlock {target}' if nothing needs it",
                            if reason.is_empty() {
                                "no reason given"
                            } else {
                                reason
                            }
                        )
                    };
                    self.record("worktree", &target, keep(why));
                    continue;
                }
                let v = act(
                    Action::Finish,
                    "git's 'initializing' lock, left by a 'git worktree add' that no longer runs",
                    Step::Unlock(e.clone()),
                );
                if !self.record("lock", &target, v) {
                    continue;
                }
            }
            let v = self.judge_worktree(e, &claimers);
            let gone = v.action != Action::Keep;
            if self.record("worktree", &target, v) && gone {
                self.gone.insert(e.path.clone());
            }
        }
        Ok(())
    }

    fn judge_worktree(&self, e: &Entry, claimers: &[usize]) -> Verdict {
        let p = &e.path;
        match std::fs::symlink_metadata(p) {
            Err(_) => {
                return act(
                    Action::Finish,
                    "half-removed: its directory is gone; git's record of it goes",
                    Step::Forget(e.clone()),
                );
            }
            Ok(m) if !m.is_dir() => {
                return keep(format!(
                    "{} is not a directory; move it away, then run 'git worktree prune'",
                    p.display()
                ));
            }
            Ok(_) => {}
        }
        let mut commits: Vec<String> = e.head.iter().cloned().collect();
        commits.extend(
            e.branch
                .as_deref()
                .and_then(|b| gc_ops::branch_tip(&self.root, b)),
        );
        commits.extend(self.recorded_commits(claimers));
        match gc_ops::dot_git(p) {
            DotGit::Foreign(why) => keep(format!("{why}; it is not git swarm's to remove")),
            DotGit::Missing => {
                self.judge_leftovers(p, &commits, Some(e), "half-removed: its .git is gone")
            }
            DotGit::Stale => self.judge_leftovers(
                p,
                &commits,
                Some(e),
                "half-removed: its .git no longer leads to git's record",
            ),
            DotGit::Live => self.judge_live(e),
        }
    }

    /// A worktree git can work with: removed when clean and its commits are safe elsewhere;
    /// finished when all that is missing are files and the rest is identical to its commit.
    fn judge_live(&self, e: &Entry) -> Verdict {
        let p = &e.path;
        let rev = e
            .branch
            .clone()
            .or_else(|| e.head.clone())
            .unwrap_or_default();
        match git::open(p).and_then(|r| git::clean::dirt(&r, true)) {
            Ok(d) if d.is_empty() => match gc_ops::safe_elsewhere(&self.root, &rev, &self.base) {
                Some(why) => act(
                    Action::Remove,
                    format!("clean, its commits are {why}"),
                    Step::RemoveWorktree(e.clone()),
                ),
                None => keep("its commits are on no remote and not merged"),
            },
            dirt => {
                let head: Vec<String> = e.head.iter().cloned().collect();
                let missing_only = gc_ops::only_missing_files(p).unwrap_or(false);
                if missing_only {
                    let v = self.judge_leftovers(
                        p,
                        &head,
                        Some(e),
                        "half-removed: files are missing from it",
                    );
                    if v.action != Action::Keep {
                        return v;
                    }
                }
                keep(match dirt {
                    Ok(d) => format!(
                        "has uncommitted or untracked changes: {} {} …",
                        d[0].kind, d[0].path
                    ),
                    Err(err) => format!("could not be checked: {}", err.message),
                })
            }
        }
    }

    /// Swarm branches whose commits are safe elsewhere.
    fn branches(&mut self) -> Result<()> {
        let checked_out: Vec<String> = gc_ops::worktrees(&self.root)?
            .into_iter()
            .filter(|e| !self.gone.contains(&e.path))
            .filter_map(|e| e.branch)
            .collect();
        for (name, oid) in gc_ops::branches(&self.root, &self.prefix)? {
            let claimers = self.claimers(None, Some(&name));
            let v = if let Err(why) = self.gate(&claimers) {
                keep(why)
            } else if checked_out.contains(&name) {
                keep("checked out in a worktree that stays")
            } else {
                match gc_ops::safe_elsewhere(&self.root, &oid, &self.base) {
                    Some(why) => act(
                        Action::Remove,
                        format!("its commits are {why}"),
                        Step::DeleteBranch {
                            name: name.clone(),
                            oid,
                        },
                    ),
                    None => keep("its commits are on no remote and not merged"),
                }
            };
            self.record("branch", &name, v);
        }
        Ok(())
    }

    /// Run folders of runs that ended long ago, and what an interrupted gc left of one.
    fn run_folders(&mut self, days: u64) {
        // Any number of days is accepted: one before the clock's epoch keeps every folder.
        let cutoff = SystemTime::now()
            .checked_sub(Duration::from_secs(days.saturating_mul(86_400)))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        for i in 0..self.runs.len() {
            let State::Status(s) = &self.runs[i].state else {
                continue;
            };
            let ended = humantime::parse_rfc3339_weak(&s.updated_at).unwrap_or(SystemTime::now());
            if s.outcome.is_in_progress() || ended >= cutoff {
                continue;
            }
            let outcome = s.outcome.as_str();
            let id = self.runs[i].run.id.clone();
            let v = match self.gate(&[i]) {
                Err(why) => keep(why),
                Ok(()) => match self.runs[i].paths.iter().find(|p| self.still_there(p)) {
                    Some(p) => keep(format!("its worktree {} is still there", p.display())),
                    None => act(
                        Action::Remove,
                        format!("{outcome} and untouched for more than {days} days"),
                        Step::RemoveRunFolder(i),
                    ),
                },
            };
            self.record("run", &id, v);
        }
        let Ok(entries) = std::fs::read_dir(&self.session.swarm.runs) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(TRASH_PREFIX) && e.file_type().is_ok_and(|t| t.is_dir()) {
                let v = act(
                    Action::Finish,
                    "a run folder an interrupted 'git swarm gc' was removing",
                    Step::RemoveTrash(e.path()),
                );
                self.record("run", &name, v);
            }
        }
    }

    /// Whether `p` exists and is not among what gc removed (or, without --apply, would).
    fn still_there(&self, p: &Path) -> bool {
        std::fs::symlink_metadata(p).is_ok() && !self.gone.contains(p)
    }

    /// The runs that record `path` or `branch`.
    fn claimers(&self, path: Option<&Path>, branch: Option<&str>) -> Vec<usize> {
        let path = path.map(real);
        (0..self.runs.len())
            .filter(|&i| self.runs[i].claims(path.as_deref(), branch))
            .collect()
    }

    /// May gc touch what these runs use? Each ended run is locked (and kept locked until gc
    /// ends) and its status read again under the lock; the answer is kept per run.
    fn gate(&mut self, claimers: &[usize]) -> std::result::Result<(), String> {
        if claimers.is_empty() {
            // Nothing records it, unless a run that cannot be read does.
            return match self.runs.iter().find_map(|r| match &r.state {
                State::Unreadable(e) => Some((r.run.id.clone(), e.clone())),
                _ => None,
            }) {
                Some((id, e)) => Err(format!(
                    "the status of run {id} cannot be read ({e}), so gc cannot tell whether this is its"
                )),
                None => Ok(()),
            };
        }
        for &i in claimers {
            let id = self.runs[i].run.id.clone();
            if !self.cleared.contains_key(&id) {
                let v = self.clear(i);
                self.cleared.insert(id.clone(), v);
            }
            self.cleared[&id].clone()?;
        }
        Ok(())
    }

    fn clear(&mut self, i: usize) -> std::result::Result<(), String> {
        let id = self.runs[i].run.id.clone();
        // A run that is in progress is not locked at all: gc keeps what it uses.
        check_state(&self.runs[i], self.include_resumable)?;
        let run = self.runs[i].run.clone();
        run.check_folders().map_err(|e| e.message)?;
        let l = lock::acquire(&run.lock_path(), &format!("run {id}"), RUN_LOCK_TRY).map_err(|_| {
            format!(
                "run {id} is busy: another git swarm command holds its lock; run 'git swarm gc' again once it is done"
            )
        })?;
        self.locks.push(l);
        // Under the lock the status cannot change any more: read it again and decide on it.
        self.runs[i] = RunInfo::read(run);
        check_state(&self.runs[i], self.include_resumable)
    }

    /// Records an item; with --apply performs its step first, re-checked. Returns whether the
    /// item was (or would be) done.
    fn record(&mut self, kind: &'static str, target: &str, v: Verdict) -> bool {
        let mut item = Item {
            kind,
            target: target.to_string(),
            action: v.action,
            reason: v.reason,
        };
        if self.apply
            && let Some(step) = v.step
            && let Err(why) = self.journaled(kind, target, &step)
        {
            item.action = Action::Keep;
            item.reason = why;
        }
        let done = item.action != Action::Keep;
        self.items.push(item);
        done
    }

    fn output(self, days: u64) -> Output {
        let count = |a: Action| self.items.iter().filter(|i| i.action == a).count();
        let (removed, finished) = (count(Action::Remove), count(Action::Finish));
        let mut text = String::new();
        for i in &self.items {
            let verb = match (i.action, self.apply) {
                (Action::Remove, false) => "remove",
                (Action::Remove, true) => "removed",
                (Action::Finish, false) => "finish",
                (Action::Finish, true) => "finished",
                (Action::Keep, false) => "keep",
                (Action::Keep, true) => "kept",
            };
            text.push_str(&format!(
                "{verb:<8} {:<9} {}  ({})\n",
                i.kind, i.target, i.reason
            ));
        }
        if self.items.is_empty() {
            text.push_str("nothing to clean up\n");
        } else if self.apply {
            text.push_str(&format!(
                "removed {removed} item(s), finished {finished} interrupted removal(s)\n"
            ));
        } else if removed + finished > 0 {
            text.push_str(&format!(
                "{} item(s) would be removed or finished; run 'git swarm gc --apply' to do it\n",
                removed + finished
            ));
        }
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|i| {
                json!({
                    "kind": i.kind,
                    "target": i.target,
                    "action": match i.action {
                        Action::Remove => "remove",
                        Action::Finish => "finish",
                        Action::Keep => "keep",
                    },
                    "reason": i.reason,
                })
            })
            .collect();
        Output::new(
            json!({
                "applied": self.apply,
                "retentionDays": days,
                "includeResumable": self.include_resumable,
                "items": items,
            }),
            text,
        )
    }
}
