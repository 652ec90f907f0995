//! Parallel workers: an editing agent's step fans out into batches of plan tasks — dependencies
//! first, disjoint files when required, at most `maxConcurrent` at once — one worker per task:
//! the first in the run's worktree, the others each in a worktree on a branch of its own. When a batch is done its branches are merged into
//! the run's branch (a transition of its own, so the next step sees the merged content), then
//! the next batch starts, or the merged result goes to the next agent.

use std::collections::HashSet;

use super::state::{Batch, Outcome, PlanTask, RunStatus, Worker};
use super::{Builder, Effect, IssueSpec, Target};
use crate::config::{ParallelRule, Subagent};

/// The next batch: tasks not done whose dependencies are done (when the rule respects them),
/// in plan order, pairwise disjoint in files (when required), at most `max_concurrent`.
pub fn next_batch(tasks: &[PlanTask], done: &[String], rule: &ParallelRule) -> Vec<String> {
    next_batch_apart(tasks, done, rule, &[])
}

/// [`next_batch`], keeping apart pairs of tasks whose work conflicted before (their merge
/// needed a merge-fix pass): they run one after the other.
pub(crate) fn next_batch_apart(
    tasks: &[PlanTask],
    done: &[String],
    rule: &ParallelRule,
    apart: &[[String; 2]],
) -> Vec<String> {
    let max = rule.max_concurrent.max(1) as usize;
    let done: HashSet<&str> = done.iter().map(String::as_str).collect();
    let mut batch: Vec<&PlanTask> = Vec::new();
    for t in tasks {
        if done.contains(t.id.as_str()) || batch.iter().any(|b| b.id == t.id) {
            continue;
        }
        if rule.respect_dependencies && !t.dependencies.iter().all(|d| done.contains(d.as_str())) {
            continue;
        }
        if rule.require_disjoint_files && batch.iter().any(|b| overlap(&b.files, &t.files)) {
            continue;
        }
        let conflicted = |a: &str, b: &str| {
            apart
                .iter()
                .any(|[x, y]| (x == a && y == b) || (x == b && y == a))
        };
        if batch.iter().any(|b| conflicted(&b.id, &t.id)) {
            continue;
        }
        batch.push(t);
        if batch.len() == max {
            break;
        }
    }
    batch.into_iter().map(|t| t.id.clone()).collect()
}

fn norm(p: &str) -> &str {
    p.trim_start_matches("./").trim_end_matches('/')
}

fn has_glob(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// Could two file lists touch the same file? Equal paths, a directory and a path below it, or
/// any glob pattern (judged conservatively) overlap. Linear in the lengths of the lists (a
/// lookup per path component), as tasks may list many files.
pub(crate) fn overlap(a: &[String], b: &[String]) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.iter().chain(b).any(|p| has_glob(p)) {
        return true;
    }
    let a_set: HashSet<&str> = a.iter().map(|x| norm(x)).collect();
    let b_set: HashSet<&str> = b.iter().map(|y| norm(y)).collect();
    // Is `p`, or a directory above it, in `set`?
    let covered = |p: &str, set: &HashSet<&str>| {
        let mut prefix = p;
        loop {
            if set.contains(prefix) {
                return true;
            }
            match prefix.rfind('/') {
                Some(i) => prefix = &prefix[..i],
                None => return false,
            }
        }
    };
    b_set.iter().any(|y| covered(y, &a_set)) || a_set.iter().any(|x| covered(x, &b_set))
}

impl Builder<'_, '_> {
    /// Does this hand-off fan out? Only the step right after planning (not a fix after a
    /// review, not a retry of a single agent), with parallelization on, branching on (workers
    /// need worktrees), and tasks left to do.
    pub(super) fn fans_out(&self, agent: &Subagent, spec: &IssueSpec) -> bool {
        let cfg = self.ctx.cfg;
        if !cfg.parallel_enabled || cfg.parallel_rules.is_empty() || !cfg.branching || !agent.edits
        {
            return false;
        }
        if spec.replan || !spec.feedback.is_empty() || self.st.worktree_path.is_none() {
            return false;
        }
        let from_planner = spec
            .from
            .as_deref()
            .is_some_and(|f| cfg.agent(f).is_some_and(|a| a.first_step));
        if !from_planner {
            return false;
        }
        let Some(plan) = &self.st.swarm.plan else {
            return false;
        };
        plan.tasks.len() >= 2
            && plan
                .tasks
                .iter()
                .any(|t| !self.st.swarm.done_tasks.contains(&t.id))
    }

    /// The number of the batch being started (or re-issued): one more than the batches
    /// finished. Each batch has exactly one worker in the run's own worktree.
    fn batch_number(&self) -> usize {
        let run_wt = self.st.worktree_path.as_deref().unwrap_or_default();
        1 + self
            .st
            .swarm
            .finished_workers
            .iter()
            .filter(|w| w.path == run_wt)
            .count()
    }

    /// Starts the next batch of workers for `agent`.
    pub(super) fn fan_out(&mut self, agent: &Subagent, from: Option<String>) {
        let rule = self
            .ctx
            .cfg
            .parallel_rules
            .first()
            .cloned()
            .unwrap_or_default();
        let plan = self.st.swarm.plan.clone().unwrap_or_default();
        let ids = next_batch_apart(
            &plan.tasks,
            &self.st.swarm.done_tasks,
            &rule,
            &self.st.swarm.conflicted,
        );
        if ids.is_empty() {
            let left: Vec<_> = plan
                .tasks
                .iter()
                .filter(|t| !self.st.swarm.done_tasks.contains(&t.id))
                .map(|t| t.id.clone())
                .collect();
            self.stop(
                Outcome::NeedsHuman,
                &agent.name,
                format!(
                    "no task can start: {} wait for dependencies that are not done",
                    left.join(", ")
                ),
                None,
                false,
            );
            return;
        }
        let run_branch = self.st.branch.clone().unwrap_or_default();
        let run_wt = self.st.worktree_path.clone().unwrap_or_default();
        let base_tree = self.content_tree(&run_wt);
        self.st.swarm.step += 1;
        let step = self.st.swarm.step;
        // A later batch is new work, not a repeat: its workers are on their first pass, at the
        // agent's current iteration; only the first batch starts a pass of the agent.
        let number = self.batch_number();
        let pass = if number == 1 {
            self.next_pass(&agent.name)
        } else {
            self.st.swarm.passes.get(&agent.name).copied().unwrap_or(1)
        };
        let what = format!("batch {number}");
        let spec = IssueSpec {
            to: agent.name.clone(),
            from: from.clone(),
            ..IssueSpec::default()
        };
        let mut workers = Vec::new();
        let mut pending = Vec::new();
        for (n, id) in ids.iter().enumerate() {
            self.st.swarm.workers += 1;
            let w = format!("w{}", self.st.swarm.workers);
            // The first worker works in the run's own worktree (one checkout and one merge
            // fewer); the others get worktrees of their own, based on the run's branch by name,
            // so a batch after a merge starts from the merge.
            let (branch, path) = if n == 0 {
                (run_branch.clone(), run_wt.clone())
            } else {
                let branch = format!("{run_branch}--{w}");
                let path = format!("{run_wt}--{w}");
                // Sparse: the worker's own task's directories (and the policy's).
                let sparse = self.ctx.sparse.as_ref().map(|extra| {
                    let files: Vec<String> = plan
                        .tasks
                        .iter()
                        .filter(|t| &t.id == id)
                        .flat_map(|t| t.files.clone())
                        .collect();
                    super::sparse::cone(&files, extra)
                });
                self.effects.push(Effect::CreateWorktree {
                    branch: branch.clone(),
                    path: path.clone(),
                    base: run_branch.clone(),
                    adopt: false,
                    worker: Some(w.clone()),
                    sparse,
                });
                (branch, path)
            };
            let files = plan
                .tasks
                .iter()
                .find(|t| &t.id == id)
                .map(|t| t.files.clone())
                .unwrap_or_default();
            let target = Target {
                worker: Some(w.clone()),
                tasks: vec![id.clone()],
                cwd: path.clone(),
                branch: Some(branch.clone()),
                allowed: files,
                base_tree: base_tree.clone(),
                attempt: 0,
                peers: ids.len(),
            };
            pending.push(self.invocation(agent, &spec, step, pass, target));
            self.assigned(&agent.name, step, pass, &what, Some(&w));
            workers.push(Worker {
                worker: w,
                tasks: vec![id.clone()],
                branch,
                path,
                note: None,
                changed: Vec::new(),
            });
        }
        self.st.swarm.pending = pending;
        self.st.swarm.batch = Some(Batch {
            agent: agent.name.clone(),
            step,
            from,
            workers,
            complete: false,
            merged: false,
            merged_workers: Vec::new(),
            conflict: None,
        });
    }

    /// All workers of the batch are done: unless two changed the same file, the batch is
    /// complete, and the next transitions merge it and continue from the merged content.
    pub(super) fn complete_batch(&mut self) {
        // Workers that changed the same files are merged as `git merge-tree` predicts: a
        // true conflict gets a merge-fix pass (see merge_fix.rs), never a guess.
        if let Some(b) = self.st.swarm.batch.as_mut() {
            b.complete = true;
        }
    }

    /// After a batch was merged: the next batch, or the merged result to the next agent.
    pub(super) fn after_merge(&mut self) {
        let Some(batch) = self.st.swarm.batch.take() else {
            return;
        };
        for w in &batch.workers {
            super::extend_unique(&mut self.st.swarm.done_tasks, &w.tasks);
            if let Some(n) = &w.note {
                super::extend_unique(&mut self.st.swarm.files_changed, &n.files_changed);
            }
        }
        self.st.swarm.finished_workers.extend(batch.workers.clone());
        let Some(agent) = self.ctx.cfg.agent(&batch.agent).cloned() else {
            return;
        };
        let left = self.st.swarm.plan.as_ref().is_some_and(|p| {
            p.tasks
                .iter()
                .any(|t| !self.st.swarm.done_tasks.contains(&t.id))
        });
        if left {
            self.fan_out(&agent, batch.from.clone());
            return;
        }
        let notes: Vec<_> = self
            .st
            .swarm
            .finished_workers
            .iter()
            .map(|w| {
                (
                    w.worker.clone(),
                    w.tasks.clone(),
                    w.note.clone().unwrap_or_default(),
                )
            })
            .collect();
        let (value, note) = self.merged_result(&notes);
        self.st.swarm.notes.insert(agent.name.clone(), note.clone());
        let step = self.st.swarm.step;
        self.ev(
            "ALL_WORKERS_COMPLETE",
            Some(&agent.name),
            Some(step),
            format!(
                "{} workers finished {} tasks",
                notes.len(),
                self.st.swarm.done_tasks.len()
            ),
        );
        self.forward(&agent.name, None, &value, &note);
    }

    /// `retry` of a stopped batch: the workers without an accepted result go again, in their
    /// own worktrees.
    pub(super) fn reissue_batch(&mut self) {
        let Some(batch) = self.st.swarm.batch.clone() else {
            return;
        };
        // Stopped in a merge-fix pass: that pass is handed out again.
        if batch.conflict.as_ref().is_some_and(|c| !c.resolved) {
            self.issue_merge_fix(0, vec!["an earlier merge-fix pass did not finish; check the worktree's state and resolve the conflicts".to_string()]);
            return;
        }
        let Some(agent) = self.ctx.cfg.agent(&batch.agent).cloned() else {
            return;
        };
        if batch.workers.iter().all(|w| w.note.is_some()) {
            self.complete_batch();
            return;
        }
        self.st.swarm.step += 1;
        let step = self.st.swarm.step;
        let pass = self.next_pass(&agent.name);
        let run_wt = self.st.worktree_path.clone().unwrap_or_default();
        let base_tree = self.content_tree(&run_wt);
        let spec = IssueSpec {
            to: agent.name.clone(),
            from: batch.from.clone(),
            feedback: vec!["an earlier attempt at this task did not finish; check the worktree's state and complete the task".to_string()],
            ..IssueSpec::default()
        };
        let mut pending = Vec::new();
        let again: Vec<_> = batch.workers.iter().filter(|w| w.note.is_none()).collect();
        for w in &again {
            let files = self
                .st
                .swarm
                .plan
                .as_ref()
                .map(|p| {
                    p.tasks
                        .iter()
                        .filter(|t| w.tasks.contains(&t.id))
                        .flat_map(|t| t.files.clone())
                        .collect()
                })
                .unwrap_or_default();
            let target = Target {
                worker: Some(w.worker.clone()),
                tasks: w.tasks.clone(),
                cwd: w.path.clone(),
                branch: Some(w.branch.clone()),
                allowed: files,
                base_tree: base_tree.clone(),
                attempt: 0,
                peers: again.len(),
            };
            pending.push(self.invocation(&agent, &spec, step, pass, target));
            self.assigned(&agent.name, step, pass, "again", Some(&w.worker));
        }
        self.st.swarm.pending = pending;
    }
}

/// The message of the commit the tool makes of what a worker left uncommitted: the subject is
/// the task's own description (imperative, as plans word tasks), the body names the task, the
/// worker and the plan's goal, and a `Swarm-Run:` trailer ties it to the run.
pub(crate) fn worker_commit_message(st: &RunStatus, worker: &str, tasks: &[String]) -> String {
    let plan = st.swarm.plan.as_ref();
    let described: Vec<(String, String)> = tasks
        .iter()
        .map(|id| {
            let d = plan
                .and_then(|p| p.tasks.iter().find(|t| &t.id == id))
                .map(|t| t.description.clone())
                .unwrap_or_default();
            (id.clone(), d)
        })
        .collect();
    let first = described
        .iter()
        .map(|(_, d)| d.lines().next().unwrap_or("").trim().trim_end_matches('.'))
        .find(|d| !d.is_empty())
        .map(|d| {
            let mut c = d.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .or_else(|| {
            plan.map(|p| p.goal.trim().to_string())
                .filter(|g| !g.is_empty())
        })
        .unwrap_or_else(|| format!("Work of tasks {}", tasks.join(", ")));
    let more = described.len().saturating_sub(1);
    let mut subject = if more > 0 {
        format!(
            "{first} (and {more} more task{})",
            if more == 1 { "" } else { "s" }
        )
    } else {
        first
    };
    if subject.chars().count() > 72 {
        subject = format!("{}…", subject.chars().take(71).collect::<String>());
    }
    let mut m = subject;
    m.push_str("\n\n");
    for (id, d) in &described {
        if !d.trim().is_empty() {
            m.push_str(&format!("- {id}: {}\n", d.trim()));
        }
    }
    let goal = plan.map(|p| p.goal.trim()).unwrap_or_default();
    m.push_str(&format!(
        "\nWorker {worker} of a parallel batch{}.\n\nSwarm-Run: {}\n",
        if goal.is_empty() {
            String::new()
        } else {
            format!(", towards: {goal}")
        },
        st.run_id
    ));
    // Texts recorded before they were checked must not make the merge fail.
    super::text::clean_message(&m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, files: &[&str], deps: &[&str]) -> PlanTask {
        PlanTask {
            id: id.into(),
            description: String::new(),
            files: files.iter().map(|s| s.to_string()).collect(),
            dependencies: deps.iter().map(|s| s.to_string()).collect(),
            lane: 0,
        }
    }

    fn rule(max: u32, disjoint: bool) -> ParallelRule {
        ParallelRule {
            max_concurrent: max,
            require_disjoint_files: disjoint,
            respect_dependencies: true,
        }
    }

    /// Found by fuzzing: a rejected plan can hold tasks without ids (all `""`). Batching such a
    /// list still hands each id out once, to a task whose dependencies are met, and ends.
    #[test]
    fn repeated_ids_are_handed_out_once() {
        let tasks = vec![t("", &["a"], &["b"]), t("", &["b"], &[])];
        let first = next_batch(&tasks, &[], &rule(3, true));
        assert_eq!(first, [""]);
        assert!(next_batch(&tasks, &first, &rule(3, true)).is_empty());
        let (problems, _) = crate::machine::plan::check(
            &serde_json::json!({"lanes": [{"tasks": [{"description": "d", "files": ["a"]}, {"description": "d", "files": ["b"]}]}]}),
            "plan.json",
        );
        assert!(
            problems.iter().any(|p| p.contains("task-id")),
            "{problems:?}"
        );
    }

    #[test]
    fn independent_tasks_of_one_lane_run_together() {
        let tasks = vec![
            t("a", &["a.rs"], &[]),
            t("b", &["b.rs"], &[]),
            t("c", &["c.rs"], &[]),
        ];
        assert_eq!(next_batch(&tasks, &[], &rule(4, true)), ["a", "b", "c"]);
        assert_eq!(next_batch(&tasks, &[], &rule(2, true)), ["a", "b"]);
        assert_eq!(
            next_batch(&tasks, &["a".into(), "b".into()], &rule(2, true)),
            ["c"]
        );
    }

    #[test]
    fn dependencies_order_batches() {
        let tasks = vec![
            t("a", &["a.rs"], &[]),
            t("b", &["b.rs"], &["a"]),
            t("c", &["c.rs"], &["b"]),
        ];
        assert_eq!(next_batch(&tasks, &[], &rule(4, true)), ["a"]);
        assert_eq!(next_batch(&tasks, &["a".into()], &rule(4, true)), ["b"]);
    }

    #[test]
    fn overlapping_files_are_serialised_when_required() {
        let tasks = vec![
            t("a", &["src/x.rs"], &[]),
            t("b", &["src/x.rs", "y.rs"], &[]),
            t("c", &["src/"], &[]),
            t("d", &["z.rs"], &[]),
        ];
        assert_eq!(next_batch(&tasks, &[], &rule(4, true)), ["a", "d"]);
        // Tasks whose work conflicted before run apart.
        let apart = [["a".to_string(), "d".to_string()]];
        assert_eq!(next_batch_apart(&tasks, &[], &rule(4, true), &apart), ["a"]);
        assert_eq!(
            next_batch(&tasks, &[], &rule(4, false)),
            ["a", "b", "c", "d"]
        );
        assert!(overlap(&["src".into()], &["src/a/b.rs".into()]));
        assert!(
            overlap(&["src/**/*.rs".into()], &["docs/x.md".into()]),
            "globs are judged conservatively"
        );
        assert!(!overlap(&["src/a.rs".into()], &["src/ab.rs".into()]));
    }
}
