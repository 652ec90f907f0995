//! Agent-host integrations: `git swarm init --host claude-code|cursor` and the stop hook they
//! install (`git swarm hook agent-stop`).

mod common;

use std::io::Write;
use std::process::Stdio;

use common::*;
use serde_json::{Value, json};

const CLAUDE_FILES: &[&str] = &[
    ".claude/agents/planner.md",
    ".claude/agents/implementor.md",
    ".claude/agents/reviewer.md",
    ".claude/agents/tester.md",
    ".claude/commands/swarm.md",
    ".claude/settings.json",
];

const CURSOR_FILES: &[&str] = &[
    ".cursor/agents/planner.md",
    ".cursor/agents/implementor.md",
    ".cursor/agents/reviewer.md",
    ".cursor/agents/tester.md",
    ".cursor/commands/swarm.md",
    ".cursor/hooks.json",
];

fn read(env: &Env, rel: &str) -> String {
    std::fs::read_to_string(env.work.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `git swarm hook agent-stop` as a host runs it: the event JSON on stdin.
fn agent_stop(env: &Env, dir: &std::path::Path, extra: &[(&str, &str)], json: bool) -> Out {
    let mut args = vec!["hook", "agent-stop"];
    if json {
        args.push("--json");
    }
    let mut cmd = env.command(dir, &args);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            br#"{"session_id":"s1","hook_event_name":"SubagentStop","stop_hook_active":false}"#,
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn claude_code_gets_subagents_a_swarm_command_and_a_stop_hook() {
    let env = Env::new();
    let out = env.swarm(&["init", "--host", "claude-code"]);
    out.code(0);
    for f in CLAUDE_FILES {
        assert!(
            out.stdout.contains(&format!("claude-code: wrote {f}")),
            "{f}: {}",
            out.stdout
        );
    }
    for name in ["planner", "implementor", "reviewer", "tester"] {
        let md = read(&env, &format!(".claude/agents/{name}.md"));
        assert!(
            md.starts_with(&format!("---\nname: {name}\ndescription: ")),
            "{md}"
        );
        assert!(
            md.contains("context.resultPath") || name == "planner",
            "{md}"
        );
    }
    // The implementor inherits every tool; the others may not edit beyond their result.
    assert!(!read(&env, ".claude/agents/implementor.md").contains("\ntools:"));
    assert!(
        read(&env, ".claude/agents/reviewer.md")
            .contains("\ntools: Read, Grep, Glob, Bash, Write\n")
    );
    let cmd = read(&env, ".claude/commands/swarm.md");
    assert!(cmd.contains("Task: $ARGUMENTS"), "{cmd}");
    assert!(
        cmd.contains("allowed-tools: Bash(git swarm start:*), Bash(git swarm next:*), Bash(git swarm approve:*), Bash(git swarm publish:*), Bash(git swarm follow:*), Bash(git swarm status:*), Bash(git swarm list:*), Bash(git swarm retry:*), Bash(git swarm validate:*), Task, Read"),
        "{cmd}"
    );
    assert!(cmd.contains("git swarm next --json"), "{cmd}");
    assert!(cmd.len() < 4096);
    let settings: Value = serde_json::from_str(&read(&env, ".claude/settings.json")).unwrap();
    assert_eq!(
        settings["hooks"]["SubagentStop"][0]["hooks"][0],
        json!({"type": "command", "command": "git swarm hook agent-stop", "timeout": 60})
    );
    // Subagents edit in the run's worktrees (beside the repository) and write their results in
    // the run folder without a prompt per file: `Edit(…)` rules cover Claude Code's Write too,
    // `//` starts an absolute path, `/` one relative to the project.
    let parent = env.work.parent().unwrap().display().to_string();
    assert_eq!(
        settings["permissions"]["additionalDirectories"],
        json!([parent, env.work.join(".swarm/runs").display().to_string()])
    );
    assert_eq!(
        settings["permissions"]["allow"],
        json!([
            "Bash(git swarm start:*)",
            "Bash(git swarm next:*)",
            "Bash(git swarm approve:*)",
            "Bash(git swarm publish:*)",
            "Bash(git swarm follow:*)",
            "Bash(git swarm status:*)",
            "Bash(git swarm list:*)",
            "Bash(git swarm retry:*)",
            "Bash(git swarm validate:*)",
            format!("Edit(/{parent}/work-swarm-*/**)"),
            "Edit(/.swarm/runs/**)"
        ])
    );
    // Only the user trusts a repository's commands, never the manager agent.
    assert_eq!(
        settings["permissions"]["deny"],
        json!(["Bash(git swarm trust:*)"])
    );
    // The pattern matches where runs really put their worktrees.
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "claude code"]);
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let wt = env.sj(&["next"]).json()["invocations"][0]["cwd"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(wt, format!("{parent}/work-swarm-add-greeting"));
}

#[test]
fn cursor_gets_subagents_a_swarm_command_and_a_stop_hook() {
    let env = Env::new();
    let j = env.sj(&["init", "--host", "cursor"]).json();
    let written: Vec<String> = j["hosts"][0]["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert_eq!(written.len(), CURSOR_FILES.len(), "{j}");
    for f in CURSOR_FILES {
        assert!(written.iter().any(|w| w.ends_with(f)), "{f}: {written:?}");
    }
    assert_eq!(j["hosts"][0]["hookInstalled"], true);
    let md = read(&env, ".cursor/agents/tester.md");
    assert!(md.starts_with("---\nname: tester\ndescription: "), "{md}");
    assert!(md.contains("\nmodel: inherit\n---\n"), "{md}");
    let hooks: Value = serde_json::from_str(&read(&env, ".cursor/hooks.json")).unwrap();
    assert_eq!(
        hooks,
        json!({"version": 1, "hooks": {"subagentStop": [{"command": "git swarm hook agent-stop"}]}})
    );
    let cmd = read(&env, ".cursor/commands/swarm.md");
    assert!(cmd.contains("git swarm start --json"), "{cmd}");
    assert!(
        !cmd.starts_with("---"),
        "Cursor commands are plain Markdown"
    );
}

#[test]
fn existing_files_are_never_overwritten_and_the_hook_is_shown_to_merge() {
    let env = Env::new();
    let mine_settings = "{\"model\": \"opus\"}\n";
    let mine_agent = "---\nname: planner\ndescription: my own planner\n---\nmine\n";
    std::fs::create_dir_all(env.work.join(".claude/agents")).unwrap();
    std::fs::write(env.work.join(".claude/settings.json"), mine_settings).unwrap();
    std::fs::write(env.work.join(".claude/agents/planner.md"), mine_agent).unwrap();
    let out = env.swarm(&["init", "--host", "claude-code", "--host", "cursor"]);
    out.code(0);
    assert_eq!(read(&env, ".claude/settings.json"), mine_settings);
    assert_eq!(read(&env, ".claude/agents/planner.md"), mine_agent);
    assert!(
        out.stdout
            .contains("claude-code: kept .claude/agents/planner.md (it exists)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("claude-code: kept .claude/settings.json (it exists); for the run to advance by itself and its agents to work without a prompt per file, add to it: \"permissions\": {\"additionalDirectories\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\"hooks\": {\"SubagentStop\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("cursor: wrote .cursor/hooks.json"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("commit the new files"),
        "{}",
        out.stdout
    );

    // A second install writes nothing and changes nothing.
    let before: Vec<(String, String)> = CLAUDE_FILES
        .iter()
        .chain(CURSOR_FILES)
        .map(|f| (f.to_string(), read(&env, f)))
        .collect();
    let j = env
        .sj(&["init", "--host", "claude-code", "--host", "cursor"])
        .json();
    for h in j["hosts"].as_array().unwrap() {
        assert_eq!(h["written"], json!([]), "{j}");
        assert_eq!(h["kept"].as_array().unwrap().len(), 6, "{j}");
    }
    assert_eq!(j["hosts"][0]["hookInstalled"], false);
    let merge = j["hosts"][0]["merge"].as_str().unwrap();
    let members: Value = serde_json::from_str(&format!("{{{merge}}}")).unwrap();
    assert_eq!(members["permissions"]["allow"][10], "Edit(/.swarm/runs/**)");
    for (f, text) in before {
        assert_eq!(read(&env, &f), text, "{f}");
    }
}

#[test]
fn an_unknown_host_is_a_usage_error_listing_the_known_ones() {
    let env = Env::new();
    let out = env.swarm(&["init", "--host", "vim"]);
    out.code(2);
    assert!(
        out.stderr.contains("claude-code") && out.stderr.contains("cursor"),
        "{}",
        out.stderr
    );
    assert!(!env.work.join(".claude").exists());
}

#[test]
fn the_stop_hook_consumes_a_written_result_and_issues_the_next_handoff() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let out = agent_stop(&env, &env.work, &[], false);
    out.code(0);
    assert_eq!(out.stdout, "", "the hook prints nothing for the host");
    let st = env.status(&id);
    assert_eq!(st["swarm"]["pending"][0]["agent"], "implementor", "{st}");
    // The manager's own `next` afterwards answers the same action (nothing is lost or doubled).
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");
    assert_eq!(env.status(&id)["swarm"]["step"], st["swarm"]["step"]);
}

#[test]
fn the_stop_hook_finds_the_project_from_claude_project_dir() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let elsewhere = env.root().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = agent_stop(
        &env,
        &elsewhere,
        &[("CLAUDE_PROJECT_DIR", env.work.to_str().unwrap())],
        true,
    );
    out.code(0);
    let j = out.json();
    assert_eq!(j["advanced"][0]["run-id"], id.as_str(), "{j}");
    assert_eq!(j["advanced"][0]["action"], "invoke");
}

#[test]
fn the_stop_hook_is_silent_and_harmless_where_there_is_nothing_to_do() {
    let env = Env::new();
    // Outside any repository.
    let outside = env.root().join("plain");
    std::fs::create_dir_all(&outside).unwrap();
    let out = agent_stop(&env, &outside, &[], false);
    out.code(0);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    // In a repository with no run.
    let out = agent_stop(&env, &env.work, &[], true);
    out.code(0);
    assert_eq!(out.json(), json!({"advanced": [], "skipped": []}));
    // A run waiting for an agent that has not written anything: nothing changes.
    let id = env.start("Add a greeting");
    let before = std::fs::read(env.run_dir(&id).join("run.status.json")).unwrap();
    agent_stop(&env, &env.work, &[], false).code(0);
    assert_eq!(
        std::fs::read(env.run_dir(&id).join("run.status.json")).unwrap(),
        before
    );
}

#[test]
fn the_stop_hook_leaves_runs_that_git_swarm_run_drives() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let lock = std::fs::File::create(env.run_dir(&id).join(".runner.lock")).unwrap();
    lock.lock().unwrap();
    let j = agent_stop(&env, &env.work, &[], true).json();
    assert_eq!(j["advanced"], json!([]), "{j}");
    assert_eq!(j["skipped"][0]["why"], "driven by git swarm run", "{j}");
    assert_eq!(env.status(&id)["swarm"]["pending"][0]["agent"], "planner");
    drop(lock);
    let j = agent_stop(&env, &env.work, &[], true).json();
    assert_eq!(j["advanced"][0]["run-id"], id.as_str(), "{j}");
}
