use clap::Args;
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::Result;
use crate::git;

/// Set up git swarm in this repository: .swarm/, .swarm/runs/, its exclude entry, and the
/// pre-push hook (chaining any pre-push hook already there); or, with only --pack and --man,
/// this machine.
///
/// Idempotent. --pack and --man are once per machine and, given alone, touch no repository:
/// --pack installs the default agent pack (workflow config, result schemas, agent definitions)
/// under ~/.cursor/agents/, never overwriting a file; --man installs the manual page. Without
/// them (or with --host), the repository in the current directory is set up: with --host
/// claude-code or --host cursor also that host's subagents, /swarm command and stop hook.
/// Reports the standards gate (exit 0 even when .swarm/standards.md is missing).
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Install the default agent pack under ~/.cursor/agents/.
    #[arg(long)]
    pub pack: bool,
    /// With --pack: the config it writes launches every agent in exec mode through this
    /// built-in profile ("exec": PROFILE). A config that exists is kept as it is.
    #[arg(long, value_name = "PROFILE", requires = "pack", value_parser = ["claude", "codex", "gemini", "cursor-agent"])]
    pub exec: Option<String>,
    /// Install the git-swarm(1) manual page for this user, so `git swarm --help` (which git
    /// turns into `git help swarm`) opens it.
    #[arg(long)]
    pub man: bool,
    /// Also set up an agent host (repeatable): subagent definitions, a /swarm command that
    /// drives the run, and a hook that advances it when a subagent stops. Files that exist
    /// are kept.
    #[arg(long, value_enum, value_name = "HOST")]
    pub host: Vec<crate::agents::hosts::Host>,
}

pub(crate) fn run(ctx: &Context, args: InitArgs) -> Result<Output> {
    if (args.pack || args.man) && args.host.is_empty() {
        return install_for_machine(&args);
    }
    let session = ctx.session()?;
    let created = !session.swarm.runs.is_dir();
    session.swarm.ensure_dirs()?;
    let excluded = git::ensure_exclude(&session.ws.common_dir, "/.swarm/runs/")?;
    let mut t = String::new();
    t.push_str(&format!(
        "{} {}\n",
        if created { "created" } else { "found" },
        session.swarm.runs.display()
    ));
    let exclude_path = session.ws.common_dir.join("info/exclude");
    t.push_str(&format!(
        "{} /.swarm/runs/ in {}\n",
        if excluded { "added" } else { "kept" },
        exclude_path.display()
    ));
    let hook = crate::hook::install(&session.ws.root)?;
    t.push_str(&match hook.action {
        "chained" => format!(
            "installed the pre-push hook at {} (the hook that was there runs first, as {})\n",
            hook.path.display(),
            crate::hook::CHAINED
        ),
        "unchanged" => format!("kept the pre-push hook at {}\n", hook.path.display()),
        other => format!("{other} the pre-push hook at {}\n", hook.path.display()),
    });
    let mut j = json!({
        "swarmDir": session.swarm.dir,
        "created": created,
        "exclude": {"path": exclude_path, "added": excluded},
        "hook": {"path": hook.path, "action": hook.action},
    });
    if args.man {
        let m = install_man()?;
        t.push_str(&m.text);
        j["man"] = m.json;
    }
    if args.pack {
        let p = install_pack(args.exec.as_deref())?;
        t.push_str(&p.text);
        j["pack"] = p.json;
    }
    if !args.host.is_empty() {
        let mut hosts = Vec::new();
        for h in &args.host {
            let done = crate::agents::hosts::install(&session.ws.root, *h)?;
            let rel = |p: &std::path::PathBuf| {
                p.strip_prefix(&session.ws.root)
                    .unwrap_or(p)
                    .display()
                    .to_string()
            };
            for p in &done.written {
                t.push_str(&format!("{}: wrote {}\n", h.name(), rel(p)));
            }
            let settings = session
                .ws
                .root
                .join(crate::agents::hosts::settings_file(*h));
            for p in &done.kept {
                if p.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
                    t.push_str(&format!(
                        "{}: kept {}: {}\n",
                        h.name(),
                        rel(p),
                        crate::files::safe::symlink_refused(p).message
                    ));
                } else if *p == settings {
                    t.push_str(&format!(
                        "{}: kept {} (it exists); for the run to advance by itself{}, add to it: {}\n",
                        h.name(),
                        rel(p),
                        if *h == crate::agents::hosts::Host::ClaudeCode {
                            " and its agents to work without a prompt per file"
                        } else {
                            ""
                        },
                        crate::agents::hosts::merge_snippet(*h, &session.ws.root)
                    ));
                } else {
                    t.push_str(&format!("{}: kept {} (it exists)\n", h.name(), rel(p)));
                }
            }
            hosts.push(json!({
                "host": h.name(),
                "written": done.written,
                "kept": done.kept,
                "hookInstalled": !done.kept.contains(&settings),
                "symlinks": done
                    .kept
                    .iter()
                    .filter(|p| p.symlink_metadata().is_ok_and(|m| m.is_symlink()))
                    .map(|p| json!({"path": p, "message": crate::files::safe::symlink_refused(p).message}))
                    .collect::<Vec<_>>(),
                "merge": done.kept.contains(&settings).then(|| crate::agents::hosts::merge_snippet(*h, &session.ws.root)),
            }));
        }
        j["hosts"] = json!(hosts);
        if hosts
            .iter()
            .any(|h| !h["written"].as_array().is_none_or(|w| w.is_empty()))
        {
            t.push_str("commit the new files: a run starts only from a clean tree\n");
        }
        let cfg = session.config_location()?;
        if !cfg.path.exists() {
            t.push_str(&format!(
                "note: there is no workflow config at {} yet; 'git swarm init --pack' installs the default one\n",
                cfg.path.display()
            ));
        }
    }
    let standards = session.swarm.standards_path();
    match crate::config::standards::check(&standards) {
        Ok(()) => {
            t.push_str(&format!(
                "standards: {} is actionable\n",
                standards.display()
            ));
            j["standards"] = json!({"ok": true, "path": standards});
            t.push_str("Next: git swarm start \"<task>\"\n");
        }
        Err(why) => {
            t.push_str(&format!("standards: {why}\n"));
            j["standards"] = json!({"ok": false, "path": standards, "message": why});
            t.push_str(&format!(
                "Next: write {}, then git swarm start \"<task>\"\n",
                standards.display()
            ));
        }
    }
    Ok(Output::new(j, t))
}

/// `init --pack` and/or `--man` without `--host`: what is installed once per machine, and
/// nothing in any repository (`init` without them, or `start`, sets a repository up).
fn install_for_machine(args: &InitArgs) -> Result<Output> {
    let mut j = json!({});
    let mut t = String::new();
    if args.pack {
        let p = install_pack(args.exec.as_deref())?;
        t.push_str(&p.text);
        j["pack"] = p.json;
    }
    if args.man {
        let m = install_man()?;
        t.push_str(&m.text);
        j["man"] = m.json;
    }
    t.push_str("no repository was changed; in a repository, 'git swarm init' sets it up ('git swarm start' does too)\n");
    Ok(Output::new(j, t))
}

/// Installs the default agent pack under `~/.cursor/agents/`, keeping every file there; with
/// `exec`, the config it writes names that profile.
fn install_pack(exec: Option<&str>) -> Result<Output> {
    let home = crate::config::paths::home_dir()?;
    let (written, kept) = crate::agents::pack::install(&home, exec)?;
    let mut t = String::new();
    for p in &written {
        t.push_str(&format!("wrote {}\n", p.display()));
    }
    if !kept.is_empty() {
        t.push_str(&format!(
            "kept {} existing pack file(s) under {}\n",
            kept.len(),
            home.join(".cursor/agents").display()
        ));
    }
    let config = home
        .join(".cursor/agents")
        .join(crate::agents::pack::CONFIG);
    let exec_set = exec.filter(|_| written.contains(&config));
    if let Some(profile) = exec {
        if exec_set.is_some() {
            t.push_str(&format!(
                "exec mode launches every agent through the {profile} profile ({})\n",
                config.display()
            ));
        } else {
            t.push_str(&format!(
                "note: kept {} as it is; --exec {profile} applies only to a config this writes (set \"exec\": \"{profile}\" in it yourself)\n",
                config.display()
            ));
        }
    }
    Ok(Output::new(
        json!({"written": written, "kept": kept, "exec": exec_set}),
        t,
    ))
}

/// Installs git-swarm.1 where `man` finds it for the running binary: `man` looks in
/// `<dir>/share/man` and `<dir>/man` for every `<dir>/bin` on PATH (manpath(1)), so a binary in
/// `<prefix>/bin` (`cargo install` puts it in `~/.cargo/bin`) gets its page in
/// `<prefix>/share/man/man1`. When that directory cannot be written, the page goes to
/// `$XDG_DATA_HOME/man/man1` (default `~/.local/share/man/man1`). Either way, `man -w` is
/// asked whether it finds the page, and when it does not the exact MANPATH line is printed.
fn install_man() -> Result<Output> {
    let page = crate::commands::completions::man_page();
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf))
        .filter(|bin| bin.file_name().is_some_and(|n| n == "bin"))
        .and_then(|bin| bin.parent().map(|p| p.join("share/man")));
    let mut written = None;
    if let Some(base) = beside {
        let dir = base.join("man1");
        let path = dir.join("git-swarm.1");
        if crate::files::atomic::create_dir_all(&dir).is_ok()
            && crate::files::atomic::write(&path, page.as_bytes()).is_ok()
        {
            written = Some((base, path));
        }
    }
    let (base, path) = match written {
        Some(w) => w,
        None => {
            let data = std::env::var_os("XDG_DATA_HOME")
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from)
                .map(Ok)
                .unwrap_or_else(|| {
                    crate::config::paths::home_dir().map(|h| h.join(".local/share"))
                })?;
            let base = data.join("man");
            let dir = base.join("man1");
            crate::files::atomic::create_dir_all(&dir)?;
            let path = dir.join("git-swarm.1");
            crate::files::atomic::write(&path, page.as_bytes())?;
            (base, path)
        }
    };
    let found = man_finds(&path);
    let manpath = format!("export MANPATH=\"{}:$MANPATH\"", base.display());
    let mut text = format!("wrote {}", path.display());
    match found {
        Some(true) => text.push_str(" (git swarm --help opens it)\n"),
        Some(false) => text.push_str(&format!(
            "\nman does not look there yet: add this line to your shell's profile, then git swarm --help opens it:\n  {manpath}\n"
        )),
        None => text.push_str(&format!(
            " (git swarm --help opens it if man looks there; if it does not: {manpath})\n"
        )),
    }
    Ok(Output::new(
        json!({"path": path, "found": found, "manpath": (found != Some(true)).then_some(manpath)}),
        text,
    ))
}

/// Does `man -w git-swarm` answer `page`? `None` when man cannot be asked.
fn man_finds(page: &std::path::Path) -> Option<bool> {
    let out = duct::cmd("man", ["-w", "git-swarm"])
        .stdin_null()
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()?;
    let answer = String::from_utf8_lossy(&out.stdout);
    let answer = answer.lines().next().unwrap_or_default().trim();
    Some(
        out.status.success()
            && std::fs::canonicalize(answer).ok() == std::fs::canonicalize(page).ok(),
    )
}
