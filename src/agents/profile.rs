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

use crate::config::{Profile, ProfileKind};

/// What an invocation may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
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
pub struct Commands {
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
pub fn commands(role: Role, test_commands: &[String], policy: &[String], all: bool) -> Commands {
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
pub struct Scope {
    pub agent: String,
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
    pub fn scratch(&self, what: &str) -> PathBuf {
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
pub enum Output {
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
pub enum Structured {
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
pub struct Launch {
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
pub fn extra_dirs(s: &Scope, standards_folder: bool) -> Vec<PathBuf> {
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
pub fn build(p: &Profile, s: &Scope) -> Launch {
    let mut l = match p.kind {
        ProfileKind::Claude => claude(p, s),
        ProfileKind::Codex => codex(p, s),
        ProfileKind::Gemini => gemini(p, s),
        ProfileKind::CursorAgent => cursor(p, s),
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
fn claude(p: &Profile, s: &Scope) -> Launch {
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
    let schema = crate::store::read_json(&s.result_schema).ok();
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

/// The form of a result schema that strict structured output accepts: every object closes
/// (`additionalProperties: false`) and requires every property, a property that was optional
/// becomes nullable instead; `oneOf` becomes `anyOf`; document keywords (`$schema`, `$id`) go.
/// The result is taken from the answer with those nulls dropped, then validated against the
/// original schema like any result.
pub fn strict_schema(schema: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    fn nullable(v: Value) -> Value {
        match v {
            Value::Object(mut o) => match o.get_mut("type") {
                Some(Value::String(t)) if t != "null" => {
                    let t = t.clone();
                    o.insert("type".into(), json!([t, "null"]));
                    if let Some(Value::Array(e)) = o.get_mut("enum")
                        && !e.contains(&Value::Null)
                    {
                        e.push(Value::Null);
                    }
                    Value::Object(o)
                }
                Some(Value::Array(ts)) => {
                    if !ts.contains(&json!("null")) {
                        ts.push(json!("null"));
                    }
                    if let Some(Value::Array(e)) = o.get_mut("enum")
                        && !e.contains(&Value::Null)
                    {
                        e.push(Value::Null);
                    }
                    Value::Object(o)
                }
                _ => json!({"anyOf": [Value::Object(o), {"type": "null"}]}),
            },
            other => other,
        }
    }
    fn walk(v: &Value) -> Value {
        let Value::Object(o) = v else {
            return v.clone();
        };
        let mut out = Map::new();
        for (k, x) in o {
            match k.as_str() {
                "$schema" | "$id" => {}
                "oneOf" => {
                    out.insert("anyOf".into(), walk(x));
                }
                "properties" | "definitions" | "$defs" | "patternProperties" => {
                    let m: Map<String, Value> = x
                        .as_object()
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), walk(v))).collect())
                        .unwrap_or_default();
                    out.insert(k.clone(), Value::Object(m));
                }
                _ => {
                    out.insert(
                        k.clone(),
                        match x {
                            Value::Array(a) => Value::Array(a.iter().map(walk).collect()),
                            Value::Object(_) => walk(x),
                            other => other.clone(),
                        },
                    );
                }
            }
        }
        let is_object = out.get("type") == Some(&json!("object")) || out.contains_key("properties");
        if is_object {
            let required = crate::schema::json::strings(out.get("required"));
            let mut props = out
                .remove("properties")
                .and_then(|p| p.as_object().cloned())
                .unwrap_or_default();
            for (name, p) in props.iter_mut() {
                if !required.contains(name) {
                    *p = nullable(p.take());
                }
            }
            let names: Vec<Value> = props.keys().map(|k| json!(k)).collect();
            out.insert("properties".into(), Value::Object(props));
            out.insert("required".into(), Value::Array(names));
            out.insert("additionalProperties".into(), json!(false));
        }
        Value::Object(out)
    }
    walk(schema)
}

/// Drops the nulls an answer under [`strict_schema`] gave for properties the original schema
/// made optional (and does not allow to be null).
pub fn drop_strict_nulls(v: &mut serde_json::Value, schema: &serde_json::Value) {
    use serde_json::Value;
    let (Value::Object(o), Some(props)) = (v, schema.get("properties").and_then(Value::as_object))
    else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let allows_null = |p: &Value| match p.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
        _ => false,
    };
    o.retain(|k, x| {
        !(x.is_null()
            && !required.contains(&k.as_str())
            && props.get(k).is_some_and(|p| !allows_null(p)))
    });
    for (k, x) in o.iter_mut() {
        if let Some(p) = props.get(k) {
            drop_strict_nulls(x, p);
            if let (Value::Array(items), Some(item_schema)) = (x, p.get("items")) {
                for it in items {
                    drop_strict_nulls(it, item_schema);
                }
            }
        }
    }
}

/// Codex (`codex exec`, verified with 0.171.0). The sandbox is the permission model: the
/// planner and editors get `workspace-write` (their working directory; `.git` stays
/// read-only, so git swarm commits what editors leave, in the plan's words), readers
/// `read-only`. Editors and readers get no write access outside their worktree at all: they
/// answer with their result as their final message, which `--output-schema` constrains to
/// the strict form of the result schema and `-o` saves; git swarm writes the result file from
/// it. Reading is not limited by the sandbox, so schemas and standards need no grant. Commands
/// run as `bash -c` (not a login shell, which would reset PATH), and no plugins are synced at
/// each launch. Codex cannot load an agent definition for one invocation without replacing
/// its own instructions, so the definition leads the prompt.
fn codex(p: &Profile, s: &Scope) -> Launch {
    let mut argv: Vec<String> = vec![
        p.program.clone(),
        "exec".into(),
        "--json".into(),
        "--skip-git-repo-check".into(),
        "-C".into(),
        s.cwd.display().to_string(),
    ];
    if let Some(m) = &p.model {
        argv.extend(["--model".into(), m.clone()]);
    }
    let sandbox = match s.role {
        Role::Reader => "read-only",
        Role::Planner | Role::Editor => "workspace-write",
    };
    argv.extend([
        "--sandbox".into(),
        sandbox.into(),
        "-c".into(),
        "features.plugins=false".into(),
        "-c".into(),
        "allow_login_shell=false".into(),
    ]);
    let final_message = s.scratch("final-message.txt");
    let mut files = Vec::new();
    let structured = match crate::store::read_json(&s.result_schema) {
        Ok(schema) => {
            let strict = s.scratch("output-schema.json");
            files.push((strict.clone(), format!("{:#}\n", strict_schema(&schema))));
            argv.extend(["--output-schema".into(), strict.display().to_string()]);
            Some(Structured::FinalMessage {
                file: final_message.clone(),
                schema: s.result_schema.clone(),
            })
        }
        Err(_) => None,
    };
    argv.extend(["-o".into(), final_message.display().to_string()]);
    argv.extend(p.args.iter().cloned());
    argv.push("-".into());
    // The planner writes its plan (inside its working directory) and its result; the others
    // answer in their final message.
    let answer = if s.role == Role::Planner {
        Answer::File
    } else {
        Answer::FinalMessage
    };
    let mut text = prompt(s, true, answer, true);
    if s.role == Role::Editor {
        text.push_str(
            " Do not commit: .git is read-only in your sandbox, and git swarm commits your changes.",
        );
    }
    Launch {
        argv,
        stdin: Some(text),
        env: Vec::new(),
        files,
        output: Output::CodexJsonl,
        structured,
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A regular expression matching `text` literally.
fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The Gemini CLI policy (its policy engine's TOML) for one invocation: shell commands by
/// prefix (the rest denied with a message), the result file (and the plan) writable, and for
/// editors, nothing else in the run folder.
fn gemini_policy(s: &Scope) -> String {
    let mut out = String::from("# Written by git swarm for one invocation.\n");
    let rule = |out: &mut String, tool: &str, extra: &str, decision: &str, priority: u32| {
        out.push_str(&format!(
            "\n[[rule]]\ntoolName = \"{tool}\"\n{extra}decision = \"{decision}\"\npriority = {priority}\n"
        ));
    };
    if s.commands.all {
        rule(&mut out, "run_shell_command", "", "allow", 500);
    } else {
        let prefixes: Vec<String> = s.commands.allowed.iter().map(|c| toml_str(c)).collect();
        rule(
            &mut out,
            "run_shell_command",
            &format!("commandPrefix = [{}]\n", prefixes.join(", ")),
            "allow",
            500,
        );
        rule(
            &mut out,
            "run_shell_command",
            &format!(
                "denyMessage = {}\n",
                toml_str(&format!(
                    "git swarm allows only these commands: {}.",
                    s.commands.allowed.join(", ")
                ))
            ),
            "deny",
            100,
        );
    }
    let path_pattern = |p: &Path| {
        let json = serde_json::to_string(&p.display().to_string()).unwrap_or_default();
        toml_str(&format!("\"file_path\":{}", regex_literal(&json)))
    };
    let mut writable = vec![s.result.clone()];
    writable.extend(s.plan_file.clone());
    for w in &writable {
        rule(
            &mut out,
            "write_file",
            &format!("argsPattern = {}\n", path_pattern(w)),
            "allow",
            600,
        );
    }
    if s.role == Role::Editor {
        let dir = serde_json::to_string(&format!("{}/", s.run_dir.display())).unwrap_or_default();
        let dir = dir.trim_end_matches('"');
        for tool in ["write_file", "replace"] {
            rule(
                &mut out,
                tool,
                &format!(
                    "argsPattern = {}\ndenyMessage = {}\n",
                    toml_str(&format!("\"file_path\":{}", regex_literal(dir))),
                    toml_str("only your result file may be written in the run folder")
                ),
                "deny",
                550,
            );
        }
    }
    out
}

/// Gemini CLI (headless, verified with 0.61.0). Editors use `auto_edit` (edits approved), the
/// others the default mode, which offers only reading tools headless. A policy file (the
/// policy engine's TOML, `--policy`) allows the commands by prefix and denies the rest, and
/// allows writing exactly the result file (and the plan); `--include-directories` grants the
/// run folder, the schema folders and the standards folder. `--skip-trust`: headless Gemini
/// refuses an untrusted folder, and a run's worktree is new by nature. Gemini can only
/// replace its whole system prompt, so the definition leads the prompt, which is passed as
/// `-p` (Gemini reads stdin only if it arrives at once) unless it is too long for an argument.
fn gemini(p: &Profile, s: &Scope) -> Launch {
    let policy = s.scratch("gemini-policy.toml");
    let mut argv: Vec<String> = vec![
        p.program.clone(),
        "--output-format".into(),
        "json".into(),
        "--skip-trust".into(),
    ];
    if let Some(m) = &p.model {
        argv.extend(["--model".into(), m.clone()]);
    }
    argv.extend([
        "--approval-mode".into(),
        if s.role == Role::Editor {
            "auto_edit".into()
        } else {
            "default".into()
        },
        "--policy".into(),
        policy.display().to_string(),
    ]);
    for d in extra_dirs(s, true) {
        argv.extend(["--include-directories".into(), d.display().to_string()]);
    }
    argv.extend(p.args.iter().cloned());
    let text = prompt(s, true, Answer::File, false);
    // Linux limits one argument to 128 KiB.
    let stdin = if text.len() <= 96 * 1024 {
        argv.extend(["--prompt".into(), text]);
        None
    } else {
        Some(text)
    };
    // Gemini runs commands with git's global and system config hidden
    // (GIT_CONFIG_GLOBAL=/dev/null): the identity comes through the environment instead.
    let env = s
        .identity
        .iter()
        .flat_map(|(name, email)| {
            [
                ("GIT_AUTHOR_NAME".to_string(), name.clone()),
                ("GIT_AUTHOR_EMAIL".to_string(), email.clone()),
                ("GIT_COMMITTER_NAME".to_string(), name.clone()),
                ("GIT_COMMITTER_EMAIL".to_string(), email.clone()),
            ]
        })
        .collect();
    Launch {
        argv,
        stdin,
        env,
        files: vec![(policy, gemini_policy(s))],
        output: Output::GeminiJson,
        structured: None,
    }
}

/// Cursor's agent (`cursor-agent -p`; not verified: it is not distributed through a package
/// registry). In print mode it refuses writes outside its workspace and commands that are not
/// on the allowlist of its own config (`~/.cursor/cli-config.json`, `.cursor/cli.json`); no
/// flag grants either. So the agent answers with its result as its final message, which git
/// swarm writes to the result file, and commands beyond the allowlist need
/// `agents.allowAllCommands` (`--force`). The definition leads the prompt.
fn cursor(p: &Profile, s: &Scope) -> Launch {
    let mut argv: Vec<String> = vec![
        p.program.clone(),
        "--print".into(),
        "--output-format".into(),
        "json".into(),
    ];
    if let Some(m) = &p.model {
        argv.extend(["--model".into(), m.clone()]);
    }
    if s.commands.all {
        argv.push("--force".into());
    }
    argv.extend(p.args.iter().cloned());
    Launch {
        argv,
        stdin: Some(prompt(s, true, Answer::FinalMessage, false)),
        env: Vec::new(),
        files: Vec::new(),
        output: Output::CursorJson,
        structured: Some(Structured::ResultText),
    }
}

/// The text of an agent definition file without its front matter (`---` … `---`).
pub fn definition_body(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn profile(kind: ProfileKind) -> Profile {
        Profile {
            kind,
            program: kind.name().to_string(),
            args: vec!["--extra".into()],
            model: Some("m1".into()),
            env: IndexMap::from([("K".to_string(), "v".to_string())]),
        }
    }

    /// A scope like the run's: the worktree beside the workspace, the run folder inside it,
    /// schemas under the home.
    fn scope(role: Role, worker: Option<&str>) -> Scope {
        let run = PathBuf::from("/ws/.swarm/runs/r1");
        let (agent, cwd) = match role {
            Role::Planner => ("planner", PathBuf::from("/ws")),
            Role::Editor => ("implementor", PathBuf::from("/ws-swarm-x")),
            Role::Reader => ("reviewer", PathBuf::from("/ws-swarm-x")),
        };
        let stem = match worker {
            Some(w) => format!("{agent}.{w}"),
            None => agent.to_string(),
        };
        let tests = vec!["cargo test -p core".to_string()];
        Scope {
            agent: agent.into(),
            role,
            prompt: "PROMPT".into(),
            cwd: match worker {
                Some(w) if w != "w1" => PathBuf::from(format!("/ws-swarm-x--{w}")),
                _ => cwd,
            },
            run_dir: run.clone(),
            result: run.join(format!("{stem}.result.json")),
            plan_file: (role == Role::Planner).then(|| run.join("plan.json")),
            result_schema: PathBuf::from(format!(
                "/home/u/.cursor/agents/{agent}/{agent}.schema.json"
            )),
            plan_schema: (role == Role::Planner)
                .then(|| PathBuf::from("/home/u/.cursor/agents/plan/plan.schema.json")),
            standards: PathBuf::from("/ws/.swarm/standards.md"),
            definition: Some("You review.".into()),
            commands: commands(role, &tests, &["make lint".into()], false),
            scratch: run.join(format!("logs/step-0002.{stem}")),
            identity: Some(("Ann".into(), "ann@example.com".into())),
        }
    }

    fn has_pair(argv: &[String], flag: &str, value: &str) -> bool {
        argv.windows(2).any(|w| w[0] == flag && w[1] == value)
    }

    #[test]
    fn commands_follow_the_role() {
        let t = vec!["sh test.sh".to_string(), "git status".to_string()];
        let c = commands(Role::Reader, &t, &["make lint".into()], false);
        assert!(c.allowed.contains(&"git diff".to_string()));
        assert!(c.allowed.contains(&"sh test.sh".to_string()));
        assert!(c.allowed.contains(&"make lint".to_string()));
        assert!(
            !c.allowed.contains(&"git commit".to_string()),
            "readers do not commit"
        );
        assert_eq!(
            c.allowed.iter().filter(|x| *x == "git status").count(),
            1,
            "no duplicates"
        );
        let e = commands(Role::Editor, &t, &[], false);
        assert!(
            e.allowed.contains(&"git add".to_string())
                && e.allowed.contains(&"git commit".to_string())
        );
        let p = commands(Role::Planner, &t, &[], false);
        assert!(
            !p.allowed.contains(&"sh test.sh".to_string()),
            "the plan's tests come after planning"
        );
        assert!(commands(Role::Reader, &t, &[], true).all);
        // Deterministic.
        assert_eq!(c, commands(Role::Reader, &t, &["make lint".into()], false));
    }

    #[test]
    fn claude_editor_works_in_its_worktree_and_writes_only_its_result_outside() {
        let l = build(&profile(ProfileKind::Claude), &scope(Role::Editor, None));
        let a = &l.argv;
        assert_eq!(&a[..4], ["claude", "-p", "--output-format", "json"]);
        assert!(has_pair(a, "--model", "m1"));
        assert!(has_pair(a, "--permission-mode", "acceptEdits"));
        assert!(has_pair(a, "--tools", "Read,Edit,Write,Glob,Grep,Bash"));
        for rule in [
            "Read(//ws/.swarm/runs/r1/**)",
            "Read(//home/u/.cursor/agents/implementor/**)",
            "Read(//ws/.swarm/standards.md)",
            "Edit(//ws/.swarm/runs/r1/implementor.result.json)",
            "Bash(git commit:*)",
            "Bash(cargo test -p core)",
            "Bash(make lint:*)",
        ] {
            assert!(a.iter().any(|x| x == rule), "missing {rule} in {a:?}");
        }
        assert!(
            !a.iter().any(|x| x == "--add-dir"),
            "no folder-wide write access: {a:?}"
        );
        assert!(!a.iter().any(|x| x == "Bash"), "commands are limited");
        assert!(has_pair(a, "--append-system-prompt", "You review."));
        assert_eq!(
            a.last().map(String::as_str),
            Some("--extra"),
            "user args last"
        );
        assert_eq!(l.output, Output::ClaudeJson);
        let stdin = l.stdin.unwrap();
        assert!(stdin.starts_with("PROMPT\n\n"), "{stdin}");
        assert!(stdin.contains("`git commit`"), "{stdin}");
        assert_eq!(l.env, [("K".to_string(), "v".to_string())]);
    }

    #[test]
    fn claude_reader_may_write_nothing_but_its_result() {
        let l = build(&profile(ProfileKind::Claude), &scope(Role::Reader, None));
        let a = &l.argv;
        assert!(has_pair(a, "--permission-mode", "default"));
        assert!(
            has_pair(a, "--tools", "Read,Write,Glob,Grep,Bash"),
            "no Edit tool"
        );
        let edits: Vec<&String> = a.iter().filter(|x| x.starts_with("Edit(")).collect();
        assert_eq!(edits, ["Edit(//ws/.swarm/runs/r1/reviewer.result.json)"]);
        assert!(!a.iter().any(|x| x == "Bash(git commit:*)"));
        assert!(l.stdin.unwrap().contains("Do not change any file"));
    }

    #[test]
    fn claude_planner_writes_the_plan_and_reads_both_schemas() {
        let s = scope(Role::Planner, None);
        let l = build(&profile(ProfileKind::Claude), &s);
        let a = &l.argv;
        for rule in [
            "Read(//home/u/.cursor/agents/planner/**)",
            "Read(//home/u/.cursor/agents/plan/**)",
            "Edit(//ws/.swarm/runs/r1/plan.json)",
            "Edit(//ws/.swarm/runs/r1/planner.result.json)",
        ] {
            assert!(a.iter().any(|x| x == rule), "missing {rule} in {a:?}");
        }
        // The run folder and standards are inside the planner's cwd (the workspace).
        assert!(
            !a.iter().any(|x| x == "Read(//ws/.swarm/runs/r1/**)"),
            "{a:?}"
        );
    }

    #[test]
    fn claude_worker_gets_its_own_result_only() {
        let l = build(
            &profile(ProfileKind::Claude),
            &scope(Role::Editor, Some("w2")),
        );
        let edits: Vec<&String> = l.argv.iter().filter(|x| x.starts_with("Edit(")).collect();
        assert_eq!(
            edits,
            ["Edit(//ws/.swarm/runs/r1/implementor.w2.result.json)"]
        );
    }

    #[test]
    fn allow_all_commands_lifts_the_limit() {
        let mut s = scope(Role::Editor, None);
        s.commands.all = true;
        let l = build(&profile(ProfileKind::Claude), &s);
        assert!(l.argv.iter().any(|x| x == "Bash"));
        assert!(!l.argv.iter().any(|x| x.starts_with("Bash(")));
        assert!(l.stdin.unwrap().contains("You may run any command."));
    }

    #[test]
    fn codex_editor_answers_in_its_final_message_and_cannot_write_outside() {
        let s = scope(Role::Editor, None);
        let l = build(&profile(ProfileKind::Codex), &s);
        let a = &l.argv;
        assert_eq!(
            &a[..4],
            ["codex", "exec", "--json", "--skip-git-repo-check"]
        );
        assert!(has_pair(a, "-C", "/ws-swarm-x"));
        assert!(has_pair(a, "--model", "m1"));
        assert!(has_pair(a, "--sandbox", "workspace-write"));
        assert!(
            !a.iter().any(|x| x == "--add-dir"),
            "nothing writable outside: {a:?}"
        );
        assert!(has_pair(a, "-c", "features.plugins=false"));
        assert!(has_pair(a, "-c", "allow_login_shell=false"));
        assert!(has_pair(
            a,
            "-o",
            "/ws/.swarm/runs/r1/logs/step-0002.implementor.final-message.txt"
        ));
        assert_eq!(
            a[a.len() - 2..],
            ["--extra", "-"],
            "user args, then the prompt on stdin"
        );
        // No schema file in this scope: no --output-schema and nothing to take a result from.
        assert_eq!(l.structured, None);
        assert!(!a.iter().any(|x| x == "--output-schema"));
        let stdin = l.stdin.unwrap();
        assert!(
            stdin.starts_with("# Your role\n\nYou review.\n\n# Your task\n\nPROMPT"),
            "{stdin}"
        );
        assert!(
            stdin.contains("end your turn with your result as your final message"),
            "{stdin}"
        );
        assert!(stdin.contains("Do not commit"), "{stdin}");
        assert!(!stdin.contains("`git commit`"), "{stdin}");
    }

    #[test]
    fn codex_reader_is_read_only_and_the_planner_writes_in_its_workspace() {
        let l = build(&profile(ProfileKind::Codex), &scope(Role::Reader, None));
        assert!(has_pair(&l.argv, "--sandbox", "read-only"));
        let l = build(&profile(ProfileKind::Codex), &scope(Role::Planner, None));
        assert!(has_pair(&l.argv, "--sandbox", "workspace-write"));
        assert!(has_pair(&l.argv, "-C", "/ws"));
        assert!(l.stdin.unwrap().contains(
            "write only /ws/.swarm/runs/r1/plan.json and /ws/.swarm/runs/r1/planner.result.json"
        ));
    }

    #[test]
    fn codex_gets_the_strict_form_of_a_real_schema() {
        let dir = tempfile::tempdir().unwrap();
        let schema = dir.path().join("implementor.schema.json");
        std::fs::write(&schema, crate::schema::embedded::IMPLEMENTOR_RESULT).unwrap();
        let mut s = scope(Role::Editor, None);
        s.result_schema = schema.clone();
        let l = build(&profile(ProfileKind::Codex), &s);
        let strict = s.scratch("output-schema.json");
        assert!(has_pair(
            &l.argv,
            "--output-schema",
            &strict.display().to_string()
        ));
        assert_eq!(l.files.len(), 1);
        assert_eq!(l.files[0].0, strict);
        let v: serde_json::Value = serde_json::from_str(&l.files[0].1).unwrap();
        assert_eq!(v["additionalProperties"], false);
        assert!(v.get("$schema").is_none());
        let props = v["properties"].as_object().unwrap();
        let req: Vec<&str> = v["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(req.len(), props.len(), "every property required: {v}");
        assert_eq!(
            l.structured,
            Some(Structured::FinalMessage {
                file: s.scratch("final-message.txt"),
                schema
            })
        );
    }

    #[test]
    fn strict_schemas_make_optional_properties_nullable_and_answers_lose_those_nulls() {
        let original = serde_json::json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"enum": ["passed", "failed"]},
                "notes": {"type": "string"},
                "why": {"type": ["string", "null"]},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "issues": {"type": "array", "items": {"type": "object", "required": ["d"],
                    "properties": {"d": {"type": "string"}, "line": {"type": "integer"}}}},
                "free": {"type": "object"}
            }
        });
        let strict = strict_schema(&original);
        assert_eq!(
            strict["properties"]["notes"]["type"],
            serde_json::json!(["string", "null"])
        );
        assert_eq!(
            strict["properties"]["mode"]["enum"],
            serde_json::json!(["a", "b", null])
        );
        assert_eq!(
            strict["properties"]["status"],
            serde_json::json!({"enum": ["passed", "failed"]})
        );
        let item = &strict["properties"]["issues"]["items"];
        assert_eq!(item["additionalProperties"], false);
        assert_eq!(item["required"], serde_json::json!(["d", "line"]));
        assert_eq!(strict["properties"]["free"]["additionalProperties"], false);
        assert_eq!(
            strict["properties"]["free"]["type"],
            serde_json::json!(["object", "null"])
        );
        let mut answer = serde_json::json!({
            "status": "passed", "notes": null, "why": null, "mode": null, "free": null,
            "issues": [{"d": "x", "line": null}]
        });
        drop_strict_nulls(&mut answer, &original);
        assert_eq!(
            answer,
            serde_json::json!({"status": "passed", "why": null, "issues": [{"d": "x"}]})
        );
    }

    #[test]
    fn gemini_policy_allows_commands_by_prefix_and_exactly_the_result() {
        let s = scope(Role::Reader, None);
        let l = build(&profile(ProfileKind::Gemini), &s);
        let a = &l.argv;
        assert_eq!(
            &a[..4],
            ["gemini", "--output-format", "json", "--skip-trust"]
        );
        assert!(has_pair(a, "--approval-mode", "default"));
        let policy = s.scratch("gemini-policy.toml");
        assert!(has_pair(a, "--policy", &policy.display().to_string()));
        for d in [
            "/ws/.swarm/runs/r1",
            "/home/u/.cursor/agents/reviewer",
            "/ws/.swarm",
        ] {
            // The run folder is inside the standards folder: one grant covers both.
            if d == "/ws/.swarm/runs/r1" {
                continue;
            }
            assert!(has_pair(a, "--include-directories", d), "{d} in {a:?}");
        }
        assert!(
            a.iter().any(|x| x == "--prompt"),
            "a short prompt is an argument"
        );
        assert_eq!(l.stdin, None);
        let (path, text) = &l.files[0];
        assert_eq!(path, &policy);
        assert!(text.contains("commandPrefix = [\"git status\""), "{text}");
        assert!(text.contains("\"cargo test -p core\""), "{text}");
        assert!(
            text.contains("decision = \"deny\"\npriority = 100"),
            "{text}"
        );
        assert!(
            text.contains("argsPattern = \"\\\"file_path\\\":\\\"/ws/\\\\.swarm/runs/r1/reviewer\\\\.result\\\\.json\\\"\""),
            "{text}"
        );
        assert!(
            !text.contains("toolName = \"replace\""),
            "readers do not edit: {text}"
        );
        assert_eq!(
            l.env,
            [
                ("GIT_AUTHOR_NAME".to_string(), "Ann".to_string()),
                (
                    "GIT_AUTHOR_EMAIL".to_string(),
                    "ann@example.com".to_string()
                ),
                ("GIT_COMMITTER_NAME".to_string(), "Ann".to_string()),
                (
                    "GIT_COMMITTER_EMAIL".to_string(),
                    "ann@example.com".to_string()
                ),
                ("K".to_string(), "v".to_string()),
            ]
        );
        let e = build(&profile(ProfileKind::Gemini), &scope(Role::Editor, None));
        assert!(has_pair(&e.argv, "--approval-mode", "auto_edit"));
        assert!(
            e.files[0]
                .1
                .contains("only your result file may be written in the run folder")
        );
    }

    #[test]
    fn a_long_prompt_goes_to_geminis_stdin() {
        let mut s = scope(Role::Reader, None);
        s.prompt = "x".repeat(200 * 1024);
        let l = build(&profile(ProfileKind::Gemini), &s);
        assert!(!l.argv.iter().any(|x| x == "--prompt"));
        assert!(l.stdin.unwrap().len() > 200 * 1024);
    }

    #[test]
    fn cursor_answers_in_its_final_message() {
        let l = build(
            &profile(ProfileKind::CursorAgent),
            &scope(Role::Editor, None),
        );
        assert_eq!(
            &l.argv[..4],
            ["cursor-agent", "--print", "--output-format", "json"]
        );
        assert!(!l.argv.iter().any(|x| x == "--force"));
        assert_eq!(l.structured, Some(Structured::ResultText));
        assert!(
            l.stdin
                .unwrap()
                .contains("end your turn with your result as your final message")
        );
        let mut s = scope(Role::Editor, None);
        s.commands.all = true;
        assert!(
            build(&profile(ProfileKind::CursorAgent), &s)
                .argv
                .iter()
                .any(|x| x == "--force")
        );
    }

    #[test]
    fn definitions_lose_their_front_matter() {
        assert_eq!(
            definition_body("---\nname: x\ndescription: y\n---\n\nDo it.\n"),
            "Do it."
        );
        assert_eq!(definition_body("Plain text.\n"), "Plain text.");
    }
}
