//! Structural checks of a plan, beyond its schema: the things a manager was told to look for
//! by eye. Pure: a plan value in, a list of problems (each phrased as feedback for the
//! planner) and a summary out.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::state::{PlanSummary, PlanTask};

/// More lanes than this need a stated justification.
pub(crate) const MAX_LANES_WITHOUT_JUSTIFICATION: usize = 4;

/// Checks `plan`; returns the problems found (empty: accepted) and the summary the run keeps.
pub fn check(plan: &Value, plan_path: &str) -> (Vec<String>, PlanSummary) {
    let mut problems = Vec::new();
    let s = |k: &str| {
        plan.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let strings = crate::schema::strings;

    let friendly = s("friendly-name");
    if let Err(why) = check_branch_component(&friendly) {
        problems.push(format!(
            "friendly-name \"{}\" cannot name a branch: {why}; use lowercase letters, digits and hyphens",
            friendly.escape_debug()
        ));
    }

    // Text that is published (commit messages, the pull request) must be publishable.
    problems.extend(super::text::plan_problems(plan));

    let lanes = plan
        .get("lanes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if lanes.is_empty() {
        problems.push("the plan has no lanes; add at least one lane with tasks".to_string());
    }
    if lanes.len() > MAX_LANES_WITHOUT_JUSTIFICATION && !has_justification(plan) {
        problems.push(format!(
            "the plan has {} lanes; more than {MAX_LANES_WITHOUT_JUSTIFICATION} needs a justification (a \"justification\" field, or an assumptions entry starting \"Justification:\"), or merge lanes",
            lanes.len()
        ));
    }

    let mut tasks: Vec<PlanTask> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut seen_files: HashSet<String> = HashSet::new();
    let mut test_commands = Vec::new();
    let mut seen_commands: HashSet<String> = HashSet::new();
    let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
    for (li, lane) in lanes.iter().enumerate() {
        let lane_tasks = lane
            .get("tasks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if lane_tasks.is_empty() {
            problems.push(format!(
                "lane {} ({}) has no tasks; give it tasks or remove it",
                li + 1,
                lane.get("branch-name")
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed")
            ));
        }
        for (ti, t) in lane_tasks.iter().enumerate() {
            let id = t
                .get("task-id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if id.is_empty() {
                problems.push(format!("lanes[{li}].tasks[{ti}] has no task-id"));
            } else if let Some((l0, t0)) = seen.get(&id) {
                problems.push(format!(
                    "task id \"{id}\" is used twice (lanes[{l0}].tasks[{t0}] and lanes[{li}].tasks[{ti}]); task ids must be unique"
                ));
            } else {
                seen.insert(id.clone(), (li, ti));
            }
            let tf = normal_paths(&strings(t.get("files")), &mut problems, |f, why| {
                format!("task \"{id}\" names file \"{}\": {why}", f.escape_debug())
            });
            push_unique(&mut files, &mut seen_files, &tf);
            tasks.push(PlanTask {
                id,
                description: t
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                files: tf,
                dependencies: strings(t.get("dependencies")),
                lane: li,
            });
        }
        let touch = normal_paths(&strings(lane.get("touch-map")), &mut problems, |f, why| {
            format!(
                "lane {} touch-map names \"{}\": {why}",
                li + 1,
                f.escape_debug()
            )
        });
        push_unique(&mut files, &mut seen_files, &touch);
        push_unique(
            &mut test_commands,
            &mut seen_commands,
            &strings(lane.get("test-plan-commands")),
        );
    }

    for t in &tasks {
        for d in &t.dependencies {
            if !seen.contains_key(d) {
                problems.push(format!(
                    "task \"{}\" depends on \"{d}\", which is not a task of this plan",
                    t.id
                ));
            } else if d == &t.id {
                problems.push(format!("task \"{}\" depends on itself", t.id));
            }
        }
    }
    if let Some(cycle) = find_cycle(&tasks) {
        problems.push(format!(
            "the task dependencies form a cycle: {}; break it",
            cycle.join(" -> ")
        ));
    }

    let summary = PlanSummary {
        id: s("id"),
        path: plan_path.to_string(),
        friendly_name: friendly,
        goal: s("goal"),
        description: s("description"),
        files,
        tasks,
        test_commands,
        acceptance: strings(plan.get("acceptance-criteria")),
    };
    (problems, summary)
}

/// Appends the items of `from` not seen yet, in order (linear: a plan may list many files).
fn push_unique(into: &mut Vec<String>, seen: &mut HashSet<String>, from: &[String]) {
    for f in from {
        if seen.insert(f.clone()) {
            into.push(f.clone());
        }
    }
}

/// The normal forms of a list of plan paths (what the run keeps and judges); a path that has
/// none is reported through `problem` and kept as given (the plan is rejected anyway).
fn normal_paths(
    given: &[String],
    problems: &mut Vec<String>,
    problem: impl Fn(&str, String) -> String,
) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for f in given {
        let normal = match super::repo_path::normalize(f) {
            Ok(n) => n,
            Err(why) => {
                problems.push(problem(f, why));
                f.clone()
            }
        };
        if seen.insert(normal.clone()) {
            out.push(normal);
        }
    }
    out
}

fn has_justification(plan: &Value) -> bool {
    let field = plan
        .get("justification")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    let assumption = plan
        .get("assumptions")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().filter_map(Value::as_str).any(|s| {
                s.trim_start()
                    .get(..14)
                    .is_some_and(|p| p.eq_ignore_ascii_case("justification:"))
            })
        });
    field || assumption
}

/// A dependency cycle, as the task ids along it (first id repeated at the end).
fn find_cycle(tasks: &[PlanTask]) -> Option<Vec<String>> {
    // A duplicated id means its first task (duplicates are reported separately).
    let mut idx: HashMap<&str, usize> = HashMap::new();
    for (i, t) in tasks.iter().enumerate() {
        idx.entry(t.id.as_str()).or_insert(i);
    }
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut mark = vec![0u8; tasks.len()];
    let mut stack: Vec<usize> = Vec::new();
    fn visit(
        i: usize,
        tasks: &[PlanTask],
        idx: &HashMap<&str, usize>,
        mark: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<String>> {
        mark[i] = 1;
        stack.push(i);
        for d in &tasks[i].dependencies {
            let Some(&j) = idx.get(d.as_str()) else {
                continue;
            };
            if j == i {
                continue; // reported separately as "depends on itself"
            }
            if mark[j] == 1 {
                let start = stack.iter().position(|&k| k == j).expect("on stack");
                let mut cyc: Vec<String> = stack[start..]
                    .iter()
                    .map(|&k| tasks[k].id.clone())
                    .collect();
                cyc.push(tasks[j].id.clone());
                return Some(cyc);
            }
            if mark[j] == 0
                && let Some(c) = visit(j, tasks, idx, mark, stack)
            {
                return Some(c);
            }
        }
        stack.pop();
        mark[i] = 2;
        None
    }
    let mut seen_ids = HashSet::new();
    for i in 0..tasks.len() {
        if !seen_ids.insert(tasks[i].id.as_str()) {
            continue; // duplicate ids are reported elsewhere
        }
        if mark[i] == 0
            && let Some(c) = visit(i, tasks, &idx, &mut mark, &mut stack)
        {
            return Some(c);
        }
    }
    None
}

/// Is `name` usable as one component of a branch name (`git check-ref-format` rules, plus no
/// slash, and short enough for a directory name)?
pub(crate) fn check_branch_component(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > 100 {
        return Err("it is longer than 100 characters".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control() || *c == ' ') {
        return Err(format!("it contains {:?}", c));
    }
    if let Some(c) = name.chars().find(|c| "~^:?*[\\/".contains(*c)) {
        return Err(format!("it contains '{c}'"));
    }
    if name.contains("..") {
        return Err("it contains '..'".into());
    }
    if name.contains("@{") || name == "@" {
        return Err("it contains '@{' or is '@'".into());
    }
    if name.starts_with('-') || name.starts_with('.') {
        return Err("it starts with '-' or '.'".into());
    }
    if name.ends_with('.') || name.ends_with(".lock") {
        return Err("it ends with '.' or '.lock'".into());
    }
    // `<name>--w2` is the branch of a parallel worker of run `<name>`: a plan may not take it.
    if let Some((_, n)) = name.rsplit_once("--w")
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        return Err("it ends in '--w' and a number, which names parallel workers' branches".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(lanes: Value) -> Value {
        json!({
            "id": "0b6c3f8e-7a51-4f0e-9d1c-2f9e8a7b6c5d", "description": "d",
            "friendly-name": "add-greeting", "goal": "Say hello",
            "acceptance-criteria": ["prints hello"], "lanes": lanes,
            "assumptions": [], "risks": [], "out-of-scope": []
        })
    }

    fn lane(tasks: Value) -> Value {
        json!({"branch-name": "main-lane", "tasks": tasks, "touch-map": [], "collision-risk": "low", "test-plan-commands": ["cargo test"]})
    }

    #[test]
    fn a_good_plan_has_no_problems_and_a_summary() {
        let p = plan(json!([lane(json!([
            {"task-id": "t1", "description": "a", "files": ["src/a.rs"], "dependencies": []},
            {"task-id": "t2", "description": "b", "files": ["src/b.rs", "src/a.rs"], "dependencies": ["t1"]}
        ]))]));
        let (problems, s) = check(&p, "/r/plan.json");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.friendly_name, "add-greeting");
        assert_eq!(s.files, ["src/a.rs", "src/b.rs"]);
        assert_eq!(s.tasks.len(), 2);
        assert_eq!(s.test_commands, ["cargo test"]);
    }

    #[test]
    fn duplicate_ids_unknown_deps_and_cycles() {
        let p = plan(json!([lane(json!([
            {"task-id": "t1", "description": "", "files": [], "dependencies": ["t2"]},
            {"task-id": "t2", "description": "", "files": [], "dependencies": ["t1"]},
            {"task-id": "t1", "description": "", "files": [], "dependencies": ["zz"]}
        ]))]));
        let (problems, _) = check(&p, "p");
        let all = problems.join("\n");
        assert!(all.contains("task id \"t1\" is used twice"), "{all}");
        assert!(all.contains("depends on \"zz\""), "{all}");
        assert!(all.contains("cycle: t1 -> t2 -> t1"), "{all}");
    }

    #[test]
    fn paths_must_stay_inside_the_repo() {
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "C:\\x",
            "src\\a.rs",
            "~/x",
            ".git/config",
            ".swarm/runs/x",
            "",
        ] {
            assert!(
                super::super::repo_path::normalize(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        for good in [
            "src/a.rs",
            "a/../b",
            "./README.md",
            "docs/**/*.md",
            ".swarm/standards.md",
        ] {
            assert!(
                super::super::repo_path::normalize(good).is_ok(),
                "{good} should be accepted"
            );
        }
    }

    #[test]
    fn plan_paths_are_judged_and_kept_in_normal_form() {
        let p = plan(json!([lane(json!([
            {"task-id": "t1", "description": "a", "files": ["./src//a.rs", "src/a.rs", "docs/"], "dependencies": []},
            {"task-id": "t2", "description": "b", "files": ["src/../.git/hooks/pre-commit"], "dependencies": []}
        ]))]));
        let (problems, s) = check(&p, "p");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("inside .git"), "{problems:?}");
        assert_eq!(s.tasks[0].files, ["src/a.rs", "docs/"]);
    }

    #[test]
    fn branch_components() {
        for bad in [
            "", "a..b", "-x", ".x", "x.lock", "a b", "a/b", "x@{1}", "@", "a\u{7}b", "a:b",
        ] {
            assert!(
                check_branch_component(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert!(check_branch_component("add-user-auth").is_ok());
    }

    #[test]
    fn many_lanes_need_justification() {
        let lanes: Vec<Value> = (0..5)
            .map(|i| lane(json!([{"task-id": format!("t{i}"), "description": "", "files": [], "dependencies": []}])))
            .collect();
        let mut p = plan(Value::Array(lanes));
        let (problems, _) = check(&p, "p");
        assert!(
            problems.iter().any(|m| m.contains("5 lanes")),
            "{problems:?}"
        );
        p["assumptions"] = json!(["Justification: five services change independently"]);
        let (problems, _) = check(&p, "p");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn empty_lane_is_reported() {
        let p = plan(json!([lane(json!([]))]));
        let (problems, _) = check(&p, "p");
        assert!(
            problems.iter().any(|m| m.contains("has no tasks")),
            "{problems:?}"
        );
    }
}
