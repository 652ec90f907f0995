//! The kill harness: runs a git-swarm command in a process group of its own and kills the
//! whole group with SIGKILL — the tool and the `git` it is running, as Ctrl-C, a closed
//! terminal or the OOM killer would — at a chosen moment: after a delay, while a given git
//! child runs (watched through /proc), or at a failpoint. `sweep` measures the command once
//! uninterrupted, kills it at points across that time and inside every git operation it saw,
//! and has each test check that rerunning the command reaches the uninterrupted end.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One process seen in `/proc`.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub state: char,
    pub argv: Vec<String>,
}

/// Reads `/proc/<pid>/stat` (and `cmdline` when asked); `None` when the process is gone.
pub fn read_proc(pid: i32, cmdline: bool) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut f = rest.split(' ');
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgid = f.next()?.parse().ok()?;
    let argv = if cmdline {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .unwrap_or_default()
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    } else {
        Vec::new()
    };
    Some(Proc {
        pid,
        ppid,
        pgid,
        state,
        argv,
    })
}

/// The children of every thread of `pid`.
fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(
                    text.split_whitespace()
                        .filter_map(|c| c.parse::<i32>().ok()),
                );
            }
        }
    }
    out
}

/// Every process, without its command line (cheap enough to poll every millisecond).
pub fn all_procs() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| read_proc(pid, false))
        .collect()
}

/// What a process is doing, as a phase of the command: `git worktree add`, `git reset`,
/// `git checkout--worker`, `git-swarm hook`, `sh`, `gh`, `fake-agent.sh`.
pub fn phase_of(argv: &[String]) -> String {
    let Some(first) = argv.first() else {
        return "?".to_string();
    };
    let base = Path::new(first)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if base == "git" {
        let mut it = argv[1..].iter();
        while let Some(a) = it.next() {
            if a == "-c" || a == "-C" {
                it.next();
                continue;
            }
            if a.starts_with('-') {
                continue;
            }
            let mut name = format!("git {a}");
            if a == "worktree"
                && let Some(sub) = it.find(|s| !s.starts_with('-'))
            {
                name = format!("{name} {sub}");
            }
            return name;
        }
        return "git".to_string();
    }
    if base == "git-swarm" {
        return match argv.get(1) {
            Some(a) => format!("git-swarm {a}"),
            None => base,
        };
    }
    if (base == "sh" || base == "bash") && argv.len() > 2 && !argv[1].starts_with('-') {
        // A script: `sh /path/to/script args` is the script.
        return Path::new(&argv[1])
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(base);
    }
    base
}

/// The moment to kill.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// Never: the command runs to its end (measuring).
    Never,
    /// This long after the start.
    After(Duration),
    /// `extra` after the `nth` (from 0) process of `phase` appeared in the group.
    Phase {
        phase: String,
        nth: usize,
        extra: Duration,
    },
    /// At the `skip + 1`th hit of a failpoint: the tool aborts there (`FAILPOINTS`), and the
    /// harness kills the rest of the group the moment it sees the tool die.
    Failpoint { name: String, skip: usize },
}

impl Trigger {
    pub fn label(&self) -> String {
        match self {
            Trigger::Never => "uninterrupted".to_string(),
            Trigger::After(d) => format!("after {} ms", d.as_millis()),
            Trigger::Phase { phase, nth, extra } => {
                format!("{phase} #{} + {} ms", nth + 1, extra.as_millis())
            }
            Trigger::Failpoint { name, skip } => format!("failpoint {name} hit {}", skip + 1),
        }
    }
}

/// Who dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Victims {
    /// The tool's process group: the tool, its git children and their children. What the tool
    /// started in groups of their own (agents, setup commands) lives on, as after Ctrl-C or a
    /// closed terminal.
    Group,
    /// The group and every process group a descendant leads (agents too), as when the whole
    /// machine or container goes down.
    Tree,
}

/// A process the harness saw while the command ran, with the times (since the start) it was
/// first and last seen.
#[derive(Debug, Clone)]
pub struct Seen {
    pub phase: String,
    pub pid: i32,
    pub in_group: bool,
    pub first: Duration,
    pub last: Duration,
}

/// What one attempt did.
#[derive(Debug)]
pub struct Trial {
    pub trigger: Trigger,
    /// The group was killed (or the tool aborted at the failpoint) before the tool ended.
    pub killed: bool,
    pub code: Option<i32>,
    pub elapsed: Duration,
    pub seen: Vec<Seen>,
    /// The phases of the processes alive when the group was killed (those in process groups
    /// of their own marked so).
    pub during: Vec<String>,
    pub stdout: String,
    pub stderr: String,
}

impl Trial {
    pub fn describe(&self) -> String {
        let what = if self.killed {
            if self.during.is_empty() {
                "killed in the tool itself".to_string()
            } else {
                format!("killed during {}", self.during.join(", "))
            }
        } else {
            format!("ended by itself (exit {:?})", self.code)
        };
        format!(
            "{} at {} ms: {what}",
            self.trigger.label(),
            self.elapsed.as_millis()
        )
    }
}

fn kill_group(pgid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe { libc::kill(-pgid, sig) == 0 }
}

/// Runs `cmd` in a process group of its own and kills it as `trigger` says.
pub fn run(mut cmd: Command, trigger: &Trigger, victims: Victims) -> Trial {
    let out = tempfile::tempdir().expect("tempdir");
    let stdout_path = out.path().join("stdout");
    let stderr_path = out.path().join("stderr");
    if let Trigger::Failpoint { name, skip } = trigger {
        cmd.env("FAILPOINTS", format!("{name}={skip}*off->return"));
    }
    // Output goes to files, not pipes: an agent that outlives the tool may hold them open.
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().expect("git-swarm starts");
    let pgid = child.id() as i32;
    // Every process the command started (for Victims::Tree), and those alive at the last
    // look.
    let mut tree: BTreeSet<i32> = BTreeSet::from([pgid]);
    let mut alive: BTreeSet<i32> = BTreeSet::new();
    let mut seen: BTreeMap<i32, Seen> = BTreeMap::new();
    let mut alive_now: Vec<String> = Vec::new();
    let mut killed = false;
    let mut during = Vec::new();
    // Walks the tree from the tool and from every descendant known alive (one that lost its
    // parent is still found) through /proc/<pid>/task/<tid>/children: a few small reads, not
    // a pass over all of /proc.
    let scan = |tree: &mut BTreeSet<i32>,
                alive: &mut BTreeSet<i32>,
                seen: &mut BTreeMap<i32, Seen>,
                alive_now: &mut Vec<String>| {
        let now = start.elapsed();
        // With each process, its parent's command line when it was found through its parent.
        let mut queue: Vec<(i32, Option<Vec<String>>)> = alive
            .iter()
            .map(|p| (*p, None))
            .chain([(pgid, None)])
            .collect();
        let mut visited = BTreeSet::new();
        alive_now.clear();
        while let Some((pid, parent_argv)) = queue.pop() {
            if !visited.insert(pid) {
                continue;
            }
            let p = match read_proc(pid, true) {
                Some(p) if p.state != 'Z' => p,
                _ => {
                    alive.remove(&pid);
                    continue;
                }
            };
            tree.insert(pid);
            queue.extend(children(pid).into_iter().map(|c| (c, Some(p.argv.clone()))));
            if pid == pgid {
                continue;
            }
            // Forked but not yet exec'd: it shows its parent's command line and is not what
            // it will be; the next look sees it.
            if parent_argv.as_ref() == Some(&p.argv) && !seen.contains_key(&pid) {
                continue;
            }
            alive.insert(pid);
            let phase = phase_of(&p.argv);
            let in_group = p.pgid == pgid;
            alive_now.push(if in_group {
                phase.clone()
            } else {
                format!("{phase} (own group)")
            });
            let s = seen.entry(pid).or_insert_with(|| Seen {
                phase: phase.clone(),
                pid,
                in_group,
                first: now,
                last: now,
            });
            s.last = now;
            if !p.argv.is_empty() {
                s.phase = phase;
            }
        }
    };
    // Watching /proc costs CPU the command then lacks: only while measuring, waiting for a
    // git operation, or keeping track of agents to kill when the tool dies at a failpoint.
    let watch = match trigger {
        Trigger::Never | Trigger::Phase { .. } => true,
        Trigger::After(_) => false,
        Trigger::Failpoint { .. } => victims == Victims::Tree,
    };
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            if let Trigger::Failpoint { .. } = trigger {
                use std::os::unix::process::ExitStatusExt;
                if status.signal().is_some() {
                    // Aborted at the failpoint: what is left of the group dies now.
                    killed = true;
                    scan(&mut tree, &mut alive, &mut seen, &mut alive_now);
                    during = alive_now.clone();
                    kill_everything(pgid, &tree, victims);
                }
            }
            break status;
        }
        if watch {
            scan(&mut tree, &mut alive, &mut seen, &mut alive_now);
        }
        let now = start.elapsed();
        let fire = match trigger {
            Trigger::Never | Trigger::Failpoint { .. } => false,
            Trigger::After(d) => now >= *d,
            Trigger::Phase { phase, nth, extra } => {
                let mut of_phase: Vec<&Seen> = seen
                    .values()
                    .filter(|s| s.in_group && &s.phase == phase)
                    .collect();
                of_phase.sort_by_key(|s| s.first);
                of_phase.get(*nth).is_some_and(|s| now >= s.first + *extra)
            }
        };
        if fire {
            killed = true;
            if !watch {
                scan(&mut tree, &mut alive, &mut seen, &mut alive_now);
            }
            during = alive_now.clone();
            kill_everything(pgid, &tree, victims);
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_micros(if watch { 1000 } else { 300 }));
    };
    let elapsed = start.elapsed();
    // The group is gone before anything runs again: a git still dying must not race the
    // rerun. Processes in groups of their own (agents after a group kill) finish on their own,
    // as they would for a user; the rerun comes after them.
    let deadline = Instant::now() + Duration::from_secs(120);
    for round in 0.. {
        scan(&mut tree, &mut alive, &mut seen, &mut alive_now);
        if round % 20 == 0 || alive.is_empty() {
            // A child forked just before the kill, not seen yet.
            alive.extend(
                all_procs()
                    .into_iter()
                    .filter(|p| p.pgid == pgid && p.pid != pgid && p.state != 'Z')
                    .map(|p| p.pid),
            );
        }
        if alive.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processes of the killed command still run after 120 s: {alive:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut seen: Vec<Seen> = seen.into_values().collect();
    seen.sort_by_key(|s| s.first);
    Trial {
        trigger: trigger.clone(),
        killed,
        code: status.code(),
        elapsed,
        seen,
        during,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

fn kill_everything(pgid: i32, tree: &BTreeSet<i32>, victims: Victims) {
    if victims == Victims::Tree {
        // Freeze the group first so nothing new is forked, then kill every group a
        // descendant leads, then the group.
        kill_group(pgid, libc::SIGSTOP);
        let groups: BTreeSet<i32> = all_procs()
            .into_iter()
            .filter(|p| tree.contains(&p.pid) || tree.contains(&p.ppid))
            .map(|p| p.pgid)
            .filter(|g| *g != pgid)
            .collect();
        for g in groups {
            kill_group(g, libc::SIGKILL);
        }
    }
    kill_group(pgid, libc::SIGKILL);
}

/// `GIT_SWARM_KILL_SWEEP=full`: the fine sweep (32 points across the command, four inside
/// each of the first four runs of every git operation that writes, the start of every other
/// one; with the nextest profile
/// `kill-full`, whose timeout allows it). Otherwise a coarse one: 10 points across the
/// command, and the start (and middle, when it lasts) of the first two of each git
/// operation that writes.
pub fn full_sweep() -> bool {
    std::env::var("GIT_SWARM_KILL_SWEEP").is_ok_and(|v| v == "full")
}

/// Where to kill, from an uninterrupted run: evenly across its duration, plus inside every
/// git operation it ran (at its start, and later into it as long as it lasted).
pub fn points(measured: &Trial, interesting: &dyn Fn(&str) -> bool) -> Vec<Trigger> {
    let full = full_sweep();
    let n: u32 = if full { 32 } else { 10 };
    let step = measured.elapsed / n;
    let mut out: Vec<Trigger> = (0..n).map(|i| Trigger::After(step * i)).collect();
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let mut middles: Vec<Duration> = Vec::new();
    for s in measured.seen.iter().filter(|s| s.in_group) {
        let nth = count.entry(s.phase.clone()).or_default();
        let this = *nth;
        *nth += 1;
        if !s.phase.starts_with("git") || s.phase == "git-swarm" {
            continue;
        }
        // Coarse: the first two of each writing operation, at its start and, when it lasts,
        // half-way through (not the checkout workers, which run inside `git reset`). Full: the
        // first four of every operation.
        let skip = if full {
            this >= 4
        } else {
            !interesting(&s.phase) || s.phase == "git checkout--worker" || this >= 2
        };
        if skip {
            continue;
        }
        let lasted = s.last.saturating_sub(s.first);
        // Full: four points into every operation that writes, the start of every other one.
        let fractions: &[u32] = match (full, writes(&s.phase)) {
            (true, true) => &[0, 1, 2, 3],
            (true, false) => &[0],
            (false, _) => &[0, 2],
        };
        let mut extras: Vec<Duration> = fractions.iter().map(|f| lasted * *f / 4).collect();
        extras.dedup();
        if !full {
            // Half-way into an operation that lasts, unless that moment is already taken by
            // one it runs inside (`git reset` and its checkout workers within `worktree add`).
            let mid = s.first + lasted / 2;
            let taken = middles
                .iter()
                .any(|m: &Duration| m.abs_diff(mid) < measured.elapsed / 16);
            if lasted < Duration::from_millis(30) || taken {
                extras.truncate(1);
            } else {
                middles.push(mid);
            }
        }
        for extra in extras {
            out.push(Trigger::Phase {
                phase: s.phase.clone(),
                nth: this,
                extra,
            });
        }
    }
    out
}

/// A kill experiment on one command.
pub struct Sweep<'a, C> {
    pub name: &'a str,
    /// A fresh state, ready for the command.
    pub prepare: &'a dyn Fn() -> C,
    /// The command to kill.
    pub command: &'a dyn Fn(&C) -> Command,
    /// Reruns and checks the end; panics when it is wrong, returns a note when the tool
    /// refused as allowed (exit 1 naming what to remove).
    pub check: &'a dyn Fn(&C, &Trial) -> Option<String>,
    pub victims: Victims,
    /// In the coarse sweep, the git operations worth killing inside (the ones that write).
    pub interesting: &'a dyn Fn(&str) -> bool,
    /// Failpoints to kill the group at, beside the timed points.
    pub failpoints: &'a [(&'a str, usize)],
    /// Kill at points in time and inside git operations (else only at the failpoints).
    pub timed: bool,
}

/// Git operations that write: the ones whose interruption leaves half-made states.
pub fn writes(phase: &str) -> bool {
    [
        "git worktree add",
        "git worktree remove",
        "git worktree prune",
        "git reset",
        "git checkout",
        "git checkout--worker",
        "git branch",
        "git update-ref",
        "git symbolic-ref",
        "git merge",
        "git commit",
        "git add",
        "git push",
        "git read-tree",
        "git update-index",
        "git pack-objects",
        "git write-tree",
    ]
    .contains(&phase)
}

impl<C> Sweep<'_, C> {
    /// Runs the sweep; panics listing every point whose end was wrong.
    pub fn run(&self) {
        let started = Instant::now();
        let c = (self.prepare)();
        let measured = run((self.command)(&c), &Trigger::Never, self.victims);
        let phases: Vec<String> = measured
            .seen
            .iter()
            .filter(|s| s.in_group)
            .map(|s| {
                format!(
                    "{} [{}–{} ms]",
                    s.phase,
                    s.first.as_millis(),
                    s.last.as_millis()
                )
            })
            .collect();
        println!(
            "{}: uninterrupted in {} ms (exit {:?}); group processes: {}",
            self.name,
            measured.elapsed.as_millis(),
            measured.code,
            phases.join(", ")
        );
        // The checks' panics are collected and printed here, one line each; the default hook
        // (with its backtraces) comes back for the verdict.
        std::panic::set_hook(Box::new(|_| {}));
        let mut failures: Vec<(String, String)> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        let mut attempt = |trial: Trial, c: C| {
            let checking = Instant::now();
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.check)(&c, &trial)));
            let what = format!(
                "{} (checked in {} ms)",
                trial.describe(),
                checking.elapsed().as_millis()
            );
            match result {
                Ok(None) => println!("  ok      {what}"),
                Ok(Some(note)) => {
                    println!("  refused {what}: {note}");
                    notes.push(format!("{what}: {note}"));
                }
                Err(e) => {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panic".to_string());
                    println!("  FAILED  {what}: {}", first_lines(&msg, 3));
                    failures.push((what, msg));
                }
            }
            drop(c);
        };
        let mut triggers = if self.timed {
            points(&measured, self.interesting)
        } else {
            Vec::new()
        };
        for (name, skip) in self.failpoints {
            triggers.push(Trigger::Failpoint {
                name: name.to_string(),
                skip: *skip,
            });
        }
        let total = triggers.len();
        let uninterrupted = measured.elapsed;
        attempt(measured, c);
        for t in triggers {
            let preparing = Instant::now();
            let c = (self.prepare)();
            println!("  prepared in {} ms", preparing.elapsed().as_millis());
            let trial = run((self.command)(&c), &t, self.victims);
            attempt(trial, c);
        }
        // Later and later, until a run completes uninterrupted.
        let step = (uninterrupted / 8).max(Duration::from_millis(10));
        let mut at = uninterrupted;
        let mut extra = 0;
        while self.timed && extra < 12 {
            let c = (self.prepare)();
            let trial = run((self.command)(&c), &Trigger::After(at), self.victims);
            let done = !trial.killed;
            attempt(trial, c);
            extra += 1;
            if done {
                break;
            }
            at += step;
        }
        println!(
            "{}: {} kill points, {} refused as allowed, {} wrong, in {} s",
            self.name,
            total + extra + 1,
            notes.len(),
            failures.len(),
            started.elapsed().as_secs()
        );
        let _ = std::panic::take_hook();
        if !failures.is_empty() {
            let mut msg = format!(
                "{}: {} of {} kill points left a wrong end",
                self.name,
                failures.len(),
                total + extra + 1
            );
            for (what, m) in &failures {
                msg.push_str(&format!("\n- {what}:\n    {}", first_lines(m, 6)));
            }
            panic!("{msg}");
        }
    }
}

pub fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().take(n).collect();
    let mut s = lines.join("\n    ");
    if s.len() > 1200 {
        s.truncate(1200);
        s.push('…');
    }
    s
}

/// Every `*.lock` file under `dir` (git's lock files: `index.lock`, `HEAD.lock`,
/// `refs/heads/….lock`, `config.lock`, `shallow.lock`, …).
pub fn lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            out.extend(lock_files(&p));
        } else if p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
    out
}
