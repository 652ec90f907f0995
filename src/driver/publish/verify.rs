//! The verification gate: before anything is committed or pushed, git swarm runs the plan's
//! test commands and `verify.commands` itself in the run's worktree (argv, never a shell; each
//! in its own process group with `verify.timeoutSeconds`), on exactly the tested content.
//! A pass is recorded for that content (publishing again does not run them again); a failure
//! goes back to the editing agent through the machine.

use super::*;
use crate::agents::worktree_setup::{Ended, run_logged};
use crate::machine::state::Tested;
use crate::machine::verify::{self, Checked, Ran, Source, Verification};

/// Lines of a command's output kept in the status and the feedback.
const TAIL_LINES: usize = 30;

/// Runs the gate; `Some(status)` when it failed and the run went back to its editing agent.
pub(super) fn gate(
    j: &mut Journal,
    w: &Path,
    tested: &Tested,
    policies: &Policies,
) -> Result<Option<RunStatus>> {
    if j.st
        .swarm
        .verification
        .as_ref()
        .is_some_and(|v| v.passed && v.tree == tested.tree)
    {
        return Ok(None);
    }
    let (session, run) = (j.tx.session, j.tx.run);
    let planned = verify::plan(
        &j.st,
        &policies.verify,
        &policies.agents,
        policies.approval.plan,
    );
    if !policies.verify.commands.is_empty() || policies.verify.plan_commands {
        crate::trust::require(session, &[crate::trust::Use::Verify], None)?;
    }
    let logs = run.path.join("logs");
    atomic::create_dir_all(&logs)?;
    let timeout = policies.verify.timeout();
    let mut checks = Vec::new();
    for (n, p) in planned.into_iter().enumerate() {
        let argv = match p.argv {
            Ok(a) => a,
            Err(why) => {
                checks.push(Checked {
                    command: p.command,
                    source: p.source,
                    outcome: Ran::NotRun,
                    exit_code: None,
                    duration_ms: 0,
                    tail: String::new(),
                    why: Some(why),
                    log: None,
                });
                continue;
            }
        };
        let log = logs.join(format!("verify.{}.log", n + 1));
        crate::cli::style::note(format!("verification gate: running '{}'", p.command));
        let started = Instant::now();
        let ended = run_logged(&argv, w, &log, timeout);
        let duration_ms = started.elapsed().as_millis() as u64;
        let text = String::from_utf8_lossy(
            &crate::files::safe::read_if_exists(&log, Some(16 << 20))
                .ok()
                .flatten()
                .unwrap_or_default(),
        )
        .into_owned();
        let tail = git::tail_lines(&redact(&text), TAIL_LINES);
        let (outcome, exit_code, why) = match ended {
            Ok(Ended::Status(s)) if s.success() => (Ran::Passed, s.code(), None),
            Ok(Ended::Status(s)) => (Ran::Failed, s.code(), None),
            Ok(Ended::TimedOut(t)) => (
                Ran::TimedOut,
                None,
                Some(format!(
                    "stopped after {} s (verify.timeoutSeconds)",
                    t.as_secs_f64()
                )),
            ),
            Err(e) => (Ran::NotStarted, None, Some(e)),
        };
        checks.push(Checked {
            command: p.command,
            source: p.source,
            outcome,
            exit_code,
            duration_ms,
            tail,
            why,
            log: Some(log.display().to_string()),
        });
    }
    // What ships is what was tested: commands that change the worktree's content (a formatter,
    // a generated file not ignored) fail the gate.
    let (_, after) = git::content_tree(w)?;
    if after != tested.tree {
        checks.push(Checked {
            command: "(the worktree's content after the commands)".to_string(),
            source: Source::Policy,
            outcome: Ran::Failed,
            exit_code: None,
            duration_ms: 0,
            tail: String::new(),
            why: Some("the verification commands changed files that git tracks or does not ignore; keep what they generate out of the work (.gitignore), or make it part of the change".to_string()),
            log: None,
        });
    }
    let v = Verification::judge(tested.tree.clone(), now(), checks);
    if v.passed {
        let msg = verify::passed(&mut j.st, v);
        j.ev("VERIFIED", msg);
        j.save()?;
        return Ok(None);
    }
    j.save()?;
    let st = j.st.clone();
    let cfg = j.tx.config(&st)?;
    let facts = j.tx.facts(&st, &cfg, &[])?;
    let status = j.tx.transition(&cfg, &facts, |ctx, facts| {
        Ok(verify::failed(ctx, facts, &st, &v))
    })?;
    Ok(Some(status))
}
