//! The workflow config (`~/.cursor/agents/manager/config.json`, the seed's format) and the
//! repository policy (`.swarm/policies.json`).
//!
//! Loading validates the file against the shipped `schemas/config.schema.json`, then checks
//! what a schema cannot (one first step, every agent named in `handoff-to` exists, …). Every
//! error names the file, the JSON pointer and the fix.

mod escalation;
pub(crate) mod exec;
pub(crate) mod paths;
pub(crate) mod policies;
pub(crate) mod standards;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::schema;
pub use escalation::Escalation;
pub(crate) use exec::{Exec, Profile, ProfileKind};
pub use paths::{Resolution, ResolvedPath};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    UserTask,
    Handoff,
}

#[derive(Debug, Clone)]
pub struct Subagent {
    pub name: String,
    pub description: String,
    pub invoke: String,
    pub input_type: InputType,
    pub first_step: bool,
    pub plan_path: Option<ResolvedPath>,
    pub schema_path: ResolvedPath,
    /// May this agent change files? (`edits`, else: its result schema has `filesChanged`.)
    pub edits: bool,
    pub exec: Option<Exec>,
    pub timeout_seconds: Option<f64>,
    pub env: IndexMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct LoopControl {
    pub from: String,
    pub to: String,
    pub max_loops: u32,
    pub escalation: Escalation,
    pub count_field: String,
}

#[derive(Debug, Clone)]
pub struct Planning {
    pub enabled: bool,
    pub result_field: String,
    pub schema_path: Option<ResolvedPath>,
    pub replan_count_field: String,
}

#[derive(Debug, Clone, Default)]
pub struct ParallelRule {
    pub max_concurrent: u32,
    pub require_disjoint_files: bool,
    pub respect_dependencies: bool,
}

#[derive(Debug, Clone)]
pub struct Workflow {
    pub path: PathBuf,
    pub subagents: Vec<Subagent>,
    pub handoff_to: IndexMap<String, Vec<String>>,
    pub handoff_notes: IndexMap<String, String>,
    pub loop_control: Vec<LoopControl>,
    pub max_replans: u32,
    pub replan_escalation: Escalation,
    pub max_retries: u32,
    pub retry_escalation: Escalation,
    pub parallel_enabled: bool,
    pub parallel_rules: Vec<ParallelRule>,
    pub planning: Planning,
    pub branching: bool,
    pub worktree_path_template: Option<String>,
    pub escalation_actions: IndexMap<String, String>,
    pub exec: Option<Exec>,
}

impl Workflow {
    pub(crate) fn agent(&self, name: &str) -> Option<&Subagent> {
        self.subagents.iter().find(|a| a.name == name)
    }

    pub(crate) fn first_step(&self) -> &Subagent {
        self.subagents
            .iter()
            .find(|a| a.first_step)
            .expect("validated: exactly one first step")
    }

    pub fn next_options(&self, agent: &str) -> &[String] {
        self.handoff_to.get(agent).map(Vec::as_slice).unwrap_or(&[])
    }

    pub(crate) fn loop_for(&self, from: &str, to: &str) -> Option<&LoopControl> {
        self.loop_control
            .iter()
            .find(|l| l.from == from && l.to == to)
    }

    /// Position of an agent in `subagents` (pipeline order), for forward/back routing.
    pub(crate) fn order(&self, agent: &str) -> Option<usize> {
        self.subagents.iter().position(|a| a.name == agent)
    }

    /// Is this agent the first step with planning enabled (its result points at a plan)?
    pub(crate) fn plans(&self, agent: &str) -> bool {
        self.planning.enabled && self.agent(agent).is_some_and(|a| a.first_step)
    }
}

/// Validates a workflow config already read (from `path`, for messages).
pub fn from_value(path: &Path, value: &Value, workspace: &Path, home: &Path) -> Result<Workflow> {
    let validator = schema::builtin(schema::embedded::CONFIG, "config.schema.json");
    check_schema(path, &validator, value)?;
    build(path, value, workspace, home)
}

/// Loads and validates the workflow config at `path`.
pub(crate) fn load(path: &Path, workspace: &Path, home: &Path) -> Result<Workflow> {
    if !path.is_file() {
        return Err(Error::failure(format!(
            "no workflow config at {}",
            path.display()
        ))
        .hint("run 'git swarm init --pack' to install the default agent pack there, or point --config, GIT_SWARM_CONFIG or 'git config swarm.config' at your config"));
    }
    let value = crate::files::read_json(path)?;
    from_value(path, &value, workspace, home)
}

fn check_schema(path: &Path, validator: &jsonschema::Validator, value: &Value) -> Result<()> {
    let violations = schema::violations(validator, value);
    if let Some(first) = violations.first() {
        let mut e = Error::failure(format!(
            "workflow config {}: {} ({} problem{})",
            path.display(),
            first,
            violations.len(),
            if violations.len() == 1 { "" } else { "s" }
        ));
        for v in violations.iter().skip(1) {
            e = e.cause(v);
        }
        return Err(e.hint(format!(
            "fix the value at {} in {} (the format is described in README, 'Config reference')",
            crate::files::json::show_pointer(&first.pointer),
            path.display()
        )));
    }
    Ok(())
}

fn bad(path: &Path, pointer: &str, what: impl std::fmt::Display, fix: impl Into<String>) -> Error {
    Error::failure(format!(
        "workflow config {}: {}: {what}",
        path.display(),
        crate::files::json::show_pointer(pointer)
    ))
    .hint(fix)
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn escalation_at(v: Option<&Value>, default: Escalation) -> Escalation {
    v.and_then(|v| v.get("escalation-action"))
        .and_then(Value::as_str)
        .and_then(Escalation::parse)
        .unwrap_or(default)
}

fn build(path: &Path, v: &Value, workspace: &Path, home: &Path) -> Result<Workflow> {
    let mut subagents: Vec<Subagent> = Vec::new();
    for (i, a) in v["subagents"]
        .as_array()
        .expect("schema: array")
        .iter()
        .enumerate()
    {
        let name = str_at(a, "name").expect("schema: name").to_string();
        if subagents.iter().any(|s| s.name == name) {
            return Err(bad(
                path,
                &format!("/subagents/{i}/name"),
                format!("agent '{name}' is defined twice"),
                "give every subagent a unique name",
            ));
        }
        let schema_path = paths::resolve(str_at(a, "schemaPath").expect("schema"), workspace, home);
        if !schema_path.path.is_file() {
            return Err(bad(
                path,
                &format!("/subagents/{i}/schemaPath"),
                format!(
                    "the result schema of '{name}' does not exist at {} (resolved {})",
                    schema_path.path.display(),
                    schema_path.how.describe()
                ),
                "install the agent pack ('git swarm init --pack') or fix the path",
            ));
        }
        let edits = match a.get("edits").and_then(Value::as_bool) {
            Some(e) => e,
            None => schema_declares(&schema_path.path, "filesChanged"),
        };
        subagents.push(Subagent {
            description: str_at(a, "description").unwrap_or_default().to_string(),
            invoke: str_at(a, "invoke").unwrap_or_default().to_string(),
            input_type: if str_at(a, "inputType") == Some("user-task") {
                InputType::UserTask
            } else {
                InputType::Handoff
            },
            first_step: a
                .get("first-step")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            plan_path: str_at(a, "planPath").map(|p| paths::resolve(p, workspace, home)),
            schema_path,
            edits,
            exec: a.get("exec").and_then(Exec::from_value),
            timeout_seconds: a.get("timeoutSeconds").and_then(Value::as_f64),
            env: a
                .get("env")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            name,
        });
    }
    let firsts: Vec<usize> = (0..subagents.len())
        .filter(|i| subagents[*i].first_step)
        .collect();
    match firsts.len() {
        1 => {}
        0 => {
            return Err(bad(
                path,
                "/subagents",
                "no agent has \"first-step\": true",
                "mark exactly one subagent (usually the planner) with \"first-step\": true",
            ));
        }
        _ => {
            let names: Vec<_> = firsts.iter().map(|i| subagents[*i].name.as_str()).collect();
            return Err(bad(
                path,
                &format!("/subagents/{}/first-step", firsts[1]),
                format!(
                    "{} agents are marked first-step ({})",
                    firsts.len(),
                    names.join(", ")
                ),
                "keep \"first-step\": true on exactly one subagent",
            ));
        }
    }

    let known = |n: &str| subagents.iter().any(|s| s.name == n);
    let mut handoff_to = IndexMap::new();
    for (from, targets) in v["handoff-to"].as_object().expect("schema: object") {
        if !known(from) {
            return Err(bad(
                path,
                &format!("/handoff-to/{}", escape(from)),
                format!("'{from}' is not one of the subagents"),
                format!("add '{from}' to subagents or remove it from handoff-to"),
            ));
        }
        let mut list = Vec::new();
        for (j, t) in targets
            .as_array()
            .expect("schema: array")
            .iter()
            .enumerate()
        {
            let t = t.as_str().expect("schema: string");
            if !known(t) {
                return Err(bad(
                    path,
                    &format!("/handoff-to/{}/{j}", escape(from)),
                    format!("'{from}' hands off to '{t}', which is not one of the subagents"),
                    format!("add a subagent named '{t}' or remove it from handoff-to.{from}"),
                ));
            }
            list.push(t.to_string());
        }
        handoff_to.insert(from.clone(), list);
    }
    for a in &subagents {
        if !handoff_to.contains_key(&a.name) {
            return Err(bad(
                path,
                "/handoff-to",
                format!("agent '{}' has no entry", a.name),
                format!(
                    "add \"{}\": [...] listing where it hands off to ([] if it is the last step)",
                    a.name
                ),
            ));
        }
    }

    let mut loop_control = Vec::new();
    let lc = &v["loop-control"];
    let lcs: Vec<(String, &Value)> = match lc {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("/loop-control/{i}"), x))
            .collect(),
        Value::Object(_) => vec![("/loop-control".to_string(), lc)],
        _ => vec![],
    };
    for (ptr, l) in lcs {
        let from = str_at(l, "fromAgent").expect("schema").to_string();
        let to = str_at(l, "toAgent").expect("schema").to_string();
        for (key, name) in [("fromAgent", &from), ("toAgent", &to)] {
            if !known(name) {
                return Err(bad(
                    path,
                    &format!("{ptr}/{key}"),
                    format!("'{name}' is not one of the subagents"),
                    "name an agent defined in subagents",
                ));
            }
        }
        if !handoff_to.get(&from).is_some_and(|t| t.contains(&to)) {
            return Err(bad(
                path,
                &ptr,
                format!("'{from}' never hands off to '{to}', so this loop limit can never apply"),
                format!("add '{to}' to handoff-to.{from}, or fix fromAgent/toAgent"),
            ));
        }
        loop_control.push(LoopControl {
            from,
            to,
            max_loops: l["maxLoops"].as_u64().expect("schema") as u32,
            escalation: escalation_at(Some(l), Escalation::NeedsHuman),
            count_field: str_at(l, "countField").expect("schema").to_string(),
        });
    }

    check_graph(path, &subagents, &handoff_to, &loop_control)?;

    let pv = v.get("plan-validation").filter(|x| x.is_object());
    let rc = v.get("retry-control").filter(|x| x.is_object());
    let par = v.get("parallelization").filter(|x| x.is_object());
    let behavior = v.get("behavior").filter(|x| x.is_object());
    let planning_v = behavior
        .and_then(|b| b.get("planning"))
        .filter(|x| x.is_object());
    let branching_v = behavior
        .and_then(|b| b.get("branching"))
        .filter(|x| x.is_object());

    let planning_enabled = planning_v
        .and_then(|p| p.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let plan_schema = planning_v
        .and_then(|p| str_at(p, "planSchemaPath"))
        .map(|p| paths::resolve(p, workspace, home));
    if planning_enabled {
        match &plan_schema {
            Some(ps) if !ps.path.is_file() => {
                return Err(bad(
                    path,
                    "/behavior/planning/planSchemaPath",
                    format!("the plan schema does not exist at {}", ps.path.display()),
                    "install the agent pack ('git swarm init --pack') or fix the path",
                ));
            }
            _ => {}
        }
    }
    let planning = Planning {
        enabled: planning_enabled,
        result_field: planning_v
            .and_then(|p| str_at(p, "planResultField"))
            .unwrap_or("plan-path")
            .to_string(),
        schema_path: plan_schema,
        replan_count_field: planning_v
            .and_then(|p| str_at(p, "replanCountField"))
            .unwrap_or("plan-replan-count")
            .to_string(),
    };

    let parallel_rules = par
        .and_then(|p| p.get("rules"))
        .and_then(Value::as_array)
        .map(|rules| {
            rules
                .iter()
                .map(|r| ParallelRule {
                    max_concurrent: r.get("maxConcurrent").and_then(Value::as_u64).unwrap_or(2)
                        as u32,
                    require_disjoint_files: r
                        .get("requireDisjointFiles")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    respect_dependencies: r
                        .get("respectDependencies")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                })
                .collect()
        })
        .unwrap_or_default();

    Ok(Workflow {
        path: path.to_path_buf(),
        handoff_notes: v
            .get("handoff-notes")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        subagents,
        handoff_to,
        loop_control,
        max_replans: pv
            .and_then(|p| p.get("maxReplans"))
            .and_then(Value::as_u64)
            .unwrap_or(1) as u32,
        replan_escalation: escalation_at(pv, Escalation::NeedsHuman),
        max_retries: rc
            .and_then(|p| p.get("maxRetries"))
            .and_then(Value::as_u64)
            .unwrap_or(2) as u32,
        retry_escalation: escalation_at(rc, Escalation::NeedsHuman),
        parallel_enabled: par
            .and_then(|p| p.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        parallel_rules,
        planning,
        branching: branching_v
            .and_then(|b| b.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        worktree_path_template: branching_v
            .and_then(|b| str_at(b, "worktreePathTemplate"))
            .map(str::to_string),
        escalation_actions: v
            .get("escalation-actions")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        exec: v.get("exec").and_then(Exec::from_value),
    })
}

/// The workflow must end and must not loop without a limit: a last step (no hand-offs) is
/// reachable from the first step, and every cycle of `handoff-to` has an edge that
/// `loop-control` limits.
fn check_graph(
    path: &Path,
    subagents: &[Subagent],
    handoff_to: &IndexMap<String, Vec<String>>,
    loops: &[LoopControl],
) -> Result<()> {
    let first = subagents
        .iter()
        .find(|a| a.first_step)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let mut seen = vec![first.clone()];
    let mut i = 0;
    while i < seen.len() {
        for n in handoff_to.get(&seen[i]).into_iter().flatten() {
            if !seen.contains(n) {
                seen.push(n.clone());
            }
        }
        i += 1;
    }
    if !seen
        .iter()
        .any(|a| handoff_to.get(a).is_some_and(|t| t.is_empty()))
    {
        return Err(bad(
            path,
            "/handoff-to",
            format!(
                "no last step can be reached from '{first}' (a last step has \"[]\"), so a run would never end"
            ),
            "give the last agent an empty list, e.g. \"tester\": []",
        ));
    }
    // A cycle in the graph without the limited edges loops forever.
    let limited = |a: &str, b: &str| loops.iter().any(|l| l.from == a && l.to == b);
    fn dfs<'a>(
        n: &'a str,
        g: &'a IndexMap<String, Vec<String>>,
        limited: &dyn Fn(&str, &str) -> bool,
        state: &mut IndexMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(n, 1);
        stack.push(n);
        for m in g.get(n).into_iter().flatten() {
            if limited(n, m) {
                continue;
            }
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|x| *x == m).unwrap_or(0);
                    let mut c: Vec<String> = stack[start..].iter().map(|s| s.to_string()).collect();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = dfs(m, g, limited, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n, 2);
        None
    }
    let mut state = IndexMap::new();
    for a in handoff_to.keys() {
        if state.get(a.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = dfs(a, handoff_to, &limited, &mut state, &mut stack) {
                return Err(bad(
                    path,
                    "/handoff-to",
                    format!(
                        "the hand-offs {} form a cycle that no loop-control limits",
                        c.join(" → ")
                    ),
                    format!(
                        "add a loop-control entry for one of its edges (e.g. fromAgent \"{}\", toAgent \"{}\"), or remove the cycle",
                        c[c.len() - 2],
                        c[c.len() - 1]
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Does the (top-level) schema at `path` declare `property`? Unreadable schemas say no; they
/// are reported properly when a result is validated.
fn schema_declares(path: &Path, property: &str) -> bool {
    crate::files::read_json(path)
        .ok()
        .and_then(|s| {
            s.get("properties")
                .and_then(|p| p.get(property))
                .map(|_| ())
        })
        .is_some()
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
