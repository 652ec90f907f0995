//! The outcomes a config may name for a run that exhausted a loop or its retries.

/// How a run escalates when a loop limit or the retry budget is exhausted (the config's
/// `escalation`, `replanEscalation`, `retryEscalation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escalation {
    NeedsHuman,
    DowngradeScope,
    ManualInterventionRequired,
}

impl Escalation {
    pub(crate) fn parse(s: &str) -> Option<Escalation> {
        match s {
            "needs-human" => Some(Escalation::NeedsHuman),
            "downgrade-scope" => Some(Escalation::DowngradeScope),
            "manual-intervention-required" => Some(Escalation::ManualInterventionRequired),
            _ => None,
        }
    }
}
