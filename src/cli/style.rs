//! Colour on terminals only: `--color auto` (the default) paints a stream when it is a terminal,
//! `NO_COLOR` is not set to a non-empty value and `TERM` is not `dumb`; `--color always` and
//! `--color never` decide outright. JSON output is never painted.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum When {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Errors, failed outcomes, ✗.
    Bad,
    /// Completed outcomes, ✓.
    Good,
    /// Outcomes that wait for a person, warnings.
    Warn,
    /// Hints, in-progress, ▶.
    Info,
    /// Less important text.
    Dim,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bad => "1;31",
            Style::Good => "32",
            Style::Warn => "33",
            Style::Info => "36",
            Style::Dim => "2",
        }
    }
}

// Bit 0: decided; bit 1: stdout painted; bit 2: stderr painted.
static STATE: AtomicU8 = AtomicU8::new(0);

/// Whether a stream gets colour under `when`, from the environment as it is.
pub fn decide(when: When, is_tty: bool, no_color: Option<&str>, term: Option<&str>) -> bool {
    match when {
        When::Always => true,
        When::Never => false,
        When::Auto => is_tty && no_color.is_none_or(str::is_empty) && term != Some("dumb"),
    }
}

/// Settles colour for both streams (once, at start-up).
pub fn init(when: When) {
    let no_color = std::env::var("NO_COLOR").ok();
    let term = std::env::var("TERM").ok();
    let tty = |fd| unsafe { libc::isatty(fd) } == 1;
    let mut bits = 1;
    if decide(when, tty(1), no_color.as_deref(), term.as_deref()) {
        bits |= 2;
    }
    if decide(when, tty(2), no_color.as_deref(), term.as_deref()) {
        bits |= 4;
    }
    STATE.store(bits, Ordering::Relaxed);
}

fn enabled(stream: Stream) -> bool {
    let s = STATE.load(Ordering::Relaxed);
    match stream {
        Stream::Stdout => s & 2 != 0,
        Stream::Stderr => s & 4 != 0,
    }
}

/// `text` painted for `stream`, or as it is when that stream gets no colour.
pub fn paint(stream: Stream, style: Style, text: &str) -> String {
    if enabled(stream) && !text.is_empty() {
        format!("\x1b[{}m{text}\x1b[0m", style.code())
    } else {
        text.to_string()
    }
}

/// The style of an outcome word (`completed`, `failed`, …).
pub fn outcome(o: &str) -> Style {
    match o {
        "completed" => Style::Good,
        "failed" => Style::Bad,
        "in-progress" => Style::Info,
        "canceled" => Style::Dim,
        _ => Style::Warn,
    }
}

/// A `note: …` line on stderr.
pub fn note(msg: impl AsRef<str>) {
    eprintln!(
        "{} {}",
        paint(Stream::Stderr, Style::Info, "note:"),
        msg.as_ref()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_needs_a_terminal_and_no_no_color() {
        assert!(decide(When::Auto, true, None, Some("xterm")));
        assert!(!decide(When::Auto, false, None, Some("xterm")));
        assert!(!decide(When::Auto, true, Some("1"), Some("xterm")));
        assert!(
            decide(When::Auto, true, Some(""), None),
            "an empty NO_COLOR does not count"
        );
        assert!(!decide(When::Auto, true, None, Some("dumb")));
        assert!(decide(When::Always, false, Some("1"), Some("dumb")));
        assert!(!decide(When::Never, true, None, None));
    }

    #[test]
    fn nothing_is_painted_before_init() {
        assert_eq!(paint(Stream::Stdout, Style::Bad, "x"), "x");
    }
}
