//! The source layout README describes ("Source layout"): each part of `src/` uses only the
//! parts listed before it (so there is no module cycle), the pure machine uses no part that
//! does I/O, and git argument lists are built only in `src/git/`. Read from the source text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The parts, each allowed to use only those before it.
const LAYERS: &[&str] = &[
    "error",
    "trace",
    "failpoint",
    "files",
    "forge",
    "schema",
    "config",
    "machine",
    "cli",
    "git",
    "store",
    "trust",
    "agents",
    "driver",
    "hook",
    "commands",
];

/// What the pure machine may not use: everything that reads or writes the world.
const NOT_FOR_THE_MACHINE: &[&str] = &[
    "files", "forge", "git", "store", "trust", "agents", "driver", "hook", "commands", "cli",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "tests") {
                sources(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs")
            && p.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(p);
        }
    }
}

/// The code of a source file without its unit-test module and without comment lines.
fn code(p: &Path) -> String {
    let text = std::fs::read_to_string(p).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The parts of the crate a piece of code names: `crate::x…` paths and the first names of
/// `use crate::{x, y::z}` groups.
fn parts_named(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(first_name(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(ch);
                }
            }
            out.push(first_name(&item));
        } else {
            out.push(first_name(rest));
        }
    }
    out.retain(|n| !n.is_empty() && n != "self");
    out
}

fn first_name(s: &str) -> String {
    s.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// `part → used part → files`, for every source file of `src/`.
fn uses() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut map: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().display().to_string();
        let part = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        for used in parts_named(&code(&f)) {
            if used != part {
                map.entry(part.clone())
                    .or_default()
                    .entry(used)
                    .or_default()
                    .push(rel.clone());
            }
        }
    }
    map
}

#[test]
fn the_parser_sees_uses_written_every_way() {
    let named = parts_named(
        "use crate::machine::{self, Arrival};\nuse crate::{git, store::{RunDir, lock}};\nlet x = crate::files::read_json(p);",
    );
    assert_eq!(named, ["machine", "git", "store", "files"]);
    // And the real source has the uses everyone knows of.
    let u = uses();
    assert!(u["driver"].contains_key("machine") && u["commands"].contains_key("driver"));
}

#[test]
fn each_part_uses_only_the_parts_before_it() {
    let rank = |p: &str| LAYERS.iter().position(|l| *l == p);
    let mut wrong = Vec::new();
    for (part, used) in uses() {
        let Some(r) = rank(&part) else {
            if part != "lib" && part != "main" {
                wrong.push(format!("{part} is not a part README's layout lists"));
            }
            continue;
        };
        for (u, files) in used {
            match rank(&u) {
                Some(ru) if ru < r => {}
                Some(_) => wrong.push(format!("{part} uses {u}, a later part: {files:?}")),
                None => wrong.push(format!("{part} uses {u}, which is not a part: {files:?}")),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_machine_does_no_io() {
    let u = uses();
    let bad: Vec<_> = u["machine"]
        .iter()
        .filter(|(p, _)| NOT_FOR_THE_MACHINE.contains(&p.as_str()))
        .collect();
    assert!(bad.is_empty(), "the machine uses {bad:?}");
}

#[test]
fn git_argument_lists_are_built_only_in_src_git() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for f in files {
        if f.starts_with(src.join("git")) {
            continue;
        }
        let c = code(&f);
        for needle in ["Git::new(", "Command::new(\"git\")", "git::Git"] {
            if c.contains(needle) {
                found.push(format!("{}: {needle}", f.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
