//! The trust file: which content of which repository's files the user trusted. It lives in
//! the user's configuration directory — `$XDG_CONFIG_HOME/git-swarm/trust.json`, by default
//! `~/.config/git-swarm/trust.json` — never in a repository, so no clone can bring its own
//! trust along.
//!
//! ```json
//! {"version": 1,
//!  "repositories": {"/src/app/.git": {"files": {
//!    ".swarm/policies.json": {"sha256": "9f86d0…", "trustedAt": "2026-01-01T00:00:00.000Z"}}}}}
//! ```
//!
//! A repository is keyed by the absolute, resolved path of its common git directory (shared by
//! its linked worktrees); a file by its path relative to the work tree, with the SHA-256 of
//! its bytes. The file is rewritten atomically under a lock beside it, so two `git swarm
//! trust` at once lose neither's entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::atomic;
use crate::store::lock;

pub(crate) const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrustFile {
    pub version: u32,
    #[serde(default)]
    pub repositories: BTreeMap<String, Repository>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Repository {
    #[serde(default)]
    pub files: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub sha256: String,
    #[serde(rename = "trustedAt")]
    pub trusted_at: String,
}

impl TrustFile {
    /// The hash trusted for `file` of repository `repo`, if any.
    pub(crate) fn trusted(&self, repo: &str, file: &str) -> Option<&str> {
        self.repositories
            .get(repo)?
            .files
            .get(file)
            .map(|e| e.sha256.as_str())
    }
}

/// Where the trust file is: `$XDG_CONFIG_HOME/git-swarm/trust.json` when that variable holds
/// an absolute path (the XDG rule), else `$HOME/.config/git-swarm/trust.json`.
pub(crate) fn location() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        _ => crate::config::paths::home_dir()?.join(".config"),
    };
    Ok(base.join("git-swarm").join("trust.json"))
}

/// Reads the trust file; a missing one trusts nothing.
pub(crate) fn load(path: &Path) -> Result<TrustFile> {
    if !path.exists() {
        return Ok(TrustFile {
            version: VERSION,
            ..TrustFile::default()
        });
    }
    let value = crate::files::read_json(path).map_err(|e| {
        e.hint(format!(
            "{} is git swarm's record of trusted repository files; fix it, or remove it and trust again with 'git swarm trust'",
            path.display()
        ))
    })?;
    let file: TrustFile = serde_json::from_value(value).map_err(|e| {
        Error::failure(format!("{}: {e}", path.display())).hint(format!(
            "remove {} and trust again with 'git swarm trust' in each repository",
            path.display()
        ))
    })?;
    if file.version != VERSION {
        return Err(Error::failure(format!(
            "{} has version {}, which this git swarm does not know (it writes version {VERSION})",
            path.display(),
            file.version
        ))
        .hint("use the git swarm that wrote it, or remove the file and trust again"));
    }
    Ok(file)
}

/// Reads, changes and atomically rewrites the trust file under its lock; returns what it wrote.
pub(crate) fn update(path: &Path, change: impl FnOnce(&mut TrustFile)) -> Result<TrustFile> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::failure(format!("{} has no parent directory", path.display())))?;
    atomic::create_dir_all(dir)?;
    let _lock = lock::acquire(
        &dir.join("trust.json.lock"),
        "the trust file",
        lock::default_timeout(),
    )?;
    let mut file = load(path)?;
    change(&mut file);
    file.repositories.retain(|_, r| !r.files.is_empty());
    atomic::write_json(path, &file)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_concurrent_updates_keep_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("git-swarm/trust.json");
        assert_eq!(load(&p).unwrap().repositories.len(), 0);
        std::thread::scope(|s| {
            for i in 0..8 {
                let p = &p;
                s.spawn(move || {
                    update(p, |f| {
                        f.repositories
                            .entry(format!("/r{i}/.git"))
                            .or_default()
                            .files
                            .insert(
                                ".swarm/policies.json".into(),
                                Entry {
                                    sha256: format!("{i:064x}"),
                                    trusted_at: "2026-01-01T00:00:00Z".into(),
                                },
                            );
                    })
                    .unwrap();
                });
            }
        });
        let f = load(&p).unwrap();
        assert_eq!(f.repositories.len(), 8);
        assert_eq!(
            f.trusted("/r3/.git", ".swarm/policies.json"),
            Some(format!("{:064x}", 3).as_str())
        );
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"trustedAt\""), "{text}");
        // Emptied repositories are dropped.
        update(&p, |f| {
            f.repositories.get_mut("/r3/.git").unwrap().files.clear();
        })
        .unwrap();
        assert_eq!(load(&p).unwrap().repositories.len(), 7);
    }

    #[test]
    fn a_broken_or_foreign_file_is_an_error_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("trust.json");
        std::fs::write(&p, "{not json").unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.hint.unwrap().contains("git swarm trust"));
        std::fs::write(&p, r#"{"version": 9, "repositories": {}}"#).unwrap();
        assert!(load(&p).unwrap_err().message.contains("version 9"));
    }
}
