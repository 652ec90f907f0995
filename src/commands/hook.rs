use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::Context;
use crate::error::{Error, Result};
use crate::report::Output;

/// What git's hooks run (installed by 'git swarm init').
#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub hook: Hook,
}

#[derive(Debug, Subcommand)]
pub enum Hook {
    /// The pre-push check: reads git's ref lines on stdin; refuses a swarm branch whose
    /// content the tester did not pass, and new commits that add files under .swarm/runs/.
    PrePush {
        /// The remote's name.
        remote: String,
        /// The remote's URL.
        url: Option<String>,
    },
}

pub fn run(ctx: &Context, args: HookArgs) -> Result<Output> {
    match args.hook {
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
