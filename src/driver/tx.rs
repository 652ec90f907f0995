//! The transaction: the one way a command changes a run. It holds the run's lock for its
//! whole life, so every function that takes a `&Tx` works on a run nobody else changes. Within
//! it the session's snapshot reads the config (with its compiled validators), the policy and
//! the standards once, and each work location's content tree at most once until effects
//! change git. A step calls the pure transition and applies it: effects, events, then the
//! status last.

use crate::config::Workflow;
use crate::error::Result;
use crate::machine::{Arrival, Ctx, Facts, Transition, state::RunStatus};
use crate::store::{RunDir, Session, lock::RunLock};

pub struct Tx<'s> {
    pub session: &'s Session,
    pub run: &'s RunDir,
    _lock: RunLock,
}

impl<'s> Tx<'s> {
    /// Takes the run's lock (and forgets what an earlier transaction read: agents and people
    /// may have changed anything since).
    pub fn begin(session: &'s Session, run: &'s RunDir) -> Result<Tx<'s>> {
        let lock = session.lock(run)?;
        // A kill between the folder's write and its record in git is caught up first.
        // (The repository is opened once per process and shared with the rest of the step.)
        crate::store::state_ref::catch_up(&session.repo()?, run)?;
        Ok(Tx {
            session,
            run,
            _lock: lock,
        })
    }

    /// The run's status as it is now (`run.status.json`, validated).
    pub fn status(&self) -> Result<RunStatus> {
        self.run.require_status()
    }

    /// The config the run was started with, read once per transaction.
    pub fn config(&self, st: &RunStatus) -> Result<std::rc::Rc<Workflow>> {
        self.session.run_config(st)
    }

    /// What git and the files say now, for `arrivals` (content trees computed once per
    /// location per transaction).
    pub fn facts(&self, st: &RunStatus, cfg: &Workflow, arrivals: &[Arrival]) -> Result<Facts> {
        super::gather_facts(self.session, self.run, st, cfg, arrivals)
    }

    /// Calls the pure transition `f` on `facts` and applies what it decided.
    pub fn transition(
        &self,
        cfg: &Workflow,
        facts: &Facts,
        f: impl FnOnce(&mut Ctx, &Facts) -> Result<Transition>,
    ) -> Result<RunStatus> {
        let standards = self.session.swarm.standards_path();
        let mut ctx = self.session.ctx(cfg, self.run, &standards);
        let t = f(&mut ctx, facts)?;
        self.apply(&t)?;
        Ok(t.status)
    }

    /// Applies a transition decided already: effects in order, then the events, then the
    /// status.
    pub fn apply(&self, t: &Transition) -> Result<()> {
        super::effects::apply(self.session, self.run, t)
    }
}
