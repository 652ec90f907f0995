//! The imperative shell around the step machine: finds the workspace and the run, reads and
//! validates results, gathers facts from git, calls the pure transition, and performs its
//! effects in the crash-safe order (effects, events, then `run.status.json` last).

mod facts;
pub mod place;

use std::path::{Path, PathBuf};

use crate::config::{self, Workflow, paths::home_dir, policies::Policies};
use crate::error::{Error, Result};
use crate::git::{self, Workspace};
use crate::machine::{self, Arrival, Ctx, Effect, Facts, Transition, state::RunStatus};
use crate::store::{RunDir, Swarm, atomic, events, lock};

pub use facts::{check_result, gather_facts, read_arrival, symlink_escapes, validate_arrival};

/// What every command that works on a repository needs.
pub struct Session {
    pub cwd: PathBuf,
    pub ws: Workspace,
    pub swarm: Swarm,
    pub config_flag: Option<PathBuf>,
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
    pub fn run_config(&self, st: &RunStatus) -> Result<Workflow> {
        let home = self.home()?;
        config::load(&self.run_config_path(st), &self.ws.root, &home)
    }

    /// Where the config of a run is (see [`Session::run_config`]).
    pub fn run_config_path(&self, st: &RunStatus) -> PathBuf {
        match (&self.config_flag, std::env::var_os("GIT_SWARM_CONFIG")) {
            (Some(p), _) => absolute(&self.cwd, p),
            (None, Some(p)) if !p.is_empty() => absolute(&self.cwd, Path::new(&p)),
            _ => PathBuf::from(&st.swarm.config),
        }
    }

    pub fn policies(&self) -> Result<Policies> {
        Policies::load(&self.swarm.policies_path())
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
        // The lock file is in the run folder: it is only opened in the repository's own one.
        run.check_folders()?;
        let l = lock::acquire(
            &run.lock_path(),
            &format!("run {}", run.id),
            lock::default_timeout(),
        )?;
        if let Some(prev) = &l.recovered_from {
            crate::style::note(format!(
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
    events::append(&run.events_path(), &t.events)?;
    run.write_status(&t.status)?;
    crate::report::manager_plan::write(run, &t.status)?;
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
            adopt,
        } => {
            let p = Path::new(path);
            // Done already by an interrupted attempt of this transition?
            if *adopt || (p.exists() && git::worktree_branch(p).as_deref() == Some(branch.as_str()))
            {
                // Created by an interrupted attempt; its setup may not have finished.
                return crate::worktree_setup::prepare(session, run, p);
            }
            let root = &session.ws.root;
            let is_run_worktree = !branch.contains("--w");
            // The last word before git checks anything out: every worktree, the run's and each
            // worker's, stays in an allowed place (the run's was judged when it was chosen).
            place::confine(
                root,
                p,
                if is_run_worktree {
                    place::Source::Status
                } else {
                    place::Source::Worker
                },
            )?;
            if is_run_worktree {
                // Intent first: if we die inside `git worktree add`, the next attempt knows the
                // branch and directory are this run's and resumes instead of picking new names.
                atomic::write_json(
                    &run.worktree_intent_path(),
                    &serde_json::json!({"branch": branch, "path": path, "base": base}),
                )?;
            }
            let repo = session.ws.open()?;
            let created = if git::branch_exists(&repo, branch) {
                if is_run_worktree {
                    let _ = git::Git::new(root).args(["worktree", "prune"]).run();
                }
                git::worktree_add_existing(root, p, branch)
            } else {
                git::worktree_add(root, p, branch, base)
            };
            created?;
            crate::worktree_setup::prepare(session, run, p)?;
        }
        Effect::MergeWorkers { into, workers } => merge_workers(session, Path::new(into), workers)?,
        Effect::RemoveWorktree { path } => {
            crate::failpoint!("worktree-remove-before");
            git::Git::new(&session.ws.root)
                .args(["worktree", "remove"])
                .arg_path(Path::new(path))
                .run()?;
            crate::failpoint!("worktree-remove-after");
        }
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
                    .and_then(|t| crate::usage::from_field(t).ok())
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
/// skipped when already done, so a crash in the middle is finished by running it again.
fn merge_workers(
    session: &Session,
    into: &Path,
    workers: &[(String, String, String)],
) -> Result<()> {
    let root = &session.ws.root;
    for (label, branch, path) in workers {
        let wt = Path::new(path);
        if wt == into {
            // The worker that worked in the run's worktree: its work only needs committing.
            commit_leftovers(wt, label)?;
            continue;
        }
        let exists = git::branch_exists(&session.ws.open()?, branch);
        if wt.exists() {
            commit_leftovers(wt, label)?;
        }
        if exists {
            let merged = git::Git::new(into)
                .args(["merge-base", "--is-ancestor", branch, "HEAD"])
                .output()?
                .status
                .success();
            if !merged {
                crate::failpoint!("merge-before");
                git::Git::new(into)
                    .args([
                        "merge",
                        "--no-edit",
                        "-q",
                        "-m",
                        &format!("Merge {}", label.lines().next().unwrap_or_default()),
                        branch,
                    ])
                    .run()
                    .map_err(|e| {
                        e.hint(format!(
                            "resolve the merge in {} by hand, then run 'git swarm next'",
                            into.display()
                        ))
                    })?;
                crate::failpoint!("merge-after");
            }
        }
        if wt.exists() {
            git::Git::new(root)
                .args(["worktree", "remove", "--force"])
                .arg_path(wt)
                .run()?;
        }
        if exists {
            git::Git::new(root)
                .args(["branch", "-D", "-q", branch])
                .run()?;
        }
    }
    Ok(())
}

/// Commits whatever a worker left uncommitted (checked in-process; git only runs when needed),
/// with a message made from the plan's words.
fn commit_leftovers(wt: &Path, message: &str) -> Result<()> {
    let dirty = !git::clean::dirt(&git::open(wt)?, true)?.is_empty();
    if dirty {
        git::Git::new(wt).args(["add", "-A"]).run()?;
        git::Git::new(wt)
            .args(["commit", "-q", "-m", message])
            .run()?;
    }
    Ok(())
}
