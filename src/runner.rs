//! `git swarm run`: exec mode. Loops `next` → launch the invocations (a batch at once) →
//! wait → `next` … → `publish`, until the run ends. The state machine does the bookkeeping
//! exactly as in host mode; this loop only plays the agent host.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::agents::exec::{self, Exit, Running};
use crate::config::Workflow;
use crate::driver::{self, Session, gather_facts, transition, validate_arrival};
use crate::error::{Error, ErrorKind, Result};
use crate::machine::{self, ActionKind, action_of, state::RunStatus};
use crate::store::{RunDir, lock};

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
}

impl Options {
    /// Progress on a terminal, quiet otherwise (and with `--json`).
    pub fn for_terminal(json: bool) -> Options {
        Options {
            progress: !json
                && (std::io::stderr().is_terminal()
                    || std::env::var_os("GIT_SWARM_PROGRESS").is_some()),
        }
    }
}

fn say(opts: &Options, msg: impl AsRef<str>) {
    if opts.progress {
        use crate::style::{Stream, Style, paint};
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
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err(interrupted(run));
        }
        let st = {
            let _l = session.lock(run)?;
            driver::advance(session, run, None)?
        };
        match action_of(&st) {
            ActionKind::Invoke => run_agents(session, run, &st, opts)?,
            ActionKind::Publish => {
                say(opts, "▶ publish");
                let _l = session.lock(run)?;
                crate::publish::publish(session, run, &crate::publish::Options::default())?;
            }
            _ => return Ok(st),
        }
    }
}

fn key(inv: &machine::state::Invocation) -> String {
    format!("{}@{}", inv.stem(), inv.step)
}

fn log_path(run: &RunDir, inv: &machine::state::Invocation) -> PathBuf {
    run.path
        .join("logs")
        .join(format!("step-{:04}.{}.log", inv.step, inv.stem()))
}

/// Launches every pending invocation that has no result yet, and waits for all of them,
/// relaunching agents that exit without a valid result (a bounded number of times).
fn run_agents(session: &Session, run: &RunDir, st: &RunStatus, opts: &Options) -> Result<()> {
    let cfg = session.run_config(st)?;
    let mut running: Vec<Running> = Vec::new();
    let mut relaunches: HashMap<String, u32> = HashMap::new();
    for inv in &st.swarm.pending {
        if !Path::new(&inv.result).exists() {
            running.push(start(&cfg, run, st, inv, opts)?);
        }
    }
    while !running.is_empty() {
        if INTERRUPTED.load(Ordering::SeqCst) {
            for r in &running {
                exec::kill_group(r);
            }
            return Err(interrupted(run));
        }
        let mut i = 0;
        while i < running.len() {
            let Some(exit) = exec::poll(&running[i]) else {
                i += 1;
                continue;
            };
            let r = running.remove(i);
            crate::trace::mark("runner: agent ended");
            crate::failpoint!("runner-agent-ended");
            let took = r.started.elapsed().as_secs_f64();
            // The run as it is now (relaunches change the pending invocations).
            let now = run.require_status()?;
            let Some((slot, inv)) = now
                .swarm
                .pending
                .iter()
                .enumerate()
                .find(|(_, p)| key(p) == r.slot_key)
            else {
                continue;
            };
            let mut inv = inv.clone();
            let mut now = now;
            if let Some(u) = exec::reported_usage(&r) {
                let _l = session.lock(run)?;
                let st = run.require_status()?;
                if st
                    .swarm
                    .pending
                    .get(slot)
                    .is_some_and(|p| key(p) == r.slot_key)
                {
                    let facts = gather_facts(session, run, &st, &cfg, &[])?;
                    now = transition(
                        session,
                        run,
                        |ctx, facts| Ok(machine::record_usage(ctx, facts, &st, slot, u)),
                        &cfg,
                        &facts,
                    )?;
                    inv = now.swarm.pending[slot].clone();
                }
            }
            let exit_text = match &exit {
                Exit::Code(c) => format!("exit {c}"),
                Exit::TimedOut(s) => format!("timed out after {s} s and was stopped"),
                Exit::Killed => "killed".to_string(),
            };
            let result = PathBuf::from(&inv.result);
            if !result.exists() {
                let n = relaunches.entry(inv.stem()).or_insert(0);
                if *n < cfg.max_retries && !matches!(exit, Exit::TimedOut(_)) {
                    *n += 1;
                    say(
                        opts,
                        format!(
                            "✗ {} ended ({exit_text}) without writing {}; relaunching ({} of {})",
                            inv.who(),
                            result.display(),
                            n,
                            cfg.max_retries
                        ),
                    );
                    running.push(start(&cfg, run, &now, &inv, opts)?);
                    continue;
                }
                // Out of attempts: stop the other agents of the batch, fail the run.
                for o in &running {
                    exec::kill_group(o);
                }
                let reason = format!(
                    "{} ended ({exit_text}) without writing its result {}; last lines of {}:\n{}",
                    inv.who(),
                    result.display(),
                    r.log.display(),
                    exec::log_tail(&r.log, 15)
                );
                say(
                    opts,
                    format!("✗ {}", reason.lines().next().unwrap_or_default()),
                );
                let _l = session.lock(run)?;
                let st = run.require_status()?;
                let facts = gather_facts(session, run, &st, &cfg, &[])?;
                transition(
                    session,
                    run,
                    |ctx, facts| Ok(machine::fail_pending(ctx, facts, &st, slot, reason)),
                    &cfg,
                    &facts,
                )?;
                return Ok(());
            }
            // A result: if it does not validate and attempts are left, the agent goes again
            // with the violations in its handoff; otherwise `next` judges it.
            let arrival = {
                let _l = session.lock(run)?;
                validate_arrival(session, run, &now, &cfg, slot, &result)?
            };
            let problems: Vec<String> = match &arrival.content {
                Err(e) => vec![e.clone()],
                Ok(_) => arrival.violations.iter().map(|v| v.to_string()).collect(),
            };
            if !problems.is_empty() && inv.attempt < cfg.max_retries {
                say(
                    opts,
                    format!(
                        "✗ {} wrote an invalid result ({} problem(s)); relaunching with them",
                        inv.who(),
                        problems.len()
                    ),
                );
                let _l = session.lock(run)?;
                let st = run.require_status()?;
                let facts = gather_facts(session, run, &st, &cfg, &[])?;
                let after = transition(
                    session,
                    run,
                    |ctx, facts| Ok(machine::relaunch(ctx, facts, &st, arrival, problems)),
                    &cfg,
                    &facts,
                )?;
                if let Some(next) = after.swarm.pending.get(slot) {
                    running.push(start(&cfg, run, &after, next, opts)?);
                }
                continue;
            }
            say(
                opts,
                format!("✓ {} finished in {took:.1} s ({exit_text})", inv.who()),
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Ok(())
}

fn start(
    cfg: &Workflow,
    run: &RunDir,
    st: &RunStatus,
    inv: &machine::state::Invocation,
    opts: &Options,
) -> Result<Running> {
    let template = exec::template_of(cfg, &inv.agent)?;
    let (argv, stdin) = exec::argv(&template, inv, &st.run_id, &run.path);
    let agent = cfg.agent(&inv.agent).expect("template_of checked");
    let mut env: Vec<(String, String)> = vec![
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
    ];
    env.extend(agent.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let timeout = agent
        .timeout_seconds
        .or_else(|| {
            std::env::var("GIT_SWARM_AGENT_TIMEOUT")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .map(Duration::from_secs_f64);
    let log = log_path(run, inv);
    let r = exec::launch(
        key(inv),
        &argv,
        if stdin {
            Some(inv.prompt.as_str())
        } else {
            None
        },
        Path::new(&inv.cwd),
        &env,
        &log,
        timeout,
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
