//! The default agent pack: a workflow config, the result schemas and short agent definitions,
//! installed under `~/.cursor/agents/` by `git swarm init --pack` (never overwriting a file).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::files::atomic;
use crate::schema::embedded;

/// `(path under ~/.cursor/agents, content)`.
pub const FILES: &[(&str, &str)] = &[
    (
        "manager/config.json",
        include_str!("../../pack/config.json"),
    ),
    ("manager/run.status.schema.json", embedded::RUN_STATUS),
    ("manager/handoff.schema.json", embedded::HANDOFF),
    ("plan/plan.schema.json", embedded::PLAN),
    ("plan/planner.result.schema.json", embedded::PLANNER_RESULT),
    (
        "implementor/implementor.schema.json",
        embedded::IMPLEMENTOR_RESULT,
    ),
    ("reviewer/reviewer.schema.json", embedded::REVIEWER_RESULT),
    ("tester/tester.schema.json", embedded::TESTER_RESULT),
    ("manager.md", include_str!("../../pack/agents/manager.md")),
    ("planner.md", include_str!("../../pack/agents/planner.md")),
    (
        "implementor.md",
        include_str!("../../pack/agents/implementor.md"),
    ),
    ("reviewer.md", include_str!("../../pack/agents/reviewer.md")),
    ("tester.md", include_str!("../../pack/agents/tester.md")),
];

/// The default pack's definition of a role (`planner`, `implementor`, `reviewer`, `tester`),
/// without its front matter: what a profile gives an agent whose config names no definition
/// file that exists.
pub(crate) fn definition(agent: &str) -> Option<String> {
    let file = format!("{agent}.md");
    FILES
        .iter()
        .find(|(rel, _)| *rel == file && agent != "manager")
        .map(|(_, text)| crate::agents::profile::definition_body(text))
}

/// The pack's workflow config, under `manager/`.
pub(crate) const CONFIG: &str = "manager/config.json";

/// The pack's workflow config with a top-level `"exec": "<profile>"`, so that exec mode
/// launches every agent through that built-in profile.
pub(crate) fn config_with_exec(profile: &str) -> String {
    let config = FILES
        .iter()
        .find(|(rel, _)| *rel == CONFIG)
        .map(|(_, text)| *text)
        .expect("the pack has a config");
    // The first key of the object, so the rest of the file keeps its layout.
    let body = config
        .strip_prefix("{\n")
        .expect("the pack's config starts with an object");
    format!(
        "{{\n  \"exec\": {},\n{body}",
        serde_json::Value::from(profile)
    )
}

/// Installs the pack under `<home>/.cursor/agents/`; returns (written, kept) paths. With
/// `exec`, a config this writes launches its agents through that profile (a config that is
/// kept is not changed).
pub(crate) fn install(home: &Path, exec: Option<&str>) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let base = home.join(".cursor/agents");
    let mut written = Vec::new();
    let mut kept = Vec::new();
    for (rel, content) in FILES {
        let p = base.join(rel);
        if p.exists() {
            kept.push(p);
            continue;
        }
        atomic::create_dir_all(p.parent().expect("has parent"))?;
        match exec {
            Some(profile) if *rel == CONFIG => {
                atomic::write(&p, config_with_exec(profile).as_bytes())?
            }
            _ => atomic::write(&p, content.as_bytes())?,
        }
        written.push(p);
    }
    Ok((written, kept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{builtin, violations};
    use serde_json::Value;

    /// The ```json blocks of a definition.
    fn examples(md: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut rest = md;
        while let Some(i) = rest.find("```json\n") {
            let after = &rest[i + 8..];
            let end = after.find("\n```").expect("a closed code block");
            out.push(
                serde_json::from_str(&after[..end])
                    .unwrap_or_else(|e| panic!("an example is not JSON ({e}):\n{}", &after[..end])),
            );
            rest = &after[end..];
        }
        out
    }

    fn definition(name: &str) -> &'static str {
        FILES
            .iter()
            .find(|(p, _)| *p == format!("{name}.md"))
            .map(|(_, c)| *c)
            .expect("the pack has the definition")
    }

    /// The names under `required` at `pointer` in a schema.
    fn required(schema: &str, pointer: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(schema).expect("JSON");
        v.pointer(pointer)
            .and_then(Value::as_array)
            .expect("a required list")
            .iter()
            .map(|f| f.as_str().expect("a name").to_string())
            .collect()
    }

    /// Every example in the agent definitions is valid against the shipped schema it
    /// illustrates, each definition has one, and each names every required field.
    #[test]
    fn definitions_describe_their_results_in_full_with_valid_examples() {
        for (name, schema, pointers) in [
            ("planner", embedded::PLANNER_RESULT, vec!["/required"]),
            (
                "implementor",
                embedded::IMPLEMENTOR_RESULT,
                vec!["/required"],
            ),
            ("reviewer", embedded::REVIEWER_RESULT, vec!["/required"]),
            ("tester", embedded::TESTER_RESULT, vec!["/required"]),
        ] {
            let md = definition(name);
            let result = builtin(schema, name);
            let plan = builtin(embedded::PLAN, "plan");
            let found = examples(md);
            let mut results = 0;
            for ex in &found {
                // The planner's definition also shows a plan.
                let (validator, what) = if ex.get("lanes").is_some() {
                    (&plan, "plan")
                } else {
                    results += 1;
                    (&result, "result")
                };
                let bad = violations(validator, ex);
                assert!(bad.is_empty(), "{name}.md: the {what} example: {bad:?}");
            }
            assert!(results > 0, "{name}.md has no example result");
            for p in pointers {
                for field in required(schema, p) {
                    assert!(
                        md.contains(&format!("`{field}`")),
                        "{name}.md does not describe `{field}`"
                    );
                }
            }
            assert!(md.contains("context.resultPath") || name == "planner");
        }
        let planner = definition("planner");
        assert!(
            examples(planner).iter().any(|e| e.get("lanes").is_some()),
            "the planner's definition shows a plan"
        );
        for p in [
            "/required",
            "/properties/lanes/items/required",
            "/properties/lanes/items/properties/tasks/items/required",
        ] {
            for field in required(embedded::PLAN, p) {
                assert!(
                    planner.contains(&format!("`{field}`")),
                    "planner.md does not describe the plan's `{field}`"
                );
            }
        }
    }

    /// The config with an exec is the pack's config plus that one key, and valid.
    #[test]
    fn config_with_exec_adds_the_profile_and_stays_valid() {
        let plain: Value =
            serde_json::from_str(FILES.iter().find(|(r, _)| *r == CONFIG).expect("config").1)
                .expect("JSON");
        for profile in ["claude", "codex", "gemini", "cursor-agent"] {
            let text = config_with_exec(profile);
            let mut v: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(v["exec"], profile);
            let validator = builtin(embedded::CONFIG, "config.schema.json");
            assert!(violations(&validator, &v).is_empty(), "{profile}");
            v.as_object_mut().expect("object").remove("exec");
            assert_eq!(v, plain);
        }
    }
}
