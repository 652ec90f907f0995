//! Pushes with leases and fetches of single refs: how a run's state and branches travel
//! between clones (`crate::store::state_remote`).

use std::path::Path;

use super::Git;
use crate::error::Result;

/// What the remote must hold for an update to land.
pub(crate) enum Lease {
    /// Nothing.
    Absent,
    /// This commit.
    Is(String),
    /// Anything (the run's own branch, whose state lease guards it).
    Any,
}

pub(crate) struct Update {
    pub src: String,
    pub dst: String,
    pub lease: Lease,
}

/// What a push answered.
pub(crate) enum Pushed {
    Done,
    /// Refused for a ref (a lease that did not hold).
    Lost,
}

/// Pushes `updates` to `remote` atomically: all land or none.
pub(crate) fn push(dir: &Path, remote: &str, updates: &[Update]) -> Result<Pushed> {
    let mut args: Vec<String> = vec!["push".into(), "--atomic".into(), "--porcelain".into()];
    for u in updates {
        match &u.lease {
            Lease::Absent => args.push(format!("--force-with-lease={}:", u.dst)),
            Lease::Is(v) => args.push(format!("--force-with-lease={}:{v}", u.dst)),
            Lease::Any => {}
        }
    }
    args.push("--".into());
    args.push(remote.to_string());
    for u in updates {
        let plus = if matches!(u.lease, Lease::Any) {
            "+"
        } else {
            ""
        };
        args.push(format!("{plus}{}:{}", u.src, u.dst));
    }
    let git = Git::new(dir).args(&args);
    let out = git.output()?;
    if out.status.success() {
        return Ok(Pushed::Done);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let refused: Vec<&str> = stdout.lines().filter(|l| l.starts_with('!')).collect();
    if refused.is_empty() {
        return Err(git.failed(&out).hint(format!(
            "check that the remote '{remote}' can be reached and written to, then run the command again"
        )));
    }
    crate::trace::mark(&format!("push refused: {}", refused.join("; ")));
    Ok(Pushed::Lost)
}

/// Fetches `src` from `remote` into the local ref `dst` (forced: `dst` is the remote's copy);
/// `None` when the remote has no `src`.
pub(crate) fn fetch_ref(dir: &Path, remote: &str, src: &str, dst: &str) -> Result<Option<String>> {
    let git = Git::new(dir).args([
        "fetch",
        "--no-tags",
        "--no-write-fetch-head",
        "-q",
        "--",
        remote,
        &format!("+{src}:{dst}"),
    ]);
    let out = git.output()?;
    if !out.status.success() {
        if String::from_utf8_lossy(&out.stderr).contains("couldn't find remote ref") {
            return Ok(None);
        }
        return Err(git.failed(&out).hint(format!(
            "check that the remote '{remote}' can be reached, then run the command again"
        )));
    }
    super::resolve(dir, dst).map(Some)
}

/// Moves the branch checked out in the work tree `dir` forward to `rev` (never anything
/// else: a branch that went its own way is an error).
pub(crate) fn fast_forward(dir: &Path, rev: &str) -> Result<()> {
    Git::new(dir)
        .args(["merge", "--ff-only", "-q", rev])
        .run()
        .map(|_| ())
}

/// Moves `refs/heads/<branch>` forward to `rev` as a ref only (its work tree, if any, is not
/// touched: one half-made is made again from the branch afterwards). A branch that is not an
/// ancestor of `rev` is an error; one already there is left.
pub(crate) fn fast_forward_ref(dir: &Path, branch: &str, rev: &str) -> Result<()> {
    let name = format!("refs/heads/{branch}");
    let Ok(old) = super::resolve(dir, &name) else {
        // Not made yet: made, if nothing else made it meanwhile.
        return Git::new(dir)
            .args(["update-ref", "-m", "git swarm: resume", &name, rev, ""])
            .run()
            .map(|_| ());
    };
    if old == rev {
        return Ok(());
    }
    if !super::ops::is_ancestor(dir, &old, rev)? {
        return Err(crate::error::Error::failure(format!(
            "{branch} here ({old}) is not behind the remote's ({rev}): it went its own way"
        ))
        .hint(format!(
            "look at {branch} here and at the run's branch on the remote; move {branch} by hand to the commit it should hold, then run the command again"
        )));
    }
    Git::new(dir)
        .args(["update-ref", "-m", "git swarm: resume", &name, rev, &old])
        .run()
        .map(|_| ())
}
