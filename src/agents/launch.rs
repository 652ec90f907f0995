//! How one invocation is launched: its profile or argv template, with the role, commands,
//! definition and paths it gets; and the sample launch `git swarm doctor` shows.

use std::path::PathBuf;
use std::time::Duration;

use crate::agents::exec;
use crate::agents::profile::{Launch, Role, Scope};
use crate::config::{Exec, Subagent, Workflow, policies::Policies};
use crate::error::{Error, Result};
use crate::machine::{
    self,
    state::{Invocation, RunStatus},
};
use crate::store::RunDir;
use crate::store::Session;

pub(crate) fn timeout_of(cfg: &Workflow, agent: &str) -> Option<Duration> {
    cfg.agent(agent)
        .and_then(|a| a.timeout_seconds)
        .or_else(|| {
            std::env::var("GIT_SWARM_AGENT_TIMEOUT")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .map(Duration::from_secs_f64)
}

/// The role an agent plays for its profile.
fn role_of(cfg: &Workflow, agent: &Subagent) -> Role {
    if cfg.plans(&agent.name) {
        Role::Planner
    } else if agent.edits {
        Role::Editor
    } else {
        Role::Reader
    }
}

/// The agent definition a profile gives the CLI: the file the config names (`planPath`), else
/// the default pack's definition of a role of that name.
fn definition_of(agent: &Subagent) -> Option<String> {
    agent
        .plan_path
        .as_ref()
        .filter(|p| p.path.is_file())
        .and_then(|p| crate::files::read_limited(&p.path).ok())
        .map(|b| crate::agents::profile::definition_body(&String::from_utf8_lossy(&b)))
        .filter(|d| !d.is_empty())
        .or_else(|| crate::agents::pack::definition(&agent.name))
}

/// How one invocation is launched: its exec template or profile, with the paths it needs.
pub(crate) fn launch_for(
    session: &Session,
    cfg: &Workflow,
    policies: &Policies,
    run: &RunDir,
    st: &RunStatus,
    inv: &Invocation,
) -> Result<Launch> {
    let exec = exec::exec_of(cfg, &inv.agent)?;
    let agent = cfg.agent(&inv.agent).expect("exec_of checked");
    let paths = exec::Paths {
        run_id: st.run_id.clone(),
        run_dir: run.path.clone(),
        workspace: session.ws.root.clone(),
        schema: agent.schema_path.path.clone(),
        standards: session.swarm.standards_path(),
        context_pack: inv
            .handoff
            .is_some()
            .then(|| run.context_pack_path(&inv.agent, inv.worker.as_deref())),
    };
    let mut l = match exec {
        Exec::Template(t) => exec::template_launch(&t, inv, &paths),
        Exec::Profile(p) => {
            let role = role_of(cfg, agent);
            let tests = st
                .swarm
                .plan
                .as_ref()
                .map(|p| p.test_commands.clone())
                .unwrap_or_default();
            let scope = Scope {
                role,
                prompt: inv.prompt.clone(),
                cwd: PathBuf::from(&inv.cwd),
                run_dir: run.path.clone(),
                result: PathBuf::from(&inv.result),
                plan_file: (role == Role::Planner).then(|| run.path.join("plan.json")),
                result_schema: paths.schema.clone(),
                plan_schema: (role == Role::Planner)
                    .then(|| cfg.planning.schema_path.as_ref().map(|p| p.path.clone()))
                    .flatten(),
                standards: paths.standards.clone(),
                definition: definition_of(agent),
                commands: crate::agents::profile::commands(
                    role,
                    &tests,
                    &policies.agents.allowed_commands,
                    policies.agents.allow_all_commands,
                ),
                scratch: run
                    .path
                    .join("logs")
                    .join(format!("step-{:04}.{}", inv.step, inv.stem())),
                identity: crate::git::identity(&session.ws.root),
            };
            crate::agents::profile::build(&p, &scope)
        }
    };
    // The agent's own `env` comes last: it wins over the profile's.
    l.env
        .extend(agent.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(l)
}

/// What an agent's launch looks like, for `git swarm doctor`: the invocation of a run that has
/// not started, with placeholders for its paths (`<run>`, `<worktree>`).
pub(crate) fn sample_launch(
    session: &Session,
    cfg: &Workflow,
    policies: &Policies,
    agent: &str,
) -> Result<Launch> {
    let a = cfg
        .agent(agent)
        .ok_or_else(|| Error::failure(format!("agent '{agent}' is not in the workflow config")))?;
    let run = RunDir {
        id: "<run-id>".into(),
        path: session.swarm.runs.join("<run-id>"),
    };
    let handoff = a.input_type == crate::config::InputType::Handoff;
    let inv = Invocation {
        agent: agent.to_string(),
        worker: None,
        step: 1,
        iteration: 1,
        from: None,
        handoff_id: None,
        handoff: handoff.then(|| run.handoff_path().display().to_string()),
        result: run.result_path(agent).display().to_string(),
        cwd: if handoff {
            "<worktree>".into()
        } else {
            session.ws.root.display().to_string()
        },
        prompt: "<prompt>".into(),
        issued_at: String::new(),
        tasks: vec![],
        allowed_files: vec![],
        base_tree: None,
        attempt: 0,
        usage_reported: false,
        merge_fix: false,
        process: None,
    };
    let st = machine::sample_status(&run.id, &session.ws.root, &cfg.path);
    launch_for(session, cfg, policies, &run, &st, &inv)
}
