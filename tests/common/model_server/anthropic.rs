//! Anthropic Messages API, as Claude Code uses it: `POST /v1/messages[?beta=true]`, streamed
//! (SSE, what the CLI asks for) or plain JSON, plus `POST /v1/messages/count_tokens`.
//!
//! Requests that offer tools are the agent loop: they are turned into a [`Turn`], the script
//! answers, and the answer goes back as Claude Code's own `Write`/`Bash`/`Read` tool calls or as
//! a final text. Under `--json-schema` the CLI offers a `StructuredOutput` tool; a script's
//! final text that is JSON is then sent as that tool's call, which is how the CLI takes
//! structured output.
//!
//! Requests without tools are side requests (session titles, summaries, quota checks): they get
//! a short text and the script is not asked. (Claude Code 2.1.332 in `-p` mode sends none; note
//! that `--tools ""` without `--json-schema` makes the agent loop itself look like one.)
//!
//! Every `/v1/messages` response reports [`USAGE`] and is pushed to [`State::served`], side
//! requests included. The CLI's `usage` in its result is the sum over its model responses, so a
//! test can compare the two. `count_tokens` answers serve no model response and are not pushed.
//!
//! The server answers a script bug (a call of a tool the CLI did not offer, or with input
//! fields its schema lacks) with a 400: Claude Code retries a 400 a few times within a second,
//! then exits 1 with `"is_error": true` and the message in `result`.

use serde_json::{Map, Value, json};

use super::{Api, Call, Outcome, Reply, Request, Response, State, Turn, USAGE};

/// The text side requests get.
const SIDE_TEXT: &str = "OK";

pub fn handle(req: &Request, st: &State) -> Response {
    let path = req.path.split('?').next().unwrap_or_default();
    if req.method != "POST" {
        return error(405, "invalid_request_error", "only POST is served");
    }
    let Some(body) = req.json() else {
        return error(400, "invalid_request_error", "the body is not JSON");
    };
    match path {
        "/v1/messages" => messages(&body, st),
        // Claude Code asks for token counts of its context; any plausible number will do and
        // no model response is served, so nothing is pushed to `served`.
        "/v1/messages/count_tokens" => Response::json(200, &json!({"input_tokens": USAGE.input})),
        _ => error(404, "not_found_error", &format!("no such endpoint: {path}")),
    }
}

/// An error in the API's own shape, so the CLI reports its message.
fn error(status: u16, kind: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

fn messages(body: &Value, st: &State) -> Response {
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let tools = body["tools"].as_array().cloned().unwrap_or_default();
    let msgs = body["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let content = if tools.is_empty() {
        vec![text_block(SIDE_TEXT)]
    } else if let Some(output) = structured_output_done(msgs) {
        // The structured output was accepted: the script already gave its final answer.
        vec![text_block(&output)]
    } else {
        let turn = turn(body, msgs, &model, &tools);
        match (st.script)(&turn) {
            Reply::Final(text) => match structured_output(&text, &tools, st) {
                Some(block) => vec![block],
                None => vec![text_block(&text)],
            },
            Reply::Calls(calls) => {
                let mut blocks = Vec::with_capacity(calls.len());
                for call in &calls {
                    match tool_use(call, &tools, st) {
                        Ok(b) => blocks.push(b),
                        // A test bug; see the module docs for what the CLI makes of it.
                        Err(msg) => return error(400, "invalid_request_error", &msg),
                    }
                }
                blocks
            }
        }
    };
    let stop_reason = if content.iter().any(|b| b["type"] == "tool_use") {
        "tool_use"
    } else {
        "end_turn"
    };
    st.served
        .lock()
        .expect("served lock")
        .push((Api::Anthropic, USAGE));
    let id = st.id("msg_");
    if body["stream"] == true {
        Response::sse(stream(&id, &model, &content, stop_reason))
    } else {
        Response::json(
            200,
            &json!({
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": null,
                "usage": usage(USAGE.output),
            }),
        )
    }
}

fn usage(output: u64) -> Value {
    json!({
        "input_tokens": USAGE.input,
        "cache_creation_input_tokens": USAGE.cache_creation,
        "cache_read_input_tokens": USAGE.cache_read,
        "output_tokens": output,
    })
}

fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

/// The tool Claude Code offers under `--json-schema`, with the schema as its input schema. A
/// text answer instead makes the CLI ask again (`[structured-output-enforce]`); so does a call
/// the schema rejects, up to 5 attempts in all (then `error_max_structured_output_retries`).
const STRUCTURED: &str = "StructuredOutput";

/// A final answer as a `StructuredOutput` call, when the CLI offers that tool and the text is a
/// JSON value: scripts answer `--json-schema` runs with the JSON text as their final reply.
fn structured_output(text: &str, tools: &[Value], st: &State) -> Option<Value> {
    if !tools.iter().any(|t| t["name"] == STRUCTURED) {
        return None;
    }
    let input: Value = serde_json::from_str(text).ok()?;
    Some(json!({"type": "tool_use", "id": st.id("toolu_"), "name": STRUCTURED, "input": input}))
}

/// The JSON the last `StructuredOutput` call carried, when the conversation ends with its
/// accepted result. 2.1.332 ends the run right after an accepted call; this keeps the script
/// out of it should a version ask once more. A rejected call goes back to the script, which
/// sees the rejection only in [`Turn::body`] (`StructuredOutput` has no [`Call`] form).
fn structured_output_done(msgs: &[Value]) -> Option<String> {
    let [.., call, result] = msgs else {
        return None;
    };
    let call = call["content"]
        .as_array()?
        .iter()
        .find(|b| b["type"] == "tool_use" && b["name"] == STRUCTURED)?;
    let accepted = result["content"].as_array()?.iter().any(|b| {
        b["type"] == "tool_result" && b["tool_use_id"] == call["id"] && b["is_error"] != true
    });
    accepted.then(|| call["input"].to_string())
}

/// The conversation in the script's terms.
fn turn(body: &Value, msgs: &[Value], model: &str, tools: &[Value]) -> Turn {
    let prompt = msgs
        .iter()
        .find(|m| m["role"] == "user")
        .map(|m| prompt_text(&m["content"]))
        .unwrap_or_default();
    Turn {
        api: Api::Anthropic,
        model: model.to_string(),
        system: system(body, msgs),
        prompt,
        tools: tools
            .iter()
            .filter_map(|t| t["name"].as_str().map(str::to_string))
            .collect(),
        done: done(msgs),
        body: body.clone(),
    }
}

/// The system prompt: the `system` field, then the `system`-role messages Claude Code puts into
/// `messages` (2.1.332 sends its environment section, working directory included, that way).
fn system(body: &Value, msgs: &[Value]) -> String {
    let mut parts = texts(&body["system"]);
    for m in msgs.iter().filter(|m| m["role"] == "system") {
        parts.extend(texts(&m["content"]));
    }
    parts.join("\n")
}

/// The text blocks of a content value (a string is one block).
fn texts(content: &Value) -> Vec<String> {
    match content {
        Value::String(s) => vec![s.clone()],
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The prompt the CLI was given. Claude Code puts context of its own (git status, commit
/// attribution, CLAUDE.md) into separate `<system-reminder>` text blocks before the prompt in
/// the same user message; those are left out so the script sees exactly the prompt. (A prompt
/// argument given together with stdin arrives as one block: the argument, `\n`, stdin.)
fn prompt_text(content: &Value) -> String {
    let all = texts(content);
    let own: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|t| {
            let t = t.trim();
            !(t.starts_with("<system-reminder>") && t.ends_with("</system-reminder>"))
        })
        .collect();
    if own.is_empty() {
        all.join("\n")
    } else {
        own.join("\n")
    }
}

/// Every earlier tool call with its result, in the order the results came back. Calls of tools
/// other than `Write`, `Bash` and `Read` have no [`Call`] form and are left out: the script
/// only ever makes those three (and `StructuredOutput` through a final text), and the raw
/// conversation is still in [`Turn::body`]. Paths are as the script gave them; the CLI
/// resolves relative ones against its cwd.
fn done(msgs: &[Value]) -> Vec<Outcome> {
    let mut calls: Vec<(String, Call)> = Vec::new();
    let mut out = Vec::new();
    for m in msgs {
        let Some(blocks) = m["content"].as_array() else {
            continue;
        };
        for b in blocks {
            if m["role"] == "assistant" && b["type"] == "tool_use" {
                if let (Some(id), Some(call)) = (b["id"].as_str(), call(&b["name"], &b["input"])) {
                    calls.push((id.to_string(), call));
                }
            } else if m["role"] == "user" && b["type"] == "tool_result" {
                let id = b["tool_use_id"].as_str().unwrap_or_default();
                if let Some((_, call)) = calls.iter().find(|(c, _)| c == id) {
                    out.push(Outcome {
                        call: call.clone(),
                        output: texts(&b["content"]).join("\n"),
                        is_error: b["is_error"] == true,
                    });
                }
            }
        }
    }
    out
}

fn str_field(input: &Value, key: &str) -> String {
    input[key].as_str().unwrap_or_default().to_string()
}

/// A Claude Code tool call as a [`Call`], if it is one of the three the script knows.
fn call(name: &Value, input: &Value) -> Option<Call> {
    Some(match name.as_str()? {
        "Write" => Call::Write {
            path: str_field(input, "file_path"),
            content: str_field(input, "content"),
        },
        "Bash" => Call::Bash {
            command: str_field(input, "command"),
        },
        "Read" => Call::Read {
            path: str_field(input, "file_path"),
        },
        _ => return None,
    })
}

/// A script call as a `tool_use` block of the CLI's own tool. The input field names are
/// checked against the schema the CLI sent, so a renamed field fails loudly instead of
/// producing a tool call the CLI rejects with a confusing message.
fn tool_use(c: &Call, tools: &[Value], st: &State) -> Result<Value, String> {
    let (name, input) = match c {
        Call::Write { path, content } => ("Write", json!({"file_path": path, "content": content})),
        Call::Bash { command } => ("Bash", json!({"command": command})),
        Call::Read { path } => ("Read", json!({"file_path": path})),
    };
    let Some(tool) = tools.iter().find(|t| t["name"] == name) else {
        return Err(format!(
            "model server: the script calls {name}, which the CLI did not offer"
        ));
    };
    let props = &tool["input_schema"]["properties"];
    let empty = Map::new();
    for key in input.as_object().unwrap_or(&empty).keys() {
        if props.get(key).is_none() {
            return Err(format!(
                "model server: the CLI's {name} tool has no input field {key:?} (schema: {})",
                tool["input_schema"]
            ));
        }
    }
    Ok(json!({"type": "tool_use", "id": st.id("toolu_"), "name": name, "input": input}))
}

/// One SSE event.
fn event(out: &mut String, data: &Value) {
    let kind = data["type"].as_str().unwrap_or_default();
    out.push_str(&format!("event: {kind}\ndata: {data}\n\n"));
}

/// The response as the API streams it: the message head with the input-side usage, each block
/// as start/delta/stop (tool input as `input_json_delta` fragments, the way the API sends it),
/// then the stop reason with the final usage.
fn stream(id: &str, model: &str, content: &[Value], stop_reason: &str) -> String {
    let mut out = String::new();
    event(
        &mut out,
        &json!({"type": "message_start", "message": {
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": usage(0),
        }}),
    );
    event(&mut out, &json!({"type": "ping"}));
    for (index, block) in content.iter().enumerate() {
        if block["type"] == "tool_use" {
            event(
                &mut out,
                &json!({"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {},
                }}),
            );
            let input = block["input"].to_string();
            for part in std::iter::once("").chain(chunks(&input, 40)) {
                event(
                    &mut out,
                    &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": part}}),
                );
            }
        } else {
            event(
                &mut out,
                &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "text", "text": ""}}),
            );
            event(
                &mut out,
                &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "text_delta", "text": block["text"]}}),
            );
        }
        event(
            &mut out,
            &json!({"type": "content_block_stop", "index": index}),
        );
    }
    // Like the API, `message_delta` carries the cumulative usage. Claude Code replaces the
    // `message_start` numbers with it, so each response counts exactly `USAGE` once in the
    // result; its per-message `usage` in `stream-json` output is the `message_start` one
    // (output 0), as with the real API's small start numbers.
    event(
        &mut out,
        &json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": usage(USAGE.output)}),
    );
    event(&mut out, &json!({"type": "message_stop"}));
    out
}

/// `s` in pieces of about `n` bytes, cut on char boundaries.
fn chunks(s: &str, n: usize) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut cut = n.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head)
    })
}
