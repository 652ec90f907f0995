use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::{Error, Result};

/// What git's hooks run (installed by 'git swarm init').
#[derive(Debug, Args)]
pub(crate) struct HookArgs {
    #[command(subcommand)]
    pub hook: Hook,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Hook {
    /// The pre-push check: reads git's ref lines on stdin; refuses a swarm branch whose
    /// content the tester did not pass, and new commits that add files under .swarm/runs/.
    PrePush {
        /// The remote's name.
        remote: String,
        /// The remote's URL.
        url: Option<String>,
    },
    /// What agent hosts run when a subagent stops (installed by 'git swarm init --host'):
    /// advances every run in progress that no 'git swarm run' drives, so a result is consumed
    /// as soon as it is written. Reads and ignores the host's JSON on stdin, prints nothing
    /// (with --json, what it advanced) and always exits 0; 'git swarm next' reports problems.
    AgentStop,
}

pub(crate) fn run(ctx: &Context, args: HookArgs) -> Result<Output> {
    match args.hook {
        Hook::AgentStop => Ok(agent_stop(ctx)),
        Hook::PrePush { remote, url: _ } => {
            let stdin = std::io::stdin();
            let refusals = crate::hook::pre_push(&ctx.cwd, &remote, stdin.lock())?;
            if refusals.is_empty() {
                return Ok(Output::new(json!({"ok": true}), String::new()));
            }
            let mut e = Error::refused(format!(
                "git swarm refuses this push:\n  {}",
                refusals.join("\n  ")
            ));
            e = e.hint("fix the refs named above, or push with --no-verify to bypass the check");
            Err(e)
        }
    }
}

fn agent_stop(ctx: &Context) -> Output {
    // The host writes a JSON event on stdin; read it so the host never blocks on a full pipe,
    // but not from a terminal (someone trying the command by hand).
    if unsafe { libc::isatty(0) } == 0 {
        use std::io::Read;
        let mut sink = Vec::new();
        let _ = std::io::stdin().lock().take(1 << 20).read_to_end(&mut sink);
    }
    // Claude Code names the project; hooks may run elsewhere in it.
    let cwd = std::env::var_os("CLAUDE_PROJECT_DIR")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| ctx.cwd.clone());
    let mut advanced = Vec::new();
    let mut skipped = Vec::new();
    let session = match crate::store::Session::open(&cwd, ctx.config.clone()) {
        Ok(s) => s,
        Err(e) => {
            crate::trace::mark(&format!("agent-stop: no session: {}", e.message));
            return Output::new(
                json!({"advanced": advanced, "skipped": skipped}),
                String::new(),
            );
        }
    };
    for (run, _) in session.swarm.active_runs().unwrap_or_default() {
        if crate::store::lock::is_held(&run.path.join(".runner.lock")) {
            skipped.push(json!({"run-id": run.id, "why": "driven by git swarm run"}));
            continue;
        }
        let result = crate::driver::Tx::begin(&session, &run)
            .and_then(|tx| crate::driver::advance(&tx, None));
        match result {
            Ok(st) => advanced.push(json!({
                "run-id": run.id,
                "action": crate::machine::action_of(&st).as_str(),
            })),
            Err(e) => skipped.push(json!({"run-id": run.id, "why": e.message})),
        }
    }
    Output::new(
        json!({"advanced": advanced, "skipped": skipped}),
        String::new(),
    )
}
