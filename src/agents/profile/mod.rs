//! Built-in agent profiles: the argv, environment and prompt that make one agent CLI work
//! non-interactively and completely for one invocation, with access to exactly what the
//! invocation needs and command permissions derived from the run.
//!
//! What every profile provides:
//! - the prompt on stdin (long prompts never meet the argument-length limit);
//! - machine-readable output, so usage, errors and permission denials are read exactly;
//! - access outside the working directory to the run folder (the result file and the
//!   handoff, context pack and plan), the folder of the result schema (and of the plan schema
//!   for the planner) and the standards file;
//! - the commands the agent may run: read-only commands, the git commands its role needs and
//!   the plan's test commands, widened by `agents.allowedCommands` or lifted by
//!   `agents.allowAllCommands`;
//! - the agent definition (its role, inputs and result format);
//! - schema-constrained output where the CLI offers it, so a result can be taken from the
//!   CLI's structured output when the agent did not write the file.
//!
//! Pure: the same scope gives the same launch, so every profile is unit-tested.

use std::path::{Path, PathBuf};

mod claude;
mod codex;
mod cursor;
mod gemini;
#[cfg(test)]
mod tests;

pub(crate) use codex::drop_strict_nulls;

use crate::config::{Profile, ProfileKind};

/// What an invocation may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The planning agent: reads the repository, writes the plan and its result.
    Planner,
    /// An agent that changes files in its working directory (the implementor).
    Editor,
    /// An agent that only reads and reports (reviewer, tester): it writes its result file and
    /// nothing else.
    Reader,
}

/// The commands an agent may run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Commands {
    /// Commands or command prefixes (`git status`, `cargo test -p core`).
    pub allowed: Vec<String>,
    /// `agents.allowAllCommands`: no limit.
    pub all: bool,
}

/// Read-only commands every agent may run.
const READ_ONLY: &[&str] = &[
    "git status",
    "git diff",
    "git log",
    "git show",
    "git ls-files",
    "git rev-parse",
    "git branch --show-current",
    "ls",
    "cat",
    "head",
    "tail",
    "wc",
    "grep",
    "rg",
    "pwd",
    "diff",
];

/// What editing agents need beside the read-only commands: staging and committing their work.
const EDITING: &[&str] = &["git add", "git commit"];

/// The commands of a role: read-only ones, git's staging and committing for editors, the
/// plan's test commands (for every role after planning: editors check their work, the tester
/// runs them, the reviewer may), then the policy's additions. Deterministic and without
/// duplicates.
pub(crate) fn commands(
    role: Role,
    test_commands: &[String],
    policy: &[String],
    all: bool,
) -> Commands {
    let mut allowed: Vec<String> = Vec::new();
    let mut add = |c: &str| {
        let c = c.trim();
        if !c.is_empty() && !allowed.iter().any(|a| a == c) {
            allowed.push(c.to_string());
        }
    };
    READ_ONLY.iter().for_each(|c| add(c));
    if role == Role::Editor {
        EDITING.iter().for_each(|c| add(c));
    }
    if role != Role::Planner {
        test_commands.iter().for_each(|c| add(c));
    }
    policy.iter().for_each(|c| add(c));
    Commands { allowed, all }
}

/// Everything a profile needs to know about one invocation.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub role: Role,
    /// The invocation's prompt (as the action contract gives it).
    pub prompt: String,
    /// Where the agent works.
    pub cwd: PathBuf,
    pub run_dir: PathBuf,
    /// The exact file the agent must write.
    pub result: PathBuf,
    /// The planner's plan file.
    pub plan_file: Option<PathBuf>,
    pub result_schema: PathBuf,
    pub plan_schema: Option<PathBuf>,
    pub standards: PathBuf,
    /// The agent definition (role, inputs, result format), when there is one.
    pub definition: Option<String>,
    pub commands: Commands,
    /// Where this invocation's own files for the CLI go: `<scratch>.<what>` (its final message,
    /// a policy file, a schema), beside its log.
    pub scratch: PathBuf,
    /// The user's git identity (`user.name`, `user.email`), for CLIs that hide git's config
    /// from the commands they run.
    pub identity: Option<(String, String)>,
}

impl Scope {
    /// One of this invocation's own files for the CLI.
    pub(crate) fn scratch(&self, what: &str) -> PathBuf {
        let mut name = self
            .scratch
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(format!(".{what}"));
        self.scratch.with_file_name(name)
    }
}

/// How an agent CLI reports, for reading usage, errors and structured results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// Whatever the template's program prints.
    Unknown,
    /// Claude Code `--output-format json`: one result object.
    ClaudeJson,
    /// Codex `exec --json`: JSON lines of events.
    CodexJsonl,
    /// Gemini CLI `--output-format json`.
    GeminiJson,
    /// Cursor's agent `--output-format json`.
    CursorJson,
}

/// Where a result can be taken from when the agent did not write its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Structured {
    /// The `structured_output` of Claude Code's JSON result.
    ClaudeResult,
    /// The final message (`result`) of a JSON result event, when it is a JSON object (Cursor's
    /// agent, which cannot write outside its workspace and has no schema option).
    ResultText,
    /// A file holding the agent's final message (Codex `-o`), JSON under `--output-schema`
    /// with the strict form of `schema`; properties the strict form made nullable are dropped
    /// when null.
    FinalMessage { file: PathBuf, schema: PathBuf },
}

/// One launch: argv, prompt, environment and how to read what it prints.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Launch {
    pub argv: Vec<String>,
    /// The prompt, given on stdin.
    pub stdin: Option<String>,
    pub env: Vec<(String, String)>,
    /// Files the launch needs written first (a policy file).
    pub files: Vec<(PathBuf, String)>,
    pub output: Output,
    pub structured: Option<Structured>,
}

/// The directories outside `cwd` that the agent must read (and, for the run folder, write
/// its result in): run folder, schema folders, and the standards folder when the CLI can only
/// grant folders; without duplicates and without anything inside `cwd`.
pub(crate) fn extra_dirs(s: &Scope, standards_folder: bool) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut add = |d: Option<&Path>| {
        if let Some(d) = d
            && !d.as_os_str().is_empty()
            && !d.starts_with(&s.cwd)
            && !dirs.iter().any(|x| d.starts_with(x))
        {
            dirs.retain(|x| !x.starts_with(d));
            dirs.push(d.to_path_buf());
        }
    };
    add(Some(&s.run_dir));
    add(s.result_schema.parent());
    add(s.plan_schema.as_deref().and_then(Path::parent));
    if standards_folder {
        add(s.standards.parent());
    }
    dirs
}

/// Builds the launch of a profile for one invocation.
pub(crate) fn build(p: &Profile, s: &Scope) -> Launch {
    let mut l = match p.kind {
        ProfileKind::Claude => claude::claude(p, s),
        ProfileKind::Codex => codex::codex(p, s),
        ProfileKind::Gemini => gemini::gemini(p, s),
        ProfileKind::CursorAgent => cursor::cursor(p, s),
    };
    l.env
        .extend(p.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    l
}

/// How an agent hands its result over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// It writes the result file.
    File,
    /// It cannot write outside its worktree: its final message is the result, which git swarm
    /// writes to the result file.
    FinalMessage,
}

/// The prompt with what the agent needs to know about its permissions, and, for CLIs that
/// cannot load an agent definition, the definition first.
fn prompt(s: &Scope, with_definition: bool, answer: Answer, sandboxed: bool) -> String {
    let mut out = String::new();
    if with_definition && let Some(d) = &s.definition {
        out.push_str("# Your role\n\n");
        out.push_str(d.trim());
        out.push_str("\n\n# Your task\n\n");
    }
    out.push_str(s.prompt.trim_end());
    out.push_str("\n\n");
    out.push_str(&permissions_note(s, answer, sandboxed));
    out
}

/// One paragraph on what the agent may do, so a model does not spend turns on refusals.
/// `sandboxed`: the CLI limits commands by a sandbox rather than by name (Codex), so the
/// commands are named as the ones to use.
fn permissions_note(s: &Scope, answer: Answer, sandboxed: bool) -> String {
    let plan = s
        .plan_file
        .clone()
        .unwrap_or_else(|| s.run_dir.join("plan.json"));
    let writes = match (s.role, answer) {
        (Role::Editor, Answer::File) => format!(
            "You may change files in {} and must write your result to {}.",
            s.cwd.display(),
            s.result.display()
        ),
        (Role::Planner, Answer::File) => format!(
            "Do not change the repository; write only {} and {}.",
            plan.display(),
            s.result.display()
        ),
        (Role::Reader, Answer::File) => format!(
            "Do not change any file; write only your result, {}.",
            s.result.display()
        ),
        (role, Answer::FinalMessage) => {
            let what = match role {
                Role::Editor => format!("You may change files in {} only.", s.cwd.display()),
                Role::Planner => format!(
                    "Do not change the repository; write only {}.",
                    plan.display()
                ),
                Role::Reader => "Do not change any file.".to_string(),
            };
            format!(
                "{what} Writing outside your workspace is refused, so do not write {} yourself: end your turn with your result as your final message — one JSON object valid against {} — and git swarm writes it there.",
                s.result.display(),
                s.result_schema.display()
            )
        }
    };
    let commands = if s.commands.all {
        "You may run any command.".to_string()
    } else if sandboxed {
        format!(
            "Commands run in a sandbox without network access; use these: {}.",
            s.commands
                .allowed
                .iter()
                .filter(|c| !EDITING.contains(&c.as_str()))
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!(
            "Commands you may run (others are refused): {}.",
            s.commands
                .allowed
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!("{writes} {commands}")
}

/// The text of an agent definition file without its front matter (`---` … `---`).
pub(crate) fn definition_body(text: &str) -> String {
    let t = text.trim_start_matches('\u{feff}');
    if let Some(rest) = t
        .strip_prefix("---\n")
        .or_else(|| t.strip_prefix("---\r\n"))
        && let Some(end) = rest.find("\n---")
    {
        let after = &rest[end + 4..];
        return after
            .trim_start_matches(['\r', '\n'])
            .trim_end()
            .to_string();
    }
    t.trim().to_string()
}
