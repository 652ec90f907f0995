//! Agent-host integrations written by `git swarm init --host`: subagent definitions, a `/swarm`
//! command that follows `git swarm next --json`, and a hook that advances the run whenever a
//! subagent stops. Files that exist are never overwritten.
//!
//! Formats, as the hosts document them:
//! - Claude Code: `.claude/agents/<name>.md` (YAML frontmatter `name`, `description`, optional
//!   `tools`; the body is the system prompt), `.claude/commands/<name>.md` (frontmatter
//!   `description`, `argument-hint`, `allowed-tools`; `$ARGUMENTS` is what follows the command),
//!   hooks in `.claude/settings.json` (`hooks.SubagentStop[].hooks[]` of `type: command`), and
//!   there `permissions.additionalDirectories` (directories besides the project it may work in)
//!   and `permissions.allow` rules: `Edit(<path pattern>)` covers every built-in tool that
//!   edits or writes files; the pattern follows gitignore, `//` starts an absolute path and `/`
//!   one relative to the project root. `permissions.deny` rules win over `allow`.
//! - Cursor: `.cursor/agents/<name>.md` (frontmatter `name`, `description`, `model`),
//!   `.cursor/commands/<name>.md` (plain Markdown; the text after the command follows it), hooks
//!   in `.cursor/hooks.json` (`version: 1`, `hooks.subagentStop[]` with `command`).

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::error::Result;
use crate::files::atomic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Host {
    /// Claude Code: .claude/agents/, .claude/commands/swarm.md, a SubagentStop hook.
    ClaudeCode,
    /// Cursor: .cursor/agents/, .cursor/commands/swarm.md, a subagentStop hook.
    Cursor,
}

impl Host {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Host::ClaudeCode => "claude-code",
            Host::Cursor => "cursor",
        }
    }
}

/// What the hooks run.
pub(crate) const HOOK_COMMAND: &str = "git swarm hook agent-stop";

/// The hook entries each host gets, as shipped in `hooks/`: Claude Code's `hooks` member of
/// `.claude/settings.json`, and Cursor's whole `.cursor/hooks.json`.
const HOOKS_CLAUDE_CODE: &str = include_str!("../../hooks/claude-code.hooks.json");
const HOOKS_CURSOR: &str = include_str!("../../hooks/cursor.hooks.json");

fn hook_entries(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("the shipped hook entries are JSON")
}

/// The `git swarm` subcommands a manager agent runs (and may run without a prompt).
pub(crate) const MANAGER_COMMANDS: &[&str] = &[
    "start", "next", "approve", "publish", "follow", "status", "list", "retry", "validate",
];

/// The agents of the default pipeline: (name, pack definition, what it may use in Claude Code;
/// `None` inherits every tool).
const AGENTS: &[(&str, &str, Option<&str>)] = &[
    (
        "planner",
        include_str!("../../pack/agents/planner.md"),
        Some("Read, Grep, Glob, Bash, Write"),
    ),
    (
        "implementor",
        include_str!("../../pack/agents/implementor.md"),
        None,
    ),
    (
        "reviewer",
        include_str!("../../pack/agents/reviewer.md"),
        Some("Read, Grep, Glob, Bash, Write"),
    ),
    (
        "tester",
        include_str!("../../pack/agents/tester.md"),
        Some("Read, Grep, Glob, Bash, Write"),
    ),
];

/// A pack definition without its frontmatter.
fn body(md: &str) -> &str {
    md.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(_, b)| b.trim_start_matches('\n'))
        .unwrap_or(md)
}

/// The `description` line of a pack definition.
fn description(md: &str) -> &str {
    md.lines()
        .find_map(|l| l.strip_prefix("description: "))
        .unwrap_or_default()
}

/// The manager's whole job, for both hosts: follow the tool's answers.
fn manager_steps(spawn: &str) -> String {
    format!(
        "git swarm does all the bookkeeping of this run (state, validation, review loops, \
handoffs, worktrees, the pull request). You only spawn the agents it names. Never edit files \
under `.swarm/runs/`.

1. With a task, run `git swarm start --json \"<task>\"` (quote it as one argument; for a long \
task write it to a file and run `git swarm start --json --task-file <file>`). Without one, run \
`git swarm next --json` to continue the run in progress.
2. Read the JSON it prints and act on `action`:
   - `invoke`: {spawn} Start every entry of `invocations` at once when there are several, and \
wait until all of them have finished.
   - `publish`: run `git swarm publish --json` and act on its answer the same way.
   - `approve`: show the user `message` and ask them. Yes: run `git swarm approve --json` and \
act on its answer. No: run `git swarm next --json --reject \"<their words>\"` and act on its answer.
   - `done`, `failed`, `escalated`, `canceled`: stop, and tell the user `message`, plus `hint`, \
`prUrl` and `warnings` when present. When the user asked you to see the pull request through \
CI and review, after `done` with a `prUrl` run `git swarm follow --json` and act on its answer.
   - `wait` (from `git swarm follow`): wait `retry-after` seconds, then run \
`git swarm follow --json` again.
   - an `error` object instead: stop, and tell the user its `message` and `hint`.
3. After the agents finish, run `git swarm next --json` and go back to step 2.

If a result is wrong for a reason the tool cannot see (it contradicts `.swarm/standards.md`, \
say), read it before step 3 and run `git swarm next --json --reject \"<what is wrong>\"` \
instead of `git swarm next --json`.
"
    )
}

/// What Claude Code needs so that subagents edit in the run's worktrees and write their results
/// without a permission prompt per file: the directories (the workspace's parent, where run
/// worktrees `../<repo>-swarm-*` are created, and the run folder) and the rules that allow
/// editing there.
pub(crate) struct ClaudePermissions {
    pub additional_directories: Vec<String>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

pub(crate) fn claude_permissions(root: &Path) -> ClaudePermissions {
    let parent = root.parent().unwrap_or(root);
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let worktrees = parent.join(format!("{name}-swarm-*"));
    ClaudePermissions {
        additional_directories: vec![
            parent.display().to_string(),
            root.join(".swarm/runs").display().to_string(),
        ],
        // The commands the manager runs, each by name: a blanket `git swarm:*` would also
        // allow `git swarm -C . trust` or `--json trust`, which the deny rule below cannot see.
        allow: MANAGER_COMMANDS
            .iter()
            .map(|c| format!("Bash(git swarm {c}:*)"))
            .chain([
                // `//` + an absolute path; `*` stays within one path component.
                format!("Edit(/{}/**)", worktrees.display()),
                "Edit(/.swarm/runs/**)".to_string(),
            ])
            .collect(),
        // Trusting a repository's commands is the user's decision, never the manager's: an
        // agent misled by what it read must not be able to approve them.
        deny: vec!["Bash(git swarm trust:*)".to_string()],
    }
}

/// `(path relative to the repository root, content)` of every file a host install writes
/// into the repository at `root`.
pub(crate) fn files(host: Host, root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    match host {
        Host::ClaudeCode => {
            for (name, md, tools) in AGENTS {
                let mut front = format!(
                    "---\nname: {name}\ndescription: The git swarm {name}, used only when git swarm names it (through /swarm). {}\n",
                    description(md)
                );
                if let Some(t) = tools {
                    front.push_str(&format!("tools: {t}\n"));
                }
                front.push_str("---\n\n");
                out.push((
                    PathBuf::from(format!(".claude/agents/{name}.md")),
                    front + body(md),
                ));
            }
            let spawn = "for each entry of `invocations`, use the Task tool with \
`subagent_type` set to its `agent` and the prompt set to its `prompt`, exactly as given.";
            out.push((
                PathBuf::from(".claude/commands/swarm.md"),
                format!(
                    "---\ndescription: Run a git swarm pipeline (planner, implementor, reviewer, tester) for a task, or continue the run in progress\nargument-hint: \"[task]\"\nallowed-tools: {}, Task, Read\n---\n\nTask: $ARGUMENTS\n\n{}",
                    MANAGER_COMMANDS
                        .iter()
                        .map(|c| format!("Bash(git swarm {c}:*)"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    manager_steps(spawn)
                ),
            ));
            let perms = claude_permissions(root);
            let settings = json!({
                "permissions": {
                    "additionalDirectories": perms.additional_directories,
                    "allow": perms.allow,
                    "deny": perms.deny,
                },
                "hooks": hook_entries(HOOKS_CLAUDE_CODE),
            });
            out.push((
                PathBuf::from(".claude/settings.json"),
                serde_json::to_string_pretty(&settings).expect("serializable") + "\n",
            ));
        }
        Host::Cursor => {
            for (name, md, _) in AGENTS {
                let front = format!(
                    "---\nname: {name}\ndescription: The git swarm {name}, used only when git swarm names it (through /swarm). {}\nmodel: inherit\n---\n\n",
                    description(md)
                );
                out.push((
                    PathBuf::from(format!(".cursor/agents/{name}.md")),
                    front + body(md),
                ));
            }
            let spawn = "for each entry of `invocations`, delegate to the subagent named by \
its `agent` (defined in `.cursor/agents/`) with its `prompt`, exactly as given.";
            out.push((
                PathBuf::from(".cursor/commands/swarm.md"),
                format!(
                    "# git swarm\n\nThe task is the text after /swarm (none: continue the run in progress).\n\n{}",
                    manager_steps(spawn)
                ),
            ));
            let hooks = hook_entries(HOOKS_CURSOR);
            out.push((
                PathBuf::from(".cursor/hooks.json"),
                serde_json::to_string_pretty(&hooks).expect("serializable") + "\n",
            ));
        }
    }
    out
}

/// What one host install did.
#[derive(Debug, Default)]
pub(crate) struct Installed {
    pub written: Vec<PathBuf>,
    pub kept: Vec<PathBuf>,
}

/// Writes the host's files under `root`, keeping every file that exists. Nothing is written
/// through a symlink: a symlinked folder (`.claude`, `.claude/agents`, …) refuses the whole
/// install before anything is written, and a symlink in a file's place is kept like a file
/// (the caller says so).
pub(crate) fn install(root: &Path, host: Host) -> Result<Installed> {
    let files = files(host, root);
    for (rel, _) in &files {
        let p = root.join(rel);
        crate::files::safe::check_dirs(root, p.parent().expect("has parent"))?;
    }
    let mut done = Installed::default();
    for (rel, content) in files {
        let p = root.join(&rel);
        if p.symlink_metadata().is_ok() {
            done.kept.push(p);
            continue;
        }
        crate::files::safe::create_dirs(root, p.parent().expect("has parent"))?;
        atomic::write(&p, content.as_bytes())?;
        done.written.push(p);
    }
    Ok(done)
}

/// What to merge by hand when a host's settings file already exists: the stop hook, and for
/// Claude Code the permissions for the run's worktrees and folder.
pub(crate) fn merge_snippet(host: Host, root: &Path) -> String {
    match host {
        Host::ClaudeCode => {
            let perms = claude_permissions(root);
            format!(
                "\"permissions\": {}, \"hooks\": {{\"SubagentStop\": [{{\"hooks\": [{{\"type\": \"command\", \"command\": \"{HOOK_COMMAND}\"}}]}}]}}",
                json!({
                    "additionalDirectories": perms.additional_directories,
                    "allow": perms.allow,
                    "deny": perms.deny,
                })
            )
        }
        Host::Cursor => {
            format!("\"hooks\": {{\"subagentStop\": [{{\"command\": \"{HOOK_COMMAND}\"}}]}}")
        }
    }
}

/// The settings file that holds the host's hook.
pub(crate) fn settings_file(host: Host) -> &'static str {
    match host {
        Host::ClaudeCode => ".claude/settings.json",
        Host::Cursor => ".cursor/hooks.json",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_hook_entries_run_the_stop_hook() {
        for text in [HOOKS_CLAUDE_CODE, HOOKS_CURSOR] {
            assert!(text.contains(HOOK_COMMAND), "{text}");
            hook_entries(text);
        }
    }

    #[test]
    fn frontmatter_is_replaced_not_doubled() {
        for host in [Host::ClaudeCode, Host::Cursor] {
            for (p, c) in files(host, Path::new("/src/app")) {
                if p.parent().is_some_and(|d| d.ends_with("agents")) {
                    assert_eq!(c.matches("\n---\n").count(), 1, "{}: {c}", p.display());
                    assert!(c.starts_with("---\nname: "), "{}", p.display());
                }
            }
        }
    }

    /// Every frontmatter line is `key: value` with a plain YAML scalar that means itself (no
    /// `: ` or ` #` inside, no indicator character first) or a double-quoted string.
    #[test]
    fn frontmatter_values_are_plain_yaml_scalars() {
        for host in [Host::ClaudeCode, Host::Cursor] {
            for (p, c) in files(host, Path::new("/src/app")) {
                let Some(front) = c
                    .strip_prefix("---\n")
                    .and_then(|r| r.split_once("\n---\n"))
                else {
                    continue;
                };
                for line in front.0.lines() {
                    let (k, v) = line
                        .split_once(": ")
                        .unwrap_or_else(|| panic!("{}: {line}", p.display()));
                    assert!(
                        k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                        "{line}"
                    );
                    if v.starts_with('"') {
                        assert!(v.ends_with('"') && v.len() > 1, "{line}");
                        continue;
                    }
                    assert!(
                        !v.contains(": ") && !v.contains(" #"),
                        "{}: {line}",
                        p.display()
                    );
                    assert!(
                        !v.starts_with([
                            '[', '{', '&', '*', '!', '|', '>', '\'', '%', '@', '`', '-', '?'
                        ]),
                        "{line}"
                    );
                }
            }
        }
    }

    #[test]
    fn claude_code_may_edit_the_run_worktrees_and_folder() {
        let p = claude_permissions(Path::new("/src/app"));
        assert_eq!(p.additional_directories, ["/src", "/src/app/.swarm/runs"]);
        assert_eq!(p.deny, ["Bash(git swarm trust:*)"]);
        assert_eq!(
            p.allow,
            [
                "Bash(git swarm start:*)",
                "Bash(git swarm next:*)",
                "Bash(git swarm approve:*)",
                "Bash(git swarm publish:*)",
                "Bash(git swarm follow:*)",
                "Bash(git swarm status:*)",
                "Bash(git swarm list:*)",
                "Bash(git swarm retry:*)",
                "Bash(git swarm validate:*)",
                "Edit(//src/app-swarm-*/**)",
                "Edit(/.swarm/runs/**)"
            ]
        );
        let snippet = merge_snippet(Host::ClaudeCode, Path::new("/src/app"));
        let parsed: serde_json::Value =
            serde_json::from_str(&format!("{{{snippet}}}")).expect("the snippet is JSON members");
        assert_eq!(
            parsed["permissions"]["allow"][9],
            "Edit(//src/app-swarm-*/**)"
        );
        assert!(parsed["hooks"]["SubagentStop"].is_array());
    }

    #[test]
    fn the_manager_instructions_are_short() {
        for host in [Host::ClaudeCode, Host::Cursor] {
            let (_, cmd) = files(host, Path::new("/src/app"))
                .into_iter()
                .find(|(p, _)| p.ends_with("commands/swarm.md"))
                .unwrap();
            assert!(cmd.len() < 4096, "{} bytes", cmd.len());
            assert!(cmd.contains("git swarm next --json"));
        }
    }
}
