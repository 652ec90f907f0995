use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::machine::plan;
use crate::schema;

/// Validate a JSON file the way `git swarm next` would.
///
/// With --agent, against that agent's result schema from the workflow config; with --plan,
/// against the plan schema plus the plan's structure checks; with --schema, against any
/// schema file. Exit 0 when valid, 1 with every violation (JSON pointer and message) when not.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The JSON file to check.
    pub file: PathBuf,
    /// Validate as this agent's result.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["schema", "plan"])]
    pub agent: Option<String>,
    /// Validate against this JSON Schema file.
    #[arg(long, value_name = "PATH", conflicts_with = "plan")]
    pub schema: Option<PathBuf>,
    /// Validate as a plan (schema and structure).
    #[arg(long)]
    pub plan: bool,
}

pub(crate) fn run(ctx: &Context, args: ValidateArgs) -> Result<Output> {
    let file = if args.file.is_absolute() {
        args.file.clone()
    } else {
        ctx.cwd.join(&args.file)
    };
    let abs = |p: &PathBuf| {
        if p.is_absolute() {
            p.clone()
        } else {
            ctx.cwd.join(p)
        }
    };
    let load_cfg = || -> Result<crate::config::Workflow> {
        let session = ctx.session()?;
        let loc = session.config_location()?;
        crate::config::load(&loc.path, &session.ws.root, &session.home()?)
    };
    let (schema_path, structure) = match (&args.agent, &args.schema, args.plan) {
        (Some(a), None, false) => {
            let cfg = load_cfg()?;
            let agent = cfg.agent(a).ok_or_else(|| {
                let names: Vec<_> = cfg.subagents.iter().map(|s| s.name.as_str()).collect();
                Error::failure(format!(
                    "agent '{a}' is not in the workflow config {}",
                    cfg.path.display()
                ))
                .hint(format!("use one of: {}", names.join(", ")))
            })?;
            (Some(agent.schema_path.path.clone()), false)
        }
        (None, Some(s), false) => (Some(abs(s)), false),
        (None, None, true) => {
            let cfg = load_cfg()?;
            (cfg.planning.schema_path.map(|s| s.path), true)
        }
        _ => {
            return Err(Error::usage(
                "say what to validate against: --agent <name>, --schema <path> or --plan",
            ));
        }
    };
    let value = crate::files::read_json(&file)?;
    let mut problems: Vec<serde_json::Value> = Vec::new();
    if let Some(sp) = &schema_path {
        let (validator, doc) = schema::load_with_source(sp)?;
        // An agent's result is checked exactly as 'next' checks it (its `tokens` field too).
        let found = if args.agent.is_some() {
            crate::driver::check_result(&validator, &doc, &value).0
        } else {
            schema::violations(&validator, &value)
        };
        for v in found {
            problems.push(json!({"pointer": v.pointer, "message": v.message}));
        }
    }
    if structure && problems.is_empty() {
        let (found, _) = plan::check(&value, &file.display().to_string());
        for p in found {
            problems.push(json!({"pointer": "", "message": p}));
        }
        if let Ok(session) = ctx.session() {
            for p in crate::driver::symlink_escapes(&session.ws.root, &value) {
                problems.push(json!({"pointer": "", "message": p}));
            }
        }
    }
    let schema_s = schema_path.map(|p| p.display().to_string());
    if problems.is_empty() {
        return Ok(Output::new(
            json!({"valid": true, "file": file, "schema": schema_s}),
            format!(
                "{} is valid{}\n",
                file.display(),
                schema_s
                    .as_ref()
                    .map(|s| format!(" against {s}"))
                    .unwrap_or_default()
            ),
        ));
    }
    let mut text = format!(
        "{} is not valid ({} problem{}):\n",
        file.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in &problems {
        let ptr = p["pointer"].as_str().unwrap_or_default();
        text.push_str(&format!(
            "  {}: {}\n",
            crate::files::json::show_pointer(ptr),
            p["message"].as_str().unwrap_or_default()
        ));
    }
    let hint = "fix each value at the JSON pointer shown, then validate again";
    Ok(Output {
        json: json!({"error": {"message": text.trim_end(), "hint": hint, "violations": problems, "file": file, "schema": schema_s}}),
        text: format!("{text}hint: {hint}\n"),
        code: 1,
    })
}
