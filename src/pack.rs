//! The default agent pack: a workflow config, the result schemas and short agent definitions,
//! installed under `~/.cursor/agents/` by `git swarm init --pack` (never overwriting a file).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::schema::embedded;
use crate::store::atomic;

/// `(path under ~/.cursor/agents, content)`.
pub const FILES: &[(&str, &str)] = &[
    ("manager/config.json", include_str!("../pack/config.json")),
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
    ("manager.md", include_str!("../pack/agents/manager.md")),
    ("planner.md", include_str!("../pack/agents/planner.md")),
    (
        "implementor.md",
        include_str!("../pack/agents/implementor.md"),
    ),
    ("reviewer.md", include_str!("../pack/agents/reviewer.md")),
    ("tester.md", include_str!("../pack/agents/tester.md")),
];

/// The default pack's definition of a role (`planner`, `implementor`, `reviewer`, `tester`),
/// without its front matter: what a profile gives an agent whose config names no definition
/// file that exists.
pub fn definition(agent: &str) -> Option<String> {
    let file = format!("{agent}.md");
    FILES
        .iter()
        .find(|(rel, _)| *rel == file && agent != "manager")
        .map(|(_, text)| crate::agents::profile::definition_body(text))
}

/// Installs the pack under `<home>/.cursor/agents/`; returns (written, kept) paths.
pub fn install(home: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
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
        atomic::write(&p, content.as_bytes())?;
        written.push(p);
    }
    Ok((written, kept))
}
