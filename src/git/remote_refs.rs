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
    // A fetch into `dst` killed half-way leaves its lock: one no process has open is that dead
    // fetch's (`dst` is written by git swarm alone), and would refuse every fetch after it.
    if let Some(common) = super::ops::common_dir(dir) {
        let lock = common.join(format!("{dst}.lock"));
        if lock.is_file() && super::locks::remove_if_stale(&lock) {
            crate::cli::style::note(format!(
                "removed {}, left by a fetch into {dst} that was interrupted",
                lock.display()
            ));
        }
    }
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
/// else: a branch that went its own way is an error): a two-way checkout of what differs,
/// then the branch moved from the commit it was on. One cut short (killed with its git) is
/// finished by the next call: the locks its git left in that work tree, which nobody holds,
/// are removed, and the files its checkout had written — each checked to hold the content at
/// one end or the other, anything else stops it, naming the file — are taken to `rev`.
pub(crate) fn fast_forward(dir: &Path, rev: &str) -> Result<()> {
    if let Some(common) = super::ops::common_dir(dir) {
        for lock in super::locks::remove_stale_of_worktree(&common, dir) {
            crate::cli::style::note(format!(
                "removed {}, left by a fast-forward of {} that was interrupted",
                lock.display(),
                dir.display()
            ));
        }
    }
    let head = super::resolve(dir, "HEAD")?;
    if head == rev {
        return Ok(());
    }
    if !super::ops::is_ancestor(dir, &head, rev)? {
        return Err(crate::error::Error::failure(format!(
            "the branch in {} ({head}) is not behind {rev}: it went its own way",
            dir.display()
        ))
        .hint(format!(
            "look at the branch in {}; move it by hand to the commit it should hold, then run the command again",
            dir.display()
        )));
    }
    let changed =
        super::merge_batch::check_own_changes(dir, &head, rev, "git swarm's fast-forward")?;
    let mode: &[&str] = if changed.is_empty() {
        &["read-tree", "-m", "-u", &head, rev]
    } else {
        &["read-tree", "--reset", "-u", rev]
    };
    Git::new(dir).args(mode).run()?;
    Git::new(dir)
        .args([
            "update-ref",
            "-m",
            "git swarm: fast-forward",
            "HEAD",
            rev,
            &head,
        ])
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

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@e"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A repository on commit `a` with `b` (f changed, g added) one commit ahead on `next`.
    fn repo() -> (tempfile::TempDir, String, String) {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        git(d, &["init", "-q", "-b", "main"]);
        std::fs::write(d.join("f"), "one\n").unwrap();
        std::fs::write(d.join("keep"), "k\n").unwrap();
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "a"]);
        let a = git(d, &["rev-parse", "HEAD"]);
        std::fs::write(d.join("f"), "two\n").unwrap();
        std::fs::write(d.join("g"), "new\n").unwrap();
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "b"]);
        let b = git(d, &["rev-parse", "HEAD"]);
        git(d, &["reset", "-q", "--hard", &a]);
        (t, a, b)
    }

    #[test]
    fn a_fast_forward_cut_short_is_finished_and_someones_change_stops_it() {
        // Clean: moved forward.
        let (t, _, b) = repo();
        fast_forward(t.path(), &b).unwrap();
        assert_eq!(git(t.path(), &["rev-parse", "HEAD"]), b);
        assert_eq!(git(t.path(), &["status", "--porcelain"]), "");
        // Killed half-way: one file written, the other not, the index lock left.
        let (t, a, b) = repo();
        let d = t.path();
        std::fs::write(d.join("g"), "new\n").unwrap();
        std::fs::write(d.join(".git/index.lock"), "").unwrap();
        fast_forward(d, &b).unwrap();
        assert_eq!(git(d, &["rev-parse", "HEAD"]), b);
        assert_eq!(git(d, &["status", "--porcelain"]), "");
        assert!(!d.join(".git/index.lock").exists());
        assert_ne!(a, b);
        // Checked out, the branch not moved yet: finished.
        let (t, _, b) = repo();
        let d = t.path();
        git(d, &["read-tree", "-m", "-u", "HEAD", &b]);
        fast_forward(d, &b).unwrap();
        assert_eq!(git(d, &["rev-parse", "HEAD"]), b);
        assert_eq!(git(d, &["status", "--porcelain"]), "");
        // Someone's change to a file the move writes: it stops, naming the file, untouched.
        let (t, a, b) = repo();
        let d = t.path();
        std::fs::write(d.join("f"), "mine\n").unwrap();
        let e = fast_forward(d, &b).unwrap_err();
        assert!(e.full_message().contains('f'), "{}", e.full_message());
        assert_eq!(std::fs::read_to_string(d.join("f")).unwrap(), "mine\n");
        assert_eq!(git(d, &["rev-parse", "HEAD"]), a);
        // A branch that went its own way is not moved.
        let (t, _, b) = repo();
        let d = t.path();
        std::fs::write(d.join("h"), "h\n").unwrap();
        git(d, &["add", "h"]);
        git(d, &["commit", "-qm", "own"]);
        assert!(fast_forward(d, &b).is_err());
    }
}
