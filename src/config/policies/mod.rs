//! `.swarm/policies.json`: the repository's policy, in the shape of the reference
//! `policies.example.json`. Everything is optional and unknown keys are ignored.
//!
//! Loading checks the file against the shipped `schemas/policies.schema.json` first (every
//! problem named by its JSON pointer, with what to write there), then reads it into
//! [`Policies`], then checks what a schema cannot say: a branch prefix git accepts, a remote
//! that is a name and not a URL, commands on one line, a timeout that fits. `null` means "not
//! set" everywhere, and so does `""` for the optional strings.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::files::json::show_pointer;
use crate::schema;

/// How long a worktree's setup command may run when the policy does not say: long enough for
/// a cold `npm ci` or a first build, short enough that a hung command does not hold a run.
pub(crate) const DEFAULT_SETUP_TIMEOUT: Duration = Duration::from_secs(600);

/// The repository's policy; [`Policies::default`] is the policy of a repository without one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Policies {
    pub git: Git,
    pub file_access: FileAccess,
    pub pr: Pr,
    pub forges: Forges,
    pub agents: Agents,
    pub worktree: Worktree,
    pub gc: Gc,
    pub budget: Budget,
    pub approval: Approval,
    pub verify: Verify,
    pub follow: Follow,
}

/// How long one verification command may run when the policy does not say.
pub(crate) const DEFAULT_VERIFY_TIMEOUT: Duration = Duration::from_secs(600);

/// `verify`: the verification gate git swarm runs itself before pushing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Verify {
    /// `verify.commands`: commands of the repository's own, run once trusted.
    pub commands: Vec<String>,
    /// `verify.planCommands`: run the planner's `test-plan-commands` without an approved plan.
    pub plan_commands: bool,
    /// `verify.timeoutSeconds`; see [`Verify::timeout`].
    pub timeout_seconds: Option<f64>,
}

impl Verify {
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout_seconds
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(DEFAULT_VERIFY_TIMEOUT)
    }
}

/// `follow`: the follow phase after publishing.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Follow {
    /// `follow.enabled`: `git swarm run` follows the pull request by itself.
    pub enabled: bool,
    /// `follow.maxRounds` (default 3): fix passes after publishing.
    pub max_rounds: u32,
    /// `follow.retryAfterSeconds` (default 60).
    pub retry_after_seconds: u64,
    /// `follow.stateCommand`: prints the pull request's state in git swarm's shape.
    pub state_command: Option<CommandTemplate>,
}

impl Default for Follow {
    fn default() -> Self {
        Follow {
            enabled: false,
            max_rounds: 3,
            retry_after_seconds: 60,
            state_command: None,
        }
    }
}

/// `approval`: the gates where a run waits for a person (`git swarm approve`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Approval {
    /// `approval.plan`: the accepted plan, before any work on it.
    pub plan: bool,
    /// `approval.publish`: the tested work, before it is pushed.
    pub publish: bool,
}

/// `git`: what keeps `start` from starting, and how runs name branches and worktrees.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Git {
    /// `git.allowUntrackedFiles`: untracked files do not block `start`.
    pub allow_untracked_files: bool,
    pub branching: Branching,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Branching {
    /// `git.branching.branchPrefix` (default `swarm/`), checked to be a branch-name prefix.
    pub branch_prefix: String,
    /// `git.branching.worktreeNameTemplate`: the worktree's directory name; where it leads is
    /// checked where it is used.
    #[serde(deserialize_with = "non_empty")]
    pub worktree_name_template: Option<String>,
}

impl Default for Branching {
    fn default() -> Self {
        Branching {
            branch_prefix: "swarm/".to_string(),
            worktree_name_template: None,
        }
    }
}

/// `fileAccess`: the guard rails' patterns.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct FileAccess {
    /// `fileAccess.deny`: glob patterns of files no step may change.
    pub deny: Vec<String>,
}

/// `pr`: where `publish` pushes and how it opens the pull request.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Pr {
    /// `pr.remote`: the name of the remote to push to (default `origin`, also for `""`);
    /// checked to be a name, never an option or a URL (whether it is configured is checked
    /// where it is used).
    #[serde(deserialize_with = "remote_or_origin")]
    pub remote: String,
    /// `pr.baseBranch`: the branch the pull request targets; else the remote's default branch.
    #[serde(deserialize_with = "non_empty")]
    pub base_branch: Option<String>,
    /// `pr.submitMethod`.
    #[serde(deserialize_with = "non_empty")]
    pub submit_method: Option<SubmitMethod>,
    /// `pr.createOnSuccess` (default true): `false` pushes only.
    pub create_on_success: bool,
    /// `pr.createDraft`: open the pull request as a draft.
    pub create_draft: bool,
    /// `pr.titleTemplate` (the default lives where the title is made).
    #[serde(deserialize_with = "non_empty")]
    pub title_template: Option<String>,
    /// `pr.bodyTemplate` (likewise).
    #[serde(deserialize_with = "non_empty")]
    pub body_template: Option<String>,
    /// `pr.createCommand`: replaces the forge's built-in command; runs only once trusted.
    pub create_command: Option<CommandTemplate>,
}

impl Default for Pr {
    fn default() -> Self {
        Pr {
            remote: "origin".to_string(),
            base_branch: None,
            submit_method: None,
            create_on_success: true,
            create_draft: false,
            title_template: None,
            body_template: None,
            create_command: None,
        }
    }
}

/// `pr.submitMethod`: `manual` pushes only; the others name the pull-request tool when the
/// remote's host does not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SubmitMethod {
    Gh,
    Glab,
    Bb,
    Acli,
    Manual,
}

/// A command as the policy writes it: an argv, or one string split into words the way a shell
/// would (never run by one).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum CommandTemplate {
    Line(String),
    Argv(Vec<String>),
}

impl CommandTemplate {
    /// The words of the command, before its placeholders are filled in.
    pub(crate) fn words(&self) -> std::result::Result<Vec<String>, String> {
        match self {
            CommandTemplate::Line(s) => crate::forge::template::split(s),
            CommandTemplate::Argv(w) => Ok(w.clone()),
        }
    }
}

/// `forges`: self-hosted forge hosts, beside `git config swarm.githubHost` and the others.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Forges {
    pub github: Vec<String>,
    pub gitlab: Vec<String>,
    pub bitbucket: Vec<String>,
}

/// `agents`: what agent profiles allow beside what a run derives; applies only once trusted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Agents {
    /// `agents.allowedCommands`: commands (or command prefixes), trimmed, each on one line.
    pub allowed_commands: Vec<String>,
    /// `agents.allowAllCommands`: profiles do not limit the commands agents run.
    pub allow_all_commands: bool,
}

/// `worktree`: preparing a new worktree.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Worktree {
    /// `worktree.setupCommand`: runs in each new worktree before the first agent, once trusted.
    pub setup_command: Option<CommandTemplate>,
    /// `worktree.setupTimeoutSeconds`, positive and finite once loaded; see
    /// [`Worktree::setup_timeout`].
    pub setup_timeout_seconds: Option<f64>,
    /// `worktree.sparse`: `true`, or the directories every sparse worktree includes.
    pub sparse: Option<SparsePolicy>,
    /// `worktree.spares`: worktrees checked out while the planner works (`None`: the batch
    /// size).
    pub spares: Option<usize>,
}

/// `worktree.sparse` as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum SparsePolicy {
    On(bool),
    Dirs(Vec<String>),
}

impl Worktree {
    /// Sparse worktrees: `None` when off, else the directories always included (normalised:
    /// no leading or trailing `/`).
    pub(crate) fn sparse_dirs(&self) -> Option<Vec<String>> {
        match &self.sparse {
            None | Some(SparsePolicy::On(false)) => None,
            Some(SparsePolicy::On(true)) => Some(Vec::new()),
            Some(SparsePolicy::Dirs(d)) => Some(
                d.iter()
                    .map(|x| x.trim().trim_matches('/').to_string())
                    .filter(|x| !x.is_empty())
                    .collect(),
            ),
        }
    }
}

impl Worktree {
    /// How long the setup command may run before its whole process group is stopped.
    pub(crate) fn setup_timeout(&self) -> Duration {
        self.setup_timeout_seconds
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(DEFAULT_SETUP_TIMEOUT)
    }
}

/// `budget`: what a run, and each of its agents, may spend.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Budget {
    #[serde(deserialize_with = "whole_number")]
    pub max_tokens: Option<u64>,
    pub max_cost_usd: Option<f64>,
    /// `budget.agents.<name>`: an agent's own limit, beside the run's.
    pub agents: indexmap::IndexMap<String, AgentBudget>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct AgentBudget {
    #[serde(deserialize_with = "whole_number")]
    pub max_tokens: Option<u64>,
    pub max_cost_usd: Option<f64>,
}

/// `gc`: what `git swarm gc` keeps.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Gc {
    /// `gc.retentionDays`: how old an ended run's folder must be before gc removes it.
    #[serde(deserialize_with = "whole_number")]
    pub retention_days: Option<u64>,
}

impl Policies {
    /// Reads `path`; a missing file is the default policy.
    pub(crate) fn load(path: &Path) -> Result<Policies> {
        if !path.exists() {
            return Ok(Policies::default());
        }
        // `<root>/.swarm/policies.json` is the repository's: read only inside it.
        if let Some(root) = path.parent().and_then(Path::parent) {
            crate::files::safe::check_inside(root, path)?;
        }
        let raw = crate::files::read_json(path)?;
        Policies::from_value(path, raw)
    }

    /// Checks a policy already read (from `path`, for messages) and makes it typed.
    pub(crate) fn from_value(path: &Path, mut raw: Value) -> Result<Policies> {
        check_schema(path, &raw)?;
        drop_nulls(&mut raw);
        let mut policies = Policies::deserialize(raw).map_err(|e| {
            // The schema admitted what the struct refuses: the two disagree.
            Error::failure(format!("{}: {e}", path.display()))
                .hint("see README, 'Repository policy', for the shape of policies.json")
        })?;
        policies.check(path)?;
        Ok(policies)
    }

    /// What the schema cannot say; the messages name the key and the fix.
    fn check(&mut self, path: &Path) -> Result<()> {
        let file = path.display();
        if !valid_prefix(&self.git.branching.branch_prefix) {
            return Err(Error::failure(format!(
                "{file}: /git/branching/branchPrefix: must be a branch-name prefix such as \"swarm/\""
            ))
            .hint("use letters, digits, '-', '_' and '/' only, ending in '/' or '-'"));
        }
        for (i, c) in self.agents.allowed_commands.iter_mut().enumerate() {
            let trimmed = c.trim();
            if trimmed.is_empty() || trimmed.contains(['\n', '\r', '\0']) {
                return Err(Error::failure(format!(
                    "{file}: /agents/allowedCommands/{i}: must be a non-empty command on one line, such as \"npm run lint\""
                ))
                .hint("list each command (or command prefix) as a string"));
            }
            *c = trimmed.to_string();
        }
        if let Err(why) = check_remote_name(&self.pr.remote) {
            return Err(Error::failure(format!("{file}: /pr/remote: {why}"))
                .hint("set pr.remote to the name of a remote of this repository ('git remote' lists them), such as \"origin\""));
        }
        for (i, c) in self.verify.commands.iter().enumerate() {
            if c.contains(['\n', '\r', '\0'])
                || !matches!(crate::forge::template::split(c), Ok(w) if !w.is_empty())
            {
                return Err(Error::failure(format!(
                    "{file}: /verify/commands/{i}: must be a command on one line that splits into words, such as \"cargo test --locked\""
                ))
                .hint("quote arguments as a shell would; the command never runs through a shell"));
            }
        }
        if let Some(SparsePolicy::Dirs(dirs)) = &self.worktree.sparse {
            for (i, d) in dirs.iter().enumerate() {
                let bad = d.contains(['\n', '\r', '\0', '\\'])
                    || d.split('/').any(|c| c == ".." || c == ".git")
                    || d.trim().trim_matches('/').is_empty();
                if bad {
                    return Err(Error::failure(format!(
                        "{file}: /worktree/sparse/{i}: must be a directory of the repository, such as \"libs/shared\""
                    ))
                    .hint("write directories relative to the repository's root, without '..'"));
                }
            }
        }
        if let Some(s) = self.verify.timeout_seconds
            && Duration::try_from_secs_f64(s).is_err()
        {
            return Err(Error::failure(format!(
                "{file}: /verify/timeoutSeconds: must be a positive number of seconds"
            ))
            .hint("for example \"timeoutSeconds\": 900"));
        }
        if let Some(s) = self.worktree.setup_timeout_seconds
            && Duration::try_from_secs_f64(s).is_err()
        {
            return Err(Error::failure(format!(
                "{file}: /worktree/setupTimeoutSeconds: must be a positive number of seconds"
            ))
            .hint(format!(
                "for example \"setupTimeoutSeconds\": 900; without it the setup command may run {} s",
                DEFAULT_SETUP_TIMEOUT.as_secs()
            )));
        }
        Ok(())
    }
}

/// The policy schema, compiled once (the pre-push hook reads the policy on every push).
fn validator() -> &'static (jsonschema::Validator, Value) {
    static V: OnceLock<(jsonschema::Validator, Value)> = OnceLock::new();
    V.get_or_init(|| {
        let doc: Value =
            serde_json::from_str(schema::embedded::POLICIES).expect("embedded schemas are JSON");
        let v = schema::compile(&doc, "policies.schema.json").expect("embedded schemas compile");
        (v, doc)
    })
}

fn check_schema(path: &Path, raw: &Value) -> Result<()> {
    let (validator, doc) = validator();
    let found = schema::expectations(validator, doc, raw);
    let Some(first) = found.first() else {
        return Ok(());
    };
    let count = if found.len() > 1 {
        format!(" ({} problems)", found.len())
    } else {
        String::new()
    };
    let mut e = Error::failure(format!(
        "{}: {}: {}{count}",
        path.display(),
        show_pointer(&first.pointer),
        first.what
    ));
    for x in &found[1..] {
        e = e.cause(format!("{}: {}", show_pointer(&x.pointer), x.what));
    }
    Err(e.hint(match &first.example {
        Some((key, example)) => format!(
            "write it as in \"{key}\": {}, or remove the key for its default (README, 'Repository policy', lists every key)",
            spaced(example)
        ),
        None => "see README, 'Repository policy', for the shape of policies.json".to_string(),
    }))
}

/// An example value as a person writes it on one line: `["a", "b"]`, not `["a","b"]`.
fn spaced(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(spaced).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// `null` members are "not set": removed, so that the struct's defaults apply.
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// `""` counts as not set, as it always has for the policy's optional strings.
fn non_empty<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::String(s) if s.is_empty() => Ok(None),
        v => T::deserialize(v).map(Some).map_err(D::Error::custom),
    }
}

fn remote_or_origin<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(non_empty(d)?.unwrap_or_else(|| Pr::default().remote))
}

/// The schema's integers include `30.0`; serde's do not.
fn whole_number<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u32::MAX as f64)
                .map(|f| f as u64)
        })
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number")))
}

/// A remote's name as git would take it as a remote, never as an option or a URL: no leading
/// `-` (it would reach `git push` as an option), no URL or scp-like address (a URL would carry
/// its credentials into output), no whitespace or control characters. The message never
/// repeats the value (it may hold a secret).
pub(crate) fn check_remote_name(name: &str) -> std::result::Result<(), String> {
    if name.starts_with('-') {
        return Err("a remote name may not start with '-' (git would take it as an option)".into());
    }
    if name.contains("://") || name.contains('@') || name.contains(':') {
        return Err("must name a configured remote, not a URL or address".into());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) || name.contains("..") {
        return Err("a remote name may not hold whitespace, control characters or '..'".into());
    }
    Ok(())
}

fn valid_prefix(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && !s.starts_with('-')
        && !s.contains("..")
        && !s.contains("//")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.'))
}

#[cfg(test)]
mod tests;
