//! `git swarm ci github|gitlab`: writes a CI workflow that drives runs on CI runners — a job
//! that starts or continues a run, one job per worker of a parallel batch, a job that starts
//! the next round, and one that publishes.
//!
//! The arguments are turned into `Options` here (which config the runners use, which agent
//! CLIs they install, what installs git swarm); `github` and `gitlab` render the file from
//! them and nothing else, so what a file holds depends only on its options.

mod github;
mod gitlab;
mod options;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::files::atomic;
pub(crate) use options::{AgentCli, ConfigUse, Options};

/// Write a CI workflow that runs git swarm on CI runners: start or continue a run for a task,
/// run each worker of a parallel batch in its own job, start the next round, publish.
///
/// The file is yours to read, commit and edit. It names the secrets the agents need but holds
/// none. By default the agent CLI to install is taken from the workflow config's exec profile
/// (claude, codex or gemini), else Claude Code. See README, "Runs on CI runners".
#[derive(Debug, Args)]
pub(crate) struct CiArgs {
    #[command(subcommand)]
    pub forge: CiForge,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CiForge {
    Github(GithubArgs),
    Gitlab(GitlabArgs),
}

/// Write .github/workflows/git-swarm.yml: a GitHub Actions workflow, started by hand with a
/// task (workflow_dispatch) or, with --label, by labelling an issue.
///
/// Jobs: coordinate (start or continue the run, drive it until it hands out workers or is
/// ready to publish), worker (one per worker of the batch), continue (dispatches the workflow
/// again for the next round) and publish (pushes the branch and opens the pull request).
#[derive(Debug, Args)]
pub(crate) struct GithubArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Also start a run when an issue gets this label; the task is the title and
    /// body.
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
}

/// Write .gitlab-ci.yml (or, when that exists, .gitlab/git-swarm.yml to include from it): a
/// pipeline started with the variable SWARM_TASK, or SWARM_RUN to continue a run.
///
/// Jobs: swarm-coordinate (start or continue the run), swarm-worker (parallel: one job per
/// possible worker; those not in the batch end at once), swarm-continue (triggers the next
/// round's pipeline) and swarm-publish (pushes the branch, opens the merge request with glab).
#[derive(Debug, Args)]
pub(crate) struct GitlabArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Worker jobs per pipeline (default: the largest maxConcurrent of the config's
    /// parallelization rules).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=200))]
    pub max_workers: Option<u32>,
    /// The image the jobs run in (it needs git, curl and Node.js for the agent CLIs).
    #[arg(long, value_name = "IMAGE", default_value = gitlab::IMAGE)]
    pub image: String,
}

#[derive(Debug, Args)]
pub(crate) struct CommonArgs {
    /// Where to write the file ('-' prints it instead).
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
    /// The agent CLI the runners install (default: from the config's exec profile).
    #[arg(long, value_enum, value_name = "CLI")]
    pub agent: Option<AgentCli>,
    /// The shell command that installs git swarm on a runner (several lines are several
    /// commands). Default: cargo install --locked git-swarm (on GitLab, after installing Rust
    /// with rustup); a prebuilt binary saves minutes per job.
    #[arg(long, value_name = "CMD")]
    pub install: Option<String>,
}

/// Which CI system a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    GitHub,
    GitLab,
}

pub(crate) fn run(ctx: &Context, args: CiArgs) -> Result<Output> {
    let session = ctx.session()?;
    let root = session.ws.root.clone();
    let (kind, common, label, max_workers, image) = match args.forge {
        CiForge::Github(a) => (Kind::GitHub, a.common, a.label, None, String::new()),
        CiForge::Gitlab(a) => (Kind::GitLab, a.common, None, a.max_workers, a.image),
    };
    if let Some(l) = &label {
        options::check_label(l)?;
    }
    if kind == Kind::GitLab {
        options::check_image(&image)?;
    }
    let install = options::install_lines(kind, common.install.as_deref())?;
    let chosen = options::choose(&session, common.agent)?;
    let target = match &common.output {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) if p.is_absolute() => Some(p.clone()),
        Some(p) => Some(ctx.cwd.join(p)),
        None => Some(default_path(kind, &root)),
    };
    let file = target
        .as_deref()
        .unwrap_or_else(|| Path::new(github::PATH))
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    if file.is_empty() || file.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "--output: {file:?} is not a file name for a workflow"
        ))
        .hint("name a file such as .github/workflows/git-swarm.yml, or '-' to print it"));
    }
    let opts = Options {
        agents: chosen.agents.clone(),
        install,
        config: chosen.config.clone(),
        label,
        max_workers: max_workers.unwrap_or(chosen.max_workers),
        image,
        file,
    };
    let content = match kind {
        Kind::GitHub => github::render(&opts),
        Kind::GitLab => gitlab::render(&opts),
    };
    let mut j = json!({
        "forge": match kind { Kind::GitHub => "github", Kind::GitLab => "gitlab" },
        "agents": opts.agents.iter().map(|a| json!({
            "profile": a.profile(), "package": a.package(), "version": a.version(),
            "secret": a.secret(),
        })).collect::<Vec<_>>(),
        "config": match &opts.config {
            ConfigUse::Pack(p) => json!({"use": "pack", "exec": p}),
            ConfigUse::Repo(rel) => json!({"use": "repository", "path": rel}),
        },
        "secrets": secrets(kind, &opts),
        "notes": chosen.notes,
    });
    let Some(path) = target else {
        j["content"] = json!(content);
        return Ok(Output::new(j, content));
    };
    if path.exists() && !common.force {
        return Err(Error::refused(format!(
            "{} exists; nothing was written",
            shown(&path, &root)
        ))
        .hint("read it first; --force overwrites it, --output PATH writes elsewhere, --output - prints the new file"));
    }
    if path.is_dir() {
        return Err(
            Error::failure(format!("{} is a directory", shown(&path, &root)))
                .hint("give --output the path of a file"),
        );
    }
    if let Some(dir) = path.parent() {
        atomic::create_dir_all(dir)?;
    }
    atomic::write_shared(&path, content.as_bytes())?;
    let rel = shown(&path, &root);
    let steps = next_steps(kind, &opts, &rel, &path, &root);
    let mut text = format!("wrote {rel}\n");
    for a in &opts.agents {
        text.push_str(&format!(
            "  agent CLI: {} ({}@{}), key in the secret {}\n",
            a.title(),
            a.package(),
            a.version(),
            a.secret()
        ));
    }
    text.push_str(&format!(
        "  workflow config on the runners: {}\n",
        match &opts.config {
            ConfigUse::Pack(p) => format!(
                "the default pack with \"exec\": \"{p}\" (git swarm init --pack --exec {p})"
            ),
            ConfigUse::Repo(rel) => format!("{rel}, from the repository"),
        }
    ));
    text.push_str(&format!(
        "  git swarm is installed with: {}\n",
        opts.install.join("; ")
    ));
    for n in &chosen.notes {
        text.push_str(&format!("note: {n}\n"));
    }
    text.push_str("Next:\n");
    for (i, s) in steps.iter().enumerate() {
        text.push_str(&format!("  {}. {s}\n", i + 1));
    }
    j["path"] = json!(path);
    j["next"] = json!(steps);
    Ok(Output::new(j, text))
}

fn default_path(kind: Kind, root: &Path) -> PathBuf {
    match kind {
        Kind::GitHub => root.join(github::PATH),
        Kind::GitLab if root.join(gitlab::MAIN).exists() => root.join(gitlab::INCLUDED),
        Kind::GitLab => root.join(gitlab::MAIN),
    }
}

/// `path` relative to the repository when it lies inside it.
fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The secrets (GitHub) or CI/CD variables (GitLab) the user sets, and what each is for.
fn secrets(kind: Kind, o: &Options) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = o
        .agents
        .iter()
        .map(|a| json!({"name": a.secret(), "for": format!("{}'s API key", a.title()), "required": true}))
        .collect();
    match kind {
        Kind::GitHub => out.push(json!({"name": github::PR_TOKEN, "for": "optional: a token that opens the pull request instead of GITHUB_TOKEN, so that workflows run on it", "required": false})),
        Kind::GitLab => {
            out.push(json!({"name": gitlab::PUSH_TOKEN, "for": "a project access token (role Developer, scopes api and write_repository): pushes the run and opens the merge request", "required": true}));
            out.push(json!({"name": gitlab::TRIGGER_TOKEN, "for": "a pipeline trigger token: starts the next round's pipeline", "required": true}));
        }
    }
    out
}

fn next_steps(kind: Kind, o: &Options, rel: &str, path: &Path, root: &Path) -> Vec<String> {
    let mut steps = Vec::new();
    let mut commit = format!("read {rel}, then commit it");
    if crate::config::standards::check(&root.join(".swarm/standards.md")).is_err() {
        commit.push_str(
            " with an actionable .swarm/standards.md (without one every run stops, needs-human)",
        );
    }
    if let ConfigUse::Repo(cfg) = &o.config {
        commit.push_str(&format!(" and {cfg}"));
    }
    let names: Vec<&str> = o.agents.iter().map(|a| a.secret()).collect();
    match kind {
        Kind::GitHub => {
            steps.push(format!("{commit}, on the default branch"));
            if !names.is_empty() {
                steps.push(format!(
                    "add the repository secret{} {} (Settings > Secrets and variables > Actions; or 'gh secret set NAME')",
                    if names.len() > 1 { "s" } else { "" },
                    names.join(", ")
                ));
            }
            steps.push("allow the workflow to open pull requests: Settings > Actions > General > \"Allow GitHub Actions to create and approve pull requests\"".into());
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            steps.push(format!(
                "start a run: gh workflow run {file} -f task=\"<what to do>\" (or Actions > git swarm > Run workflow)"
            ));
            if let Some(l) = &o.label {
                steps.push(format!(
                    "or label an issue '{l}': its title and body become the task"
                ));
            }
            if !path.starts_with(root.join(".github/workflows")) {
                steps.push(
                    "move the file into .github/workflows/: GitHub runs workflows only from there"
                        .into(),
                );
            }
        }
        Kind::GitLab => {
            let main = root.join(gitlab::MAIN);
            if path != main {
                steps.push(format!(
                    "include it from .gitlab-ci.yml (include: - local: {rel}); if .gitlab-ci.yml lists stages:, add {} to them",
                    gitlab::STAGES.join(", ")
                ));
            }
            steps.push(commit);
            let mut vars = names.join(", ");
            if !vars.is_empty() {
                vars.push_str(", ");
            }
            steps.push(format!(
                "add the masked CI/CD variables {vars}{} (a project access token, role Developer, scopes api and write_repository) and {} (Settings > CI/CD > Pipeline trigger tokens)",
                gitlab::PUSH_TOKEN,
                gitlab::TRIGGER_TOKEN
            ));
            steps.push(
                "start a run: Build > Pipelines > Run pipeline, with SWARM_TASK set to what to do"
                    .into(),
            );
        }
    }
    steps
}

/// Shell comment lines above `git swarm trust` in every job.
const TRUST_COMMENT: &str = "# Trust the commands this commit's .swarm/policies.json (and a workflow config in the\n# repository) name: whoever can change them on this branch can change this file too.\n# Without this line git swarm refuses to run them (exit 3).\n";

/// A YAML double-quoted scalar (JSON's string syntax is a subset of it).
fn yaml_quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// `text` with every non-empty line indented by `n` spaces (for a literal block).
/// The shell lines that install the agent CLIs (pinned) and set each one up.
fn agent_installs(o: &Options) -> String {
    let mut s = String::new();
    for a in &o.agents {
        s.push_str(&format!(
            "npm install --global --no-audit --no-fund {}@{}\n",
            a.package(),
            a.version()
        ));
        for line in a.setup() {
            s.push_str(line);
            s.push('\n');
        }
    }
    s
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
