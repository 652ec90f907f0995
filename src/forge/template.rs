//! argv templates: `policies.pr.createCommand` (and the exec templates of agents). A string is
//! split into words the way a shell would — quotes respected — but never run by a shell;
//! placeholders are substituted inside each word afterwards, so a value full of quotes, spaces
//! or `$(…)` stays exactly one argument.

use serde_json::Value;

/// Splits a template (a string or an array of strings) into words.
pub(crate) fn words(template: &Value) -> Result<Vec<String>, String> {
    match template {
        Value::String(s) => split(s),
        Value::Array(a) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "every element must be a string".to_string())
            })
            .collect(),
        _ => Err("must be a string or an array of strings".to_string()),
    }
}

/// Splits one string into words as a shell would, quotes respected.
pub(crate) fn split(s: &str) -> Result<Vec<String>, String> {
    shell_words::split(s).map_err(|e| format!("cannot split {s:?} into words: {e}"))
}

/// Replaces every `{name}` of `vars` in every word; unknown placeholders are left as they are.
pub(crate) fn substitute(words: &[String], vars: &[(&str, &str)]) -> Vec<String> {
    words
        .iter()
        .map(|w| {
            let mut out = String::with_capacity(w.len());
            let mut rest = w.as_str();
            while let Some(i) = rest.find('{') {
                out.push_str(&rest[..i]);
                let after = &rest[i + 1..];
                match after.find('}').map(|j| (&after[..j], j)) {
                    Some((name, j)) if vars.iter().any(|(k, _)| *k == name) => {
                        let v = vars.iter().find(|(k, _)| *k == name).expect("checked").1;
                        out.push_str(v);
                        rest = &after[j + 1..];
                    }
                    _ => {
                        out.push('{');
                        rest = after;
                    }
                }
            }
            out.push_str(rest);
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reference_template_keeps_hostile_values_in_one_argument() {
        let t = json!(
            "gh pr create --base {baseBranch} --head {head} --title \"{title}\" --body \"{body}\""
        );
        let w = words(&t).unwrap();
        let title = "Fix \"quotes\" and $(rm -rf /) `x`; echo pwned";
        let argv = substitute(
            &w,
            &[
                ("baseBranch", "main"),
                ("head", "swarm/x"),
                ("title", title),
                ("body", "line1\nline2"),
            ],
        );
        assert_eq!(
            argv,
            [
                "gh",
                "pr",
                "create",
                "--base",
                "main",
                "--head",
                "swarm/x",
                "--title",
                title,
                "--body",
                "line1\nline2"
            ]
        );
    }

    #[test]
    fn arrays_unknown_placeholders_and_braces() {
        let argv = substitute(
            &words(&json!(["tool", "{head}-{nope}", "{", "{}"])).unwrap(),
            &[("head", "h")],
        );
        assert_eq!(argv, ["tool", "h-{nope}", "{", "{}"]);
        assert!(words(&json!(3)).is_err());
        assert!(words(&json!("unterminated \"quote")).is_err());
    }
}
