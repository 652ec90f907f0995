//! `.swarm/policies.json`: the repository's policy, in the shape of the reference
//! `policies.example.json`. Everything is optional and unknown keys are ignored.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct Policies {
    /// Raw document, for the keys used by later stages (pr.*, fileAccess.*).
    pub raw: Value,
    pub allow_untracked_files: bool,
    pub branch_prefix: String,
    pub worktree_name_template: Option<String>,
    /// `agents.allowedCommands`: commands (or command prefixes) agent profiles allow beside
    /// the ones derived from the run.
    pub allowed_commands: Vec<String>,
    /// `agents.allowAllCommands`: profiles do not limit the commands agents run.
    pub allow_all_commands: bool,
    /// `pr.remote`: the name of the remote to push to (default `origin`); checked to be a
    /// name, never an option or a URL (whether it is configured is checked where it is used).
    pub remote: String,
    /// `worktree.setupTimeoutSeconds`: how long the setup command may run before its whole
    /// process group is stopped (default [`DEFAULT_SETUP_TIMEOUT`]).
    pub setup_timeout: Duration,
}

/// How long a worktree's setup command may run when the policy does not say: long enough for
/// a cold `npm ci` or a first build, short enough that a hung command does not hold a run.
pub const DEFAULT_SETUP_TIMEOUT: Duration = Duration::from_secs(600);

impl Policies {
    pub fn load(path: &Path) -> Result<Policies> {
        if !path.exists() {
            return Ok(Policies::defaults());
        }
        // `<root>/.swarm/policies.json` is the repository's: read only inside it.
        if let Some(root) = path.parent().and_then(Path::parent) {
            crate::files::safe::check_inside(root, path)?;
        }
        let raw = crate::files::read_json(path)?;
        if !raw.is_object() {
            return Err(Error::failure(format!(
                "{}: (root): must be a JSON object",
                path.display()
            ))
            .hint("see README, 'Repository policy', for the shape of policies.json"));
        }
        let git = raw.get("git");
        let allow_untracked_files = match git.and_then(|g| g.get("allowUntrackedFiles")) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Error::failure(format!(
                    "{}: /git/allowUntrackedFiles: must be true or false",
                    path.display()
                ))
                .hint("set it to true or false"));
            }
        };
        let branching = git.and_then(|g| g.get("branching"));
        let branch_prefix = match branching.and_then(|b| b.get("branchPrefix")) {
            None | Some(Value::Null) => "swarm/".to_string(),
            Some(Value::String(s)) if valid_prefix(s) => s.clone(),
            Some(_) => {
                return Err(Error::failure(format!(
                    "{}: /git/branching/branchPrefix: must be a branch-name prefix such as \"swarm/\"",
                    path.display()
                ))
                .hint("use letters, digits, '-', '_' and '/' only, ending in '/' or '-'"));
            }
        };
        let worktree_name_template = branching
            .and_then(|b| b.get("worktreeNameTemplate"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let agents = raw.get("agents");
        let allowed_commands = match agents.and_then(|a| a.get("allowedCommands")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    match it.as_str().map(str::trim) {
                        Some(c) if !c.is_empty() && !c.contains(['\n', '\r', '\0']) => {
                            out.push(c.to_string())
                        }
                        _ => {
                            return Err(Error::failure(format!(
                                "{}: /agents/allowedCommands/{i}: must be a non-empty command on one line, such as \"npm run lint\"",
                                path.display()
                            ))
                            .hint("list each command (or command prefix) as a string"));
                        }
                    }
                }
                out
            }
            Some(_) => {
                return Err(Error::failure(format!(
                    "{}: /agents/allowedCommands: must be an array of commands",
                    path.display()
                ))
                .hint("for example \"allowedCommands\": [\"npm run lint\", \"make check\"]"));
            }
        };
        let allow_all_commands = match agents.and_then(|a| a.get("allowAllCommands")) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Error::failure(format!(
                    "{}: /agents/allowAllCommands: must be true or false",
                    path.display()
                ))
                .hint("set it to true or false (README, 'Agent profiles', explains the risk)"));
            }
        };
        let remote = match raw.pointer("/pr/remote") {
            None | Some(Value::Null) => "origin".to_string(),
            Some(Value::String(r)) if r.is_empty() => "origin".to_string(),
            Some(Value::String(r)) => {
                if let Err(why) = check_remote_name(r) {
                    return Err(Error::failure(format!(
                        "{}: /pr/remote: {why}",
                        path.display()
                    ))
                    .hint("set pr.remote to the name of a remote of this repository ('git remote' lists them), such as \"origin\""));
                }
                r.clone()
            }
            Some(_) => {
                return Err(Error::failure(format!(
                    "{}: /pr/remote: must be a remote's name",
                    path.display()
                ))
                .hint("set pr.remote to a name such as \"origin\""));
            }
        };
        let setup_timeout = match raw.pointer("/worktree/setupTimeoutSeconds") {
            None | Some(Value::Null) => DEFAULT_SETUP_TIMEOUT,
            Some(v) => match v
                .as_f64()
                .filter(|s| *s > 0.0)
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
            {
                Some(d) => d,
                None => {
                    return Err(Error::failure(format!(
                        "{}: /worktree/setupTimeoutSeconds: must be a positive number of seconds",
                        path.display()
                    ))
                    .hint(format!(
                        "for example \"setupTimeoutSeconds\": 900; without it the setup command may run {} s",
                        DEFAULT_SETUP_TIMEOUT.as_secs()
                    )));
                }
            },
        };
        Ok(Policies {
            raw,
            allow_untracked_files,
            branch_prefix,
            worktree_name_template,
            allowed_commands,
            allow_all_commands,
            remote,
            setup_timeout,
        })
    }

    pub fn defaults() -> Policies {
        Policies {
            raw: Value::Null,
            allow_untracked_files: false,
            branch_prefix: "swarm/".to_string(),
            worktree_name_template: None,
            allowed_commands: Vec::new(),
            allow_all_commands: false,
            remote: "origin".to_string(),
            setup_timeout: DEFAULT_SETUP_TIMEOUT,
        }
    }

    /// A string at a JSON pointer, e.g. `/pr/baseBranch`; empty strings count as unset.
    pub fn string(&self, pointer: &str) -> Option<&str> {
        self.raw
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn strings(&self, pointer: &str) -> Vec<String> {
        crate::files::json::strings(self.raw.pointer(pointer))
    }
}

/// A remote's name as git would take it as a remote, never as an option or a URL: no leading
/// `-` (it would reach `git push` as an option), no URL or scp-like address (a URL would carry
/// its credentials into output), no whitespace or control characters. The message never
/// repeats the value (it may hold a secret).
pub fn check_remote_name(name: &str) -> std::result::Result<(), String> {
    if name.starts_with('-') {
        return Err("a remote name may not start with '-' (git would take it as an option)".into());
    }
    if name.contains("://") || name.contains('@') || name.contains(':') {
        return Err("must name a configured remote, not a URL or address".into());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) || name.contains("..") {
        return Err("a remote name may not hold whitespace, control characters or '..'".into());
    }
    Ok(())
}

fn valid_prefix(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && !s.starts_with('-')
        && !s.contains("..")
        && !s.contains("//")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_policies_load() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("policies.json");
        std::fs::write(
            &p,
            r#"{"git": {"allowUntrackedFiles": true, "branching": {"branchPrefix": "swarm/", "worktreeNameTemplate": "{workspace}-swarm-{friendlyName}"}}, "pr": {"baseBranch": "main", "createCommand": null}}"#,
        )
        .unwrap();
        let pol = Policies::load(&p).unwrap();
        assert!(pol.allow_untracked_files);
        assert_eq!(pol.branch_prefix, "swarm/");
        assert_eq!(pol.string("/pr/baseBranch"), Some("main"));
        assert_eq!(pol.string("/pr/createCommand"), None);
    }

    #[test]
    fn wrong_types_name_the_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("policies.json");
        std::fs::write(&p, r#"{"git": {"allowUntrackedFiles": "yes"}}"#).unwrap();
        let e = Policies::load(&p).unwrap_err();
        assert!(
            e.message.contains("/git/allowUntrackedFiles"),
            "{}",
            e.message
        );
    }

    #[test]
    fn agent_command_policy() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("policies.json");
        std::fs::write(
            &p,
            r#"{"agents": {"allowedCommands": ["npm run lint", " make check "], "allowAllCommands": false}}"#,
        )
        .unwrap();
        let pol = Policies::load(&p).unwrap();
        assert_eq!(pol.allowed_commands, ["npm run lint", "make check"]);
        assert!(!pol.allow_all_commands);
        for bad in [
            r#"{"agents": {"allowedCommands": "npm test"}}"#,
            r#"{"agents": {"allowedCommands": [""]}}"#,
            r#"{"agents": {"allowedCommands": ["a\nb"]}}"#,
            r#"{"agents": {"allowAllCommands": "yes"}}"#,
        ] {
            std::fs::write(&p, bad).unwrap();
            let e = Policies::load(&p).unwrap_err();
            assert!(e.message.contains("/agents/"), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn remote_names_are_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("policies.json");
        for ok in ["origin", "upstream", "fork/team"] {
            std::fs::write(&p, format!(r#"{{"pr": {{"remote": "{ok}"}}}}"#)).unwrap();
            assert_eq!(Policies::load(&p).unwrap().remote, ok);
        }
        std::fs::write(&p, r#"{"pr": {"remote": ""}}"#).unwrap();
        assert_eq!(Policies::load(&p).unwrap().remote, "origin");
        for bad in [
            "--exec=touch /tmp/pwned",
            "-o",
            "https://user:SECRET@example.com/r.git",
            "git@example.com:o/r.git",
            "a b",
            "a\tb",
        ] {
            std::fs::write(&p, serde_json::json!({"pr": {"remote": bad}}).to_string()).unwrap();
            let e = Policies::load(&p).unwrap_err();
            assert!(e.message.contains("/pr/remote"), "{bad}: {}", e.message);
            assert!(!e.message.contains("SECRET"), "{}", e.message);
        }
    }

    #[test]
    fn setup_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("policies.json");
        std::fs::write(&p, r#"{"worktree": {"setupTimeoutSeconds": 2.5}}"#).unwrap();
        assert_eq!(
            Policies::load(&p).unwrap().setup_timeout,
            Duration::from_millis(2500)
        );
        std::fs::write(&p, r#"{"worktree": {"setupCommand": ["true"]}}"#).unwrap();
        assert_eq!(
            Policies::load(&p).unwrap().setup_timeout,
            DEFAULT_SETUP_TIMEOUT
        );
        for bad in ["0", "-1", "\"60\"", "1e300", "true"] {
            std::fs::write(
                &p,
                format!(r#"{{"worktree": {{"setupTimeoutSeconds": {bad}}}}}"#),
            )
            .unwrap();
            let e = Policies::load(&p).unwrap_err();
            assert!(
                e.message.contains("/worktree/setupTimeoutSeconds"),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn missing_file_means_defaults() {
        let pol = Policies::load(Path::new("/nonexistent/policies.json")).unwrap();
        assert!(!pol.allow_untracked_files);
        assert_eq!(pol.branch_prefix, "swarm/");
    }
}
