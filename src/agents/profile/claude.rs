//! The Claude Code profile.

use std::path::Path;

use super::*;
use crate::config::Profile;

/// A path as Claude Code's permission rules spell an absolute path: `//` + the path (one
/// slash would be relative to the settings file).
fn claude_abs(p: &Path) -> String {
    format!("/{}", p.display())
}

/// Claude Code (`claude -p`, verified with 2.1.332). The offered tools are limited with
/// `--tools` (no subagents, no web); editors work in `acceptEdits` mode, so edits inside the
/// working directory need no approval, and the other roles keep the default mode, where
/// anything not allowed is refused in `-p` mode. Outside the working directory the agent gets
/// exactly: reading the run folder, the schema folders and the standards file (`Read(//…)`
/// rules), and writing its result (and the planner its plan) through `Edit(//…)` rules — which
/// govern the Write tool too. No `--add-dir`: it would let an editor write anywhere in the run
/// folder. Bash is allowed per command prefix. The definition is appended to the system prompt
/// (keeping Claude Code's own tool guidance); the result schema goes to `--json-schema`, so the
/// result can be taken from `structured_output` when the file was not written.
pub(super) fn claude(p: &Profile, s: &Scope) -> Launch {
    let mut argv: Vec<String> = vec![
        p.program.clone(),
        "-p".into(),
        "--output-format".into(),
        "json".into(),
    ];
    if let Some(m) = &p.model {
        argv.extend(["--model".into(), m.clone()]);
    }
    let editor = s.role == Role::Editor;
    argv.extend([
        "--permission-mode".into(),
        if editor { "acceptEdits" } else { "default" }.into(),
        "--tools".into(),
        if editor {
            "Read,Edit,Write,Glob,Grep,Bash"
        } else {
            "Read,Write,Glob,Grep,Bash"
        }
        .into(),
        "--allowedTools".into(),
    ]);
    let mut rules: Vec<String> = Vec::new();
    for d in extra_dirs(s, false) {
        rules.push(format!("Read({}/**)", claude_abs(&d)));
    }
    if !s.standards.starts_with(&s.cwd) {
        rules.push(format!("Read({})", claude_abs(&s.standards)));
    }
    rules.push(format!("Edit({})", claude_abs(&s.result)));
    if let Some(plan) = &s.plan_file {
        rules.push(format!("Edit({})", claude_abs(plan)));
    }
    if s.commands.all {
        rules.push("Bash".into());
    } else {
        for c in &s.commands.allowed {
            rules.push(format!("Bash({c})"));
            rules.push(format!("Bash({c}:*)"));
        }
    }
    // A rule dedup keeps the argv short when folders coincide.
    let mut seen: Vec<String> = Vec::new();
    for r in rules {
        if !seen.contains(&r) {
            seen.push(r);
        }
    }
    argv.extend(seen);
    if let Some(d) = &s.definition {
        argv.extend(["--append-system-prompt".into(), d.trim().to_string()]);
    }
    let schema = crate::files::read_json(&s.result_schema).ok();
    if let Some(schema) = &schema {
        argv.extend(["--json-schema".into(), schema.to_string()]);
    }
    argv.extend(p.args.iter().cloned());
    Launch {
        argv,
        stdin: Some(prompt(s, false, Answer::File, false)),
        env: Vec::new(),
        files: Vec::new(),
        output: Output::ClaudeJson,
        structured: schema.map(|_| Structured::ClaudeResult),
    }
}
