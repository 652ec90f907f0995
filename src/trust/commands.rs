//! What a repository file can make git swarm run, read from its JSON. Pure: no I/O, so what
//! `git swarm trust` shows and what a refusal lists come from one function each.

use serde_json::Value;

use crate::forge::template;

/// When a command named by a repository file takes effect, which decides the git swarm
/// commands that need the file trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Use {
    /// `worktree.setupCommand`: runs in every new worktree (`start`, `next`, `retry`, `run`).
    Setup,
    /// `pr.createCommand`: runs when `publish` opens the pull request.
    PullRequest,
    /// What exec mode (`run`) launches as agents and lets them run: a repository config's
    /// `exec` and `env`, the policy's `agents.allowedCommands` and `agents.allowAllCommands`.
    Agents,
    /// `verify.commands` and `verify.planCommands`: the verification gate before publishing.
    Verify,
    /// `follow.stateCommand`: reads the pull request's state in the follow phase.
    Follow,
}

impl Use {
    pub(crate) const ALL: [Use; 5] = [
        Use::Setup,
        Use::PullRequest,
        Use::Agents,
        Use::Verify,
        Use::Follow,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Use::Setup => "setup",
            Use::PullRequest => "pull-request",
            Use::Agents => "agents",
            Use::Verify => "verify",
            Use::Follow => "follow",
        }
    }

    /// When it runs, for a person.
    pub(crate) fn when(self) -> &'static str {
        match self {
            Use::Setup => "runs in each new worktree (start, next, retry, run)",
            Use::PullRequest => "runs when publish opens the pull request (publish, run)",
            Use::Agents => "applies when exec mode launches agents (run)",
            Use::Verify => "runs in the run's worktree before it is pushed (publish, run)",
            Use::Follow => "runs when the follow phase reads the pull request (follow, run)",
        }
    }
}

/// One command, or one widening of what agents may run, that a file names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Named {
    /// Where in the file (a JSON pointer).
    pub pointer: String,
    pub used: Use,
    /// What it is: "setup command", "agents may also run", …
    pub what: String,
    /// The argv as git swarm runs it (`{placeholders}` are filled in per run); empty for an
    /// entry that widens what agents may run rather than naming one program.
    pub argv: Vec<String>,
    /// Environment variables it sets, as written.
    pub env: Vec<(String, String)>,
    /// The one line a person reads: the argv shell-quoted (credentials in URLs redacted),
    /// and the environment with secret-looking values hidden.
    pub shown: String,
}

/// The commands `.swarm/policies.json` names. A policy without any (only
/// `git.allowUntrackedFiles`, `fileAccess.deny`, `pr.baseBranch`, …) needs no trust.
pub(crate) fn in_policy(raw: &Value) -> Vec<Named> {
    let mut out = Vec::new();
    for (pointer, used, what) in [
        ("/worktree/setupCommand", Use::Setup, "setup command"),
        (
            "/pr/createCommand",
            Use::PullRequest,
            "pull-request command",
        ),
        (
            "/follow/stateCommand",
            Use::Follow,
            "pull-request state command",
        ),
    ] {
        if let Some(v) = raw.pointer(pointer).filter(|v| !v.is_null()) {
            out.push(argv_entry(pointer, used, what, v, Vec::new()));
        }
    }
    if let Some(list) = raw
        .pointer("/agents/allowedCommands")
        .and_then(Value::as_array)
    {
        for (i, c) in list.iter().enumerate() {
            let text = c
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| c.to_string());
            out.push(Named {
                pointer: format!("/agents/allowedCommands/{i}"),
                used: Use::Agents,
                what: "agents may also run (a command prefix)".into(),
                argv: Vec::new(),
                env: Vec::new(),
                shown: crate::git::url::redact(text.trim()),
            });
        }
    }
    if let Some(list) = raw.pointer("/verify/commands").and_then(Value::as_array) {
        for (i, c) in list.iter().enumerate() {
            let pointer = format!("/verify/commands/{i}");
            out.push(argv_entry(
                &pointer,
                Use::Verify,
                "verification command",
                c,
                Vec::new(),
            ));
        }
    }
    if raw.pointer("/verify/planCommands") == Some(&Value::Bool(true)) {
        out.push(Named {
            pointer: "/verify/planCommands".into(),
            used: Use::Verify,
            what: "the verification gate runs".into(),
            argv: Vec::new(),
            env: Vec::new(),
            shown: "the plan's test-plan-commands, as the planner wrote them".into(),
        });
    }
    if raw.pointer("/agents/allowAllCommands") == Some(&Value::Bool(true)) {
        out.push(Named {
            pointer: "/agents/allowAllCommands".into(),
            used: Use::Agents,
            what: "agents may run".into(),
            argv: Vec::new(),
            env: Vec::new(),
            shown: "any command at all".into(),
        });
    }
    out
}

/// The commands a workflow config names: every `exec` (argv template or profile, with its
/// `program`, `args`, `model` and `env`) and every subagent's `env`.
pub(crate) fn in_config(raw: &Value) -> Vec<Named> {
    let mut out = Vec::new();
    if let Some(e) = raw.get("exec").filter(|v| !v.is_null()) {
        out.push(exec_entry(
            "/exec",
            "agent launch (agents without their own exec)",
            e,
        ));
    }
    for (i, a) in raw
        .get("subagents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = a.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
        if let Some(e) = a.get("exec").filter(|v| !v.is_null()) {
            out.push(exec_entry(
                &format!("/subagents/{i}/exec"),
                &format!("agent launch of {name}"),
                e,
            ));
        }
        let env = env_of(a.get("env"));
        if !env.is_empty() {
            out.push(Named {
                pointer: format!("/subagents/{i}/env"),
                used: Use::Agents,
                what: format!("environment of {name}'s launch"),
                argv: Vec::new(),
                shown: show_env(&env),
                env,
            });
        }
    }
    out
}

fn argv_entry(
    pointer: &str,
    used: Use,
    what: &str,
    v: &Value,
    env: Vec<(String, String)>,
) -> Named {
    let (argv, shown) = match template::words(v) {
        Ok(argv) => {
            let shown = show_argv(&argv);
            (argv, shown)
        }
        // Not a usable template (the command that would run it reports that); show it as
        // written so that nothing is hidden.
        Err(_) => (Vec::new(), crate::git::url::redact(&v.to_string())),
    };
    Named {
        pointer: pointer.to_string(),
        used,
        what: what.to_string(),
        shown: with_env(shown, &env),
        argv,
        env,
    }
}

fn exec_entry(pointer: &str, what: &str, v: &Value) -> Named {
    use crate::config::ProfileKind;
    let profile = match v {
        Value::String(s) => ProfileKind::parse(s).map(|k| (k, Value::Null)),
        Value::Object(o) => o
            .get("profile")
            .and_then(Value::as_str)
            .and_then(ProfileKind::parse)
            .map(|k| (k, v.clone())),
        _ => None,
    };
    let Some((kind, o)) = profile else {
        return argv_entry(
            pointer,
            Use::Agents,
            &format!("{what} (argv template)"),
            v,
            Vec::new(),
        );
    };
    let program = o
        .get("program")
        .and_then(Value::as_str)
        .unwrap_or(kind.name())
        .to_string();
    let args = crate::schema::strings(o.get("args"));
    let env = env_of(o.get("env"));
    let mut argv = vec![program.clone()];
    argv.extend(args.iter().cloned());
    // The profile's own flags sit between the program and the extra arguments; they are the
    // tool's (README, 'Agent profiles'), so only what the file adds is spelled out.
    let mut shown = format!(
        "{} <{} profile flags>",
        show_argv(std::slice::from_ref(&program)),
        kind.name()
    );
    if !args.is_empty() {
        shown.push(' ');
        shown.push_str(&show_argv(&args));
    }
    if let Some(m) = o.get("model").and_then(Value::as_str) {
        shown.push_str(&format!(" (model {m})"));
    }
    Named {
        pointer: pointer.to_string(),
        used: Use::Agents,
        what: format!("{what} ({} profile)", kind.name()),
        shown: with_env(shown, &env),
        argv,
        env,
    }
}

fn env_of(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn show_argv(argv: &[String]) -> String {
    crate::git::url::redact(&shell_words::join(argv))
}

/// A value under a name that looks like a credential is not printed: what matters for trust
/// is which variables are set, and API keys stay out of terminals and logs.
fn show_env(env: &[(String, String)]) -> String {
    let secret = |k: &str| {
        let k = k.to_ascii_uppercase();
        [
            "KEY",
            "TOKEN",
            "SECRET",
            "PASSWORD",
            "PASSWD",
            "CREDENTIAL",
            "AUTH",
        ]
        .iter()
        .any(|s| k.contains(s))
    };
    env.iter()
        .map(|(k, v)| {
            if secret(k) {
                format!("{k}=***")
            } else {
                format!("{k}={}", shell_words::quote(&crate::git::url::redact(v)))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn with_env(shown: String, env: &[(String, String)]) -> String {
    if env.is_empty() {
        shown
    } else {
        format!("{} {shown}", show_env(env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_policy_without_commands_names_none() {
        let p = json!({"git": {"allowUntrackedFiles": true}, "fileAccess": {"deny": ["secrets/**"]},
                       "pr": {"baseBranch": "main", "createCommand": null},
                       "agents": {"allowedCommands": [], "allowAllCommands": false}});
        assert!(in_policy(&p).is_empty());
        assert!(in_policy(&Value::Null).is_empty());
    }

    #[test]
    fn policy_commands_are_shown_as_they_run() {
        let p = json!({
            "worktree": {"setupCommand": ["sh", "-c", "echo hi > x"]},
            "pr": {"createCommand": "gh pr create --title \"{title}\""},
            "agents": {"allowedCommands": ["npm run lint"], "allowAllCommands": true}
        });
        let n = in_policy(&p);
        let shown: Vec<(&str, Use, &str)> = n
            .iter()
            .map(|c| (c.pointer.as_str(), c.used, c.shown.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("/worktree/setupCommand", Use::Setup, "sh -c 'echo hi > x'"),
                (
                    "/pr/createCommand",
                    Use::PullRequest,
                    "gh pr create --title {title}"
                ),
                ("/agents/allowedCommands/0", Use::Agents, "npm run lint"),
                (
                    "/agents/allowAllCommands",
                    Use::Agents,
                    "any command at all"
                ),
            ]
        );
        assert_eq!(n[0].argv, ["sh", "-c", "echo hi > x"]);
        assert_eq!(n[1].argv, ["gh", "pr", "create", "--title", "{title}"]);
    }

    #[test]
    fn config_exec_templates_profiles_and_env() {
        let c = json!({
            "exec": ["my-agent", "--in", "{handoff}"],
            "subagents": [
                {"name": "planner"},
                {"name": "implementor", "exec": {"profile": "claude", "program": "/opt/claude",
                  "args": ["--verbose"], "model": "opus", "env": {"API_KEY": "sk-1", "MODE": "x y"}}},
                {"name": "tester", "exec": "codex", "env": {"LD_PRELOAD": "/tmp/x.so"}}
            ]
        });
        let n = in_config(&c);
        let shown: Vec<(&str, &str)> = n
            .iter()
            .map(|c| (c.pointer.as_str(), c.shown.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("/exec", "my-agent --in {handoff}"),
                (
                    "/subagents/1/exec",
                    "API_KEY=*** MODE='x y' /opt/claude <claude profile flags> --verbose (model opus)"
                ),
                ("/subagents/2/exec", "codex <codex profile flags>"),
                ("/subagents/2/env", "LD_PRELOAD=/tmp/x.so"),
            ]
        );
        assert!(n.iter().all(|c| c.used == Use::Agents));
        assert_eq!(n[1].argv, ["/opt/claude", "--verbose"]);
        assert_eq!(n[1].env[0], ("API_KEY".to_string(), "sk-1".to_string()));
        assert!(in_config(&json!({"subagents": [{"name": "a", "env": {}}]})).is_empty());
    }

    #[test]
    fn credentials_in_urls_are_not_shown_and_odd_shapes_still_are() {
        let p = json!({"worktree": {"setupCommand": ["git", "clone", "https://bot:tok3n@example.com/r.git"]},
                       "pr": {"createCommand": 42}});
        let n = in_policy(&p);
        assert!(!n[0].shown.contains("tok3n"), "{}", n[0].shown);
        assert_eq!(n[1].shown, "42");
        assert!(n[1].argv.is_empty());
    }
}
