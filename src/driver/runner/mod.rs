//! `git swarm run`: exec mode. Loops `next` → launch the invocations (a batch at once) →
//! wait → `next` … → `publish`, until the run ends. The state machine does the bookkeeping
//! exactly as in host mode; this loop only plays the agent host.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::agents::exec::{self, Exit, Running};
use crate::agents::profile::Launch;
use crate::config::{Workflow, policies::Policies};
use crate::driver::{self, Session, Tx, validate_arrival};
use crate::error::{Error, ErrorKind, Result};
use crate::machine::{
    self, ActionKind, action_of,
    state::{Invocation, RunStatus},
};
use crate::store::{RunDir, lock};

use crate::agents::launch::launch_for;
use crate::agents::launch::timeout_of;
use crate::trust::Use;

mod follow_wait;
use follow_wait::follow_once;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn install_ctrl_c() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    });
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Print progress (which agent, how long, the log) on stderr.
    pub progress: bool,
    /// Go on into the follow phase after publishing (`--follow`, `follow.enabled`).
    pub follow: bool,
    /// Stop when a batch of parallel workers is handed out, leaving them to other machines
    /// (`git swarm work`).
    pub workers_elsewhere: bool,
    /// Stop before publishing.
    pub no_publish: bool,
    /// Launch only this worker's invocation (`git swarm work`).
    pub only_worker: Option<String>,
}

impl Options {
    /// Progress on a terminal, quiet otherwise (and with `--json`).
    pub fn for_terminal(json: bool) -> Options {
        Options {
            progress: !json
                && (std::io::stderr().is_terminal()
                    || std::env::var_os("GIT_SWARM_PROGRESS").is_some()),
            follow: false,
            workers_elsewhere: false,
            no_publish: false,
            only_worker: None,
        }
    }
}

fn say(opts: &Options, msg: impl AsRef<str>) {
    if opts.progress {
        use crate::cli::style::{Stream, Style, paint};
        let m = msg.as_ref();
        let styled = [("✓", Style::Good), ("✗", Style::Bad), ("▶", Style::Info)]
            .iter()
            .find_map(|(mark, style)| {
                m.strip_prefix(mark)
                    .map(|rest| format!("{}{rest}", paint(Stream::Stderr, *style, mark)))
            });
        eprintln!("{}", styled.as_deref().unwrap_or(m));
    }
}

fn interrupted(run: &RunDir) -> Error {
    Error::new(
        ErrorKind::Interrupted,
        format!(
            "interrupted; the agents were stopped and run {} is left as it was",
            run.id
        ),
    )
    .hint(format!("resume it with 'git swarm run --run {}'", run.id))
}

/// Drives the run to its end; returns its final status.
pub fn run(session: &Session, run: &RunDir, opts: &Options) -> Result<RunStatus> {
    install_ctrl_c();
    // One runner per run: a second one would launch every agent twice.
    let _runner = lock::acquire(
        &run.path.join(".runner.lock"),
        &format!("run {} (exec mode)", run.id),
        Duration::from_millis(200),
    )?;
    // Before any agent starts: everything this run may make git swarm run — the setup
    // command, the agents' launches and permissions, the pull-request command — must be
    // trusted, so an untrusted file refuses now rather than after hours of agent work.
    let config = session.run_config_path(&run.require_status()?);
    crate::trust::require(session, &Use::ALL, Some(&config))?;
    let follow = opts.follow || session.policies()?.follow.enabled;
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err(interrupted(run));
        }
        let st = driver::advance_keeping(&Tx::begin(session, run)?, None)?;
        if action_of(&st) != ActionKind::Invoke {
            finish_removals(session, run)?;
        }
        match action_of(&st) {
            ActionKind::Invoke
                if opts.workers_elsewhere
                    && st.swarm.pending.iter().any(|p| p.worker.is_some()) =>
            {
                return Ok(st);
            }
            ActionKind::Publish if opts.no_publish => return Ok(st),
            ActionKind::Invoke => {
                // The files may have changed while the last agents worked.
                crate::trust::require(session, &[Use::Agents], Some(&config))?;
                run_agents(session, run, &st, opts)?
            }
            ActionKind::Publish => {
                say(opts, "▶ publish");
                let tx = Tx::begin(session, run)?;
                crate::driver::publish::publish(&tx, &crate::driver::publish::Options::default())?;
            }
            ActionKind::Done
                if follow
                    && st.pr_url.is_some()
                    && !st.swarm.follow.as_ref().is_some_and(|f| f.done) =>
            {
                follow_once(session, run, opts)?;
            }
            _ => return Ok(st),
        }
    }
}

/// Runs the agent of one pending worker (`opts.only_worker`) to its end, relaunching it as
/// `run` would; the run is not advanced.
pub fn run_worker(session: &Session, run: &RunDir, opts: &Options) -> Result<()> {
    install_ctrl_c();
    let st = run.require_status()?;
    let config = session.run_config_path(&st);
    crate::trust::require(session, &[Use::Agents], Some(&config))?;
    run_agents(session, run, &st, opts)
}

/// Removes merged workers' worktrees whose removal was decided, under the run's lock.
fn finish_removals(session: &Session, run: &RunDir) -> Result<()> {
    let tx = Tx::begin(session, run)?;
    crate::driver::effects::finish_removals(tx.session, tx.run)
}

fn key(inv: &Invocation) -> String {
    format!("{}@{}", inv.stem(), inv.step)
}

/// One bookkeeping transition of the runner: under the run's lock, on the status as it is
/// now. `facts` only when the transition may hand work out (a relaunch needs the work
/// location's content as the new baseline).
fn step(
    session: &Session,
    run: &RunDir,
    cfg: &Workflow,
    facts: bool,
    f: impl FnOnce(&mut machine::Ctx, &machine::Facts, &RunStatus) -> machine::Transition,
) -> Result<RunStatus> {
    let tx = Tx::begin(session, run)?;
    let st = tx.status()?;
    let facts = if facts {
        tx.facts(&st, cfg, &[])?
    } else {
        machine::Facts::default()
    };
    tx.transition(cfg, &facts, |ctx, facts| Ok(f(ctx, facts, &st)))
}

/// Where the invocation's pending slot is now (relaunches replace invocations).
fn slot_of(st: &RunStatus, slot_key: &str) -> Option<(usize, Invocation)> {
    st.swarm
        .pending
        .iter()
        .enumerate()
        .find(|(_, p)| key(p) == slot_key)
        .map(|(i, p)| (i, p.clone()))
}

/// Launches every pending invocation that has no result yet — or watches the agent an earlier,
/// killed `git swarm run` left running for it — and waits for all of them, relaunching agents
/// that end without a valid result (a bounded number of times, counted in the run's status).
fn run_agents(session: &Session, run: &RunDir, st: &RunStatus, opts: &Options) -> Result<()> {
    let cfg = session.run_config(st)?;
    let policies = session.policies()?;
    let mut running: Vec<Running> = Vec::new();
    let mut launched = Vec::new();
    let mut ended_unwatched: Vec<Running> = Vec::new();
    for (slot, inv) in st.swarm.pending.iter().enumerate() {
        if opts
            .only_worker
            .as_ref()
            .is_some_and(|w| inv.worker.as_ref() != Some(w))
        {
            continue;
        }
        let k = exec::invocation_key(&st.run_id, inv);
        let has_result = Path::new(&inv.result).exists();
        // An agent that wrote its result may still be finishing (committing, answering its
        // CLI): nothing moves on while it runs.
        if has_result && inv.process.is_none() {
            continue;
        }
        let l = launch_for(session, &cfg, &policies, run, st, inv)?;
        // A launch writes its log before the agent starts: without a log, nothing was ever
        // launched for this step and there is no process to look for.
        let maybe_launched = inv.process.is_some() || run.log_path(inv.step, &inv.stem()).exists();
        if let Some((pid, ticks)) = maybe_launched
            .then(|| exec::find_live(&k, inv.process.as_ref()))
            .flatten()
        {
            let (log, log_start, age) = match &inv.process {
                Some(p) if p.pid == pid => (
                    PathBuf::from(&p.log),
                    p.log_start,
                    humantime::parse_rfc3339_weak(&p.launched_at)
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .unwrap_or_default(),
                ),
                _ => {
                    let log = run.log_path(inv.step, &inv.stem());
                    let start = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
                    (log, start, Duration::ZERO)
                }
            };
            say(
                opts,
                format!(
                    "▶ {} is still running from an earlier 'git swarm run' (pid {pid}); waiting for it instead of launching it again — log: {}",
                    inv.who(),
                    log.display()
                ),
            );
            crate::cli::style::note(format!(
                "{} (pid {pid}) was left running by an earlier 'git swarm run'; waiting for it to finish",
                inv.who()
            ));
            let r = exec::adopt(
                key(inv),
                pid,
                ticks,
                &l,
                &log,
                log_start,
                age,
                timeout_of(&cfg, &inv.agent),
            );
            if inv.process.as_ref().map(|p| p.pid) != Some(pid) {
                launched.push((slot, r.record(&crate::store::now())));
            }
            running.push(r);
            continue;
        }
        if has_result {
            continue;
        }
        if let Some(p) = &inv.process {
            // Launched by an earlier runner and ended while nobody watched: judge it like any
            // other exit.
            let r = exec::adopt(
                key(inv),
                p.pid,
                p.start_ticks,
                &l,
                Path::new(&p.log),
                p.log_start,
                Duration::ZERO,
                None,
            );
            ended_unwatched.push(r);
            continue;
        }
        let r = start(&cfg, run, st, inv, &l, opts)?;
        launched.push((slot, r.record(&crate::store::now())));
        running.push(r);
    }
    if !launched.is_empty() {
        step(session, run, &cfg, false, |ctx, facts, st| {
            machine::record_launches(ctx, facts, st, launched)
        })?;
    }
    // The agents work: merged workers' worktrees go now, off their way.
    finish_removals(session, run)?;
    let mut spares = true;
    let mut ended: Vec<(Running, Exit)> = ended_unwatched
        .into_iter()
        .map(|r| (r, Exit::Unknown))
        .collect();
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            for r in &running {
                exec::kill_group(r);
            }
            let now = run.require_status()?;
            let slots: Vec<usize> = running
                .iter()
                .filter_map(|r| slot_of(&now, &r.slot_key).map(|(i, _)| i))
                .collect();
            step(session, run, &cfg, false, |ctx, facts, st| {
                machine::forget_launches(ctx, facts, st, &slots, "stopped by Ctrl-C")
            })?;
            return Err(interrupted(run));
        }
        let mut i = 0;
        while i < running.len() {
            match exec::poll(&running[i]) {
                Some(exit) => ended.push((running.remove(i), exit)),
                None => i += 1,
            }
        }
        if ended.is_empty() {
            if running.is_empty() {
                return Ok(());
            }
            // While the planner works: the worktrees its plan will need, one between looks.
            if spares && super::spares::make_one_noting(session, run) {
                continue;
            }
            spares = false;
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        for (r, exit) in std::mem::take(&mut ended) {
            crate::trace::mark("runner: agent ended");
            crate::failpoint!("runner-agent-ended");
            match judge(session, run, &cfg, &policies, r, exit, opts)? {
                Judged::Done => {}
                Judged::Relaunched(r) => running.push(*r),
                Judged::Failed => {
                    // Out of attempts: stop the other agents of the batch; the run failed.
                    for o in &running {
                        exec::kill_group(o);
                    }
                    return Ok(());
                }
            }
        }
    }
}

enum Judged {
    /// A result is there (valid or not: `next` judges it), or the invocation is gone.
    Done,
    /// The agent was launched again.
    Relaunched(Box<Running>),
    /// The run failed.
    Failed,
}

/// An agent ended: count what it spent, take its result (from its file, or from the CLI's
/// structured output), and relaunch it — recorded in the run's status first — when the result
/// is missing or invalid and attempts are left.
fn judge(
    session: &Session,
    run: &RunDir,
    cfg: &Workflow,
    policies: &Policies,
    r: Running,
    exit: Exit,
    opts: &Options,
) -> Result<Judged> {
    let took = r.started.elapsed().as_secs_f64();
    let now = run.require_status()?;
    let Some((slot, mut inv)) = slot_of(&now, &r.slot_key) else {
        return Ok(Judged::Done);
    };
    let mut now = now;
    if !inv.usage_reported
        && let Some(u) = exec::reported_usage(&r)
    {
        now = step(session, run, cfg, false, |ctx, facts, st| {
            if st
                .swarm
                .pending
                .get(slot)
                .is_some_and(|p| key(p) == r.slot_key)
            {
                machine::record_usage(ctx, facts, st, slot, u)
            } else {
                machine::Transition {
                    status: st.clone(),
                    effects: Vec::new(),
                    events: Vec::new(),
                }
            }
        })?;
        if let Some((_, i)) = slot_of(&now, &r.slot_key) {
            inv = i;
        }
    }
    let exit_text = exit.describe();
    let result = PathBuf::from(&inv.result);
    if !result.exists()
        && let Some(s) = &r.structured
        && let Some(v) = crate::agents::output::structured_result(
            s,
            &crate::agents::output::read_log(&r.log, r.log_start),
        )
    {
        // The CLI's schema-constrained answer stands in for the file; `next` validates it
        // exactly like a written one.
        crate::files::atomic::write_json(&result, &v)?;
        say(
            opts,
            format!(
                "▶ {} did not write {}; took its result from the CLI's structured output",
                inv.who(),
                result.display()
            ),
        );
    }
    let words = crate::agents::output::agent_words(
        r.output,
        &crate::agents::output::read_log(&r.log, r.log_start),
    );
    if !result.exists() {
        let what = format!(
            "ended ({exit_text}) without writing its result {}{}",
            result.display(),
            words
                .as_ref()
                .map(|w| format!(" — {w}"))
                .unwrap_or_default()
        );
        if inv.attempt < cfg.max_retries {
            say(
                opts,
                format!(
                    "✗ {} {what}; relaunching (attempt {} of {})",
                    inv.who(),
                    inv.attempt + 2,
                    cfg.max_retries + 1
                ),
            );
            let after = step(session, run, cfg, true, |ctx, facts, st| {
                machine::relaunch_missing(ctx, facts, st, slot, what)
            })?;
            return relaunch(session, run, cfg, policies, &after, slot, opts);
        }
        let reason = format!(
            "{} {what}; it was launched {} time{} (retry-control.maxRetries {}); last lines of {}:\n{}",
            inv.who(),
            inv.attempt + 1,
            if inv.attempt == 0 { "" } else { "s" },
            cfg.max_retries,
            r.log.display(),
            exec::log_tail(&r, 15)
        );
        say(
            opts,
            format!("✗ {}", reason.lines().next().unwrap_or_default()),
        );
        step(session, run, cfg, true, |ctx, facts, st| {
            machine::fail_pending(ctx, facts, st, slot, reason)
        })?;
        return Ok(Judged::Failed);
    }
    // A result: if it does not validate and attempts are left, the agent goes again with the
    // violations in its handoff; otherwise `next` judges it.
    let arrival = {
        let _tx = Tx::begin(session, run)?;
        validate_arrival(session, run, &now, cfg, slot, &result)?
    };
    let problems: Vec<String> = match &arrival.content {
        Err(e) => vec![e.clone()],
        Ok(_) => arrival.violations.iter().map(|v| v.to_string()).collect(),
    };
    if !problems.is_empty() && inv.attempt < cfg.max_retries {
        say(
            opts,
            format!(
                "✗ {} wrote an invalid result ({} problem(s)); relaunching with them (attempt {} of {})",
                inv.who(),
                problems.len(),
                inv.attempt + 2,
                cfg.max_retries + 1
            ),
        );
        let after = step(session, run, cfg, true, |ctx, facts, st| {
            machine::relaunch(ctx, facts, st, arrival, problems)
        })?;
        return relaunch(session, run, cfg, policies, &after, slot, opts);
    }
    say(
        opts,
        format!("✓ {} finished in {took:.1} s ({exit_text})", inv.who()),
    );
    Ok(Judged::Done)
}

/// Launches the invocation that a relaunch transition put in `slot`, and records it.
fn relaunch(
    session: &Session,
    run: &RunDir,
    cfg: &Workflow,
    policies: &Policies,
    after: &RunStatus,
    slot: usize,
    opts: &Options,
) -> Result<Judged> {
    let Some(next) = after.swarm.pending.get(slot) else {
        return Ok(Judged::Done);
    };
    if !after.outcome.is_in_progress() {
        return Ok(Judged::Failed);
    }
    let l = launch_for(session, cfg, policies, run, after, next)?;
    let r = start(cfg, run, after, next, &l, opts)?;
    let rec = r.record(&crate::store::now());
    step(session, run, cfg, false, |ctx, facts, st| {
        machine::record_launches(ctx, facts, st, vec![(slot, rec)])
    })?;
    Ok(Judged::Relaunched(Box::new(r)))
}

fn start(
    cfg: &Workflow,
    run: &RunDir,
    st: &RunStatus,
    inv: &Invocation,
    l: &Launch,
    opts: &Options,
) -> Result<Running> {
    // The CLI's own files and its log go in logs/, which must be the run's own folder.
    run.check_folders()?;
    let env: Vec<(String, String)> = vec![
        ("SWARM_RUN_ID".into(), st.run_id.clone()),
        ("SWARM_RUN_DIR".into(), run.path.display().to_string()),
        ("SWARM_AGENT".into(), inv.agent.clone()),
        (
            "SWARM_HANDOFF".into(),
            inv.handoff.clone().unwrap_or_default(),
        ),
        ("SWARM_RESULT".into(), inv.result.clone()),
        (
            "SWARM_WORKER".into(),
            inv.worker.clone().unwrap_or_default(),
        ),
        (
            exec::INVOCATION_VAR.into(),
            exec::invocation_key(&st.run_id, inv),
        ),
    ];
    if let Some(crate::agents::profile::Structured::FinalMessage { file, .. }) = &l.structured {
        // A final message left by an earlier launch of this step is not this one's answer.
        let _ = std::fs::remove_file(file);
    }
    for (path, text) in &l.files {
        if let Some(dir) = path.parent() {
            crate::files::atomic::create_dir_all(dir)?;
        }
        crate::files::atomic::write(path, text.as_bytes())?;
    }
    let log = run.log_path(inv.step, &inv.stem());
    // A git that an earlier agent ran in this work tree may have died with it (killed with
    // the runner's group, out of memory), leaving locks that would fail this agent's git.
    super::effects::release_dead_agents_locks(run, inv);
    let r = exec::launch(
        key(inv),
        l,
        Path::new(&inv.cwd),
        &env,
        &log,
        timeout_of(cfg, &inv.agent),
    )?;
    say(
        opts,
        format!(
            "▶ step {} · {} started — log: {}",
            inv.step,
            inv.who(),
            log.display()
        ),
    );
    crate::failpoint!("runner-launch-after");
    Ok(r)
}
