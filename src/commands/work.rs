use std::path::Path;

use clap::Args;
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::driver::moving::{self, Worktrees};
use crate::error::{Error, Result};
use crate::store::state_remote::{self, CLAIM, Lease, Pushed, Update, WORK};
use crate::store::{state_ref, state_tree};

/// Run one worker of a run's parallel batch on this clone (a CI job, another machine).
///
/// Takes the run from the remote (as 'git swarm resume' does, with only this worker's
/// worktree), runs the worker's agent with the workflow config's exec profile (relaunching it
/// as 'git swarm run' would), commits what it left, pushes the worker's branch with a lease on
/// the value taken, and adds its result to the run's state on the remote. The machine that
/// coordinates the run takes the result in with its next step and merges the batch once every
/// worker's result is in. A worker whose result is in already is not run again (exit 0).
#[derive(Debug, Args)]
pub(crate) struct WorkArgs {
    /// The run's id (in full).
    #[arg(long, value_name = "ID")]
    pub run: String,
    /// The worker (w1, w2, … as the batch names them).
    #[arg(long, value_name = "WORKER")]
    pub worker: String,
    /// The remote that holds the run.
    #[arg(long, value_name = "NAME", default_value = "origin")]
    pub remote: String,
}

/// How long a worker waits for another machine's step under way (a claim) to finish.
const CLAIM_WAIT_SECS: u64 = 300;

pub(crate) fn run(ctx: &Context, args: WorkArgs) -> Result<Output> {
    let session = ctx.session()?;
    let here = session.swarm.run(&args.run);
    if let Some(b) = state_remote::backing(&here) {
        return Err(Error::refused(format!(
            "this clone coordinates run {} (its state lives on '{}' from here)",
            args.run, b.remote
        ))
        .hint("run workers on other clones, or let 'git swarm run' run them here"));
    }
    let (run, st) = moving::resume(
        &session,
        &args.run,
        &args.remote,
        true,
        &Worktrees::Worker(args.worker.clone()),
    )?;
    // This clone's copy is scratch: its own steps (launches, relaunches) are never pushed.
    let taken = state_remote::backing(&run).unwrap_or_default();
    let _ = std::fs::remove_file(run.path.join(".state-remote.json"));
    let done = |what: &str| {
        Ok(Output::new(
            json!({"run-id": run.id, "worker": args.worker, "action": what}),
            format!("run {} worker {}: {what}\n", run.id, args.worker),
        ))
    };
    let Some(inv) = st
        .swarm
        .pending
        .iter()
        .find(|p| p.worker.as_deref() == Some(args.worker.as_str()))
        .cloned()
    else {
        if st
            .swarm
            .finished_workers
            .iter()
            .any(|w| w.worker == args.worker)
        {
            return done("done already");
        }
        return Err(Error::failure(format!(
            "run {} has no worker {} waiting (step {}, {})",
            run.id, args.worker, st.swarm.step, st.current_step
        ))
        .hint("the workers of the batch handed out last are listed by 'git swarm status --run <id>' (invocations with a worker)"));
    };
    let rel = Path::new(&inv.result)
        .strip_prefix(&run.path)
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|_| {
            Error::failure(format!(
                "worker {}'s result {} is not in the run folder {}",
                args.worker,
                inv.result,
                run.path.display()
            ))
        })?;
    if Path::new(&inv.result).exists() {
        return done("its result is in already");
    }
    let branch = run
        .ledger()?
        .owned
        .into_iter()
        .find(|o| o.worker.as_deref() == Some(args.worker.as_str()))
        .map(|o| (o.branch, o.path))
        // The batch's first worker works in the run's own worktree.
        .or_else(|| match (&st.branch, &st.worktree_path) {
            (Some(b), Some(p)) if *p == inv.cwd => Some((b.clone(), p.clone())),
            _ => None,
        })
        .ok_or_else(|| {
            Error::failure(format!(
                "run {} records no worktree for worker {}",
                run.id, args.worker
            ))
        })?;
    let mut opts = crate::driver::runner::Options::for_terminal(ctx.json);
    opts.only_worker = Some(args.worker.clone());
    crate::driver::runner::run_worker(&session, &run, &opts)?;
    if !Path::new(&inv.result).exists() {
        let now = run.require_status()?;
        return Err(Error::failure(format!(
            "worker {} of run {} ended without a result ({})",
            args.worker,
            run.id,
            now.failure_reason
                .unwrap_or_else(|| "no result file".into())
        ))
        .hint(format!(
            "its log is in {}; run 'git swarm work --run {} --worker {}' again (here or elsewhere)",
            run.log_path(inv.step, &inv.stem()).display(),
            run.id,
            args.worker
        )));
    }
    let wt = Path::new(&branch.1);
    crate::git::ops::commit_all(wt, &format!("git swarm: {} of run {}", inv.who(), run.id))?;
    let commit = crate::git::resolve(wt, "HEAD")?;
    let lease = match taken.branches.get(&branch.0) {
        Some(v) => Lease::Is(v.clone()),
        None => Lease::Absent,
    };
    crate::failpoint!("work-before-push");
    let recorded = record_result(
        &session,
        &run.id,
        &args,
        &inv,
        &rel,
        (&branch.0, &commit, lease),
        &run,
    )?;
    done(if recorded {
        "result recorded"
    } else {
        "its result is in already (recorded from elsewhere meanwhile)"
    })
}

/// Adds the result (and the agent's log) to the run's state on the remote and pushes the
/// worker's branch, in one atomic push: on whatever the state is by then — waiting out
/// another machine's step under way — as long as the worker is still waited for there, and
/// with a lease on the branch as it was taken (a worker done elsewhere meanwhile wins).
/// `false`: the result was recorded by another machine meanwhile.
fn record_result(
    session: &crate::store::Session,
    id: &str,
    args: &WorkArgs,
    inv: &crate::machine::state::Invocation,
    rel: &str,
    (branch, commit, lease): (&str, &str, Lease),
    run: &crate::store::RunDir,
) -> Result<bool> {
    let root = &session.ws.root;
    let repo = session.repo()?;
    let result = repo
        .write_blob(crate::files::safe::read_regular(
            Path::new(&inv.result),
            None,
        )?)
        .map_err(|e| Error::failure(format!("could not store {}: {e}", inv.result)))?
        .detach();
    let log_path = run.log_path(inv.step, &inv.stem());
    let log_rel = log_path
        .strip_prefix(&run.path)
        .map(|p| p.to_string_lossy().into_owned())
        .ok();
    let log = match crate::files::safe::read_if_exists(&log_path, None)? {
        Some(mut bytes) => {
            let cap = state_ref::LOG_CAP as usize;
            if bytes.len() > cap {
                bytes.drain(..bytes.len() - cap);
            }
            Some(
                repo.write_blob(&bytes)
                    .map_err(|e| Error::failure(format!("could not store the log: {e}")))?
                    .detach(),
            )
        }
        None => None,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(CLAIM_WAIT_SECS);
    let mut last = None;
    loop {
        let Some(tip) = state_remote::fetch(root, &args.remote, id)? else {
            return Err(Error::failure(format!(
                "the remote '{}' no longer has run {id}",
                args.remote
            )));
        };
        let (msg, _) = state_tree::message_and_parent(&repo, tip)?;
        if msg.starts_with(CLAIM) {
            if std::time::Instant::now() > deadline {
                return Err(Error::failure(format!(
                    "run {id}'s state on '{}' stayed claimed by a step under way for {CLAIM_WAIT_SECS} s",
                    args.remote
                ))
                .hint(format!("run 'git swarm work --run {id} --worker {}' again later", args.worker)));
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
            continue;
        }
        let mut files = state_tree::files_of(&repo, tip)?;
        if files.contains_key(rel) {
            return Ok(false);
        }
        if last == Some(tip) {
            // The state held, so the branch's lease did not: pushed from elsewhere.
            return Err(Error::refused(format!(
                "worker {}'s branch {branch} of run {id} moved on '{}' meanwhile, without a result",
                args.worker, args.remote
            ))
            .hint("someone pushed to it by hand; look at it before running this worker again"));
        }
        last = Some(tip);
        // Still waited for there (same step and iteration)?
        let status: crate::machine::state::RunStatus = files
            .get("run.status.json")
            .and_then(|(_, o)| repo.find_object(*o).ok())
            .and_then(|b| serde_json::from_slice(&b.data).ok())
            .ok_or_else(|| {
                Error::failure(format!(
                    "run {id}'s state on '{}' has no readable run.status.json",
                    args.remote
                ))
            })?;
        let waited = status.swarm.pending.iter().any(|p| {
            p.worker.as_deref() == Some(args.worker.as_str())
                && p.step == inv.step
                && p.iteration == inv.iteration
        });
        if !waited {
            return Err(Error::refused(format!(
                "run {id} no longer waits for worker {} (step {}, iteration {}): its result is not recorded",
                args.worker, inv.step, inv.iteration
            )));
        }
        use gix::objs::tree::EntryKind;
        files.insert(rel.to_string(), (EntryKind::Blob, result));
        if let (Some(l), Some(lr)) = (log, &log_rel) {
            files.insert(lr.clone(), (EntryKind::Blob, l));
        }
        let tree = state_tree::build(&repo, &files)?;
        let text = format!(
            "{WORK}{} result (step {})\n\nSwarm-Worker: {}\nSwarm-Branch: {branch}\nSwarm-Commit: {commit}\nSwarm-Host: {}\n",
            args.worker,
            inv.step,
            args.worker,
            state_remote::hostname()
        );
        let c = state_tree::commit(&repo, tree, &[tip], &text)?;
        match state_remote::push(
            root,
            &args.remote,
            &[
                Update {
                    src: c.to_string(),
                    dst: state_ref::ref_name(id),
                    lease: Lease::Is(tip.to_string()),
                },
                Update {
                    src: commit.to_string(),
                    dst: state_remote::branch_ref(id, branch),
                    lease: match &lease {
                        Lease::Is(v) => Lease::Is(v.clone()),
                        _ => Lease::Absent,
                    },
                },
            ],
        )? {
            Pushed::Done => return Ok(true),
            Pushed::Lost => continue,
        }
    }
}
