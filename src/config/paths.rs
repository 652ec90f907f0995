//! Where the workflow config lives and how paths inside it resolve.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How a path from the config was resolved (shown by `git swarm doctor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// `~/…`
    Home,
    /// Absolute in the config.
    Absolute,
    /// Relative, found under the workspace root.
    Workspace,
    /// Relative, not under the workspace root, so taken relative to the home directory.
    HomeRelative,
}

impl Resolution {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Resolution::Home => "home (~/)",
            Resolution::Absolute => "absolute",
            Resolution::Workspace => "workspace root",
            Resolution::HomeRelative => "relative to home",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath {
    /// As written in the config.
    pub raw: String,
    pub path: PathBuf,
    pub how: Resolution,
}

/// The user's home directory (`$HOME` is honoured so tests can point it at a temp dir).
pub(crate) fn home_dir() -> Result<PathBuf> {
    match std::env::var_os("HOME") {
        Some(h) if !h.is_empty() => Ok(PathBuf::from(h)),
        _ => Err(
            Error::failure("HOME is not set, so ~/.cursor cannot be found")
                .hint("set HOME, or pass --config with an absolute path"),
        ),
    }
}

/// Resolves a path written in the config: `~/…` → home; absolute → as is; relative → the
/// workspace root if the file exists there, else relative to home (where a global `.cursor/`
/// lives).
pub(crate) fn resolve(raw: &str, workspace: &Path, home: &Path) -> ResolvedPath {
    let (path, how) = if raw == "~" {
        (home.to_path_buf(), Resolution::Home)
    } else if let Some(rest) = raw.strip_prefix("~/") {
        (home.join(rest), Resolution::Home)
    } else if Path::new(raw).is_absolute() {
        (PathBuf::from(raw), Resolution::Absolute)
    } else {
        let in_ws = workspace.join(raw);
        if in_ws.exists() {
            (in_ws, Resolution::Workspace)
        } else {
            (home.join(raw), Resolution::HomeRelative)
        }
    };
    ResolvedPath {
        raw: raw.to_string(),
        path,
        how,
    }
}

/// Which config file to use, and why.
#[derive(Debug, Clone)]
pub(crate) struct ConfigLocation {
    pub path: PathBuf,
    pub source: &'static str,
}

/// The config location: `--config`, then `GIT_SWARM_CONFIG`, then `git config swarm.config`
/// (passed in by the caller, who owns git access), then `~/.cursor/agents/manager/config.json`.
pub(crate) fn locate(
    flag: Option<&Path>,
    git_config: Option<String>,
    cwd: &Path,
    home: &Path,
) -> ConfigLocation {
    let absolute = |p: PathBuf| if p.is_absolute() { p } else { cwd.join(p) };
    if let Some(p) = flag {
        return ConfigLocation {
            path: absolute(p.to_path_buf()),
            source: "--config",
        };
    }
    if let Some(p) = std::env::var_os("GIT_SWARM_CONFIG").filter(|v| !v.is_empty()) {
        return ConfigLocation {
            path: absolute(PathBuf::from(p)),
            source: "GIT_SWARM_CONFIG",
        };
    }
    if let Some(p) = git_config.filter(|v| !v.is_empty()) {
        let expanded = match p.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None => PathBuf::from(p),
        };
        return ConfigLocation {
            path: absolute(expanded),
            source: "git config swarm.config",
        };
    }
    ConfigLocation {
        path: default_config_path(home),
        source: "default",
    }
}

pub(crate) fn default_config_path(home: &Path) -> PathBuf {
    home.join(".cursor/agents/manager/config.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_rules() {
        let ws = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(ws.path().join(".cursor/agents")).unwrap();
        std::fs::write(ws.path().join(".cursor/agents/local.md"), "x").unwrap();

        let r = resolve("~/.cursor/a.json", ws.path(), home.path());
        assert_eq!(r.path, home.path().join(".cursor/a.json"));
        assert_eq!(r.how, Resolution::Home);

        let r = resolve("/etc/x.json", ws.path(), home.path());
        assert_eq!(r.path, PathBuf::from("/etc/x.json"));
        assert_eq!(r.how, Resolution::Absolute);

        let r = resolve(".cursor/agents/local.md", ws.path(), home.path());
        assert_eq!(r.path, ws.path().join(".cursor/agents/local.md"));
        assert_eq!(r.how, Resolution::Workspace);

        let r = resolve(".cursor/agents/planner.md", ws.path(), home.path());
        assert_eq!(r.path, home.path().join(".cursor/agents/planner.md"));
        assert_eq!(r.how, Resolution::HomeRelative);
    }
}
