//! JSON Schema validation, and the schemas the tool owns (embedded in the binary).

use std::path::Path;

use jsonschema::Validator;
use serde_json::Value;

use crate::error::{Error, Result};

/// The tool's own schemas and the default agent pack, as shipped in `schemas/`.
pub mod embedded {
    pub const CONFIG: &str = include_str!("../../schemas/config.schema.json");
    pub const RUN_STATUS: &str = include_str!("../../schemas/run.status.schema.json");
    pub const HANDOFF: &str = include_str!("../../schemas/handoff.schema.json");
    pub const PLAN: &str = include_str!("../../schemas/plan.schema.json");
    pub const PLANNER_RESULT: &str = include_str!("../../schemas/planner.result.schema.json");
    pub const IMPLEMENTOR_RESULT: &str = include_str!("../../schemas/implementor.schema.json");
    pub const REVIEWER_RESULT: &str = include_str!("../../schemas/reviewer.schema.json");
    pub const TESTER_RESULT: &str = include_str!("../../schemas/tester.schema.json");
    pub const MANUAL_INTERVENTION: &str =
        include_str!("../../schemas/manual-intervention.schema.json");

    /// Every embedded schema with its file name, for `init --pack` and the tests.
    pub const ALL: &[(&str, &str)] = &[
        ("config.schema.json", CONFIG),
        ("run.status.schema.json", RUN_STATUS),
        ("handoff.schema.json", HANDOFF),
        ("plan.schema.json", PLAN),
        ("planner.result.schema.json", PLANNER_RESULT),
        ("implementor.schema.json", IMPLEMENTOR_RESULT),
        ("reviewer.schema.json", REVIEWER_RESULT),
        ("tester.schema.json", TESTER_RESULT),
        ("manual-intervention.schema.json", MANUAL_INTERVENTION),
    ];
}

/// One schema violation: where (an RFC 6901 pointer into the instance) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            crate::files::json::show_pointer(&self.pointer),
            self.message
        )
    }
}

/// Compiles `schema`; `origin` names it in errors (a file path, or "built-in …").
pub fn compile(schema: &Value, origin: &str) -> Result<Validator> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| {
            Error::failure(format!("the JSON Schema {origin} does not compile: {e}")).hint(
                "fix the schema (it must be a valid JSON Schema, draft 4 to 2020-12, with no remote $ref)",
            )
        })
}

/// Compiles one of the embedded schemas.
pub fn builtin(text: &str, name: &str) -> Validator {
    let v: Value = serde_json::from_str(text).expect("embedded schemas are valid JSON");
    compile(&v, name).expect("embedded schemas compile")
}

/// Loads and compiles a schema file.
pub fn load(path: &Path) -> Result<Validator> {
    load_with_source(path).map(|(v, _)| v)
}

/// Like [`load`], also returning the schema document.
pub fn load_with_source(path: &Path) -> Result<(Validator, Value)> {
    let v = crate::files::read_json(path).map_err(|e| {
        if !path.exists() {
            Error::failure(format!("schema file {} does not exist", path.display()))
                .hint("install the agent pack with 'git swarm init --pack', or fix the schemaPath in the workflow config")
        } else {
            e
        }
    })?;
    let validator = compile(&v, &path.display().to_string())?;
    Ok((validator, v))
}

/// Every violation of `instance` against `validator`, in document order.
pub fn violations(validator: &Validator, instance: &Value) -> Vec<Violation> {
    let mut out: Vec<Violation> = validator
        .iter_errors(instance)
        .map(|e| Violation {
            pointer: e.instance_path().as_str().to_string(),
            message: shorten(&e.to_string()),
        })
        .collect();
    out.dedup();
    out
}

/// Validator messages quote the offending value in full; a 1 MB string should not become a
/// 1 MB error message.
fn shorten(msg: &str) -> String {
    const MAX: usize = 300;
    if msg.len() <= MAX {
        return msg.to_string();
    }
    let mut end = MAX;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &msg[..end], msg.len())
}

/// A one-line list of violations for `failure-reason` and messages.
pub fn summarize(v: &[Violation]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_embedded_schema_compiles() {
        for (name, text) in embedded::ALL {
            builtin(text, name);
        }
    }

    #[test]
    fn violations_carry_pointers() {
        let v = compile(
            &json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}, "required": ["b"]}),
            "test",
        )
        .unwrap();
        let found = violations(&v, &json!({"a": ["x", 3]}));
        let pointers: Vec<_> = found.iter().map(|v| v.pointer.as_str()).collect();
        assert!(pointers.contains(&"/a/1"), "{found:?}");
        assert!(pointers.contains(&""), "{found:?}");
    }

    #[test]
    fn huge_values_do_not_make_huge_messages() {
        let v = compile(&json!({"type": "integer"}), "test").unwrap();
        let found = violations(&v, &json!("x".repeat(100_000)));
        assert!(found[0].message.len() < 400);
    }

    #[test]
    fn a_schema_that_does_not_compile_is_an_error() {
        let e = compile(&json!({"type": 12}), "/x/s.json").unwrap_err();
        assert!(e.message.contains("/x/s.json"), "{}", e.message);
    }
}
