//! Where worktrees go, and where they may not. A run's worktree is
//! `../<workspace-dir>-swarm-<name>` unless a template says otherwise
//! (`behavior.branching.worktreePathTemplate` in the workflow config,
//! `git.branching.worktreeNameTemplate` in the repository's policy); a parallel worker's is
//! `<run worktree>--wN`. Whatever a template says, a worktree stays inside the workspace's
//! parent directory, or inside a root the user allowed in their own git config
//! (`git config --global --add swarm.worktreeRoot <dir>`): a policy committed to a repository
//! (or a template with a typo) must not check the repository out into, say, a directory on
//! `PATH`.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The git config key of extra worktree roots (global or system config only: a repository's
/// own config can be changed by the agents working in it).
pub const ROOT_KEY: &str = "swarm.worktreeRoot";

/// What decided a worktree's path, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    ConfigTemplate,
    PolicyTemplate,
    Default,
    /// An earlier attempt of this run recorded it (`worktree.json` in the run folder).
    Recorded,
    /// The run's status names it (`worktreePath`).
    Status,
    /// A parallel worker's worktree beside the run's.
    Worker,
}

impl Source {
    fn key(self) -> &'static str {
        match self {
            Source::ConfigTemplate => {
                "behavior.branching.worktreePathTemplate (in the workflow config)"
            }
            Source::PolicyTemplate => {
                "git.branching.worktreeNameTemplate (in .swarm/policies.json)"
            }
            Source::Default => "the default worktree place (../<workspace>-swarm-<name>)",
            Source::Recorded => "worktree.json in the run folder",
            Source::Status => "worktreePath in run.status.json",
            Source::Worker => "a parallel worker's worktree (<run worktree>--wN)",
        }
    }
}

/// Where the worktree of `name` goes: `behavior.branching.worktreePathTemplate` (relative to
/// the workspace root), else the policy's `worktreeNameTemplate` in the workspace's parent,
/// else `../<workspace-dir>-swarm-<name>`. Lexically normalised; not yet judged.
pub fn worktree_path(
    root: &Path,
    cfg_template: Option<&str>,
    policy_template: Option<&str>,
    name: &str,
    run_id: &str,
) -> (PathBuf, Source) {
    let dir = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workspace".to_string());
    let fill = |t: &str| {
        t.replace("{workspaceDir}", &dir)
            .replace("{workspace}", &dir)
            .replace("{friendlyName}", name)
            .replace("{friendly-name}", name)
            .replace("{runId}", run_id)
    };
    let (p, source) = match (cfg_template, policy_template) {
        (Some(t), _) => {
            let f = PathBuf::from(fill(t));
            (
                if f.is_absolute() { f } else { root.join(f) },
                Source::ConfigTemplate,
            )
        }
        (None, Some(t)) => (
            root.parent().unwrap_or(root).join(fill(t)),
            Source::PolicyTemplate,
        ),
        (None, None) => (
            root.parent()
                .unwrap_or(root)
                .join(format!("{dir}-swarm-{name}")),
            Source::Default,
        ),
    };
    (lexical(&p), source)
}

/// Refuses templates that would put a worktree outside the allowed places, judged with a
/// sample name (every name a run uses is one path component, so it cannot change where the
/// template leads): `start` says so before a run exists.
pub fn check_templates(
    root: &Path,
    cfg_template: Option<&str>,
    policy_template: Option<&str>,
) -> Result<()> {
    if cfg_template.is_none() && policy_template.is_none() {
        return Ok(());
    }
    let (p, source) = worktree_path(root, cfg_template, policy_template, "name", "run-id");
    confine(root, &p, source)
}

/// `.` dropped and `..` resolved, without looking at the disk.
pub fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The path as the file system will resolve it: the longest existing ancestor with its
/// symlinks resolved, then the rest (a symlink in the workspace's parent must not lead a
/// worktree elsewhere).
fn real(p: &Path) -> PathBuf {
    let p = lexical(p);
    let mut existing = p.as_path();
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        if let Ok(r) = std::fs::canonicalize(existing) {
            let mut out = r;
            for c in rest.iter().rev() {
                out.push(c);
            }
            return lexical(&out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return p,
        }
    }
}

/// The roots the user allowed beside the workspace's parent: `swarm.worktreeRoot` in their
/// global and system git config (absolute paths; `~/` is expanded).
fn configured_roots(root: &Path) -> Vec<PathBuf> {
    use crate::git::query::{UserScope, config_paths};
    [UserScope::Global, UserScope::System]
        .into_iter()
        .flat_map(|scope| config_paths(root, scope, ROOT_KEY))
        .filter(|p| p.is_absolute())
        .collect()
}

/// Refuses a worktree path outside the workspace's parent directory and outside every
/// configured root (strictly inside: a worktree is never the root itself). The error names
/// what decided the path and where it resolved.
pub fn confine(root: &Path, path: &Path, source: Source) -> Result<()> {
    let candidate = real(path);
    let parent = real(root.parent().unwrap_or(root));
    let inside = |r: &Path| candidate.starts_with(r) && candidate != r;
    if inside(&parent) {
        return Ok(());
    }
    // Only asked when needed: the usual worktree never spawns git here.
    let roots: Vec<PathBuf> = configured_roots(root).iter().map(|r| real(r)).collect();
    if roots.iter().any(|r| inside(r)) {
        return Ok(());
    }
    let allowed = if roots.is_empty() {
        format!("{} (the workspace's parent directory)", parent.display())
    } else {
        format!(
            "{} (the workspace's parent directory) or {} ({ROOT_KEY})",
            parent.display(),
            roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(Error::failure(format!(
        "{} puts the run's worktree at {}, which is not inside {allowed}",
        source.key(),
        candidate.display()
    ))
    .hint(format!(
        "change {} so the worktree stays beside the repository, or allow that directory with 'git config --global --add {ROOT_KEY} <dir>'",
        match source {
            Source::ConfigTemplate => "the template in the workflow config",
            Source::PolicyTemplate => "the template in .swarm/policies.json",
            Source::Recorded => "or remove worktree.json in the run folder",
            _ => "the worktree's place",
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_resolve_beside_or_inside_the_workspace() {
        let root = Path::new("/src/app");
        let (p, s) = worktree_path(root, None, None, "x", "r");
        assert_eq!(
            (p.as_path(), s),
            (Path::new("/src/app-swarm-x"), Source::Default)
        );
        let (p, _) = worktree_path(root, Some("../wt/{friendlyName}"), None, "x", "r");
        assert_eq!(p, Path::new("/src/wt/x"));
        let (p, _) = worktree_path(root, None, Some("{workspace}.{friendlyName}"), "x", "r");
        assert_eq!(p, Path::new("/src/app.x"));
        let (p, _) = worktree_path(root, Some("../../usr/local/bin"), None, "x", "r");
        assert_eq!(p, Path::new("/usr/local/bin"));
    }

    #[test]
    fn a_worktree_outside_the_parent_is_refused_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        std::fs::create_dir_all(&root).unwrap();
        assert!(confine(&root, &dir.path().join("app-swarm-x"), Source::Default).is_ok());
        assert!(confine(&root, &root.join(".worktrees/x"), Source::ConfigTemplate).is_ok());
        let e = confine(&root, dir.path(), Source::PolicyTemplate).unwrap_err();
        assert!(e.message.contains("worktreeNameTemplate"), "{}", e.message);
        let e = confine(&root, Path::new("/usr/local/bin/x"), Source::ConfigTemplate).unwrap_err();
        assert!(
            e.message.contains("worktreePathTemplate") && e.message.contains("/usr/local/bin/x"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_symlink_in_the_parent_does_not_lead_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        std::fs::create_dir_all(&root).unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("bin")).unwrap();
        assert!(confine(&root, &dir.path().join("bin/x"), Source::PolicyTemplate).is_err());
    }
}
