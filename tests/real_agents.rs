//! Whole `git swarm run`s with the real agent CLIs from npm (Claude Code, Codex, Gemini CLI),
//! each pointed at a scripted model server on 127.0.0.1 that plays every role by calling the
//! CLI's own tools: planner → a parallel batch of two implementors → a review rejection and
//! its fix → a tester running the plan's test command → publish to a bare origin.
//!
//! Checked: the run completes with the CLIs' built-in profiles (`"exec": "claude"` …), the
//! pushed branch holds the files, the token totals equal what the CLI reported (and the server
//! served), and nothing but 127.0.0.1 was contacted (every `connect(2)` of the whole process
//! tree, traced with strace).
//!
//! The CLIs are installed at pinned versions under `<target>/agent-clis/` (once; later runs
//! reuse them). Without npm (or strace) the tests are skipped with a message saying why —
//! unless `GIT_SWARM_REQUIRE_REAL_CLIS=1` (CI), which turns a skip into a failure.

mod common;
#[path = "common/model_server/mod.rs"]
mod model_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::*;
use model_server::{Api, Call, ModelServer, Reply, Turn};
use serde_json::{Value, json};

/// A CLI under test: its npm package, pinned version and executable.
#[derive(Clone, Copy)]
struct Cli {
    profile: &'static str,
    package: &'static str,
    version: &'static str,
    bin: &'static str,
}

const CLAUDE: Cli = Cli {
    profile: "claude",
    package: "@anthropic-ai/claude-code",
    version: "2.1.332",
    bin: "claude",
};

const CODEX: Cli = Cli {
    profile: "codex",
    package: "@openai/codex",
    version: "0.171.0",
    bin: "codex",
};

const GEMINI: Cli = Cli {
    profile: "gemini",
    package: "@google/gemini-cli",
    version: "0.61.0",
    bin: "gemini",
};

fn api_of(cli: Cli) -> Api {
    match cli.profile {
        "claude" => Api::Anthropic,
        "codex" => Api::Responses,
        _ => Api::Gemini,
    }
}

fn required() -> bool {
    std::env::var_os("GIT_SWARM_REQUIRE_REAL_CLIS").is_some_and(|v| v == "1")
}

/// Says why a test cannot run here: a skip, or (in CI) a failure.
fn skip(why: &str) {
    if required() {
        panic!("GIT_SWARM_REQUIRE_REAL_CLIS=1 but {why}");
    }
    eprintln!("skipped: {why}");
}

/// `<target>` of this build: the test executable is `<target>/<profile>/deps/<name>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The folder holding the CLI's executable, installing the pinned version with npm first if
/// needed (one installer at a time; a finished install is marked so a torn one is redone).
fn install(cli: Cli) -> Result<PathBuf, String> {
    let dir = target_dir()
        .join("agent-clis")
        .join(format!("{}@{}", cli.bin, cli.version));
    let bin = dir.join("node_modules/.bin");
    let done = dir.join(".installed");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let lock =
        std::fs::File::create(dir.with_file_name(format!("{}@{}.lock", cli.bin, cli.version)))
            .map_err(|e| format!("cannot create the install lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("cannot lock the install: {e}"))?;
    if done.exists() && bin.join(cli.bin).exists() {
        return Ok(bin);
    }
    let npm = which("npm").ok_or("npm is not installed")?;
    let out = Command::new(npm)
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&dir)
        .arg(format!("{}@{}", cli.package, cli.version))
        .output()
        .map_err(|e| format!("npm did not run: {e}"))?;
    if !out.status.success() || !bin.join(cli.bin).exists() {
        return Err(format!(
            "npm install {}@{} failed: {}",
            cli.package,
            cli.version,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ));
    }
    std::fs::write(&done, "").map_err(|e| e.to_string())?;
    Ok(bin)
}

fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(prog))
            .find(|f| f.is_file())
    })
}

/// The absolute paths a prompt names (trailing punctuation and quotes stripped).
fn paths_in(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '`' || c == '"' || c == '\'')
        .map(|w| w.trim_end_matches(['.', ',', ';', ':', ')']))
        .filter(|w| w.starts_with('/') && w.len() > 1)
        .map(str::to_string)
        .collect()
}

/// The one result file an invocation's prompt names.
fn result_path(prompt: &str) -> Option<String> {
    paths_in(prompt)
        .into_iter()
        .find(|p| p.ends_with(".result.json"))
}

fn handoff_path(prompt: &str) -> Option<String> {
    paths_in(prompt).into_iter().find(|p| {
        Path::new(p)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("handoff"))
    })
}

/// What the files of the scenario hold: the first pass writes them, the fix pass (after the
/// reviewer's rejection) corrects `a.txt`.
fn content(file: &str, fix: bool) -> String {
    match (file, fix) {
        ("a.txt", false) => "alpha\n".into(),
        ("a.txt", true) => "alpha, reviewed\n".into(),
        ("b.txt", _) => "beta\n".into(),
        (other, _) => format!("{other}\n"),
    }
}

/// The plan the planner writes: two independent tasks (a parallel batch of two) and a test.
fn the_plan(run_id: &str) -> Value {
    json!({
        "id": run_id,
        "friendly-name": "two-files",
        "goal": "Write a.txt and b.txt",
        "description": "Two independent files, checked by test.sh",
        "acceptance-criteria": ["sh test.sh passes"],
        "assumptions": [],
        "risks": [],
        "out-of-scope": [],
        "lanes": [{
            "branch-name": "two-files",
            "touch-map": ["a.txt", "b.txt"],
            "collision-risk": "low",
            "test-plan-commands": ["sh test.sh"],
            "tasks": [
                {"task-id": "t1", "description": "write a.txt", "files": ["a.txt"], "dependencies": []},
                {"task-id": "t2", "description": "write b.txt", "files": ["b.txt"], "dependencies": []}
            ]
        }]
    })
}

/// The steps of one invocation, in order; the last is the final answer. Every role reads its
/// handoff first (proving it may), works with the CLI's own tools, writes its result where it
/// may write, and answers with the result (the CLI's structured output, where it has one).
fn steps(api: Api, prompt: &str) -> Result<Vec<Reply>, String> {
    let result = result_path(prompt).ok_or("the prompt names no result file")?;
    let run_dir = Path::new(&result)
        .parent()
        .ok_or("result without a folder")?
        .to_path_buf();
    let run_id = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = Path::new(&result)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Codex's readers run in a read-only sandbox and answer in their final message.
    let may_write_result =
        !(api == Api::Responses && (name.starts_with("reviewer") || name.starts_with("tester")));
    // Codex keeps `.git` read-only: its agents leave committing to git swarm.
    let commits = api != Api::Responses;
    let mut out = Vec::new();
    let finish = |out: &mut Vec<Reply>, v: Value| {
        if may_write_result {
            out.push(Reply::Calls(vec![Call::Write {
                path: result.clone(),
                content: format!("{v:#}\n"),
            }]));
        }
        out.push(Reply::Final(v.to_string()));
    };
    if name == "planner.result.json" {
        let plan = run_dir.join("plan.json");
        out.push(Reply::Calls(vec![Call::Bash {
            command: "git status".into(),
        }]));
        out.push(Reply::Calls(vec![Call::Write {
            path: plan.display().to_string(),
            content: format!("{:#}\n", the_plan(&run_id)),
        }]));
        finish(
            &mut out,
            json!({"subagent": "planner", "status": "complete", "plan-id": run_id,
                   "plan-path": plan.display().to_string()}),
        );
        return Ok(out);
    }
    let handoff = handoff_path(prompt).ok_or("the prompt names no handoff")?;
    let h: Value =
        serde_json::from_slice(&std::fs::read(&handoff).map_err(|e| format!("{handoff}: {e}"))?)
            .map_err(|e| format!("{handoff}: {e}"))?;
    out.push(Reply::Calls(vec![Call::Read {
        path: handoff.clone(),
    }]));
    let hid = h["handoffId"].as_str().unwrap_or_default().to_string();
    let iteration = h["iteration"].as_u64().unwrap_or(1);
    if name.starts_with("implementor") {
        let fix = h["context"]["feedback"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        let files: Vec<String> = h["context"]["allowedFiles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if !fix {
            out.push(Reply::Calls(vec![Call::Write {
                path: run_dir.join("agent-notes.txt").display().to_string(),
                content: "an implementor may not write here\n".into(),
            }]));
        }
        for f in &files {
            out.push(Reply::Calls(vec![Call::Write {
                path: f.clone(),
                content: content(f, fix),
            }]));
        }
        if commits {
            out.push(Reply::Calls(vec![Call::Bash {
                command: format!("git add {}", files.join(" ")),
            }]));
            out.push(Reply::Calls(vec![Call::Bash {
                command: format!(
                    "git commit -q -m \"{}\"",
                    if fix {
                        "Address the review"
                    } else {
                        "Write the task's file"
                    }
                ),
            }]));
        }
        if fix {
            out.push(Reply::Calls(vec![Call::Bash {
                command: "sh test.sh".into(),
            }]));
        }
        finish(
            &mut out,
            json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed",
                   "runId": run_id, "handoffId": hid, "iteration": iteration,
                   "summary": format!("wrote {}", files.join(", ")), "filesChanged": files,
                   "checks": {}}),
        );
    } else if name.starts_with("reviewer") {
        out.push(Reply::Calls(vec![Call::Bash {
            command: "git log --oneline".into(),
        }]));
        let approved = h["context"]["filesChanged"]
            .as_array()
            .is_some_and(|_| iteration > 1);
        if !approved {
            out.push(Reply::Calls(vec![Call::Write {
                path: "review-notes.txt".into(),
                content: "a reviewer may not write this\n".into(),
            }]));
            out.push(Reply::Calls(vec![Call::Bash {
                command: "touch sneaky.txt".into(),
            }]));
        }
        finish(
            &mut out,
            json!({"schemaVersion": "1.0", "subagent": "reviewer", "runId": run_id,
                   "handoffId": hid,
                   "verdict": if approved { "approved" } else { "rejected" },
                   "summary": if approved { "fine now" } else { "a.txt must say it was reviewed" },
                   "reviewedFiles": ["a.txt", "b.txt"],
                   "issues": if approved { json!([]) } else {
                       json!([{"description": "a.txt must read 'alpha, reviewed'", "file": "a.txt", "line": 1}])
                   },
                   "createdAt": "2026-01-01T00:00:00Z"}),
        );
    } else if name.starts_with("tester") {
        out.push(Reply::Calls(vec![Call::Bash {
            command: "sh test.sh".into(),
        }]));
        // The outcome of the test decides the status: filled in by `script` from the call's
        // outcome (see below); here the passing form.
        finish(
            &mut out,
            json!({"subagent": "tester", "status": "passed", "summary": "sh test.sh passed",
                   "command": "sh test.sh", "exit-code": 0}),
        );
    } else {
        return Err(format!("no role for result file {name}"));
    }
    Ok(out)
}

/// The model: plays the next step of the invocation the prompt describes. A tool call the CLI
/// refused or that failed ends the invocation with a message saying so (the run then fails,
/// and the test shows the CLI's log).
/// Calls that try what the agent's permissions forbid: a reviewer writing in its worktree or
/// running a command it was not given, an implementor writing in the run folder beside its
/// result. Each must be refused by the CLI itself.
fn is_probe(c: &Call) -> bool {
    match c {
        Call::Write { path, .. } => {
            path.ends_with("review-notes.txt") || path.ends_with("agent-notes.txt")
        }
        Call::Bash { command } => command.contains("sneaky.txt"),
        Call::Read { .. } => false,
    }
}

/// What became of every probe: `(call, refused)`, as the CLI reported it back.
static PROBES: std::sync::Mutex<Vec<(String, bool)>> = std::sync::Mutex::new(Vec::new());

fn script(t: &Turn) -> Reply {
    {
        let mut seen = PROBES.lock().unwrap();
        for o in t.done.iter().filter(|o| is_probe(&o.call)) {
            let key = format!("{:?} in {}", o.call, t.prompt.len());
            if !seen.iter().any(|(k, _)| *k == key) {
                seen.push((key, o.is_error));
            }
        }
    }
    if let Some(bad) = t.done.iter().find(|o| o.is_error && !is_probe(&o.call)) {
        // `sh test.sh` failing is the tester's finding, not a refusal.
        let test_failed = matches!(&bad.call, Call::Bash { command } if command == "sh test.sh");
        if !test_failed {
            return Reply::Final(format!(
                "cannot go on: {:?} failed: {}",
                bad.call, bad.output
            ));
        }
    }
    match steps(t.api, &t.prompt) {
        Ok(steps) => {
            let i = t.done.len().min(steps.len() - 1);
            let mut reply = steps[i].clone();
            // The tester reports what the test did.
            if let Some(o) = t
                .done
                .iter()
                .find(|o| matches!(&o.call, Call::Bash { command } if command == "sh test.sh"))
                && o.is_error
                && result_path(&t.prompt).is_some_and(|r| r.ends_with("tester.result.json"))
            {
                let v = json!({"subagent": "tester", "status": "failed", "summary": "sh test.sh failed",
                               "command": "sh test.sh", "exit-code": 1, "output": o.output});
                reply = match reply {
                    Reply::Calls(c) if matches!(c.first(), Some(Call::Write { .. })) => {
                        Reply::Calls(vec![Call::Write {
                            path: result_path(&t.prompt).unwrap_or_default(),
                            content: format!("{v:#}\n"),
                        }])
                    }
                    Reply::Final(_) => Reply::Final(v.to_string()),
                    other => other,
                };
            }
            reply
        }
        Err(e) => Reply::Final(format!(
            "the scripted model does not understand this prompt: {e}"
        )),
    }
}

/// The repository of the scenario: standards, and `test.sh` checking both files.
fn scenario_env(cli: Cli, bin: &Path, server: &ModelServer) -> Env {
    let mut env = Env::new();
    std::fs::write(
        env.work.join("test.sh"),
        "set -e\ngrep -qx 'alpha, reviewed' a.txt\ngrep -qx beta b.txt\necho both files are right\n",
    )
    .unwrap();
    env.git(&["add", "test.sh"]);
    env.git(&["commit", "-q", "-m", "test"]);
    env.git(&["push", "-q", "origin", "main"]);
    let mut cfg = env.config();
    cfg["exec"] = json!(cli.profile);
    cfg["retry-control"] = json!({"maxRetries": 1});
    cfg["parallelization"] = json!({"enabled": true, "rules": [
        {"maxConcurrent": 2, "requireDisjointFiles": true, "respectDependencies": true}]});
    for a in cfg["subagents"].as_array_mut().unwrap() {
        a["timeoutSeconds"] = json!(300);
    }
    env.set_config(&cfg);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let url = server.base_url();
    let mut vars: Vec<(String, String)> = vec![("PATH".into(), path)];
    match cli.profile {
        "claude" => vars.extend([
            ("ANTHROPIC_BASE_URL".into(), url),
            ("ANTHROPIC_API_KEY".into(), "test-key".into()),
            (
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
                "1".into(),
            ),
            ("DISABLE_TELEMETRY".into(), "1".into()),
            ("DISABLE_AUTOUPDATER".into(), "1".into()),
            ("CLAUDE_CODE_MAX_RETRIES".into(), "0".into()),
        ]),
        "codex" => {
            let codex_home = env.home.join(".codex");
            std::fs::create_dir_all(&codex_home).unwrap();
            std::fs::write(
                codex_home.join("config.toml"),
                // A model Codex knows (its tools: exec_command and apply_patch), the stand-in as
                // provider, no retries (a failure shows at once), no analytics (they would
                // reach ab.chatgpt.com).
                format!(
                    "model = \"gpt-5.5\"\nmodel_provider = \"mock\"\n\n[analytics]\nenabled = false\n\n[features]\nunbounded_connection_retries = false\n\n[model_providers.mock]\nname = \"mock\"\nbase_url = \"{url}/v1\"\nwire_api = \"responses\"\nenv_key = \"MOCK_API_KEY\"\nrequest_max_retries = 0\nstream_max_retries = 0\nstream_idle_timeout_ms = 60000\n"
                ),
            )
            .unwrap();
            vars.extend([
                ("CODEX_HOME".into(), codex_home.display().to_string()),
                ("MOCK_API_KEY".into(), "test-key".into()),
            ]);
        }
        "gemini" => {
            // Gemini CLI runs shell commands with a filtered environment that drops
            // GIT_CONFIG_GLOBAL; git then reads the identity from where users keep it.
            std::fs::copy(&env.gitconfig, env.home.join(".gitconfig")).unwrap();
            let dir = env.home.join(".gemini");
            std::fs::create_dir_all(&dir).unwrap();
            // API-key auth against the base URL, no usage statistics (they would reach
            // play.googleapis.com), one attempt per request, a fixed model (no router calls).
            std::fs::write(
                dir.join("settings.json"),
                json!({
                    "security": {"auth": {"selectedType": "gemini-api-key"}},
                    "privacy": {"usageStatisticsEnabled": false},
                    "general": {"maxAttempts": 1},
                    "model": {"name": "gemini-2.5-flash", "disableLoopDetection": true}
                })
                .to_string(),
            )
            .unwrap();
            let tmp = env.root().join("gemini-tmp");
            std::fs::create_dir_all(&tmp).unwrap();
            vars.extend([
                ("GOOGLE_GEMINI_BASE_URL".into(), url),
                ("GEMINI_API_KEY".into(), "test-key".into()),
                ("GEMINI_CLI_NO_RELAUNCH".into(), "1".into()),
                ("TMPDIR".into(), tmp.display().to_string()),
            ]);
        }
        _ => {}
    }
    env.extra_env.extend(vars);
    env
}

/// Every agent log of the run folder `run`, each under its path: what a failure shows.
fn agent_logs(run: &Path) -> String {
    let mut all = String::new();
    if let Ok(d) = std::fs::read_dir(run.join("logs")) {
        let mut files: Vec<PathBuf> = d.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            all.push_str(&format!(
                "--- {}\n{}\n",
                f.display(),
                String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default())
            ));
        }
    }
    all
}

/// Every IPv4/IPv6 address a traced process tree connected to, from `strace -e connect`.
fn connects(trace: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for f in std::fs::read_dir(trace.parent().unwrap())
        .unwrap()
        .flatten()
    {
        let name = f.file_name().to_string_lossy().into_owned();
        if !name.starts_with(trace.file_name().unwrap().to_str().unwrap()) {
            continue;
        }
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        for l in text.lines().filter(|l| l.contains("connect(")) {
            if l.contains("AF_INET6") {
                let addr = l
                    .split("inet_pton(AF_INET6, \"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or("?");
                out.push(format!("[{addr}]"));
            } else if l.contains("AF_INET") {
                let addr = l
                    .split("inet_addr(\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or("?");
                let port = l
                    .split("htons(")
                    .nth(1)
                    .and_then(|r| r.split(')').next())
                    .unwrap_or("?");
                out.push(format!("{addr}:{port}"));
            }
        }
    }
    out
}

fn whole_run(cli: Cli) {
    let bin = match install(cli) {
        Ok(b) => b,
        Err(e) => return skip(&format!("{} is not available: {e}", cli.package)),
    };
    let Some(strace) = which("strace") else {
        return skip("strace is not installed (it proves nothing but 127.0.0.1 was contacted)");
    };
    let server = ModelServer::start(Arc::new(script));
    let env = scenario_env(cli, &bin, &server);
    let trace = env.root().join("trace");
    let out = env
        .program(&strace, &env.work)
        .args(["-f", "-qq", "-e", "trace=connect", "-o"])
        .arg(&trace)
        .args([
            BIN,
            "run",
            "Write a.txt and b.txt so that test.sh passes",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let j: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("git swarm run printed no JSON ({e}):\n{stdout}\n{stderr}"));
    let id = j["run-id"].as_str().unwrap_or_default().to_string();
    let logs = || agent_logs(&env.run_dir(&id));
    if std::env::var_os("GIT_SWARM_SHOW_AGENT_LOGS").is_some() {
        eprintln!("{}", logs());
    }
    assert_eq!(j["action"], "done", "{j:#}\n{}", logs());
    let st = env.status(&id);

    // The work is on the remote: both files, with the review's fix.
    let branch = st["branch"].as_str().unwrap().to_string();
    let pushed = |f: &str| env.git_in(&env.origin, &["show", &format!("refs/heads/{branch}:{f}")]);
    assert_eq!(pushed("a.txt"), "alpha, reviewed");
    assert_eq!(pushed("b.txt"), "beta");
    // Commits speak the plan's words: the agents' own, or git swarm's of what they left.
    let subjects = env.git_in(
        &env.origin,
        &["log", "--format=%s", &format!("refs/heads/{branch}")],
    );
    assert!(!subjects.contains("left uncommitted"), "{subjects}");
    if cli.profile == "codex" {
        // Codex cannot commit (its sandbox keeps .git read-only).
        for s in ["Write a.txt", "Write b.txt", "Write a.txt and b.txt"] {
            assert!(subjects.lines().any(|l| l == s), "{s:?} in\n{subjects}");
        }
    }

    // The pipeline ran as planned: a batch of two, one rejection and its fix.
    let events: Vec<Value> = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let signal = |s: &str| events.iter().filter(|e| e["signal"] == s).count();
    assert_eq!(signal("BATCH_MERGED"), 1, "{}", logs());
    assert_eq!(signal("LOOP"), 1, "one review rejection");
    assert_eq!(
        signal("RELAUNCH"),
        0,
        "every agent finished at its first launch:\n{}",
        logs()
    );

    // The totals are what the CLI reported, which is what the server served.
    let (responses, served) = server.served(api_of(cli));
    assert!(responses > 0);
    let total: u64 = st["step-tokens"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let split = st["swarm"]["tokenSplit"].as_object().unwrap();
    let part = |k: &str| -> u64 { split.values().map(|v| v[k].as_u64().unwrap()).sum() };
    // Gemini reports no cache writes: they are a part of its prompt count, so of input.
    let want = if cli.profile == "gemini" {
        (
            served.input + served.cache_creation,
            served.output,
            served.cache_read,
            0,
        )
    } else {
        (
            served.input,
            served.output,
            served.cache_read,
            served.cache_creation,
        )
    };
    assert_eq!(
        (
            part("input"),
            part("output"),
            part("cacheRead"),
            part("cacheWrite")
        ),
        want,
        "{st:#}"
    );
    assert_eq!(
        total,
        served.input + served.output + served.cache_read + served.cache_creation,
        "{st:#}"
    );

    // Nothing but the model server on 127.0.0.1 was contacted.
    let port = server.port.to_string();
    let all = connects(&trace);
    assert!(
        !all.is_empty(),
        "the trace saw the CLI connect to the server"
    );
    let foreign: Vec<&String> = all
        .iter()
        .filter(|a| *a != &format!("127.0.0.1:{port}"))
        .collect();
    assert!(
        foreign.is_empty(),
        "contacted besides 127.0.0.1:{port}: {foreign:?}"
    );
    assert_run_files_valid(&env, &id);
}

#[test]
fn claude_code_runs_a_whole_pipeline() {
    whole_run(CLAUDE);
}

#[test]
fn codex_runs_a_whole_pipeline() {
    whole_run(CODEX);
}

#[test]
fn gemini_cli_runs_a_whole_pipeline() {
    whole_run(GEMINI);
}

/// The same pipeline with its parallel batch on other machines: the coordinator pushes the
/// run and stops at the batch's hand-out; each worker runs in a clone of its own with the real
/// CLI (`git swarm work`), pushing its branch and result; the coordinator merges the batch and
/// runs the rest of the pipeline up to the publish.
fn distributed_run(cli: Cli) {
    let bin = match install(cli) {
        Ok(b) => b,
        Err(e) => return skip(&format!("{} is not available: {e}", cli.package)),
    };
    let server = ModelServer::start(Arc::new(script));
    let env = scenario_env(cli, &bin, &server);
    let id = env.start("Write a.txt and b.txt so that test.sh passes");
    env.sj(&["push", "--run", &id]).code(0);
    let logs = |dir: &Path| agent_logs(&dir.join(".swarm/runs").join(&id));
    let coordinate = || -> Value {
        let out = env.sj(&["run", "--run", &id, "--workers-elsewhere", "--no-publish"]);
        assert_eq!(
            out.code,
            0,
            "{}\n{}\n{}",
            out.stdout,
            out.stderr,
            logs(&env.work)
        );
        out.json()
    };
    let j = coordinate();
    assert_eq!(j["action"], "invoke", "{j:#}\n{}", logs(&env.work));
    let workers: Vec<String> = j["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["worker"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(workers, ["w1", "w2"], "{j:#}");
    for w in &workers {
        let name = format!("machine-{w}");
        env.git_in(
            &env.root(),
            &["clone", "-q", env.origin.to_str().unwrap(), &name],
        );
        let m = env.root().join(&name);
        let out = env.swarm_in(&m, &["work", "--run", &id, "--worker", w, "--json"]);
        assert_eq!(out.code, 0, "{}\n{}\n{}", out.stdout, out.stderr, logs(&m));
        assert_eq!(out.json()["action"], "result recorded", "{}", out.stdout);
    }
    let j = coordinate();
    assert_eq!(j["action"], "publish", "{j:#}\n{}", logs(&env.work));
    // What the tester passed: the batch's merge and the review's fix (Codex cannot commit: its
    // fix is committed by the publish, which this run leaves to a person).
    let wt = PathBuf::from(env.status(&id)["worktreePath"].as_str().unwrap());
    let file = |f: &str| std::fs::read_to_string(wt.join(f)).unwrap();
    assert_eq!(file("a.txt").trim_end(), "alpha, reviewed");
    assert_eq!(file("b.txt").trim_end(), "beta");
    let branch = j["branch"].as_str().unwrap().to_string();
    assert_eq!(env.git(&["show", &format!("{branch}:b.txt")]), "beta");
    // Each worker's result came through the remote's state, once.
    let subjects = env.git_in(
        &env.origin,
        &["log", "--format=%s", &format!("refs/swarm/runs/{id}")],
    );
    assert_eq!(
        subjects.lines().filter(|s| s.starts_with("work: ")).count(),
        2,
        "{subjects}"
    );
    let events = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl")).unwrap();
    assert_eq!(events.matches("\"BATCH_MERGED\"").count(), 1, "{events}");
    assert_run_files_valid(&env, &id);
}

#[test]
fn claude_code_workers_run_on_other_machines() {
    distributed_run(CLAUDE);
}

#[test]
fn codex_workers_run_on_other_machines() {
    distributed_run(CODEX);
}
