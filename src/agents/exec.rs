//! Exec mode: launching agent CLIs from argv templates, with time limits, logs, and process
//! groups so a timeout or Ctrl-C stops an agent and everything it started.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Workflow;
use crate::error::{Error, Result};
use crate::forge::template;
use crate::machine::state::Invocation;

/// The argv template of an agent: its own `exec`, else the config's top-level `exec`.
pub fn template_of(cfg: &Workflow, agent: &str) -> Result<Vec<String>> {
    let a = cfg
        .agent(agent)
        .ok_or_else(|| Error::failure(format!("agent '{agent}' is not in the workflow config")))?;
    a.exec.clone().or_else(|| cfg.exec.clone()).filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::failure(format!(
            "agent '{agent}' has no exec template in {} (subagents[].exec or a top-level exec)",
            cfg.path.display()
        ))
        .hint("add an argv template such as [\"claude\", \"-p\", \"{prompt}\"] (README, 'Exec mode'), or drive the run from an agent host with 'git swarm next'")
    })
}

/// The argv for one invocation, and whether the prompt goes to stdin (no `{prompt}` in it).
pub fn argv(
    template: &[String],
    inv: &Invocation,
    run_id: &str,
    run_dir: &Path,
) -> (Vec<String>, bool) {
    let run_dir = run_dir.display().to_string();
    let vars = [
        ("prompt", inv.prompt.as_str()),
        ("agent", inv.agent.as_str()),
        ("handoff", inv.handoff.as_deref().unwrap_or("")),
        ("result", inv.result.as_str()),
        ("run-id", run_id),
        ("run-dir", run_dir.as_str()),
        ("cwd", inv.cwd.as_str()),
        ("worker", inv.worker.as_deref().unwrap_or("")),
    ];
    let stdin = !template.iter().any(|w| w.contains("{prompt}"));
    (template::substitute(template, &vars), stdin)
}

/// A running agent.
pub struct Running {
    pub slot_key: String,
    pub handle: duct::Handle,
    pub pid: u32,
    pub started: Instant,
    pub deadline: Option<Instant>,
    pub log: PathBuf,
    /// Where this launch's output starts in the log (earlier launches come before it).
    pub log_start: u64,
}

/// How an agent process ended.
#[derive(Debug, Clone)]
pub enum Exit {
    Code(i32),
    TimedOut(u64),
    Killed,
}

/// Starts an agent in its own process group, output appended to `log`.
#[allow(clippy::too_many_arguments)]
pub fn launch(
    key: String,
    argv: &[String],
    prompt_on_stdin: Option<&str>,
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
    timeout: Option<Duration>,
) -> Result<Running> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| Error::failure("the exec template is empty"))?;
    if let Some(dir) = log.parent() {
        crate::store::atomic::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io("open", log, e))?;
    let _ = writeln!(
        f,
        "=== {} $ {}",
        crate::driver::now(),
        shell_words::join(argv)
    );
    let log_start = f.metadata().map(|m| m.len()).unwrap_or(0);
    let out: File = f.try_clone().map_err(|e| Error::io("open", log, e))?;
    let mut e = duct::cmd(prog, args)
        .dir(cwd)
        // Inner first: stderr joins stdout, then both go to the log.
        .stderr_to_stdout()
        .stdout_file(out)
        .unchecked()
        .before_spawn(|c| {
            use std::os::unix::process::CommandExt;
            c.process_group(0);
            Ok(())
        });
    for (k, v) in env {
        e = e.env(k, v);
    }
    e = match prompt_on_stdin {
        Some(p) => e.stdin_bytes(p.as_bytes().to_vec()),
        None => e.stdin_null(),
    };
    let handle = e.start().map_err(|err| {
        Error::failure(format!("could not start {prog}: {err}"))
            .hint("check the exec template's program is installed and on PATH")
    })?;
    let pid = handle.pids().first().copied().unwrap_or(0);
    let now = Instant::now();
    Ok(Running {
        slot_key: key,
        handle,
        pid,
        started: now,
        deadline: timeout.map(|t| now + t),
        log: log.to_path_buf(),
        log_start,
    })
}

/// What this launch's output says the agent spent (see [`crate::usage::from_output`]). Reads at
/// most the last 16 MiB of the launch's output.
pub fn reported_usage(r: &Running) -> Option<crate::usage::Usage> {
    use std::io::{Read, Seek, SeekFrom};
    const CAP: u64 = 16 << 20;
    let mut f = File::open(&r.log).ok()?;
    let len = f.metadata().ok()?.len();
    let from = r.log_start.max(len.saturating_sub(CAP));
    f.seek(SeekFrom::Start(from)).ok()?;
    let mut bytes = Vec::new();
    f.take(CAP).read_to_end(&mut bytes).ok()?;
    crate::usage::from_output(&String::from_utf8_lossy(&bytes))
}

/// Stops an agent and everything it started: SIGTERM to its process group, then SIGKILL.
pub fn kill_group(r: &Running) {
    if r.pid == 0 {
        let _ = r.handle.kill();
        return;
    }
    let pg = -(r.pid as i32);
    // SAFETY: kill(2) on our own child's process group; no memory is touched.
    unsafe {
        libc::kill(pg, libc::SIGTERM);
    }
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        if matches!(r.handle.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(pg, libc::SIGKILL);
    }
    let _ = r.handle.kill();
}

/// Has it ended? Kills it when past its deadline.
pub fn poll(r: &Running) -> Option<Exit> {
    match r.handle.try_wait() {
        Ok(Some(out)) => Some(match out.status.code() {
            Some(c) => Exit::Code(c),
            None => Exit::Killed,
        }),
        Ok(None) => {
            if r.deadline.is_some_and(|d| Instant::now() > d) {
                kill_group(r);
                let secs = r
                    .deadline
                    .map(|d| d.duration_since(r.started).as_secs())
                    .unwrap_or(0);
                Some(Exit::TimedOut(secs))
            } else {
                None
            }
        }
        Err(_) => Some(Exit::Killed),
    }
}

/// The last lines of a log, for failure reasons.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    crate::publish::excerpt(&crate::git::tail_lines(&text, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv() -> Invocation {
        Invocation {
            agent: "implementor".into(),
            worker: Some("w2".into()),
            step: 3,
            iteration: 1,
            from: None,
            handoff_id: None,
            handoff: Some("/r/handoff.implementor.w2.json".into()),
            result: "/r/implementor.w2.result.json".into(),
            cwd: "/wt".into(),
            prompt: "do \"it\" $(now)".into(),
            issued_at: String::new(),
            tasks: vec![],
            allowed_files: vec![],
            base_tree: None,
            attempt: 0,
            usage_reported: false,
        }
    }

    #[test]
    fn placeholders_per_argument_and_prompt_on_stdin() {
        let t: Vec<String> = [
            "claude",
            "-p",
            "{prompt}",
            "--cwd={cwd}",
            "{missing}",
            "{handoff}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (a, stdin) = argv(&t, &inv(), "rid", Path::new("/r"));
        assert_eq!(
            a,
            [
                "claude",
                "-p",
                "do \"it\" $(now)",
                "--cwd=/wt",
                "{missing}",
                "/r/handoff.implementor.w2.json"
            ]
        );
        assert!(!stdin);
        let t: Vec<String> = [
            "agent",
            "{agent}",
            "{worker}",
            "{run-id}",
            "{run-dir}",
            "{result}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (a, stdin) = argv(&t, &inv(), "rid", Path::new("/r"));
        assert_eq!(
            a,
            [
                "agent",
                "implementor",
                "w2",
                "rid",
                "/r",
                "/r/implementor.w2.result.json"
            ]
        );
        assert!(stdin);
    }
}
