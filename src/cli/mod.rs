//! Printing for the command line: styles and colour, the report every command answers with
//! (text and JSON). No command logic and no state: every layer may print notes through here.

pub mod report;
pub mod style;
