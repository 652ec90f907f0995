//! The standards gate. `.swarm/standards.md` is written by people, never by the tool; a run
//! only starts when it holds rules an agent can act on.
//!
//! The rule: drop headings, HTML comments, horizontal rules, blank lines, and any line that
//! is a placeholder (mentions TODO, TBD, FIXME, XXX, "placeholder", "lorem ipsum", or is
//! template text such as "describe your …", "add your …", "fill in …", "<…>", "[…]"). What
//! is left must be at least [`MIN_LINES`] lines and [`MIN_WORDS`] words.

use std::path::Path;

pub(crate) const MIN_LINES: usize = 2;
pub(crate) const MIN_WORDS: usize = 12;

const PLACEHOLDER_WORDS: &[&str] = &["todo", "tbd", "fixme", "xxx", "placeholder", "lorem ipsum"];
const TEMPLATE_PHRASES: &[&str] = &[
    "describe your",
    "describe the",
    "add your",
    "fill in",
    "fill this",
    "your standards here",
    "write your",
    "replace this",
    "to be defined",
    "to be decided",
    "coming soon",
];

/// What to write, for messages.
pub(crate) fn what_to_write(path: &Path) -> String {
    format!(
        "write the project's rules in {} (at least {MIN_LINES} lines and {MIN_WORDS} words of concrete rules, not headings or TODOs): how code is formatted and linted, how it is tested, naming and structure conventions, and what must never be changed",
        path.display()
    )
}

/// The standards file's text: `Ok(None)` when there is none. Only a regular file of at most
/// [`crate::files::MAX_JSON_BYTES`] is read (a repository may commit a symlink to a FIFO or
/// a device in its place; reading one must not hang).
pub(crate) fn read(path: &Path) -> Result<Option<String>, String> {
    // `<root>/.swarm/standards.md`: its text goes into every context pack, so it is read only
    // inside the repository.
    if let Some(root) = path.parent().and_then(Path::parent) {
        crate::files::safe::check_inside(root, path)
            .map_err(|e| format!("{} cannot be read: {}", path.display(), e.message))?;
    }
    crate::files::safe::read_if_exists(path, Some(crate::files::MAX_JSON_BYTES))
        .map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned()))
        .map_err(|e| format!("{} cannot be read: {}", path.display(), e.message))
}

/// The standards text for context packs; empty when there is none that can be read.
pub(crate) fn text(path: &Path) -> String {
    read(path).ok().flatten().unwrap_or_default()
}

/// `Ok` when the standards are actionable; `Err` says exactly what is wrong.
pub(crate) fn check(path: &Path) -> Result<(), String> {
    let text = match read(path)? {
        Some(t) => t,
        None => {
            return Err(format!(
                "{} does not exist; {}",
                path.display(),
                what_to_write(path)
            ));
        }
    };
    let (lines, words) = substance(&text);
    if text.trim().is_empty() {
        return Err(format!(
            "{} is empty; {}",
            path.display(),
            what_to_write(path)
        ));
    }
    if lines < MIN_LINES || words < MIN_WORDS {
        return Err(format!(
            "{} is placeholder-only or too short to act on: without headings, comments and TODO/TBD/template lines it has {lines} line{} and {words} word{}; {}",
            path.display(),
            if lines == 1 { "" } else { "s" },
            if words == 1 { "" } else { "s" },
            what_to_write(path)
        ));
    }
    Ok(())
}

/// Counts the substantive lines and words of a standards file.
pub(crate) fn substance(text: &str) -> (usize, usize) {
    let without_comments = strip_html_comments(text);
    let mut lines = 0;
    let mut words = 0;
    for raw in without_comments.lines() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || is_rule(l) {
            continue;
        }
        // List markers and checkboxes are not content.
        let content = l
            .trim_start_matches(['-', '*', '+', '>', ' ', '\t'])
            .trim_start_matches("[ ]")
            .trim_start_matches("[x]")
            .trim();
        let content = content
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start_matches(['.', ')'])
            .trim();
        if content.is_empty() || is_placeholder(content) {
            continue;
        }
        let w = content
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count();
        if w == 0 {
            continue;
        }
        lines += 1;
        words += w;
    }
    (lines, words)
}

fn is_rule(l: &str) -> bool {
    l.len() >= 3 && l.chars().all(|c| matches!(c, '-' | '*' | '_' | '=' | ' '))
}

fn is_placeholder(l: &str) -> bool {
    let lower = l.to_lowercase();
    let has_word = |w: &str| {
        lower.match_indices(w).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + w.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    };
    if PLACEHOLDER_WORDS.iter().any(|w| has_word(w)) {
        return true;
    }
    if TEMPLATE_PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    let bracketed = |o: char, c: char| l.starts_with(o) && l.ends_with(c) && l.len() > 2;
    bracketed('<', '>') || bracketed('[', ']') || bracketed('{', '}') || l == "..." || l == "…"
}

fn strip_html_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        match rest[i..].find("-->") {
            Some(j) => rest = &rest[i + j + 3..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_todos_and_templates_do_not_count() {
        let t = "# Standards\n\n## Style\nTODO: write style rules\n- TBD\n<!-- describe your testing rules here -->\n<your rules>\nDescribe your conventions here.\n---\n";
        assert_eq!(substance(t), (0, 0));
    }

    #[test]
    fn real_rules_count() {
        let t = "# Standards\n- Format with rustfmt and keep clippy clean with -D warnings.\n- Every change comes with a test that fails without it.\n";
        let (lines, words) = substance(t);
        assert_eq!(lines, 2);
        assert!(words >= 12, "{words}");
    }

    #[test]
    fn todo_inside_a_word_is_not_a_placeholder() {
        assert!(!is_placeholder("Keep the mastodon integration untouched"));
        assert!(is_placeholder("todo"));
        assert!(is_placeholder("Testing: TBD."));
    }

    #[test]
    fn check_explains_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("standards.md");
        let e = check(&p).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        std::fs::write(&p, "").unwrap();
        assert!(check(&p).unwrap_err().contains("is empty"));
        std::fs::write(&p, "# Standards\nTODO\n").unwrap();
        let e = check(&p).unwrap_err();
        assert!(
            e.contains("placeholder-only") && e.contains("0 lines"),
            "{e}"
        );
        std::fs::write(&p, "Use four spaces.\n").unwrap();
        assert!(check(&p).unwrap_err().contains("1 line and 3 words"));
        std::fs::write(
            &p,
            "- Run the unit tests with make test before every commit.\n- Public functions have doc comments that say why.\n",
        )
        .unwrap();
        assert!(check(&p).is_ok());
    }
}
