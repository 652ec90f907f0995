//! The context pack: one small markdown file per handoff with what the agent works from — the
//! goal, the non-negotiables condensed from the standards and the policy, the files it may and
//! may not touch, the plan as numbered steps, the acceptance criteria and the checks. Pure and
//! deterministic: the same run state renders the same bytes.
//!
//! The pack and the handoff's `input` never say the same thing twice: what belongs to this one
//! invocation (role, worker, previous step's report, feedback, where to work, what to diff
//! against, where to write the result) is in the handoff; the pack holds the rest.

use super::state::PlanSummary;

/// The most a pack may weigh; each section is cut to fit, saying what was left out.
pub(crate) const BUDGET: usize = 8 * 1024;

pub(crate) struct PackInput<'a> {
    pub agent: &'a str,
    pub worker: Option<&'a str>,
    pub run_id: &'a str,
    pub task: &'a str,
    pub plan: Option<&'a PlanSummary>,
    /// Task ids this invocation covers (parallel workers); empty: all of them.
    pub tasks: &'a [String],
    /// Tasks of the plan other than this invocation's are not merged yet, so the plan's
    /// checks cannot pass where it works.
    pub others_pending: bool,
    pub standards: &'a str,
    pub standards_path: &'a str,
    pub deny: &'a [String],
    pub allowed: &'a [String],
    pub edits: bool,
}

/// Lines of the standards that carry rules (no headings, comments, blanks or placeholders).
fn rules(standards: &str) -> Vec<String> {
    standards
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("<!--"))
        .filter(|l| crate::config::standards::substance(l).0 == 1)
        .map(|l| l.trim_start_matches(['-', '*', '+', ' ']).to_string())
        .collect()
}

/// Adds `items` as a list under `title`, at most `room` bytes, noting how many did not fit.
fn section(out: &mut String, title: &str, items: &[String], room: usize, empty: &str) {
    out.push_str(&format!("\n## {title}\n"));
    if items.is_empty() {
        out.push_str(&format!("{empty}\n"));
        return;
    }
    let mut used = 0;
    for (i, it) in items.iter().enumerate() {
        let line = format!("- {it}\n");
        if used + line.len() > room && i > 0 {
            out.push_str(&format!("- … and {} more\n", items.len() - i));
            return;
        }
        used += line.len();
        out.push_str(&line);
    }
}

pub(crate) fn render(p: &PackInput) -> String {
    let mut s = String::new();
    let who = match p.worker {
        Some(w) => format!("{} ({w})", p.agent),
        None => p.agent.to_string(),
    };
    s.push_str(&format!("# Context pack — {who}, run {}\n", p.run_id));
    let goal = p
        .plan
        .map(|x| x.goal.trim().to_string())
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| p.task.trim().to_string());
    s.push_str("\n## Goal\n");
    let mut goal_text = goal;
    if goal_text.len() > 600 {
        let mut end = 600;
        while !goal_text.is_char_boundary(end) {
            end -= 1;
        }
        goal_text = format!("{}…", &goal_text[..end]);
    }
    s.push_str(&goal_text);
    s.push('\n');

    let mut rules = rules(p.standards);
    rules.push(format!("The full standards: `{}`.", p.standards_path));
    section(&mut s, "Non-negotiables", &rules, 2000, "");

    if p.edits {
        let allowed: Vec<String> = p.allowed.iter().map(|f| format!("`{f}`")).collect();
        section(&mut s, "You may change", &allowed, 1200, "nothing");
    } else {
        s.push_str("\n## You may change\nNothing: this step only reads and reports.\n");
    }
    let mut forbidden: Vec<String> = vec![
        "`.git/`".into(),
        "`.swarm/runs/` (except your result file)".into(),
    ];
    forbidden.extend(p.deny.iter().map(|d| format!("`{d}`")));
    section(&mut s, "Never change", &forbidden, 800, "");

    if let Some(plan) = p.plan {
        let steps: Vec<String> = plan
            .tasks
            .iter()
            .filter(|t| p.tasks.is_empty() || p.tasks.contains(&t.id))
            .enumerate()
            .map(|(i, t)| {
                let deps = if t.dependencies.is_empty() {
                    String::new()
                } else {
                    format!(" (after {})", t.dependencies.join(", "))
                };
                let files = if t.files.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", t.files.join(", "))
                };
                format!(
                    "{}. {} [{}]{deps}{files}",
                    i + 1,
                    t.description.trim(),
                    t.id
                )
            })
            .collect();
        section(&mut s, "Plan", &steps, 1800, "(no tasks)");
        // Acceptance criteria belong to the plan as a whole (the plan schema does not tie them
        // to tasks), so a worker is told they are the whole plan's and its part is its task.
        let (title, mut done) = if p.worker.is_some() {
            (
                "Done when (the whole plan)",
                vec![
                    "These hold for the whole plan once every task is merged; your part is your task above.".to_string(),
                ],
            )
        } else {
            ("Done when", Vec::new())
        };
        done.extend(plan.acceptance.iter().cloned());
        section(&mut s, title, &done, 800, "(no acceptance criteria)");
        if !plan.test_commands.is_empty() {
            let mut cmds: Vec<String> = Vec::new();
            if p.others_pending {
                cmds.push(
                    "These run once all of the plan's tasks are merged; they are not expected to pass in your worktree yet.".to_string(),
                );
            }
            cmds.extend(plan.test_commands.iter().map(|c| format!("`{c}`")));
            section(&mut s, "Checks", &cmds, 500, "");
        }
    }
    if s.len() > BUDGET {
        let mut end = BUDGET - 40;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("\n… (cut to the pack's size budget)\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::state::PlanTask;

    fn plan() -> PlanSummary {
        PlanSummary {
            id: "p".into(),
            path: "/r/plan.json".into(),
            friendly_name: "greet".into(),
            goal: "Greet the user".into(),
            description: String::new(),
            files: vec!["a.rs".into(), "b.rs".into()],
            tasks: vec![
                PlanTask {
                    id: "t1".into(),
                    description: "write a".into(),
                    files: vec!["a.rs".into()],
                    dependencies: vec![],
                    lane: 0,
                },
                PlanTask {
                    id: "t2".into(),
                    description: "write b".into(),
                    files: vec!["b.rs".into()],
                    dependencies: vec!["t1".into()],
                    lane: 0,
                },
            ],
            test_commands: vec!["cargo test".into()],
            acceptance: vec!["prints hello".into()],
        }
    }

    fn input<'a>(
        plan: &'a PlanSummary,
        tasks: &'a [String],
        standards: &'a str,
        allowed: &'a [String],
    ) -> PackInput<'a> {
        PackInput {
            agent: "implementor",
            worker: None,
            run_id: "r1",
            task: "Greet",
            plan: Some(plan),
            tasks,
            standards,
            standards_path: "/w/.swarm/standards.md",
            deny: &[],
            allowed,
            edits: true,
            others_pending: false,
        }
    }

    #[test]
    fn the_pack_has_every_section_and_is_deterministic() {
        let p = plan();
        let allowed = vec!["a.rs".to_string(), "b.rs".to_string()];
        let std = "# Standards\n- Run cargo fmt before every commit, no exceptions.\nTODO: more\n";
        let a = render(&input(&p, &[], std, &allowed));
        assert_eq!(a, render(&input(&p, &[], std, &allowed)));
        for needle in [
            "## Goal\nGreet the user",
            "Run cargo fmt before every commit",
            "`a.rs`",
            "1. write a [t1] — a.rs",
            "2. write b [t2] (after t1)",
            "prints hello",
            "`cargo test`",
            "`.git/`",
        ] {
            assert!(a.contains(needle), "missing {needle:?} in\n{a}");
        }
        assert!(!a.contains("TODO"), "placeholders are not rules");
        // What the handoff's input says is not repeated here.
        for absent in ["## Where", "/r/implementor.result.json", "Fix first", "/wt"] {
            assert!(!a.contains(absent), "{absent:?} in\n{a}");
        }
    }

    #[test]
    fn a_worker_is_told_what_is_plan_wide_and_what_cannot_pass_yet() {
        let p = plan();
        let only = vec!["t1".to_string()];
        let allowed = vec!["a.rs".to_string()];
        let mut i = input(&p, &only, "", &allowed);
        i.worker = Some("w1");
        i.others_pending = true;
        let s = render(&i);
        assert!(s.contains("## Done when (the whole plan)\n- These hold for the whole plan once every task is merged; your part is your task above.\n- prints hello"), "{s}");
        assert!(s.contains("## Checks\n- These run once all of the plan's tasks are merged; they are not expected to pass in your worktree yet.\n- `cargo test`"), "{s}");
        // The last worker, with every other task merged: the checks apply as they are.
        i.others_pending = false;
        let s = render(&i);
        assert!(s.contains("## Checks\n- `cargo test`"), "{s}");
        // The serial implementor covers the whole plan: no such notes.
        let s = render(&input(&p, &[], "", &allowed));
        assert!(s.contains("## Done when\n- prints hello"), "{s}");
    }

    #[test]
    fn a_worker_sees_its_task_and_the_budget_holds() {
        let p = plan();
        let only = vec!["t2".to_string()];
        let many: Vec<String> = (0..5000).map(|i| format!("src/file{i}.rs")).collect();
        let huge = "- rule that is long enough to count as one\n".repeat(500);
        let s = render(&input(&p, &only, &huge, &many));
        assert!(s.contains("write b") && !s.contains("write a"));
        assert!(s.len() <= BUDGET, "{}", s.len());
        assert!(s.contains("… and"), "cut sections say so");
    }
}
