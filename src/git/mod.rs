//! Everything that touches git: gix for reads (discovery, status, refs), and the `git` binary
//! — the one place that spawns it — for writes that must run the user's hooks, credential
//! helpers and signing (`worktree add`, `commit`, `push`).

pub(crate) mod clean;
mod clean_fast;
pub(crate) mod gc_ops;
mod leftovers;
pub(crate) mod locks;
pub(crate) mod merge_batch;
pub(crate) mod merge_tree;
pub(crate) mod ops;
pub(crate) mod query;
pub(crate) mod remote_refs;
pub(crate) mod scratch;
pub mod url;
pub(crate) mod worktree;

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// A work tree and its git directories.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    /// Root of the work tree that owns `.swarm/` (the main worktree, normally).
    pub root: PathBuf,
    /// The git dir of that work tree.
    pub git_dir: PathBuf,
    /// The common git dir (shared by all linked worktrees): holds `info/exclude`, refs, hooks.
    pub common_dir: PathBuf,
}

/// Finds the workspace containing `cwd`. Cheap on purpose (a few `stat`s and two tiny reads,
/// no config parsing): `git swarm next` runs it on every call.
///
/// When `cwd` is inside a linked worktree (an agent's cwd is the run's worktree) and that
/// worktree has no `.swarm/runs/` of its own, the main worktree — where the runs live — is
/// used.
pub(crate) fn discover(cwd: &Path) -> Result<Workspace> {
    let ws = if std::env::var_os("GIT_DIR").is_some() || std::env::var_os("GIT_WORK_TREE").is_some()
    {
        // Hooks and some tools run with GIT_DIR set: let git interpret it.
        discover_with_git(cwd)?
    } else {
        discover_by_walking(cwd)?
    };
    Ok(prefer_main_worktree(ws))
}

fn discover_by_walking(cwd: &Path) -> Result<Workspace> {
    let mut dir = Some(cwd);
    while let Some(d) = dir {
        let dotgit = d.join(".git");
        if let Ok(meta) = std::fs::metadata(&dotgit) {
            let git_dir = if meta.is_dir() {
                dotgit
            } else {
                read_gitfile(&dotgit)?
            };
            let common_dir = match std::fs::read_to_string(git_dir.join("commondir")) {
                Ok(c) => normalize(&git_dir.join(c.trim())),
                Err(_) => git_dir.clone(),
            };
            return Ok(Workspace {
                root: d.to_path_buf(),
                git_dir,
                common_dir,
            });
        }
        dir = d.parent();
    }
    Err(
        Error::failure(format!("{} is not inside a git repository", cwd.display()))
            .hint("run git swarm from inside the repository the agents should work on"),
    )
}

/// A linked worktree without runs of its own (a run's worktree, where agents work): the runs
/// live in the main worktree.
fn prefer_main_worktree(ws: Workspace) -> Workspace {
    if ws.git_dir == ws.common_dir || ws.root.join(".swarm/runs").is_dir() {
        return ws;
    }
    if ws.common_dir.file_name().is_some_and(|n| n == ".git") {
        let main_root = ws
            .common_dir
            .parent()
            .expect("a .git dir has a parent")
            .to_path_buf();
        if main_root.join(".swarm/runs").is_dir() {
            return Workspace {
                root: main_root,
                git_dir: ws.common_dir.clone(),
                common_dir: ws.common_dir,
            };
        }
    }
    ws
}

pub(crate) fn read_gitfile(path: &Path) -> Result<PathBuf> {
    let text = std::fs::read_to_string(path).ctx("read", path)?;
    let target = text
        .lines()
        .find_map(|l| l.strip_prefix("gitdir:"))
        .map(str::trim)
        .ok_or_else(|| Error::failure(format!("{} is not a valid .git file", path.display())))?;
    let p = PathBuf::from(target);
    Ok(if p.is_absolute() {
        p
    } else {
        normalize(&path.parent().expect("file has parent").join(p))
    })
}

/// Lexically removes `.` and `..` (the paths come from git, which writes them without
/// symlink games).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn discover_with_git(cwd: &Path) -> Result<Workspace> {
    let out = Git::new(cwd)
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-dir",
            "--git-common-dir",
        ])
        .run()?;
    let mut lines = out.lines();
    let mut next = || lines.next().map(PathBuf::from).unwrap_or_default();
    let (root, git_dir, common_dir) = (next(), next(), next());
    Ok(Workspace {
        root,
        git_dir,
        common_dir,
    })
}

impl Workspace {
    pub(crate) fn open(&self) -> Result<gix::Repository> {
        open(&self.root)
    }
}

pub(crate) fn open(path: &Path) -> Result<gix::Repository> {
    gix::open(path).map_err(|e| {
        Error::failure(format!(
            "could not open the git repository at {}: {e}",
            path.display()
        ))
    })
}

/// The commit `HEAD` points at, and the branch it is on (`None` when detached).
pub(crate) fn head(repo: &gix::Repository) -> Result<(String, Option<String>)> {
    let mut head = repo
        .head()
        .map_err(|e| Error::failure(format!("could not read HEAD: {e}")))?;
    let branch = head.referent_name().map(|n| n.shorten().to_string());
    let id = head
        .try_peel_to_id()
        .map_err(|e| Error::failure(format!("could not resolve HEAD: {e}")))?;
    match id {
        Some(id) => Ok((id.to_string(), branch)),
        None => Err(Error::refused(
            "the repository has no commits yet, so there is nothing to branch a run from",
        )
        .hint("make a first commit, then start the run again")),
    }
}

/// Does `refs/heads/<branch>` exist?
pub(crate) fn branch_exists(repo: &gix::Repository, branch: &str) -> bool {
    repo.try_find_reference(format!("refs/heads/{branch}").as_str())
        .ok()
        .flatten()
        .is_some()
}

/// The user's git identity (`user.name`, `user.email`) as git would resolve it in `path`.
pub(crate) fn identity(path: &Path) -> Option<(String, String)> {
    let repo = open(path).ok()?;
    let cfg = repo.config_snapshot();
    let name = cfg.string("user.name")?.to_string();
    let email = cfg.string("user.email")?.to_string();
    Some((name, email))
}

/// The commit `HEAD` of the work tree at `path` points at, if it can be read.
pub(crate) fn worktree_head(path: &Path) -> Option<String> {
    let repo = gix::open(path).ok()?;
    repo.head_id().ok().map(|id| id.to_string())
}

/// Adds `pattern` to `<common dir>/info/exclude` unless it is there; returns whether it was
/// added. The common dir is shared by linked worktrees, so they all see it.
pub(crate) fn ensure_exclude(common_dir: &Path, pattern: &str) -> Result<bool> {
    let info = common_dir.join("info");
    let path = info.join("exclude");
    let current = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    if current.lines().any(|l| l.trim() == pattern) {
        return Ok(false);
    }
    crate::files::atomic::create_dir_all(&info)?;
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# git swarm: run state is never part of the tree\n");
    text.push_str(pattern);
    text.push('\n');
    crate::files::atomic::write(&path, text.as_bytes())?;
    Ok(true)
}

/// A `git` command, run with argv (never a shell), with its output captured.
pub(crate) struct Git {
    cwd: PathBuf,
    args: Vec<std::ffi::OsString>,
    env: Vec<(String, String)>,
    input: Option<Vec<u8>>,
}

impl Git {
    pub(crate) fn new(cwd: &Path) -> Git {
        Git {
            cwd: cwd.to_path_buf(),
            args: Vec::new(),
            env: Vec::new(),
            input: None,
        }
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Git
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// What the command reads on stdin (paths that must never be taken for options).
    pub(crate) fn input(mut self, bytes: Vec<u8>) -> Git {
        self.input = Some(bytes);
        self
    }

    pub(crate) fn env(mut self, k: &str, v: &str) -> Git {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    /// The command line for messages, with credentials in URLs removed.
    pub(crate) fn display(&self) -> String {
        let mut parts = vec!["git".to_string()];
        parts.extend(
            self.args
                .iter()
                .map(|a| crate::git::url::redact(&a.to_string_lossy())),
        );
        shell_words::join(parts)
    }

    /// Runs the command; non-zero exit is an error carrying the command and stderr's tail.
    pub(crate) fn run(self) -> Result<String> {
        let out = self.output()?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        } else {
            Err(self.failed(&out))
        }
    }

    pub(crate) fn output(&self) -> Result<std::process::Output> {
        let mut e = duct::cmd("git", &self.args)
            .dir(&self.cwd)
            .env("GIT_TERMINAL_PROMPT", "0");
        e = match &self.input {
            Some(bytes) => e.stdin_bytes(bytes.clone()),
            None => e.stdin_null(),
        };
        let mut e = e.stdout_capture().stderr_capture().unchecked();
        for (k, v) in &self.env {
            e = e.env(k, v);
        }
        e.run().map_err(|err| {
            Error::failure(format!("could not run '{}': {err}", self.display()))
                .hint("make sure git is installed and on PATH")
        })
    }

    pub(crate) fn failed(&self, out: &std::process::Output) -> Error {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail = tail_lines(&crate::git::url::redact(&stderr), 12);
        Error::failure(format!(
            "'{}' failed ({}) in {}",
            self.display(),
            out.status,
            self.cwd.display()
        ))
        .cause(if tail.is_empty() {
            "no output".to_string()
        } else {
            tail
        })
    }
}

/// The last `n` lines of `text`.
pub(crate) fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Git {
    pub(crate) fn arg_path(mut self, p: &Path) -> Git {
        self.args.push(p.as_os_str().to_os_string());
        self
    }
}

/// The branch checked out in the work tree at `path`, if any.
pub(crate) fn worktree_branch(path: &Path) -> Option<String> {
    let repo = gix::open(path).ok()?;
    let head = repo.head().ok()?;
    head.referent_name().map(|n| n.shorten().to_string())
}

/// `(HEAD, tree)` of the work tree at `path`, where the tree includes uncommitted and
/// untracked (not ignored) files: exactly the content a test run there saw. Computed in a
/// copy of the worktree's index, so the real index is untouched and only changed files are
/// hashed.
pub(crate) fn content_tree(path: &Path) -> Result<(String, String)> {
    let repo = open(path)?;
    let head = repo
        .head_id()
        .map_err(|e| Error::failure(format!("cannot read HEAD of {}: {e}", path.display())))?
        .to_string();
    // A clean work tree (what an agent that committed its work leaves) is its HEAD's tree:
    // one status walk instead of hashing into a copy of the index. The walk skips
    // `.swarm/runs/`, which `git add -A` would not: only when there is none.
    if !path.join(".swarm/runs").exists() && clean::dirt(&repo, true)?.is_empty() {
        let tree = repo
            .head_commit()
            .and_then(|c| c.tree_id())
            .map_err(|e| Error::failure(format!("cannot read HEAD of {}: {e}", path.display())))?
            .to_string();
        return Ok((head, tree));
    }
    let index = repo.index_path();
    let dir = index.parent().unwrap_or(path).to_path_buf();
    // Named after this process, so that copies left by a killed one (and git's lock beside
    // them) are known as garbage by the next call: their process is gone.
    locks::remove_dead_temp_indexes(&dir);
    let tmp = tempfile::Builder::new()
        .prefix(&format!(
            "{}{}.",
            locks::TEMP_INDEX_PREFIX,
            std::process::id()
        ))
        .tempfile_in(&dir)
        .ctx("create a temporary index in", &dir)?;
    if index.exists() {
        std::fs::copy(&index, tmp.path()).ctx("copy the index", &index)?;
    }
    let tmp_s = tmp.path().display().to_string();
    Git::new(path)
        .env("GIT_INDEX_FILE", &tmp_s)
        .args(["add", "-A"])
        .run()?;
    let tree = Git::new(path)
        .env("GIT_INDEX_FILE", &tmp_s)
        .args(["write-tree"])
        .run()?;
    Ok((head, tree))
}

/// The tree of a commit.
pub(crate) fn tree_of(cwd: &Path, rev: &str) -> Result<String> {
    resolve(cwd, &format!("{rev}^{{tree}}"))
}

/// The object id `rev` names, as seen from `dir`. `HEAD`, a full ref name and a full object
/// id (each optionally with `^{tree}`) are read in-process; anything else, or anything that
/// cannot be read so, is asked of git (whose error then says what is wrong).
pub(crate) fn resolve(dir: &Path, rev: &str) -> Result<String> {
    let (name, tree) = match rev.strip_suffix("^{tree}") {
        Some(n) => (n, true),
        None => (rev, false),
    };
    if let Some(id) = resolve_in_process(dir, name, tree) {
        return Ok(id);
    }
    Git::new(dir).args(["rev-parse", rev]).run()
}

fn resolve_in_process(dir: &Path, name: &str, tree: bool) -> Option<String> {
    let repo = gix::open(dir).ok()?;
    let id: gix::ObjectId = if name == "HEAD" {
        repo.head_id().ok()?.detach()
    } else if name.starts_with("refs/") {
        repo.find_reference(name).ok()?.peel_to_id().ok()?.detach()
    } else if name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        gix::ObjectId::from_hex(name.as_bytes()).ok()?
    } else {
        return None;
    };
    if !tree {
        // A full id names itself only when the object is there (git would say so too).
        return repo.find_object(id).ok().map(|_| id.to_string());
    }
    let commit = repo.find_object(id).ok()?.try_into_commit().ok()?;
    Some(commit.tree_id().ok()?.to_string())
}

/// Paths that differ between two trees (added, changed, deleted), without rename detection.
pub(crate) fn diff_paths(cwd: &Path, from: &str, to: &str) -> Result<Vec<String>> {
    if from == to {
        return Ok(Vec::new());
    }
    let out = Git::new(cwd)
        .args([
            "diff-tree",
            "-r",
            "--no-renames",
            "--name-only",
            "-z",
            from,
            to,
        ])
        .run()?;
    Ok(nul_separated(&out))
}

/// The entries of git's `-z` output.
pub(crate) fn nul_separated(out: &str) -> Vec<String> {
    out.split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Does `<remote>` have any remote-tracking branch (`refs/remotes/<remote>/…`)? Without one
/// nothing can be said about what the remote holds, short of asking it over the network.
/// Refuses a remote that is not configured in the repository (a name from a policy is only
/// used when it names one of the repository's own remotes). The message repeats the name
/// redacted.
pub(crate) fn require_remote(repo: &gix::Repository, name: &str) -> Result<()> {
    let names = repo.remote_names();
    if names.iter().any(|n| *n == name) {
        return Ok(());
    }
    let known: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    Err(Error::failure(format!(
        "'{}' is not a remote of this repository (its remotes: {})",
        crate::git::url::redact(name),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )))
}

pub(crate) fn has_remote_tracking_refs(repo: &gix::Repository, remote: &str) -> bool {
    let prefix = format!("refs/remotes/{remote}/");
    repo.references()
        .ok()
        .and_then(|r| {
            r.prefixed(prefix.as_str())
                .ok()
                .map(|mut i| i.next().is_some())
        })
        .unwrap_or(false)
}

/// Does `reference` (a full ref name) exist?
pub(crate) fn ref_exists(repo: &gix::Repository, reference: &str) -> bool {
    repo.try_find_reference(reference).ok().flatten().is_some()
}

/// How many commits reachable from `commit` are on no remote-tracking branch of `remote`,
/// leaving out `except` (a branch name on that remote, such as the run's own branch once it
/// was pushed). As of the last fetch: no network.
pub(crate) fn commits_not_on_remote(
    cwd: &Path,
    commit: &str,
    remote: &str,
    except: Option<&str>,
) -> Result<u32> {
    let mut g = Git::new(cwd).args(["rev-list", "--count", commit, "--not"]);
    if let Some(b) = except {
        g = g.args([format!("--exclude={remote}/{b}")]);
    }
    count(g.args([format!("--remotes={remote}")]).run()?)
}

/// How many commits reachable from `commit` are not reachable from `reference`.
pub(crate) fn commits_not_in(cwd: &Path, commit: &str, reference: &str) -> Result<u32> {
    count(
        Git::new(cwd)
            .args(["rev-list", "--count", commit, "--not", reference])
            .run()?,
    )
}

fn count(out: String) -> Result<u32> {
    out.trim().parse().map_err(|_| {
        Error::failure(format!(
            "'git rev-list --count' answered {out:?}, not a number"
        ))
    })
}

/// A regular expression (POSIX extended, as `git config --get-regexp` takes, and the
/// policies' TOML) matching `text` literally.
pub(crate) fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
