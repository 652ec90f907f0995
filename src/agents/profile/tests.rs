//! The profiles' launches per role.

use super::*;
use indexmap::IndexMap;

fn profile(kind: ProfileKind) -> Profile {
    Profile {
        kind,
        program: kind.name().to_string(),
        args: vec!["--extra".into()],
        model: Some("m1".into()),
        env: IndexMap::from([("K".to_string(), "v".to_string())]),
    }
}

/// A scope like the run's: the worktree beside the workspace, the run folder inside it,
/// schemas under the home.
fn scope(role: Role, worker: Option<&str>) -> Scope {
    let run = PathBuf::from("/ws/.swarm/runs/r1");
    let (agent, cwd) = match role {
        Role::Planner => ("planner", PathBuf::from("/ws")),
        Role::Editor => ("implementor", PathBuf::from("/ws-swarm-x")),
        Role::Reader => ("reviewer", PathBuf::from("/ws-swarm-x")),
    };
    let stem = match worker {
        Some(w) => format!("{agent}.{w}"),
        None => agent.to_string(),
    };
    let tests = vec!["cargo test -p core".to_string()];
    Scope {
        role,
        prompt: "PROMPT".into(),
        cwd: match worker {
            Some(w) if w != "w1" => PathBuf::from(format!("/ws-swarm-x--{w}")),
            _ => cwd,
        },
        run_dir: run.clone(),
        result: run.join(format!("{stem}.result.json")),
        plan_file: (role == Role::Planner).then(|| run.join("plan.json")),
        result_schema: PathBuf::from(format!(
            "/home/u/.cursor/agents/{agent}/{agent}.schema.json"
        )),
        plan_schema: (role == Role::Planner)
            .then(|| PathBuf::from("/home/u/.cursor/agents/plan/plan.schema.json")),
        standards: PathBuf::from("/ws/.swarm/standards.md"),
        definition: Some("You review.".into()),
        commands: commands(role, &tests, &["make lint".into()], false),
        scratch: run.join(format!("logs/step-0002.{stem}")),
        identity: Some(("Ann".into(), "ann@example.com".into())),
    }
}

fn has_pair(argv: &[String], flag: &str, value: &str) -> bool {
    argv.windows(2).any(|w| w[0] == flag && w[1] == value)
}

#[test]
fn commands_follow_the_role() {
    let t = vec!["sh test.sh".to_string(), "git status".to_string()];
    let c = commands(Role::Reader, &t, &["make lint".into()], false);
    assert!(c.allowed.contains(&"git diff".to_string()));
    assert!(c.allowed.contains(&"sh test.sh".to_string()));
    assert!(c.allowed.contains(&"make lint".to_string()));
    assert!(
        !c.allowed.contains(&"git commit".to_string()),
        "readers do not commit"
    );
    assert_eq!(
        c.allowed.iter().filter(|x| *x == "git status").count(),
        1,
        "no duplicates"
    );
    let e = commands(Role::Editor, &t, &[], false);
    assert!(
        e.allowed.contains(&"git add".to_string()) && e.allowed.contains(&"git commit".to_string())
    );
    let p = commands(Role::Planner, &t, &[], false);
    assert!(
        !p.allowed.contains(&"sh test.sh".to_string()),
        "the plan's tests come after planning"
    );
    assert!(commands(Role::Reader, &t, &[], true).all);
    // Deterministic.
    assert_eq!(c, commands(Role::Reader, &t, &["make lint".into()], false));
}

#[test]
fn claude_editor_works_in_its_worktree_and_writes_only_its_result_outside() {
    let l = build(&profile(ProfileKind::Claude), &scope(Role::Editor, None));
    let a = &l.argv;
    assert_eq!(&a[..4], ["claude", "-p", "--output-format", "json"]);
    assert!(has_pair(a, "--model", "m1"));
    assert!(has_pair(a, "--permission-mode", "acceptEdits"));
    assert!(has_pair(a, "--tools", "Read,Edit,Write,Glob,Grep,Bash"));
    for rule in [
        "Read(//ws/.swarm/runs/r1/**)",
        "Read(//home/u/.cursor/agents/implementor/**)",
        "Read(//ws/.swarm/standards.md)",
        "Edit(//ws/.swarm/runs/r1/implementor.result.json)",
        "Bash(git commit:*)",
        "Bash(cargo test -p core)",
        "Bash(make lint:*)",
    ] {
        assert!(a.iter().any(|x| x == rule), "missing {rule} in {a:?}");
    }
    assert!(
        !a.iter().any(|x| x == "--add-dir"),
        "no folder-wide write access: {a:?}"
    );
    assert!(!a.iter().any(|x| x == "Bash"), "commands are limited");
    assert!(has_pair(a, "--append-system-prompt", "You review."));
    assert_eq!(
        a.last().map(String::as_str),
        Some("--extra"),
        "user args last"
    );
    assert_eq!(l.output, Output::ClaudeJson);
    let stdin = l.stdin.unwrap();
    assert!(stdin.starts_with("PROMPT\n\n"), "{stdin}");
    assert!(stdin.contains("`git commit`"), "{stdin}");
    assert_eq!(l.env, [("K".to_string(), "v".to_string())]);
}

#[test]
fn claude_reader_may_write_nothing_but_its_result() {
    let l = build(&profile(ProfileKind::Claude), &scope(Role::Reader, None));
    let a = &l.argv;
    assert!(has_pair(a, "--permission-mode", "default"));
    assert!(
        has_pair(a, "--tools", "Read,Write,Glob,Grep,Bash"),
        "no Edit tool"
    );
    let edits: Vec<&String> = a.iter().filter(|x| x.starts_with("Edit(")).collect();
    assert_eq!(edits, ["Edit(//ws/.swarm/runs/r1/reviewer.result.json)"]);
    assert!(!a.iter().any(|x| x == "Bash(git commit:*)"));
    assert!(l.stdin.unwrap().contains("Do not change any file"));
}

#[test]
fn claude_planner_writes_the_plan_and_reads_both_schemas() {
    let s = scope(Role::Planner, None);
    let l = build(&profile(ProfileKind::Claude), &s);
    let a = &l.argv;
    for rule in [
        "Read(//home/u/.cursor/agents/planner/**)",
        "Read(//home/u/.cursor/agents/plan/**)",
        "Edit(//ws/.swarm/runs/r1/plan.json)",
        "Edit(//ws/.swarm/runs/r1/planner.result.json)",
    ] {
        assert!(a.iter().any(|x| x == rule), "missing {rule} in {a:?}");
    }
    // The run folder and standards are inside the planner's cwd (the workspace).
    assert!(
        !a.iter().any(|x| x == "Read(//ws/.swarm/runs/r1/**)"),
        "{a:?}"
    );
}

#[test]
fn claude_worker_gets_its_own_result_only() {
    let l = build(
        &profile(ProfileKind::Claude),
        &scope(Role::Editor, Some("w2")),
    );
    let edits: Vec<&String> = l.argv.iter().filter(|x| x.starts_with("Edit(")).collect();
    assert_eq!(
        edits,
        ["Edit(//ws/.swarm/runs/r1/implementor.w2.result.json)"]
    );
}

#[test]
fn allow_all_commands_lifts_the_limit() {
    let mut s = scope(Role::Editor, None);
    s.commands.all = true;
    let l = build(&profile(ProfileKind::Claude), &s);
    assert!(l.argv.iter().any(|x| x == "Bash"));
    assert!(!l.argv.iter().any(|x| x.starts_with("Bash(")));
    assert!(l.stdin.unwrap().contains("You may run any command."));
}

#[test]
fn codex_editor_answers_in_its_final_message_and_cannot_write_outside() {
    let s = scope(Role::Editor, None);
    let l = build(&profile(ProfileKind::Codex), &s);
    let a = &l.argv;
    assert_eq!(
        &a[..4],
        ["codex", "exec", "--json", "--skip-git-repo-check"]
    );
    assert!(has_pair(a, "-C", "/ws-swarm-x"));
    assert!(has_pair(a, "--model", "m1"));
    assert!(has_pair(a, "--sandbox", "workspace-write"));
    assert!(
        !a.iter().any(|x| x == "--add-dir"),
        "nothing writable outside: {a:?}"
    );
    assert!(has_pair(a, "-c", "features.plugins=false"));
    assert!(has_pair(a, "-c", "allow_login_shell=false"));
    assert!(has_pair(
        a,
        "-o",
        "/ws/.swarm/runs/r1/logs/step-0002.implementor.final-message.txt"
    ));
    assert_eq!(
        a[a.len() - 2..],
        ["--extra", "-"],
        "user args, then the prompt on stdin"
    );
    // No schema file in this scope: no --output-schema and nothing to take a result from.
    assert_eq!(l.structured, None);
    assert!(!a.iter().any(|x| x == "--output-schema"));
    let stdin = l.stdin.unwrap();
    assert!(
        stdin.starts_with("# Your role\n\nYou review.\n\n# Your task\n\nPROMPT"),
        "{stdin}"
    );
    assert!(
        stdin.contains("end your turn with your result as your final message"),
        "{stdin}"
    );
    assert!(stdin.contains("Do not commit"), "{stdin}");
    assert!(!stdin.contains("`git commit`"), "{stdin}");
}

#[test]
fn codex_reader_is_read_only_and_the_planner_writes_in_its_workspace() {
    let l = build(&profile(ProfileKind::Codex), &scope(Role::Reader, None));
    assert!(has_pair(&l.argv, "--sandbox", "read-only"));
    let l = build(&profile(ProfileKind::Codex), &scope(Role::Planner, None));
    assert!(has_pair(&l.argv, "--sandbox", "workspace-write"));
    assert!(has_pair(&l.argv, "-C", "/ws"));
    assert!(l.stdin.unwrap().contains(
        "write only /ws/.swarm/runs/r1/plan.json and /ws/.swarm/runs/r1/planner.result.json"
    ));
}

#[test]
fn codex_gets_the_strict_form_of_a_real_schema() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("implementor.schema.json");
    std::fs::write(&schema, crate::schema::embedded::IMPLEMENTOR_RESULT).unwrap();
    let mut s = scope(Role::Editor, None);
    s.result_schema = schema.clone();
    let l = build(&profile(ProfileKind::Codex), &s);
    let strict = s.scratch("output-schema.json");
    assert!(has_pair(
        &l.argv,
        "--output-schema",
        &strict.display().to_string()
    ));
    assert_eq!(l.files.len(), 1);
    assert_eq!(l.files[0].0, strict);
    let v: serde_json::Value = serde_json::from_str(&l.files[0].1).unwrap();
    assert_eq!(v["additionalProperties"], false);
    assert!(v.get("$schema").is_none());
    let props = v["properties"].as_object().unwrap();
    let req: Vec<&str> = v["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(req.len(), props.len(), "every property required: {v}");
    assert_eq!(
        l.structured,
        Some(Structured::FinalMessage {
            file: s.scratch("final-message.txt"),
            schema
        })
    );
}

#[test]
fn strict_schemas_make_optional_properties_nullable_and_answers_lose_those_nulls() {
    let original = serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"enum": ["passed", "failed"]},
            "notes": {"type": "string"},
            "why": {"type": ["string", "null"]},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "issues": {"type": "array", "items": {"type": "object", "required": ["d"],
                "properties": {"d": {"type": "string"}, "line": {"type": "integer"}}}},
            "free": {"type": "object"}
        }
    });
    let strict = super::codex::strict_schema(&original);
    assert_eq!(
        strict["properties"]["notes"]["type"],
        serde_json::json!(["string", "null"])
    );
    assert_eq!(
        strict["properties"]["mode"]["enum"],
        serde_json::json!(["a", "b", null])
    );
    assert_eq!(
        strict["properties"]["status"],
        serde_json::json!({"enum": ["passed", "failed"]})
    );
    let item = &strict["properties"]["issues"]["items"];
    assert_eq!(item["additionalProperties"], false);
    assert_eq!(item["required"], serde_json::json!(["d", "line"]));
    assert_eq!(strict["properties"]["free"]["additionalProperties"], false);
    assert_eq!(
        strict["properties"]["free"]["type"],
        serde_json::json!(["object", "null"])
    );
    let mut answer = serde_json::json!({
        "status": "passed", "notes": null, "why": null, "mode": null, "free": null,
        "issues": [{"d": "x", "line": null}]
    });
    drop_strict_nulls(&mut answer, &original);
    assert_eq!(
        answer,
        serde_json::json!({"status": "passed", "why": null, "issues": [{"d": "x"}]})
    );
}

#[test]
fn gemini_policy_allows_commands_by_prefix_and_exactly_the_result() {
    let s = scope(Role::Reader, None);
    let l = build(&profile(ProfileKind::Gemini), &s);
    let a = &l.argv;
    assert_eq!(
        &a[..4],
        ["gemini", "--output-format", "json", "--skip-trust"]
    );
    assert!(has_pair(a, "--approval-mode", "default"));
    let policy = s.scratch("gemini-policy.toml");
    assert!(has_pair(a, "--policy", &policy.display().to_string()));
    for d in [
        "/ws/.swarm/runs/r1",
        "/home/u/.cursor/agents/reviewer",
        "/ws/.swarm",
    ] {
        // The run folder is inside the standards folder: one grant covers both.
        if d == "/ws/.swarm/runs/r1" {
            continue;
        }
        assert!(has_pair(a, "--include-directories", d), "{d} in {a:?}");
    }
    assert!(
        a.iter().any(|x| x == "--prompt"),
        "a short prompt is an argument"
    );
    assert_eq!(l.stdin, None);
    let (path, text) = &l.files[0];
    assert_eq!(path, &policy);
    assert!(text.contains("commandPrefix = [\"git status\""), "{text}");
    assert!(text.contains("\"cargo test -p core\""), "{text}");
    assert!(
        text.contains("decision = \"deny\"\npriority = 100"),
        "{text}"
    );
    assert!(
        text.contains("argsPattern = \"\\\"file_path\\\":\\\"/ws/\\\\.swarm/runs/r1/reviewer\\\\.result\\\\.json\\\"\""),
        "{text}"
    );
    assert!(
        !text.contains("toolName = \"replace\""),
        "readers do not edit: {text}"
    );
    assert_eq!(
        l.env,
        [
            ("GIT_AUTHOR_NAME".to_string(), "Ann".to_string()),
            (
                "GIT_AUTHOR_EMAIL".to_string(),
                "ann@example.com".to_string()
            ),
            ("GIT_COMMITTER_NAME".to_string(), "Ann".to_string()),
            (
                "GIT_COMMITTER_EMAIL".to_string(),
                "ann@example.com".to_string()
            ),
            ("K".to_string(), "v".to_string()),
        ]
    );
    let e = build(&profile(ProfileKind::Gemini), &scope(Role::Editor, None));
    assert!(has_pair(&e.argv, "--approval-mode", "auto_edit"));
    assert!(
        e.files[0]
            .1
            .contains("only your result file may be written in the run folder")
    );
}

#[test]
fn a_long_prompt_goes_to_geminis_stdin() {
    let mut s = scope(Role::Reader, None);
    s.prompt = "x".repeat(200 * 1024);
    let l = build(&profile(ProfileKind::Gemini), &s);
    assert!(!l.argv.iter().any(|x| x == "--prompt"));
    assert!(l.stdin.unwrap().len() > 200 * 1024);
}

#[test]
fn cursor_answers_in_its_final_message() {
    let l = build(
        &profile(ProfileKind::CursorAgent),
        &scope(Role::Editor, None),
    );
    assert_eq!(
        &l.argv[..4],
        ["cursor-agent", "--print", "--output-format", "json"]
    );
    assert!(!l.argv.iter().any(|x| x == "--force"));
    assert_eq!(l.structured, Some(Structured::ResultText));
    assert!(
        l.stdin
            .unwrap()
            .contains("end your turn with your result as your final message")
    );
    let mut s = scope(Role::Editor, None);
    s.commands.all = true;
    assert!(
        build(&profile(ProfileKind::CursorAgent), &s)
            .argv
            .iter()
            .any(|x| x == "--force")
    );
}

#[test]
fn definitions_lose_their_front_matter() {
    assert_eq!(
        definition_body("---\nname: x\ndescription: y\n---\n\nDo it.\n"),
        "Do it."
    );
    assert_eq!(definition_body("Plain text.\n"), "Plain text.");
}
