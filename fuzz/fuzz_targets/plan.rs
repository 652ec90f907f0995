//! Plans: the structure checks and the batching of tasks into parallel workers.
#![no_main]

use git_swarm::config::ParallelRule;
use git_swarm::machine::{batch, plan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = git_swarm::files::json::parse_strict(data) else { return };
    let (problems, summary) = plan::check(&value, "plan.json");
    for rule in [
        ParallelRule { max_concurrent: 3, require_disjoint_files: true, respect_dependencies: true },
        ParallelRule { max_concurrent: 1, require_disjoint_files: false, respect_dependencies: false },
    ] {
        let mut done: Vec<String> = Vec::new();
        // Batches only ever make progress, honour dependencies and disjointness, and respect
        // the limit; an accepted plan (no cycle, known deps) is always finished.
        for _ in 0..=summary.tasks.len() {
            let b = batch::next_batch(&summary.tasks, &done, &rule);
            if b.is_empty() {
                break;
            }
            assert!(b.len() <= rule.max_concurrent as usize);
            for id in &b {
                assert!(!done.contains(id));
                // A rejected plan may repeat an id; some task of that id must be ready.
                let mut same = summary.tasks.iter().filter(|t| &t.id == id).peekable();
                assert!(same.peek().is_some());
                if rule.respect_dependencies {
                    assert!(same.any(|t| t.dependencies.iter().all(|d| done.contains(d))));
                }
            }
            done.extend(b);
        }
        if problems.is_empty() {
            let mut ids: Vec<&String> = summary.tasks.iter().map(|t| &t.id).collect();
            ids.sort();
            ids.dedup();
            assert!(ids.iter().all(|id| done.contains(id)), "an accepted plan left tasks undone");
        }
    }
});
