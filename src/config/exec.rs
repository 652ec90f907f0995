//! How exec mode launches an agent (`exec` of a subagent or of the whole config): an argv
//! template, or a built-in profile that knows what one agent CLI needs to work
//! non-interactively (see `crate::agents::profile`).

use indexmap::IndexMap;
use serde_json::Value;

/// The agent CLIs git swarm has a built-in profile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    Claude,
    Codex,
    Gemini,
    CursorAgent,
}

impl ProfileKind {
    pub(crate) const ALL: [ProfileKind; 4] = [
        ProfileKind::Claude,
        ProfileKind::Codex,
        ProfileKind::Gemini,
        ProfileKind::CursorAgent,
    ];

    pub(crate) fn parse(s: &str) -> Option<ProfileKind> {
        ProfileKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The profile's name in the config, which is also the CLI's usual executable.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ProfileKind::Claude => "claude",
            ProfileKind::Codex => "codex",
            ProfileKind::Gemini => "gemini",
            ProfileKind::CursorAgent => "cursor-agent",
        }
    }
}

/// A built-in profile with the user's additions.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub kind: ProfileKind,
    /// The executable (default: the profile's name, looked up on PATH).
    pub program: String,
    /// Extra arguments, after the profile's own and before the prompt.
    pub args: Vec<String>,
    pub model: Option<String>,
    pub env: IndexMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Exec {
    /// An argv template with `{placeholders}`.
    Template(Vec<String>),
    Profile(Profile),
}

impl Exec {
    /// Reads an `exec` value the config schema already accepted.
    pub(crate) fn from_value(v: &Value) -> Option<Exec> {
        match v {
            Value::Array(_) => {
                let argv = crate::schema::strings(Some(v));
                (!argv.is_empty()).then_some(Exec::Template(argv))
            }
            Value::String(s) => ProfileKind::parse(s).map(|kind| {
                Exec::Profile(Profile {
                    kind,
                    program: kind.name().to_string(),
                    args: Vec::new(),
                    model: None,
                    env: IndexMap::new(),
                })
            }),
            Value::Object(o) => {
                let kind = ProfileKind::parse(o.get("profile")?.as_str()?)?;
                Some(Exec::Profile(Profile {
                    kind,
                    program: o
                        .get("program")
                        .and_then(Value::as_str)
                        .unwrap_or(kind.name())
                        .to_string(),
                    args: crate::schema::strings(o.get("args")),
                    model: o.get("model").and_then(Value::as_str).map(str::to_string),
                    env: o
                        .get("env")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| {
                                    (k.clone(), v.as_str().unwrap_or_default().to_string())
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_three_shapes() {
        assert_eq!(
            Exec::from_value(&json!(["a", "{prompt}"])),
            Some(Exec::Template(vec!["a".into(), "{prompt}".into()]))
        );
        let Some(Exec::Profile(p)) = Exec::from_value(&json!("codex")) else {
            panic!("a profile name")
        };
        assert_eq!((p.kind, p.program.as_str()), (ProfileKind::Codex, "codex"));
        let Some(Exec::Profile(p)) = Exec::from_value(&json!({
            "profile": "claude", "args": ["--verbose"], "model": "opus",
            "env": {"A": "1"}, "program": "/opt/claude"
        })) else {
            panic!("a profile object")
        };
        assert_eq!(p.kind, ProfileKind::Claude);
        assert_eq!(p.args, ["--verbose"]);
        assert_eq!(p.model.as_deref(), Some("opus"));
        assert_eq!(p.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(p.program, "/opt/claude");
        assert_eq!(Exec::from_value(&json!("aider")), None);
        assert_eq!(Exec::from_value(&json!([])), None);
    }
}
