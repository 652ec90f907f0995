//! One file per command: a doc-commented `XxxArgs` (its doc is the help text) and
//! `run(ctx, args)`.

pub mod abort;
pub mod completions;
pub mod demo;
pub mod doctor;
pub mod forge;
pub mod gc;
pub mod hook;
pub mod init;
pub mod list;
pub mod next;
pub mod publish;
pub mod retry;
pub mod run;
pub mod start;
pub mod status;
pub mod trust;
pub mod validate;
