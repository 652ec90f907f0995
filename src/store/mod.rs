//! The `.swarm/` folder: where runs live, how their files are named, the index of active runs,
//! the event log, and run selection. All writes go through [`atomic`].

pub mod events;
pub mod ledger;
pub mod lock;
pub mod manager_plan;
pub mod session;
pub(crate) mod state_move;
pub(crate) mod state_ref;
pub(crate) mod state_remote;
pub(crate) mod state_tree;
mod state_walk;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::machine::state::RunStatus;

/// The real UTC clock, RFC 3339 with milliseconds.
pub fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Temporary files of the tool's own writes in a run folder belong to a writer that died
/// before its rename (we hold the run's lock, so no live writer of the tool owns one); they are
/// garbage. Agents write in the run folder too (results, the plan), at any time and with any
/// temporary names: their files are never touched.
pub fn remove_torn_temp_files(run: &RunDir) {
    fn tools_own(target: &str, archived: bool) -> bool {
        let agents = (target.ends_with(".result.json")
            && target != "manual-intervention-required.result.json")
            || target.ends_with("plan.json");
        archived || !agents
    }
    for (dir, archived) in [(run.path.clone(), false), (run.archive_dir(), true)] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            // `.<target>.<random>.tmp`, as `atomic::write` names them.
            let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
                continue;
            };
            let target = inner.rsplit_once('.').map(|(t, _)| t).unwrap_or(inner);
            if tools_own(target, archived) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// The `.swarm/` folder of one workspace.
#[derive(Debug, Clone)]
pub struct Swarm {
    /// The workspace root (the main worktree).
    pub root: PathBuf,
    /// `<root>/.swarm`
    pub dir: PathBuf,
    /// `<root>/.swarm/runs`
    pub runs: PathBuf,
}

impl Swarm {
    pub fn new(root: &Path) -> Swarm {
        let dir = root.join(".swarm");
        let runs = dir.join("runs");
        Swarm {
            root: root.to_path_buf(),
            dir,
            runs,
        }
    }

    pub fn standards_path(&self) -> PathBuf {
        self.dir.join("standards.md")
    }

    pub fn policies_path(&self) -> PathBuf {
        self.dir.join("policies.json")
    }

    /// `.swarm/runs/.active/`: one empty file per run whose outcome is `in-progress`, so that
    /// `next` finds the active run without reading every run that ever existed.
    fn active_dir(&self) -> PathBuf {
        self.runs.join(".active")
    }

    pub fn run(&self, id: &str) -> RunDir {
        RunDir {
            id: id.to_string(),
            path: self.runs.join(id),
        }
    }

    /// Creates `.swarm/` and `.swarm/runs/` (idempotent), refusing either when it is a
    /// symlink: the tool writes only in the repository's own folders.
    pub fn ensure_dirs(&self) -> Result<()> {
        crate::files::safe::create_dirs(&self.root, &self.active_dir())
    }

    /// Records whether `id` is active. Marked active *before* a status saying `in-progress` is
    /// written and unmarked *after* a terminal status is written, so every in-progress run is
    /// always listed; a stale entry is dropped lazily by [`Swarm::active_runs`].
    pub fn set_active(&self, id: &str, active: bool) -> Result<()> {
        let p = self.active_dir().join(id);
        if active {
            crate::files::safe::create_dirs(&self.root, &self.active_dir())?;
            if !p.exists() {
                crate::files::atomic::write(&p, b"")?;
            }
        } else if p.exists() {
            fs::remove_file(&p).ctx("remove", &p)?;
        }
        Ok(())
    }

    /// Ids of runs whose outcome is `in-progress`, with their status.
    pub fn active_runs(&self) -> Result<Vec<(RunDir, RunStatus)>> {
        let mut out = Vec::new();
        let dir = self.active_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let run = self.run(&name);
            match run.load_status() {
                Ok(Some(st)) if st.outcome.is_in_progress() => out.push((run, st)),
                // Finished, or its folder is gone: the entry is stale.
                Ok(_) => {
                    let _ = fs::remove_file(entry.path());
                }
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.1.created_at.cmp(&b.1.created_at));
        Ok(out)
    }

    /// Every run folder holding a readable `run.status.json`, oldest first. Unreadable runs
    /// are returned as errors beside the good ones so `list` can show them.
    pub fn all_runs(&self) -> Result<Vec<(RunDir, Result<RunStatus>)>> {
        let mut out = Vec::new();
        let entries = match fs::read_dir(&self.runs) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io("list", &self.runs, e)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            let run = self.run(&name);
            match run.load_status() {
                Ok(Some(st)) => out.push((run, Ok(st))),
                Ok(None) => {}
                Err(e) => out.push((run, Err(e))),
            }
        }
        out.sort_by(|a, b| {
            let ka =
                a.1.as_ref()
                    .map(|s| s.created_at.clone())
                    .unwrap_or_default();
            let kb =
                b.1.as_ref()
                    .map(|s| s.created_at.clone())
                    .unwrap_or_default();
            ka.cmp(&kb).then_with(|| a.0.id.cmp(&b.0.id))
        });
        Ok(out)
    }

    /// Resolves `--run <id>` (a full id or a unique prefix of at least 4 characters).
    pub fn find_run(&self, wanted: &str) -> Result<RunDir> {
        let direct = self.run(wanted);
        if is_safe_id(wanted) && direct.status_path().is_file() {
            return Ok(direct);
        }
        let mut matches = Vec::new();
        if wanted.len() >= 4
            && is_safe_id(wanted)
            && let Ok(entries) = fs::read_dir(&self.runs)
        {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(wanted) && self.run(&name).status_path().is_file() {
                    matches.push(name);
                }
            }
        }
        match matches.len() {
            1 => Ok(self.run(&matches[0])),
            0 => Err(Error::failure(format!(
                "no run with id '{wanted}' in {}",
                self.runs.display()
            ))
            .hint("run 'git swarm list' to see the runs of this repository")),
            _ => {
                matches.sort();
                Err(Error::failure(format!(
                    "run id prefix '{wanted}' is ambiguous: {}",
                    matches.join(", ")
                ))
                .hint("give more characters of the run id"))
            }
        }
    }
}

fn is_safe_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) use crate::machine::layout::RunDir;
pub use session::Session;

impl RunDir {
    /// Refuses when a folder the tool writes in for this run — `.swarm`, `.swarm/runs`, the
    /// run folder, `archive/`, `logs/` — is a symlink (or not a folder). Atomic writes create
    /// their temporary file in the target's folder, and appends open the file in it, so these
    /// folders must be the repository's own.
    pub fn check_folders(&self) -> Result<()> {
        let Some(root) = self.path.ancestors().nth(3) else {
            return Ok(());
        };
        crate::files::safe::check_dirs(root, &self.archive_dir())?;
        crate::files::safe::check_dirs(root, &self.path.join("logs"))?;
        // The event log is appended to, never replaced: refused up front (before a
        // transition's effects), not halfway.
        let events = self.events_path();
        if fs::symlink_metadata(&events).is_ok_and(|m| m.is_symlink()) {
            return Err(crate::files::safe::symlink_refused(&events));
        }
        Ok(())
    }

    /// Reads `run.status.json`; `Ok(None)` when the folder has none (a start that crashed
    /// before its first status write).
    pub fn load_status(&self) -> Result<Option<RunStatus>> {
        let p = self.status_path();
        // No size limit: the status of a run with a very large plan is large, and it is the
        // tool's own file. But it is read only when it is a regular file.
        let Some(bytes) = crate::files::safe::read_if_exists(&p, None)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::failure(format!("{} is not a valid run status: {e}", p.display())).hint(
                "the file is written only by git swarm; restore it from a backup or start a new run",
            )
        })
    }

    pub fn require_status(&self) -> Result<RunStatus> {
        self.load_status()?.ok_or_else(|| {
            Error::failure(format!(
                "run {} has no run.status.json (its start did not finish)",
                self.id
            ))
            .hint("start a new run with 'git swarm start'")
        })
    }

    /// Writes `run.status.json` — only a status valid against the tool's own schema: a write
    /// that would produce an invalid one (a number that is not finite, a value that reached
    /// the status unchecked) is refused with an error and never persisted, so the run stays
    /// readable by every command.
    pub fn write_status(&self, st: &RunStatus) -> Result<()> {
        let value = serde_json::to_value(st).map_err(|e| {
            Error::failure(format!(
                "refusing to write {}: it cannot be serialised: {e}",
                self.status_path().display()
            ))
        })?;
        if let Some(first) = crate::schema::violations(status_validator(), &value).first() {
            return Err(Error::failure(format!(
                "refusing to write {}: the new status would not be valid ({first})",
                self.status_path().display()
            ))
            .hint("the run is left as it was; this is a defect of git swarm or of a value it was given (report it with the message)"));
        }
        crate::failpoint!("status-write-before");
        crate::files::atomic::write_json(&self.status_path(), &value)?;
        crate::failpoint!("status-write-after");
        Ok(())
    }
}

/// The tool's own schema of `run.status.json`, compiled once.
fn status_validator() -> &'static jsonschema::Validator {
    static V: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        crate::schema::builtin(
            crate::schema::embedded::RUN_STATUS,
            "run.status.schema.json",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// See issue 10: a cost that is not finite once wrote `null` into the status, after which
    /// no command could read the run.
    #[test]
    fn an_invalid_status_is_refused_and_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir {
            id: "r".into(),
            path: dir.path().to_path_buf(),
        };
        let mut st = crate::machine::sample_status(
            "00000000-0000-4000-8000-000000000000",
            Path::new("/w"),
            Path::new("/c.json"),
        );
        st.swarm.base_commit = "a".repeat(40);
        st.current_step = "planner".into();
        run.write_status(&st).unwrap();
        let before = fs::read(run.status_path()).unwrap();
        st.swarm
            .cost_usd
            .insert("implementor".into(), f64::INFINITY);
        let e = run.write_status(&st).unwrap_err();
        assert!(e.message.contains("refusing to write"), "{}", e.message);
        assert!(
            e.message.contains("/swarm/costUsd/implementor"),
            "{}",
            e.message
        );
        assert_eq!(fs::read(run.status_path()).unwrap(), before, "unchanged");
        assert!(run.load_status().unwrap().is_some(), "still readable");
    }
}
