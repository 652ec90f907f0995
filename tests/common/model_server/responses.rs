//! The OpenAI Responses API (`POST /v1/responses`, streamed) as the Codex CLI speaks it.
//!
//! Codex 0.171 offers different tools depending on the model name (it looks the name up in its
//! built-in model catalog), so calls are made with whichever of Codex's own tools the request
//! offers:
//!
//! * unknown names and the gpt-5 family up to gpt-5.2: the `exec_command` function
//!   (`{"cmd": …}`) and no patch tool;
//! * `gpt-5.5`: `exec_command` and the freeform (custom) `apply_patch` tool;
//! * the gpt-6 family (the default model when none is configured): "code mode", one freeform
//!   `exec` tool that runs JavaScript, with the real tools nested as `tools.exec_command(…)` and
//!   `tools.apply_patch(…)`; these requests carry their tools in an `additional_tools` input item
//!   instead of the top-level `tools` array.
//!
//! The older `shell` and `shell_command` functions and an `apply_patch` function are understood
//! too. [`Call::Write`] becomes an `apply_patch` "Add File" patch when a patch tool is offered
//! (Add File replaces an existing file; the format cannot leave out the final newline, so the
//! file always ends with one) and an exact `printf` command otherwise; [`Call::Read`] becomes
//! `cat`; [`Call::Bash`] runs the command line as it is.
//!
//! What the script sees in [`Turn`]:
//! * `system`: the top-level `instructions` (which 0.171 does not send) and the text of every
//!   `developer` message: Codex's base instructions (replaced by `-c instructions=…` or
//!   `model_instructions_file`), `developer_instructions`, permissions, skills.
//! * `prompt`: the user's own text, i.e. the first user message with parts Codex did not write
//!   itself; Codex adds `<environment_context>…` and the AGENTS.md contents (`# AGENTS.md
//!   instructions for …`) as user message parts of their own, which are left out.
//! * `tools`: the offered tool names. Tools in a namespace appear as `namespace.name` (except in
//!   the default `functions` namespace), tools without a name (`web_search`) as their type, and
//!   in code mode the tools nested in `exec` as `exec.<name>` (`exec.apply_patch`, …).
//! * `done`: every earlier tool call with its output, in order, mapped back to the [`Call`] the
//!   script made (all calls in a conversation come from this module). `output` is what the
//!   command printed (stdout and stderr together) or the patch tool's report, `is_error` is a
//!   non-zero or missing exit code or a rejected patch. A call this module did not make shows as
//!   [`Call::Bash`] holding the tool name and its raw arguments.
//!
//! Usage: OpenAI counts cached input as a part of `input_tokens`, and Codex passes the counts
//! through (its `turn.completed` sums them per turn, `cached_input_tokens` and
//! `cache_write_input_tokens` being parts of `input_tokens`). So `input_tokens` =
//! `input + cache_read + cache_creation`, `cached_tokens` = `cache_read`, `cache_write_tokens` =
//! `cache_creation`: adding input and output tokens gives the same total per response as the
//! Anthropic counts do.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value, json};

use super::{Api, Call, Outcome, Reply, Request, Response, State, Turn, USAGE, Usage};

/// How long Codex waits for a command before handing back what it has (30 s is its maximum).
/// A command still running by then comes back without an exit code, so the script sees an
/// error.
const YIELD_MS: u64 = 30_000;

/// Answers a request that is not for the Anthropic API.
pub fn handle(req: &Request, st: &State) -> Response {
    let path = req.path.split('?').next().unwrap_or_default();
    match (req.method.as_str(), path) {
        ("POST", "/v1/responses") => respond(req, st),
        // Codex 0.171 does not ask with a custom provider; an empty list in case a version does.
        ("GET", "/v1/models") => Response::json(200, &json!({"object": "list", "data": []})),
        _ => error(
            404,
            "not_found",
            &format!("no route for {} {path}", req.method),
        ),
    }
}

/// An error in the API's shape. Codex retries 5xx and 401 answers (see the provider's
/// `request_max_retries` and `stream_max_retries`) but fails the turn at once on a 400.
fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({"error": {"message": message, "type": "invalid_request_error", "code": code}}),
    )
}

fn respond(req: &Request, st: &State) -> Response {
    let Some(body) = req.json() else {
        return error(
            400,
            "invalid_json",
            "the request body is not JSON (compressed bodies are not supported)",
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
        body,
    };
    // A panic would drop the connection, which Codex retries for half a minute; a 400 ends the
    // run at once and shows the message in Codex's output.
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
    let items: Vec<Value> = match reply {
        Reply::Final(text) => vec![message(st, &text)],
        Reply::Calls(calls) => calls.iter().map(|c| tools.item(st, c)).collect(),
    };
    st.served
        .lock()
        .expect("served lock poisoned by a panicking test thread")
        .push((Api::Responses, USAGE));
    Response::sse(stream(st, &turn.model, &items, USAGE))
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The texts of a message content or tool output: a string, or a list of parts with `text`.
fn texts(content: &Value) -> Vec<&str> {
    match content {
        Value::String(s) => vec![s.as_str()],
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => Vec::new(),
    }
}

fn input(body: &Value) -> &[Value] {
    body.get("input")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The content of each input message with this role, as its texts.
fn messages<'a>(body: &'a Value, role: &'a str) -> impl Iterator<Item = Vec<&'a str>> {
    input(body)
        .iter()
        .filter(move |i| str_at(i, "role") == role && matches!(str_at(i, "type"), "message" | ""))
        .map(|i| texts(&i["content"]))
}

fn system(body: &Value) -> String {
    let instructions = Some(str_at(body, "instructions")).filter(|s| !s.is_empty());
    instructions
        .into_iter()
        .chain(messages(body, "developer").flatten())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Whether Codex wrote this user message part itself (context, not the task).
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

/// The parts of the first user message that Codex did not write, or else the last user message.
fn prompt(body: &Value) -> String {
    let users: Vec<Vec<&str>> = messages(body, "user").collect();
    users
        .iter()
        .map(|parts| {
            parts
                .iter()
                .copied()
                .filter(|t| !generated(t))
                .collect::<Vec<_>>()
        })
        .find(|own| !own.is_empty())
        .or_else(|| users.last().cloned())
        .unwrap_or_default()
        .join("\n")
}

/// The tools a request offers, and which of them calls are made with.
struct Tools {
    names: Vec<String>,
    shell: Shell,
    /// `None` when no patch tool is offered: files are then written with the shell.
    patch: Option<Patch>,
}

#[derive(Clone, Copy, PartialEq)]
enum Shell {
    /// `exec_command {"cmd": "…"}` (unified exec, Codex's default).
    Unified,
    /// `shell_command {"command": "…"}`.
    CommandLine,
    /// `shell {"command": ["bash", "-lc", "…"]}`.
    Argv,
    /// JavaScript for the code-mode `exec` tool, calling `tools.exec_command`.
    Code,
}

#[derive(Clone, Copy, PartialEq)]
enum Patch {
    /// The freeform `apply_patch` tool: the patch is the whole input.
    Freeform,
    /// The `apply_patch` function: `{"input": "<patch>"}`.
    Function,
    /// `tools.apply_patch("<patch>")` in a code-mode `exec` call.
    Code,
}

/// What [`collect`] finds among the offered tools.
#[derive(Default)]
struct Found<'a> {
    names: Vec<String>,
    /// The description of the code-mode `exec` tool, which declares the nested tools.
    exec_description: Option<&'a str>,
    patch_function: bool,
}

impl Tools {
    fn offered(body: &Value) -> Tools {
        let additional = input(body)
            .iter()
            .filter(|i| str_at(i, "type") == "additional_tools")
            .filter_map(|i| i.get("tools").and_then(Value::as_array));
        let mut found = Found::default();
        let lists = body.get("tools").and_then(Value::as_array);
        for tool in lists.into_iter().chain(additional).flatten() {
            collect(tool, None, &mut found);
        }
        let mut names = found.names;
        let nested = found.exec_description.map(nested_tools).unwrap_or_default();
        names.extend(nested.iter().map(|n| format!("exec.{n}")));
        let has = |n: &str| names.iter().any(|x| x == n);
        let shell = if has("exec_command") {
            Shell::Unified
        } else if has("shell_command") {
            Shell::CommandLine
        } else if has("shell") {
            Shell::Argv
        } else if has("exec") {
            Shell::Code
        } else {
            // Nothing to run commands with: use the usual tool and let Codex report the error.
            Shell::Unified
        };
        let patch = if has("apply_patch") {
            Some(if found.patch_function {
                Patch::Function
            } else {
                Patch::Freeform
            })
        } else if shell == Shell::Code && has("exec.apply_patch") {
            Some(Patch::Code)
        } else {
            None
        };
        Tools {
            names,
            shell,
            patch,
        }
    }

    /// The output item that has Codex perform `call`.
    fn item(&self, st: &State, call: &Call) -> Value {
        match call {
            Call::Write { path, content } => {
                let patch = add_file_patch(path, content);
                match self.patch {
                    Some(Patch::Freeform) => custom_call(st, "apply_patch", &patch),
                    Some(Patch::Function) => {
                        function_call(st, "apply_patch", &json!({"input": patch}))
                    }
                    Some(Patch::Code) => custom_call(st, "exec", &js_patch(&patch)),
                    None => self.run(st, &write_command(path, content)),
                }
            }
            Call::Bash { command } => self.run(st, command),
            Call::Read { path } => self.run(st, &format!("cat -- {}", quote(path))),
        }
    }

    fn run(&self, st: &State, command: &str) -> Value {
        match self.shell {
            Shell::Unified => function_call(
                st,
                "exec_command",
                &json!({"cmd": command, "yield_time_ms": YIELD_MS}),
            ),
            Shell::CommandLine => function_call(st, "shell_command", &json!({"command": command})),
            Shell::Argv => {
                function_call(st, "shell", &json!({"command": ["bash", "-lc", command]}))
            }
            Shell::Code => custom_call(st, "exec", &js_command(command)),
        }
    }
}

/// Notes one offered tool, recursing into namespaces.
fn collect<'a>(tool: &'a Value, namespace: Option<&str>, found: &mut Found<'a>) {
    let kind = str_at(tool, "type");
    let name = str_at(tool, "name");
    if kind == "namespace" {
        let inner = tool.get("tools").and_then(Value::as_array);
        // `functions` is the namespace of plain tool names.
        let ns = (name != "functions").then_some(name);
        for t in inner.into_iter().flatten() {
            collect(t, ns, found);
        }
    } else if name.is_empty() {
        found.names.push(kind.to_string());
    } else if let Some(ns) = namespace {
        found.names.push(format!("{ns}.{name}"));
    } else {
        found.names.push(name.to_string());
        match (name, kind) {
            ("exec", "custom") => {
                found.exec_description = tool.get("description").and_then(Value::as_str);
            }
            ("apply_patch", "function") => found.patch_function = true,
            _ => {}
        }
    }
}

/// The tools the code-mode description declares: `declare const tools: { NAME(…`.
fn nested_tools(description: &str) -> Vec<String> {
    const DECLARATION: &str = "declare const tools: { ";
    description
        .match_indices(DECLARATION)
        .filter_map(|(i, _)| {
            let rest = &description[i + DECLARATION.len()..];
            let name = &rest[..rest.find('(')?];
            let plain = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            plain.then(|| name.to_string())
        })
        .collect()
}

/// A patch creating (or replacing) one file.
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

/// A POSIX shell word for `s`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes `content` exactly, for when no patch tool is offered.
fn write_command(path: &str, content: &str) -> String {
    let write = format!("printf '%s' {} > {}", quote(content), quote(path));
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            format!("mkdir -p -- {} && {write}", quote(&dir.to_string_lossy()))
        }
        _ => write,
    }
}

/// Code mode: run one command and print `{"exit_code": …, "output": …}`, so that the outcome
/// reads back exactly (see [`outcome_of`]).
fn js_command(command: &str) -> String {
    let args = json!({"cmd": command, "yield_time_ms": YIELD_MS});
    js_reporting(&format!(
        "const r = await tools.exec_command({args});\n\
         text(JSON.stringify({{exit_code: r.exit_code, output: r.output}}));\n"
    ))
}

/// Code mode: apply a patch. `tools.apply_patch` resolves to `{}`, or throws with Codex's
/// reason ("patch rejected: …").
fn js_patch(patch: &str) -> String {
    // A JSON string is a JavaScript string literal.
    let literal = Value::from(patch).to_string();
    js_reporting(&format!(
        "await tools.apply_patch({literal});\n\
         text(JSON.stringify({{exit_code: 0, output: \"\"}}));\n"
    ))
}

/// Wraps code-mode JavaScript so that a tool that throws is reported like a failed command.
fn js_reporting(body: &str) -> String {
    format!("try {{\n{body}}} catch (e) {{\n  text(JSON.stringify({{output: String(e)}}));\n}}\n")
}

/// Every earlier tool call in the input with its output, in order.
fn done(body: &Value) -> Vec<Outcome> {
    let items = input(body);
    let output_of = |call_id: &str| {
        items.iter().find(|i| {
            let kind = str_at(i, "type");
            (kind == "function_call_output" || kind == "custom_tool_call_output")
                && str_at(i, "call_id") == call_id
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
            let (output, is_error) = match output_of(str_at(item, "call_id")) {
                Some(out) => outcome_of(name, &texts(&out["output"]).join("\n")),
                // Codex always answers a call before asking again; kept for malformed input.
                None => (String::new(), true),
            };
            Some(Outcome {
                call: call_of(name, args),
                output,
                is_error,
            })
        })
        .collect()
}

/// The [`Call`] behind a tool call's name and arguments (or freeform input).
fn call_of(name: &str, args: &str) -> Call {
    let json: Option<Value> = serde_json::from_str(args).ok();
    let field = |k: &str| json.as_ref().and_then(|j| j.get(k));
    let command = match name {
        "exec_command" => field("cmd").and_then(Value::as_str).map(command_call),
        "shell_command" => field("command").and_then(Value::as_str).map(command_call),
        "shell" => field("command").and_then(Value::as_array).map(|argv| {
            let argv: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
            match argv.as_slice() {
                [_shell, flag, line] if flag.starts_with('-') => command_call(line),
                _ => Call::Bash {
                    command: argv.join(" "),
                },
            }
        }),
        "apply_patch" => Some(patch_call(match field("input") {
            Some(Value::String(patch)) => patch,
            _ => args,
        })),
        "exec" => {
            let command = js_arg(args, "tools.exec_command(");
            let cmd = command.as_ref().and_then(|a| a.get("cmd"));
            match (cmd, js_arg(args, "tools.apply_patch(")) {
                (Some(Value::String(cmd)), _) => Some(command_call(cmd)),
                (_, Some(Value::String(patch))) => Some(patch_call(&patch)),
                _ => None,
            }
        }
        _ => None,
    };
    command.unwrap_or_else(|| Call::Bash {
        command: format!("{name} {args}"),
    })
}

/// The first JSON value after `marker` in code-mode JavaScript this module wrote.
fn js_arg(code: &str, marker: &str) -> Option<Value> {
    let at = code.find(marker)? + marker.len();
    serde_json::Deserializer::from_str(&code[at..])
        .into_iter::<Value>()
        .next()?
        .ok()
}

/// The [`Call`] a command line stands for: a write or read this module turned into a command,
/// or else the command itself.
fn command_call(command: &str) -> Call {
    let words = words(command).unwrap_or_default();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let write = match words.as_slice() {
        ["mkdir", "-p", "--", _, "&&", write @ ..] => write,
        write => write,
    };
    match (write, words.as_slice()) {
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

/// The words of a command line made of plain words and single-quoted strings (what
/// [`write_command`] and [`quote`] make); `None` for anything else.
fn words(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            c if c.is_alphanumeric() || "-_./%&>+=,:@".contains(c) => {
                word.get_or_insert_with(String::new).push(c);
            }
            _ => return None,
        }
    }
    words.extend(word);
    Some(words)
}

/// A patch as a [`Call`]: the write it stands for, or else the way Codex itself shows a patch
/// run through the shell.
fn patch_call(patch: &str) -> Call {
    parse_add_file(patch).unwrap_or_else(|| Call::Bash {
        command: format!("apply_patch <<'EOF'\n{patch}\nEOF"),
    })
}

/// The write of a patch that only adds one file.
fn parse_add_file(patch: &str) -> Option<Call> {
    let body = patch
        .trim()
        .strip_prefix("*** Begin Patch\n")?
        .strip_suffix("*** End Patch")?;
    let (first, lines) = body.split_once('\n').unwrap_or((body, ""));
    let path = first.strip_prefix("*** Add File: ")?;
    let mut content = String::new();
    for line in lines.lines() {
        content.push_str(line.strip_prefix('+')?);
        content.push('\n');
    }
    Some(Call::Write {
        path: path.to_string(),
        content,
    })
}

/// The output the script sees, and whether the call failed, from the text Codex sent back.
fn outcome_of(name: &str, text: &str) -> (String, bool) {
    if name == "exec" {
        // Code mode: "Script completed\nWall time …\nOutput:\n" and then what the JavaScript
        // printed, which is the JSON of `js_reporting`.
        let printed = text.split_once("Output:\n").map_or(text, |(_, p)| p);
        let report = printed.find("{\"").and_then(|i| {
            serde_json::Deserializer::from_str(&printed[i..])
                .into_iter::<Value>()
                .next()?
                .ok()
        });
        if let Some(r) = report.filter(|r| r.get("output").is_some()) {
            let code = r.get("exit_code").and_then(Value::as_i64);
            return (str_at(&r, "output").to_string(), code != Some(0));
        }
    }
    // Commands: "Chunk ID: …\nWall time: …\nProcess exited with code N\nOriginal token count:
    // …\nOutput:\n<output>"; patches: "Exit code: N\nWall time: …\nOutput:\nSuccess. …".
    let code = ["Process exited with code ", "Exit code: "]
        .iter()
        .find_map(|marker| text.split_once(marker))
        .and_then(|(_, rest)| {
            let digits = rest
                .split(|c: char| !c.is_ascii_digit() && c != '-')
                .next()?;
            digits.parse::<i64>().ok()
        });
    match (code, text.split_once("Output:\n")) {
        (Some(code), Some((_, output))) => (output.to_string(), code != 0),
        // A rejected patch ("patch rejected: …"), a command still running, …: all of it.
        _ => (text.to_string(), true),
    }
}

/// What the real API answers to a strict `text.format` schema it refuses. Codex sends
/// `--output-schema` as `{"type": "json_schema", "strict": true, "name": "codex_output_schema",
/// "schema": …}` without checking it; the API then wants `additionalProperties: false` on every
/// object and every property listed in `required`. Only these two rules are checked; keywords
/// the API may refuse besides are let through.
fn strict_schema_error(body: &Value) -> Option<String> {
    let format = body.get("text")?.get("format")?;
    if str_at(format, "type") != "json_schema" || format.get("strict") != Some(&json!(true)) {
        return None;
    }
    let problem = schema_problem(format.get("schema")?, &mut Vec::new())?;
    let name = str_at(format, "name");
    Some(format!(
        "Invalid schema for response_format '{name}': {problem}"
    ))
}

/// The first strict-mode violation in `schema`, worded as the API words it; `at` is the path
/// to it (the API's "context").
fn schema_problem(schema: &Value, at: &mut Vec<String>) -> Option<String> {
    let nested = |at: &mut Vec<String>, key: String, v: &Value| {
        at.push(key);
        let found = schema_problem(v, at);
        at.pop();
        found
    };
    match schema {
        Value::Object(o) => {
            let properties = o.get("properties").and_then(Value::as_object);
            if str_at(schema, "type") == "object" || properties.is_some() {
                let quoted: Vec<String> = at.iter().map(|k| format!("'{k}'")).collect();
                let context = match quoted.as_slice() {
                    [one] => format!("In context=({one},)"),
                    all => format!("In context=({})", all.join(", ")),
                };
                if o.get("additionalProperties") != Some(&Value::Bool(false)) {
                    return Some(format!(
                        "{context}, 'additionalProperties' is required to be supplied and to \
                         be false."
                    ));
                }
                let required = o.get("required").and_then(Value::as_array);
                let listed = |k: &str| required.is_some_and(|r| r.iter().any(|x| x == k));
                let missing = properties.into_iter().flatten().find(|(k, _)| !listed(k));
                if let Some((key, _)) = missing {
                    return Some(format!(
                        "{context}, 'required' is required to be supplied and to be an array \
                         including every key in properties. Missing '{key}'."
                    ));
                }
            }
            o.iter().find_map(|(k, v)| nested(at, k.clone(), v))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nested(at, i.to_string(), v)),
        _ => None,
    }
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

/// The events that stream one output item: announced empty, its text or arguments in one
/// delta, then done.
fn item_events(index: usize, item: &Value) -> Vec<Value> {
    let kind = str_at(item, "type");
    let mut added = item.clone();
    added["status"] = json!("in_progress");
    let at = |mut event: Value| {
        event["item_id"] = item["id"].clone();
        event["output_index"] = json!(index);
        event
    };
    let mut events = Vec::new();
    match kind {
        "message" => {
            added["content"] = json!([]);
            let text = &item["content"][0]["text"];
            let part =
                |text: &Value| json!({"type": "output_text", "text": text, "annotations": []});
            events.extend([
                json!({"type": "response.content_part.added", "content_index": 0,
                    "part": part(&json!(""))}),
                json!({"type": "response.output_text.delta", "content_index": 0, "delta": text}),
                json!({"type": "response.output_text.done", "content_index": 0, "text": text}),
                json!({"type": "response.content_part.done", "content_index": 0,
                    "part": part(text)}),
            ]);
        }
        "function_call" => {
            added["arguments"] = json!("");
            let args = &item["arguments"];
            events.extend([
                json!({"type": "response.function_call_arguments.delta", "delta": args}),
                json!({"type": "response.function_call_arguments.done", "arguments": args}),
            ]);
        }
        _ => {
            added["input"] = json!("");
            let input = &item["input"];
            events.extend([
                json!({"type": "response.custom_tool_call_input.delta", "delta": input}),
                json!({"type": "response.custom_tool_call_input.done", "input": input}),
            ]);
        }
    }
    let mut all = vec![
        json!({"type": "response.output_item.added", "output_index": index,
        "item": added}),
    ];
    all.extend(events.into_iter().map(at));
    all.push(json!({"type": "response.output_item.done", "output_index": index, "item": item}));
    all
}

/// A streamed response with these output items, as server-sent events in the real API's order.
fn stream(st: &State, model: &str, items: &[Value], usage: Usage) -> String {
    let id = st.id("resp_");
    let response = |status: &str, output: &[Value], usage: Value| {
        json!({"id": id, "object": "response", "created_at": 0, "status": status,
            "model": model, "output": output, "usage": usage})
    };
    let started = response("in_progress", &[], Value::Null);
    let mut events = vec![
        json!({"type": "response.created", "response": started}),
        json!({"type": "response.in_progress", "response": started}),
    ];
    for (index, item) in items.iter().enumerate() {
        events.extend(item_events(index, item));
    }
    events.push(json!({"type": "response.completed",
        "response": response("completed", items, usage_json(usage))}));
    let mut out = String::new();
    for (seq, mut event) in events.into_iter().enumerate() {
        event["sequence_number"] = json!(seq);
        out.push_str(&format!(
            "event: {}\ndata: {event}\n\n",
            str_at(&event, "type")
        ));
    }
    out
}
