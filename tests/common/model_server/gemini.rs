//! Gemini API (`generativelanguage`, v1beta), as the Gemini CLI uses it with an API key and
//! `GOOGLE_GEMINI_BASE_URL`:
//!
//! - `POST /v1beta/models/<model>:streamGenerateContent?alt=sse`: the agent loop (and
//!   subagents). The request offers `tools[].functionDeclarations`; it becomes a [`Turn`], the
//!   script answers, and the answer is streamed back as `functionCall` parts of the CLI's own
//!   tools (`write_file`, `run_shell_command`, `read_file`) or as text ending with
//!   `finishReason: STOP`.
//! - `POST /v1beta/models/<model>:generateContent`: the CLI's helper calls, made without tools
//!   and mostly with a JSON response schema: the model router's classifier (only when the model
//!   is `auto`, the default), the loop detector, the next-speaker check, edit correction,
//!   history compression. They are answered here without asking the script (see
//!   [`helper_json`]).
//! - `POST /v1beta/models/<model>:countTokens` and `GET /v1beta/models[/<model>]`, in case the
//!   CLI asks (0.61.0 was not seen to).
//!
//! What a [`Turn`] holds: `system` is the text of `systemInstruction`; `prompt` is the text of
//! the first user content without the CLI's `<session_context>…</session_context>` part (date,
//! OS, workspace directories, directory tree), i.e. exactly what the CLI was given (stdin, then
//! `-p`, as the CLI joined them); `tools` are the declared function names; `done` pairs each
//! `functionCall` of a model content with the `functionResponse` that answered it (by `id`, else
//! by name in order): `write_file` {file_path, content} is `Call::Write`, `run_shell_command`
//! {command} `Call::Bash` (its output is the command's output, `is_error` a non-zero exit),
//! `read_file` {file_path} `Call::Read`; any other call becomes `Call::Bash` with the text
//! `<name> <args JSON>`.
//!
//! Usage: Gemini counts cached input as a part of `promptTokenCount` and has no separate count
//! for cache writes (implicit caching bills them as ordinary input). So `promptTokenCount` =
//! `USAGE.input + cache_read + cache_creation`, `cachedContentTokenCount` = `cache_read`,
//! `candidatesTokenCount` = `output`: the CLI's `stats.models.<m>.tokens` then show `prompt`
//! 160, `cached` 50, `input` (prompt − cached) 110, `candidates` 20, `total` 180 per response,
//! the same total as a response from the other modules. Every generated response, helper calls
//! included (the CLI counts those in its stats too), pushes [`USAGE`] to [`State::served`].

use serde_json::{Map, Value, json};

use super::{Api, Call, Outcome, Reply, Request, Response, State, Turn, USAGE, Usage};

/// The text a helper call without a response schema gets (a compression summary, a title).
const HELPER_TEXT: &str = "OK";

pub fn handle(req: &Request, st: &State) -> Response {
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    let Some(rest) = path.strip_prefix("/v1beta/models") else {
        return error(404, &format!("no such endpoint: {path}"));
    };
    // `/v1beta/models/<model>:<method>`; a bare `/v1beta/models[/<model>]` is a model lookup.
    let rest = rest.trim_start_matches('/');
    let (model, method) = rest.split_once(':').unwrap_or((rest, ""));
    match (req.method.as_str(), method) {
        ("GET", "") if model.is_empty() => Response::json(
            200,
            &json!({"models": [model_info("gemini-2.5-pro"), model_info("gemini-2.5-flash")]}),
        ),
        ("GET", "") => Response::json(200, &model_info(model)),
        ("POST", "streamGenerateContent" | "generateContent" | "countTokens") => {
            let Some(body) = req.json() else {
                return error(400, "the body is not JSON");
            };
            match method {
                // Any plausible number will do; no model response is served.
                "countTokens" => Response::json(200, &json!({"totalTokens": prompt_tokens(USAGE)})),
                "generateContent" => match generate(&body, model, st) {
                    Ok(parts) => Response::json(200, &chunk(parts, model, &st.id("resp_"), true)),
                    Err(resp) => resp,
                },
                // The SDK always asks for SSE; without `alt=sse` the API answers a JSON array of
                // the same chunks.
                _ => match generate(&body, model, st) {
                    Ok(parts) => {
                        let chunks = stream(parts, model, &st.id("resp_"));
                        if query.split('&').any(|p| p == "alt=sse") {
                            let events = chunks.iter().map(|c| format!("data: {c}\r\n\r\n"));
                            Response::sse(events.collect())
                        } else {
                            Response::json(200, &Value::Array(chunks))
                        }
                    }
                    Err(resp) => resp,
                },
            }
        }
        _ => error(404, &format!("no such endpoint: {} {path}", req.method)),
    }
}

/// An error in the API's own shape (`google.rpc.Status`), so the CLI reports its message. A 400
/// is not retried by the CLI.
fn error(code: u16, message: &str) -> Response {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        _ => "INTERNAL",
    };
    Response::json(
        code,
        &json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

fn model_info(model: &str) -> Value {
    json!({
        "name": format!("models/{model}"),
        "displayName": model,
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    })
}

fn prompt_tokens(u: Usage) -> u64 {
    u.input + u.cache_read + u.cache_creation
}

fn usage_json(u: Usage) -> Value {
    let prompt = prompt_tokens(u);
    json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": u.output,
        "cachedContentTokenCount": u.cache_read,
        "totalTokenCount": prompt + u.output,
    })
}

/// The parts of the answer to one request: the script's answer for the agent loop, a made-up
/// answer for a helper call. `Err` is a response to send instead (a script bug).
fn generate(body: &Value, model: &str, st: &State) -> Result<Vec<Value>, Response> {
    let decls: Vec<&Value> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["functionDeclarations"].as_array())
        .flatten()
        .collect();
    let parts = if decls.is_empty() {
        let config = &body["generationConfig"];
        let schema = config
            .get("responseJsonSchema")
            .or_else(|| config.get("responseSchema"));
        match schema {
            Some(schema) => vec![json!({"text": helper_json(schema).to_string()})],
            None => vec![json!({"text": HELPER_TEXT})],
        }
    } else {
        let turn = turn(body, model, &decls);
        match (st.script)(&turn) {
            // An empty text is an empty answer to the CLI: it retries (`NO_RESPONSE_TEXT`), then
            // ends with `"response": ""`.
            Reply::Final(text) => vec![json!({"text": text})],
            // A script that calls no tool, or one the CLI did not offer (or offers with other
            // arguments), is a test bug: a 400 is not retried, and the CLI prints the message
            // and exits with 144 (400 mod 256). An empty answer would instead be retried.
            Reply::Calls(calls) if calls.is_empty() => {
                return Err(error(
                    400,
                    "the script answered with an empty list of calls",
                ));
            }
            Reply::Calls(calls) => calls
                .iter()
                .map(|c| function_call(c, &decls))
                .collect::<Result<_, _>>()
                .map_err(|msg| error(400, &msg))?,
        }
    };
    st.served
        .lock()
        .expect("served lock poisoned by a panicking test thread")
        .push((Api::Gemini, USAGE));
    Ok(parts)
}

/// One response (or stream chunk) in the API's shape. Every chunk carries `usageMetadata` (the
/// CLI keeps the last one it sees); only the last has `finishReason` and the output count, as
/// with the real API.
fn chunk(parts: Vec<Value>, model: &str, id: &str, last: bool) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    let usage = if last {
        candidate["finishReason"] = json!("STOP");
        usage_json(USAGE)
    } else {
        let prompt = prompt_tokens(USAGE);
        json!({
            "promptTokenCount": prompt,
            "cachedContentTokenCount": USAGE.cache_read,
            "totalTokenCount": prompt,
        })
    };
    json!({
        "candidates": [candidate],
        "usageMetadata": usage,
        // The CLI files its per-model stats under this name, so it must be the model asked for.
        "modelVersion": model,
        "responseId": id,
    })
}

/// The stream chunks of an answer. A lone text part is sent in two halves (split at a char
/// boundary) so the CLI's joining of streamed text is exercised; function calls come whole in
/// one chunk, as the API sends them.
fn stream(parts: Vec<Value>, model: &str, id: &str) -> Vec<Value> {
    if let [part] = parts.as_slice()
        && let Some(text) = part["text"].as_str()
        && let Some((mid, _)) = text.char_indices().nth(text.chars().count() / 2)
        && mid > 0
    {
        let (a, b) = text.split_at(mid);
        return vec![
            chunk(vec![json!({"text": a})], model, id, false),
            chunk(vec![json!({"text": b})], model, id, true),
        ];
    }
    vec![chunk(parts, model, id, true)]
}

/// A value for a helper call's response schema (JSON Schema or the API's OpenAPI subset, types
/// in either case). Fields the CLI acts on get the answer that lets the session go on
/// unchanged; anything else gets the simplest valid value.
///
/// - `complexity_score` (router, numerical classifier, validated 1–100): 1, a simple task.
/// - `model_choice` (router, classifier): the first enum value (the Flash model).
/// - `next_speaker` (next-speaker check): `"user"`, so the CLI does not prompt the model again.
/// - `unproductive_state_confidence` (loop detector): 0, no loop.
/// - strings: `""`, which the edit correctors take as "no correction" (they keep the original).
fn helper_json(schema: &Value) -> Value {
    let kind = schema["type"]
        .as_str()
        .unwrap_or("object")
        .to_ascii_lowercase();
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match kind.as_str() {
        "object" => {
            let mut out = Map::new();
            for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
                let value = match name.as_str() {
                    "complexity_score" => json!(1),
                    "next_speaker" => json!("user"),
                    "unproductive_state_confidence" => json!(0.0),
                    _ => helper_json(prop),
                };
                out.insert(name.clone(), value);
            }
            Value::Object(out)
        }
        "array" => json!([]),
        "string" => json!(""),
        "integer" | "number" => schema.get("minimum").cloned().unwrap_or(json!(0)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// The text parts of a content, in order.
fn texts(content: &Value) -> Vec<&str> {
    content["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"].as_str())
        .collect()
}

fn turn(body: &Value, model: &str, decls: &[&Value]) -> Turn {
    let contents = body["contents"].as_array().map_or(&[][..], Vec::as_slice);
    let prompt = contents
        .iter()
        .find(|c| c["role"] == "user" && !texts(c).is_empty())
        .map(|c| {
            texts(c)
                .into_iter()
                .filter(|t| !t.starts_with("<session_context>"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    Turn {
        api: Api::Gemini,
        model: model.to_string(),
        system: texts(&body["systemInstruction"]).join("\n"),
        prompt,
        tools: decls
            .iter()
            .filter_map(|d| d["name"].as_str().map(str::to_string))
            .collect(),
        done: done(contents),
        body: body.clone(),
    }
}

/// Each earlier call with what answered it. The API has no call ids of its own (this server
/// sends none); the CLI gives each call in its history an id and answers with the same id, so a
/// call is matched by id, or failing that with the first unanswered response of its name.
/// A call without a response (the CLI always sends one) is left out.
fn done(contents: &[Value]) -> Vec<Outcome> {
    let parts = |role: &'static str, key: &'static str| {
        contents
            .iter()
            .filter(move |c| c["role"] == role)
            .filter_map(|c| c["parts"].as_array())
            .flatten()
            .filter_map(move |p| p.get(key))
    };
    let mut responses: Vec<Option<&Value>> = parts("user", "functionResponse").map(Some).collect();
    let mut out = Vec::new();
    for fc in parts("model", "functionCall") {
        let name = fc["name"].as_str().unwrap_or_default();
        let by_id = |r: &&Value| fc.get("id").is_some() && r.get("id") == fc.get("id");
        let by_name = |r: &&Value| r["name"].as_str() == Some(name);
        let slot = responses
            .iter()
            .position(|r| r.as_ref().is_some_and(by_id))
            .or_else(|| {
                responses
                    .iter()
                    .position(|r| r.as_ref().is_some_and(by_name))
            });
        let Some(resp) = slot.and_then(|i| responses[i].take()) else {
            continue;
        };
        let (output, is_error) = outcome_of(name, &resp["response"]);
        out.push(Outcome {
            call: call_of(name, &fc["args"]),
            output,
            is_error,
        });
    }
    out
}

fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// What a `functionResponse.response` says: `{"error": …}` when the tool failed or was denied
/// (by policy, approval mode or workspace), else `{"output": …}`. For `run_shell_command` the
/// output is the CLI's report (see [`shell_output`]).
fn outcome_of(name: &str, response: &Value) -> (String, bool) {
    match (response.get("output"), response.get("error")) {
        (_, Some(e)) => (text_of(e), true),
        (Some(o), None) if name == "run_shell_command" => shell_output(&text_of(o)),
        (Some(o), None) => (text_of(o), false),
        (None, None) => (response.to_string(), false),
    }
}

/// The command's output from the CLI's report of a command, and whether it failed. The report
/// is `<untrusted_context>`-wrapped lines: `Output: <stdout and stderr, or "(empty)">`, then
/// `Error: …` (spawn failure), `Exit Code: N` (only if not 0), `Signal: …`, `Background PIDs:
/// …`, `Process Group PGID: N`, each only when it applies. A report without `Output:` (a
/// command cancelled or timed out) is returned whole, as an error.
fn shell_output(report: &str) -> (String, bool) {
    let body = report
        .trim()
        .trim_start_matches("<untrusted_context>")
        .trim_end_matches("</untrusted_context>")
        .trim_matches('\n');
    let Some(rest) = body.strip_prefix("Output: ") else {
        return (report.to_string(), true);
    };
    // The trailing lines after the output; the output itself may hold any text, so they are
    // taken from the end.
    let mut lines: Vec<&str> = rest.split('\n').collect();
    let mut failed = false;
    while lines.len() > 1 {
        let last = lines[lines.len() - 1];
        let Some((key, _)) = last.split_once(": ") else {
            break;
        };
        match key {
            "Error" | "Exit Code" | "Signal" => failed = true,
            "Background PIDs" | "Process Group PGID" => {}
            _ => break,
        }
        lines.pop();
    }
    let output = lines.join("\n");
    let output = if output == "(empty)" {
        String::new()
    } else {
        output
    };
    (output, failed)
}

/// The script's view of a call. Calls of other tools (a script cannot make them, but a CLI
/// change could) become a `Bash` call reading `<name> <args JSON>`, so `done` still has one
/// entry per call.
fn call_of(name: &str, args: &Value) -> Call {
    let arg = |k: &str| args[k].as_str().unwrap_or_default().to_string();
    match name {
        "write_file" => Call::Write {
            path: arg("file_path"),
            content: arg("content"),
        },
        "run_shell_command" => Call::Bash {
            command: arg("command"),
        },
        "read_file" => Call::Read {
            path: arg("file_path"),
        },
        _ => Call::Bash {
            command: format!("{name} {args}"),
        },
    }
}

/// A `functionCall` part for one of the CLI's tools, checked against its declaration so a
/// renamed tool or argument fails loudly instead of being silently ignored by the CLI.
fn function_call(call: &Call, decls: &[&Value]) -> Result<Value, String> {
    let (name, args) = match call {
        Call::Write { path, content } => {
            ("write_file", json!({"file_path": path, "content": content}))
        }
        Call::Bash { command } => ("run_shell_command", json!({"command": command})),
        Call::Read { path } => ("read_file", json!({"file_path": path})),
    };
    let Some(decl) = decls.iter().find(|d| d["name"] == name) else {
        return Err(format!(
            "the script called {name}, which the CLI did not offer (approval mode or policy?)"
        ));
    };
    let schema = decl
        .get("parametersJsonSchema")
        .or_else(|| decl.get("parameters"));
    let props = schema.and_then(|s| s["properties"].as_object());
    for key in args.as_object().into_iter().flat_map(Map::keys) {
        if !props.is_some_and(|p| p.contains_key(key)) {
            return Err(format!("the CLI's {name} declares no argument {key}"));
        }
    }
    Ok(json!({"functionCall": {"name": name, "args": args}}))
}

/// The model a Gemini API path names (`/v1beta/models/<model>:<method>`), for the request log:
/// the body has no `model` field.
pub fn model_of(path: &str) -> Option<String> {
    let rest = path.split('?').next()?.strip_prefix("/v1beta/models/")?;
    let model = rest.split(':').next()?;
    (!model.is_empty()).then(|| model.to_string())
}
