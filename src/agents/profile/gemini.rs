//! The Gemini CLI profile and its per-invocation policy file.

use std::path::Path;

use super::*;
use crate::config::Profile;

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The Gemini CLI policy (its policy engine's TOML) for one invocation: shell commands by
/// prefix (the rest denied with a message), the result file (and the plan) writable, and for
/// editors, nothing else in the run folder.
fn gemini_policy(s: &Scope) -> String {
    let mut out = String::from("# Written by git swarm for one invocation.\n");
    let rule = |out: &mut String, tool: &str, extra: &str, decision: &str, priority: u32| {
        out.push_str(&format!(
            "\n[[rule]]\ntoolName = \"{tool}\"\n{extra}decision = \"{decision}\"\npriority = {priority}\n"
        ));
    };
    if s.commands.all {
        rule(&mut out, "run_shell_command", "", "allow", 500);
    } else {
        let prefixes: Vec<String> = s.commands.allowed.iter().map(|c| toml_str(c)).collect();
        rule(
            &mut out,
            "run_shell_command",
            &format!("commandPrefix = [{}]\n", prefixes.join(", ")),
            "allow",
            500,
        );
        rule(
            &mut out,
            "run_shell_command",
            &format!(
                "denyMessage = {}\n",
                toml_str(&format!(
                    "git swarm allows only these commands: {}.",
                    s.commands.allowed.join(", ")
                ))
            ),
            "deny",
            100,
        );
    }
    let path_pattern = |p: &Path| {
        let json = serde_json::to_string(&p.display().to_string()).unwrap_or_default();
        toml_str(&format!(
            "\"file_path\":{}",
            crate::git::regex_literal(&json)
        ))
    };
    let mut writable = vec![s.result.clone()];
    writable.extend(s.plan_file.clone());
    for w in &writable {
        rule(
            &mut out,
            "write_file",
            &format!("argsPattern = {}\n", path_pattern(w)),
            "allow",
            600,
        );
    }
    if s.role == Role::Editor {
        let dir = serde_json::to_string(&format!("{}/", s.run_dir.display())).unwrap_or_default();
        let dir = dir.trim_end_matches('"');
        for tool in ["write_file", "replace"] {
            rule(
                &mut out,
                tool,
                &format!(
                    "argsPattern = {}\ndenyMessage = {}\n",
                    toml_str(&format!("\"file_path\":{}", crate::git::regex_literal(dir))),
                    toml_str("only your result file may be written in the run folder")
                ),
                "deny",
                550,
            );
        }
    }
    out
}

/// Gemini CLI (headless, verified with 0.61.0). Editors use `auto_edit` (edits approved), the
/// others the default mode, which offers only reading tools headless. A policy file (the
/// policy engine's TOML, `--policy`) allows the commands by prefix and denies the rest, and
/// allows writing exactly the result file (and the plan); `--include-directories` grants the
/// run folder, the schema folders and the standards folder. `--skip-trust`: headless Gemini
/// refuses an untrusted folder, and a run's worktree is new by nature. Gemini can only
/// replace its whole system prompt, so the definition leads the prompt, which is passed as
/// `-p` (Gemini reads stdin only if it arrives at once) unless it is too long for an argument.
pub(super) fn gemini(p: &Profile, s: &Scope) -> Launch {
    let policy = s.scratch("gemini-policy.toml");
    let mut argv: Vec<String> = vec![
        p.program.clone(),
        "--output-format".into(),
        "json".into(),
        "--skip-trust".into(),
    ];
    if let Some(m) = &p.model {
        argv.extend(["--model".into(), m.clone()]);
    }
    argv.extend([
        "--approval-mode".into(),
        if s.role == Role::Editor {
            "auto_edit".into()
        } else {
            "default".into()
        },
        "--policy".into(),
        policy.display().to_string(),
    ]);
    for d in extra_dirs(s, true) {
        argv.extend(["--include-directories".into(), d.display().to_string()]);
    }
    argv.extend(p.args.iter().cloned());
    let text = prompt(s, true, Answer::File, false);
    // Linux limits one argument to 128 KiB.
    let stdin = if text.len() <= 96 * 1024 {
        argv.extend(["--prompt".into(), text]);
        None
    } else {
        Some(text)
    };
    // Gemini runs commands with git's global and system config hidden
    // (GIT_CONFIG_GLOBAL=/dev/null): the identity comes through the environment instead.
    let env = s
        .identity
        .iter()
        .flat_map(|(name, email)| {
            [
                ("GIT_AUTHOR_NAME".to_string(), name.clone()),
                ("GIT_AUTHOR_EMAIL".to_string(), email.clone()),
                ("GIT_COMMITTER_NAME".to_string(), name.clone()),
                ("GIT_COMMITTER_EMAIL".to_string(), email.clone()),
            ]
        })
        .collect();
    Launch {
        argv,
        stdin,
        env,
        files: vec![(policy, gemini_policy(s))],
        output: Output::GeminiJson,
        structured: None,
    }
}
