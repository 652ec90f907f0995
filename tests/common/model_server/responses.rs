//! The OpenAI Responses API (`POST /v1/responses`, streamed) as the Codex CLI speaks it.
//!
//! Codex 0.171 offers different tools depending on the model name (it looks the name up in its
//! built-in model catalog), so this module uses whichever of Codex's own tools the request offers:
//!
//! * unknown models and the gpt-5 family up to gpt-5.2: the `exec_command` function (run a
//!   command, `{"cmd": …}`), no patch tool;
//! * `gpt-5.5`: `exec_command` plus the freeform (custom) `apply_patch` tool;
//! * the gpt-6 family ("code mode", the default model when none is configured): one freeform
//!   `exec` tool that runs JavaScript, with the real tools nested as `tools.exec_command(…)` and
//!   `tools.apply_patch(…)`; these requests carry their tools in an `additional_tools` input
//!   item instead of the top-level `tools` array.
//!
//! The older `shell` / `shell_command` functions and an `apply_patch` function are understood
//! too. [`Call::Write`] becomes an `apply_patch` "Add File" patch when a patch tool is offered
//! (Add File replaces an existing file) and a `printf` command line otherwise; [`Call::Read`]
//! becomes `cat`. Earlier calls found in the request are mapped back to the [`Call`] the script
//! asked for, because every call in the conversation came from this module.
//!
//! What the script sees in [`Turn`]:
//! * `system`: the top-level `instructions` (absent in 0.171) followed by the text of every
//!   `developer` message (Codex's base instructions, `developer_instructions`, skills, …).
//! * `prompt`: the text of the first user message that Codex did not generate itself; Codex adds
//!   user messages holding `<environment_context>…`, AGENTS.md contents (`# AGENTS.md
//!   instructions for …`) and similar, which are skipped.
//! * `tools`: the offered tool names. Tools in a namespace are `namespace.name`, except for the
//!   default `functions` namespace; tools without a name (`web_search`) appear as their type;
//!   in code mode the tools nested in `exec` appear as `exec.<name>` (e.g. `exec.apply_patch`).
//! * `done`: every earlier tool call paired with its output, in order. Calls this module did not
//!   make are reported as [`Call::Bash`] with the tool name and its raw arguments.
//!
//! Usage: OpenAI reports cached input as a part of `input_tokens`, and Codex passes that
//! through (its `turn.completed` has `input_tokens` and, within it, `cached_input_tokens`). So
//! `input_tokens` = `USAGE.input + cache_read + cache_creation`, `cached_tokens` =
//! `cache_read` and `cache_write_tokens` = `cache_creation`: a tool that adds input and output
//! tokens counts the same total for a response here as for one from the Anthropic module.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value, json};

use super::{Api, Call, Outcome, Reply, Request, Response, State, Turn, USAGE, Usage};

/// Generous enough for a test's commands, below the 30 s Codex allows: a command still running
/// after this comes back without an exit code (and the script sees `is_error`).
const YIELD_MS: u64 = 30_000;

/// Routes one request that is not for the Anthropic API.
pub fn handle(req: &Request, st: &State) -> Response {
    let path = req.path.split('?').next().unwrap_or_default();
    match (req.method.as_str(), path) {
        ("POST", "/v1/responses") => responses(req, st),
        // Not called by Codex 0.171 with a custom provider; answered in case a version asks.
        ("GET", "/v1/models") => Response::json(200, &json!({"object": "list", "data": []})),
        _ => error(404, "not_found", &format!("no route for {} {path}", req.method)),
    }
}

/// An OpenAI-style error body. Codex does not retry 4xx answers other than 429, so a test fails
/// fast on them.
fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({"error": {"message": message, "type": "invalid_request_error", "code": code}}),
    )
}

fn responses(req: &Request, st: &State) -> Response {
    let Some(body) = req.json() else {
        return error(
            400,
            "invalid_json",
            "request body is not JSON (compressed bodies are not supported)",
        );
    };
    if let Some(message) = strict_schema_error(&body) {
        return Response::json(
            400,
            &json!({"error": {"message": message, "type": "invalid_request_error",
                "param": "text.format.schema", "code": "invalid_json_schema"}}),
        );
    }
    let tools = Tools::offered(&body);
    let turn = Turn {
        api: Api::Responses,
        model: str_at(&body, "model").to_string(),
        system: system(&body),
        prompt: prompt(&body),
        tools: tools.names.clone(),
        done: done(&body),
        body: body.clone(),
    };
    // A panicking script would otherwise drop the connection, which Codex retries; a 400 ends
    // the run at once with the message in Codex's output.
    let reply = match catch_unwind(AssertUnwindSafe(|| (st.script)(&turn))) {
        Ok(reply) => reply,
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            return error(400, "script_panicked", &format!("script panicked: {why}"));
        }
    };
    let items = match reply {
        Reply::Final(text) => vec![message(st, &text)],
        Reply::Calls(calls) => calls.iter().map(|c| tools.call(st, c)).collect(),
    };
    st.served
        .lock()
        .expect("served lock poisoned by a panicking test thread")
        .push((Api::Responses, USAGE));
    Response::sse(stream(st, &turn.model, &items, USAGE))
}

/// What the real API says about a strict `text.format` schema (Codex sends `--output-schema`
/// as `{"type": "json_schema", "strict": true, "name": "codex_output_schema", "schema": …}`
/// without checking it). Only the two rules that are certain are enforced: every object has
/// `additionalProperties: false` and lists every property in `required`. Keywords the real
/// API may also refuse (`allOf`, `minLength`, …) are let through.
fn strict_schema_error(body: &Value) -> Option<String> {
    let format = body.get("text")?.get("format")?;
    if str_at(format, "type") != "json_schema" || format.get("strict") != Some(&json!(true)) {
        return None;
    }
    let problem = schema_problem(format.get("schema")?, &mut Vec::new())?;
    Some(format!(
        "Invalid schema for response_format '{}': {problem}",
        str_at(format, "name")
    ))
}

/// The first strict-mode violation in `schema`, in the real API's words; `at` is the path to
/// it (the API's "context").
fn schema_problem(schema: &Value, at: &mut Vec<String>) -> Option<String> {
    let context = |at: &[String]| {
        let quoted: Vec<String> = at.iter().map(|k| format!("'{k}'")).collect();
        match quoted.len() {
            1 => format!("In context=({},)", quoted[0]),
            _ => format!("In context=({})", quoted.join(", ")),
        }
    };
    match schema {
        Value::Object(o) => {
            let properties = o.get("properties").and_then(Value::as_object);
            if str_at(schema, "type") == "object" || properties.is_some() {
                if o.get("additionalProperties") != Some(&Value::Bool(false)) {
                    return Some(format!(
                        "{}, 'additionalProperties' is required to be supplied and to be false.",
                        context(at)
                    ));
                }
                let required: Vec<&str> = o
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if let Some(missing) = properties
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                    .find(|k| !required.contains(&k.as_str()))
                {
                    return Some(format!(
                        "{}, 'required' is required to be supplied and to be an array including \
                         every key in properties. Missing '{missing}'.",
                        context(at)
                    ));
                }
            }
            o.iter().find_map(|(k, v)| {
                at.push(k.clone());
                let found = schema_problem(v, at);
                at.pop();
                found
            })
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            at.push(i.to_string());
            let found = schema_problem(v, at);
            at.pop();
            found
        }),
        _ => None,
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The text of a message's content, which is a string or a list of `input_text`/`output_text`
/// parts.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn input(body: &Value) -> &[Value] {
    body.get("input")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The texts of the input messages with this role.
fn messages<'a>(body: &'a Value, role: &'a str) -> impl Iterator<Item = String> + 'a {
    input(body)
        .iter()
        .filter(move |i| {
            str_at(i, "role") == role && matches!(str_at(i, "type"), "message" | "")
        })
        .map(|i| text_of(&i["content"]))
}

fn system(body: &Value) -> String {
    let instructions = str_at(body, "instructions");
    std::iter::once(instructions.to_string())
        .filter(|s| !s.is_empty())
        .chain(messages(body, "developer"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Whether Codex wrote this user message itself (context, not the task).
fn generated(text: &str) -> bool {
    const TAGS: &[&str] = &[
        "environment_context",
        "user_instructions",
        "skills_instructions",
        "user_shell_command",
        "turn_aborted",
        "subagent_notification",
        "INSTRUCTIONS",
    ];
    let t = text.trim_start();
    t.starts_with("# AGENTS.md instructions for ")
        || TAGS.iter().any(|tag| {
            t.strip_prefix('<')
                .and_then(|r| r.strip_prefix(tag))
                .is_some_and(|r| r.starts_with(['>', ' ', '\n']))
        })
}

fn prompt(body: &Value) -> String {
    let users: Vec<String> = messages(body, "user").collect();
    users
        .iter()
        .find(|t| !generated(t))
        .or(users.last())
        .cloned()
        .unwrap_or_default()
}

/// The tools a request offers, and how to call them.
struct Tools {
    names: Vec<String>,
    /// How to run a command line.
    shell: Shell,
    /// How to apply a patch, if any patch tool is offered.
    patch: Option<Patch>,
}

#[derive(Clone, Copy, PartialEq)]
enum Shell {
    /// `exec_command {"cmd": "…"}` (unified exec, the default since 0.5x).
    ExecCommand,
    /// `shell_command {"command": "…"}`.
    ShellCommand,
    /// `shell {"command": ["bash", "-lc", "…"]}` (the original tool).
    ShellArgv,
    /// JavaScript for the `exec` code-mode tool calling `tools.exec_command`.
    CodeMode,
}

#[derive(Clone, Copy, PartialEq)]
enum Patch {
    /// The freeform `apply_patch` tool: the patch is the raw input.
    Custom,
    /// The `apply_patch` function: `{"input": "<patch>"}`.
    Function,
    /// `tools.apply_patch("<patch>")` inside a code-mode `exec` call.
    CodeMode,
}

impl Tools {
    fn offered(body: &Value) -> Tools {
        let additional = input(body)
            .iter()
            .filter(|i| str_at(i, "type") == "additional_tools")
            .filter_map(|i| i.get("tools").and_then(Value::as_array));
        let mut names = Vec::new();
        let mut exec_description = None;
        for tools in body.get("tools").and_then(Value::as_array).into_iter().chain(additional) {
            for t in tools {
                collect(t, None, &mut names, &mut exec_description);
            }
        }
        let nested = exec_description.map(nested_tools).unwrap_or_default();
        names.extend(nested.iter().map(|n| format!("exec.{n}")));
        let has = |n: &str| names.iter().any(|x| x == n);
        let shell = if has("exec_command") {
            Shell::ExecCommand
        } else if has("shell_command") {
            Shell::ShellCommand
        } else if has("shell") {
            Shell::ShellArgv
        } else if has("exec") {
            Shell::CodeMode
        } else {
            // Nothing to run commands with: use the default tool and let Codex report it.
            Shell::ExecCommand
        };
        let patch = if has("apply_patch") {
            // Whether it is freeform or a function was noted while collecting.
            Some(if has("apply_patch#function") {
                Patch::Function
            } else {
                Patch::Custom
            })
        } else if shell == Shell::CodeMode && has("exec.apply_patch") {
            Some(Patch::CodeMode)
        } else {
            None
        };
        names.retain(|n| n != "apply_patch#function");
        Tools {
            names,
            shell,
            patch,
        }
    }

    /// The output item that makes Codex perform `call`.
    fn call(&self, st: &State, call: &Call) -> Value {
        match call {
            Call::Write { path, content } => match self.patch {
                Some(how) => {
                    let patch = add_file_patch(path, content);
                    match how {
                        Patch::Custom => custom_call(st, "apply_patch", &patch),
                        Patch::Function => {
                            function_call(st, "apply_patch", &json!({"input": patch}))
                        }
                        Patch::CodeMode => custom_call(st, "exec", &js_patch(&patch)),
                    }
                }
                None => self.run(st, &write_command(path, content)),
            },
            Call::Bash { command } => self.run(st, command),
            Call::Read { path } => self.run(st, &format!("cat -- {}", quote(path))),
        }
    }

    fn run(&self, st: &State, command: &str) -> Value {
        match self.shell {
            Shell::ExecCommand => function_call(
                st,
                "exec_command",
                &json!({"cmd": command, "yield_time_ms": YIELD_MS}),
            ),
            Shell::ShellCommand => function_call(st, "shell_command", &json!({"command": command})),
            Shell::ShellArgv => {
                function_call(st, "shell", &json!({"command": ["bash", "-lc", command]}))
            }
            Shell::CodeMode => custom_call(st, "exec", &js_command(command)),
        }
    }
}

/// Adds the names of one offered tool (recursing into namespaces) and remembers the description
/// of the code-mode `exec` tool, which declares the nested tools.
fn collect<'a>(
    t: &'a Value,
    namespace: Option<&str>,
    names: &mut Vec<String>,
    exec_description: &mut Option<&'a str>,
) {
    let kind = str_at(t, "type");
    let name = str_at(t, "name");
    if kind == "namespace" {
        let ns = (name != "functions").then_some(name);
        for inner in t.get("tools").and_then(Value::as_array).into_iter().flatten() {
            collect(inner, ns, names, exec_description);
        }
        return;
    }
    if name.is_empty() {
        names.push(kind.to_string());
        return;
    }
    match namespace {
        Some(ns) => names.push(format!("{ns}.{name}")),
        None => {
            names.push(name.to_string());
            if name == "exec" && kind == "custom" {
                *exec_description = t.get("description").and_then(Value::as_str);
            }
            if name == "apply_patch" && kind == "function" {
                names.push("apply_patch#function".into());
            }
        }
    }
}

/// The tools declared in the code-mode description: `declare const tools: { NAME(…`.
fn nested_tools(description: &str) -> Vec<String> {
    const DECL: &str = "declare const tools: { ";
    description
        .match_indices(DECL)
        .filter_map(|(i, _)| {
            let rest = &description[i + DECL.len()..];
            let name = &rest[..rest.find('(')?];
            (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .then(|| name.to_string())
        })
        .collect()
}

/// An apply_patch patch that creates (or replaces) one file. The format has no way to say
/// "no newline at end of file", so the file always ends with one.
fn add_file_patch(path: &str, content: &str) -> String {
    let mut patch = format!("*** Begin Patch\n*** Add File: {path}\n");
    for line in content.lines() {
        patch.push('+');
        patch.push_str(line);
        patch.push('\n');
    }
    patch.push_str("*** End Patch");
    patch
}

/// The file an "Add File"-only patch with one file creates, as the [`Call::Write`] it came from.
fn parse_add_file(patch: &str) -> Option<Call> {
    let body = patch
        .trim()
        .strip_prefix("*** Begin Patch\n")?
        .strip_suffix("*** End Patch")?;
    let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
    let path = first.strip_prefix("*** Add File: ")?;
    let mut content = String::new();
    for line in rest.lines() {
        content.push_str(line.strip_prefix('+')?);
        content.push('\n');
    }
    Some(Call::Write {
        path: path.to_string(),
        content,
    })
}

/// A POSIX shell word for `s`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes a file exactly (no added newline) with the shell, for when no patch tool is offered.
fn write_command(path: &str, content: &str) -> String {
    let write = format!("printf '%s' {} > {}", quote(content), quote(path));
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            format!("mkdir -p -- {} && {write}", quote(&dir.to_string_lossy()))
        }
        _ => write,
    }
}

/// Splits a command line made by [`write_command`] or [`Tools::call`] into words: plain words
/// and single-quoted strings only; anything else (`$`, double quotes, …) gives `None`.
fn words(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(cur.take()),
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '\\' => cur.get_or_insert_with(String::new).push(chars.next()?),
            '"' | '$' | '`' | '\n' | '\t' | ';' | '|' | '(' | ')' | '<' | '*' | '?' => {
                return None;
            }
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    Some(words)
}

/// The [`Call`] a command line stands for: one this module generated for a write or a read, or
/// else the command itself.
fn command_call(command: &str) -> Call {
    let w = words(command).unwrap_or_default();
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    let write = match w.as_slice() {
        ["mkdir", "-p", "--", _, "&&", rest @ ..] => rest,
        rest => rest,
    };
    match (write, w.as_slice()) {
        (["printf", "%s", content, ">", path], _) => Call::Write {
            path: path.to_string(),
            content: content.to_string(),
        },
        (_, ["cat", "--", path]) => Call::Read {
            path: path.to_string(),
        },
        _ => Call::Bash {
            command: command.to_string(),
        },
    }
}

/// A JavaScript string literal (JSON strings are valid JavaScript).
fn js_str(s: &str) -> String {
    Value::from(s).to_string()
}

/// Code mode: run one command and print `{"exit_code": …, "output": …}`, so that the outcome
/// can be read back exactly ([`outcome_of`]). A rejected call throws; that is printed the same
/// way with no exit code.
fn js_command(command: &str) -> String {
    let args = json!({"cmd": command, "yield_time_ms": YIELD_MS});
    js_report(&format!(
        "const r = await tools.exec_command({args});\n\
         text(JSON.stringify({{exit_code: r.exit_code, output: r.output}}));\n"
    ))
}

/// Code mode: apply a patch. `tools.apply_patch` resolves to `{}` on success and throws with
/// Codex's message ("patch rejected: …") on failure.
fn js_patch(patch: &str) -> String {
    js_report(&format!(
        "await tools.apply_patch({});\n\
         text(JSON.stringify({{exit_code: 0, output: \"\"}}));\n",
        js_str(patch)
    ))
}

fn js_report(body: &str) -> String {
    format!("try {{\n{body}}} catch (e) {{\n  text(JSON.stringify({{output: String(e)}}));\n}}\n")
}

/// The first JSON value after `marker` in JavaScript source this module generated.
fn js_arg(code: &str, marker: &str) -> Option<Value> {
    let at = code.find(marker)? + marker.len();
    serde_json::Deserializer::from_str(&code[at..])
        .into_iter::<Value>()
        .next()?
        .ok()
}

/// The [`Call`] behind a tool call item's name and arguments (or freeform input).
fn call_of(name: &str, args: &str) -> Call {
    let json: Option<Value> = serde_json::from_str(args).ok();
    let field = |k: &str| json.as_ref().and_then(|j| j.get(k));
    let other = || Call::Bash {
        command: format!("{name} {args}"),
    };
    match name {
        "exec_command" | "shell_command" => {
            match field("cmd").or(field("command")).and_then(Value::as_str) {
                Some(cmd) => command_call(cmd),
                None => other(),
            }
        }
        "shell" => match field("command").and_then(Value::as_array) {
            Some(argv) => {
                let argv: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
                match argv.as_slice() {
                    [sh, flag, cmd] if sh.ends_with("sh") && flag.starts_with('-') => {
                        command_call(cmd)
                    }
                    _ => Call::Bash {
                        command: argv.join(" "),
                    },
                }
            }
            None => other(),
        },
        "apply_patch" => {
            let patch = match field("input").or(field("patch")) {
                Some(Value::String(p)) => p.as_str(),
                _ => args,
            };
            patch_call(patch)
        }
        "exec" => {
            if let Some(cmd) = js_arg(args, "tools.exec_command(")
                .as_ref()
                .and_then(|a| a.get("cmd"))
                .and_then(Value::as_str)
            {
                command_call(cmd)
            } else if let Some(Value::String(patch)) = js_arg(args, "tools.apply_patch(") {
                patch_call(&patch)
            } else {
                other()
            }
        }
        _ => other(),
    }
}

/// A patch as a [`Call`]: the write it stands for, or else the way Codex itself shows a patch
/// run through the shell.
fn patch_call(patch: &str) -> Call {
    parse_add_file(patch).unwrap_or_else(|| Call::Bash {
        command: format!("apply_patch <<'EOF'\n{patch}\nEOF"),
    })
}

/// What a tool's output says: the text the script sees, and whether it failed.
fn outcome_of(name: &str, output: &Value) -> (String, bool) {
    let text = text_of(output);
    if name == "exec" {
        // Code mode: Codex puts "Script completed\nWall time …\nOutput:\n" in front of what
        // the script printed, which is the JSON our code printed (see `js_report`).
        let printed = text.find("{\"").and_then(|i| {
            serde_json::Deserializer::from_str(&text[i..])
                .into_iter::<Value>()
                .next()?
                .ok()
        });
        if let Some(r) = printed.filter(|r| r.get("output").is_some()) {
            let code = r.get("exit_code").and_then(Value::as_i64);
            return (str_at(&r, "output").to_string(), code != Some(0));
        }
    }
    exec_output(&text)
}

/// The output inside Codex's report of a command or patch (`Process exited with code N` or
/// `Exit code: N`, then `Output:\n<output>`), and whether it failed. Text without an exit code
/// (a patch Codex rejected: "patch rejected: …") is returned whole, as an error.
fn exec_output(text: &str) -> (String, bool) {
    let code = ["Process exited with code ", "Exit code: "]
        .iter()
        .find_map(|marker| text.split_once(marker))
        .and_then(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit() && c != '-')
                .next()?
                .parse::<i64>()
                .ok()
        });
    match (code, text.split_once("Output:\n")) {
        (Some(code), Some((_, output))) => (output.to_string(), code != 0),
        _ => (text.to_string(), true),
    }
}

/// Every earlier tool call in the input with its output, in call order.
fn done(body: &Value) -> Vec<Outcome> {
    let items = input(body);
    let output_for = |call_id: &str| {
        items.iter().find(|i| {
            matches!(
                str_at(i, "type"),
                "function_call_output" | "custom_tool_call_output"
            ) && str_at(i, "call_id") == call_id
        })
    };
    items
        .iter()
        .filter_map(|item| {
            let (name, args) = match str_at(item, "type") {
                "function_call" => (str_at(item, "name"), str_at(item, "arguments")),
                "custom_tool_call" => (str_at(item, "name"), str_at(item, "input")),
                _ => return None,
            };
            let call = call_of(name, args);
            let (output, is_error) = match output_for(str_at(item, "call_id")) {
                Some(out) => outcome_of(name, &out["output"]),
                None => (String::new(), true),
            };
            Some(Outcome {
                call,
                output,
                is_error,
            })
        })
        .collect()
}

fn function_call(st: &State, name: &str, args: &Value) -> Value {
    json!({
        "type": "function_call",
        "id": st.id("fc_"),
        "call_id": st.id("call_"),
        "name": name,
        "arguments": args.to_string(),
        "status": "completed",
    })
}

fn custom_call(st: &State, name: &str, input: &str) -> Value {
    json!({
        "type": "custom_tool_call",
        "id": st.id("ctc_"),
        "call_id": st.id("call_"),
        "name": name,
        "input": input,
        "status": "completed",
    })
}

fn message(st: &State, text: &str) -> Value {
    json!({
        "type": "message",
        "id": st.id("msg_"),
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    })
}

fn usage_json(u: Usage) -> Value {
    let input = u.input + u.cache_read + u.cache_creation;
    json!({
        "input_tokens": input,
        "input_tokens_details": {
            "cached_tokens": u.cache_read,
            "cache_write_tokens": u.cache_creation,
        },
        "output_tokens": u.output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input + u.output,
    })
}

/// The server-sent events of a streamed response with these output items, in the order the
/// real API sends them (each item is announced, its text or arguments streamed as one delta,
/// then completed).
fn stream(st: &State, model: &str, items: &[Value], usage: Usage) -> String {
    let id = st.id("resp_");
    let mut out = String::new();
    let mut seq = 0u64;
    let mut event = |mut data: Value| {
        data["sequence_number"] = json!(seq);
        seq += 1;
        out.push_str(&format!("event: {}\ndata: {data}\n\n", str_at(&data, "type")));
    };
    let response = |status: &str, output: &[Value], usage: Option<Value>| {
        json!({
            "id": id,
            "object": "response",
            "created_at": 0,
            "status": status,
            "model": model,
            "output": output,
            "usage": usage,
        })
    };
    event(json!({"type": "response.created", "response": response("in_progress", &[], None)}));
    event(json!({"type": "response.in_progress", "response": response("in_progress", &[], None)}));
    for (index, item) in items.iter().enumerate() {
        let item_id = str_at(item, "id");
        let mut added = item.clone();
        added["status"] = json!("in_progress");
        match str_at(item, "type") {
            "message" => added["content"] = json!([]),
            "function_call" => added["arguments"] = json!(""),
            _ => added["input"] = json!(""),
        }
        event(json!({"type": "response.output_item.added", "output_index": index, "item": added}));
        let at = json!({"item_id": item_id, "output_index": index});
        let with = |mut v: Value| {
            for (k, x) in at.as_object().into_iter().flatten() {
                v[k] = x.clone();
            }
            v
        };
        match str_at(item, "type") {
            "message" => {
                let text = item["content"][0]["text"].clone();
                let part = json!({"type": "output_text", "text": "", "annotations": []});
                let done_part = json!({"type": "output_text", "text": text, "annotations": []});
                event(with(json!({"type": "response.content_part.added",
                    "content_index": 0, "part": part})));
                event(with(json!({"type": "response.output_text.delta",
                    "content_index": 0, "delta": text})));
                event(with(json!({"type": "response.output_text.done",
                    "content_index": 0, "text": text})));
                event(with(json!({"type": "response.content_part.done",
                    "content_index": 0, "part": done_part})));
            }
            "function_call" => {
                let args = item["arguments"].clone();
                event(with(json!({"type": "response.function_call_arguments.delta",
                    "delta": args})));
                event(with(json!({"type": "response.function_call_arguments.done",
                    "arguments": args})));
            }
            _ => {
                let input = item["input"].clone();
                event(with(json!({"type": "response.custom_tool_call_input.delta",
                    "delta": input})));
                event(with(json!({"type": "response.custom_tool_call_input.done",
                    "input": input})));
            }
        }
        event(json!({"type": "response.output_item.done", "output_index": index, "item": item}));
    }
    event(json!({
        "type": "response.completed",
        "response": response("completed", items, Some(usage_json(usage))),
    }));
    out
}
