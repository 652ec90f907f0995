//! JSON Schema validation, and the schemas the tool owns (embedded in the binary).

use std::path::Path;

use jsonschema::Validator;
use serde_json::Value;

use crate::error::{Error, Result};

/// The tool's own schemas and the default agent pack, as shipped in `schemas/`.
pub mod embedded {
    pub(crate) const CONFIG: &str = include_str!("../../schemas/config.schema.json");
    pub const RUN_STATUS: &str = include_str!("../../schemas/run.status.schema.json");
    pub const HANDOFF: &str = include_str!("../../schemas/handoff.schema.json");
    pub(crate) const PLAN: &str = include_str!("../../schemas/plan.schema.json");
    pub(crate) const PLANNER_RESULT: &str =
        include_str!("../../schemas/planner.result.schema.json");
    pub(crate) const IMPLEMENTOR_RESULT: &str =
        include_str!("../../schemas/implementor.schema.json");
    pub(crate) const REVIEWER_RESULT: &str = include_str!("../../schemas/reviewer.schema.json");
    pub(crate) const TESTER_RESULT: &str = include_str!("../../schemas/tester.schema.json");
    pub const MANUAL_INTERVENTION: &str =
        include_str!("../../schemas/manual-intervention.schema.json");
    pub(crate) const POLICIES: &str = include_str!("../../schemas/policies.schema.json");

    /// Every embedded schema with its file name (the tests compile each).
    #[cfg(test)]
    pub(crate) const ALL: &[(&str, &str)] = &[
        ("config.schema.json", CONFIG),
        ("run.status.schema.json", RUN_STATUS),
        ("handoff.schema.json", HANDOFF),
        ("plan.schema.json", PLAN),
        ("planner.result.schema.json", PLANNER_RESULT),
        ("implementor.schema.json", IMPLEMENTOR_RESULT),
        ("reviewer.schema.json", REVIEWER_RESULT),
        ("tester.schema.json", TESTER_RESULT),
        ("manual-intervention.schema.json", MANUAL_INTERVENTION),
        ("policies.schema.json", POLICIES),
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
pub(crate) fn compile(schema: &Value, origin: &str) -> Result<Validator> {
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
pub(crate) fn load(path: &Path) -> Result<Validator> {
    load_with_source(path).map(|(v, _)| v)
}

/// Like [`load`], also returning the schema document.
pub(crate) fn load_with_source(path: &Path) -> Result<(Validator, Value)> {
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

/// A violation told as what to write instead: where, what the value there must be in words
/// ("must be true or false", "must be an array of strings"), and the example the schema gives
/// for the key it belongs to. Validator messages quote the value and the schema; a person
/// editing a file wants the rule and a model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expectation {
    pub pointer: String,
    pub what: String,
    /// The nearest property the violation lies in (`github` for `/forges/github/0`) and the
    /// first of its `examples`.
    pub example: Option<(String, Value)>,
}

/// Every violation of `instance` against `validator` (compiled from `schema`), as
/// [`Expectation`]s in document order.
pub(crate) fn expectations(
    validator: &Validator,
    schema: &Value,
    instance: &Value,
) -> Vec<Expectation> {
    let mut out: Vec<Expectation> = validator
        .iter_errors(instance)
        .map(|e| {
            // The keyword's location in `schema`: the node that holds it, and the properties
            // on the way there.
            let keyword: Vec<String> = e
                .schema_path()
                .as_str()
                .split('/')
                .skip(1)
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect();
            let node = keyword
                .split_last()
                .and_then(|(_, parent)| at(schema, parent));
            let what = node
                .and_then(|n| expected_words(e.kind(), n))
                .map(|w| format!("must be {w}"))
                .unwrap_or_else(|| shorten(&e.to_string()));
            let example = keyword
                .iter()
                .enumerate()
                .rev()
                .find(|(i, _)| *i > 0 && keyword[i - 1] == "properties")
                .and_then(|(i, name)| {
                    let ex = at(schema, &keyword[..=i])?.get("examples")?.get(0)?;
                    Some((name.clone(), ex.clone()))
                });
            Expectation {
                pointer: e.instance_path().as_str().to_string(),
                what,
                example,
            }
        })
        .collect();
    out.dedup();
    out
}

fn at<'a>(schema: &'a Value, segments: &[String]) -> Option<&'a Value> {
    segments.iter().try_fold(schema, |v, s| match v {
        Value::Object(m) => m.get(s),
        Value::Array(a) => s.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// What `node` (the schema node holding the failed keyword) asks for, in words; `None` for the
/// keywords told better by the validator's own message.
fn expected_words(kind: &jsonschema::error::ValidationErrorKind, node: &Value) -> Option<String> {
    use jsonschema::error::ValidationErrorKind as K;
    match kind {
        K::Type { .. } => {
            let types: Vec<&str> = match node.get("type")? {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => return None,
            };
            let items = node.pointer("/items/type").and_then(Value::as_str);
            let words: Vec<String> = types
                .iter()
                // Null stands for "not set"; nobody means to write it instead of a value.
                .filter(|t| **t != "null")
                .map(|t| match *t {
                    "boolean" => "true or false".to_string(),
                    "string" => "a string".to_string(),
                    "integer" => "a whole number".to_string(),
                    "number" => "a number".to_string(),
                    "object" => "a JSON object".to_string(),
                    "array" => match items {
                        Some(i) => format!("an array of {i}s"),
                        None => "an array".to_string(),
                    },
                    other => other.to_string(),
                })
                .collect();
            (!words.is_empty()).then(|| words.join(" or "))
        }
        K::Enum { options } => {
            let names: Vec<String> = options
                .as_array()?
                .iter()
                .filter(|o| !o.is_null() && o.as_str() != Some(""))
                .map(Value::to_string)
                .collect();
            Some(format!("one of {}", names.join(", ")))
        }
        K::ExclusiveMinimum { limit } => Some(format!("greater than {limit}")),
        K::Minimum { limit } => Some(format!("at least {limit}")),
        K::Maximum { limit } => Some(format!("at most {limit}")),
        _ => None,
    }
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

/// The strings of a JSON array (other items skipped); empty when `v` is not an array.
pub(crate) fn strings(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
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
    fn expectations_say_what_to_write() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": ["array", "null"], "items": {"type": "string"}, "examples": [["x"]]},
            "b": {"type": ["boolean", "null"]},
            "c": {"enum": ["gh", "manual", "", null]},
            "d": {"type": "number", "exclusiveMinimum": 0}}});
        let v = compile(&schema, "test").unwrap();
        let found = expectations(
            &v,
            &schema,
            &json!({"a": ["x", 3], "b": "yes", "c": "x", "d": 0}),
        );
        let by: Vec<(&str, &str)> = found
            .iter()
            .map(|x| (x.pointer.as_str(), x.what.as_str()))
            .collect();
        assert_eq!(
            by,
            [
                ("/a/1", "must be a string"),
                ("/b", "must be true or false"),
                ("/c", "must be one of \"gh\", \"manual\""),
                ("/d", "must be greater than 0"),
            ]
        );
        assert_eq!(found[0].example, Some(("a".to_string(), json!(["x"]))));
        assert_eq!(found[1].example, None);
        let root = expectations(&v, &schema, &json!([]));
        assert_eq!(root[0].what, "must be a JSON object");
    }

    #[test]
    fn a_schema_that_does_not_compile_is_an_error() {
        let e = compile(&json!({"type": 12}), "/x/s.json").unwrap_err();
        assert!(e.message.contains("/x/s.json"), "{}", e.message);
    }
}
