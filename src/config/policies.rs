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
pub const DEFAULT_SETUP_TIMEOUT: Duration = Duration::from_secs(600);

/// The repository's policy; [`Policies::default`] is the policy of a repository without one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Policies {
    pub git: Git,
    pub file_access: FileAccess,
    pub pr: Pr,
    pub forges: Forges,
    pub agents: Agents,
    pub worktree: Worktree,
    pub gc: Gc,
}

/// `git`: what keeps `start` from starting, and how runs name branches and worktrees.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Git {
    /// `git.allowUntrackedFiles`: untracked files do not block `start`.
    pub allow_untracked_files: bool,
    pub branching: Branching,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Branching {
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
pub struct FileAccess {
    /// `fileAccess.deny`: glob patterns of files no step may change.
    pub deny: Vec<String>,
}

/// `pr`: where `publish` pushes and how it opens the pull request.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Pr {
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
pub enum SubmitMethod {
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
pub enum CommandTemplate {
    Line(String),
    Argv(Vec<String>),
}

impl CommandTemplate {
    /// The words of the command, before its placeholders are filled in.
    pub fn words(&self) -> std::result::Result<Vec<String>, String> {
        match self {
            CommandTemplate::Line(s) => crate::forge::template::split(s),
            CommandTemplate::Argv(w) => Ok(w.clone()),
        }
    }
}

/// `forges`: self-hosted forge hosts, beside `git config swarm.githubHost` and the others.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Forges {
    pub github: Vec<String>,
    pub gitlab: Vec<String>,
    pub bitbucket: Vec<String>,
}

/// `agents`: what agent profiles allow beside what a run derives; applies only once trusted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Agents {
    /// `agents.allowedCommands`: commands (or command prefixes), trimmed, each on one line.
    pub allowed_commands: Vec<String>,
    /// `agents.allowAllCommands`: profiles do not limit the commands agents run.
    pub allow_all_commands: bool,
}

/// `worktree`: preparing a new worktree.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Worktree {
    /// `worktree.setupCommand`: runs in each new worktree before the first agent, once trusted.
    pub setup_command: Option<CommandTemplate>,
    /// `worktree.setupTimeoutSeconds`, positive and finite once loaded; see
    /// [`Worktree::setup_timeout`].
    pub setup_timeout_seconds: Option<f64>,
}

impl Worktree {
    /// How long the setup command may run before its whole process group is stopped.
    pub fn setup_timeout(&self) -> Duration {
        self.setup_timeout_seconds
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(DEFAULT_SETUP_TIMEOUT)
    }
}

/// `gc`: what `git swarm gc` keeps.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Gc {
    /// `gc.retentionDays`: how old an ended run's folder must be before gc removes it.
    #[serde(deserialize_with = "whole_number")]
    pub retention_days: Option<u64>,
}

impl Policies {
    /// Reads `path`; a missing file is the default policy.
    pub fn load(path: &Path) -> Result<Policies> {
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
    pub fn from_value(path: &Path, mut raw: Value) -> Result<Policies> {
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
pub fn check_remote_name(name: &str) -> std::result::Result<(), String> {
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
mod tests {
    use super::*;

    /// Writes `text` as a policy file in a fresh directory and loads it.
    fn load(text: &str) -> Result<Policies> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("policies.json");
        std::fs::write(&p, text).unwrap();
        Policies::load(&p)
    }

    #[test]
    fn the_reference_example_loads_unchanged() {
        let pol = load(include_str!(
            "../../tests/fixtures/reference/commands/policies.example.json"
        ))
        .unwrap();
        assert!(pol.git.allow_untracked_files);
        assert_eq!(pol.git.branching.branch_prefix, "swarm/");
        assert_eq!(
            pol.git.branching.worktree_name_template.as_deref(),
            Some("{workspace}-swarm-{friendlyName}")
        );
        assert_eq!(pol.file_access.deny.len(), 9);
        assert_eq!(pol.file_access.deny[0], "**/.env");
        assert_eq!(pol.pr.submit_method, Some(SubmitMethod::Gh));
        assert_eq!(pol.pr.create_command, None);
        assert!(pol.pr.create_on_success);
        assert_eq!(pol.pr.base_branch.as_deref(), Some("main"));
        assert_eq!(pol.pr.remote, "origin");
        assert!(!pol.pr.create_draft);
        assert_eq!(pol.pr.title_template.as_deref(), Some("[swarm] {goal}"));
        assert!(pol.pr.body_template.as_deref().unwrap().contains("{runId}"));
    }

    #[test]
    fn defaults() {
        let d = Policies::default();
        for pol in [
            Policies::load(Path::new("/nonexistent/policies.json")).unwrap(),
            load("{}").unwrap(),
            load(r#"{"git": null, "pr": {"remote": null, "createOnSuccess": null}}"#).unwrap(),
            d.clone(),
        ] {
            assert!(!pol.git.allow_untracked_files);
            assert_eq!(pol.git.branching.branch_prefix, "swarm/");
            assert_eq!(pol.git.branching.worktree_name_template, None);
            assert!(pol.file_access.deny.is_empty());
            assert_eq!(pol.pr.remote, "origin");
            assert_eq!(pol.pr.base_branch, None);
            assert_eq!(pol.pr.submit_method, None);
            assert!(pol.pr.create_on_success);
            assert!(!pol.pr.create_draft);
            assert_eq!(pol.pr.title_template, None);
            assert_eq!(pol.pr.create_command, None);
            assert!(pol.forges.github.is_empty() && pol.forges.gitlab.is_empty());
            assert!(pol.agents.allowed_commands.is_empty());
            assert!(!pol.agents.allow_all_commands);
            assert_eq!(pol.worktree.setup_command, None);
            assert_eq!(pol.worktree.setup_timeout(), DEFAULT_SETUP_TIMEOUT);
            assert_eq!(pol.gc.retention_days, None);
        }
        // Empty strings are "not set", as they always were.
        let pol = load(
            r#"{"pr": {"remote": "", "baseBranch": "", "submitMethod": "", "titleTemplate": ""},
                "git": {"branching": {"worktreeNameTemplate": ""}}}"#,
        )
        .unwrap();
        assert_eq!(pol.pr.remote, "origin");
        assert_eq!(pol.pr.base_branch, None);
        assert_eq!(pol.pr.submit_method, None);
        assert_eq!(pol.pr.title_template, None);
        assert_eq!(pol.git.branching.worktree_name_template, None);
    }

    #[test]
    fn every_key_is_read() {
        let pol = load(
            r#"{"pr": {"createDraft": true, "createOnSuccess": false, "submitMethod": "manual",
                       "createCommand": "mkpr --title \"{title}\"", "bodyTemplate": "{goal}"},
                "forges": {"github": ["ghe.example.com"], "gitlab": ["gl.example.com"],
                           "bitbucket": ["bb.example.com"]},
                "worktree": {"setupCommand": ["npm", "ci"]},
                "gc": {"retentionDays": 7.0}}"#,
        )
        .unwrap();
        assert!(pol.pr.create_draft);
        assert!(!pol.pr.create_on_success);
        assert_eq!(pol.pr.submit_method, Some(SubmitMethod::Manual));
        assert_eq!(
            pol.pr.create_command.unwrap().words().unwrap(),
            ["mkpr", "--title", "{title}"]
        );
        assert_eq!(pol.pr.body_template.as_deref(), Some("{goal}"));
        assert_eq!(pol.forges.github, ["ghe.example.com"]);
        assert_eq!(pol.forges.gitlab, ["gl.example.com"]);
        assert_eq!(pol.forges.bitbucket, ["bb.example.com"]);
        assert_eq!(
            pol.worktree.setup_command,
            Some(CommandTemplate::Argv(vec!["npm".into(), "ci".into()]))
        );
        assert_eq!(pol.gc.retention_days, Some(7));
    }

    /// The hints quote the schema's examples: each must be a value the policy accepts.
    #[test]
    fn a_policy_of_every_example_in_the_schema_loads() {
        fn fill(schema: &Value, out: &mut serde_json::Map<String, Value>) {
            for (key, node) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(example) = node.get("examples").and_then(|e| e.get(0)) {
                    out.insert(key.clone(), example.clone());
                } else {
                    let mut inner = serde_json::Map::new();
                    fill(node, &mut inner);
                    out.insert(key.clone(), Value::Object(inner));
                }
            }
        }
        let schema: Value = serde_json::from_str(schema::embedded::POLICIES).unwrap();
        let mut all = serde_json::Map::new();
        fill(&schema, &mut all);
        let pol = load(&Value::Object(all).to_string()).unwrap();
        assert_eq!(pol.forges.bitbucket, ["bitbucket.example.com"]);
        assert_eq!(pol.worktree.setup_timeout(), Duration::from_secs(900));
    }

    #[test]
    fn wrong_types_name_the_pointer_and_what_to_write() {
        for (text, message, hint) in [
            (
                r#"{"git": {"allowUntrackedFiles": "yes"}}"#,
                "/git/allowUntrackedFiles: must be true or false",
                "\"allowUntrackedFiles\": true",
            ),
            (
                r#"{"pr": {"createDraft": "yes"}}"#,
                "/pr/createDraft: must be true or false",
                "\"createDraft\": true",
            ),
            (
                r#"{"fileAccess": {"deny": "**/.env"}}"#,
                "/fileAccess/deny: must be an array of strings",
                "\"deny\": [\"**/.env\", \"**/*secret*\"]",
            ),
            (
                r#"{"forges": {"github": ["ghe.example.com", 7]}}"#,
                "/forges/github/1: must be a string",
                "\"github\": [\"ghe.example.com\"]",
            ),
            (
                r#"{"pr": {"submitMethod": "github"}}"#,
                "/pr/submitMethod: must be one of \"gh\", \"glab\", \"bb\", \"acli\", \"manual\"",
                "\"submitMethod\": \"manual\"",
            ),
            (
                r#"{"pr": {"createCommand": 3}}"#,
                "/pr/createCommand: must be a string or an array of strings",
                "\"createCommand\": [\"gh\", \"pr\",",
            ),
            (
                r#"{"gc": {"retentionDays": -1}}"#,
                "/gc/retentionDays: must be at least 0",
                "\"retentionDays\": 30",
            ),
            (
                r#"{"pr": []}"#,
                "/pr: must be a JSON object",
                "for the shape of policies.json",
            ),
            ("[]", "(root): must be a JSON object", "'Repository policy'"),
        ] {
            let e = load(text).unwrap_err();
            assert!(
                e.message.contains("policies.json: "),
                "{text}: {}",
                e.message
            );
            assert!(e.message.ends_with(message), "{text}: {}", e.message);
            let h = e.hint.clone().unwrap_or_default();
            assert!(h.contains(hint), "{text}: {h}");
            assert!(
                h.contains("'Repository policy'"),
                "{text}: the hint points at the README: {h}"
            );
        }
    }

    #[test]
    fn every_problem_is_listed() {
        let e = load(
            r#"{"pr": {"createDraft": "yes", "baseBranch": 1}, "gc": {"retentionDays": "7"}}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("(3 problems)"), "{}", e.message);
        let all = format!("{} {}", e.message, e.causes.join(" "));
        for p in ["/pr/createDraft", "/pr/baseBranch", "/gc/retentionDays"] {
            assert!(all.contains(p), "{p}: {all}");
        }
    }

    #[test]
    fn agent_command_policy() {
        let pol = load(
            r#"{"agents": {"allowedCommands": ["npm run lint", " make check "], "allowAllCommands": false}}"#,
        )
        .unwrap();
        assert_eq!(pol.agents.allowed_commands, ["npm run lint", "make check"]);
        assert!(!pol.agents.allow_all_commands);
        for bad in [
            r#"{"agents": {"allowedCommands": "npm test"}}"#,
            r#"{"agents": {"allowedCommands": [""]}}"#,
            r#"{"agents": {"allowedCommands": ["  "]}}"#,
            r#"{"agents": {"allowedCommands": ["a\nb"]}}"#,
            r#"{"agents": {"allowedCommands": [3]}}"#,
            r#"{"agents": {"allowAllCommands": "yes"}}"#,
        ] {
            let e = load(bad).unwrap_err();
            assert!(e.message.contains("/agents/"), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn branch_prefixes() {
        assert_eq!(
            load(r#"{"git": {"branching": {"branchPrefix": "team/ai-"}}}"#)
                .unwrap()
                .git
                .branching
                .branch_prefix,
            "team/ai-"
        );
        for bad in ["", "a..b/", "/x/", "-x/", "a b/", "7"] {
            let text = if bad == "7" {
                r#"{"git": {"branching": {"branchPrefix": 7}}}"#.to_string()
            } else {
                serde_json::json!({"git": {"branching": {"branchPrefix": bad}}}).to_string()
            };
            let e = load(&text).unwrap_err();
            assert!(
                e.message.contains("/git/branching/branchPrefix"),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn remote_names_are_names() {
        for ok in ["origin", "upstream", "fork/team"] {
            let pol = load(&format!(r#"{{"pr": {{"remote": "{ok}"}}}}"#)).unwrap();
            assert_eq!(pol.pr.remote, ok);
        }
        for bad in [
            "--exec=touch /tmp/pwned",
            "-o",
            "https://user:SECRET@example.com/r.git",
            "git@example.com:o/r.git",
            "a b",
            "a\tb",
        ] {
            let e = load(&serde_json::json!({"pr": {"remote": bad}}).to_string()).unwrap_err();
            assert!(e.message.contains("/pr/remote"), "{bad}: {}", e.message);
            assert!(!e.message.contains("SECRET"), "{}", e.message);
        }
        let e = load(r#"{"pr": {"remote": ["origin"]}}"#).unwrap_err();
        assert!(
            e.message.ends_with("/pr/remote: must be a string"),
            "{}",
            e.message
        );
    }

    #[test]
    fn setup_timeout() {
        let pol = load(r#"{"worktree": {"setupTimeoutSeconds": 2.5}}"#).unwrap();
        assert_eq!(pol.worktree.setup_timeout(), Duration::from_millis(2500));
        let pol = load(r#"{"worktree": {"setupCommand": ["true"]}}"#).unwrap();
        assert_eq!(pol.worktree.setup_timeout(), DEFAULT_SETUP_TIMEOUT);
        for bad in ["0", "-1", "\"60\"", "1e300", "true"] {
            let e = load(&format!(
                r#"{{"worktree": {{"setupTimeoutSeconds": {bad}}}}}"#
            ))
            .unwrap_err();
            assert!(
                e.message.contains("/worktree/setupTimeoutSeconds"),
                "{bad}: {}",
                e.message
            );
        }
    }
}
