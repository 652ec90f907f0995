//! The Codex profile, and the strict form of result schemas its structured output needs.

use super::*;
use crate::config::Profile;

/// The form of a result schema that strict structured output accepts: every object closes
/// (`additionalProperties: false`) and requires every property, a property that was optional
/// becomes nullable instead; `oneOf` becomes `anyOf`; document keywords (`$schema`, `$id`) go.
/// The result is taken from the answer with those nulls dropped, then validated against the
/// original schema like any result.
pub(crate) fn strict_schema(schema: &serde_json::Value) -> serde_json::Value {
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
            let required = crate::schema::strings(out.get("required"));
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
pub(crate) fn drop_strict_nulls(v: &mut serde_json::Value, schema: &serde_json::Value) {
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
pub(super) fn codex(p: &Profile, s: &Scope) -> Launch {
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
    let structured = match crate::files::read_json(&s.result_schema) {
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
