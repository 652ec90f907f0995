use clap::Args;
use serde_json::json;

use crate::cli::Context;
use crate::error::Result;
use crate::git;
use crate::report::Output;

/// Set up git swarm in this repository: .swarm/, .swarm/runs/, its exclude entry, and the
/// pre-push hook (chaining any pre-push hook already there).
///
/// Idempotent. With --pack, also installs the default agent pack (workflow config, result
/// schemas, agent definitions) under ~/.cursor/agents/, never overwriting a file. Reports the
/// standards gate (exit 0 even when .swarm/standards.md is missing).
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Install the default agent pack under ~/.cursor/agents/.
    #[arg(long)]
    pub pack: bool,
}

pub fn run(ctx: &Context, args: InitArgs) -> Result<Output> {
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
        other => format!("{other} the pre-push hook at {}\n", hook.path.display()),
    });
    let mut j = json!({
        "swarmDir": session.swarm.dir,
        "created": created,
        "exclude": {"path": exclude_path, "added": excluded},
        "hook": {"path": hook.path, "action": hook.action},
    });
    if args.pack {
        let home = session.home()?;
        let (written, kept) = crate::pack::install(&home)?;
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
        j["pack"] = json!({"written": written, "kept": kept});
    }
    let standards = session.swarm.standards_path();
    match crate::standards::check(&standards) {
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
