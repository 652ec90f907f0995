//! The profile of Cursor's agent.

use super::*;
use crate::config::Profile;

/// Cursor's agent (`cursor-agent -p`; not verified: it is not distributed through a package
/// registry). In print mode it refuses writes outside its workspace and commands that are not
/// on the allowlist of its own config (`~/.cursor/cli-config.json`, `.cursor/cli.json`); no
/// flag grants either. So the agent answers with its result as its final message, which git
/// swarm writes to the result file, and commands beyond the allowlist need
/// `agents.allowAllCommands` (`--force`). The definition leads the prompt.
pub(super) fn cursor(p: &Profile, s: &Scope) -> Launch {
    let mut argv: Vec<String> = vec![
        p.program.clone(),
        "--print".into(),
        "--output-format".into(),
        "json".into(),
    ];
    if let Some(m) = &p.model {
        argv.extend(["--model".into(), m.clone()]);
    }
    if s.commands.all {
        argv.push("--force".into());
    }
    argv.extend(p.args.iter().cloned());
    Launch {
        argv,
        stdin: Some(prompt(s, true, Answer::FinalMessage, false)),
        env: Vec::new(),
        files: Vec::new(),
        output: Output::CursorJson,
        structured: Some(Structured::ResultText),
    }
}
