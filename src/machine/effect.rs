//! What a transition asks the executor to do, in order, before the status is written.

use std::path::PathBuf;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Consume a result: move it into the archive.
    Move {
        from: PathBuf,
        to: PathBuf,
    },
    /// Move a leftover result out of the way before a new invocation, if there is one.
    Sweep {
        from: PathBuf,
        to: PathBuf,
    },
    Copy {
        from: PathBuf,
        to: PathBuf,
    },
    CreateWorktree {
        branch: String,
        path: String,
        base: String,
        adopt: bool,
        /// The parallel worker it is for (`None`: the run's own worktree).
        worker: Option<String>,
        /// A sparse (cone) worktree of these directories (`None`: a full checkout).
        sparse: Option<Vec<String>>,
    },
    /// Widens the cone of the sparse worktree `path` by `dirs`.
    WidenSparse {
        path: String,
        dirs: Vec<String>,
    },
    RemoveWorktree {
        path: String,
    },
    /// Commit what each worker left, merge its branch into the run's worktree, remove the
    /// worker's worktree and branch. `(label, branch, path)` per worker; idempotent.
    MergeWorkers {
        into: String,
        workers: Vec<(String, String, String)>,
    },
    /// Commit what the worker left, then start merging its branch into the run's worktree,
    /// leaving the conflicts in the files for a merge-fix pass.
    MergeConflicting {
        into: String,
        worker: (String, String, String),
    },
    /// Conclude the merge in progress in the run's worktree with the files as resolved.
    ConcludeMerge {
        into: String,
    },
    WriteJson {
        path: PathBuf,
        value: Value,
    },
    WriteText {
        path: PathBuf,
        text: String,
    },
}
