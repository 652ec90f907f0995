//! Repository-relative paths as plans name them (task `files`, lane `touch-map`) and as
//! policies name them (`fileAccess.deny`): normalised lexically in this one place, then
//! judged in their normal form, so `src/../.git/hooks/pre-commit`, `.swarm//runs/x` and
//! `.swarm/./runs/x` are refused exactly as `.git/hooks/pre-commit` and `.swarm/runs/x` are.
//! The normal form is what the run keeps (`allowedFiles`, disjointness, the guard rails).

use globset::Glob;

/// The normal form of a repository-relative path, or why it cannot name a file of the
/// repository that an agent may change.
///
/// Lexical, without looking at the disk: empty and `.` components are dropped, `..` removes
/// the component before it (leaving the repository is refused), and a trailing `/` (a
/// directory) is kept as one `/`. The result never names `.git` (in any letter case, as
/// case-insensitive file systems read it), `.swarm/runs/`, or the repository root itself.
pub(crate) fn normalize(p: &str) -> Result<String, String> {
    if p.trim().is_empty() {
        return Err("the path is empty".into());
    }
    if p.chars().any(char::is_control) {
        return Err("the path contains control characters".into());
    }
    let b = p.as_bytes();
    if p.starts_with('/')
        || p.starts_with('\\')
        || (b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic())
    {
        return Err(
            "absolute paths are not allowed; use a path relative to the repository root".into(),
        );
    }
    if p.starts_with('~') {
        return Err("paths relative to a home directory are not allowed; use a path relative to the repository root".into());
    }
    if p.contains('\\') {
        return Err("backslashes are not allowed; use '/' as the separator".into());
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("the path leaves the repository ('..')".into());
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(
            "the path names the repository root itself; name the files or directories the task changes"
                .into(),
        );
    }
    if parts.iter().any(|c| is_git_dir(c)) {
        return Err("files inside .git may not be changed".into());
    }
    if names_runs(&parts) {
        return Err("files under .swarm/runs/ belong to git swarm".into());
    }
    let mut out = parts.join("/");
    if p.ends_with('/') {
        out.push('/');
    }
    Ok(out)
}

/// The normal form when there is one, else the text as given (a pattern that is judged
/// elsewhere, or not at all, still has to match like before).
pub(crate) fn normalize_lenient(p: &str) -> String {
    normalize(p).unwrap_or_else(|_| p.trim_start_matches("./").to_string())
}

/// `.git` as git itself refuses it in a path: any letter case, and with the trailing dots and
/// spaces that Windows file systems drop.
fn is_git_dir(comp: &str) -> bool {
    let bare = comp.trim_end_matches(['.', ' ']);
    if bare.eq_ignore_ascii_case(".git") {
        return true;
    }
    is_glob(comp) && comp.starts_with('.') && component_matches(comp, ".git")
}

/// Does the path name `.swarm/runs` or anything that contains it (`.swarm` itself, or a glob
/// such as `.swarm/r*`)?
fn names_runs(parts: &[&str]) -> bool {
    let Some(first) = parts.first() else {
        return false;
    };
    let swarm = first.eq_ignore_ascii_case(".swarm")
        || (is_glob(first) && first.starts_with('.') && component_matches(first, ".swarm"));
    if !swarm {
        return false;
    }
    match parts.get(1) {
        None => true,
        Some(second) => {
            second.eq_ignore_ascii_case("runs")
                || (is_glob(second) && component_matches(second, "runs"))
        }
    }
}

fn is_glob(comp: &str) -> bool {
    comp.contains(['*', '?', '[', '{'])
}

fn component_matches(pattern: &str, name: &str) -> bool {
    Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(name))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        for (given, normal) in [
            ("src/a.rs", "src/a.rs"),
            ("./src//a.rs", "src/a.rs"),
            ("src/./x/../a.rs", "src/a.rs"),
            ("docs/", "docs/"),
            ("docs//", "docs/"),
            ("a/../b", "b"),
            ("docs/**/*.md", "docs/**/*.md"),
            (".swarm/standards.md", ".swarm/standards.md"),
            (".swarm/./standards.md", ".swarm/standards.md"),
        ] {
            assert_eq!(normalize(given).as_deref(), Ok(normal), "{given}");
        }
    }

    #[test]
    fn spellings_of_refused_paths_are_refused() {
        for bad in [
            "src/../.git/hooks/pre-commit",
            ".git/",
            "./.git/config",
            ".GIT/config",
            ".git./config",
            "sub/.git/config",
            ".gi?/hooks/pre-commit",
            ".swarm//runs/x/run.status.json",
            ".swarm/./runs/x",
            ".swarm/runs/",
            ".SWARM/Runs/x",
            ".swarm",
            ".swarm/",
            ".swarm/r*/x",
            "docs/../..",
            "a/../../x",
            ".",
            "./",
            "a/..",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn the_reason_names_the_rule() {
        let why = normalize("src/../.git/hooks/pre-commit").unwrap_err();
        assert!(why.contains(".git"), "{why}");
        let why = normalize(".swarm//runs/x").unwrap_err();
        assert!(why.contains(".swarm/runs/"), "{why}");
    }
}
