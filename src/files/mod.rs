//! The file system, done safely: atomic writes, reads that refuse anything but a regular file
//! inside the place it should be, and strict JSON. Everything the tool reads or writes goes
//! through here.

use std::fs;
use std::path::Path;

use crate::error::{Error, IoContext, Result};

pub(crate) mod atomic;
pub mod json;
pub(crate) mod safe;

/// Largest JSON file (result, plan, status, config) the tool will read. Anything bigger is
/// refused with a message rather than read into memory.
pub(crate) const MAX_JSON_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a JSON file with a size limit; the error names the file and the position.
pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = read_limited(path)?;
    parse_json(path, &bytes)
}

/// Reads a regular file of at most [`MAX_JSON_BYTES`]; a FIFO, device, socket or directory is
/// refused at once (see [`safe`]).
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let meta = fs::metadata(path).ctx("read", path)?;
    if meta.is_file() && meta.len() > MAX_JSON_BYTES {
        return Err(Error::failure(format!(
            "{} is {} bytes, more than the {} bytes git swarm reads",
            path.display(),
            meta.len(),
            MAX_JSON_BYTES
        ))
        .hint("write a smaller file (results and plans are summaries, not logs)"));
    }
    safe::read_regular(path, Some(MAX_JSON_BYTES))
}

/// Parses JSON bytes strictly: a byte-order mark, trailing garbage and duplicate keys are
/// errors that name the file and the line and column.
pub(crate) fn parse_json(path: &Path, bytes: &[u8]) -> Result<serde_json::Value> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(Error::failure(format!(
            "{} starts with a UTF-8 byte-order mark",
            path.display()
        ))
        .hint("save the file as UTF-8 without a BOM"));
    }
    json::parse_strict(bytes).map_err(|e| {
        Error::failure(format!("{} is not valid JSON: {e}", path.display()))
            .hint("fix the JSON syntax at that line and column")
    })
}
