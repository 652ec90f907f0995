//! What the tool asks git without changing anything: configuration values, a remote's URL and
//! default branch, where git keeps its hooks, which files it ignores, git's version.

use std::path::{Path, PathBuf};

use super::Git;
use crate::error::Result;

/// Every value of each of `keys` in the repository's configuration (all scopes), in git's
/// order, asked of one git: `(key, values)` in the order of `keys`. Keys are matched as git
/// does, without regard to case.
pub(crate) fn config_values(root: &Path, keys: &[&str]) -> Vec<(String, Vec<String>)> {
    let pattern = format!(
        "^({})$",
        keys.iter()
            .map(|k| k.to_ascii_lowercase().replace('.', "\\."))
            .collect::<Vec<_>>()
            .join("|")
    );
    let out = Git::new(root)
        .args(["config", "--get-regexp", &pattern])
        .run()
        .unwrap_or_default();
    keys.iter()
        .map(|k| {
            let want = k.to_ascii_lowercase();
            let values = out
                .lines()
                .filter_map(|l| l.split_once(' '))
                .filter(|(key, _)| *key == want)
                .map(|(_, v)| v.to_string())
                .collect();
            (k.to_string(), values)
        })
        .collect()
}

/// The scopes of git configuration a user owns beside the repository's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UserScope {
    Global,
    System,
}

/// Every value of the path-valued `key` in one user scope (`~/` expanded by git).
pub(crate) fn config_paths(root: &Path, scope: UserScope, key: &str) -> Vec<PathBuf> {
    let flag = match scope {
        UserScope::Global => "--global",
        UserScope::System => "--system",
    };
    Git::new(root)
        .args(["config", flag, "--path", "--get-all", key])
        .run()
        .map(|o| o.lines().map(PathBuf::from).collect())
        .unwrap_or_default()
}

/// The URL of remote `name` (as configured, `insteadOf` applied).
pub(crate) fn remote_url(root: &Path, name: &str) -> Result<String> {
    Git::new(root).args(["remote", "get-url", name]).run()
}

/// The branch a remote's HEAD names: from `refs/remotes/<remote>/HEAD`, else by asking the
/// remote (`ls-remote --symref`, never prompting).
pub(crate) fn remote_default_branch(root: &Path, remote: &str) -> Option<String> {
    let tracking = format!("refs/remotes/{remote}/");
    if let Ok(repo) = gix::open(root)
        && let Ok(Some(r)) = repo.try_find_reference(format!("{tracking}HEAD").as_str())
        && let gix::refs::TargetRef::Symbolic(name) = r.target()
        && let Some(b) = name.as_bstr().to_string().strip_prefix(&tracking)
    {
        return Some(b.to_string());
    }
    let out = Git::new(root)
        .args(["ls-remote", "--symref", remote, "HEAD"])
        .run()
        .ok()?;
    out.lines().find_map(|line| {
        line.strip_prefix("ref: refs/heads/")
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
    })
}

/// The commit `rev` names, as seen from `dir`.
pub(crate) fn rev_parse(dir: &Path, rev: &str) -> Result<String> {
    super::resolve(dir, rev)
}

/// Does some remote-tracking branch contain `HEAD` of the work tree at `dir`?
pub(crate) fn head_on_a_remote(dir: &Path) -> bool {
    Git::new(dir)
        .args(["branch", "-r", "--contains", "HEAD"])
        .run()
        .map(|o| !o.trim().is_empty())
        .unwrap_or(false)
}

/// Where git looks for the repository's hooks (`core.hooksPath` and linked worktrees
/// honoured), absolute.
pub(crate) fn hooks_dir(root: &Path) -> Result<PathBuf> {
    Git::new(root)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .run()
        .map(PathBuf::from)
}

/// Untracked files of the work tree at `root` that git ignores by `exclude_from` (a file of
/// patterns, relative to `root`), or by the standard ignore rules when `None`.
pub(crate) fn ignored_files(root: &Path, exclude_from: Option<&str>) -> Result<Vec<String>> {
    let rule = match exclude_from {
        Some(f) => format!("--exclude-from={f}"),
        None => "--exclude-standard".to_string(),
    };
    let out = Git::new(root)
        .args(["ls-files", "--others", "--ignored", "-z", &rule])
        .run()?;
    Ok(super::nul_separated(&out))
}

/// Is `rel` (a path relative to `root`) in the index of the work tree at `root`?
pub(crate) fn is_tracked(root: &Path, rel: &str) -> bool {
    Git::new(root)
        .args(["ls-files", "-z", "--error-unmatch", "--", rel])
        .run()
        .is_ok()
}

/// `git --version`, as git prints it.
pub(crate) fn version(cwd: &Path) -> Result<String> {
    Git::new(cwd).args(["--version"]).run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_come_from_one_git_in_the_order_asked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(root)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}: {out:?}");
        };
        git(&["init", "-q"]);
        git(&["config", "--add", "swarm.gitlabHost", "gl.example.com"]);
        git(&["config", "--add", "swarm.githubHost", "a.example.com"]);
        git(&["config", "--add", "swarm.githubHost", "b example"]);
        // Another key of the section: not asked for.
        git(&["config", "--add", "swarm.githubHostname", "no"]);
        let got = config_values(
            root,
            &[
                "swarm.githubHost",
                "swarm.bitbucketHost",
                "swarm.gitlabHost",
            ],
        );
        assert_eq!(
            got,
            [
                (
                    "swarm.githubHost".to_string(),
                    vec!["a.example.com".to_string(), "b example".to_string()]
                ),
                ("swarm.bitbucketHost".to_string(), vec![]),
                (
                    "swarm.gitlabHost".to_string(),
                    vec!["gl.example.com".to_string()]
                ),
            ]
        );
    }
}
