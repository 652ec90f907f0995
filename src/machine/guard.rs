//! Guard rails: which changed paths an invocation was not allowed to make.

use globset::{GlobBuilder, GlobMatcher};

/// A pattern from `allowedFiles` or `fileAccess.deny`: a plain path, a directory (`dir/`,
/// everything below it), or a glob (`*` stays within a directory, `**/` spans any).
struct Pattern {
    text: String,
    glob: Option<GlobMatcher>,
}

impl Pattern {
    fn new(p: &str) -> Pattern {
        // Judged in the normal form plan paths are kept in (`./x`, `a//b`, `a/./b`, `a/../b`
        // mean the same file for a pattern of the policy too).
        let text = super::repo_path::normalize_lenient(p);
        let glob = if text.contains(['*', '?', '[', '{']) {
            GlobBuilder::new(&text)
                .literal_separator(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher())
        } else {
            None
        };
        Pattern { text, glob }
    }

    fn matches(&self, path: &str) -> bool {
        match &self.glob {
            Some(g) => g.is_match(path),
            None => {
                let t = self.text.trim_end_matches('/');
                path == t || path.starts_with(&format!("{t}/"))
            }
        }
    }
}

/// One line per violation: a changed path outside `allowed`, or matching a `deny` pattern.
pub fn check(changed: &[String], allowed: &[String], deny: &[String]) -> Vec<String> {
    let allowed: Vec<Pattern> = allowed.iter().map(|p| Pattern::new(p)).collect();
    let deny: Vec<Pattern> = deny.iter().map(|p| Pattern::new(p)).collect();
    let mut out = Vec::new();
    for path in changed {
        if let Some(d) = deny.iter().find(|d| d.matches(path)) {
            out.push(format!(
                "{path} matches the denied pattern {} (policies.fileAccess.deny)",
                d.text
            ));
        } else if !allowed.iter().any(|a| a.matches(path)) {
            if allowed.is_empty() {
                out.push(format!(
                    "{path} was changed, but this step may not change any file"
                ));
            } else {
                out.push(format!("{path} is outside context.allowedFiles"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn plain_paths_directories_and_globs() {
        let allowed = s(&["src/lib.rs", "docs/", "tests/**/*.rs", "*.md"]);
        assert!(
            check(
                &s(&[
                    "src/lib.rs",
                    "docs/a/b.txt",
                    "tests/x/y.rs",
                    "tests/z.rs",
                    "README.md"
                ]),
                &allowed,
                &[]
            )
            .is_empty()
        );
        let v = check(&s(&["src/main.rs", "sub/README.md"]), &allowed, &[]);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("src/main.rs is outside"));
    }

    #[test]
    fn deny_wins_and_reviewers_change_nothing() {
        let v = check(
            &s(&["config/.env"]),
            &s(&["**"]),
            &s(&["**/.env", "**/node_modules/**"]),
        );
        assert!(v[0].contains("denied pattern **/.env"), "{v:?}");
        let v = check(&s(&["src/a.rs"]), &[], &[]);
        assert!(v[0].contains("may not change any file"));
        assert!(check(&[], &[], &[]).is_empty());
    }
}
