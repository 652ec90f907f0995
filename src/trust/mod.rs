//! Repository content is not trusted until the user says so.
//!
//! A repository can name commands that git swarm runs: `worktree.setupCommand` and
//! `pr.createCommand` in `.swarm/policies.json`, the widening of what agents may run
//! (`agents.allowedCommands`, `agents.allowAllCommands`), and — when the workflow config lies
//! inside the repository — every agent launch (`exec`, `env`). Anyone who can get a commit into
//! a repository could otherwise run code on the machine of whoever runs git swarm there. So
//! each of these takes effect only after the user trusted that file's exact content for this
//! repository (`git swarm trust`, which records a SHA-256 outside the repository); a changed
//! file needs trusting again. A command that would use an untrusted file refuses (exit 3)
//! before it acts, listing what the file would run.
//!
//! The user's own files are trusted: a config in their home (the default
//! `~/.cursor/agents/manager/config.json`) or anywhere outside the repository.

pub(crate) mod commands;
pub(crate) mod store;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub(crate) use commands::{Named, Use};
use store::TrustFile;

use crate::error::{Error, Result};
use crate::store::Session;

/// Which kind of repository file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Policy,
    Config,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Policy => "policy",
            Kind::Config => "config",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Policy => "repository policy",
            Kind::Config => "workflow config inside the repository",
        }
    }
}

/// A file of the repository, its content's hash, and the commands it names.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub kind: Kind,
    pub path: PathBuf,
    /// Relative to the work tree, `/`-separated: the key in the trust file.
    pub rel: String,
    pub sha256: String,
    pub commands: Vec<Named>,
}

impl Source {
    /// Reads a file of the repository; `None` when it does not exist.
    fn read(kind: Kind, path: &Path, rel: String) -> Result<Option<Source>> {
        if !path.exists() {
            return Ok(None);
        }
        let bytes = crate::files::read_limited(path)?;
        let value = crate::files::parse_json(path, &bytes)?;
        let commands = match kind {
            Kind::Policy => commands::in_policy(&value),
            Kind::Config => commands::in_config(&value),
        };
        Ok(Some(Source {
            kind,
            path: path.to_path_buf(),
            rel,
            sha256: sha256_hex(&bytes),
            commands,
        }))
    }

    fn uses(&self, uses: &[Use]) -> Vec<&Named> {
        self.commands
            .iter()
            .filter(|c| uses.contains(&c.used))
            .collect()
    }
}

/// Whether a file's current content is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    Trusted,
    /// Never trusted in this repository.
    Untrusted,
    /// Trusted once, with other content (the hash that was trusted).
    Changed(String),
}

impl State {
    pub(crate) fn of(file: &TrustFile, repo: &str, src: &Source) -> State {
        match file.trusted(repo, &src.rel) {
            Some(h) if h == src.sha256 => State::Trusted,
            Some(h) => State::Changed(h.to_string()),
            None => State::Untrusted,
        }
    }

    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            State::Trusted => "trusted",
            State::Untrusted => "untrusted",
            State::Changed(_) => "changed",
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The repository's key in the trust file: its common git directory, absolute and resolved,
/// so that every linked worktree (and every spelling of the path) shares one entry.
pub(crate) fn repo_key(session: &Session) -> String {
    let c = &session.ws.common_dir;
    c.canonicalize()
        .unwrap_or_else(|_| c.clone())
        .display()
        .to_string()
}

/// Where `config` lies inside the repository's work tree (its path relative to the root), or
/// `None` when it is the user's own: outside the work tree, or the default
/// `~/.cursor/agents/manager/config.json` (even for a repository at `~`).
pub(crate) fn config_in_repository(session: &Session, config: &Path) -> Option<String> {
    let real = config.canonicalize().ok()?;
    if let Ok(home) = session.home() {
        let default = crate::config::paths::default_config_path(&home);
        if default.canonicalize().ok().as_deref() == Some(real.as_path()) {
            return None;
        }
    }
    let root = session.ws.root.canonicalize().ok()?;
    let rel = real.strip_prefix(&root).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// The trust file, refused when it would lie inside this repository (a repository at `~`
/// holding `.config/`): a clone must never be able to bring its own trust along.
pub(crate) fn trust_file(session: &Session) -> Result<PathBuf> {
    let path = store::location()?;
    let real = resolved(&path);
    for inside in [&session.ws.root, &session.ws.common_dir] {
        if real.starts_with(resolved(inside)) {
            return Err(Error::failure(format!(
                "the trust file {} lies inside the repository {}, which could bring its own trust along",
                path.display(),
                session.ws.root.display()
            ))
            .hint("set XDG_CONFIG_HOME to a directory outside the repository (git swarm keeps its trust file in $XDG_CONFIG_HOME/git-swarm/)"));
        }
    }
    Ok(path)
}

/// `path` with symbolic links resolved as far as it exists (the trust file may not yet).
fn resolved(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut p = path;
    loop {
        if let Ok(real) = p.canonicalize() {
            return rest.iter().rev().fold(real, |acc, c| acc.join(c));
        }
        match (p.parent(), p.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                p = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// The files of this repository that can name commands: the policy, and each given workflow
/// config that lies inside the repository. Files that do not exist are left out.
pub(crate) fn sources(session: &Session, configs: &[PathBuf]) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    if let Some(s) = Source::read(
        Kind::Policy,
        &session.swarm.policies_path(),
        ".swarm/policies.json".to_string(),
    )? {
        out.push(s);
    }
    for c in configs {
        if let Some(rel) = config_in_repository(session, c)
            && !out.iter().any(|s| s.rel == rel)
            && let Some(s) = Source::read(Kind::Config, c, rel)?
        {
            out.push(s);
        }
    }
    Ok(out)
}

/// A file whose commands for the uses at hand are not trusted.
#[derive(Debug)]
pub(crate) struct Finding<'a> {
    pub source: &'a Source,
    pub state: State,
    pub commands: Vec<&'a Named>,
}

/// The files among `sources` that name commands for `uses` without being trusted.
pub(crate) fn untrusted<'a>(
    file: &TrustFile,
    repo: &str,
    sources: &'a [Source],
    uses: &[Use],
) -> Vec<Finding<'a>> {
    sources
        .iter()
        .filter_map(|s| {
            let commands = s.uses(uses);
            if commands.is_empty() {
                return None;
            }
            match State::of(file, repo, s) {
                State::Trusted => None,
                state => Some(Finding {
                    source: s,
                    state,
                    commands,
                }),
            }
        })
        .collect()
}

/// Refuses (exit 3) when a file of the repository names commands for one of `uses` and its
/// content is not trusted. Cheap when there is nothing to trust: without a policy or
/// repository config naming such commands, the trust file is not even read.
pub(crate) fn require(session: &Session, uses: &[Use], config: Option<&Path>) -> Result<()> {
    let configs: Vec<PathBuf> = config.map(Path::to_path_buf).into_iter().collect();
    let sources = sources(session, &configs)?;
    if sources.iter().all(|s| s.uses(uses).is_empty()) {
        return Ok(());
    }
    let file = store::load(&trust_file(session)?)?;
    let findings = untrusted(&file, &repo_key(session), &sources, uses);
    if findings.is_empty() {
        return Ok(());
    }
    Err(refusal(
        &findings,
        &session.ws.root,
        session.config_flag.as_deref(),
    ))
}

/// The refusal: which files, what they would run, and how to trust them.
pub(crate) fn refusal(findings: &[Finding], root: &Path, config_flag: Option<&Path>) -> Error {
    let mut lines = Vec::new();
    for f in findings {
        let why = match &f.state {
            State::Changed(was) => format!(
                "changed since it was trusted (sha256 {} then, {} now)",
                short(was),
                short(&f.source.sha256)
            ),
            _ => "is not trusted in this repository".to_string(),
        };
        lines.push(format!(
            "{} ({}) {why}:",
            f.source.rel,
            f.source.kind.describe()
        ));
        for c in &f.commands {
            lines.push(format!(
                "  {} — {}, {}: {}",
                c.pointer,
                c.what,
                c.used.when(),
                c.shown
            ));
        }
    }
    let files: Vec<&str> = findings.iter().map(|f| f.source.rel.as_str()).collect();
    let trust = match (
        findings.iter().any(|f| f.source.kind == Kind::Config),
        config_flag,
    ) {
        (true, Some(c)) => format!(
            "git swarm trust --config {}",
            shell_words::quote(&c.display().to_string())
        ),
        _ => "git swarm trust".to_string(),
    };
    Error::refused(format!(
        "refusing to run commands from {} before you trust {} (repository {}):\n{}",
        files.join(" and "),
        if findings.len() == 1 { "it" } else { "them" },
        root.display(),
        lines.join("\n")
    ))
    .hint(format!(
        "read {} yourself; if you trust what it runs, run '{trust}' (it records this exact content — any change needs trusting again), then run this command again",
        files.join(" and ")
    ))
}

/// The first 12 hex digits, enough to tell two hashes apart in a message.
pub(crate) fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(kind: Kind, rel: &str, v: serde_json::Value) -> Source {
        let bytes = serde_json::to_vec(&v).unwrap();
        Source {
            kind,
            path: PathBuf::from(rel),
            rel: rel.to_string(),
            sha256: sha256_hex(&bytes),
            commands: match kind {
                Kind::Policy => commands::in_policy(&v),
                Kind::Config => commands::in_config(&v),
            },
        }
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_files_naming_commands_for_the_uses_need_trust() {
        let policy = source(
            Kind::Policy,
            ".swarm/policies.json",
            json!({"pr": {"createCommand": ["mkpr"]}, "git": {"allowUntrackedFiles": true}}),
        );
        let config = source(
            Kind::Config,
            ".swarm/config.json",
            json!({"exec": ["agent", "{prompt}"]}),
        );
        let sources = vec![policy, config];
        let mut file = TrustFile::default();
        let repo = "/r/.git";
        // `next` (setup) needs neither: the policy names no setup command.
        assert!(untrusted(&file, repo, &sources, &[Use::Setup]).is_empty());
        let f = untrusted(&file, repo, &sources, &Use::ALL);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].state, State::Untrusted);
        // Trusted content passes; other content is "changed".
        file.repositories
            .entry(repo.into())
            .or_default()
            .files
            .insert(
                ".swarm/policies.json".into(),
                store::Entry {
                    sha256: sources[0].sha256.clone(),
                    trusted_at: String::new(),
                },
            );
        file.repositories.get_mut(repo).unwrap().files.insert(
            ".swarm/config.json".into(),
            store::Entry {
                sha256: "0".repeat(64),
                trusted_at: String::new(),
            },
        );
        let f = untrusted(&file, repo, &sources, &Use::ALL);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].source.rel, ".swarm/config.json");
        assert_eq!(f[0].state, State::Changed("0".repeat(64)));
        // Another repository's trust counts for nothing.
        assert_eq!(
            untrusted(&file, "/other/.git", &sources, &[Use::PullRequest]).len(),
            1
        );
    }

    #[test]
    fn the_refusal_lists_every_command_and_the_way_out() {
        let sources = vec![source(
            Kind::Policy,
            ".swarm/policies.json",
            json!({"worktree": {"setupCommand": ["sh", "-c", "touch pwned"]}}),
        )];
        let f = untrusted(&TrustFile::default(), "/r/.git", &sources, &[Use::Setup]);
        let e = refusal(&f, Path::new("/r"), None);
        assert_eq!(e.exit_code(), 3);
        assert!(
            e.message
                .contains("/worktree/setupCommand — setup command, runs in each new worktree"),
            "{}",
            e.message
        );
        assert!(e.message.contains("sh -c 'touch pwned'"), "{}", e.message);
        assert!(e.hint.unwrap().contains("'git swarm trust'"));
    }
}
