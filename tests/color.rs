//! Colour only on a terminal: `NO_COLOR`, `TERM=dumb` and `--color` are honoured, JSON is never
//! painted. A terminal comes from script(1), which gives the command a pseudo-terminal.

mod common;

use std::process::Command;

use common::*;

const ESC: char = '\x1b';

/// Runs `git swarm <args>` on a pseudo-terminal; returns what it printed there.
fn on_terminal(env: &Env, args: &str, extra: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("script");
    let line = format!("{BIN} {args}");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(&env.work);
    // The same environment the other tests give the binary.
    let base = env.command(&env.work, &[]);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env_remove("NO_COLOR").env("TERM", "xterm");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script(1) runs (util-linux)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn with_a_run() -> Env {
    let env = Env::new();
    env.start("Add a greeting");
    env
}

#[test]
fn a_terminal_gets_colour_unless_no_color_or_a_dumb_terminal() {
    let env = with_a_run();
    let shown = on_terminal(&env, "list", &[]);
    assert!(shown.contains("\x1b[36min-progress"), "{shown:?}");
    let shown = on_terminal(&env, "status", &[]);
    assert!(shown.contains(ESC), "{shown:?}");
    for extra in [[("NO_COLOR", "1")], [("TERM", "dumb")]] {
        let shown = on_terminal(&env, "list", &extra);
        assert!(!shown.contains(ESC), "{extra:?}: {shown:?}");
        assert!(shown.contains("in-progress"), "{shown:?}");
    }
    let shown = on_terminal(&env, "list --color never", &[]);
    assert!(!shown.contains(ESC), "{shown:?}");
}

#[test]
fn pipes_get_plain_text_unless_colour_is_forced() {
    let env = with_a_run();
    let out = env.swarm(&["list"]);
    assert!(!out.stdout.contains(ESC), "{:?}", out.stdout);
    let out = env.swarm(&["list", "--color", "always"]);
    assert!(
        out.stdout.contains("\x1b[36min-progress"),
        "{:?}",
        out.stdout
    );
    let out = env.swarm(&["--color=always", "status", "--json"]);
    assert!(!out.stdout.contains(ESC), "JSON is never painted");
    out.json();
}

#[test]
fn errors_paint_their_prefix_only_when_asked() {
    let env = Env::new();
    let out = env.swarm(&["next"]);
    assert!(
        out.stderr.starts_with("error: there is no run in progress"),
        "{:?}",
        out.stderr
    );
    let out = env.swarm(&["next", "--color", "always"]);
    assert!(
        out.stderr
            .starts_with("\x1b[1;31merror:\x1b[0m there is no run in progress"),
        "{:?}",
        out.stderr
    );
    assert!(
        out.stderr.contains("\x1b[36mhint:\x1b[0m"),
        "{:?}",
        out.stderr
    );
}
