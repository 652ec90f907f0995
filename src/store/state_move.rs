//! Taking a run from git on another clone: the run folder is written from the state commit
//! (files the commit does not hold are removed, this machine's own bookkeeping kept), the
//! absolute paths the other machine wrote are moved to this clone's, and the run's ledger
//! keeps only what this clone can have (the worktrees, to be made again here).

use std::path::Path;

use gix::ObjectId;

use super::ledger::Stage;
use super::{RunDir, state_ref, state_tree};
use crate::error::{Error, IoContext, Result};
use crate::machine::state::RunStatus;

/// Writes the run folder from `tip`. A marker makes an interrupted write refuse every other
/// command until it is done again.
pub(crate) fn materialise(
    repo: &gix::Repository,
    root: &Path,
    run: &RunDir,
    tip: ObjectId,
) -> Result<()> {
    crate::files::safe::create_dirs(root, &run.path)?;
    crate::files::atomic::write(
        &run.path.join(state_ref::RESUMING),
        tip.to_string().as_bytes(),
    )?;
    let files = state_tree::files_of(repo, tip)?;
    let all: Vec<String> = files.keys().cloned().collect();
    state_tree::write_into(repo, root, &run.path, &files, &all)?;
    remove_others(&run.path, "", &files)?;
    crate::failpoint!("resume-written");
    Ok(())
}

/// Removes the folder's files that `files` does not hold (a stale copy's leftovers), keeping
/// this machine's bookkeeping (`.state-*`) and lock files.
fn remove_others(dir: &Path, rel: &str, files: &state_tree::Files) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if rel.is_empty() && (name.starts_with(".state-") || name.ends_with(".lock")) {
            continue;
        }
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if meta.is_dir() {
            remove_others(&e.path(), &path, files)?;
        } else if !files.contains_key(&path) {
            std::fs::remove_file(e.path()).ctx("remove", &e.path())?;
        }
    }
    Ok(())
}

/// Moves the paths of the machine that wrote the state (its workspace `from`) to this
/// clone's (`to`) in every JSON file of the run folder (logs are history and stay as they
/// were), points the run at a config this machine has, and drops from the ledger what only
/// the other machine had (spares, an operation in flight); the run's worktrees are marked to
/// be made again here. Returns the status as it is now.
pub(crate) fn relocate(run: &RunDir, to: &Path, config_here: &Path) -> Result<RunStatus> {
    let st = run.require_status()?;
    let from = st.swarm.workspace.clone();
    let to = to.display().to_string();
    if from != to {
        rewrite_json(&run.path, &from, &to, true)?;
    }
    let mut st = run.require_status()?;
    // The config: one inside this clone (committed, moved with the paths) is kept; any other
    // path came from another machine and means nothing here — this machine's is used.
    let inside =
        Path::new(&st.swarm.config).starts_with(&to) && Path::new(&st.swarm.config).exists();
    if !inside {
        st.swarm.config = config_here.display().to_string();
    }
    run.write_status(&st)?;
    let mut l = run.ledger()?;
    l.spares.clear();
    l.op = None;
    for o in &mut l.owned {
        if matches!(o.stage, Stage::Created) && !Path::new(&o.path).exists() {
            o.stage = Stage::Creating;
        }
    }
    run.save_ledger(&l)?;
    let _ = std::fs::remove_file(run.worktree_intent_path());
    Ok(st)
}

fn rewrite_json(dir: &Path, from: &str, to: &str, top: bool) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if meta.is_dir() {
            if !(top && name == "logs") {
                rewrite_json(&e.path(), from, to, false)?;
            }
            continue;
        }
        if !meta.is_file() || !name.ends_with(".json") || name.starts_with(".state-") {
            continue;
        }
        let bytes = crate::files::safe::read_regular(&e.path(), None)?;
        // An agent's file that is not JSON is left as it is (it is judged as it is).
        let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        if moved(&mut v, from, to) {
            crate::files::atomic::write_json(&e.path(), &v)?;
        }
    }
    Ok(())
}

/// Replaces `from` in every string of `v` where it stands as a path (followed by `/`, `-` —
/// the worktrees beside the workspace — or the end, and not preceded by a path character).
fn moved(v: &mut serde_json::Value, from: &str, to: &str) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let new = replace_path(s, from, to);
            if new != *s {
                *s = new;
                true
            } else {
                false
            }
        }
        Value::Array(a) => a.iter_mut().fold(false, |c, x| moved(x, from, to) | c),
        Value::Object(o) => o.values_mut().fold(false, |c, x| moved(x, from, to) | c),
        _ => false,
    }
}

fn replace_path(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() || !s.contains(from) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(from) {
        let before = if i > 0 {
            rest[..i].chars().last()
        } else {
            out.chars().last()
        };
        let after = rest[i + from.len()..].chars().next();
        let at_start = before.is_none_or(|c| !(c.is_alphanumeric() || "/._-~".contains(c)));
        let at_end = after
            .is_none_or(|c| c == '/' || c == '-' || !(c.is_alphanumeric() || "._~".contains(c)));
        out.push_str(&rest[..i]);
        out.push_str(if at_start && at_end { to } else { from });
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

/// Finishes taking the run: the stat cache starts at `tip`, the state ref is `tip`, the
/// marker goes.
pub(crate) fn settle(repo: &gix::Repository, run: &RunDir, tip: ObjectId) -> Result<()> {
    state_ref::adopt(repo, run, tip)?;
    let now = state_ref::current(repo, &run.id);
    if now != Some(tip) {
        state_ref::move_ref(repo, &run.id, now, tip, "taken from the remote")?;
    }
    match std::fs::remove_file(run.path.join(state_ref::RESUMING)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", &run.path.join(state_ref::RESUMING), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_paths_move() {
        let (from, to) = ("/a/repo", "/b/clone");
        for (s, want) in [
            ("/a/repo", "/b/clone"),
            (
                "/a/repo/.swarm/runs/x/h.json",
                "/b/clone/.swarm/runs/x/h.json",
            ),
            ("/a/repo-swarm-fix", "/b/clone-swarm-fix"),
            (
                "input at: /a/repo/.swarm/x. Go",
                "input at: /b/clone/.swarm/x. Go",
            ),
            ("/a/repository", "/a/repository"),
            ("/x/a/repo", "/x/a/repo"),
            ("'/a/repo'", "'/b/clone'"),
        ] {
            assert_eq!(replace_path(s, from, to), want, "{s}");
        }
    }
}
