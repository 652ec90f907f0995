//! `git swarm publish`: commit leftovers, push `swarm/<name>`, open the pull request with the
//! remote's tool, remove the worktree. Each step is recorded in `run.status.json` as soon as
//! it is done, so running publish again skips it (and never opens a second pull request).

mod pr;
mod verify;

use pr::pull_request;
pub(crate) use pr::{configured_hosts, find_tool, run_tool, title_and_body};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::policies::Policies;
use crate::error::{Error, Result};
use crate::files::atomic;
use crate::forge::{self, Hosts, Kind, PrRequest, Remote, template};
use crate::git::{self, url::redact};
use crate::machine::state::{PrState, RunStatus, Warning};
use crate::machine::{self, text};
use crate::store::{RunDir, events::Event};
use crate::store::{Session, now};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub draft: bool,
}

/// A status being advanced step by step; `save` commits it (events, then the status).
struct Journal<'a> {
    tx: &'a crate::driver::Tx<'a>,
    st: RunStatus,
    events: Vec<Event>,
}

impl Journal<'_> {
    fn ev(&mut self, signal: &str, message: impl Into<String>) {
        self.events.push(Event {
            seq: self.st.swarm.seq + 1,
            at: now(),
            signal: signal.to_string(),
            agent: None,
            worker: None,
            step: Some(self.st.swarm.step),
            message: message.into(),
        });
    }

    /// Makes what a step did part of the run's status, through the machine.
    fn record(&mut self, r: machine::publish::Record) {
        for (signal, message) in machine::publish::record(&mut self.st, r) {
            self.ev(signal, message);
        }
    }

    fn warn(&mut self, w: Warning) {
        self.record(machine::publish::Record::Warned(w));
    }

    /// The pull request reached `state` (without a URL).
    fn pr(&mut self, state: PrState) {
        self.record(machine::publish::Record::PullRequest {
            state,
            url: None,
            existed: false,
        });
    }

    /// Commits what publishing did so far as one transition of the run (its git steps were
    /// recorded in the run's ledger as they ran): events, then the status last.
    fn save(&mut self) -> Result<()> {
        self.st.swarm.seq += 1;
        self.st.updated_at = now();
        for e in &mut self.events {
            e.seq = self.st.swarm.seq;
        }
        let t = crate::machine::Transition {
            status: self.st.clone(),
            effects: Vec::new(),
            events: std::mem::take(&mut self.events),
        };
        self.tx.apply(&t)
    }
}

fn warning(
    reason: &str,
    message: String,
    tool: Option<&str>,
    command: Option<String>,
    output: Option<String>,
    remediation: String,
) -> Warning {
    Warning {
        reason: reason.to_string(),
        message,
        tool: tool.map(str::to_string),
        command,
        output,
        remediation: Some(remediation),
        at: now(),
    }
}

/// Publishes the run; the returned status says how it ended (completed, or failed when the
/// push failed).
pub fn publish(tx: &crate::driver::Tx, opts: &Options) -> Result<RunStatus> {
    let (session, run) = (tx.session, tx.run);
    let st = tx.status()?;
    let id = st.run_id.clone();
    match machine::publish::gate(&st) {
        machine::publish::Gate::Done => return Ok(st),
        machine::publish::Gate::PullRequestOnly => {
            // Completed with the pull request not made (tool missing, failed): publishing
            // again tries the pull request once more, and nothing else.
            crate::trust::require(session, &[crate::trust::Use::PullRequest], None)?;
            let policies = session.policies()?;
            let ps = st.swarm.publish.clone().expect("the gate saw it");
            let branch = st.branch.clone().unwrap_or_default();
            let root = session.ws.root.clone();
            let mut j = Journal {
                tx,
                st,
                events: Vec::new(),
            };
            pull_request(
                &mut j, &root, &root, &policies, &ps.remote, &branch, &ps.base, opts,
            )?;
            j.save()?;
            return Ok(j.st);
        }
        machine::publish::Gate::Publish => {}
        machine::publish::Gate::AwaitsApproval => {
            return Err(Error::refused(format!(
                "run {id} waits for a person's approval before it is published (policies.approval)"
            ))
            .hint(format!("approve with 'git swarm approve --run {id}'")));
        }
        machine::publish::Gate::NotYet(waits) => {
            return Err(Error::refused(format!(
                "run {id} cannot be published yet: its last agent has not passed (it waits for {})",
                if waits.is_empty() { "nothing".to_string() } else { waits.join(", ") }
            ))
            .hint(format!("finish the run with 'git swarm next --run {id}'; publish when it answers \"publish\"")));
        }
        machine::publish::Gate::Ended(o) => {
            return Err(Error::refused(format!(
                "run {id} is {} and cannot be published",
                o.as_str()
            ))
            .hint(format!("see 'git swarm status --run {id}'")));
        }
    }
    let (Some(branch), Some(tested)) = (st.branch.clone(), st.swarm.tested.clone()) else {
        return Err(Error::refused(format!(
            "run {id} has no branch or no tested content to publish"
        ))
        .hint("publishing needs behavior.branching.enabled in the workflow config"));
    };
    // Before committing or pushing anything: a pull-request command the user has not trusted
    // refuses the whole publish, so it never stops halfway.
    crate::trust::require(session, &[crate::trust::Use::PullRequest], None)?;
    let policies = session.policies()?;
    let mut j = Journal {
        tx,
        st,
        events: Vec::new(),
    };
    if let Some(msg) = machine::publish::reopen(&mut j.st) {
        j.ev("RETRY", msg);
    }
    let root = session.ws.root.clone();
    let wt = j.st.worktree_path.clone().map(PathBuf::from);
    let wt_exists = wt.as_ref().is_some_and(|w| w.exists());
    let cwd = if wt_exists {
        wt.clone().expect("exists")
    } else {
        root.clone()
    };

    // 1. Commit what is left, and make sure what ships is what was tested.
    if machine::publish::needs_commit(&j.st, wt_exists) {
        let w = wt.as_ref().expect("exists");
        let (head, tree) = git::content_tree(w)?;
        if tree != tested.tree {
            return Err(Error::refused(format!(
                "the worktree {} changed after the tester passed (tested tree {}, now {}); the tested content is what ships",
                w.display(),
                short(&tested.tree),
                short(&tree)
            ))
            .hint(format!(
                "restore the tested content (the tester passed on commit {} plus its uncommitted changes), or have the change tested: 'git swarm abort' and start a new run",
                short(&tested.head)
            )));
        }
        // The tool's own evidence, before anything ships.
        if let Some(sent_back) = verify::gate(&mut j, w, &tested, &policies)? {
            return Ok(sent_back);
        }
        if git::tree_of(w, "HEAD")? != tree {
            let msg_path = run.path.join("commit-message.txt");
            atomic::write(&msg_path, commit_message(&j.st).as_bytes())?;
            crate::failpoint!("publish-commit-before");
            let committed = crate::driver::git_step(
                session,
                run,
                &format!("commit leftovers in {}", w.display()),
                || git::ops::commit_all_from_file(w, &msg_path),
            );
            if let Err(e) = committed {
                // A hook that refuses, a signing key that is missing, text git will not take:
                // the run fails with the reason and is published again once it is fixed,
                // never left waiting at `publish` with nothing to retry.
                let hint = format!("the worktree {} is kept; fix the cause", w.display());
                return publish_failed(
                    j,
                    format!(
                        "committing the leftover changes failed: {}",
                        e.full_message()
                    ),
                    hint,
                );
            }
            crate::failpoint!("publish-commit-after");
            let new_head = git::query::rev_parse(w, "HEAD")?;
            j.record(machine::publish::Record::Committed {
                shown: short(&new_head).to_string(),
                commit: new_head,
            });
            j.save()?;
        } else if head != tested.head {
            // Committed after the test with the same content: fine, the content is what counts.
        }
    }
    let tip = git::query::rev_parse(&root, &format!("refs/heads/{branch}"))?;
    if git::tree_of(&root, &tip)? != tested.tree {
        return Err(Error::refused(format!(
            "branch {branch} holds content the tester did not pass (tip {})",
            short(&tip)
        ))
        .hint(format!(
            "reset {branch} to the tested content, then run 'git swarm publish --run {id}' again"
        )));
    }
    if tip == j.st.swarm.base_commit {
        j.warn(warning(
            "nothing-to-publish",
            format!("the run changed nothing: {branch} has no commits beyond its base"),
            None,
            None,
            None,
            "nothing was pushed; start a new run if work is still needed".to_string(),
        ));
        remove_worktree(&mut j, session, run, wt.as_deref())?;
        return finish(j);
    }

    // 2. Push.
    let remote = policies.pr.remote.clone();
    git::require_remote(&session.repo()?, &remote).map_err(|e| {
        e.hint(format!(
            "set pr.remote in {} to one of this repository's remotes ('git remote' lists them), or add it with 'git remote add <name> <url>'",
            session.swarm.policies_path().display()
        ))
    })?;
    if j.st
        .swarm
        .publish
        .as_ref()
        .is_none_or(|p| p.remote.is_empty())
    {
        let base = base_branch(&root, &remote, &policies, &j.st);
        j.record(machine::publish::Record::Target {
            remote: remote.clone(),
            base,
        });
    }
    let base =
        j.st.swarm
            .publish
            .as_ref()
            .map(|p| p.base.clone())
            .unwrap_or_default();
    let tracking = git::query::rev_parse(&root, &format!("refs/remotes/{remote}/{branch}")).ok();
    let already = machine::publish::already_pushed(&j.st, &tip, tracking.as_deref());
    if !already {
        crate::failpoint!("publish-push-before");
        let out = crate::driver::git_step(session, run, &format!("push {branch}"), || {
            git::ops::push(&cwd, &remote, &branch)
        })?;
        crate::failpoint!("publish-push-after");
        let shown = out.shown;
        if !out.ok {
            let output = crate::git::url::excerpt(&out.stderr);
            let why = format!(
                "'{shown}' failed: {}",
                output.lines().last().unwrap_or("no output")
            );
            let hint = format!(
                "the worktree {} is kept; fix the cause (remote '{}' exists and accepts pushes, credentials)",
                cwd.display(),
                redact(&remote)
            );
            j.record(machine::publish::Record::PushFailed { why });
            return publish_failed(j, format!("push failed: {output}"), hint);
        }
        j.record(machine::publish::Record::Pushed {
            shown: format!("{branch} → {} ({})", redact(&remote), short(&tip)),
            tip: tip.clone(),
        });
        if let Some(msg) = machine::follow::published(&mut j.st, &tip) {
            j.ev("FOLLOW_PUSHED", msg);
        }
        j.save()?;
    }

    // 3. The pull request (best effort: problems are warnings), and what it carries beyond the
    // run's own commits.
    if j.st.pr_url.is_none() {
        pull_request(
            &mut j, &root, &cwd, &policies, &remote, &branch, &base, opts,
        )?;
        j.save()?;
    }
    if !j.st.warnings.iter().any(|w| w.reason == EXTRA_COMMITS)
        && let Some(w) = extra_commits(session, &j.st, &remote, &branch, &base)
    {
        j.warn(w);
        j.save()?;
    }

    // A fix pass of the follow phase: the comments it addressed are answered, and the pull
    // request's body tells what each pass fixed.
    if j.st
        .swarm
        .follow
        .as_ref()
        .is_some_and(|f| !f.passes.is_empty())
        && j.st.pr_url.is_some()
    {
        let (_, body) = title_and_body(&j.st, &policies, &branch, &base);
        let log = machine::follow::log(j.st.swarm.follow.as_ref().expect("checked"));
        let body = format!("{}\n\n{log}", body.trim_end());
        let before = j.st.swarm.follow.clone();
        let problems = crate::driver::follow::after_push(session, &mut j.st, &policies, &body);
        for p in problems {
            j.warn(warning(
                "follow-update",
                format!("the pull request could not be updated: {p}"),
                None,
                None,
                None,
                "the fix is pushed; answer the comments by hand if needed".to_string(),
            ));
        }
        if j.st.swarm.follow != before || !j.events.is_empty() {
            j.save()?;
        }
    }

    // 4. The branch is safe on the remote: the worktree can go.
    remove_worktree(&mut j, session, run, wt.as_deref())?;
    finish(j)
}

/// The warning of a pull request that carries commits made before the run.
const EXTRA_COMMITS: &str = "pr-extra-commits";

/// The commits the run started from that `<remote>/<base>` does not have (as of the last fetch;
/// no network): the pull request carries them beside the run's own. Without a remote-tracking
/// `<remote>/<base>`, every remote-tracking branch of the remote except the run's own counts.
fn extra_commits(
    session: &Session,
    st: &RunStatus,
    remote: &str,
    branch: &str,
    base: &str,
) -> Option<Warning> {
    let root = &session.ws.root;
    let commit = &st.swarm.base_commit;
    let repo = session.repo().ok()?;
    let target = format!("refs/remotes/{remote}/{base}");
    let n = if git::ref_exists(&repo, &target) {
        git::commits_not_in(root, commit, &target).ok()?
    } else if git::has_remote_tracking_refs(&repo, remote) {
        git::commits_not_on_remote(root, commit, remote, Some(branch)).ok()?
    } else {
        return None;
    };
    if n == 0 {
        return None;
    }
    let s = if n == 1 { "" } else { "s" };
    Some(warning(
        EXTRA_COMMITS,
        format!(
            "the pull request also carries {n} commit{s} made before the run: the run started from {}, which {remote}/{base} does not contain",
            short(commit)
        ),
        None,
        None,
        None,
        format!(
            "if those commits should not be reviewed here, push them to {remote}/{base} first (the pull request then shows only the run's work), or rebase {branch} onto {remote}/{base}"
        ),
    ))
}

/// Publishing stopped on a failure: the run fails with `reason`, and `publish` (or `retry`)
/// takes it up again where it stopped.
fn publish_failed(mut j: Journal, reason: String, hint: String) -> Result<RunStatus> {
    if !j.events.iter().any(|e| e.signal == "FAILED") {
        j.ev("FAILED", reason.clone());
    }
    machine::publish::fail(&mut j.st, reason, hint);
    j.save()?;
    Ok(j.st)
}

fn finish(mut j: Journal) -> Result<RunStatus> {
    let msg = machine::publish::finish(&mut j.st);
    j.ev("TASK_COMPLETE", msg);
    j.save()?;
    Ok(j.st)
}

fn short(s: &str) -> &str {
    crate::cli::report::abbrev(s, 12)
}

fn commit_message(st: &RunStatus) -> String {
    let (goal, desc) = match &st.swarm.plan {
        Some(p) => (p.goal.trim().to_string(), p.description.trim().to_string()),
        None => (
            crate::machine::text::first_line(&st.swarm.task.text),
            String::new(),
        ),
    };
    let mut subject: String = goal.lines().next().unwrap_or("swarm run").to_string();
    if subject.chars().count() > 72 {
        subject = format!("{}…", subject.chars().take(71).collect::<String>());
    }
    let mut m = subject;
    m.push_str("\n\n");
    if !desc.is_empty() && desc != goal {
        m.push_str(&desc);
        m.push_str("\n\n");
    }
    m.push_str(&format!("Swarm-Run: {}\n", st.run_id));
    // Plans are checked for text git refuses; a run recorded before that check publishes too.
    crate::machine::text::clean_message(&m)
}

/// The branch the pull request targets: `policies.pr.baseBranch`, else the remote's default
/// branch (`refs/remotes/<remote>/HEAD`, else `ls-remote --symref` without prompts), else the
/// branch the run started from, else `main`.
fn base_branch(root: &Path, remote: &str, policies: &Policies, st: &RunStatus) -> String {
    if let Some(b) = &policies.pr.base_branch {
        return b.to_string();
    }
    if let Some(b) = git::query::remote_default_branch(root, remote) {
        return b;
    }
    st.swarm
        .start_branch
        .clone()
        .unwrap_or_else(|| "main".to_string())
}

/// Removes the worktree once the branch is safe on the remote; never one holding changes. A
/// removal that was cut short (the worktree is recorded as being removed and has lost its
/// `.git` file, or git no longer lists it) is finished.
fn remove_worktree(
    j: &mut Journal,
    session: &Session,
    run: &RunDir,
    wt: Option<&Path>,
) -> Result<()> {
    if j.st
        .swarm
        .publish
        .as_ref()
        .is_some_and(|p| p.worktree_removed)
    {
        return Ok(());
    }
    let Some(w) = wt else { return Ok(()) };
    let path = w.display().to_string();
    // Its removal decided and cut short (git killed half-way), or it is gone already:
    // finished, whatever files the half-removed directory lost.
    let cut_short = crate::driver::effects::removal_cut_short(run, w)?;
    if !w.exists() || cut_short {
        let half_removed = w.exists();
        crate::driver::effects::remove_worktree(session, run, w, true)?;
        j.record(machine::publish::Record::WorktreeRemoved {
            note: if half_removed {
                format!("{path} (finishing a removal that was cut short)")
            } else {
                format!("{path} was already gone (pruned)")
            },
        });
        return Ok(());
    }
    let dirt = git::open(w).and_then(|r| git::clean::dirt(&r, true))?;
    if !dirt.is_empty() {
        j.warn(warning(
            "worktree-kept",
            format!(
                "{} holds changes that were not published, so it is kept",
                w.display()
            ),
            None,
            None,
            Some(git::clean::describe(&dirt)),
            format!(
                "look at them, then remove it yourself with 'git worktree remove {}'",
                w.display()
            ),
        ));
        return Ok(());
    }
    match crate::driver::effects::remove_worktree(session, run, w, false) {
        Ok(()) => {
            j.record(machine::publish::Record::WorktreeRemoved { note: path.clone() });
        }
        Err(e) => {
            let locked = e.causes.iter().any(|c| c.contains("locked"));
            j.warn(warning(
                if locked {
                    "worktree-locked"
                } else {
                    "worktree-kept"
                },
                format!(
                    "could not remove {}: {}",
                    w.display(),
                    e.causes.first().cloned().unwrap_or(e.message.clone())
                ),
                None,
                None,
                None,
                if locked {
                    format!(
                        "unlock it with 'git worktree unlock {0}', then 'git worktree remove {0}'",
                        w.display()
                    )
                } else {
                    format!(
                        "remove it yourself with 'git worktree remove {}'",
                        w.display()
                    )
                },
            ));
        }
    }
    Ok(())
}
