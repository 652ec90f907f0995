use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::{Error, IoContext, Result};
use crate::files::atomic;
use crate::schema::embedded;

/// See a whole run in seconds, with simulated agents: a throwaway repository and origin, a plan
/// with two parallel tasks, a review rejection and its fix, passing tests, and publishing.
///
/// Needs no config, no agents and no network, and touches neither ~/.cursor nor your
/// repositories: everything lives in a new temporary directory (or --dir), which is kept so you
/// can look around.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Where to build the demo (an empty or new directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Plays a simulated agent (used by the demo's exec templates).
#[derive(Debug, Args)]
pub(crate) struct DemoAgentArgs {
    /// planner, implementor, reviewer or tester.
    pub agent: String,
}

pub(crate) fn agent(_ctx: &Context, args: DemoAgentArgs) -> Result<Output> {
    crate::agents::sim::play(&args.agent)?;
    Ok(Output::new(json!({"ok": true}), String::new()))
}

fn write(p: &Path, text: &str) -> Result<()> {
    atomic::create_dir_all(p.parent().expect("has parent"))?;
    atomic::write(p, text.as_bytes())
}

pub(crate) fn run(ctx: &Context, args: DemoArgs) -> Result<Output> {
    let started = std::time::Instant::now();
    let dir = match &args.dir {
        Some(d) => {
            let d = if d.is_absolute() {
                d.clone()
            } else {
                ctx.cwd.join(d)
            };
            if d.exists() && std::fs::read_dir(&d).ctx("read", &d)?.next().is_some() {
                return Err(Error::usage(format!("{} is not empty", d.display()))
                    .hint("give --dir a new or empty directory"));
            }
            d
        }
        None => std::env::temp_dir().join(format!(
            "git-swarm-demo-{}",
            &uuid::Uuid::new_v4().to_string()[..8]
        )),
    };
    atomic::create_dir_all(&dir)?;
    let dir = dir.canonicalize().ctx("resolve", &dir)?;
    let app = dir.join("app");
    let origin = dir.join("origin.git");
    let agents = dir.join("agents");

    // A repository with a bare origin, configured locally so nothing of the user's is used
    // for writing (identity, hooks directory).
    atomic::create_dir_all(&app)?;
    crate::git::scratch::init(&app, &origin)?;
    write(
        &app.join("README.md"),
        "# Demo app\n\nA throwaway repository made by `git swarm demo`.\n",
    )?;
    write(
        &app.join(".swarm/standards.md"),
        "# Standards\n\n- Shell scripts are POSIX sh and print a usage message when called without arguments.\n- Every script is documented in docs/.\n- Keep changes small and commit them with a clear message.\n",
    )?;
    crate::git::scratch::publish_first_commit(&app, &origin, "Demo app")?;

    // The default pack, with exec templates that run this binary as the simulated agents.
    let exe = std::env::current_exe()
        .map_err(|e| Error::failure(format!("cannot find the git-swarm binary: {e}")))?;
    let mut cfg: serde_json::Value =
        serde_json::from_str(include_str!("../../pack/config.json")).expect("pack config is JSON");
    for (file, text) in [
        ("plan.schema.json", embedded::PLAN),
        ("planner.result.schema.json", embedded::PLANNER_RESULT),
        ("implementor.schema.json", embedded::IMPLEMENTOR_RESULT),
        ("reviewer.schema.json", embedded::REVIEWER_RESULT),
        ("tester.schema.json", embedded::TESTER_RESULT),
    ] {
        write(&agents.join(file), text)?;
    }
    for a in cfg["subagents"].as_array_mut().expect("array") {
        let name = a["name"].as_str().unwrap_or_default().to_string();
        let schema = if name == "planner" {
            "planner.result.schema.json".to_string()
        } else {
            format!("{name}.schema.json")
        };
        a["schemaPath"] = json!(agents.join(schema).display().to_string());
        a.as_object_mut().expect("object").remove("planPath");
    }
    cfg["behavior"]["planning"]["planSchemaPath"] =
        json!(agents.join("plan.schema.json").display().to_string());
    cfg["exec"] = json!([exe.display().to_string(), "demo-agent", "{agent}"]);
    let cfg_path = agents.join("config.json");
    atomic::write_json(&cfg_path, &cfg)?;

    eprintln!("git swarm demo in {}", dir.display());
    let demo_ctx = Context {
        cwd: app.clone(),
        config: Some(cfg_path.clone()),
        json: ctx.json,
    };
    let init = crate::commands::init::run(
        &demo_ctx,
        crate::commands::init::InitArgs {
            pack: false,
            exec: None,
            man: false,
            host: Vec::new(),
        },
    )?;
    let _ = init;
    let start = crate::commands::start::StartArgs {
        task: Some("Add a greeting script with its documentation".to_string()),
        task_file: None,
    };
    let (session, run, _) = crate::commands::start::start_run(&demo_ctx, &start)?;
    let opts = crate::driver::runner::Options {
        progress: !ctx.json,
        ..crate::driver::runner::Options::for_terminal(true)
    };
    let st = crate::driver::runner::run(&session, &run, &opts)?;

    let mut out = crate::cli::report::action(&st);
    let status = crate::commands::status::run(
        &demo_ctx,
        crate::commands::status::StatusArgs {
            run: Some(run.id.clone()),
        },
    )?;
    let pushed = crate::git::scratch::branches(&origin, "swarm/*").join("\n");
    let mut t = String::new();
    // The status without its closing "Next:" line.
    let lines: Vec<&str> = status.text.trim_end().lines().collect();
    t.push_str(&lines[..lines.len().saturating_sub(1)].join("\n"));
    t.push_str(&format!(
        "\nThe demo took {:.1} s. Where to look:\n  repository:    {}\n  run folder:    {}\n  manager view:  {}\n  pushed branch: {} in {}\n  config used:   {}\nRemove it all with: rm -rf {}\n",
        started.elapsed().as_secs_f64(),
        app.display(),
        run.path.display(),
        run.manager_plan_path().display(),
        pushed.trim().trim_start_matches("* "),
        origin.display(),
        cfg_path.display(),
        dir.display()
    ));
    out.text = t;
    out.json["demoDir"] = json!(dir);
    out.json["runDir"] = json!(run.path);
    Ok(out)
}
