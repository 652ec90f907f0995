//! gc's record of the step it is doing, `.swarm/runs/.gc.json`, written before the step's
//! git starts and removed once it ended. gc holds the repository's lock while it works, so a
//! record the next gc finds is one a killed gc left: the lock files its git left (no process
//! has them open — a `config.lock` from removing a branch's settings, a ref's lock, an index
//! lock) are removed, and a branch whose ref is gone loses its settings, before anything else.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Action, Gc, Item};
use crate::error::Result;
use crate::git::{gc_ops, locks};

const FILE: &str = ".gc.json";

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// What the step did, for people (`branch swarm/x`).
    what: String,
    pid: u32,
    at: String,
    /// The branch a branch step deleted: its settings go with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
}

fn path(runs: &Path) -> PathBuf {
    runs.join(FILE)
}

/// Records the step gc is about to do.
pub(super) fn begin(runs: &Path, what: &str, branch: Option<&str>) -> Result<()> {
    crate::files::atomic::write_json(
        &path(runs),
        &Record {
            what: what.to_string(),
            pid: std::process::id(),
            at: crate::store::now(),
            branch: branch.map(str::to_string),
        },
    )
}

/// The step ended (done or refused): git released its locks.
pub(super) fn end(runs: &Path) {
    let _ = std::fs::remove_file(path(runs));
}

impl Gc<'_> {
    /// Finishes what a killed gc left, before anything else is judged; without --apply, says
    /// what would be finished.
    pub(super) fn finish_cut_short(&mut self) -> Result<()> {
        let runs = self.session.swarm.runs.clone();
        let file = path(&runs);
        let Ok(text) = std::fs::read_to_string(&file) else {
            return Ok(());
        };
        // One that cannot be read is still the sign of a killed gc (cut off while writing it).
        let record: Option<Record> = serde_json::from_str(&text).ok();
        let what = record
            .as_ref()
            .map_or_else(|| "a step".to_string(), |r| format!("'{}'", r.what));
        let why = format!("left by git when gc's {what} was interrupted");
        let common = self.session.ws.common_dir.clone();
        let stale = if self.apply {
            locks::remove_stale(&common)
        } else {
            locks::stale(&common)
        };
        for l in stale {
            self.items.push(Item {
                kind: "git-lock",
                target: l.display().to_string(),
                action: Action::Finish,
                reason: why.clone(),
            });
        }
        if let Some(branch) = record.and_then(|r| r.branch) {
            let gone = gc_ops::branch_tip(&self.root, &branch).is_none();
            if gone && gc_ops::has_branch_settings(&self.root, &branch) {
                if self.apply {
                    gc_ops::remove_branch_settings(&self.root, &branch)?;
                }
                self.items.push(Item {
                    kind: "settings",
                    target: format!("branch.{branch}"),
                    action: Action::Finish,
                    reason: format!("its branch is gone: gc's {what} was interrupted"),
                });
            }
        }
        if self.apply {
            std::fs::remove_file(&file).map_err(|e| crate::error::Error::io("remove", &file, e))?;
        }
        Ok(())
    }
}
