//! The command line: argument parsing, dispatch, printing, exit codes. Clap types stop here;
//! one file per command: a doc-commented `XxxArgs` (its doc is the help text) and
//! `run(ctx, args)`.

pub(crate) mod abort;
pub(crate) mod approve;
pub(crate) mod ci;
pub(crate) mod completions;
pub(crate) mod demo;
pub(crate) mod doctor;
pub(crate) mod follow;
pub(crate) mod forge;
pub(crate) mod gc;
pub(crate) mod hook;
pub(crate) mod init;
pub(crate) mod list;
pub(crate) mod next;
pub(crate) mod publish;
pub(crate) mod push;
pub(crate) mod resume;
pub(crate) mod retry;
pub(crate) mod run;
pub(crate) mod start;
pub(crate) mod status;
pub(crate) mod trust;
pub(crate) mod validate;
pub(crate) mod work;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::cli::report::Output;
use crate::error::{Error, ErrorKind};

/// Deterministic, crash-safe bookkeeping for AI agent runs: planner → implementor → reviewer
/// → tester, one step per call, resumable after any crash.
#[derive(Debug, Parser)]
#[command(
    name = "git-swarm",
    bin_name = "git swarm",
    version,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print one JSON object on stdout (errors as {"error": {"message", "hint"}}).
    #[arg(long, global = true)]
    pub json: bool,
    /// Use this workflow config instead of ~/.cursor/agents/manager/config.json.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Run as if started in PATH.
    #[arg(short = 'C', global = true, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t)]
    pub color: crate::cli::style::When,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    Init(init::InitArgs),
    Start(start::StartArgs),
    Next(next::NextArgs),
    Publish(publish::PublishArgs),
    Approve(approve::ApproveArgs),
    Follow(follow::FollowArgs),
    Run(run::RunArgs),
    Push(push::PushArgs),
    Resume(resume::ResumeArgs),
    Work(work::WorkArgs),
    Demo(demo::DemoArgs),
    #[command(hide = true)]
    DemoAgent(demo::DemoAgentArgs),
    Status(status::StatusArgs),
    List(list::ListArgs),
    Retry(retry::RetryArgs),
    Abort(abort::AbortArgs),
    Validate(validate::ValidateArgs),
    Doctor(doctor::DoctorArgs),
    Forge(forge::ForgeArgs),
    Gc(gc::GcArgs),
    Trust(trust::TrustArgs),
    Ci(ci::CiArgs),
    Hook(hook::HookArgs),
    Completions(completions::CompletionsArgs),
    #[command(hide = true)]
    Man(completions::ManArgs),
}

/// What a command cannot run without.
pub(crate) struct Context {
    pub cwd: PathBuf,
    pub config: Option<PathBuf>,
    pub json: bool,
}

pub fn main() -> ExitCode {
    crate::trace::init();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let wants_json = args.iter().any(|a| a == "--json");
    let when = color_flag(&args);
    crate::cli::style::init(when);
    let parsed = {
        use clap::{CommandFactory, FromArgMatches};
        Cli::command()
            .color(match when {
                crate::cli::style::When::Auto => clap::ColorChoice::Auto,
                crate::cli::style::When::Always => clap::ColorChoice::Always,
                crate::cli::style::When::Never => clap::ColorChoice::Never,
            })
            .try_get_matches_from(&args)
            .and_then(|m| Cli::from_arg_matches(&m))
    };
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind as K;
            if matches!(
                e.kind(),
                K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::from(
                    if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
                        2
                    } else {
                        0
                    },
                );
            }
            if wants_json {
                let msg = e.to_string();
                let first = msg
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_string();
                print_json(
                    &json!({"error": {"message": first, "hint": "run 'git swarm --help' (or 'git swarm <command> --help') for usage"}}),
                );
                return ExitCode::from(2);
            }
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let json = cli.json;
    let code = match run(cli) {
        Ok(out) => {
            if json {
                print_json(&out.json);
            } else {
                let mut so = std::io::stdout().lock();
                let _ = so.write_all(out.text.as_bytes());
                if !out.text.is_empty() && !out.text.ends_with('\n') {
                    let _ = so.write_all(b"\n");
                }
            }
            out.code
        }
        Err(e) => {
            report_error(&e, json);
            e.exit_code()
        }
    };
    ExitCode::from(code)
}

/// `--color` as given (before parsing, so that clap's own messages follow it too).
fn color_flag(args: &[std::ffi::OsString]) -> crate::cli::style::When {
    use crate::cli::style::When;
    let mut when = When::Auto;
    let mut it = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let v = if a == "--color" {
            it.next().map(|v| v.into_owned())
        } else {
            a.strip_prefix("--color=").map(str::to_string)
        };
        match v.as_deref() {
            Some("always") => when = When::Always,
            Some("never") => when = When::Never,
            Some("auto") => when = When::Auto,
            _ => {}
        }
    }
    when
}

fn print_json(v: &serde_json::Value) {
    let mut so = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut so, v);
    let _ = so.write_all(b"\n");
}

fn report_error(e: &Error, json: bool) {
    if json {
        print_json(&json!({"error": {
            "message": e.full_message(),
            "hint": e.hint,
            "kind": match e.kind { ErrorKind::Failure => "error", ErrorKind::Usage => "usage", ErrorKind::Refused => "refused", ErrorKind::Interrupted => "interrupted" },
        }}));
    } else {
        let mut se = std::io::stderr().lock();
        use crate::cli::style::{Stream, Style, paint};
        let _ = writeln!(
            se,
            "{} {}",
            paint(Stream::Stderr, Style::Bad, "error:"),
            e.message
        );
        for c in &e.causes {
            for (i, line) in c.lines().enumerate() {
                let _ = writeln!(se, "{}{line}", if i == 0 { "caused by: " } else { "  " });
            }
        }
        if let Some(h) = &e.hint {
            let _ = writeln!(se, "{} {h}", paint(Stream::Stderr, Style::Info, "hint:"));
        }
    }
}

fn run(cli: Cli) -> Result<Output, Error> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::failure(format!("cannot read the current directory: {e}")))?;
    let cwd = match &cli.dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => cwd.join(d),
        None => cwd,
    };
    let ctx = Context {
        cwd,
        config: cli.config.clone(),
        json: cli.json,
    };
    match cli.command {
        Command::Init(a) => init::run(&ctx, a),
        Command::Start(a) => start::run(&ctx, a),
        Command::Next(a) => next::run(&ctx, a),
        Command::Publish(a) => publish::run(&ctx, a),
        Command::Approve(a) => approve::run(&ctx, a),
        Command::Follow(a) => follow::run(&ctx, a),
        Command::Run(a) => run::run(&ctx, a),
        Command::Push(a) => push::run(&ctx, a),
        Command::Resume(a) => resume::run(&ctx, a),
        Command::Work(a) => work::run(&ctx, a),
        Command::Demo(a) => demo::run(&ctx, a),
        Command::DemoAgent(a) => demo::agent(&ctx, a),
        Command::Status(a) => status::run(&ctx, a),
        Command::List(a) => list::run(&ctx, a),
        Command::Retry(a) => retry::run(&ctx, a),
        Command::Abort(a) => abort::run(&ctx, a),
        Command::Validate(a) => validate::run(&ctx, a),
        Command::Doctor(a) => doctor::run(&ctx, a),
        Command::Forge(a) => forge::run(&ctx, a),
        Command::Gc(a) => gc::run(&ctx, a),
        Command::Trust(a) => trust::run(&ctx, a),
        Command::Ci(a) => ci::run(&ctx, a),
        Command::Hook(a) => hook::run(&ctx, a),
        Command::Completions(a) => completions::run(&ctx, a),
        Command::Man(a) => completions::man(&ctx, a),
    }
}

impl Context {
    pub(crate) fn session(&self) -> Result<crate::store::Session, Error> {
        crate::store::Session::open(&self.cwd, self.config.clone())
    }
}
