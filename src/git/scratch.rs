//! Throwaway repositories the tool makes for people to try it (`git swarm demo`): a work tree
//! with a bare origin beside it, configured locally so that nothing of the user's git
//! configuration writes there (identity, hooks, signing).

use std::path::Path;

use super::Git;
use crate::error::Result;

/// Makes `app` a repository on `main` and `origin` a bare one, with a local identity, hooks
/// in `.git/hooks` and no signing.
pub(crate) fn init(app: &Path, origin: &Path) -> Result<()> {
    let parent = origin.parent().unwrap_or(app);
    Git::new(parent)
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg_path(origin)
        .run()?;
    Git::new(app).args(["init", "-q", "-b", "main"]).run()?;
    for (k, v) in [
        ("user.name", "git swarm demo"),
        ("user.email", "demo@git-swarm.invalid"),
        ("core.hooksPath", ".git/hooks"),
        ("commit.gpgSign", "false"),
    ] {
        Git::new(app).args(["config", k, v]).run()?;
    }
    Ok(())
}

/// Commits everything in `app` and pushes `main` to the bare origin made by [`init`].
pub(crate) fn publish_first_commit(app: &Path, origin: &Path, message: &str) -> Result<()> {
    Git::new(app).args(["add", "-A"]).run()?;
    Git::new(app).args(["commit", "-q", "-m", message]).run()?;
    Git::new(app)
        .args(["remote", "add", "origin"])
        .arg_path(origin)
        .run()?;
    Git::new(app)
        .args(["push", "-q", "-u", "origin", "main"])
        .run()?;
    Ok(())
}

/// The branches of the repository at `dir` matching `pattern` (e.g. `swarm/*`).
pub(crate) fn branches(dir: &Path, pattern: &str) -> Vec<String> {
    Git::new(dir)
        .args(["branch", "--list", "--format=%(refname:short)", pattern])
        .run()
        .map(|o| o.lines().map(str::to_string).collect())
        .unwrap_or_default()
}
