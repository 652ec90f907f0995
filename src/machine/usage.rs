//! Token and cost accounting: what an agent spent, read from a `tokens` field in its result or
//! from what an agent CLI reports in a JSON output mode (its log, in exec mode).
//!
//! Pure parsing; the totals live in `run.status.json` (`step-tokens`, and `swarm.costUsd`).

use serde_json::Value;

/// What an agent spent: all tokens together (`tokens`: input, output and cache reads and
/// writes), the parts where the report names them, and, when reported, dollars.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Usage {
    pub tokens: u64,
    pub split: Split,
    pub cost_usd: Option<f64>,
}

/// The parts of a token count. Input counts only tokens that were neither read from nor
/// written to a cache; what a report does not split stays out of every part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Split {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub output: u64,
    #[serde(default)]
    pub cache_read: u64,
    #[serde(default)]
    pub cache_write: u64,
}

impl Split {
    pub(crate) fn add(&mut self, o: Split) {
        self.input = self.input.saturating_add(o.input);
        self.output = self.output.saturating_add(o.output);
        self.cache_read = self.cache_read.saturating_add(o.cache_read);
        self.cache_write = self.cache_write.saturating_add(o.cache_write);
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == Split::default()
    }
}

impl Usage {
    pub(crate) fn add(&mut self, other: Usage) {
        self.tokens = self.tokens.saturating_add(other.tokens);
        self.split.add(other.split);
        self.cost_usd = match (self.cost_usd, other.cost_usd) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }
}

const TOTAL_KEYS: &[&str] = &["total", "total_tokens", "totalTokens"];
/// Counts that add up to the total when no total is given. OpenAI-style `cached_input_tokens`
/// is a part of `input_tokens` and is not added again; Anthropic-style cache counts are not.
const PART_KEYS: &[&str] = &[
    "input",
    "output",
    "input_tokens",
    "output_tokens",
    "inputTokens",
    "outputTokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
];
const COST_KEYS: &[&str] = &["costUsd", "cost_usd", "total_cost_usd"];

/// The most tokens one report may claim (a trillion): more is not a count but a mistake or an
/// attack on the totals.
pub(crate) const MAX_TOKENS: u64 = 1_000_000_000_000;
/// The most dollars one report may claim.
pub(crate) const MAX_COST_USD: f64 = 1_000_000.0;

const FIELD_SHAPE: &str = "expected a non-negative integer, or an object with a token count \
    (total, or input and output) and optionally costUsd";

/// Reads the `tokens` field of a result: `1234`, `{"total": 1234}`,
/// `{"input": 1000, "output": 234, "costUsd": 0.02}` (or the `input_tokens`/`output_tokens`
/// spellings agent CLIs use).
pub(crate) fn from_field(v: &Value) -> Result<Usage, String> {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(tokens) if tokens <= MAX_TOKENS => Ok(Usage {
                tokens,
                ..Usage::default()
            }),
            Some(_) => Err(format!(
                "not a plausible token count (at most {})",
                thousands(MAX_TOKENS)
            )),
            None => Err(FIELD_SHAPE.to_string()),
        },
        Value::Object(_) => counts(v)?.ok_or_else(|| FIELD_SHAPE.to_string()),
        _ => Err(FIELD_SHAPE.to_string()),
    }
}

/// The counts in an object of token counts; `None` when it holds none.
fn counts(v: &Value) -> Result<Option<Usage>, String> {
    let Some(o) = v.as_object() else {
        return Ok(None);
    };
    let num = |k: &str| -> Result<Option<u64>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => match x.as_u64() {
                Some(n) if n <= MAX_TOKENS => Ok(Some(n)),
                Some(_) => Err(format!(
                    "{k} is not a plausible token count (at most {})",
                    thousands(MAX_TOKENS)
                )),
                None => Err(format!("{k} must be a non-negative integer, not {x}")),
            },
        }
    };
    let mut total = None;
    for k in TOTAL_KEYS {
        if let Some(n) = num(k)? {
            total = Some(n);
            break;
        }
    }
    let first = |keys: &[&str]| -> Result<Option<u64>, String> {
        for k in keys {
            if let Some(n) = num(k)? {
                return Ok(Some(n));
            }
        }
        Ok(None)
    };
    let input = first(&["input", "input_tokens", "inputTokens"])?;
    let output = first(&["output", "output_tokens", "outputTokens"])?;
    let cache_write = first(&["cache_creation_input_tokens", "cacheWrite"])?;
    let anthropic_read = first(&["cache_read_input_tokens", "cacheRead"])?;
    // OpenAI-style cached input (reads, and Codex's cache writes) is a part of the input
    // count; Anthropic-style cache counts are beside it.
    let details = o.get("input_tokens_details");
    let openai_read = details
        .and_then(|d| d.get("cached_tokens"))
        .and_then(Value::as_u64)
        .or(num("cached_input_tokens")?);
    let openai_write = details
        .and_then(|d| d.get("cache_write_tokens"))
        .and_then(Value::as_u64)
        .or(num("cache_write_input_tokens")?);
    let split = Split {
        input: input
            .unwrap_or(0)
            .saturating_sub(openai_read.unwrap_or(0))
            .saturating_sub(openai_write.unwrap_or(0)),
        output: output.unwrap_or(0),
        cache_read: anthropic_read.or(openai_read).unwrap_or(0),
        cache_write: cache_write.or(openai_write).unwrap_or(0),
    };
    if total.is_none() {
        let mut sum: Option<u64> = None;
        for k in PART_KEYS {
            if let Some(n) = num(k)? {
                sum = Some(sum.unwrap_or(0).saturating_add(n));
            }
        }
        total = sum;
    }
    let mut cost = None;
    for k in COST_KEYS {
        match o.get(*k) {
            None | Some(Value::Null) => {}
            Some(x) => match x.as_f64() {
                Some(c) if (0.0..=MAX_COST_USD).contains(&c) => {
                    cost = Some(c);
                    break;
                }
                Some(c) if c.is_finite() && c > MAX_COST_USD => {
                    return Err(format!(
                        "{k} is not a plausible cost (at most ${MAX_COST_USD})"
                    ));
                }
                _ => return Err(format!("{k} must be a non-negative number, not {x}")),
            },
        }
    }
    Ok(total.map(|tokens| Usage {
        tokens,
        split,
        cost_usd: cost,
    }))
}

/// What one JSON report of an agent CLI says it spent.
fn report(v: &Value) -> Option<Usage> {
    // `{"usage": {...}, "total_cost_usd": x}` (Claude Code's json/stream-json result, and the
    // shape other CLIs share).
    if let Some(u) = v.get("usage")
        && let Ok(Some(mut usage)) = counts(u)
    {
        if usage.cost_usd.is_none()
            && let Some(c) = v.get("total_cost_usd").filter(|c| !c.is_null())
        {
            // An implausible cost discredits the whole report.
            usage.cost_usd = Some(c.as_f64().filter(|c| (0.0..=MAX_COST_USD).contains(c))?);
        }
        return Some(usage);
    }
    // `{"stats": {"models": {"<model>": {"tokens": {"total": n}}}}}` (Gemini CLI).
    if let Some(models) = v.pointer("/stats/models").and_then(Value::as_object) {
        let mut sum: Option<Usage> = None;
        for m in models.values() {
            if let Some(n) = m
                .pointer("/tokens/total")
                .and_then(Value::as_u64)
                .filter(|n| *n <= MAX_TOKENS)
            {
                let get = |k: &str| {
                    m.pointer(&format!("/tokens/{k}"))
                        .and_then(Value::as_u64)
                        .unwrap_or(0)
                };
                // `prompt` includes the cached part; `candidates` and `thoughts` are output.
                let cached = get("cached");
                let u = Usage {
                    tokens: n,
                    split: Split {
                        input: get("prompt").saturating_sub(cached),
                        output: get("candidates").saturating_add(get("thoughts")),
                        cache_read: cached,
                        cache_write: 0,
                    },
                    cost_usd: None,
                };
                sum.get_or_insert_with(Usage::default).add(u);
            }
        }
        if let Some(u) = sum {
            return Some(u);
        }
    }
    if let Some(t) = v.get("tokens") {
        return from_field(t).ok();
    }
    None
}

/// Every JSON object in an agent's output: a single (possibly pretty-printed) document, JSON
/// lines, or either mixed with plain text (stderr shares the log). An object starts at a line
/// that begins with `{`.
pub(crate) fn objects(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let line_len = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
        if rest.trim_start_matches([' ', '\t']).starts_with('{') {
            let mut it = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
            if let Some(Ok(v)) = it.next() {
                let used = it.byte_offset();
                if v.is_object() {
                    out.push(v);
                }
                pos += used.max(1);
                continue;
            }
        }
        pos += line_len;
    }
    out
}

/// What an agent CLI reported spending, from its output. Understands Claude Code
/// (`--output-format json` and `stream-json`: the `result` event), Codex (`exec --json`: the sum
/// of `turn.completed` usage), Gemini CLI (`--output-format json`: `stats.models`) and any
/// report with a `usage` object or a `tokens` field; `None` when the output holds none.
pub(crate) fn from_output(text: &str) -> Option<Usage> {
    let objs = objects(text);
    // A stream with a final result event: that event holds the run's totals (the per-message
    // usage before it would count twice).
    if let Some(u) = objs
        .iter()
        .rev()
        .filter(|o| o.get("type").and_then(Value::as_str) == Some("result"))
        .find_map(report)
    {
        return Some(u);
    }
    // Per-turn usage: the turns add up.
    let turns: Vec<Usage> = objs
        .iter()
        .filter(|o| o.get("type").and_then(Value::as_str) == Some("turn.completed"))
        .filter_map(report)
        .collect();
    if !turns.is_empty() {
        let mut sum = Usage::default();
        for t in turns {
            sum.add(t);
        }
        return Some(sum);
    }
    objs.iter().rev().find_map(report)
}

/// A run's totals: tokens over every agent (`None` when none were reported) and dollars.
pub(crate) fn totals(st: &crate::machine::state::RunStatus) -> (Option<u64>, Option<f64>) {
    let tokens = (!st.step_tokens.is_empty()).then(|| {
        st.step_tokens
            .values()
            .fold(0u64, |a, b| a.saturating_add(*b))
    });
    let cost = (!st.swarm.cost_usd.is_empty()).then(|| st.swarm.cost_usd.values().sum());
    (tokens, cost)
}

/// The parts of a run's tokens over every agent.
pub(crate) fn split_total(st: &crate::machine::state::RunStatus) -> Split {
    let mut s = Split::default();
    for x in st.swarm.token_split.values() {
        s.add(*x);
    }
    s
}

/// `input 1,000 · output 300 · cache read 11,000 · cache write 45`, and what the reports did not
/// split; empty when nothing was split.
pub(crate) fn describe_split(total: u64, s: &Split) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut parts = vec![
        format!("input {}", thousands(s.input)),
        format!("output {}", thousands(s.output)),
        format!("cache read {}", thousands(s.cache_read)),
        format!("cache write {}", thousands(s.cache_write)),
    ];
    let named = s
        .input
        .saturating_add(s.output)
        .saturating_add(s.cache_read)
        .saturating_add(s.cache_write);
    if total > named {
        parts.push(format!("not itemised {}", thousands(total - named)));
    }
    parts.join(" · ")
}

/// What `status` shows of a run's spending, as labelled lines: `tokens` (the total and its
/// parts), `by agent`, `cost`. Empty when nothing was reported.
pub(crate) fn describe(st: &crate::machine::state::RunStatus) -> Vec<(&'static str, String)> {
    let (tokens, cost) = totals(st);
    let Some(tokens) = tokens else {
        return Vec::new();
    };
    let split = describe_split(tokens, &split_total(st));
    let mut out = vec![(
        "tokens",
        if split.is_empty() {
            format!("{} in all", thousands(tokens))
        } else {
            format!("{} in all — {split}", thousands(tokens))
        },
    )];
    let per: Vec<String> = st
        .step_tokens
        .iter()
        .map(|(a, n)| format!("{a} {}", thousands(*n)))
        .collect();
    out.push(("by agent", per.join(", ")));
    if let Some(c) = cost {
        out.push(("cost", format!("${c:.4}")));
    }
    out
}

/// `12345` as `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_shapes() {
        assert_eq!(from_field(&json!(42)).unwrap().tokens, 42);
        assert_eq!(from_field(&json!({"total": 7})).unwrap().tokens, 7);
        let u = from_field(&json!({"input": 10, "output": 5, "costUsd": 0.5})).unwrap();
        assert_eq!(
            u,
            Usage {
                tokens: 15,
                split: Split {
                    input: 10,
                    output: 5,
                    ..Split::default()
                },
                cost_usd: Some(0.5)
            }
        );
        assert!(from_field(&json!(-1)).is_err());
        assert!(from_field(&json!("many")).is_err());
        assert!(from_field(&json!({})).is_err());
        assert!(
            from_field(&json!({"input": "x"}))
                .unwrap_err()
                .contains("input")
        );
        assert!(from_field(&json!({"total": 1, "costUsd": -2})).is_err());
    }

    #[test]
    fn implausible_numbers_are_refused() {
        for bad in [
            json!(18446744073709551615u64),
            json!(1e20),
            json!({"input": 1_000_000_000_001u64}),
            json!({"total": 5, "costUsd": 1e308}),
            json!({"total": 5, "costUsd": 2_000_000.0}),
            json!({"total": 5, "costUsd": -0.5}),
        ] {
            assert!(from_field(&bad).is_err(), "{bad}");
        }
        assert!(from_field(&json!({"total": 5, "costUsd": 999_999.5})).is_ok());
        // In a CLI's output an implausible report is not counted.
        let out = r#"{"type":"result","total_cost_usd":1e308,"usage":{"input_tokens":5,"output_tokens":1}}"#;
        assert_eq!(from_output(out), None);
        let out =
            r#"{"type":"result","usage":{"input_tokens":18446744073709551615,"output_tokens":1}}"#;
        assert_eq!(from_output(out), None);
    }

    #[test]
    fn claude_json_result() {
        let out = r#"{"type":"result","subtype":"success","total_cost_usd":0.0123,
            "usage":{"input_tokens":12,"cache_creation_input_tokens":100,
            "cache_read_input_tokens":1000,"output_tokens":300}}"#;
        assert_eq!(
            from_output(out),
            Some(Usage {
                tokens: 1412,
                split: Split {
                    input: 12,
                    output: 300,
                    cache_read: 1000,
                    cache_write: 100
                },
                cost_usd: Some(0.0123)
            })
        );
    }

    #[test]
    fn claude_stream_counts_only_the_result() {
        let out = "{\"type\":\"assistant\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":5}},\"usage\":{\"input_tokens\":5,\"output_tokens\":5}}\n\
                   warning: something on stderr\n\
                   {\"type\":\"result\",\"usage\":{\"input_tokens\":20,\"output_tokens\":30}}\n";
        assert_eq!(from_output(out).unwrap().tokens, 50);
    }

    #[test]
    fn codex_turns_add_up() {
        let out = "{\"type\":\"thread.started\"}\n\
                   {\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":100,\"cached_input_tokens\":80,\"output_tokens\":10}}\n\
                   {\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":50,\"cached_input_tokens\":0,\"cache_write_input_tokens\":20,\"output_tokens\":5}}\n";
        let u = from_output(out).unwrap();
        assert_eq!(u.tokens, 165);
        // Cache reads and writes are parts of Codex's input count.
        assert_eq!(
            u.split,
            Split {
                input: 50,
                output: 15,
                cache_read: 80,
                cache_write: 20
            }
        );
    }

    #[test]
    fn gemini_pretty_printed_after_noise() {
        let out = "Loaded cached credentials.\n{\n  \"response\": \"ok\",\n  \"stats\": {\"models\": {\"a\": {\"tokens\": {\"total\": 70}}, \"b\": {\"tokens\": {\"total\": 30}}}}\n}\n";
        let u = from_output(out).unwrap();
        assert_eq!(u.tokens, 100);
        assert!(u.split.is_empty(), "no parts were named: {u:?}");
    }

    #[test]
    fn gemini_parts() {
        let out = r#"{"response":"ok","stats":{"models":{"m":{"tokens":{"prompt":150,"candidates":20,"total":175,"cached":50,"thoughts":5,"tool":0}}}}}"#;
        let u = from_output(out).unwrap();
        assert_eq!(u.tokens, 175);
        assert_eq!(
            u.split,
            Split {
                input: 100,
                output: 25,
                cache_read: 50,
                cache_write: 0
            }
        );
    }

    #[test]
    fn plain_text_has_no_usage() {
        assert_eq!(from_output("did the work\n{not json\n"), None);
        assert_eq!(from_output(""), None);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
