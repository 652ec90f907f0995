use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::Args;
use serde_json::{Value, json};

use crate::cli::Context;
use crate::error::Result;
use crate::git::{self, Git};
use crate::machine::state::RunStatus;
use crate::report::Output;

/// Find what finished runs left behind — worktrees, swarm branches, old run folders — and
/// show what would be removed (the default), or remove it with --apply.
///
/// Never removes uncommitted, unpushed or unmerged work: a worktree goes only when it is clean
/// and its commits are on a remote or merged; a branch only when its commits are on a remote or
/// merged; a run folder only when the run ended and is older than the retention age.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Remove what is listed (default: only show it).
    #[arg(long)]
    pub apply: bool,
    /// Run folders of runs that ended more than DAYS ago are removed (default: policies
    /// gc.retentionDays, else 30).
    #[arg(long, value_name = "DAYS")]
    pub older_than: Option<u64>,
}

struct Plan {
    items: Vec<Value>,
    text: String,
}

impl Plan {
    fn add(&mut self, kind: &str, target: &str, remove: bool, reason: String) {
        self.text.push_str(&format!(
            "{} {kind:<9} {target}  ({reason})\n",
            if remove { "remove" } else { "keep  " }
        ));
        self.items.push(json!({"kind": kind, "target": target, "action": if remove { "remove" } else { "keep" }, "reason": reason}));
    }
}

/// Are the commits of `rev` safe elsewhere: on a remote-tracking branch, or merged into `base`?
fn safe_elsewhere(root: &Path, rev: &str, base: &str) -> Option<String> {
    let is_ancestor = |of: &str| {
        Git::new(root)
            .args(["merge-base", "--is-ancestor", rev, of])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !base.is_empty() && is_ancestor(base) {
        return Some(format!("merged into {base}"));
    }
    let remotes = Git::new(root)
        .args([
            "branch",
            "-r",
            "--contains",
            rev,
            "--format=%(refname:short)",
        ])
        .run()
        .unwrap_or_default();
    remotes.lines().next().map(|r| format!("on {r}"))
}

pub fn run(ctx: &Context, args: GcArgs) -> Result<Output> {
    let session = ctx.session()?;
    let root = session.ws.root.clone();
    let policies = session.policies()?;
    let prefix = policies.branch_prefix.clone();
    let days = args
        .older_than
        .or_else(|| {
            policies
                .raw
                .pointer("/gc/retentionDays")
                .and_then(Value::as_u64)
        })
        .unwrap_or(30);
    let runs: Vec<(crate::store::RunDir, RunStatus)> = session
        .swarm
        .all_runs()?
        .into_iter()
        .filter_map(|(r, s)| s.ok().map(|s| (r, s)))
        .collect();
    let active_paths: Vec<String> = runs
        .iter()
        .filter(|(_, s)| s.outcome.is_in_progress())
        .flat_map(|(_, s)| {
            let mut v: Vec<String> = s.worktree_path.iter().cloned().collect();
            v.extend(
                s.swarm
                    .batch
                    .iter()
                    .flat_map(|b| b.workers.iter().map(|w| w.path.clone())),
            );
            v
        })
        .collect();
    let active_branches: Vec<String> = runs
        .iter()
        .filter(|(_, s)| s.outcome.is_in_progress())
        .flat_map(|(_, s)| {
            let mut v: Vec<String> = s.branch.iter().cloned().collect();
            v.extend(
                s.swarm
                    .batch
                    .iter()
                    .flat_map(|b| b.workers.iter().map(|w| w.branch.clone())),
            );
            v
        })
        .collect();
    let base = Git::new(&root)
        .args([
            "symbolic-ref",
            "--quiet",
            "--short",
            "refs/remotes/origin/HEAD",
        ])
        .run()
        .ok()
        .or_else(|| {
            Git::new(&root)
                .args(["symbolic-ref", "--quiet", "--short", "HEAD"])
                .run()
                .ok()
        })
        .unwrap_or_default();
    let mut plan = Plan {
        items: Vec::new(),
        text: String::new(),
    };
    let mut removed_worktree_branches: Vec<String> = Vec::new();

    // 1. Worktrees on swarm branches that no running run uses.
    let list = Git::new(&root)
        .args(["worktree", "list", "--porcelain"])
        .run()?;
    let mut entries: Vec<(String, Option<String>, bool)> = Vec::new();
    for block in list.split("\n\n") {
        let mut path = None;
        let mut branch = None;
        let mut prunable = false;
        for l in block.lines() {
            if let Some(p) = l.strip_prefix("worktree ") {
                path = Some(p.to_string());
            } else if let Some(b) = l.strip_prefix("branch refs/heads/") {
                branch = Some(b.to_string());
            } else if l.starts_with("prunable") {
                prunable = true;
            }
        }
        if let Some(p) = path {
            entries.push((p, branch, prunable));
        }
    }
    let mut to_remove: Vec<PathBuf> = Vec::new();
    let mut prune = false;
    for (path, branch, prunable) in entries.iter().skip(1) {
        let Some(b) = branch.clone().filter(|b| b.starts_with(&prefix)) else {
            continue;
        };
        if active_paths.iter().any(|p| Path::new(p) == Path::new(path)) {
            plan.add(
                "worktree",
                path,
                false,
                format!("in use by a running run ({b})"),
            );
            continue;
        }
        if *prunable || !Path::new(path).exists() {
            plan.add(
                "worktree",
                path,
                true,
                "its directory is gone; only git's record remains".to_string(),
            );
            prune = true;
            removed_worktree_branches.push(b);
            continue;
        }
        let dirt = git::open(Path::new(path)).and_then(|r| git::clean::dirt(&r, true))?;
        if !dirt.is_empty() {
            plan.add(
                "worktree",
                path,
                false,
                format!("has uncommitted or untracked changes ({} …)", dirt[0].path),
            );
            continue;
        }
        match safe_elsewhere(&root, &b, &base) {
            Some(why) => {
                plan.add(
                    "worktree",
                    path,
                    true,
                    format!("clean, its commits are {why}"),
                );
                to_remove.push(PathBuf::from(path));
                removed_worktree_branches.push(b);
            }
            None => plan.add(
                "worktree",
                path,
                false,
                "its commits are on no remote and not merged".to_string(),
            ),
        }
    }

    // 2. Swarm branches whose commits are safe elsewhere.
    let checked_out: Vec<String> = entries.iter().filter_map(|(_, b, _)| b.clone()).collect();
    let branches = Git::new(&root)
        .args([
            "for-each-ref",
            "--format=%(refname:short)",
            &format!("refs/heads/{prefix}"),
        ])
        .run()?;
    let mut to_delete: Vec<String> = Vec::new();
    for b in branches.lines().filter(|b| !b.is_empty()) {
        if active_branches.iter().any(|a| a == b) {
            plan.add("branch", b, false, "in use by a running run".to_string());
            continue;
        }
        if checked_out.iter().any(|c| c == b) && !removed_worktree_branches.iter().any(|r| r == b) {
            plan.add(
                "branch",
                b,
                false,
                "checked out in a worktree that stays".to_string(),
            );
            continue;
        }
        match safe_elsewhere(&root, b, &base) {
            Some(why) => {
                plan.add("branch", b, true, format!("its commits are {why}"));
                to_delete.push(b.to_string());
            }
            None => plan.add(
                "branch",
                b,
                false,
                "its commits are on no remote and not merged".to_string(),
            ),
        }
    }

    // 3. Run folders of runs that ended long ago.
    let cutoff = SystemTime::now() - Duration::from_secs(days * 86_400);
    let mut old_runs = Vec::new();
    for (r, s) in &runs {
        if s.outcome.is_in_progress() {
            continue;
        }
        let ended = humantime::parse_rfc3339_weak(&s.updated_at).unwrap_or(SystemTime::now());
        if ended < cutoff {
            plan.add(
                "run",
                &r.id,
                true,
                format!(
                    "{} and untouched for more than {days} days",
                    s.outcome.as_str()
                ),
            );
            old_runs.push(r.clone());
        }
    }

    if args.apply {
        for p in &to_remove {
            Git::new(&root)
                .args(["worktree", "remove"])
                .arg_path(p)
                .run()?;
        }
        if prune {
            Git::new(&root).args(["worktree", "prune"]).run()?;
        }
        for b in &to_delete {
            Git::new(&root).args(["branch", "-D", "-q", b]).run()?;
        }
        for r in &old_runs {
            std::fs::remove_dir_all(&r.path)
                .map_err(|e| crate::error::Error::io("remove", &r.path, e))?;
            let _ = session.swarm.set_active(&r.id, false);
        }
    }
    let n = plan
        .items
        .iter()
        .filter(|i| i["action"] == "remove")
        .count();
    let mut text = plan.text;
    if plan.items.is_empty() {
        text.push_str("nothing to clean up\n");
    } else if args.apply {
        text.push_str(&format!("removed {n} item(s)\n"));
    } else if n > 0 {
        text.push_str(&format!(
            "{n} item(s) would be removed; run 'git swarm gc --apply' to remove them\n"
        ));
    }
    Ok(Output::new(
        json!({"applied": args.apply, "retentionDays": days, "items": plan.items}),
        text,
    ))
}
