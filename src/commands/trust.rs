use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::trust::{self, Named, Source, State, store};

/// Trust the commands this repository's files make git swarm run, after reading them.
///
/// The repository policy, .swarm/policies.json, can name commands (worktree.setupCommand,
/// pr.createCommand) and widen what agents may run (agents.allowedCommands,
/// agents.allowAllCommands); a workflow config inside the repository names every agent launch
/// (exec, env). None of them takes effect until you trust that file's exact content here: the
/// commands that would use them refuse (exit 3) and list them. This shows each file and every
/// command it can make git swarm run, and records the SHA-256 of its content in
/// $XDG_CONFIG_HOME/git-swarm/trust.json (default ~/.config/git-swarm/trust.json), outside
/// every repository. A changed file needs trusting again. Files that name no commands need no
/// trust.
#[derive(Debug, Args)]
pub(crate) struct TrustArgs {
    /// Only show the files, their commands and whether they are trusted; record nothing.
    #[arg(long, visible_alias = "dry-run", conflicts_with = "revoke")]
    pub show: bool,
    /// Forget every trust recorded for this repository: its commands refuse again until
    /// trusted.
    #[arg(long)]
    pub revoke: bool,
}

pub(crate) fn run(ctx: &Context, args: TrustArgs) -> Result<Output> {
    // An agent that git swarm launched (its environment names the invocation) must not
    // approve the commands of the repository it works in: that is the user's decision.
    if !args.show && !args.revoke && std::env::var_os(crate::agents::exec::INVOCATION_VAR).is_some()
    {
        return Err(Error::refused(format!(
            "git swarm trust is refused inside an agent that git swarm launched ({} is set)",
            crate::agents::exec::INVOCATION_VAR
        ))
        .hint("trusting a repository's commands is for you to do, in your own shell, after reading the files ('git swarm trust --show' lists them)"));
    }
    let session = ctx.session()?;
    let key = trust::repo_key(&session);
    let trust_file = trust::trust_file(&session)?;
    let head = json!({
        "repository": session.ws.root.display().to_string(),
        "gitDir": key,
        "trustFile": trust_file.display().to_string(),
    });
    let mut text = format!(
        "repository {} (trust kept in {})\n",
        session.ws.root.display(),
        trust_file.display()
    );

    if args.revoke {
        let mut removed: Vec<String> = Vec::new();
        if trust_file.exists() {
            store::update(&trust_file, |f| {
                if let Some(r) = f.repositories.remove(&key) {
                    removed = r.files.into_keys().collect();
                }
            })?;
        }
        if removed.is_empty() {
            text.push_str("nothing was trusted in this repository\n");
        } else {
            text.push_str(&format!(
                "revoked: {} — commands from {} refuse again until you run 'git swarm trust'\n",
                removed.join(", "),
                if removed.len() == 1 { "it" } else { "them" }
            ));
        }
        let mut j = head;
        j["action"] = json!("revoked");
        j["revoked"] = json!(removed);
        return Ok(Output::new(j, text));
    }

    // The config a new run would use, and the configs of runs in progress (they keep the one
    // they started with).
    let mut configs: Vec<PathBuf> = vec![session.config_location()?.path];
    for (_, st) in session.swarm.active_runs().unwrap_or_default() {
        let p = session.run_config_path(&st);
        if !configs.contains(&p) {
            configs.push(p);
        }
    }
    let sources = trust::sources(&session, &configs)?;
    let before = store::load(&trust_file)?;
    let states: Vec<State> = sources
        .iter()
        .map(|s| State::of(&before, &key, s))
        .collect();
    let wanted: Vec<&Source> = sources
        .iter()
        .zip(&states)
        .filter(|(s, st)| !s.commands.is_empty() && **st != State::Trusted)
        .map(|(s, _)| s)
        .collect();
    let record = !args.show && !wanted.is_empty();
    if record {
        let at = crate::store::now();
        store::update(&trust_file, |f| {
            let files = &mut f.repositories.entry(key.clone()).or_default().files;
            for s in &wanted {
                files.insert(
                    s.rel.clone(),
                    store::Entry {
                        sha256: s.sha256.clone(),
                        trusted_at: at.clone(),
                    },
                );
            }
        })?;
    }

    let mut files = Vec::new();
    for (s, was) in sources.iter().zip(&states) {
        let now_state = if s.commands.is_empty() {
            "no-commands"
        } else if record {
            "trusted"
        } else {
            was.as_str()
        };
        text.push_str(&format!(
            "\n{} — {}, sha256 {}: {}\n",
            s.rel,
            s.kind.describe(),
            trust::short(&s.sha256),
            describe(s, was, now_state)
        ));
        for c in &s.commands {
            text.push_str(&format!(
                "  {}  {}, {}\n      {}\n",
                c.pointer,
                c.what,
                c.used.when(),
                c.shown
            ));
        }
        files.push(json!({
            "path": s.rel,
            "file": s.path.display().to_string(),
            "kind": s.kind.as_str(),
            "sha256": s.sha256,
            "state": now_state,
            "was": if s.commands.is_empty() { "no-commands" } else { was.as_str() },
            "commands": s.commands.iter().map(command_json).collect::<Vec<_>>(),
        }));
    }
    let action = if sources.iter().all(|s| s.commands.is_empty()) {
        text.push_str(if sources.is_empty() {
            "\nnothing to trust: there is no .swarm/policies.json, and the workflow config lies outside the repository (yours, trusted)\n"
        } else {
            "\nnothing to trust: no file names a command\n"
        });
        "nothing"
    } else if args.show {
        text.push_str(if wanted.is_empty() {
            "\neverything is trusted; nothing recorded (--show)\n"
        } else {
            "\nnothing recorded (--show); after reading the files, 'git swarm trust' trusts this content\n"
        });
        "show"
    } else if record {
        text.push_str("\ntrusted: git swarm runs these commands from this exact content; after any change, read the file again and run 'git swarm trust'\n");
        "trusted"
    } else {
        text.push_str("\neverything was trusted already\n");
        "trusted"
    };
    let mut j = head;
    j["action"] = json!(action);
    j["files"] = Value::Array(files);
    Ok(Output::new(j, text))
}

fn describe(s: &Source, was: &State, now: &str) -> String {
    if s.commands.is_empty() {
        return "names no commands; needs no trust".into();
    }
    let before = match was {
        State::Trusted => "trusted".to_string(),
        State::Untrusted => "not trusted".to_string(),
        State::Changed(h) => format!(
            "changed since it was trusted (sha256 {} then)",
            trust::short(h)
        ),
    };
    match (now, was) {
        ("trusted", State::Trusted) => "trusted".into(),
        ("trusted", _) => format!("trusted now (was {before})"),
        _ => before,
    }
}

fn command_json(c: &Named) -> Value {
    json!({
        "pointer": c.pointer,
        "use": c.used.as_str(),
        "what": c.what,
        "when": c.used.when(),
        "argv": c.argv.iter().map(|a| crate::git::url::redact(a)).collect::<Vec<_>>(),
        "env": c.env.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        "command": c.shown,
    })
}
