//! Running agents: exec templates (exec mode) and the built-in simulated agents of the demo.

pub(crate) mod exec;
pub(crate) mod hosts;
pub(crate) mod launch;
pub(crate) mod output;
pub mod pack;
pub(crate) mod profile;
pub(crate) mod sim;
pub(crate) mod worktree_setup;
