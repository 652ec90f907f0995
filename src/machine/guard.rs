//! Guard rails: which changed paths an invocation was not allowed to make.

use std::collections::HashMap;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Patterns from `allowedFiles` or `fileAccess.deny`: plain paths, directories (`dir/`,
/// everything below it), and globs (`*` stays within a directory, `**/` spans any).
///
/// Matching is linear in the number of paths judged: plain paths and directories are looked
/// up by each ancestor of a path (a hash lookup per path component), and the globs are matched
/// all at once by one `GlobSet`. A result may list a hundred thousand files.
struct Patterns {
    /// Plain path or directory (normal form, no trailing `/`) → the pattern as written.
    plain: HashMap<String, String>,
    globs: GlobSet,
    /// The glob patterns as written, by their index in `globs`.
    glob_text: Vec<String>,
}

impl Patterns {
    fn new(patterns: &[String]) -> Patterns {
        let mut plain = HashMap::new();
        let mut builder = GlobSetBuilder::new();
        let mut glob_text = Vec::new();
        for p in patterns {
            // Judged in the normal form plan paths are kept in (`./x`, `a//b`, `a/./b`,
            // `a/../b` mean the same file for a pattern of the policy too).
            let text = super::repo_path::normalize_lenient(p);
            let glob = text
                .contains(['*', '?', '[', '{'])
                .then(|| GlobBuilder::new(&text).literal_separator(true).build().ok())
                .flatten();
            match glob {
                Some(g) => {
                    builder.add(g);
                    glob_text.push(text);
                }
                None => {
                    plain
                        .entry(text.trim_end_matches('/').to_string())
                        .or_insert(text);
                }
            }
        }
        let globs = builder.build().unwrap_or_else(|_| GlobSet::empty());
        Patterns {
            plain,
            globs,
            glob_text,
        }
    }

    fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.glob_text.is_empty()
    }

    /// The pattern (as written) that matches `path`, if any.
    fn find(&self, path: &str) -> Option<&str> {
        // The path itself, then each directory above it.
        let mut prefix = path;
        loop {
            if let Some(t) = self.plain.get(prefix) {
                return Some(t);
            }
            match prefix.rfind('/') {
                Some(i) => prefix = &prefix[..i],
                None => break,
            }
        }
        if self.glob_text.is_empty() {
            return None;
        }
        self.globs
            .matches(path)
            .into_iter()
            .min()
            .map(|i| self.glob_text[i].as_str())
    }
}

/// A path as messages show it: as is when it is plain, quoted with escapes when it holds
/// characters that would break or disguise a line (a newline, other control characters, a
/// quote, leading or trailing spaces).
pub(crate) fn shown(path: &str) -> String {
    let plain = !path.is_empty()
        && !path.chars().any(|c| c.is_control() || c == '"')
        && path.trim() == path;
    if plain {
        path.to_string()
    } else {
        format!("\"{}\"", path.escape_debug())
    }
}

/// One line per violation: a changed path outside `allowed`, or matching a `deny` pattern.
pub(crate) fn check(changed: &[String], allowed: &[String], deny: &[String]) -> Vec<String> {
    let allowed = Patterns::new(allowed);
    let deny = Patterns::new(deny);
    let mut out = Vec::new();
    for path in changed {
        if let Some(d) = deny.find(path) {
            out.push(format!(
                "{} matches the denied pattern {} (policies.fileAccess.deny)",
                shown(path),
                shown(d)
            ));
        } else if allowed.find(path).is_none() {
            if allowed.is_empty() {
                out.push(format!(
                    "{} was changed, but this step may not change any file",
                    shown(path)
                ));
            } else {
                out.push(format!("{} is outside context.allowedFiles", shown(path)));
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

    #[test]
    fn patterns_are_matched_in_their_normal_form() {
        let allowed = s(&["./src//lib.rs", "docs/./guide/", "a/../b.rs"]);
        assert!(
            check(
                &s(&["src/lib.rs", "docs/guide/x.md", "b.rs"]),
                &allowed,
                &[]
            )
            .is_empty()
        );
        let v = check(&s(&["config/.env"]), &s(&["**"]), &s(&["./config//.env"]));
        assert_eq!(v.len(), 1, "{v:?}");
    }

    #[test]
    fn a_name_with_a_newline_stays_on_one_line() {
        let v = check(&s(&["evil\nsrc/lib.rs is fine"]), &s(&["src/"]), &[]);
        assert_eq!(v.len(), 1);
        assert!(!v[0].contains('\n'), "{v:?}");
        assert!(
            v[0].starts_with("\"evil\\nsrc/lib.rs is fine\" is outside"),
            "{v:?}"
        );
    }

    #[test]
    fn the_first_matching_glob_is_named() {
        let v = check(&s(&["a/b.env"]), &s(&["**"]), &s(&["**/*.env", "a/*"]));
        assert!(v[0].contains("denied pattern **/*.env"), "{v:?}");
    }
}
