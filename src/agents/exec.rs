//! Exec mode: launching agent CLIs from argv templates, with time limits, logs, and process
//! groups so a timeout or Ctrl-C stops an agent and everything it started.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::agents::profile::{Launch, Output, Structured};
use crate::config::{Exec, Workflow};
use crate::error::{Error, Result};
use crate::forge::template;
use crate::machine::state::{AgentProcess, Invocation};

/// How an agent is launched: its own `exec`, else the config's top-level `exec`.
pub(crate) fn exec_of(cfg: &Workflow, agent: &str) -> Result<Exec> {
    let a = cfg
        .agent(agent)
        .ok_or_else(|| Error::failure(format!("agent '{agent}' is not in the workflow config")))?;
    a.exec.clone().or_else(|| cfg.exec.clone()).ok_or_else(|| {
        Error::failure(format!(
            "agent '{agent}' has no exec in {} (subagents[].exec or a top-level exec)",
            cfg.path.display()
        ))
        .hint("name a built-in profile such as \"exec\": \"claude\" or \"codex\", or give an argv template (README, 'Exec mode'); or drive the run from an agent host with 'git swarm next'")
    })
}

/// The paths a template's placeholders (and a profile) may need beside the invocation's own.
#[derive(Debug, Clone, Default)]
pub(crate) struct Paths {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub workspace: PathBuf,
    pub schema: PathBuf,
    pub standards: PathBuf,
    /// The invocation's context pack (handoff agents).
    pub context_pack: Option<PathBuf>,
}

/// The launch of an argv template for one invocation: placeholders substituted per argument,
/// the prompt on stdin when no argument holds `{prompt}`.
pub(crate) fn template_launch(template: &[String], inv: &Invocation, paths: &Paths) -> Launch {
    let run_dir = paths.run_dir.display().to_string();
    let workspace = paths.workspace.display().to_string();
    let schema = paths.schema.display().to_string();
    let standards = paths.standards.display().to_string();
    let pack = paths
        .context_pack
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let vars = [
        ("prompt", inv.prompt.as_str()),
        ("agent", inv.agent.as_str()),
        ("handoff", inv.handoff.as_deref().unwrap_or("")),
        ("result", inv.result.as_str()),
        ("run-id", paths.run_id.as_str()),
        ("run-dir", run_dir.as_str()),
        ("cwd", inv.cwd.as_str()),
        ("worker", inv.worker.as_deref().unwrap_or("")),
        ("workspace", workspace.as_str()),
        ("schema", schema.as_str()),
        ("standards", standards.as_str()),
        ("context-pack", pack.as_str()),
    ];
    let stdin = !template.iter().any(|w| w.contains("{prompt}"));
    Launch {
        argv: template::substitute(template, &vars),
        stdin: stdin.then(|| inv.prompt.clone()),
        env: Vec::new(),
        files: Vec::new(),
        output: Output::Unknown,
        structured: None,
    }
}

/// An argv as a person reads it: shell-quoted, credentials in URLs redacted, and long
/// arguments (a system prompt, a schema) shortened to their start and size.
pub(crate) fn display_argv(argv: &[String]) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|a| {
            if a.chars().count() > 120 {
                let head: String = a.chars().take(60).collect();
                format!("{head}…({} bytes)", a.len())
            } else {
                a.clone()
            }
        })
        .collect();
    crate::git::url::redact(&shell_words::join(&words))
}

/// The environment variable that names the invocation an agent process works for, so a
/// later `git swarm run` can recognise it (its value: `<run-id>:<step>:<agent[.worker]>`).
pub(crate) const INVOCATION_VAR: &str = "SWARM_INVOCATION";

/// The value of [`INVOCATION_VAR`] for an invocation.
pub(crate) fn invocation_key(run_id: &str, inv: &Invocation) -> String {
    format!("{run_id}:{}:{}", inv.step, inv.stem())
}

/// A running agent: a child of this process, or one a killed `git swarm run` left running.
pub(crate) struct Running {
    pub slot_key: String,
    /// `None` for an adopted process (not our child).
    pub handle: Option<duct::Handle>,
    /// Its pid, which is also its process group.
    pub pid: u32,
    pub start_ticks: u64,
    pub started: Instant,
    pub deadline: Option<Instant>,
    pub log: PathBuf,
    /// Where this launch's output starts in the log (earlier launches come before it).
    pub log_start: u64,
    pub output: Output,
    pub structured: Option<Structured>,
}

impl Running {
    /// What the run records to recognise it later.
    pub(crate) fn record(&self, launched_at: &str) -> AgentProcess {
        AgentProcess {
            pid: self.pid,
            start_ticks: self.start_ticks,
            launched_at: launched_at.to_string(),
            log: self.log.display().to_string(),
            log_start: self.log_start,
        }
    }
}

/// How an agent process ended.
#[derive(Debug, Clone)]
pub(crate) enum Exit {
    Code(i32),
    TimedOut(u64),
    Killed,
    /// An adopted process ended; its exit status went to its new parent.
    Unknown,
}

impl Exit {
    pub(crate) fn describe(&self) -> String {
        match self {
            Exit::Code(c) => format!("exit {c}"),
            Exit::TimedOut(s) => format!("timed out after {s} s and was stopped"),
            Exit::Killed => "killed".to_string(),
            Exit::Unknown => "while no 'git swarm run' watched it".to_string(),
        }
    }
}

/// Starts an agent in its own process group, output appended to `log`.
pub(crate) fn launch(
    key: String,
    l: &Launch,
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
    timeout: Option<Duration>,
) -> Result<Running> {
    let (prog, args) = l
        .argv
        .split_first()
        .ok_or_else(|| Error::failure("the exec template is empty"))?;
    if let Some(dir) = log.parent() {
        crate::files::atomic::create_dir_all(dir)?;
    }
    // Not through a symlink, and not into a FIFO (see `files::safe`); the caller refused a
    // symlinked logs/ folder.
    let mut f = crate::files::safe::open_append(log)?;
    let _ = writeln!(f, "=== {} $ {}", crate::store::now(), display_argv(&l.argv));
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
    for (k, v) in env.iter().chain(l.env.iter()) {
        e = e.env(k, v);
    }
    e = match &l.stdin {
        Some(p) => e.stdin_bytes(p.as_bytes().to_vec()),
        None => e.stdin_null(),
    };
    let handle = e.start().map_err(|err| {
        Error::failure(format!("could not start {prog}: {err}")).hint(
            "install the agent CLI or put it on PATH ('git swarm doctor' shows what each agent runs)",
        )
    })?;
    let pid = handle.pids().first().copied().unwrap_or(0);
    let now = Instant::now();
    Ok(Running {
        slot_key: key,
        handle: Some(handle),
        pid,
        start_ticks: start_ticks(pid).unwrap_or(0),
        started: now,
        deadline: timeout.map(|t| now + t),
        log: log.to_path_buf(),
        log_start,
        output: l.output,
        structured: l.structured.clone(),
    })
}

/// The start time of a process in clock ticks after boot (`/proc/<pid>/stat`, field 22);
/// `None` when there is no such process (or no `/proc`).
pub(crate) fn start_ticks(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields resume after the
    // last ')'. Field 3 is the state, so field 22 is the 20th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Does the process's environment hold `var=value`? `None` when it cannot be read.
fn environ_has(pid: u32, var: &str, value: &str) -> Option<bool> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let want = format!("{var}={value}");
    Some(env.split(|b| *b == 0).any(|e| e == want.as_bytes()))
}

/// Is this process group leader still the agent launched for `key`?
fn same_agent(pid: u32, ticks: u64, key: &str) -> bool {
    start_ticks(pid) == Some(ticks) && environ_has(pid, INVOCATION_VAR, key).unwrap_or(true)
}

/// Process group leaders whose environment names invocation `key` (an agent a killed runner
/// launched but had not recorded yet).
fn find_by_key(key: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut out = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me || environ_has(pid, INVOCATION_VAR, key) != Some(true) {
            continue;
        }
        // SAFETY: getpgid(2) reads another process's group id; no memory is touched.
        let pgid = unsafe { libc::getpgid(pid as i32) };
        if pgid == pid as i32 && start_ticks(pid).is_some() {
            out.push(pid);
        }
    }
    out.sort_unstable();
    out
}

/// The agent an earlier `git swarm run` launched for this invocation, if it is still
/// running: the recorded process (checked to be the same one by start time and environment),
/// or a process whose environment names the invocation (launched, then the runner was killed
/// before it recorded the pid).
pub(crate) fn find_live(key: &str, recorded: Option<&AgentProcess>) -> Option<(u32, u64)> {
    if let Some(p) = recorded
        && same_agent(p.pid, p.start_ticks, key)
    {
        return Some((p.pid, p.start_ticks));
    }
    find_by_key(key)
        .into_iter()
        .find_map(|pid| start_ticks(pid).map(|t| (pid, t)))
}

/// Watches an agent this process did not start.
#[allow(clippy::too_many_arguments)]
pub(crate) fn adopt(
    key: String,
    pid: u32,
    ticks: u64,
    l: &Launch,
    log: &Path,
    log_start: u64,
    running_for: Duration,
    timeout: Option<Duration>,
) -> Running {
    let now = Instant::now();
    let started = now.checked_sub(running_for).unwrap_or(now);
    Running {
        slot_key: key,
        handle: None,
        pid,
        start_ticks: ticks,
        started,
        deadline: timeout.map(|t| started + t),
        log: log.to_path_buf(),
        log_start,
        output: l.output,
        structured: l.structured.clone(),
    }
}

/// What this launch's output says the agent spent (see [`crate::machine::usage::from_output`]).
pub(crate) fn reported_usage(r: &Running) -> Option<crate::machine::usage::Usage> {
    crate::machine::usage::from_output(&super::output::read_log(&r.log, r.log_start))
}

fn alive(r: &Running) -> bool {
    match &r.handle {
        Some(h) => matches!(h.try_wait(), Ok(None)),
        None => start_ticks(r.pid) == Some(r.start_ticks),
    }
}

/// Stops an agent and everything it started: SIGTERM to its process group, then SIGKILL.
pub(crate) fn kill_group(r: &Running) {
    if r.pid != 0 {
        stop_group(r.pid, || alive(r));
    }
    if let Some(h) = &r.handle {
        let _ = h.kill();
    }
}

/// Stops the process group `pgid` (a process launched with `process_group(0)` and everything
/// it started): SIGTERM, up to 1.5 s for its leader to end (`alive`), then SIGKILL to whatever
/// is left.
pub(crate) fn stop_group(pgid: u32, alive: impl Fn() -> bool) {
    if pgid == 0 {
        return;
    }
    let pg = -(pgid as i32);
    // SAFETY: kill(2) on a process group we launched; no memory is touched.
    unsafe {
        libc::kill(pg, libc::SIGTERM);
    }
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until && alive() {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(pg, libc::SIGKILL);
    }
}

/// Has it ended? Kills it when past its deadline.
pub(crate) fn poll(r: &Running) -> Option<Exit> {
    let ended = match &r.handle {
        Some(h) => match h.try_wait() {
            Ok(Some(out)) => Some(match out.status.code() {
                Some(c) => Exit::Code(c),
                None => Exit::Killed,
            }),
            Ok(None) => None,
            Err(_) => Some(Exit::Killed),
        },
        None => (!alive(r)).then_some(Exit::Unknown),
    };
    if ended.is_some() {
        return ended;
    }
    if r.deadline.is_some_and(|d| Instant::now() > d) {
        kill_group(r);
        let secs = r
            .deadline
            .map(|d| d.duration_since(r.started).as_secs())
            .unwrap_or(0);
        return Some(Exit::TimedOut(secs));
    }
    None
}

/// The last lines of this launch's output, for failure reasons (invalid UTF-8 shown lossily).
pub(crate) fn log_tail(r: &Running, lines: usize) -> String {
    let text = super::output::read_log(&r.log, r.log_start);
    crate::git::url::excerpt(&crate::git::tail_lines(&text, lines))
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
            merge_fix: false,
            process: None,
        }
    }

    fn paths() -> Paths {
        Paths {
            run_id: "rid".into(),
            run_dir: "/r".into(),
            workspace: "/ws".into(),
            schema: "/home/u/.cursor/agents/implementor/implementor.schema.json".into(),
            standards: "/ws/.swarm/standards.md".into(),
            context_pack: Some("/r/context.implementor.w2.pack.md".into()),
        }
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn placeholders_per_argument_and_prompt_on_stdin() {
        let t = words(&[
            "claude",
            "-p",
            "{prompt}",
            "--cwd={cwd}",
            "{missing}",
            "{handoff}",
        ]);
        let l = template_launch(&t, &inv(), &paths());
        assert_eq!(
            l.argv,
            [
                "claude",
                "-p",
                "do \"it\" $(now)",
                "--cwd=/wt",
                "{missing}",
                "/r/handoff.implementor.w2.json"
            ]
        );
        assert_eq!(l.stdin, None);
        let t = words(&[
            "agent",
            "{agent}",
            "{worker}",
            "{run-id}",
            "{run-dir}",
            "{result}",
        ]);
        let l = template_launch(&t, &inv(), &paths());
        assert_eq!(
            l.argv,
            [
                "agent",
                "implementor",
                "w2",
                "rid",
                "/r",
                "/r/implementor.w2.result.json"
            ]
        );
        assert_eq!(l.stdin.as_deref(), Some("do \"it\" $(now)"));
    }

    #[test]
    fn placeholders_that_grant_access() {
        let t = words(&[
            "claude",
            "--add-dir",
            "{run-dir}",
            "--add-dir={workspace}",
            "{schema}",
            "{standards}",
            "{context-pack}",
        ]);
        let l = template_launch(&t, &inv(), &paths());
        assert_eq!(
            l.argv,
            [
                "claude",
                "--add-dir",
                "/r",
                "--add-dir=/ws",
                "/home/u/.cursor/agents/implementor/implementor.schema.json",
                "/ws/.swarm/standards.md",
                "/r/context.implementor.w2.pack.md"
            ]
        );
    }
}
