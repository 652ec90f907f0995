//! The imperative shell around the step machine: finds the workspace and the run, reads and
//! validates results, gathers facts from git, calls the pure transition, and performs its
//! effects in the crash-safe order (effects, events, then `run.status.json` last).

mod facts;
pub mod place;
pub mod publish;

use std::path::{Path, PathBuf};

use crate::config::{self, Workflow, paths::home_dir, policies::Policies};
use crate::error::{Error, Result};
use crate::git::worktree::State;
use crate::git::{self, Workspace};
use crate::machine::{self, Arrival, Ctx, Effect, Facts, Transition, state::RunStatus};
use crate::store::ledger::{self, Stage};
use crate::store::{self as store, RunDir, Swarm, atomic, events, lock};

pub use facts::{check_result, gather_facts, read_arrival, symlink_escapes, validate_arrival};

/// What every command that works on a repository needs.
pub struct Session {
    pub cwd: PathBuf,
    pub ws: Workspace,
    pub swarm: Swarm,
    pub config_flag: Option<PathBuf>,
    /// What one transaction reads, each once: see [`Snapshot`].
    snapshot: Snapshot,
}

/// What a transaction is judged by, read once per transaction: the run's config (with its
/// agents' compiled result validators), the policy, and the content tree of each work
/// location. Emptied when a run's lock is taken (a new transaction: agents and people may have
/// changed anything since) and after each applied transition (its effects changed git).
#[derive(Default)]
pub struct Snapshot {
    config: std::cell::RefCell<Option<(PathBuf, std::rc::Rc<Workflow>)>>,
    policies: std::cell::RefCell<Option<std::rc::Rc<Policies>>>,
    validators: std::cell::RefCell<
        std::collections::HashMap<PathBuf, std::rc::Rc<(jsonschema::Validator, serde_json::Value)>>,
    >,
    trees: std::cell::RefCell<std::collections::HashMap<PathBuf, (String, String)>>,
}

impl Snapshot {
    /// Forgets everything (a new transaction).
    pub fn clear(&self) {
        self.config.borrow_mut().take();
        self.policies.borrow_mut().take();
        self.validators.borrow_mut().clear();
        self.trees.borrow_mut().clear();
    }

    /// Forgets what git effects change (content trees).
    pub fn clear_trees(&self) {
        self.trees.borrow_mut().clear();
    }
}

impl Session {
    pub fn open(cwd: &Path, config_flag: Option<PathBuf>) -> Result<Session> {
        let ws = git::discover(cwd)?;
        let swarm = Swarm::new(&ws.root);
        Ok(Session {
            cwd: cwd.to_path_buf(),
            ws,
            swarm,
            config_flag,
            snapshot: Snapshot::default(),
        })
    }

    pub fn home(&self) -> Result<PathBuf> {
        home_dir()
    }

    /// Where the workflow config is for a new run (flag, env, git config, default).
    pub fn config_location(&self) -> Result<config::paths::ConfigLocation> {
        let home = self.home()?;
        let from_git =
            if self.config_flag.is_none() && std::env::var_os("GIT_SWARM_CONFIG").is_none() {
                self.ws.open().ok().and_then(|r| {
                    r.config_snapshot()
                        .string("swarm.config")
                        .map(|s| s.to_string())
                })
            } else {
                None
            };
        Ok(config::paths::locate(
            self.config_flag.as_deref(),
            from_git,
            &self.cwd,
            &home,
        ))
    }

    /// The config of a run: the one it started with unless `--config`/`GIT_SWARM_CONFIG`
    /// say otherwise.
    pub fn run_config(&self, st: &RunStatus) -> Result<std::rc::Rc<Workflow>> {
        let path = self.run_config_path(st);
        if let Some((p, cfg)) = self.snapshot.config.borrow().as_ref()
            && *p == path
        {
            return Ok(cfg.clone());
        }
        let home = self.home()?;
        let cfg = std::rc::Rc::new(config::load(&path, &self.ws.root, &home)?);
        *self.snapshot.config.borrow_mut() = Some((path, cfg.clone()));
        Ok(cfg)
    }

    /// The content tree of a work location (`(HEAD, tree)`, uncommitted and untracked files
    /// included), computed at most once per transaction.
    pub fn content_tree(&self, path: &Path) -> Result<(String, String)> {
        if let Some(t) = self.snapshot.trees.borrow().get(path) {
            return Ok(t.clone());
        }
        let t = git::content_tree(path)?;
        self.snapshot
            .trees
            .borrow_mut()
            .insert(path.to_path_buf(), t.clone());
        Ok(t)
    }

    /// A result schema, compiled once per transaction.
    pub fn validator(
        &self,
        path: &Path,
    ) -> Result<std::rc::Rc<(jsonschema::Validator, serde_json::Value)>> {
        if let Some(v) = self.snapshot.validators.borrow().get(path) {
            return Ok(v.clone());
        }
        let v = std::rc::Rc::new(crate::schema::load_with_source(path)?);
        self.snapshot
            .validators
            .borrow_mut()
            .insert(path.to_path_buf(), v.clone());
        Ok(v)
    }

    /// Where the config of a run is (see [`Session::run_config`]).
    pub fn run_config_path(&self, st: &RunStatus) -> PathBuf {
        match (&self.config_flag, std::env::var_os("GIT_SWARM_CONFIG")) {
            (Some(p), _) => absolute(&self.cwd, p),
            (None, Some(p)) if !p.is_empty() => absolute(&self.cwd, Path::new(&p)),
            _ => PathBuf::from(&st.swarm.config),
        }
    }

    pub fn policies(&self) -> Result<std::rc::Rc<Policies>> {
        if let Some(p) = self.snapshot.policies.borrow().as_ref() {
            return Ok(p.clone());
        }
        let p = std::rc::Rc::new(Policies::load(&self.swarm.policies_path())?);
        *self.snapshot.policies.borrow_mut() = Some(p.clone());
        Ok(p)
    }

    /// The run a command means: `--run`, else the only in-progress run.
    pub fn active_run(&self, wanted: Option<&str>) -> Result<RunDir> {
        if let Some(w) = wanted {
            return self.swarm.find_run(w);
        }
        let active = self.swarm.active_runs()?;
        match active.len() {
            1 => Ok(active.into_iter().next().expect("one").0),
            0 => Err(Error::failure("there is no run in progress in this repository")
                .hint("start one with 'git swarm start <task>', or name a run with --run <id> ('git swarm list' shows them)")),
            n => {
                let ids: Vec<String> = active
                    .iter()
                    .map(|(r, s)| format!("{} ({})", r.id, first_line(&s.swarm.task.text)))
                    .collect();
                Err(Error::failure(format!("{n} runs are in progress: {}", ids.join(", ")))
                    .hint("say which one with --run <id>"))
            }
        }
    }

    /// The run a command means: `--run`, else the most recent run.
    pub fn recent_run(&self, wanted: Option<&str>) -> Result<RunDir> {
        if let Some(w) = wanted {
            return self.swarm.find_run(w);
        }
        let all = self.swarm.all_runs()?;
        all.into_iter()
            .rev()
            .find(|(_, s)| s.is_ok())
            .map(|(r, _)| r)
            .ok_or_else(|| {
                Error::failure("there are no runs in this repository")
                    .hint("start one with 'git swarm start <task>'")
            })
    }

    pub fn lock(&self, run: &RunDir) -> Result<lock::RunLock> {
        // A new transaction: whatever was read before may have changed.
        self.snapshot.clear();
        // The lock file is in the run folder: it is only opened in the repository's own one.
        run.check_folders()?;
        let l = lock::acquire(
            &run.lock_path(),
            &format!("run {}", run.id),
            lock::default_timeout(),
        )?;
        if let Some(prev) = &l.recovered_from {
            crate::cli::style::note(format!(
                "recovered the lock of run {} from {prev}, which ended without releasing it",
                run.id
            ));
            remove_torn_temp_files(run);
        }
        Ok(l)
    }

    /// A machine context for `run`.
    pub fn ctx<'a>(&'a self, cfg: &'a Workflow, run: &'a RunDir, standards: &'a Path) -> Ctx<'a> {
        Ctx {
            cfg,
            run,
            workspace: &self.ws.root,
            standards_path: standards,
            now: now(),
            ids: (0..8).map(|_| uuid::Uuid::new_v4().to_string()).collect(),
        }
    }
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

pub fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or_default().trim();
    if l.chars().count() > 60 {
        format!("{}…", l.chars().take(59).collect::<String>())
    } else {
        l.to_string()
    }
}

/// The real UTC clock, RFC 3339 with milliseconds.
pub fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// The result files present for pending invocations, without reading them: `(slot, file)`.
/// A result already moved into the archive by an interrupted transition is found there.
/// Anything at a result's path counts — a FIFO, a directory or a symlink too — so that it is
/// refused at once when it is read, rather than waited for.
pub fn present_results(run: &RunDir, st: &RunStatus) -> Vec<(usize, PathBuf)> {
    let present = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    let mut out = Vec::new();
    for (i, inv) in st.swarm.pending.iter().enumerate() {
        let archived = run.consumed_path(inv.step, &inv.stem());
        if present(&archived) {
            out.push((i, archived));
            continue;
        }
        let p = PathBuf::from(&inv.result);
        if present(&p) {
            out.push((i, p));
        }
    }
    out
}

/// Performs a transition: effects in order, then the events, then the status. A crash at any
/// point leaves files that the next invocation completes (see `present_results`).
pub fn apply(session: &Session, run: &RunDir, t: &Transition) -> Result<()> {
    // Agents write in the run folder while a step runs: its folders are checked again right
    // before the tool writes in them.
    run.check_folders()?;
    remove_torn_temp_files(run);
    let active = t.status.outcome.is_in_progress();
    if active {
        session.swarm.set_active(&run.id, true)?;
    }
    atomic::create_dir_all(&run.archive_dir())?;
    for e in &t.effects {
        perform(session, run, e)?;
    }
    crate::trace::mark("apply: effects performed");
    // The effects changed git: content trees are computed afresh from here.
    session.snapshot.clear_trees();
    events::append(&run.events_path(), &t.events)?;
    run.write_status(&t.status)?;
    crate::store::manager_plan::write(run, &t.status)?;
    if !active {
        session.swarm.set_active(&run.id, false)?;
    }
    Ok(())
}

/// Temporary files of the tool's own writes in a run folder belong to a writer that died
/// before its rename (we hold the run's lock, so no live writer of the tool owns one); they are
/// garbage. Agents write in the run folder too (results, the plan), at any time and with any
/// temporary names: their files are never touched.
fn remove_torn_temp_files(run: &RunDir) {
    fn tools_own(target: &str, archived: bool) -> bool {
        let agents = (target.ends_with(".result.json")
            && target != "manual-intervention-required.result.json")
            || target.ends_with("plan.json");
        archived || !agents
    }
    for (dir, archived) in [(run.path.clone(), false), (run.archive_dir(), true)] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            // `.<target>.<random>.tmp`, as `atomic::write` names them.
            let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
                continue;
            };
            let target = inner.rsplit_once('.').map(|(t, _)| t).unwrap_or(inner);
            if tools_own(target, archived) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
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
            let bytes = crate::store::safe::read_regular(from, None)?;
            atomic::write(to, &bytes)?;
        }
        Effect::WriteJson { path, value } => atomic::write_json(path, value)?,
        Effect::WriteText { path, text } => atomic::write(path, text.as_bytes())?,
        Effect::CreateWorktree {
            branch,
            path,
            base,
            worker,
            ..
        } => create_worktree(
            session,
            run,
            Path::new(path),
            branch,
            base,
            worker.as_deref(),
        )?,
        Effect::MergeWorkers { into, workers } => {
            merge_workers(session, run, Path::new(into), workers)?
        }
        Effect::RemoveWorktree { path } => {
            let p = Path::new(path);
            let mut l = run.ledger()?;
            l.mark(path, Stage::Removing);
            run.save_ledger(&l)?;
            git_step(session, run, &format!("worktree remove {path}"), || {
                git::worktree::remove(&session.ws.root, p, false)
            })?;
            let mut l = run.ledger()?;
            l.mark(path, Stage::Removed);
            run.save_ledger(&l)?;
        }
    }
    Ok(())
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
fn create_worktree(
    session: &Session,
    run: &RunDir,
    p: &Path,
    branch: &str,
    base: &str,
    worker: Option<&str>,
) -> Result<()> {
    let root = &session.ws.root;
    let path = p.display().to_string();
    let mut ledger = run.ledger()?;
    // Runs that recorded only `worktree.json` (before the ledger existed) own that place.
    if worker.is_none()
        && ledger.find(&path, branch).is_none()
        && let Ok(intent) = store::read_json(&run.worktree_intent_path())
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
    match git::worktree::inspect(root, p, branch)? {
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
                || git::worktree::undo_half_made(root, p),
            )?;
        }
        State::HalfMade(why) | State::Foreign(why) => return Err(foreign(why)),
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
    let repo = session.ws.open()?;
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
        || git::worktree::add(root, p, branch, base, branch_exists),
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

/// Runs of one repository choose worktree names one at a time: a transition that may create
/// the run's worktree holds this lock from probing a free name to creating it, so two runs
/// planned at the same moment never pick the same branch.
pub fn worktree_lock(
    session: &Session,
    st: &RunStatus,
    cfg: &Workflow,
) -> Result<Option<lock::RunLock>> {
    if !cfg.branching || st.worktree_path.is_some() {
        return Ok(None);
    }
    let l = lock::acquire(
        &session.swarm.runs.join(".worktrees.lock"),
        "worktree creation",
        lock::default_timeout(),
    )?;
    Ok(Some(l))
}

/// Validates a transition's pre-conditions that need the world, then applies it; used by the
/// commands so they all advance runs the same way.
pub fn transition(
    session: &Session,
    run: &RunDir,
    f: impl FnOnce(&mut Ctx, &Facts) -> Result<Transition>,
    cfg: &Workflow,
    facts: &Facts,
) -> Result<RunStatus> {
    let standards = session.swarm.standards_path();
    let mut ctx = session.ctx(cfg, run, &standards);
    let t = f(&mut ctx, facts)?;
    apply(session, run, &t)?;
    Ok(t.status)
}

/// Advances an in-progress run as far as it can without an agent. Returns the status after.
pub fn advance(session: &Session, run: &RunDir, reject: Option<&str>) -> Result<RunStatus> {
    let mut st = run.require_status()?;
    if st.outcome.is_in_progress() {
        // Any transition may create a worktree and run the policy's setup command in it:
        // refuse before the first one when that command is not trusted.
        crate::trust::require(session, &[crate::trust::Use::Setup], None)?;
    }
    let mut rejected = false;
    // A transition can only be followed by another when results are already waiting (an
    // agent that wrote early); the bound is a guard, never reached in practice.
    for _ in 0..16 {
        if !st.outcome.is_in_progress() {
            break;
        }
        let present = present_results(run, &st);
        if let Some(feedback) = reject.filter(|_| !rejected) {
            let Some((slot, file)) = present.into_iter().next() else {
                let waiting: Vec<_> = st.swarm.pending.iter().map(|p| p.agent.as_str()).collect();
                return Err(Error::refused(format!(
                    "nothing to reject: no fresh result of {} in {}",
                    if waiting.is_empty() { "any agent".to_string() } else { waiting.join(", ") },
                    run.path.display()
                ))
                .hint("--reject applies to a result that 'git swarm next' has not consumed yet; read the result first, then call next --reject"));
            };
            let cfg = session.run_config(&st)?;
            let usage = crate::store::read_json(&file).ok().and_then(|v| {
                v.get("tokens")
                    .and_then(|t| crate::machine::usage::from_field(t).ok())
            });
            let arrival = Arrival {
                slot,
                file,
                content: Ok(serde_json::Value::Null),
                violations: Vec::new(),
                plan: None,
                changed: None,
                unattributed: Vec::new(),
                usage,
            };
            let facts = gather_facts(session, run, &st, &cfg, &[])?;
            st = transition(
                session,
                run,
                |ctx, facts| Ok(machine::reject(ctx, facts, &st, arrival, feedback)),
                &cfg,
                &facts,
            )?;
            rejected = true;
            continue;
        }
        if present.is_empty() {
            // A complete batch is merged, then the run continues from the merged content:
            // two transitions, each with the facts of its moment.
            if let Some(batch) = st.swarm.batch.clone().filter(|b| b.complete) {
                let cfg = session.run_config(&st)?;
                let facts = gather_facts(session, run, &st, &cfg, &[])?;
                st = if batch.merged {
                    transition(
                        session,
                        run,
                        |ctx, facts| Ok(machine::after_merge(ctx, facts, &st)),
                        &cfg,
                        &facts,
                    )?
                } else {
                    transition(
                        session,
                        run,
                        |ctx, facts| Ok(machine::merge_batch(ctx, facts, &st)),
                        &cfg,
                        &facts,
                    )?
                };
                continue;
            }
            break;
        }
        let cfg = session.run_config(&st)?;
        let _worktrees = worktree_lock(session, &st, &cfg)?;
        let mut arrivals = Vec::new();
        for (slot, file) in present {
            arrivals.push(read_arrival(session, run, &st, &cfg, slot, &file)?);
        }
        crate::trace::mark("advance: results read");
        let facts = gather_facts(session, run, &st, &cfg, &arrivals)?;
        crate::trace::mark("advance: facts gathered");
        let before = st.swarm.seq;
        st = transition(
            session,
            run,
            |ctx, facts| Ok(machine::consume(ctx, facts, &st, arrivals)),
            &cfg,
            &facts,
        )?;
        if st.swarm.seq == before {
            break;
        }
    }
    Ok(st)
}

/// Merges a finished batch: each worker's leftovers are committed on its branch, its branch is
/// merged into the run's worktree, then its worktree and branch are removed. Every step is
/// skipped when already done, and each git step is recorded before it starts, so a crash in the
/// middle — the tool and its git killed together — is finished by running it again: a merge
/// the killed git left half made is undone and made again, a half-removed worktree finished.
/// Only workers the run's ledger records as its own are touched.
fn merge_workers(
    session: &Session,
    run: &RunDir,
    into: &Path,
    workers: &[(String, String, String)],
) -> Result<()> {
    let root = &session.ws.root;
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
        let interrupted = ledger.op.is_some();
        let exists = git::branch_exists(&session.ws.open()?, branch);
        if wt.join(".git").is_file() {
            git_step(session, run, &format!("commit leftovers in {path}"), || {
                git::ops::commit_all(wt, message)
            })?;
        }
        if exists {
            let subject = format!("Merge {}", message.lines().next().unwrap_or_default());
            git_step(session, run, &format!("merge {branch} into {}", into.display()), || {
                if git::ops::merge_in_progress(into) {
                    if !interrupted {
                        return Err(Error::failure(format!(
                            "a merge is in progress in {}",
                            into.display()
                        )));
                    }
                    crate::cli::style::note(format!(
                        "undoing the merge of {branch} that was interrupted in {}, to make it again",
                        into.display()
                    ));
                    git::ops::merge_abort(into)?;
                }
                git::ops::merge(into, branch, &subject)
            })
            .map_err(|e| {
                e.hint(format!(
                    "resolve the merge in {} by hand (or 'git merge --abort'), then run 'git swarm next'",
                    into.display()
                ))
            })?;
        }
        let mut l = run.ledger()?;
        l.mark(path, Stage::Removing);
        run.save_ledger(&l)?;
        git_step(session, run, &format!("worktree remove {path}"), || {
            git::worktree::remove(root, wt, true)
        })?;
        git_step(session, run, &format!("branch -D {branch}"), || {
            git::ops::delete_branch(root, branch)
        })?;
        let mut l = run.ledger()?;
        l.mark(path, Stage::Removed);
        run.save_ledger(&l)?;
    }
    Ok(())
}
