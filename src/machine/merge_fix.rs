//! Merging a complete batch: the workers' branches go in one by one as `git merge-tree`
//! predicted (no worktree touched to find out). A clean merge goes in; the first that truly
//! conflicts is started in the run's worktree with its conflict markers, and the editing agent
//! gets a merge-fix pass naming the files and both sides; once its result is accepted (no
//! marker left, guard rails kept) the merge is concluded and the rest of the batch follows.

use super::state::{Conflict, Invocation, Outcome, Resume};
use super::{Builder, Effect, IssueSpec, Target, batch::worker_commit_message};

impl Builder<'_, '_> {
    /// Merges what it can of a complete batch; on a conflict, hands out the merge-fix pass.
    pub(super) fn merge_batch(&mut self) {
        let Some(batch) = self.st.swarm.batch.clone() else {
            return;
        };
        let into = self.st.worktree_path.clone().unwrap_or_default();
        let label = |b: &Builder, w: &super::state::Worker| {
            (
                worker_commit_message(&b.st, &w.worker, &w.tasks),
                w.branch.clone(),
                w.path.clone(),
            )
        };
        // A conflict whose pass was accepted: its merge is concluded first.
        let mut merging = Vec::new();
        if let Some(c) = batch.conflict.as_ref().filter(|c| c.resolved) {
            self.effects
                .push(Effect::ConcludeMerge { into: into.clone() });
            if let Some(w) = batch.workers.iter().find(|w| w.worker == c.worker) {
                merging.push(label(self, w));
            }
            let step = self.st.swarm.step;
            self.ev(
                "MERGE_RESOLVED",
                Some(&batch.agent),
                Some(step),
                format!("{}'s merge concluded", c.worker),
            );
            if let Some(b) = self.st.swarm.batch.as_mut() {
                b.merged_workers.push(c.worker.clone());
                b.conflict = None;
            }
        }
        let prediction = match self.facts.merge_prediction.clone() {
            Some(Ok(p)) => p,
            Some(Err(why)) => {
                self.stop(
                    Outcome::ManualInterventionRequired,
                    &batch.agent,
                    format!("the batch's merge could not be predicted: {why}"),
                    Some(Resume::Batch),
                    false,
                );
                return;
            }
            // Nothing predicted (no worker left to merge, or a run recorded before
            // predictions): merge in order as before.
            None => Vec::new(),
        };
        let done = self
            .st
            .swarm
            .batch
            .as_ref()
            .map(|b| b.merged_workers.clone())
            .unwrap_or_default();
        let conflicting = prediction.iter().find(|(_, p)| !p.conflicts.is_empty());
        for w in batch.workers.iter().filter(|w| !done.contains(&w.worker)) {
            if conflicting.is_some_and(|(c, _)| c == &w.worker) {
                break;
            }
            merging.push(label(self, w));
        }
        if !merging.is_empty() {
            self.effects.push(Effect::MergeWorkers {
                into: into.clone(),
                workers: merging.clone(),
            });
        }
        let Some((worker, predicted)) = conflicting.cloned() else {
            let names: Vec<_> = batch.workers.iter().map(|w| w.worker.clone()).collect();
            self.ev(
                "BATCH_MERGED",
                Some(&batch.agent),
                Some(batch.step),
                format!("merged {}", names.join(", ")),
            );
            if let Some(b) = self.st.swarm.batch.as_mut() {
                b.merged = true;
            }
            return;
        };
        let merged_now: Vec<String> = batch
            .workers
            .iter()
            .filter(|w| !done.contains(&w.worker) && merging.iter().any(|m| m.1 == w.branch))
            .map(|w| w.worker.clone())
            .collect();
        let Some(w) = batch.workers.iter().find(|w| w.worker == worker).cloned() else {
            return;
        };
        self.effects.push(Effect::MergeConflicting {
            into: into.clone(),
            worker: label(self, &w),
        });
        // The tasks on both sides are kept apart in later batches (a re-plan, a retry).
        for other in batch.workers.iter().filter(|o| {
            o.worker != worker
                && (done.contains(&o.worker) || merged_now.contains(&o.worker))
                && o.changed.iter().any(|f| predicted.conflicts.contains(f))
        }) {
            for a in &other.tasks {
                for t in &w.tasks {
                    let pair = [a.clone(), t.clone()];
                    if !self.st.swarm.conflicted.contains(&pair) {
                        self.st.swarm.conflicted.push(pair);
                    }
                }
            }
        }
        if let Some(b) = self.st.swarm.batch.as_mut() {
            b.merged_workers.extend(merged_now);
            b.conflict = Some(Conflict {
                worker: worker.clone(),
                files: predicted.conflicts.clone(),
                tree: predicted.tree.clone(),
                resolved: false,
            });
        }
        let step = self.st.swarm.step;
        self.ev(
            "MERGE_CONFLICT",
            Some(&batch.agent),
            Some(step),
            format!(
                "merging {worker} ({}) conflicts in {}",
                w.tasks.join(", "),
                predicted.conflicts.join(", ")
            ),
        );
        self.issue_merge_fix(0, Vec::new());
    }

    /// Hands the batch's conflict to the editing agent, in the run's worktree; `attempt` and
    /// `extra` feedback when it is handed out again.
    pub(super) fn issue_merge_fix(&mut self, attempt: u32, extra: Vec<String>) {
        let Some(batch) = self.st.swarm.batch.clone() else {
            return;
        };
        let Some(c) = batch.conflict.clone() else {
            return;
        };
        let Some(agent) = self.ctx.cfg.agent(&batch.agent).cloned() else {
            return;
        };
        let plan = self.st.swarm.plan.clone().unwrap_or_default();
        let describe = |w: &super::state::Worker| {
            let tasks: Vec<String> = w
                .tasks
                .iter()
                .map(|id| {
                    let d = plan
                        .tasks
                        .iter()
                        .find(|t| &t.id == id)
                        .map(|t| super::text::first_line(&t.description))
                        .unwrap_or_default();
                    format!("{id}: {d}")
                })
                .collect();
            let summary = w
                .note
                .as_ref()
                .map(|n| n.summary.clone())
                .filter(|s| !s.is_empty())
                .map(|s| format!("; its summary: {s}"))
                .unwrap_or_default();
            format!("worker {} (task {}{summary})", w.worker, tasks.join("; "))
        };
        let Some(theirs) = batch.workers.iter().find(|w| w.worker == c.worker) else {
            return;
        };
        let ours: Vec<String> = batch
            .workers
            .iter()
            .filter(|w| w.worker != c.worker && batch.merged_workers.contains(&w.worker))
            .filter(|w| w.changed.iter().any(|f| c.files.contains(f)))
            .map(describe)
            .collect();
        let mut feedback = vec![
            format!(
                "merge-fix: merging {} into the run's branch {} conflicts in {}",
                describe(theirs),
                self.st.branch.clone().unwrap_or_default(),
                c.files.join(", ")
            ),
            format!(
                "the other side, already merged: {}",
                if ours.is_empty() {
                    "the run's branch as it was".to_string()
                } else {
                    ours.join("; ")
                }
            ),
            "the worktree holds the merge in progress with conflict markers (<<<<<<< HEAD … ======= … >>>>>>> the worker's branch) in those files: resolve every conflict so that both sides' tasks hold, remove every marker, and write your result; git swarm concludes the merge".to_string(),
        ];
        feedback.extend(extra);
        // Both sides' files: a resolution may need to touch what either task owns.
        let mut allowed = c.files.clone();
        for w in batch
            .workers
            .iter()
            .filter(|w| w.worker == c.worker || batch.merged_workers.contains(&w.worker))
        {
            for t in plan.tasks.iter().filter(|t| w.tasks.contains(&t.id)) {
                super::extend_unique(&mut allowed, &t.files);
            }
        }
        let spec = IssueSpec {
            to: agent.name.clone(),
            from: batch.from.clone(),
            feedback,
            base_tree: Some(c.tree.clone()),
            attempt,
            ..IssueSpec::default()
        };
        self.st.swarm.step += 1;
        let step = self.st.swarm.step;
        let pass = self.next_pass(&agent.name);
        let mut tasks = theirs.tasks.clone();
        for w in batch
            .workers
            .iter()
            .filter(|w| batch.merged_workers.contains(&w.worker))
        {
            super::extend_unique(&mut tasks, &w.tasks);
        }
        let target = Target {
            worker: None,
            tasks,
            cwd: self.st.worktree_path.clone().unwrap_or_default(),
            branch: self.st.branch.clone(),
            allowed,
            base_tree: Some(c.tree.clone()),
            attempt,
            peers: 0,
        };
        let mut inv = self.invocation(&agent, &spec, step, pass, target);
        inv.merge_fix = true;
        self.st.swarm.pending = vec![inv];
        self.assigned(&agent.name, step, pass, "merge-fix", None);
    }

    /// The merge-fix pass's result passed validation: a guard-rail violation, a reported failure
    /// or markers left send it back (within the retry budget); otherwise the merge is concluded
    /// by the next transition.
    pub(super) fn merge_fixed(
        &mut self,
        inv: &Invocation,
        guard_problems: Vec<String>,
        value: &serde_json::Value,
    ) -> super::consume::Flow {
        let failed = (!guard_problems.is_empty())
            .then(|| guard_problems.join("; "))
            .or_else(|| {
                super::route::status_failed(value).then(|| {
                    format!(
                        "the pass reported failure: {}",
                        super::route::summary(value)
                    )
                })
            });
        let problem = failed.or_else(|| {
            (!self.facts.conflict_markers.is_empty()).then(|| {
                format!(
                    "conflict markers are still in {}: resolve those conflicts and remove every <<<<<<< and >>>>>>> line",
                    self.facts.conflict_markers.join(", ")
                )
            })
        });
        if let Some(why) = problem {
            // Sent back within the retry budget, with the conflict described again.
            let cfg = self.ctx.cfg;
            self.ev("REJECTED", Some(&inv.agent), Some(inv.step), why.clone());
            if inv.attempt >= cfg.max_retries {
                self.stop(
                    cfg.retry_escalation.into(),
                    &inv.agent,
                    format!(
                        "the merge-fix pass did not resolve the conflict: {why} — and its retries are used up ({} of {})",
                        inv.attempt, cfg.max_retries
                    ),
                    Some(Resume::Batch),
                    false,
                );
                return super::consume::Flow::Stop;
            }
            self.st.bump_retry(&inv.agent);
            self.issue_merge_fix(inv.attempt + 1, vec![why]);
            return super::consume::Flow::Stop;
        }
        if let Some(c) = self
            .st
            .swarm
            .batch
            .as_mut()
            .and_then(|b| b.conflict.as_mut())
        {
            c.resolved = true;
        }
        self.st.swarm.pending.retain(|p| !p.merge_fix);
        let step = inv.step;
        self.ev(
            "WORKER_COMPLETED",
            Some(&inv.agent),
            Some(step),
            "the merge's conflicts are resolved",
        );
        super::consume::Flow::Stop
    }
}
