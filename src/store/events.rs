//! The append-only event log, `events.jsonl`: one JSON object per line, in the signal
//! vocabulary of a manager session (`WORKER_ASSIGNED`, `WORKER_COMPLETED`, …) plus the tool's
//! own (`RUN_STARTED`, `PLAN_REJECTED`, `ESCALATED`, …).
//!
//! Events are appended before `run.status.json` is committed, tagged with the transition
//! number (`seq`) they belong to. If the process dies between the two, the transition is
//! redone and its events would be appended again, so appending skips every event whose `seq`
//! is already in the log.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::Result;
use crate::files::atomic;

pub(crate) use crate::machine::event::Event;

/// Appends the events whose `seq` is newer than the newest one already logged.
pub fn append(path: &Path, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let (last, torn) = tail(path);
    // A line torn by a crash is closed first so the new events start on a line of their own.
    let mut text = if torn {
        "\n".to_string()
    } else {
        String::new()
    };
    for e in events.iter().filter(|e| last.is_none_or(|l| e.seq > l)) {
        text.push_str(&serde_json::to_string(e).expect("events serialise"));
        text.push('\n');
    }
    if text.trim().is_empty() {
        return Ok(());
    }
    crate::failpoint!("events-append-before");
    atomic::append(path, &text)
}

/// The `seq` of the last complete line, and whether the file ends in a torn line; reads only
/// the file's tail.
fn tail(path: &Path) -> (Option<u64>, bool) {
    let Ok(mut f) = crate::files::safe::open_regular(path) else {
        return (None, false);
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(64 * 1024);
    let mut tail = Vec::new();
    if f.seek(SeekFrom::Start(start)).is_err() || f.read_to_end(&mut tail).is_err() {
        return (None, false);
    }
    let torn = tail.last().is_some_and(|b| *b != b'\n');
    let text = String::from_utf8_lossy(&tail);
    let last = text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Event>(l).ok())
        .map(|e| e.seq)
        .next();
    (last, torn)
}

/// Reads the whole log, skipping a line torn by a crash.
pub fn read_all(path: &Path) -> Vec<Event> {
    let Ok(bytes) = crate::files::safe::read_regular(path, None) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, signal: &str) -> Event {
        Event {
            seq,
            at: "2026-01-01T00:00:00Z".into(),
            signal: signal.into(),
            agent: None,
            worker: None,
            step: None,
            message: String::new(),
        }
    }

    #[test]
    fn replaying_a_transition_does_not_duplicate_events() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        append(&p, &[ev(1, "RUN_STARTED"), ev(1, "WORKER_ASSIGNED")]).unwrap();
        append(&p, &[ev(2, "WORKER_COMPLETED")]).unwrap();
        append(&p, &[ev(2, "WORKER_COMPLETED")]).unwrap();
        let all = read_all(&p);
        let signals: Vec<_> = all.iter().map(|e| e.signal.as_str()).collect();
        assert_eq!(
            signals,
            ["RUN_STARTED", "WORKER_ASSIGNED", "WORKER_COMPLETED"]
        );
    }

    #[test]
    fn torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        append(&p, &[ev(1, "RUN_STARTED")]).unwrap();
        atomic::append(&p, "{\"seq\": 2, \"at\"").unwrap();
        append(&p, &[ev(2, "WORKER_ASSIGNED")]).unwrap();
        let all = read_all(&p);
        assert_eq!(all.len(), 2);
    }
}
