use std::path::PathBuf;

use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::error::{Error, IoContext, Result};
use crate::files::atomic;
use crate::git::{self, clean};
use crate::machine::{self, Facts, state::Task};

/// Start a run: refuse a dirty tree, create the run, and return the first action.
///
/// The task is given as text or with --task-file. Nothing is written when the tree is dirty
/// (exit 3). A missing or placeholder .swarm/standards.md creates the run with outcome
/// needs-human (exit 4) and says what the file must contain.
#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    /// What the agents should do.
    pub task: Option<String>,
    /// Read the task from this file (the planner is pointed at it).
    #[arg(long, value_name = "FILE", conflicts_with = "task")]
    pub task_file: Option<PathBuf>,
}

pub(crate) fn run(ctx: &Context, args: StartArgs) -> Result<Output> {
    let (_, _, status) = start_run(ctx, &args)?;
    let warnings: Vec<_> = status
        .warnings
        .iter()
        .filter(|w| w.reason == machine::BASE_NOT_ON_REMOTE)
        .collect();
    Ok(report::add_warnings(report::action(&status), &warnings))
}

/// Creates a run (shared with `git swarm run <task>`).
pub(crate) fn start_run(
    ctx: &Context,
    args: &StartArgs,
) -> Result<(
    crate::store::Session,
    crate::store::RunDir,
    crate::machine::state::RunStatus,
)> {
    let session = ctx.session()?;
    let task = match (&args.task, &args.task_file) {
        (Some(t), None) if !t.trim().is_empty() => Task {
            text: t.trim().to_string(),
            file: None,
        },
        (None, Some(f)) => {
            let p = if f.is_absolute() {
                f.clone()
            } else {
                ctx.cwd.join(f)
            };
            let text = std::fs::read_to_string(&p).ctx("read the task file", &p)?;
            if let Some(i) = text.find('\0') {
                // The task becomes commit and pull-request text, which cannot hold a NUL.
                return Err(Error::failure(format!(
                    "the task file {} contains a NUL character (at byte {i})",
                    p.display()
                ))
                .hint("save the task as plain text"));
            }
            if text.trim().is_empty() {
                return Err(
                    Error::usage(format!("the task file {} is empty", p.display()))
                        .hint("write the task in it"),
                );
            }
            Task {
                text,
                file: Some(p.display().to_string()),
            }
        }
        _ => {
            return Err(Error::usage("no task given").hint(
                "run 'git swarm start \"<what to do>\"' or 'git swarm start --task-file task.md'",
            ));
        }
    };

    // Everything that can fail on bad input is checked before anything is written.
    crate::trace::mark("start: session");
    let location = session.config_location()?;
    let cfg =
        crate::config::load(&location.path, &session.ws.root, &session.home()?).map_err(|e| {
            if location.source == "default" {
                e
            } else {
                e.cause(format!("config chosen by {}", location.source))
            }
        })?;
    crate::trace::mark("start: config loaded");
    let policies = session.policies()?;
    if cfg.branching {
        crate::driver::place::check_templates(
            &session.ws.root,
            cfg.worktree_path_template.as_deref(),
            policies.git.branching.worktree_name_template.as_deref(),
        )?;
    }
    // The run will create worktrees: a setup command the user has not trusted refuses the
    // run now, before anything is written (`git swarm run` checks its agents' commands too).
    crate::trust::require(&session, &[crate::trust::Use::Setup], None)?;
    let repo = session.repo()?;
    let (base, branch) = git::head(&repo)?;
    crate::trace::mark("start: repository opened");
    let dirt = clean::dirt(&repo, !policies.git.allow_untracked_files)?;
    crate::trace::mark("start: clean-tree gate");
    if !dirt.is_empty() {
        return Err(Error::refused(format!(
            "the working tree of {} is not clean; a run starts only from a clean tree:\n{}",
            session.ws.root.display(),
            clean::describe(&dirt)
        ))
        .hint(if dirt.iter().all(|d| d.kind == "untracked") {
            "commit, remove or ignore the untracked files (or set git.allowUntrackedFiles in .swarm/policies.json), then run 'git swarm start' again"
        } else {
            "commit or stash your changes ('git stash -u'), then run 'git swarm start' again"
        }));
    }

    session.swarm.ensure_dirs()?;
    git::ensure_exclude(&session.ws.common_dir, "/.swarm/runs/")?;
    // The pre-push hook guards what a run pushes; a repository that never ran init gets it now.
    if crate::hook::installed(&session.ws.root).is_none() {
        let h = crate::hook::install(&session.ws.root)?;
        crate::cli::style::note(format!(
            "installed the pre-push hook at {} ({})",
            h.path.display(),
            h.action
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let run = session.swarm.run(&id);
    atomic::create_dir_all(&run.path)?;
    let tx = crate::driver::Tx::begin(&session, &run)?;
    atomic::write(&run.task_path(), task_markdown(&task).as_bytes())?;
    crate::failpoint!("start-before-status");

    let standards_path = session.swarm.standards_path();
    // The tree is clean: its content is HEAD's tree, the planner's guard-rail baseline.
    let mut content = indexmap::IndexMap::new();
    content.insert(
        session.ws.root.display().to_string(),
        (base.clone(), git::tree_of(&session.ws.root, &base)?),
    );
    let facts = Facts {
        base_unpushed: unpushed(&session, &repo, &policies, &base),
        standards: crate::config::standards::check(&standards_path),
        standards_text: crate::config::standards::text(&standards_path),
        deny: policies.file_access.deny.clone(),
        content,
        ..Facts::default()
    };
    let st = tx.transition(&cfg, &facts, |mctx, facts| {
        Ok(machine::start(mctx, facts, &id, task, &base, branch))
    })?;
    crate::trace::mark("start: run written");
    drop(tx);
    Ok((session, run, st))
}

/// The commits of the base that the remote does not have (as of the last fetch; no network):
/// a pull request from the run's branch carries them too. `None` when there are none, or when
/// nothing can be said (no such remote, never fetched, git failed): this is advice, never a
/// reason not to start.
fn unpushed(
    session: &crate::store::Session,
    repo: &gix::Repository,
    policies: &crate::config::policies::Policies,
    base: &str,
) -> Option<(u32, String)> {
    let remote = policies.pr.remote.as_str();
    if !git::has_remote_tracking_refs(repo, remote) {
        return None;
    }
    git::commits_not_on_remote(&session.ws.root, base, remote, None)
        .ok()
        .filter(|n| *n > 0)
        .map(|n| (n, remote.to_string()))
}

fn task_markdown(task: &crate::machine::state::Task) -> String {
    let mut s = task.text.clone();
    if !s.ends_with('\n') {
        s.push('\n');
    }
    if let Some(f) = &task.file {
        s = format!("<!-- task from {f} -->\n{s}");
    }
    s
}
