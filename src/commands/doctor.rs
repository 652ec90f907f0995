use std::path::Path;

use clap::Args;
use serde_json::{Value, json};

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::Result;

/// Check the setup: config and where its paths resolve, schemas, standards, git, hooks, PR
/// tools, and orphan worktrees. Exit 1 when something is broken.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {}

struct Report {
    checks: Vec<Value>,
    text: String,
    errors: usize,
}

impl Report {
    fn add(&mut self, level: &str, what: &str, detail: impl Into<String>) {
        let detail = detail.into();
        if level == "error" {
            self.errors += 1;
        }
        let mark = match level {
            "ok" => "ok  ",
            "warn" => "warn",
            _ => "FAIL",
        };
        self.text.push_str(&format!("[{mark}] {what}: {detail}\n"));
        self.checks
            .push(json!({"level": level, "check": what, "detail": detail}));
    }
}

pub(crate) fn run(ctx: &Context, _args: DoctorArgs) -> Result<Output> {
    let mut r = Report {
        checks: Vec::new(),
        text: String::new(),
        errors: 0,
    };
    match crate::git::query::version(&ctx.cwd) {
        Ok(v) => r.add("ok", "git", v),
        Err(e) => r.add("error", "git", e.message),
    }
    let session = match ctx.session() {
        Ok(s) => s,
        Err(e) => {
            r.add("error", "repository", e.message);
            return Ok(finish(r));
        }
    };
    r.add("ok", "workspace", session.ws.root.display().to_string());
    let exclude = session.ws.common_dir.join("info/exclude");
    let excluded = std::fs::read_to_string(&exclude)
        .map(|t| t.lines().any(|l| l.trim() == "/.swarm/runs/"))
        .unwrap_or(false);
    if session.swarm.runs.is_dir() && excluded {
        r.add(
            "ok",
            ".swarm",
            format!(
                "{} (runs excluded in {})",
                session.swarm.dir.display(),
                exclude.display()
            ),
        );
    } else {
        r.add("warn", ".swarm", "not initialised; run 'git swarm init'");
    }

    match crate::hook::installed(&session.ws.root) {
        Some(p) => r.add("ok", "pre-push hook", p.display().to_string()),
        None => r.add(
            "warn",
            "pre-push hook",
            "not installed; run 'git swarm init'",
        ),
    }
    match session.config_location() {
        Err(e) => r.add("error", "config", e.message),
        Ok(loc) => {
            let home = session.home().unwrap_or_default();
            match crate::config::load(&loc.path, &session.ws.root, &home) {
                Err(e) => r.add(
                    "error",
                    "config",
                    format!(
                        "{} ({}): {}{}",
                        loc.path.display(),
                        loc.source,
                        e.message,
                        e.hint.map(|h| format!(" — {h}")).unwrap_or_default()
                    ),
                ),
                Ok(cfg) => {
                    r.add(
                        "ok",
                        "config",
                        format!("{} (from {})", loc.path.display(), loc.source),
                    );
                    for a in &cfg.subagents {
                        let s = &a.schema_path;
                        let level = if s.path.is_file() { "ok" } else { "error" };
                        r.add(
                            level,
                            &format!("{} schema", a.name),
                            format!("{} → {} [{}]", s.raw, s.path.display(), s.how.describe()),
                        );
                        if let Some(p) = &a.plan_path {
                            let level = if p.path.is_file() { "ok" } else { "warn" };
                            r.add(
                                level,
                                &format!("{} definition", a.name),
                                format!(
                                    "{} → {} [{}]{}",
                                    p.raw,
                                    p.path.display(),
                                    p.how.describe(),
                                    if p.path.is_file() { "" } else { " (missing)" }
                                ),
                            );
                        }
                    }
                    if let Some(p) = &cfg.planning.schema_path {
                        r.add(
                            if p.path.is_file() { "ok" } else { "error" },
                            "plan schema",
                            format!("{} → {} [{}]", p.raw, p.path.display(), p.how.describe()),
                        );
                    }
                    // A program named by an untrusted config inside the repository is not
                    // run, not even for its --version.
                    let run_programs = crate::trust::require(
                        &session,
                        &[crate::trust::Use::Agents],
                        Some(&loc.path),
                    )
                    .is_ok()
                        || crate::trust::config_in_repository(&session, &loc.path).is_none();
                    agent_clis(&session, &cfg, run_programs, &mut r);
                }
            }
        }
    }
    match session.policies() {
        Ok(_) if session.swarm.policies_path().exists() => r.add(
            "ok",
            "policies",
            session.swarm.policies_path().display().to_string(),
        ),
        Ok(_) => r.add("ok", "policies", "none (defaults)"),
        Err(e) => r.add("error", "policies", e.message),
    }
    trust_checks(&session, &mut r);
    match crate::config::standards::check(&session.swarm.standards_path()) {
        Ok(()) => r.add(
            "ok",
            "standards",
            session.swarm.standards_path().display().to_string(),
        ),
        Err(why) => r.add("warn", "standards", why),
    }
    for tool in ["gh", "glab", "acli"] {
        match which::which(tool) {
            Ok(p) => r.add("ok", tool, p.display().to_string()),
            Err(_) => r.add(
                "warn",
                tool,
                "not found on PATH (pull requests for that forge will be warnings)",
            ),
        }
    }
    orphans(&session, &mut r);
    Ok(finish(r))
}

/// Worktrees on swarm branches that no run knows, and runs whose worktree vanished.
fn orphans(session: &crate::store::Session, r: &mut Report) {
    let runs = session.swarm.all_runs().unwrap_or_default();
    let known: Vec<String> = runs
        .iter()
        .filter_map(|(_, s)| s.as_ref().ok())
        .filter_map(|s| s.worktree_path.clone())
        .collect();
    let list = crate::git::worktree::list(&session.ws.root).unwrap_or_default();
    let prefix = session
        .policies()
        .map(|p| p.git.branching.branch_prefix.clone())
        .unwrap_or_else(|_| "swarm/".into());
    let mut found = 0;
    for e in &list {
        if let Some(b) = &e.branch
            && b.starts_with(&prefix)
            && !known.iter().any(|k| Path::new(k) == e.path)
        {
            let path = e.path.display();
            r.add("warn", "orphan worktree", format!("{path} ({b}) belongs to no run; 'git worktree remove {path}' if it is not needed"));
            found += 1;
        }
    }
    for (run, st) in &runs {
        if let Ok(st) = st
            && st.outcome.is_in_progress()
            && let Some(w) = &st.worktree_path
            && !Path::new(w).exists()
        {
            r.add(
                "warn",
                "missing worktree",
                format!("run {} expects {w}, which does not exist", run.id),
            );
            found += 1;
        }
    }
    if found == 0 {
        r.add("ok", "worktrees", "no orphans");
    }
}

/// Whether the repository's files that name commands are trusted (`git swarm trust`).
fn trust_checks(session: &crate::store::Session, r: &mut Report) {
    use crate::trust::{self, State, store};
    let configs: Vec<std::path::PathBuf> = session
        .config_location()
        .map(|l| vec![l.path])
        .unwrap_or_default();
    let (sources, file) = match trust::sources(session, &configs).and_then(|s| {
        let f = store::load(&trust::trust_file(session)?)?;
        Ok((s, f))
    }) {
        Ok(x) => x,
        Err(e) => {
            r.add("error", "trust", e.message);
            return;
        }
    };
    let key = trust::repo_key(session);
    for s in &sources {
        let what = format!("trust of {}", s.rel);
        if s.commands.is_empty() {
            r.add("ok", &what, "names no commands; needs no trust");
            continue;
        }
        let n = s.commands.len();
        match State::of(&file, &key, s) {
            State::Trusted => r.add("ok", &what, format!("trusted ({n} command(s) or permission(s))")),
            State::Untrusted => r.add(
                "warn",
                &what,
                format!("names {n} command(s) or permission(s) and is not trusted; commands that use them refuse — read it, then 'git swarm trust' ('git swarm trust --show' lists them)"),
            ),
            State::Changed(_) => r.add(
                "warn",
                &what,
                "changed since it was trusted; commands that use it refuse — read it again, then 'git swarm trust'",
            ),
        }
    }
}

/// Per agent: what exec mode would run (with placeholders for the paths of a run), whether
/// the program is found, and its version (asked only of programs the user trusts).
fn agent_clis(
    session: &crate::store::Session,
    cfg: &crate::config::Workflow,
    run_programs: bool,
    r: &mut Report,
) {
    let policies = session
        .policies()
        .unwrap_or_else(|_| crate::config::policies::Policies::default().into());
    let mut versions: std::collections::HashMap<String, String> = Default::default();
    for a in &cfg.subagents {
        let what = format!("{} exec", a.name);
        let argv = match crate::agents::launch::sample_launch(session, cfg, &policies, &a.name) {
            Ok(l) => l.argv,
            Err(e) => {
                r.add(
                    "warn",
                    &what,
                    format!("{} (host mode works without it)", e.message),
                );
                continue;
            }
        };
        let shown = crate::agents::exec::display_argv(&argv);
        let Some(prog) = argv.first() else { continue };
        match which::which(prog) {
            Ok(path) if !run_programs => r.add(
                "warn",
                &what,
                format!("{shown}\n       {} (not asked for its version: the config lies in the repository and is not trusted)", path.display()),
            ),
            Ok(path) => {
                let v = versions
                    .entry(prog.clone())
                    .or_insert_with(|| version_of(&path))
                    .clone();
                r.add("ok", &what, format!("{shown}\n       {} ({v})", path.display()));
            }
            Err(_) => r.add(
                "warn",
                &what,
                format!("{shown}\n       {prog} is not found on PATH; 'git swarm run' cannot launch this agent"),
            ),
        }
    }
}

/// `<program> --version`, first line, waiting at most 10 seconds.
fn version_of(path: &Path) -> String {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return "version unknown: it did not start".into();
    };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < until => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return "version unknown: --version did not answer in 10 s".into();
            }
        }
    }
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let line = out.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(l) => format!("version {}", l.chars().take(80).collect::<String>()),
        None => "version unknown".into(),
    }
}

fn finish(r: Report) -> Output {
    let ok = r.errors == 0;
    let mut text = r.text;
    text.push_str(if ok {
        "everything needed is in place\n"
    } else {
        "fix the FAIL lines above\n"
    });
    Output {
        json: json!({"ok": ok, "checks": r.checks}),
        text,
        code: if ok { 0 } else { 1 },
    }
}
