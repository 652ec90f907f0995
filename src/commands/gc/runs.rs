//! The runs as gc sees them: what each records (its worktrees and branches) and whether its
//! state lets gc touch them.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::driver::place;
use crate::machine::state::{Outcome, RunStatus};
use crate::store::{RunDir, Swarm};

/// What a run's status says about its leftovers.
pub(super) enum State {
    Status(Box<RunStatus>),
    /// A folder without `run.status.json`: a start in progress, or one that did not finish.
    NoStatus,
    Unreadable(String),
}

/// One run folder and the worktrees and branches it records: in its status, in its
/// worktree intent (`worktree.json`, written before the worktree is created) and in its
/// batch's workers. A recorded worktree or branch also claims its workers' `--wN` siblings.
pub(super) struct RunInfo {
    pub run: RunDir,
    pub state: State,
    pub paths: Vec<PathBuf>,
    pub branches: Vec<String>,
    /// Commits its worktrees were checked out from (base, as recorded).
    pub bases: Vec<String>,
}

impl RunInfo {
    pub(crate) fn read(run: RunDir) -> RunInfo {
        let state = match run.load_status() {
            Ok(Some(s)) => State::Status(Box::new(s)),
            Ok(None) => State::NoStatus,
            Err(e) => State::Unreadable(e.message),
        };
        let mut info = RunInfo {
            run,
            state,
            paths: Vec::new(),
            branches: Vec::new(),
            bases: Vec::new(),
        };
        if let State::Status(s) = &info.state {
            let workers = s.swarm.batch.iter().flat_map(|b| &b.workers);
            let paths: Vec<String> = s
                .worktree_path
                .iter()
                .cloned()
                .chain(workers.clone().map(|w| w.path.clone()))
                .collect();
            let branches: Vec<String> = s
                .branch
                .iter()
                .cloned()
                .chain(workers.map(|w| w.branch.clone()))
                .collect();
            info.paths.extend(paths.iter().map(|p| real(Path::new(p))));
            info.branches.extend(branches);
            info.bases.push(s.swarm.base_commit.clone());
        }
        // What the run's ledger records it made: its worktrees and spare worktrees.
        if let Ok(ledger) = info.run.ledger() {
            for o in &ledger.owned {
                info.paths.push(real(Path::new(&o.path)));
                info.branches.push(o.branch.clone());
            }
            for s in &ledger.spares {
                info.paths.push(real(Path::new(&s.path)));
                info.paths
                    .extend(s.into.as_deref().map(|p| real(Path::new(p))));
                info.bases.push(s.commit.clone());
            }
        }
        if let Ok(intent) = crate::files::read_json(&info.run.worktree_intent_path()) {
            let field = |k: &str| intent.get(k).and_then(Value::as_str).map(str::to_string);
            info.paths
                .extend(field("path").map(|p| real(Path::new(&p))));
            info.branches.extend(field("branch"));
            info.bases.extend(field("base"));
        }
        info.paths.retain(|p| !p.as_os_str().is_empty());
        info.branches.retain(|b| !b.is_empty());
        info
    }

    pub(crate) fn claims(&self, path: Option<&Path>, branch: Option<&str>) -> bool {
        let by_path = path.is_some_and(|p| {
            let p = p.to_string_lossy();
            self.paths.iter().any(|q| {
                let q = q.to_string_lossy();
                p == q || p.starts_with(&format!("{q}--w"))
            })
        });
        let by_branch = branch.is_some_and(|b| {
            self.branches
                .iter()
                .any(|q| b == q || b.starts_with(&format!("{q}--w")))
        });
        by_path || by_branch
    }
}

/// Every run folder, read without its lock (each status is written atomically, so a read
/// sees one whole version); and the trash of an interrupted gc.
pub(super) fn scan(swarm: &Swarm) -> Vec<RunInfo> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&swarm.runs) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        out.push(RunInfo::read(swarm.run(&name)));
    }
    out.sort_by(|a, b| a.run.id.cmp(&b.run.id));
    out
}

/// A path as the file system resolves it (its folder's symlinks resolved), to compare what
/// runs recorded with the real paths git reports.
pub(super) fn real(p: &Path) -> PathBuf {
    let p = place::lexical(p);
    match (
        p.parent().and_then(|d| std::fs::canonicalize(d).ok()),
        p.file_name(),
    ) {
        (Some(d), Some(n)) => d.join(n),
        _ => p,
    }
}

/// Whether a run's state lets gc touch what it uses.
pub(super) fn check_state(r: &RunInfo, include_resumable: bool) -> std::result::Result<(), String> {
    let id = &r.run.id;
    match &r.state {
        State::NoStatus => Err(format!(
            "run {id} has no status yet (it is being started, or its start did not finish)"
        )),
        State::Unreadable(e) => Err(format!("the status of run {id} cannot be read ({e})")),
        State::Status(s) if s.outcome.is_in_progress() => {
            Err(format!("in use by run {id} (in progress)"))
        }
        State::Status(s) if resumable(s) && !include_resumable => Err(format!(
            "run {id} is {} and can be resumed with 'git swarm retry --run {id}'; 'git swarm gc --include-resumable' removes it too",
            s.outcome.as_str()
        )),
        State::Status(_) => Ok(()),
    }
}

/// Failed and escalated runs: `retry` re-opens them.
fn resumable(s: &RunStatus) -> bool {
    s.outcome == Outcome::Failed || s.outcome.is_escalation()
}
