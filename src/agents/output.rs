//! Reading what an agent CLI printed: its own words for failure reasons (final message,
//! errors, permission denials) and a structured result to fall back on when the agent did not
//! write its result file. Pure parsing of the launch's output; logs are read lossily, so
//! invalid UTF-8 never hides the tail.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

use super::profile::{Output, Structured};

/// The most of one launch's output that is read (its end).
const CAP: u64 = 16 << 20;

/// The output of one launch: the log from `from` on (at most its last 16 MiB), invalid UTF-8
/// replaced.
pub(crate) fn read_log(log: &Path, from: u64) -> String {
    let Ok(mut f) = crate::files::safe::open_regular(log) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = from.min(len).max(len.saturating_sub(CAP));
    if f.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    let _ = f.take(CAP).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every JSON object in an output: one document, JSON lines, or either mixed with plain text.
pub(crate) fn objects(text: &str) -> Vec<Value> {
    crate::machine::usage::objects(text)
}

/// `text` cut to `max` characters (at a character boundary), with an ellipsis.
fn cut(text: &str, max: usize) -> String {
    let t = text.trim();
    if t.chars().count() <= max {
        return t.to_string();
    }
    format!("{}…", t.chars().take(max).collect::<String>())
}

/// One line for a permission denial: the tool and what it was asked to touch or run.
fn denial(d: &Value) -> String {
    let tool = d
        .get("tool_name")
        .and_then(Value::as_str)
        .unwrap_or("a tool");
    let input = d.get("tool_input");
    let what = ["file_path", "path", "command", "notebook_path", "pattern"]
        .iter()
        .find_map(|k| input.and_then(|i| i.get(*k)).and_then(Value::as_str));
    match what {
        Some(w) => format!("{tool} {}", cut(w, 160)),
        None => tool.to_string(),
    }
}

/// A Claude Code (or Cursor agent) result object: `{"type": "result", "is_error", "result",
/// "subtype", "permission_denials"}`.
fn result_event(objs: &[Value]) -> Option<&Value> {
    objs.iter()
        .rev()
        .find(|o| o.get("type").and_then(Value::as_str) == Some("result"))
}

fn claude_words(objs: &[Value]) -> Option<String> {
    let r = result_event(objs)?;
    let mut parts = Vec::new();
    let is_error = r.get("is_error").and_then(Value::as_bool).unwrap_or(false);
    let subtype = r.get("subtype").and_then(Value::as_str).unwrap_or("");
    if is_error || (!subtype.is_empty() && subtype != "success") {
        parts.push(format!(
            "the CLI reported an error{}",
            if subtype.is_empty() || subtype == "success" {
                String::new()
            } else {
                format!(" ({subtype})")
            }
        ));
    }
    if let Some(text) = r.get("result").and_then(Value::as_str)
        && !text.trim().is_empty()
    {
        parts.push(format!("its final message: \"{}\"", cut(text, 600)));
    }
    if let Some(errors) = r.get("errors").and_then(Value::as_array) {
        let e: Vec<String> = errors
            .iter()
            .filter_map(|e| e.as_str().map(|s| cut(s, 300)))
            .collect();
        if !e.is_empty() {
            parts.push(format!("errors: {}", e.join("; ")));
        }
    }
    if let Some(d) = r.get("permission_denials").and_then(Value::as_array)
        && !d.is_empty()
    {
        let mut seen: Vec<String> = Vec::new();
        for x in d.iter().map(denial) {
            if !seen.contains(&x) {
                seen.push(x);
            }
        }
        parts.push(format!(
            "permission denied {} time{}: {}",
            d.len(),
            if d.len() == 1 { "" } else { "s" },
            seen.join("; ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn codex_words(objs: &[Value]) -> Option<String> {
    let mut errors: Vec<String> = Vec::new();
    let mut last_message = None;
    for o in objs {
        match o.get("type").and_then(Value::as_str) {
            Some("turn.failed") => {
                if let Some(m) = o.pointer("/error/message").and_then(Value::as_str) {
                    errors.push(cut(m, 300));
                }
            }
            Some("error") => {
                if let Some(m) = o.get("message").and_then(Value::as_str) {
                    errors.push(cut(m, 300));
                }
            }
            Some("item.completed") => {
                if o.pointer("/item/type").and_then(Value::as_str) == Some("agent_message")
                    && let Some(t) = o.pointer("/item/text").and_then(Value::as_str)
                {
                    last_message = Some(t.to_string());
                }
            }
            _ => {}
        }
    }
    errors.dedup();
    let mut parts = Vec::new();
    if !errors.is_empty() {
        parts.push(format!("the CLI reported: {}", errors.join("; ")));
    }
    if let Some(m) = last_message.filter(|m| !m.trim().is_empty()) {
        parts.push(format!("its final message: \"{}\"", cut(&m, 600)));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn gemini_words(objs: &[Value]) -> Option<String> {
    let o = objs
        .iter()
        .rev()
        .find(|o| o.get("response").is_some() || o.get("error").is_some())?;
    let mut parts = Vec::new();
    if let Some(e) = o.get("error").filter(|e| !e.is_null()) {
        let msg = e
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        parts.push(format!("the CLI reported: {}", cut(&msg, 300)));
    }
    if let Some(r) = o.get("response").and_then(Value::as_str)
        && !r.trim().is_empty()
    {
        parts.push(format!("its final message: \"{}\"", cut(r, 600)));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// What the agent itself said, from its machine-readable output: errors, final message,
/// permission denials. `None` when the output holds no such report.
pub(crate) fn agent_words(output: Output, text: &str) -> Option<String> {
    let objs = objects(text);
    match output {
        Output::ClaudeJson | Output::CursorJson => claude_words(&objs),
        Output::CodexJsonl => codex_words(&objs),
        Output::GeminiJson => gemini_words(&objs),
        Output::Unknown => claude_words(&objs)
            .or_else(|| codex_words(&objs))
            .or_else(|| gemini_words(&objs)),
    }
}

/// A JSON object in a final message: the whole text, or a fenced ```json block in it.
fn object_in(text: &str) -> Option<Value> {
    let t = text.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return v.is_object().then_some(v);
    }
    let start = t.find("```")?;
    let body = &t[start + 3..];
    let body = body.strip_prefix("json").unwrap_or(body);
    let end = body.find("```")?;
    serde_json::from_str::<Value>(body[..end].trim())
        .ok()
        .filter(Value::is_object)
}

/// The structured result a CLI produced under its schema-constrained output, if any.
pub(crate) fn structured_result(s: &Structured, text: &str) -> Option<Value> {
    match s {
        Structured::ClaudeResult => {
            let objs = objects(text);
            result_event(&objs)?
                .get("structured_output")
                .filter(|v| v.is_object())
                .cloned()
        }
        Structured::ResultText => {
            let objs = objects(text);
            object_in(result_event(&objs)?.get("result")?.as_str()?)
        }
        Structured::FinalMessage { file, schema } => {
            let bytes = crate::files::read_limited(file).ok()?;
            let mut v = object_in(&String::from_utf8_lossy(&bytes))?;
            if let Ok(schema) = crate::files::read_json(schema) {
                super::profile::drop_strict_nulls(&mut v, &schema);
            }
            Some(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_error_and_denials_in_its_own_words() {
        let out = r#"{"type":"result","subtype":"success","is_error":true,"result":"I could not write the result file.","permission_denials":[{"tool_name":"Write","tool_use_id":"t1","tool_input":{"file_path":"/r/implementor.result.json","content":"{}"}},{"tool_name":"Bash","tool_use_id":"t2","tool_input":{"command":"sh test.sh"}},{"tool_name":"Bash","tool_use_id":"t3","tool_input":{"command":"sh test.sh"}}]}"#;
        let w = agent_words(Output::ClaudeJson, out).unwrap();
        assert!(w.contains("reported an error"), "{w}");
        assert!(w.contains("\"I could not write the result file.\""), "{w}");
        assert!(
            w.contains(
                "permission denied 3 times: Write /r/implementor.result.json; Bash sh test.sh"
            ),
            "{w}"
        );
    }

    #[test]
    fn codex_failures_and_last_message() {
        let out = "{\"type\":\"thread.started\"}\n{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"first\"}}\n{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"patch rejected: writing outside of the project\"}}\n{\"type\":\"turn.failed\",\"error\":{\"message\":\"stream disconnected\"}}\n";
        let w = agent_words(Output::CodexJsonl, out).unwrap();
        assert_eq!(
            w,
            "the CLI reported: stream disconnected; its final message: \"patch rejected: writing outside of the project\""
        );
    }

    #[test]
    fn gemini_error() {
        let out = "noise\n{\"error\": {\"type\": \"FatalAuthenticationError\", \"message\": \"no key\", \"code\": 41}}\n";
        assert_eq!(
            agent_words(Output::GeminiJson, out).as_deref(),
            Some("the CLI reported: no key")
        );
    }

    #[test]
    fn plain_text_has_no_words() {
        assert_eq!(agent_words(Output::Unknown, "just text\n"), None);
    }

    #[test]
    fn invalid_utf8_logs_are_read_lossily() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, b"before\n\xff\xfe broken \xc3\nlast line\n").unwrap();
        let t = read_log(&p, 7);
        assert!(t.contains("broken") && t.contains("last line"), "{t}");
        assert!(!t.contains("before"));
    }

    #[test]
    fn structured_results() {
        let out = r#"{"type":"result","is_error":false,"result":"done","structured_output":{"status":"passed"}}"#;
        assert_eq!(
            structured_result(&Structured::ClaudeResult, out),
            Some(serde_json::json!({"status": "passed"}))
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("final.txt");
        std::fs::write(
            &f,
            "Here it is:\n```json\n{\"verdict\": \"approved\"}\n```\n",
        )
        .unwrap();
        let schema = dir.path().join("s.json");
        std::fs::write(
            &schema,
            r#"{"type": "object", "required": ["verdict"], "properties": {"verdict": {"type": "string"}, "notes": {"type": "string"}, "maybe": {"type": ["string", "null"]}}}"#,
        )
        .unwrap();
        let fm = |file: &Path| Structured::FinalMessage {
            file: file.to_path_buf(),
            schema: schema.clone(),
        };
        assert_eq!(
            structured_result(&fm(&f), ""),
            Some(serde_json::json!({"verdict": "approved"}))
        );
        // The strict form's nulls for optional properties are dropped; allowed nulls stay.
        std::fs::write(
            &f,
            r#"{"verdict": "approved", "notes": null, "maybe": null}"#,
        )
        .unwrap();
        assert_eq!(
            structured_result(&fm(&f), ""),
            Some(serde_json::json!({"verdict": "approved", "maybe": null}))
        );
        std::fs::write(&f, "[1, 2]").unwrap();
        assert_eq!(structured_result(&fm(&f), ""), None);
    }
}
