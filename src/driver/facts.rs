//! Reading results and plans, and probing git, for the machine.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Session, place};
use crate::config::Workflow;
use crate::error::{Error, Result};
use crate::git;
use crate::machine::{Arrival, Facts, LoadedPlan, Slot, plan, state::RunStatus};
use crate::schema;
use crate::store::RunDir;

/// Reads and validates the result in `file` for pending invocation `slot`. Problems with the
/// result itself are recorded in the arrival (the machine decides what they mean); problems
/// with the tool's inputs (a schema that is missing or does not compile) are errors, and
/// nothing changes.
pub fn read_arrival(
    session: &Session,
    run: &RunDir,
    st: &RunStatus,
    cfg: &Workflow,
    slot: usize,
    file: &Path,
) -> Result<Arrival> {
    let mut a = validate_arrival(session, run, st, cfg, slot, file)?;
    a.changed = changed_since_handoff(session, &st.swarm.pending[slot])?;
    // The main workspace (the planner's place) is the user's too: whatever changed there while
    // the agent worked cannot be told apart from the user's own edits, so it is reported, not
    // judged. It never reaches the run either: the run's worktree starts from the base commit.
    if st.swarm.pending[slot].cwd == session.ws.root.display().to_string()
        && let Some(c) = a.changed.take()
    {
        a.unattributed = c
            .into_iter()
            .filter(|p| !p.starts_with(".swarm/"))
            .collect();
    }
    Ok(a)
}

/// Like [`read_arrival`], without the guard-rail diff (exec mode's quick check of a result).
pub fn validate_arrival(
    session: &Session,
    run: &RunDir,
    st: &RunStatus,
    cfg: &Workflow,
    slot: usize,
    file: &Path,
) -> Result<Arrival> {
    let inv = &st.swarm.pending[slot];
    let agent = cfg.agent(&inv.agent).ok_or_else(|| {
        Error::failure(format!(
            "run {} waits for agent '{}', which is not in the workflow config {}",
            run.id,
            inv.agent,
            cfg.path.display()
        ))
        .hint("restore the agent in the config, or abort the run with 'git swarm abort'")
    })?;
    let compiled = session.validator(&agent.schema_path.path).map_err(|e| {
        Error::failure(format!(
            "cannot validate {}.result.json: {}",
            agent.name, e.message
        ))
        .hint(e.hint.clone().unwrap_or_default())
    })?;
    let (validator, schema_doc) = (&compiled.0, &compiled.1);
    let content = read_result(file).and_then(|bytes| crate::files::parse_json(file, &bytes));
    let content = content.map_err(|e| e.message);
    let (violations, usage) = match &content {
        Ok(v) => check_result(validator, schema_doc, v),
        Err(_) => (Vec::new(), None),
    };
    let plan = match (&content, cfg.plans(&agent.name)) {
        (Ok(v), true) if violations.is_empty() => load_plan(session, run, cfg, v)?,
        _ => None,
    };
    Ok(Arrival {
        slot,
        file: file.to_path_buf(),
        content,
        violations,
        plan,
        changed: None,
        unattributed: Vec::new(),
        usage,
    })
}

/// A result's bytes: a regular file in the run folder, never a symlink (which could lead to
/// any file of the machine, whose content would then be quoted in messages), a FIFO or a
/// device (which would block or never end).
fn read_result(file: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::symlink_metadata(file).map_err(|e| Error::io("read", file, e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::failure(format!(
            "{} is a symlink; a result must be a regular file written in the run folder",
            file.display()
        )));
    }
    crate::files::read_limited(file)
}

/// Validates a result against its schema and reads what it says it spent. A top-level `tokens`
/// field belongs to the tool: unless the agent's schema declares it, it is taken out before
/// validation (so strict schemas need no change), and a malformed one is a violation at
/// `/tokens`.
pub fn check_result(
    validator: &jsonschema::Validator,
    schema_doc: &serde_json::Value,
    v: &serde_json::Value,
) -> (
    Vec<crate::schema::Violation>,
    Option<crate::machine::usage::Usage>,
) {
    let (mut violations, usage) = check_schema(validator, schema_doc, v);
    // Text that is published (a summary goes into the pull request) must be publishable.
    violations.extend(crate::machine::text::result_violations(v));
    (violations, usage)
}

fn check_schema(
    validator: &jsonschema::Validator,
    schema_doc: &serde_json::Value,
    v: &serde_json::Value,
) -> (
    Vec<crate::schema::Violation>,
    Option<crate::machine::usage::Usage>,
) {
    let declares_tokens = schema_doc.pointer("/properties/tokens").is_some();
    let Some(field) = v.get("tokens") else {
        return (schema::violations(validator, v), None);
    };
    if declares_tokens {
        // The schema owns the field; it is read when it has a shape the tool knows.
        return (
            schema::violations(validator, v),
            crate::machine::usage::from_field(field).ok(),
        );
    }
    let (mut violations, usage) = match crate::machine::usage::from_field(field) {
        Ok(u) => (Vec::new(), Some(u)),
        Err(why) => (
            vec![crate::schema::Violation {
                pointer: "/tokens".into(),
                message: why,
            }],
            None,
        ),
    };
    let mut rest = v.clone();
    if let Some(o) = rest.as_object_mut() {
        o.remove("tokens");
    }
    violations.extend(schema::violations(validator, &rest));
    (violations, usage)
}

/// What the invocation's work location changed since its handoff: its content now (commits,
/// uncommitted and untracked files) against the baseline recorded at the handoff (for a
/// parallel worker, the run's worktree when the batch started).
fn changed_since_handoff(
    session: &Session,
    inv: &crate::machine::state::Invocation,
) -> Result<Option<Vec<String>>> {
    let cwd = Path::new(&inv.cwd);
    if !cwd.exists() {
        return Ok(None);
    }
    let base = inv.base_tree.clone();
    let Some(base) = base else { return Ok(None) };
    let (_, now) = session.content_tree(cwd)?;
    Ok(Some(git::diff_paths(cwd, &base, &now)?))
}

/// Follows the planner result's plan field to plan.json and validates it against the plan
/// schema. `None` when the field is absent.
fn load_plan(
    session: &Session,
    run: &RunDir,
    cfg: &Workflow,
    result: &Value,
) -> Result<Option<Result<LoadedPlan, String>>> {
    let field = &cfg.planning.result_field;
    let Some(raw) = result.get(field).and_then(Value::as_str) else {
        return Ok(None);
    };
    let candidates: Vec<PathBuf> = if Path::new(raw).is_absolute() {
        vec![PathBuf::from(raw)]
    } else {
        vec![session.ws.root.join(raw), run.path.join(raw)]
    };
    let Some(found) = candidates.iter().find(|p| p.exists()) else {
        return Ok(Some(Err(format!(
            "{field} \"{raw}\" does not exist (looked at {}); write plan.json into the run folder {} and point {field} at it",
            candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" and "),
            run.path.display()
        ))));
    };
    let real = std::fs::canonicalize(found).map_err(|e| Error::io("resolve", found, e))?;
    let run_real =
        std::fs::canonicalize(&run.path).map_err(|e| Error::io("resolve", &run.path, e))?;
    if !real.starts_with(&run_real) || real.is_dir() {
        return Ok(Some(Err(format!(
            "{field} \"{raw}\" resolves to {}, which is outside the run folder {}; write plan.json inside the run folder",
            real.display(),
            run_real.display()
        ))));
    }
    let value = match crate::files::read_json(&real) {
        Ok(v) => v,
        Err(e) => return Ok(Some(Err(e.message))),
    };
    let violations = match &cfg.planning.schema_path {
        Some(s) => {
            let validator = schema::load(&s.path)?;
            schema::violations(&validator, &value)
        }
        None => Vec::new(),
    };
    let problems = symlink_escapes(&session.ws.root, &value);
    Ok(Some(Ok(LoadedPlan {
        path: real.display().to_string(),
        value,
        violations,
        problems,
    })))
}

/// Facts for a transition: the standards gate, the worktree slot (when the transition may
/// create the worktree), and the worktree's HEAD.
pub fn gather_facts(
    session: &Session,
    run: &RunDir,
    st: &RunStatus,
    cfg: &Workflow,
    arrivals: &[Arrival],
) -> Result<Facts> {
    let standards = crate::config::standards::check(&session.swarm.standards_path());
    // The content of the places work is handed to: the run's worktree (a baseline for the
    // guard rails, and what a passing tester passed on) and, when the first agent may be
    // invoked again, the workspace root.
    let mut content = indexmap::IndexMap::new();
    if let Some(w) = st
        .worktree_path
        .as_deref()
        .filter(|w| Path::new(w).exists())
    {
        content.insert(w.to_string(), session.content_tree(Path::new(w))?);
    }
    let first = cfg.first_step().name.clone();
    let first_again = st.worktree_path.is_none()
        || !st.outcome.is_in_progress()
        || st.swarm.pending.iter().any(|p| p.agent == first);
    if first_again {
        let root = session.ws.root.display().to_string();
        content.insert(root, session.content_tree(&session.ws.root)?);
    }
    // A stopped run whose worktree is gone (removed by `gc --include-resumable`, or by hand)
    // gets it made again on its branch when it is re-opened.
    let worktree_gone = !st.outcome.is_in_progress()
        && st
            .worktree_path
            .as_deref()
            .is_some_and(|w| !Path::new(w).exists());
    let base_tree = if cfg.branching && (st.worktree_path.is_none() || worktree_gone) {
        git::tree_of(&session.ws.root, &st.swarm.base_commit).ok()
    } else {
        None
    };
    let deny = session
        .policies()
        .map(|p| p.file_access.deny.clone())
        .unwrap_or_default();
    let standards_text = crate::config::standards::text(&session.swarm.standards_path());
    let mut worktree_slot = None;
    if cfg.branching && (st.worktree_path.is_none() || worktree_gone) {
        let planned = arrivals
            .iter()
            .filter_map(|a| a.plan.as_ref())
            .filter_map(|p| p.as_ref().ok())
            .filter_map(|p| p.value.get("friendly-name").and_then(Value::as_str))
            .map(str::to_string)
            .next();
        let name = planned
            .or_else(|| st.swarm.plan.as_ref().map(|p| p.friendly_name.clone()))
            .filter(|n| plan::check_branch_component(n).is_ok())
            .unwrap_or_else(|| fallback_name(st));
        worktree_slot = Some(probe_slot(session, run, st, &name)?);
    }
    Ok(Facts {
        standards,
        worktree_slot,
        content,
        base_tree,
        deny,
        standards_text,
        base_unpushed: None,
        merge_prediction: super::predict::batch(session, st),
        conflict_markers: super::predict::markers(st),
    })
}

/// A branch name for runs without a plan: words of the task, else the run id.
fn fallback_name(st: &RunStatus) -> String {
    let mut s = String::new();
    for c in st.swarm.task.text.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
        if s.len() >= 40 {
            break;
        }
    }
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        format!("run-{}", crate::cli::report::abbrev(&st.run_id, 8))
    } else {
        s
    }
}

/// A branch and directory for the run's worktree: this run's own (from an interrupted earlier
/// attempt), else the first free `swarm/<name>`, `swarm/<name>-2`, … — never one that exists.
/// A place outside the allowed roots ([`place::confine`]) is an error: nothing changes until
/// the template is fixed.
fn probe_slot(
    session: &Session,
    run: &RunDir,
    st: &RunStatus,
    name: &str,
) -> Result<Result<Slot, String>> {
    let repo = match session.repo() {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.message)),
    };
    let cfg_template = session
        .run_config(st)
        .ok()
        .and_then(|c| c.worktree_path_template.clone());
    let policies = match session.policies() {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.message)),
    };
    if let Ok(intent) = crate::files::read_json(&run.worktree_intent_path()) {
        let branch = intent
            .get("branch")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let path = intent
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let p = Path::new(&path);
        // The run folder is written by agents too: a recorded place is judged like a new one.
        place::confine(&session.ws.root, p, place::Source::Recorded)?;
        // Recorded before git began: this run's place, whatever state an interruption left
        // it in (creating the worktree finishes or undoes a half-made one).
        let adopt = p.exists();
        return Ok(Ok(Slot {
            branch,
            path,
            adopt,
        }));
    }
    for n in 1..=99 {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            format!("{name}-{n}")
        };
        let branch = format!("{}{candidate}", policies.git.branching.branch_prefix);
        let (path, source) = place::worktree_path(
            &session.ws.root,
            cfg_template.as_deref(),
            policies.git.branching.worktree_name_template.as_deref(),
            &candidate,
            &run.id,
        );
        place::confine(&session.ws.root, &path, source)?;
        if !git::branch_exists(&repo, &branch) && !path.exists() {
            return Ok(Ok(Slot {
                branch,
                path: path.display().to_string(),
                adopt: false,
            }));
        }
    }
    Ok(Err(format!(
        "branches {}{name} to {}{name}-99 or their directories all exist already",
        policies.git.branching.branch_prefix, policies.git.branching.branch_prefix
    )))
}

/// File paths of a plan that lead out of the repository through a symlink in the work tree.
pub fn symlink_escapes(root: &Path, plan: &Value) -> Vec<String> {
    let Ok(root_real) = std::fs::canonicalize(root) else {
        return Vec::new();
    };
    let mut paths: Vec<String> = Vec::new();
    for lane in plan
        .get("lanes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for t in lane
            .get("tasks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            paths.extend(
                t.get("files")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string),
            );
        }
        paths.extend(
            lane.get("touch-map")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string),
        );
    }
    let mut out = Vec::new();
    for p in paths {
        // Judged in its normal form, as the run keeps it.
        let Ok(normal) = crate::machine::repo_path::normalize(&p) else {
            continue; // reported by the structure checks
        };
        let mut cur = root.to_path_buf();
        for comp in Path::new(&normal).components() {
            cur.push(comp);
            let Ok(meta) = std::fs::symlink_metadata(&cur) else {
                break;
            };
            if meta.file_type().is_symlink() {
                let leaves = match std::fs::canonicalize(&cur) {
                    Ok(real) => !real.starts_with(&root_real),
                    Err(_) => std::fs::read_link(&cur)
                        .map(|t| t.is_absolute())
                        .unwrap_or(true),
                };
                if leaves {
                    let rel = cur.strip_prefix(root).unwrap_or(&cur).display().to_string();
                    out.push(format!(
                        "\"{p}\" goes through the symlink {rel}, which leads outside the repository"
                    ));
                    break;
                }
            }
        }
    }
    out
}
