//! The action a run's status stands for: what `next` answers, and the exit code it carries.

use super::state::{Outcome, Phase, RunStatus};

/// The action a status stands for (what `next` answers when nothing new arrived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionKind {
    Invoke,
    Approve,
    Publish,
    Done,
    Escalated,
    Failed,
    Canceled,
}

impl ActionKind {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            ActionKind::Invoke => "invoke",
            ActionKind::Approve => "approve",
            ActionKind::Publish => "publish",
            ActionKind::Done => "done",
            ActionKind::Escalated => "escalated",
            ActionKind::Failed => "failed",
            ActionKind::Canceled => "canceled",
        }
    }

    /// Exit code of a command that answers with this action.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            ActionKind::Escalated => 4,
            ActionKind::Failed => 5,
            _ => 0,
        }
    }
}

pub(crate) fn action_of(st: &RunStatus) -> ActionKind {
    match st.outcome {
        Outcome::InProgress if st.swarm.approval.is_some() => ActionKind::Approve,
        Outcome::InProgress => match st.swarm.phase {
            Phase::Publish => ActionKind::Publish,
            _ => ActionKind::Invoke,
        },
        Outcome::Completed => ActionKind::Done,
        Outcome::Failed => ActionKind::Failed,
        Outcome::Canceled => ActionKind::Canceled,
        _ => ActionKind::Escalated,
    }
}
