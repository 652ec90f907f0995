//! The cones of sparse worktrees (`policies.worktree.sparse`): the directories of the files a
//! run (or a worker) works on, plus the policy's; root files are always in a cone.

/// The cone for `files` and the policy's `extra` directories: sorted, without duplicates or
/// directories another one of the list contains.
pub(crate) fn cone(files: &[String], extra: &[String]) -> Vec<String> {
    let mut dirs: Vec<String> = files
        .iter()
        .filter_map(|f| {
            f.trim_end_matches('/')
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
        })
        .chain(extra.iter().cloned())
        .filter(|d| !d.is_empty())
        .collect();
    dirs.sort();
    dirs.dedup();
    let all = dirs.clone();
    dirs.retain(|d| {
        !all.iter()
            .any(|o| o != d && d.starts_with(o.as_str()) && d[o.len()..].starts_with('/'))
    });
    dirs
}

/// The directories of `files` that `cone` lacks (what a pass on them needs added).
pub(crate) fn missing(cone_dirs: &[String], files: &[String]) -> Vec<String> {
    cone(files, &[])
        .into_iter()
        .filter(|d| {
            !cone_dirs
                .iter()
                .any(|c| d == c || (d.starts_with(c.as_str()) && d[c.len()..].starts_with('/')))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cones_hold_the_directories_of_the_files() {
        assert_eq!(
            cone(
                &v(&["src/a.rs", "src/b/c.rs", "README.md", "docs/x.md"]),
                &v(&["tools"])
            ),
            v(&["docs", "src", "tools"])
        );
        assert_eq!(cone(&v(&["top.txt"]), &[]), Vec::<String>::new());
        assert_eq!(
            cone(&v(&["a/b/c.txt", "a/bb/d.txt"]), &[]),
            v(&["a/b", "a/bb"])
        );
        assert_eq!(
            missing(&v(&["src"]), &v(&["src/x/y.rs", "lib/z.rs", "r.md"])),
            v(&["lib"])
        );
        assert!(missing(&v(&["a"]), &v(&["ab/c.rs"])) == v(&["ab"]));
    }
}
