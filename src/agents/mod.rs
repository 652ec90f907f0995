//! Running agents: exec templates (exec mode) and the built-in simulated agents of the demo.

pub mod exec;
pub mod output;
pub mod profile;
pub mod sim;
