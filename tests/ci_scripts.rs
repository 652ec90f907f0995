//! The scripts inside the files `git swarm ci` writes, run here with a stand-in `git` on PATH
//! that records each `git swarm …` call and answers as the real commands would: the calls,
//! their arguments (a task full of shell syntax stays one argument), what a job hands to the
//! next (GitHub outputs, GitLab's dotenv report) and the exit codes.

#[path = "common/ci_tools.rs"]
mod ci_tools;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The literal block that starts on the first line containing `marker` after the first line
/// containing `from`, without its indentation.
fn block(text: &str, from: &str, marker: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.contains(from)).expect("from");
    let head = start
        + lines[start..]
            .iter()
            .position(|l| l.contains(marker))
            .expect("marker");
    let indent = |l: &str| l.len() - l.trim_start().len();
    let base = indent(lines[head]);
    let body: Vec<&str> = lines[head + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > base)
        .copied()
        .collect();
    let cut = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| l.get(cut..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A folder with a stand-in `git`: `git swarm <cmd> …` appends its arguments, each in
/// brackets, to `calls`, and prints the answer in `answers/<cmd>` (exit code in
/// `answers/<cmd>.code`).
struct Stage {
    dir: PathBuf,
}

impl Stage {
    fn new(env: &Env, name: &str) -> Stage {
        let dir = env.root().join(name);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("answers")).unwrap();
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let git = dir.join("bin/git");
        std::fs::write(
            &git,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done >> '{d}/calls'\necho >> '{d}/calls'\nif [ -f '{d}/answers/'\"$2\" ]; then cat '{d}/answers/'\"$2\"; fi\nif [ -f '{d}/answers/'\"$2\"'.code' ]; then exit \"$(cat '{d}/answers/'\"$2\"'.code')\"; fi\nexit 0\n",
                d = dir.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
        Stage { dir }
    }

    fn answer(&self, cmd: &str, json: &str, code: i32) {
        std::fs::write(self.dir.join("answers").join(cmd), format!("{json}\n")).unwrap();
        std::fs::write(
            self.dir.join("answers").join(format!("{cmd}.code")),
            code.to_string(),
        )
        .unwrap();
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.dir.join("calls")).unwrap_or_default()
    }

    /// Runs `script` with bash as the CI systems do (`-e`, `pipefail`), in this folder.
    fn run(&self, script: &str, vars: &[(&str, &str)]) -> (i32, String) {
        let path = format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.dir)
            .envs(vars.iter().copied())
            .output()
            .expect("bash runs");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

fn have(programs: &[&str]) -> bool {
    for p in programs {
        let found = Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            ci_tools::skip(&format!("{p} is not installed"));
            return false;
        }
    }
    true
}

const BATCH: &str = r#"{"run-id":"R1","action":"invoke","invocations":[{"agent":"implementor","worker":"w1"},{"agent":"implementor","worker":"w2"}]}"#;
const STARTED: &str = r#"{"run-id":"R1","action":"invoke","invocations":[{"agent":"planner"}]}"#;
/// A task a shell would take apart if it ever became part of a script.
const TASK: &str = "Fix \"$(touch pwned)\" and `touch pwned2`; it's $HOME's — \\n done";

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_github_coordinate_script_starts_pushes_drives_and_hands_out_the_batch() {
    if !have(&["bash", "jq"]) {
        return;
    }
    let env = Env::bare();
    let out = env.sj(&["ci", "github", "--label", "swarm", "--output", "-"]);
    out.code(0);
    let y = out.json()["content"].as_str().unwrap().to_string();
    let script = block(&y, "id: drive", "run: |");
    assert!(script.starts_with("if [ -n \"$RUN\" ]"), "{script}");

    // A new task: start (the task one argument), push, drive; the batch goes to the outputs.
    let s = Stage::new(&env, "new");
    s.answer("start", STARTED, 0);
    s.answer("run", BATCH, 0);
    let temp = s.path("tmp").display().to_string();
    let output = s.path("output").display().to_string();
    let vars = [
        ("TASK", TASK),
        ("RUN", ""),
        ("GITHUB_EVENT_NAME", "workflow_dispatch"),
        ("RUNNER_TEMP", temp.as_str()),
        ("GITHUB_OUTPUT", output.as_str()),
    ];
    let (code, log) = s.run(&script, &vars);
    assert_eq!(code, 0, "{log}");
    assert_eq!(
        s.calls(),
        format!(
            "[swarm][start][--json][--][{TASK}]\n[swarm][push][--run][R1][--remote][origin]\n[swarm][run][--run][R1][--workers-elsewhere][--no-publish][--json]\n"
        )
    );
    assert_eq!(
        read(&s.path("output")),
        "run-id=R1\naction=invoke\nworkers=[\"w1\",\"w2\"]\n"
    );
    assert!(!s.path("pwned").exists() && !s.path("pwned2").exists());

    // A run to continue: resumed, not started; an escalation ends the job with its code.
    let s = Stage::new(&env, "continue");
    s.answer(
        "run",
        r#"{"run-id":"R1","action":"escalated","message":"needs-human"}"#,
        4,
    );
    let output = s.path("output").display().to_string();
    let temp = s.path("tmp").display().to_string();
    let vars = [
        ("TASK", ""),
        ("RUN", "R1"),
        ("GITHUB_EVENT_NAME", "workflow_dispatch"),
        ("RUNNER_TEMP", temp.as_str()),
        ("GITHUB_OUTPUT", output.as_str()),
    ];
    let (code, log) = s.run(&script, &vars);
    assert_eq!(code, 4, "{log}");
    assert_eq!(
        s.calls(),
        "[swarm][resume][R1][--remote][origin]\n[swarm][run][--run][R1][--workers-elsewhere][--no-publish][--json]\n"
    );
    assert_eq!(
        read(&s.path("output")),
        "run-id=R1\naction=escalated\nworkers=[]\n"
    );

    // A labelled issue: its title and body are the task.
    let s = Stage::new(&env, "issue");
    s.answer("start", STARTED, 0);
    s.answer("run", r#"{"run-id":"R1","action":"publish"}"#, 0);
    let output = s.path("output").display().to_string();
    let temp = s.path("tmp").display().to_string();
    let vars = [
        ("TASK", ""),
        ("RUN", ""),
        ("GITHUB_EVENT_NAME", "issues"),
        ("ISSUE_TITLE", "Greet by name"),
        ("ISSUE_BODY", "Use $USER.\n`id`"),
        ("RUNNER_TEMP", temp.as_str()),
        ("GITHUB_OUTPUT", output.as_str()),
    ];
    let (code, log) = s.run(&script, &vars);
    assert_eq!(code, 0, "{log}");
    assert!(
        s.calls()
            .starts_with("[swarm][start][--json][--][Greet by name\n\nUse $USER.\n`id`]\n"),
        "{}",
        s.calls()
    );
    assert!(read(&s.path("output")).contains("action=publish\n"));

    // No task and no run: an error that says what to give, and no git swarm at all.
    let s = Stage::new(&env, "none");
    let output = s.path("output").display().to_string();
    let (code, log) = s.run(
        &script,
        &[
            ("TASK", ""),
            ("RUN", ""),
            ("GITHUB_EVENT_NAME", "workflow_dispatch"),
            ("GITHUB_OUTPUT", output.as_str()),
        ],
    );
    assert_eq!(code, 1);
    assert!(log.contains("::error::no task"), "{log}");
    assert_eq!(s.calls(), "");
}

#[test]
fn the_gitlab_scripts_hand_the_batch_to_its_workers_and_only_to_them() {
    if !have(&["bash", "node"]) {
        return;
    }
    let env = Env::bare();
    let out = env.sj(&["ci", "gitlab", "--max-workers", "2", "--output", "-"]);
    out.code(0);
    let y = out.json()["content"].as_str().unwrap().to_string();
    let coordinate = block(&y, "swarm-coordinate:", "- |");
    assert!(coordinate.starts_with("field() {"), "{coordinate}");

    let s = Stage::new(&env, "coordinate");
    s.answer("start", STARTED, 0);
    s.answer("run", BATCH, 0);
    let project = s.dir.display().to_string();
    let temp = s.path("tmp").display().to_string();
    let vars = [
        ("SWARM_TASK", TASK),
        ("SWARM_RUN", ""),
        ("SWARM_MAX_WORKERS", "2"),
        ("CI_PROJECT_DIR", project.as_str()),
        ("TMPDIR", temp.as_str()),
    ];
    let (code, log) = s.run(&coordinate, &vars);
    assert_eq!(code, 0, "{log}");
    assert_eq!(
        s.calls(),
        format!(
            "[swarm][start][--json][--][{TASK}]\n[swarm][push][--run][R1][--remote][origin]\n[swarm][run][--run][R1][--workers-elsewhere][--no-publish][--json]\n"
        )
    );
    assert_eq!(
        read(&s.path("swarm.env")),
        "SWARM_RUN_ID=R1\nSWARM_ACTION=invoke\nSWARM_WORKERS=w1,w2\n"
    );
    assert!(!s.path("pwned").exists());

    // More workers than worker jobs: the job stops and says what to raise.
    let s = Stage::new(&env, "too-many");
    s.answer("run", r#"{"run-id":"R1","action":"invoke","invocations":[{"worker":"w1"},{"worker":"w2"},{"worker":"w3"}]}"#, 0);
    let project = s.dir.display().to_string();
    let vars = [
        ("SWARM_TASK", ""),
        ("SWARM_RUN", "R1"),
        ("SWARM_MAX_WORKERS", "2"),
        ("CI_PROJECT_DIR", project.as_str()),
        ("TMPDIR", temp.as_str()),
    ];
    let (code, log) = s.run(&coordinate, &vars);
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("the batch has 3 workers, swarm-worker runs 2"),
        "{log}"
    );
    assert!(
        s.calls()
            .starts_with("[swarm][resume][R1][--remote][origin]\n")
    );

    // Each worker job goes on only for its own worker of this round's batch.
    let guard = block(&y, "swarm-worker:", "- |");
    for (index, action, goes_on) in [
        ("1", "invoke", true),
        ("2", "invoke", true),
        ("2", "publish", false),
        ("3", "invoke", false),
    ] {
        let s = Stage::new(&env, &format!("worker-{index}-{action}"));
        let (code, log) = s.run(
            &format!("{guard}\necho GOES ON"),
            &[
                ("CI_NODE_INDEX", index),
                ("SWARM_ACTION", action),
                ("SWARM_WORKERS", "w1,w2"),
            ],
        );
        assert_eq!(code, 0, "{log}");
        assert_eq!(log.contains("GOES ON"), goes_on, "w{index} {action}: {log}");
    }
    let work =
        "git swarm work --run \"$SWARM_RUN_ID\" --worker \"w${CI_NODE_INDEX:-1}\" --remote origin";
    let s = Stage::new(&env, "work");
    let (code, log) = s.run(work, &[("CI_NODE_INDEX", "2"), ("SWARM_RUN_ID", "R1")]);
    assert_eq!(code, 0, "{log}");
    assert_eq!(
        s.calls(),
        "[swarm][work][--run][R1][--worker][w2][--remote][origin]\n"
    );
    assert!(y.contains(&format!("    - {work}\n")));
}
