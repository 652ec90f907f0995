//! What a CI file is made from, and how the defaults are found: the workflow config the
//! runners use, the agent CLIs they install, the command that installs git swarm.

use std::path::Path;

use serde_json::Value;

use super::Kind;
use crate::config::{Exec, ProfileKind};
use crate::error::{Error, Result};
use crate::store::Session;

/// An agent CLI the runners install from npm: one with a built-in profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AgentCli {
    /// Claude Code (@anthropic-ai/claude-code), key in ANTHROPIC_API_KEY.
    Claude,
    /// Codex (@openai/codex), key in OPENAI_API_KEY.
    Codex,
    /// Gemini CLI (@google/gemini-cli), key in GEMINI_API_KEY.
    Gemini,
}

impl AgentCli {
    pub(crate) fn of(kind: ProfileKind) -> Option<AgentCli> {
        match kind {
            ProfileKind::Claude => Some(AgentCli::Claude),
            ProfileKind::Codex => Some(AgentCli::Codex),
            ProfileKind::Gemini => Some(AgentCli::Gemini),
            ProfileKind::CursorAgent => None,
        }
    }

    /// The built-in profile's name.
    pub(crate) fn profile(self) -> &'static str {
        match self {
            AgentCli::Claude => "claude",
            AgentCli::Codex => "codex",
            AgentCli::Gemini => "gemini",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            AgentCli::Claude => "Claude Code",
            AgentCli::Codex => "Codex",
            AgentCli::Gemini => "Gemini CLI",
        }
    }

    pub(crate) fn package(self) -> &'static str {
        match self {
            AgentCli::Claude => "@anthropic-ai/claude-code",
            AgentCli::Codex => "@openai/codex",
            AgentCli::Gemini => "@google/gemini-cli",
        }
    }

    /// The version the profiles are verified with (README, "Agent profiles").
    pub(crate) fn version(self) -> &'static str {
        match self {
            AgentCli::Claude => "2.1.332",
            AgentCli::Codex => "0.171.0",
            AgentCli::Gemini => "0.61.0",
        }
    }

    /// The secret (CI/CD variable) the user stores the API key in.
    pub(crate) fn secret(self) -> &'static str {
        match self {
            AgentCli::Claude => "ANTHROPIC_API_KEY",
            AgentCli::Codex => "OPENAI_API_KEY",
            AgentCli::Gemini => "GEMINI_API_KEY",
        }
    }

    /// The variable the CLI reads the key from (Codex's exec reads CODEX_API_KEY).
    pub(crate) fn env(self) -> &'static str {
        match self {
            AgentCli::Codex => "CODEX_API_KEY",
            other => other.secret(),
        }
    }

    /// Shell lines that make the CLI use that key without a prompt (Gemini CLI must be told
    /// to use an API key; the others read it from their variable).
    pub(crate) fn setup(self) -> &'static [&'static str] {
        match self {
            AgentCli::Gemini => &[
                "mkdir -p ~/.gemini",
                "test -e ~/.gemini/settings.json || echo '{\"security\": {\"auth\": {\"selectedType\": \"gemini-api-key\"}}}' > ~/.gemini/settings.json",
            ],
            _ => &[],
        }
    }
}

/// Which workflow config the runners use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigUse {
    /// The default pack, installed on the runner with `"exec"` set to this profile.
    Pack(&'static str),
    /// A config committed in the repository, at this path relative to its root.
    Repo(String),
}

/// Everything a CI file is made from.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The agent CLIs the runners install (none when the config's exec names other programs).
    pub agents: Vec<AgentCli>,
    /// The lines that install git swarm.
    pub install: Vec<String>,
    pub config: ConfigUse,
    /// GitHub: the issue label that starts a run.
    pub label: Option<String>,
    /// GitLab: the number of worker jobs.
    pub max_workers: u32,
    /// GitLab: the jobs' image.
    pub image: String,
    /// The file's name (GitHub dispatches a workflow by it).
    pub file: String,
}

/// The defaults found in the repository and its config.
#[derive(Debug)]
pub(crate) struct Chosen {
    pub agents: Vec<AgentCli>,
    pub config: ConfigUse,
    pub max_workers: u32,
    pub notes: Vec<String>,
}

/// Finds the config the runners use, the agent CLIs and the worker count.
pub(crate) fn choose(session: &Session, agent: Option<AgentCli>) -> Result<Chosen> {
    let loc = session.config_location()?;
    let root = &session.ws.root;
    let mut notes = Vec::new();
    let inside = inside_repo(&loc.path, root);
    let Some(rel) = inside else {
        // The user's own config stays on their machine: the runners use the default pack.
        let mut exec_of_user = None;
        if let Ok(v) = read_json(&loc.path) {
            exec_of_user = execs(&v).into_iter().find_map(|e| match e {
                Exec::Profile(p) => Some(p.kind),
                Exec::Template(_) => None,
            });
        }
        let chosen = agent.or_else(|| exec_of_user.and_then(AgentCli::of));
        let cli = chosen.unwrap_or(AgentCli::Claude);
        if agent.is_none() {
            match exec_of_user {
                Some(k) if AgentCli::of(k).is_none() => notes.push(format!(
                    "your config's exec profile '{}' has no package to install on a runner; the runners use {} (--agent chooses)",
                    k.name(),
                    cli.title()
                )),
                Some(_) => {}
                None => notes.push(format!(
                    "no exec profile found in {}; the runners use {} (--agent chooses)",
                    loc.path.display(),
                    cli.title()
                )),
            }
        }
        notes.push(format!(
            "the runners cannot read {} (outside the repository), so they use the default agent pack; to run your own config there, commit it in the repository and run 'git swarm --config <its path> ci …'",
            loc.path.display()
        ));
        let pack: Value =
            serde_json::from_str(&crate::agents::pack::config_with_exec(cli.profile()))
                .expect("the pack's config is JSON");
        return Ok(Chosen {
            agents: vec![cli],
            config: ConfigUse::Pack(cli.profile()),
            max_workers: max_workers(&pack),
            notes,
        });
    };
    check_rel(&rel)?;
    let v = read_json(&loc.path).map_err(|e| {
        e.hint(format!(
            "the runners use the workflow config {rel} ({}); commit a valid one, or point --config / GIT_SWARM_CONFIG elsewhere",
            loc.source
        ))
    })?;
    if !crate::git::query::is_tracked(root, &rel) {
        notes.push(format!(
            "{rel} is not committed: commit it, the runners check out the repository"
        ));
    }
    let mut agents = Vec::new();
    let found = execs(&v);
    if found.is_empty() {
        notes.push(format!(
            "{rel} names no exec: runs on the runners cannot launch agents; add \"exec\": \"claude\" (or codex, gemini) to it"
        ));
    }
    for e in &found {
        match e {
            Exec::Profile(p) => match AgentCli::of(p.kind) {
                Some(a) if !agents.contains(&a) => agents.push(a),
                Some(_) => {}
                None => notes.push(format!(
                    "{rel} uses the {} profile, which no package registry offers: add its install to the workflow yourself",
                    p.kind.name()
                )),
            },
            Exec::Template(argv) => notes.push(format!(
                "{rel} launches '{}' through an argv template: add its install to the workflow yourself",
                argv[0]
            )),
        }
    }
    if let Some(a) = agent {
        agents = vec![a];
    }
    Ok(Chosen {
        agents,
        config: ConfigUse::Repo(rel),
        max_workers: max_workers(&v),
        notes,
    })
}

/// `path` relative to `root` when it lies inside the repository (symlinks resolved).
fn inside_repo(path: &Path, root: &Path) -> Option<String> {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let rel = real.strip_prefix(&root).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::failure(format!(
            "cannot read the workflow config {}: {e}",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::failure(format!(
            "the workflow config {} is not JSON: {e}",
            path.display()
        ))
    })
}

/// The config's `exec` values: the top-level one, then each subagent's.
fn execs(v: &Value) -> Vec<Exec> {
    let top = v.get("exec").into_iter();
    let per_agent = v
        .get("subagents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("exec"));
    top.chain(per_agent).filter_map(Exec::from_value).collect()
}

/// The most workers one batch can have: the largest `maxConcurrent` of the parallelization
/// rules (2 when a rule leaves it out, as the config does), 1 when parallelization is off.
fn max_workers(v: &Value) -> u32 {
    let par = v.get("parallelization");
    if !par
        .and_then(|p| p.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return 1;
    }
    par.and_then(|p| p.get("rules"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| r.get("maxConcurrent").and_then(Value::as_u64).unwrap_or(2))
        .max()
        .unwrap_or(1)
        .clamp(1, 200) as u32
}

/// A config path goes into the file inside quotes and expressions: plain characters only.
fn check_rel(rel: &str) -> Result<()> {
    if rel.is_empty()
        || !rel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
    {
        return Err(Error::failure(format!(
            "the workflow config's path in the repository, {rel:?}, has characters a CI file cannot carry safely"
        ))
        .hint("name it with letters, digits, '.', '_', '-' and '/' only, e.g. .swarm/config.json"));
    }
    Ok(())
}

/// The install command as lines, with the default per CI system.
pub(crate) fn install_lines(kind: Kind, given: Option<&str>) -> Result<Vec<String>> {
    let text = match given {
        Some(t) => t.to_string(),
        None => match kind {
            Kind::GitHub => super::github::INSTALL.to_string(),
            Kind::GitLab => super::gitlab::INSTALL.join("\n"),
        },
    };
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(Error::usage(format!(
            "--install: the command holds the control character {c:?}"
        ))
        .hint("give the shell command as plain text; separate several commands with newlines"));
    }
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return Err(Error::usage("--install: the command is empty")
            .hint("give the shell command that installs git swarm on a runner, e.g. --install 'cargo install --locked git-swarm'"));
    }
    Ok(lines)
}

/// A label goes into an expression of the workflow: one line, no expression syntax.
pub(crate) fn check_label(label: &str) -> Result<()> {
    let bad = label.trim().is_empty()
        || label.chars().count() > 50
        || label.chars().any(char::is_control)
        || label.contains("${{")
        || label.contains("}}");
    if bad {
        return Err(Error::usage(format!("--label: {label:?} is not a label name"))
            .hint("give the name of an issue label: one line, at most 50 characters, e.g. --label swarm"));
    }
    Ok(())
}

/// An image name is one word.
pub(crate) fn check_image(image: &str) -> Result<()> {
    if image.is_empty()
        || image
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'$\\{}".contains(c))
    {
        return Err(
            Error::usage(format!("--image: {image:?} is not an image name"))
                .hint("give an image reference such as node:22-bookworm"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn max_workers_follows_the_parallelization_rules() {
        assert_eq!(max_workers(&json!({})), 1);
        assert_eq!(
            max_workers(
                &json!({"parallelization": {"enabled": false, "rules": [{"maxConcurrent": 8}]}})
            ),
            1
        );
        assert_eq!(
            max_workers(
                &json!({"parallelization": {"enabled": true, "rules": [{"maxConcurrent": 3}, {"maxConcurrent": 6}]}})
            ),
            6
        );
        assert_eq!(
            max_workers(&json!({"parallelization": {"enabled": true, "rules": [{}]}})),
            2
        );
        assert_eq!(
            max_workers(
                &json!({"parallelization": {"enabled": true, "rules": [{"maxConcurrent": 5000}]}})
            ),
            200
        );
    }

    #[test]
    fn execs_lists_the_top_level_then_each_agent() {
        let v = json!({"exec": "codex", "subagents": [
            {"name": "a", "exec": {"profile": "gemini"}}, {"name": "b"}, {"name": "c", "exec": ["my-agent", "{prompt}"]}]});
        let got = execs(&v);
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[0], Exec::Profile(p) if p.kind == ProfileKind::Codex));
        assert!(matches!(&got[1], Exec::Profile(p) if p.kind == ProfileKind::Gemini));
        assert!(matches!(&got[2], Exec::Template(a) if a[0] == "my-agent"));
    }

    #[test]
    fn user_strings_that_cannot_go_into_a_file_are_refused() {
        assert!(check_label("swarm").is_ok());
        assert!(check_label("good first issue").is_ok());
        for bad in ["", " ", "a\nb", "${{ github.token }}", &"x".repeat(51)] {
            assert!(check_label(bad).is_err(), "{bad:?}");
        }
        assert!(check_image("node:22-bookworm").is_ok());
        for bad in ["", "node 22", "$IMAGE", "a\"b"] {
            assert!(check_image(bad).is_err(), "{bad:?}");
        }
        assert!(check_rel(".swarm/config.json").is_ok());
        for bad in ["", "a b.json", "$x.json", "a\"b", "${{x}}"] {
            assert!(check_rel(bad).is_err(), "{bad:?}");
        }
        assert!(install_lines(Kind::GitHub, Some("a\u{7}b")).is_err());
        assert!(install_lines(Kind::GitHub, Some(" \n ")).is_err());
        assert_eq!(
            install_lines(Kind::GitHub, Some("one  \n\n two")).unwrap(),
            vec!["one".to_string(), " two".to_string()]
        );
    }
}
