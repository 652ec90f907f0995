//! Running agents: exec templates (exec mode) and the built-in simulated agents of the demo.

pub mod exec;
pub mod hosts;
pub mod launch;
pub mod output;
pub mod pack;
pub mod profile;
pub mod sim;
pub mod worktree_setup;
