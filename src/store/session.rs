//! The session: the repository a command works on, its run selection and locks, and the
//! snapshot one transaction reads once.

use std::path::{Path, PathBuf};

use crate::config::{self, Workflow, paths::home_dir, policies::Policies};
use crate::error::{Error, Result};
use crate::git::{self, Workspace};
use crate::machine::{Ctx, state::RunStatus};
use crate::store::{RunDir, Swarm, lock};

use super::now;
use crate::machine::text::first_line;

/// What every command that works on a repository needs.
pub struct Session {
    pub cwd: PathBuf,
    pub ws: Workspace,
    pub swarm: Swarm,
    pub config_flag: Option<PathBuf>,
    /// What one transaction reads, each once: see [`Snapshot`].
    snapshot: Snapshot,
    /// The repository, opened once per process (refs and objects are read from disk on each
    /// look-up, so it never answers from an old state).
    repo: std::cell::OnceCell<gix::Repository>,
}

/// What a transaction is judged by, read once per transaction: the run's config (with its
/// agents' compiled result validators), the policy, and the content tree of each work
/// location. Emptied when a run's lock is taken (a new transaction: agents and people may have
/// changed anything since) and after each applied transition (its effects changed git).
#[derive(Default)]
pub struct Snapshot {
    config: std::cell::RefCell<Option<(PathBuf, std::rc::Rc<Workflow>)>>,
    policies: std::cell::RefCell<Option<std::rc::Rc<Policies>>>,
    validators: std::cell::RefCell<
        std::collections::HashMap<PathBuf, std::rc::Rc<(jsonschema::Validator, serde_json::Value)>>,
    >,
    trees: std::cell::RefCell<std::collections::HashMap<PathBuf, (String, String)>>,
}

impl Snapshot {
    /// Forgets everything (a new transaction).
    pub fn clear(&self) {
        self.config.borrow_mut().take();
        self.policies.borrow_mut().take();
        self.validators.borrow_mut().clear();
        self.trees.borrow_mut().clear();
    }

    /// Forgets what git effects change (content trees).
    pub fn clear_trees(&self) {
        self.trees.borrow_mut().clear();
    }
}

impl Session {
    /// What the current transaction has read.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    pub fn open(cwd: &Path, config_flag: Option<PathBuf>) -> Result<Session> {
        let ws = git::discover(cwd)?;
        let swarm = Swarm::new(&ws.root);
        Ok(Session {
            cwd: cwd.to_path_buf(),
            ws,
            swarm,
            config_flag,
            snapshot: Snapshot::default(),
            repo: std::cell::OnceCell::new(),
        })
    }

    pub fn home(&self) -> Result<PathBuf> {
        home_dir()
    }

    /// The repository (opened on first use, then shared by the process).
    pub(crate) fn repo(&self) -> Result<gix::Repository> {
        if let Some(r) = self.repo.get() {
            return Ok(r.clone());
        }
        let r = self.ws.open()?;
        Ok(self.repo.get_or_init(|| r).clone())
    }

    /// Where the workflow config is for a new run (flag, env, git config, default).
    pub fn config_location(&self) -> Result<config::paths::ConfigLocation> {
        let home = self.home()?;
        let from_git =
            if self.config_flag.is_none() && std::env::var_os("GIT_SWARM_CONFIG").is_none() {
                self.ws.open().ok().and_then(|r| {
                    r.config_snapshot()
                        .string("swarm.config")
                        .map(|s| s.to_string())
                })
            } else {
                None
            };
        Ok(config::paths::locate(
            self.config_flag.as_deref(),
            from_git,
            &self.cwd,
            &home,
        ))
    }

    /// The config of a run: the one it started with unless `--config`/`GIT_SWARM_CONFIG`
    /// say otherwise.
    pub fn run_config(&self, st: &RunStatus) -> Result<std::rc::Rc<Workflow>> {
        let path = self.run_config_path(st);
        if let Some((p, cfg)) = self.snapshot.config.borrow().as_ref()
            && *p == path
        {
            return Ok(cfg.clone());
        }
        let home = self.home()?;
        let cfg = std::rc::Rc::new(config::load(&path, &self.ws.root, &home)?);
        *self.snapshot.config.borrow_mut() = Some((path, cfg.clone()));
        Ok(cfg)
    }

    /// The content tree of a work location (`(HEAD, tree)`, uncommitted and untracked files
    /// included), computed at most once per transaction.
    pub fn content_tree(&self, path: &Path) -> Result<(String, String)> {
        if let Some(t) = self.snapshot.trees.borrow().get(path) {
            return Ok(t.clone());
        }
        let t = git::content_tree(path)?;
        self.snapshot
            .trees
            .borrow_mut()
            .insert(path.to_path_buf(), t.clone());
        Ok(t)
    }

    /// A result schema, compiled once per transaction.
    pub fn validator(
        &self,
        path: &Path,
    ) -> Result<std::rc::Rc<(jsonschema::Validator, serde_json::Value)>> {
        if let Some(v) = self.snapshot.validators.borrow().get(path) {
            return Ok(v.clone());
        }
        let v = std::rc::Rc::new(crate::schema::load_with_source(path)?);
        self.snapshot
            .validators
            .borrow_mut()
            .insert(path.to_path_buf(), v.clone());
        Ok(v)
    }

    /// Where the config of a run is (see [`Session::run_config`]).
    pub fn run_config_path(&self, st: &RunStatus) -> PathBuf {
        match (&self.config_flag, std::env::var_os("GIT_SWARM_CONFIG")) {
            (Some(p), _) => absolute(&self.cwd, p),
            (None, Some(p)) if !p.is_empty() => absolute(&self.cwd, Path::new(&p)),
            _ => PathBuf::from(&st.swarm.config),
        }
    }

    pub fn policies(&self) -> Result<std::rc::Rc<Policies>> {
        if let Some(p) = self.snapshot.policies.borrow().as_ref() {
            return Ok(p.clone());
        }
        let p = std::rc::Rc::new(Policies::load(&self.swarm.policies_path())?);
        *self.snapshot.policies.borrow_mut() = Some(p.clone());
        Ok(p)
    }

    /// The run a command means: `--run`, else the only in-progress run.
    pub fn active_run(&self, wanted: Option<&str>) -> Result<RunDir> {
        if let Some(w) = wanted {
            return self.swarm.find_run(w);
        }
        let active = self.swarm.active_runs()?;
        match active.len() {
            1 => Ok(active.into_iter().next().expect("one").0),
            0 => Err(Error::failure("there is no run in progress in this repository")
                .hint("start one with 'git swarm start <task>', or name a run with --run <id> ('git swarm list' shows them)")),
            n => {
                let ids: Vec<String> = active
                    .iter()
                    .map(|(r, s)| format!("{} ({})", r.id, first_line(&s.swarm.task.text)))
                    .collect();
                Err(Error::failure(format!("{n} runs are in progress: {}", ids.join(", ")))
                    .hint("say which one with --run <id>"))
            }
        }
    }

    /// The run a command means: `--run`, else the most recent run.
    pub fn recent_run(&self, wanted: Option<&str>) -> Result<RunDir> {
        if let Some(w) = wanted {
            return self.swarm.find_run(w);
        }
        let all = self.swarm.all_runs()?;
        all.into_iter()
            .rev()
            .find(|(_, s)| s.is_ok())
            .map(|(r, _)| r)
            .ok_or_else(|| {
                Error::failure("there are no runs in this repository")
                    .hint("start one with 'git swarm start <task>'")
            })
    }

    pub fn lock(&self, run: &RunDir) -> Result<lock::RunLock> {
        // A new transaction: whatever was read before may have changed.
        self.snapshot.clear();
        // The lock file is in the run folder: it is only opened in the repository's own one.
        run.check_folders()?;
        let l = lock::acquire(
            &run.lock_path(),
            &format!("run {}", run.id),
            lock::default_timeout(),
        )?;
        if let Some(prev) = &l.recovered_from {
            crate::cli::style::note(format!(
                "recovered the lock of run {} from {prev}, which ended without releasing it",
                run.id
            ));
            super::remove_torn_temp_files(run);
        }
        Ok(l)
    }

    /// A machine context for `run`.
    pub fn ctx<'a>(&'a self, cfg: &'a Workflow, run: &'a RunDir, standards: &'a Path) -> Ctx<'a> {
        // A policy that does not load stops the command where it is read; here it only means
        // no limits and no gates.
        let policies = self.policies().ok();
        Ctx {
            cfg,
            run,
            workspace: &self.ws.root,
            standards_path: standards,
            now: now(),
            ids: (0..8).map(|_| uuid::Uuid::new_v4().to_string()).collect(),
            budget: policies
                .as_ref()
                .map(|p| crate::machine::budget::Budget::of_policy(&p.budget))
                .unwrap_or_default(),
            gates: policies
                .as_ref()
                .map(|p| crate::machine::Gates {
                    plan: p.approval.plan,
                    publish: p.approval.publish,
                })
                .unwrap_or_default(),
            sparse: policies.as_ref().and_then(|p| p.worktree.sparse_dirs()),
        }
    }
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}
