//! Publishing as the machine sees it: whether a run may be published, and how each outcome of
//! publishing changes the run's status. The driver does the git and forge work (commit, push,
//! pull request, worktree removal, each recorded in the run's ledger before it starts) and
//! commits every change these functions make through its transaction, events first and the
//! status last.

use super::state::{Outcome, Phase, PrState, Resume, RunStatus, Warning};

/// What `publish` may do with a run as its status stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Publish (or take up a publish that failed).
    Publish,
    /// Completed, but its pull request failed after the push: only the pull request again.
    PullRequestOnly,
    /// Completed and nothing is left to do.
    Done,
    /// A person's approval comes first (`policies.approval`).
    AwaitsApproval,
    /// Its last agent has not passed; it waits for these agents.
    NotYet(Vec<String>),
    /// Ended otherwise (failed before publishing, canceled, escalated).
    Ended(Outcome),
}

pub(crate) fn gate(st: &RunStatus) -> Gate {
    match (st.outcome, st.swarm.phase) {
        (Outcome::Completed, _) => {
            let pr_failed_after_push = st.pr_url.is_none()
                && st
                    .swarm
                    .publish
                    .as_ref()
                    .is_some_and(|p| p.pr == PrState::Failed && p.pushed.is_some());
            if pr_failed_after_push {
                Gate::PullRequestOnly
            } else {
                Gate::Done
            }
        }
        (Outcome::InProgress, _) if st.swarm.approval.is_some() => Gate::AwaitsApproval,
        (Outcome::InProgress, Phase::Publish) => Gate::Publish,
        (Outcome::Failed, _) if st.swarm.resume == Some(Resume::Publish) => Gate::Publish,
        (Outcome::InProgress, _) => {
            Gate::NotYet(st.swarm.pending.iter().map(|p| p.agent.clone()).collect())
        }
        (o, _) => Gate::Ended(o),
    }
}

/// A publish that failed is taken up again: the run is in progress at its publish phase.
/// Returns the event's message when it re-opened the run.
pub(crate) fn reopen(st: &mut RunStatus) -> Option<&'static str> {
    if st.outcome != Outcome::Failed {
        return None;
    }
    st.outcome = Outcome::InProgress;
    st.failure_reason = None;
    st.swarm.resume = None;
    st.swarm.phase = Phase::Publish;
    Some("publish again")
}

/// Must leftovers be committed (and the tested content checked) before pushing? Only while the
/// worktree is there and nothing was pushed yet: after a push the branch is what shipped.
pub(crate) fn needs_commit(st: &RunStatus, worktree_exists: bool) -> bool {
    worktree_exists
        && st
            .swarm
            .publish
            .as_ref()
            .and_then(|p| p.pushed.as_ref())
            .is_none()
}

/// Is the branch's `tip` already pushed (recorded as pushed, and the remote-tracking branch
/// at it)?
pub(crate) fn already_pushed(st: &RunStatus, tip: &str, remote_tracking: Option<&str>) -> bool {
    st.swarm.publish.as_ref().and_then(|p| p.pushed.as_deref()) == Some(tip)
        && remote_tracking == Some(tip)
}

/// Publishing stopped on a failure: the run fails with `reason` and `advice` (what to fix;
/// the command line names the command), and `publish` or `retry` takes it up where it stopped.
pub(crate) fn fail(st: &mut RunStatus, reason: String, advice: String) {
    st.outcome = Outcome::Failed;
    st.failure_reason = Some(reason);
    st.swarm.resume = Some(Resume::Publish);
    st.swarm.phase = Phase::Publish;
    st.swarm.advice = Some(advice);
}

/// Published: the run is complete. Returns the `TASK_COMPLETE` event's message.
pub(crate) fn finish(st: &mut RunStatus) -> String {
    st.outcome = Outcome::Completed;
    st.swarm.phase = Phase::Finished;
    st.swarm.advice = None;
    match &st.pr_url {
        Some(u) => format!("published: {u}"),
        None => "published".to_string(),
    }
}

/// What one step of publishing did, as the driver found it; [`record`] makes it part of the
/// run's status.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    /// Where the branch goes: the remote and the pull request's base branch.
    Target { remote: String, base: String },
    /// Leftover changes were committed as `commit` (`shown`: how messages name it).
    Committed { commit: String, shown: String },
    /// The branch's `tip` was pushed (`shown`: "branch → remote (tip)").
    Pushed { tip: String, shown: String },
    /// The push failed (`why`: the command and git's last words).
    PushFailed { why: String },
    /// The pull request reached `state`; `url` when it exists (`existed`: made earlier).
    PullRequest {
        state: PrState,
        url: Option<String>,
        existed: bool,
    },
    /// The run's worktree is gone (`note`: the path, and how).
    WorktreeRemoved { note: String },
    /// Something worth a person's attention that does not stop publishing.
    Warned(Warning),
}

/// Applies what a publishing step did to the status; returns the events it makes
/// (signal, message).
pub(crate) fn record(st: &mut RunStatus, r: Record) -> Vec<(&'static str, String)> {
    let ps = st.swarm.publish.get_or_insert_with(Default::default);
    match r {
        Record::Target { remote, base } => {
            ps.remote = remote;
            ps.base = base;
            Vec::new()
        }
        Record::Committed { commit, shown } => {
            ps.commit = Some(commit);
            vec![(
                "COMMITTED",
                format!("leftover changes committed as {shown}"),
            )]
        }
        Record::Pushed { tip, shown } => {
            ps.pushed = Some(tip);
            vec![("PUSHED", shown)]
        }
        Record::PushFailed { why } => vec![("FAILED", why)],
        Record::PullRequest {
            state,
            url,
            existed,
        } => {
            ps.pr = state;
            match url {
                Some(u) if state == PrState::Created => {
                    st.pr_url = Some(u.clone());
                    vec![(if existed { "PR_EXISTS" } else { "PR_CREATED" }, u)]
                }
                _ => Vec::new(),
            }
        }
        Record::WorktreeRemoved { note } => {
            ps.worktree_removed = true;
            vec![("WORKTREE_REMOVED", note)]
        }
        Record::Warned(w) => {
            let msg = format!("{}: {}", w.reason, w.message);
            st.warnings.push(w);
            vec![("WARNING", msg)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::state::PublishState;

    fn at_publish() -> RunStatus {
        let mut st = crate::machine::sample_status(
            "r",
            std::path::Path::new("/w"),
            std::path::Path::new("/c.json"),
        );
        st.swarm.phase = Phase::Publish;
        st
    }

    #[test]
    fn the_gate_follows_the_outcome_and_the_phase() {
        let mut st = at_publish();
        assert_eq!(gate(&st), Gate::Publish);
        st.swarm.phase = Phase::Awaiting;
        assert_eq!(gate(&st), Gate::NotYet(Vec::new()));
        st.outcome = Outcome::Canceled;
        assert_eq!(gate(&st), Gate::Ended(Outcome::Canceled));
        st.outcome = Outcome::Failed;
        assert_eq!(gate(&st), Gate::Ended(Outcome::Failed));
        st.swarm.resume = Some(Resume::Publish);
        assert_eq!(gate(&st), Gate::Publish);
        st.outcome = Outcome::Completed;
        assert_eq!(gate(&st), Gate::Done);
        st.swarm.publish = Some(PublishState {
            remote: "origin".into(),
            base: "main".into(),
            commit: None,
            pushed: Some("abc".into()),
            pr: PrState::Failed,
            worktree_removed: true,
        });
        assert_eq!(gate(&st), Gate::PullRequestOnly);
        st.pr_url = Some("https://x/pull/1".into());
        assert_eq!(gate(&st), Gate::Done);
    }

    #[test]
    fn a_failed_publish_reopens_and_finishes() {
        let mut st = at_publish();
        assert_eq!(reopen(&mut st), None, "only a failed run re-opens");
        fail(&mut st, "push failed".into(), "fix the remote".into());
        assert_eq!(st.outcome, Outcome::Failed);
        assert_eq!(gate(&st), Gate::Publish);
        assert_eq!(reopen(&mut st), Some("publish again"));
        assert_eq!(
            (st.outcome, st.swarm.phase, st.failure_reason.clone()),
            (Outcome::InProgress, Phase::Publish, None)
        );
        st.pr_url = Some("https://x/pull/2".into());
        assert_eq!(finish(&mut st), "published: https://x/pull/2");
        assert_eq!(st.outcome, Outcome::Completed);
        assert_eq!(st.swarm.advice, None);
    }

    #[test]
    fn commits_stop_once_pushed_and_a_push_is_done_only_when_the_remote_has_it() {
        let mut st = at_publish();
        assert!(needs_commit(&st, true));
        assert!(!needs_commit(&st, false));
        assert!(!already_pushed(&st, "abc", Some("abc")));
        st.swarm.publish = Some(PublishState {
            remote: "origin".into(),
            base: "main".into(),
            commit: None,
            pushed: Some("abc".into()),
            pr: PrState::default(),
            worktree_removed: false,
        });
        assert!(!needs_commit(&st, true));
        assert!(already_pushed(&st, "abc", Some("abc")));
        assert!(!already_pushed(&st, "abc", None));
        assert!(!already_pushed(&st, "def", Some("def")));
    }

    #[test]
    fn each_step_is_recorded_with_its_event() {
        let mut st = at_publish();
        assert!(
            record(
                &mut st,
                Record::Target {
                    remote: "origin".into(),
                    base: "main".into()
                }
            )
            .is_empty()
        );
        let ev = record(
            &mut st,
            Record::Pushed {
                tip: "abc".into(),
                shown: "b → origin (abc)".into(),
            },
        );
        assert_eq!(ev, [("PUSHED", "b → origin (abc)".to_string())]);
        let ev = record(
            &mut st,
            Record::PullRequest {
                state: PrState::Created,
                url: Some("https://x/pull/3".into()),
                existed: true,
            },
        );
        assert_eq!(ev, [("PR_EXISTS", "https://x/pull/3".to_string())]);
        assert_eq!(st.pr_url.as_deref(), Some("https://x/pull/3"));
        let ev = record(&mut st, Record::WorktreeRemoved { note: "/w".into() });
        assert_eq!(ev[0].0, "WORKTREE_REMOVED");
        let ps = st.swarm.publish.clone().unwrap();
        assert_eq!(
            (
                ps.remote.as_str(),
                ps.base.as_str(),
                ps.pushed.as_deref(),
                ps.pr,
                ps.worktree_removed
            ),
            ("origin", "main", Some("abc"), PrState::Created, true)
        );
        let ev = record(
            &mut st,
            Record::PullRequest {
                state: PrState::Failed,
                url: None,
                existed: false,
            },
        );
        assert!(ev.is_empty());
        assert_eq!(st.swarm.publish.unwrap().pr, PrState::Failed);
    }
}
