//! The simulated agents of `git swarm demo`. The binary plays them (`git swarm demo-agent
//! <agent>`), launched through the real exec path, so the demo exercises exactly what a run
//! with real agent CLIs does. They are deterministic: the planner plans two independent
//! tasks, the implementor workers write them, the reviewer rejects the first pass once, and
//! the tester runs the script.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::files::atomic;

const SCRIPT: &str = "scripts/greet.sh";
const DOCS: &str = "docs/greeting.md";

fn env(name: &str) -> Result<String> {
    std::env::var(name).map_err(|_| {
        Error::failure(format!(
            "{name} is not set; demo agents run under 'git swarm run'"
        ))
    })
}

fn handoff() -> Result<Value> {
    crate::files::read_json(Path::new(&env("SWARM_HANDOFF")?))
}

fn write_result(v: &Value) -> Result<()> {
    atomic::write_json(Path::new(&env("SWARM_RESULT")?), v)
}

/// Plays `agent` in the current directory.
pub(crate) fn play(agent: &str) -> Result<()> {
    match agent {
        "planner" => planner(),
        "implementor" => implementor(),
        "reviewer" => reviewer(),
        "tester" => tester(),
        other => Err(Error::failure(format!(
            "the demo has no simulated agent '{other}'"
        ))),
    }
}

fn planner() -> Result<()> {
    let run_id = env("SWARM_RUN_ID")?;
    let run_dir = PathBuf::from(env("SWARM_RUN_DIR")?);
    let plan = json!({
        "id": run_id,
        "description": "Add a command-line greeting script and document it.",
        "friendly-name": "demo-greeting",
        "goal": "Greet people from the command line",
        "acceptance-criteria": [
            "sh scripts/greet.sh World prints Hello, World!",
            "docs/greeting.md explains how to use the script"
        ],
        "lanes": [{
            "branch-name": "demo-greeting",
            "tasks": [
                {"task-id": "script", "description": "Write scripts/greet.sh", "files": [SCRIPT], "dependencies": []},
                {"task-id": "docs", "description": "Document the script in docs/greeting.md", "files": [DOCS], "dependencies": []}
            ],
            "touch-map": [SCRIPT, DOCS],
            "collision-risk": "none: the tasks change different files",
            "test-plan-commands": ["sh scripts/greet.sh World"]
        }],
        "assumptions": ["A POSIX shell is available"],
        "risks": [],
        "out-of-scope": ["Localisation"]
    });
    let plan_path = run_dir.join("plan.json");
    atomic::write_json(&plan_path, &plan)?;
    write_result(&json!({
        "subagent": "planner",
        "status": "complete",
        "plan-id": run_id,
        "plan-path": plan_path.display().to_string()
    }))
}

fn commit(cwd: &Path, files: &[&str], message: &str) -> Result<()> {
    crate::git::ops::commit_files(cwd, files, message)
}

fn implementor() -> Result<()> {
    let h = handoff()?;
    let cwd = std::env::current_dir().map_err(|e| Error::failure(e.to_string()))?;
    // Workers take a moment, so the parallel batch is visible in the progress output.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let tasks: Vec<String> = h["context"]["tasks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["task-id"].as_str())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let fixing = h["context"]["feedback"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    let mut changed = Vec::new();
    if tasks.iter().any(|t| t == "script") || fixing {
        let usage = if fixing {
            "[ -n \"$1\" ] || { echo \"usage: greet.sh NAME\" >&2; exit 2; }\n"
        } else {
            ""
        };
        std::fs::create_dir_all(cwd.join("scripts"))
            .map_err(|e| Error::io("create", &cwd.join("scripts"), e))?;
        std::fs::write(
            cwd.join(SCRIPT),
            format!("#!/bin/sh\n{usage}echo \"Hello, $1!\"\n"),
        )
        .map_err(|e| Error::io("write", &cwd.join(SCRIPT), e))?;
        changed.push(SCRIPT);
    }
    if tasks.iter().any(|t| t == "docs") {
        std::fs::create_dir_all(cwd.join("docs"))
            .map_err(|e| Error::io("create", &cwd.join("docs"), e))?;
        std::fs::write(
            cwd.join(DOCS),
            "# Greeting\n\nRun `sh scripts/greet.sh NAME` to greet NAME.\n",
        )
        .map_err(|e| Error::io("write", &cwd.join(DOCS), e))?;
        changed.push(DOCS);
    }
    let summary = if fixing {
        "added a usage message to scripts/greet.sh".to_string()
    } else {
        format!("wrote {}", changed.join(" and "))
    };
    commit(&cwd, &changed, &summary)?;
    write_result(&json!({
        "schemaVersion": "1.0",
        "subagent": "implementor",
        "status": "completed",
        "runId": h["context"]["runId"],
        "handoffId": h["handoffId"],
        "iteration": h["iteration"],
        "summary": summary,
        "filesChanged": changed,
        "checks": {"lint": {"passed": true, "command": "sh -n scripts/greet.sh"}},
        "blockedReason": null
    }))
}

fn reviewer() -> Result<()> {
    let h = handoff()?;
    let first = h["iteration"].as_u64() == Some(1);
    let (verdict, issues, summary) = if first {
        (
            "rejected",
            json!([{"description": "greet.sh prints \"Hello, !\" without a name; print a usage message instead", "file": SCRIPT, "line": 2, "standard": "Scripts explain their usage"}]),
            "one issue: no usage message",
        )
    } else {
        (
            "approved",
            json!([]),
            "the script and its documentation meet the standards",
        )
    };
    write_result(&json!({
        "schemaVersion": "1.0",
        "subagent": "reviewer",
        "runId": h["context"]["runId"],
        "handoffId": h["handoffId"],
        "verdict": verdict,
        "summary": summary,
        "reviewedFiles": [SCRIPT, DOCS],
        "issues": issues,
        "createdAt": crate::store::now()
    }))
}

fn tester() -> Result<()> {
    let cwd = std::env::current_dir().map_err(|e| Error::failure(e.to_string()))?;
    let out = std::process::Command::new("sh")
        .arg(SCRIPT)
        .arg("World")
        .current_dir(&cwd)
        .output()
        .map_err(|e| Error::failure(format!("cannot run sh: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let passed = out.status.success() && stdout == "Hello, World!";
    let mut r = json!({
        "subagent": "tester",
        "status": if passed { "passed" } else { "failed" },
        "summary": if passed { "sh scripts/greet.sh World printed Hello, World!".to_string() } else { format!("unexpected output: {stdout}") },
        "command": "sh scripts/greet.sh World",
        "exit-code": out.status.code().unwrap_or(-1)
    });
    if !passed {
        r["failures"] = json!([format!("expected 'Hello, World!', got '{stdout}'")]);
    }
    write_result(&r)
}
