//! The follow phase inside `git swarm run`: one read of the pull request, and the wait it asks
//! for (Ctrl-C ends it).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{INTERRUPTED, Options, interrupted, say};
use crate::driver::{Session, Tx};
use crate::error::Result;
use crate::store::RunDir;

/// One read of the pull request in the follow phase; a `wait` sleeps here (Ctrl-C ends it).
pub(super) fn follow_once(session: &Session, run: &RunDir, opts: &Options) -> Result<()> {
    use crate::machine::follow::Answer;
    let f = crate::driver::follow::follow(&Tx::begin(session, run)?)?;
    match f.answer {
        Some(Answer::Wait {
            seconds,
            waiting_for,
        }) => {
            say(
                opts,
                format!(
                    "… waiting for {waiting_for}; reading the pull request again in {seconds} s"
                ),
            );
            let until = std::time::Instant::now() + Duration::from_secs(seconds);
            while std::time::Instant::now() < until {
                if INTERRUPTED.load(Ordering::SeqCst) {
                    return Err(interrupted(run));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(Answer::Invoked) => say(opts, "▶ follow: a fix pass for the pull request's findings"),
        Some(Answer::Done(why)) => say(opts, format!("✓ follow: {why}")),
        Some(Answer::Escalated(why)) => say(opts, format!("✗ follow: {why}")),
        None => {}
    }
    Ok(())
}
