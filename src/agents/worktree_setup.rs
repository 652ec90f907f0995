//! Preparing a new worktree before an agent works in it: files named in `.worktreeinclude`
//! that git ignores (`.env`, local settings) are copied from the workspace, then the optional
//! `worktree.setupCommand` of `.swarm/policies.json` runs there (an argv, never a shell, in its
//! own process group, stopped whole past `worktree.setupTimeoutSeconds`). It runs only once the
//! user trusted the policy (see `crate::trust`). A worktree is prepared once; a marker in the
//! run folder remembers it.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::files::atomic;
use crate::forge::template;
use crate::git;
use crate::store::RunDir;
use crate::store::Session;

/// Copies `.worktreeinclude` files and runs the setup command, once per worktree.
pub(crate) fn prepare(session: &Session, run: &RunDir, wt: &Path) -> Result<()> {
    let name = wt
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let marker = run.path.join(format!(".setup-done.{name}"));
    if marker.exists() {
        return Ok(());
    }
    let copied = copy_includes(&session.ws.root, wt)?;
    let policies = session.policies()?;
    if let Some(cmd) = &policies.worktree.setup_command {
        // The commands that advance a run check this before they act; checked again here,
        // right before the command runs, so that no path runs it untrusted. (A refusal here
        // leaves the run where it was, like a failed setup: the next call sets it up.)
        crate::trust::require(session, &[crate::trust::Use::Setup], None)?;
        let argv = cmd.words().map_err(|e| {
            Error::failure(format!(
                "{}: /worktree/setupCommand {e}",
                session.swarm.policies_path().display()
            ))
            .hint("write it as an array of strings, e.g. [\"npm\", \"ci\"]")
        })?;
        let argv = template::substitute(
            &argv,
            &[
                ("worktree", &wt.display().to_string()),
                ("workspace", &session.ws.root.display().to_string()),
            ],
        );
        run_setup(&argv, wt, run, policies.worktree.setup_timeout())?;
    }
    atomic::write(&marker, format!("{copied} file(s) copied\n").as_bytes())
}

/// Copies the files that both `.worktreeinclude` and git's ignore rules match.
fn copy_includes(root: &Path, wt: &Path) -> Result<usize> {
    let include = root.join(".worktreeinclude");
    if !include.is_file() {
        return Ok(0);
    }
    let ignored = git::query::ignored_files(root, None)?;
    let wanted = git::query::ignored_files(root, Some(".worktreeinclude"))?;
    let mut n = 0;
    for rel in wanted.iter().filter(|p| ignored.contains(p)) {
        if rel.starts_with(".swarm/runs/") || rel.starts_with(".git/") {
            continue;
        }
        let (from, to) = (root.join(rel), wt.join(rel));
        if to.exists() || !from.is_file() {
            continue;
        }
        if let Some(dir) = to.parent() {
            atomic::create_dir_all(dir)?;
        }
        std::fs::copy(&from, &to).map_err(|e| Error::io("copy", &from, e))?;
        n += 1;
    }
    Ok(n)
}

/// How a command run by [`run_logged`] ended.
pub(crate) enum Ended {
    Status(std::process::ExitStatus),
    TimedOut(Duration),
}

/// Runs `argv` in `dir` in its own process group, stdin empty, stdout and stderr to `log`
/// (never a pipe: a process the command leaves behind cannot keep git swarm waiting), the
/// whole group stopped past `timeout`. `Err` with the reason when it could not start.
pub(crate) fn run_logged(
    argv: &[String],
    dir: &Path,
    log: &Path,
    timeout: Duration,
) -> std::result::Result<Ended, String> {
    let (prog, args) = argv.split_first().ok_or("the command is empty")?;
    let out = crate::files::safe::create_log(log).map_err(|e| e.to_string())?;
    let handle = duct::cmd(prog, args)
        .dir(dir)
        .stdin_null()
        .stderr_to_stdout()
        .stdout_file(out)
        .unchecked()
        .before_spawn(|c| {
            use std::os::unix::process::CommandExt;
            c.process_group(0);
            Ok(())
        })
        .start()
        .map_err(|e| e.to_string())?;
    let pid = handle.pids().first().copied().unwrap_or(0);
    let deadline = Instant::now() + timeout;
    loop {
        match handle.try_wait() {
            Ok(Some(o)) => return Ok(Ended::Status(o.status)),
            Ok(None) if Instant::now() >= deadline => {
                // The whole group: `sh -c 'npm ci'` leaves npm and its children otherwise.
                crate::agents::exec::stop_group(pid, || matches!(handle.try_wait(), Ok(None)));
                let _ = handle.kill();
                return Ok(Ended::TimedOut(timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("could not wait for it: {e}")),
        }
    }
}

fn run_setup(argv: &[String], wt: &Path, run: &RunDir, timeout: Duration) -> Result<()> {
    let log = run.path.join("logs").join(format!(
        "setup.{}.log",
        wt.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    atomic::create_dir_all(log.parent().expect("has parent"))?;
    let shown = shell_words::join(argv);
    let ended = match run_logged(argv, wt, &log, timeout) {
        Ok(Ended::Status(s)) if s.success() => return Ok(()),
        Ok(e) => e,
        Err(e) => {
            return Err(Error::failure(format!(
                "the worktree setup command '{shown}' could not start: {e}"
            ))
            .hint("fix worktree.setupCommand in .swarm/policies.json, then run 'git swarm next' again"));
        }
    };
    let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    let (status, fix) = match ended {
        Ended::Status(s) => (
            s.to_string(),
            "fix the setup (worktree.setupCommand in .swarm/policies.json, or the project)",
        ),
        Ended::TimedOut(t) => (
            format!("timed out after {} s", t.as_secs_f64()),
            "make the setup faster, or give it longer with worktree.setupTimeoutSeconds in .swarm/policies.json",
        ),
    };
    Err(Error::failure(format!(
        "the worktree setup command '{shown}' failed ({status}) in {}",
        wt.display()
    ))
    .cause(git::tail_lines(&crate::git::url::redact(&text), 15))
    .hint(format!(
        "see {}; {fix}, then run 'git swarm next' again — the worktree is kept and set up on the next attempt",
        log.display()
    )))
}
