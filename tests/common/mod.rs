//! Test environment: a temp dir holding a HOME (with the reference agent pack installed where
//! its schemaPaths point), a work repository with one commit, and a bare origin. The real
//! binary is driven with a pinned environment; agents are played by writing result files.
#![allow(dead_code)]

pub mod agents;
pub mod github;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_git-swarm");

pub const STANDARDS: &str = "# Standards\n\n- Format every change with the project's formatter before committing.\n- Every behaviour change comes with a test that fails without it.\n- Never edit generated files under dist/.\n";

pub struct Env {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub work: PathBuf,
    pub origin: PathBuf,
    pub gitconfig: PathBuf,
    pub extra_env: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code, want,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn action(&self) -> String {
        self.json()["action"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn base_env(cmd: &mut Command, home: &Path, gitconfig: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_SWARM_LOCK_TIMEOUT_MS", "20000");
}

impl Env {
    /// A repository with the reference pack installed and actionable standards committed.
    pub fn new() -> Env {
        let env = Env::bare();
        env.install_reference_pack();
        env.write_standards(STANDARDS);
        // The remote has everything the run starts from (a test that wants unpushed commits
        // makes its own).
        env.git(&["push", "-q", "origin", "main"]);
        env
    }

    /// A repository with one commit and an origin; nothing of git swarm's.
    pub fn bare() -> Env {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().canonicalize().unwrap();
        let home = root.join("home");
        let work = root.join("work");
        let origin = root.join("origin.git");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        let gitconfig = root.join("gitconfig");
        std::fs::write(
            &gitconfig,
            "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        let env = Env {
            tmp,
            home,
            work,
            origin,
            gitconfig,
            extra_env: Vec::new(),
        };
        env.git(&["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(env.work.join("src")).unwrap();
        std::fs::write(env.work.join("README.md"), "# app\n").unwrap();
        std::fs::write(env.work.join("src/lib.rs"), "pub fn hello() {}\n").unwrap();
        env.git(&["add", "-A"]);
        env.git(&["commit", "-q", "-m", "initial"]);
        env.git_in(&root, &["init", "-q", "--bare", "origin.git"]);
        env.git(&["remote", "add", "origin", env.origin.to_str().unwrap()]);
        env.git(&["push", "-q", "-u", "origin", "main"]);
        env
    }

    pub fn root(&self) -> PathBuf {
        self.work.parent().unwrap().to_path_buf()
    }

    pub fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel)
    }

    /// Copies the reference pack to ~/.cursor/agents/, exactly where its schemaPaths point.
    pub fn install_reference_pack(&self) {
        copy_dir(
            &Env::fixture("reference/agents"),
            &self.home.join(".cursor/agents"),
        );
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.join(".cursor/agents/manager/config.json")
    }

    pub fn config(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.config_path()).unwrap()).unwrap()
    }

    pub fn set_config(&self, v: &Value) {
        std::fs::write(self.config_path(), serde_json::to_string_pretty(v).unwrap()).unwrap();
    }

    pub fn write_standards(&self, text: &str) {
        std::fs::create_dir_all(self.work.join(".swarm")).unwrap();
        std::fs::write(self.work.join(".swarm/standards.md"), text).unwrap();
        self.git(&["add", ".swarm/standards.md"]);
        self.git(&["commit", "-q", "-m", "standards"]);
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.work, args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(dir);
        base_env(&mut cmd, &self.home, &self.gitconfig);
        let out = cmd.output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    pub fn git_ok(&self, dir: &Path, args: &[&str]) -> bool {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(dir);
        base_env(&mut cmd, &self.home, &self.gitconfig);
        cmd.output().map(|o| o.status.success()).unwrap_or(false)
    }

    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(dir);
        base_env(&mut cmd, &self.home, &self.gitconfig);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Another program with the same pinned environment as `git swarm` gets (a wrapper such
    /// as strace that runs the binary).
    pub fn program(&self, program: &Path, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir);
        base_env(&mut cmd, &self.home, &self.gitconfig);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn swarm_in(&self, dir: &Path, args: &[&str]) -> Out {
        let out = self.command(dir, args).output().expect("git-swarm runs");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn swarm(&self, args: &[&str]) -> Out {
        self.swarm_in(&self.work, args)
    }

    /// `git swarm <args> --json`
    pub fn sj(&self, args: &[&str]) -> Out {
        let mut a: Vec<&str> = args.to_vec();
        a.push("--json");
        self.swarm(&a)
    }

    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.work.join(".swarm/runs").join(id)
    }

    pub fn status(&self, id: &str) -> Value {
        read_json(&self.run_dir(id).join("run.status.json"))
    }

    /// A snapshot of `.swarm/` (paths and contents) and of git refs, to prove nothing changed.
    pub fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let swarm = self.work.join(".swarm");
        if swarm.exists() {
            walk(&swarm, &mut |p| {
                // Lock files (a run's `.lock`, `.worktrees.lock`) are not state.
                if p.file_name()
                    .is_some_and(|n| n == ".lock" || n == ".worktrees.lock")
                {
                    return;
                }
                // Only regular files are read: a FIFO would block, a symlink leads elsewhere.
                let meta = std::fs::symlink_metadata(p).ok();
                let content = match meta.map(|m| m.file_type()) {
                    Some(t) if t.is_file() => std::fs::read(p).unwrap_or_default(),
                    Some(t) if t.is_symlink() => format!(
                        "symlink to {}",
                        std::fs::read_link(p).unwrap_or_default().display()
                    )
                    .into_bytes(),
                    Some(t) => format!("{t:?}").into_bytes(),
                    None => Vec::new(),
                };
                out.push((p.display().to_string(), content));
            });
        }
        out.push(("refs".into(), self.git(&["for-each-ref"]).into_bytes()));
        out.push((
            "worktrees".into(),
            self.git(&["worktree", "list", "--porcelain"]).into_bytes(),
        ));
        out
    }

    /// Runs `git swarm <args>` with the failpoint `point` armed to abort the process (like
    /// kill -9) on its `skip+1`th hit; `true` when it hit.
    pub fn crashed_at(&self, args: &[&str], point: &str, skip: usize) -> bool {
        let out = self
            .command(&self.work, args)
            .env("FAILPOINTS", format!("{point}={skip}*off->return"))
            .output()
            .unwrap();
        out.status.code().is_none()
    }

    /// Starts a run and returns its id.
    pub fn start(&self, task: &str) -> String {
        let out = self.sj(&["start", task]);
        out.code(0);
        let j = out.json();
        assert_eq!(j["action"], "invoke", "{j}");
        j["run-id"].as_str().unwrap().to_string()
    }
}

pub fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

pub fn write_json(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        // A symlinked directory is an entry, not a place to descend into.
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

// ---- playing the agents -------------------------------------------------------------------

pub fn task(id: &str, files: &[&str], deps: &[&str]) -> Value {
    json!({"task-id": id, "description": format!("do {id}"), "files": files, "dependencies": deps})
}

pub fn plan(run_id: &str, friendly: &str, tasks: Vec<Value>) -> Value {
    json!({
        "id": run_id,
        "description": "test plan",
        "friendly-name": friendly,
        "goal": "Greet the user",
        "acceptance-criteria": ["hello() prints a greeting"],
        "lanes": [{
            "branch-name": friendly,
            "tasks": tasks,
            "touch-map": [],
            "collision-risk": "low",
            "test-plan-commands": ["cargo test"]
        }],
        "assumptions": [],
        "risks": [],
        "out-of-scope": []
    })
}

/// Plays the planner: writes plan.json and planner.result.json (plan-path relative to the
/// workspace root, as the reference planner writes it).
pub fn play_planner(env: &Env, run_id: &str, plan: &Value) {
    let dir = env.run_dir(run_id);
    write_json(&dir.join("plan.json"), plan);
    write_json(
        &dir.join("planner.result.json"),
        &json!({"subagent": "planner", "status": "complete", "plan-id": run_id,
                "plan-path": format!(".swarm/runs/{run_id}/plan.json")}),
    );
}

pub fn simple_plan(run_id: &str) -> Value {
    plan(
        run_id,
        "add-greeting",
        vec![task("t1", &["src/lib.rs"], &[])],
    )
}

/// The current handoff of a run.
pub fn handoff(env: &Env, run_id: &str) -> Value {
    read_json(&env.run_dir(run_id).join("handoff.json"))
}

/// Plays the implementor: edits and commits in the worktree, writes its result.
pub fn play_implementor(env: &Env, run_id: &str, status: &str) {
    let h = handoff(env, run_id);
    assert_eq!(h["to"], "implementor", "{h}");
    let wt = PathBuf::from(h["context"]["worktreePath"].as_str().expect("worktreePath"));
    let iteration = h["iteration"].as_u64().unwrap();
    std::fs::write(
        wt.join("src/lib.rs"),
        format!("pub fn hello() {{ println!(\"hello {iteration}\"); }}\n"),
    )
    .unwrap();
    env.git_in(&wt, &["add", "-A"]);
    env.git_in(
        &wt,
        &[
            "commit",
            "-q",
            "-m",
            &format!("implement, iteration {iteration}"),
        ],
    );
    write_json(
        &env.run_dir(run_id).join("implementor.result.json"),
        &json!({
            "schemaVersion": "1.0", "subagent": "implementor", "status": status,
            "runId": run_id, "handoffId": h["handoffId"], "iteration": iteration,
            "summary": format!("greeting, iteration {iteration}"), "filesChanged": ["src/lib.rs"],
            "checks": {"lint": {"passed": true, "command": "cargo clippy"}},
            "blockedReason": null
        }),
    );
}

pub fn play_reviewer(env: &Env, run_id: &str, verdict: &str) {
    let h = handoff(env, run_id);
    assert_eq!(h["to"], "reviewer", "{h}");
    let issues = if verdict == "rejected" {
        json!([{"description": "hello() must return the greeting", "file": "src/lib.rs", "line": 1, "standard": "tests"}])
    } else {
        json!([])
    };
    write_json(
        &env.run_dir(run_id).join("reviewer.result.json"),
        &json!({
            "schemaVersion": "1.0", "subagent": "reviewer", "runId": run_id,
            "handoffId": h["handoffId"], "verdict": verdict, "summary": format!("review: {verdict}"),
            "reviewedFiles": ["src/lib.rs"], "issues": issues, "createdAt": "2026-01-01T00:00:00Z"
        }),
    );
}

pub fn play_tester(env: &Env, run_id: &str, status: &str) {
    let h = handoff(env, run_id);
    assert_eq!(h["to"], "tester", "{h}");
    let mut r = json!({"subagent": "tester", "status": status, "summary": format!("tests {status}"), "command": "cargo test", "exit-code": 0});
    if status != "passed" {
        r["failures"] = json!(["tests::hello failed"]);
        r["exit-code"] = json!(101);
    }
    write_json(&env.run_dir(run_id).join("tester.result.json"), &r);
}

/// Every JSON file the tool wrote in the run folder is valid against the tool's schemas.
pub fn assert_run_files_valid(env: &Env, run_id: &str) {
    use git_swarm::schema::{builtin, embedded, violations};
    let dir = env.run_dir(run_id);
    let status = builtin(embedded::RUN_STATUS, "run.status");
    let handoff = builtin(embedded::HANDOFF, "handoff");
    let mir = builtin(embedded::MANUAL_INTERVENTION, "mir");
    let v = read_json(&dir.join("run.status.json"));
    let bad = violations(&status, &v);
    assert!(bad.is_empty(), "run.status.json: {bad:?}\n{v:#}");
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("handoff") && name.ends_with(".json") {
            let h = read_json(&e.path());
            let bad = violations(&handoff, &h);
            assert!(bad.is_empty(), "{name}: {bad:?}");
        }
        if name == "manual-intervention-required.result.json" {
            let bad = violations(&mir, &read_json(&e.path()));
            assert!(bad.is_empty(), "{name}: {bad:?}");
        }
        if name.ends_with(".tmp") {
            panic!("temporary file left behind: {name}");
        }
    }
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    for l in events.lines() {
        serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("events.jsonl line {l:?}: {e}"));
    }
}

// ---- publishing ---------------------------------------------------------------------------

impl Env {
    /// Makes `origin`'s fetch URL look like `url` while pushes go to the bare repository.
    pub fn remote_looks_like(&self, url: &str) {
        self.git(&["remote", "set-url", "origin", url]);
        let key = format!("url.{}.pushInsteadOf", self.origin.display());
        self.git(&["config", &key, url]);
        self.git(&[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ]);
    }

    /// A directory for fake tools, first on PATH for every command this env runs.
    pub fn fake_bin(&mut self) -> PathBuf {
        let dir = self.root().join("fakebin");
        if !dir.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let path = format!(
                "{}:{}",
                dir.display(),
                std::env::var("PATH").unwrap_or_default()
            );
            self.extra_env.push(("PATH".into(), path));
            self.extra_env.push((
                "FAKE_LOG".into(),
                self.root().join("fake.log").display().to_string(),
            ));
        }
        dir
    }

    /// Takes `tool` off PATH (a PATH of the fake tools and links to every other program of
    /// PATH's directories), for a machine where it is not installed.
    pub fn without_tool(&mut self, tool: &str) {
        let fake = self.fake_bin();
        let links = self.root().join("path-without-".to_string() + tool);
        std::fs::create_dir_all(&links).unwrap();
        let path = std::env::var("PATH").unwrap_or_default();
        for dir in std::env::split_paths(&path) {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = e.file_name();
                let to = links.join(&name);
                if name != tool && !to.exists() {
                    let _ = std::os::unix::fs::symlink(e.path(), &to);
                }
            }
        }
        let joined = format!("{}:{}", fake.display(), links.display());
        self.extra_env.push(("PATH".into(), joined));
    }

    /// Installs an executable `name` that logs its argv (one `---` line, then one argument per
    /// line) and answers with `script` (shell code).
    pub fn fake_tool(&mut self, name: &str, script: &str) -> PathBuf {
        let dir = self.fake_bin();
        let p = dir.join(name);
        self.write_fake(&p, script);
        p
    }

    pub fn write_fake(&mut self, p: &Path, script: &str) {
        self.fake_bin();
        let log = self.root().join("fake.log");
        let text = format!(
            "#!/bin/sh\n{{ echo \"--- $(basename \"$0\")\"; for a in \"$@\"; do printf '%s\\n' \"$a\"; done; }} >> '{}'\n{script}\n",
            log.display()
        );
        std::fs::write(p, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Every recorded call: (tool, argv).
    pub fn fake_calls(&self) -> Vec<(String, Vec<String>)> {
        let text = std::fs::read_to_string(self.root().join("fake.log")).unwrap_or_default();
        let mut calls: Vec<(String, Vec<String>)> = Vec::new();
        for line in text.lines() {
            if let Some(tool) = line.strip_prefix("--- ") {
                calls.push((tool.to_string(), Vec::new()));
            } else if let Some(c) = calls.last_mut() {
                c.1.push(line.to_string());
            }
        }
        calls
    }

    /// Plays a whole run up to the publish action; returns the run id and worktree.
    pub fn run_to_publish(&self) -> (String, PathBuf) {
        let id = self.start("Add a greeting");
        play_planner(self, &id, &simple_plan(&id));
        let j = self.sj(&["next"]).json();
        let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
        play_implementor(self, &id, "completed");
        self.sj(&["next"]).code(0);
        play_reviewer(self, &id, "approved");
        self.sj(&["next"]).code(0);
        play_tester(self, &id, "passed");
        assert_eq!(self.sj(&["next"]).json()["action"], "publish");
        (id, wt)
    }
}
