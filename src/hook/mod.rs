//! The pre-push hook: installation (chaining a hook that was there before) and the check it
//! runs. The check only reads — it never takes a run's lock, because `publish`'s own push
//! runs it.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

use crate::error::{Error, IoContext, Result};
use crate::files::atomic;
use crate::store::Swarm;

const MARKER: &str = "# git-swarm pre-push hook";
pub const CHAINED: &str = "pre-push.chained";

/// The script installed as `pre-push` (`hooks/pre-push` of the source tree). `fallback` is the
/// binary that installed it, used when `git-swarm` is not on PATH.
pub fn script(fallback: &Path) -> String {
    let quoted = format!(
        "'{}'",
        fallback.display().to_string().replace('\'', "'\\''")
    );
    include_str!("../../hooks/pre-push")
        .replace("@CHAINED@", CHAINED)
        .replace("@FALLBACK@", &quoted)
}

/// What `install` did.
#[derive(Debug)]
pub struct Installed {
    pub path: PathBuf,
    /// `installed`, `updated`, `unchanged`, `chained` (an existing hook now runs first).
    pub action: &'static str,
}

/// Installs the hook where git really looks (`core.hooksPath`, linked worktrees).
pub fn install(root: &Path) -> Result<Installed> {
    let dir = crate::git::query::hooks_dir(root)?;
    atomic::create_dir_all(&dir)?;
    let path = dir.join("pre-push");
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("git-swarm"));
    let text = script(&exe);
    let mut action = "installed";
    if path.exists() {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current.contains(MARKER) {
            if current == text {
                return Ok(Installed {
                    path,
                    action: "unchanged",
                });
            }
            action = "updated";
        } else {
            let chained = dir.join(CHAINED);
            if chained.exists() {
                return Err(Error::failure(format!(
                    "{} exists and is not git swarm's, and {} is taken too",
                    path.display(),
                    chained.display()
                ))
                .hint("merge the two hooks by hand, then run 'git swarm init' again"));
            }
            std::fs::rename(&path, &chained).ctx("move the existing hook to", &chained)?;
            action = "chained";
        }
    }
    atomic::write(&path, text.as_bytes())?;
    set_executable(&path)?;
    Ok(Installed { path, action })
}

fn set_executable(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).ctx("make executable", p)
}

/// Is the hook installed (ours, at the path git uses)?
pub fn installed(root: &Path) -> Option<PathBuf> {
    let p = crate::git::query::hooks_dir(root).ok()?.join("pre-push");
    std::fs::read_to_string(&p)
        .ok()
        .filter(|t| t.contains(MARKER))
        .map(|_| p)
}

fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

/// The check: reads git's `<local ref> <local sha> <remote ref> <remote sha>` lines and
/// returns the refusals (empty: the push may go on).
pub fn pre_push(cwd: &Path, remote: &str, input: impl BufRead) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for l in input.lines() {
        let l =
            l.map_err(|e| Error::failure(format!("cannot read the pushed refs from stdin: {e}")))?;
        let parts: Vec<&str> = l.split_whitespace().collect();
        if let [local_ref, local_sha, remote_ref, remote_sha] = parts[..] {
            lines.push((
                local_ref.to_string(),
                local_sha.to_string(),
                remote_ref.to_string(),
                remote_sha.to_string(),
            ));
        }
    }
    // Only deletions (or nothing): nothing to check, and nothing to open.
    if lines.iter().all(|(_, sha, _, _)| is_zero(sha)) {
        return Ok(Vec::new());
    }
    let ws = crate::git::discover(cwd)?;
    let repo = ws.open()?;
    let mut refusals = Vec::new();
    let mut swarm_runs: Option<Vec<crate::machine::state::RunStatus>> = None;
    let mut prefix: Option<String> = None;
    crate::trace::mark("hook: repository opened");
    for (local_ref, local_sha, remote_ref, remote_sha) in &lines {
        if is_zero(local_sha) {
            continue;
        }
        // 1. A branch of a known run ships only the content its tester passed.
        let branch = remote_ref.strip_prefix("refs/heads/").unwrap_or(remote_ref);
        let local_branch = local_ref.strip_prefix("refs/heads/").unwrap_or(local_ref);
        let prefix = prefix.get_or_insert_with(|| {
            crate::config::policies::Policies::load(&Swarm::new(&ws.root).policies_path())
                .map(|p| p.git.branching.branch_prefix)
                .unwrap_or_else(|_| "swarm/".to_string())
        });
        let is_swarm =
            branch.starts_with(prefix.as_str()) || local_branch.starts_with(prefix.as_str());
        let runs = if !is_swarm {
            &Vec::new()
        } else {
            swarm_runs.get_or_insert_with(|| {
                let swarm = Swarm::new(&ws.root);
                swarm
                    .all_runs()
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(_, s)| s.ok())
                    .filter(|s| s.branch.is_some())
                    .collect()
            })
        };
        if let Some(st) = runs.iter().rev().find(|s| {
            s.branch.as_deref() == Some(branch) || s.branch.as_deref() == Some(local_branch)
        }) {
            let id = &st.run_id;
            match &st.swarm.tested {
                None => refusals.push(format!(
                    "{remote_ref}: run {id} has not passed its tester, so its branch is not pushed; finish the run ('git swarm next --run {id}'), then 'git swarm publish --run {id}'"
                )),
                Some(t) => {
                    let tree = tree_of(&repo, local_sha)?;
                    if tree != t.tree {
                        refusals.push(format!(
                            "{remote_ref}: this is not the content run {id}'s tester passed (commits or changes made after the test: pushing tree {}, tested tree {}); reset the branch to the tested content ({}), or start a new run for the extra change",
                            crate::cli::report::abbrev(&tree, 12),
                            crate::cli::report::abbrev(&t.tree, 12),
                            crate::cli::report::abbrev(&t.head, 12)
                        ));
                    }
                }
            }
        }
        // 2. No new commit may add files under .swarm/runs/.
        if let Some((commit, path)) = commit_adding_runs(&repo, remote, local_sha, remote_sha)? {
            refusals.push(format!(
                "{remote_ref}: commit {} adds {path}; run state under .swarm/runs/ never belongs in history — remove it from that commit (git rm -r --cached .swarm/runs, then amend or rebase)",
                crate::cli::report::abbrev(&commit, 12)
            ));
        }
    }
    crate::trace::mark("hook: checked");
    Ok(refusals)
}

fn tree_of(repo: &gix::Repository, sha: &str) -> Result<String> {
    let id = gix::ObjectId::from_hex(sha.as_bytes())
        .map_err(|e| Error::failure(format!("bad object id {sha}: {e}")))?;
    let commit = repo
        .find_commit(id)
        .map_err(|e| Error::failure(format!("cannot read commit {sha}: {e}")))?;
    Ok(commit
        .tree_id()
        .map_err(|e| Error::failure(format!("cannot read the tree of {sha}: {e}")))?
        .to_string())
}

/// The object id of `.swarm/runs` in a tree, if there is one.
fn runs_entry(repo: &gix::Repository, tree: gix::ObjectId) -> Result<Option<gix::ObjectId>> {
    let t = repo
        .find_tree(tree)
        .map_err(|e| Error::failure(format!("cannot read tree {tree}: {e}")))?;
    let entry = t
        .lookup_entry_by_path(Path::new(".swarm/runs"))
        .map_err(|e| Error::failure(format!("cannot read tree {tree}: {e}")))?;
    Ok(entry.map(|e| e.object_id()))
}

/// The first new commit (not on the remote yet) whose `.swarm/runs` differs from all its
/// parents', with a file path under it: `(commit, path)`.
fn commit_adding_runs(
    repo: &gix::Repository,
    remote: &str,
    local: &str,
    remote_sha: &str,
) -> Result<Option<(String, String)>> {
    let tip = gix::ObjectId::from_hex(local.as_bytes())
        .map_err(|e| Error::failure(format!("bad object id {local}: {e}")))?;
    let mut hidden: Vec<gix::ObjectId> = Vec::new();
    if !is_zero(remote_sha)
        && let Ok(id) = gix::ObjectId::from_hex(remote_sha.as_bytes())
        && repo.find_object(id).is_ok()
    {
        hidden.push(id);
    }
    // What the remote has: its remote-tracking branches.
    if let Ok(refs) = repo.references()
        && let Ok(iter) = refs.prefixed(format!("refs/remotes/{remote}/").as_str())
    {
        for r in iter.flatten() {
            let mut r = r;
            if let Ok(id) = r.peel_to_id() {
                hidden.push(id.detach());
            }
        }
    }
    let walk = repo
        .rev_walk([tip])
        .with_hidden(hidden)
        .all()
        .map_err(|e| Error::failure(format!("cannot walk the pushed commits: {e}")))?;
    for info in walk {
        let info =
            info.map_err(|e| Error::failure(format!("cannot walk the pushed commits: {e}")))?;
        let commit = info
            .object()
            .map_err(|e| Error::failure(format!("cannot read commit {}: {e}", info.id)))?;
        let tree = commit
            .tree_id()
            .map_err(|e| Error::failure(e.to_string()))?
            .detach();
        let Some(runs) = runs_entry(repo, tree)? else {
            continue;
        };
        let mut in_parents = false;
        for p in commit.parent_ids() {
            let pc = repo
                .find_commit(p.detach())
                .map_err(|e| Error::failure(e.to_string()))?;
            let pt = pc
                .tree_id()
                .map_err(|e| Error::failure(e.to_string()))?
                .detach();
            if runs_entry(repo, pt)? == Some(runs) {
                in_parents = true;
                break;
            }
        }
        if !in_parents {
            return Ok(Some((
                info.id.to_string(),
                first_file(repo, runs, ".swarm/runs")?,
            )));
        }
    }
    Ok(None)
}

/// A file path under the tree `id` (for the message).
fn first_file(repo: &gix::Repository, id: gix::ObjectId, prefix: &str) -> Result<String> {
    let Ok(tree) = repo.find_tree(id) else {
        return Ok(format!("{prefix}/"));
    };
    let decoded = tree.decode().map_err(|e| Error::failure(e.to_string()))?;
    if let Some(e) = decoded.entries.first() {
        let name = format!("{prefix}/{}", e.filename.to_str_lossy());
        if e.mode.is_tree() {
            return first_file(repo, e.oid.to_owned(), &name);
        }
        return Ok(name);
    }
    Ok(format!("{prefix}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn script_quotes_the_fallback_path() {
        let s = script(Path::new("/opt/it's here/git-swarm"));
        assert!(s.contains("swarm='/opt/it'\\''s here/git-swarm'"), "{s}");
        assert!(s.starts_with("#!/bin/sh\n# git-swarm pre-push hook"));
    }

    #[test]
    fn only_deletions_need_no_repository() {
        let input = format!("(delete) {ZERO} refs/heads/x abc\n");
        let r = pre_push(Path::new("/nonexistent"), "origin", input.as_bytes()).unwrap();
        assert!(r.is_empty());
    }
}
