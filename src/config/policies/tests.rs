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
        "../../../tests/fixtures/reference/commands/policies.example.json"
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
    let e =
        load(r#"{"pr": {"createDraft": "yes", "baseBranch": 1}, "gc": {"retentionDays": "7"}}"#)
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
