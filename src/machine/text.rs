//! Text that agents write and git swarm publishes: plan and result fields end up in commit
//! messages, branch names and pull-request titles and bodies. Git refuses a NUL anywhere in a
//! commit message, a process argument cannot hold one, and a subject, title or branch name is
//! one line. Such text is refused when the plan or result is judged (with the JSON pointer),
//! so a run never reaches `publish` with text that cannot be published; and what the tool
//! builds from it is cleaned once more, so a run recorded before these checks still publishes.

use serde_json::Value;

use crate::schema::Violation;

/// Where a text ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One line: a commit subject, a pull-request title, a name in a commit message.
    Line,
    /// Several lines: a commit body, a pull-request body.
    Body,
}

/// What is wrong with `s` as text of `kind`, if anything.
pub(crate) fn problem(s: &str, kind: Kind) -> Option<String> {
    if let Some(i) = s.find('\0') {
        return Some(format!(
            "contains a NUL character (at byte {i}), which git refuses in commit messages and no command argument can hold"
        ));
    }
    let bad = s.chars().find(|c| {
        c.is_control()
            && match kind {
                Kind::Line => *c != '\t',
                Kind::Body => !matches!(c, '\n' | '\r' | '\t'),
            }
    })?;
    Some(match (kind, bad) {
        (Kind::Line, '\n' | '\r') => {
            "contains a line break; it becomes a commit subject or pull-request title, which is one line"
                .to_string()
        }
        _ => format!(
            "contains the control character U+{:04X}; write plain text",
            bad as u32
        ),
    })
}

/// The plan's text fields that are published, with where they go; every other string of the
/// plan is checked for NUL only.
fn plan_kind(pointer: &str) -> Option<Kind> {
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    match parts.as_slice() {
        ["goal"] => Some(Kind::Line),
        ["description"] | ["acceptance-criteria", _] => Some(Kind::Body),
        ["lanes", _, "branch-name"] | ["lanes", _, "tasks", _, "task-id"] => Some(Kind::Line),
        ["lanes", _, "tasks", _, "description"] => Some(Kind::Body),
        _ => None,
    }
}

/// The result fields that are published (a summary goes into the pull request's body).
fn result_kind(pointer: &str) -> Option<Kind> {
    (pointer == "/summary").then_some(Kind::Body)
}

/// Every text problem of a plan, as `"<pointer> <problem>"` lines of feedback.
pub(crate) fn plan_problems(plan: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(plan, &mut String::new(), &mut |ptr, s| {
        let kind = plan_kind(ptr);
        let found = match kind {
            Some(k) => problem(s, k),
            None => s.contains('\0').then(|| problem(s, Kind::Body)).flatten(),
        };
        if let Some(why) = found {
            out.push(format!("{ptr} {why}"));
        }
    });
    out
}

/// Every text problem of a result, as schema-like violations.
pub(crate) fn result_violations(result: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    walk(result, &mut String::new(), &mut |ptr, s| {
        let found = match result_kind(ptr) {
            Some(k) => problem(s, k),
            None => s.contains('\0').then(|| problem(s, Kind::Body)).flatten(),
        };
        if let Some(why) = found {
            out.push(Violation {
                pointer: ptr.to_string(),
                message: why,
            });
        }
    });
    out
}

/// Calls `f(pointer, string)` for every string value in `v` (object keys too, at their
/// member's pointer).
fn walk(v: &Value, ptr: &mut String, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(ptr, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = ptr.len();
                ptr.push_str(&format!("/{i}"));
                walk(item, ptr, f);
                ptr.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                if k.contains('\0') {
                    f(ptr, k);
                }
                walk(item, ptr, f);
                ptr.truncate(len);
            }
        }
        _ => {}
    }
}

/// `s` as one line git and a forge accept: control characters become spaces.
pub(crate) fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `s` as a message body git and a forge accept: NUL and control characters other than line
/// breaks and tabs are dropped.
pub(crate) fn clean_body(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// A commit message (subject line, body) that git accepts whatever the texts it was made of.
pub(crate) fn clean_message(m: &str) -> String {
    match m.split_once('\n') {
        Some((subject, body)) => format!("{}\n{}", clean_line(subject), clean_body(body)),
        None => clean_line(m),
    }
}

/// The first line of `s`, trimmed and shortened to 60 characters.
pub(crate) fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or_default().trim();
    if l.chars().count() > 60 {
        format!("{}…", l.chars().take(59).collect::<String>())
    } else {
        l.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_anywhere_and_line_breaks_in_lines_are_problems() {
        assert!(problem("a\0b", Kind::Body).unwrap().contains("NUL"));
        assert!(problem("a\nb", Kind::Line).unwrap().contains("line break"));
        assert!(problem("a\nb\r\n\tc", Kind::Body).is_none());
        assert!(
            problem("a\u{1b}[31mb", Kind::Body)
                .unwrap()
                .contains("U+001B")
        );
        assert!(problem("tab\tok", Kind::Line).is_none());
    }

    #[test]
    fn plan_problems_name_the_pointer() {
        let plan = json!({
            "goal": "two\nlines", "description": "ok\nfine",
            "lanes": [{"tasks": [{"task-id": "t1", "description": "x\u{0}y"}]}],
            "risks": ["r\u{0}"], "assumptions": ["a\nb"]
        });
        let found = plan_problems(&plan);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("/goal contains a line break"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("/lanes/0/tasks/0/description contains a NUL"),
            "{found:?}"
        );
        assert!(found[2].starts_with("/risks/0 contains a NUL"), "{found:?}");
    }

    #[test]
    fn results_are_checked_for_nul_and_their_summary() {
        let v = json!({"summary": "s\u{7}", "filesChanged": ["a\u{0}b"], "note": "x\ny"});
        let found = result_violations(&v);
        let pointers: Vec<_> = found.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(pointers, ["/summary", "/filesChanged/0"]);
    }

    #[test]
    fn messages_are_cleaned() {
        assert_eq!(
            clean_message("a\0b\tc\n\nbody\0\nx\u{1b}"),
            "a b c\n\nbody\nx"
        );
    }
}
