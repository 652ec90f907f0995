//! Repository content is not trusted until the user says so: commands named by a committed
//! policy or a repository-local workflow config run only after `git swarm trust`, and the
//! setup command's time limit.

mod common;

use common::agents::Exec;
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn commit_policy(env: &Env, v: &Value) {
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        serde_json::to_string_pretty(v).unwrap(),
    )
    .unwrap();
    env.git(&["add", ".swarm/policies.json"]);
    env.git(&["commit", "-q", "-m", "policy"]);
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn trust_file(env: &Env) -> PathBuf {
    env.home.join(".config/git-swarm/trust.json")
}

fn on_origin(env: &Env, branch: &str) -> bool {
    env.git_ok(
        &env.origin,
        &[
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ],
    )
}

/// A policy that would run `sh -c` when a worktree is made and when publishing; each command
/// leaves a line in `ran.log` beside the repository.
fn marker_policy(env: &Env) -> PathBuf {
    let marker = env.root().join("ran.log");
    let m = marker.display();
    commit_policy(
        env,
        &json!({
            "git": {"allowUntrackedFiles": false},
            "worktree": {"setupCommand": ["sh", "-c", format!("echo setup >> {m}")]},
            "pr": {"createCommand": ["sh", "-c", format!("echo pr >> {m}; echo https://example.test/pr/7")]}
        }),
    );
    marker
}

#[test]
fn a_committed_policy_runs_nothing_before_trust_and_everything_after() {
    let env = Env::new();
    let marker = marker_policy(&env);

    let before = env.snapshot();
    let out = env.sj(&["start", "Add a greeting"]);
    out.code(3);
    let j = out.json();
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(msg.contains(".swarm/policies.json"), "{msg}");
    assert!(msg.contains("is not trusted in this repository"), "{msg}");
    assert!(
        msg.contains("/worktree/setupCommand — setup command, runs in each new worktree"),
        "{msg}"
    );
    assert!(
        msg.contains("sh -c 'echo setup >> "),
        "the argv as it runs: {msg}"
    );
    assert!(
        !msg.contains("/pr/createCommand"),
        "start lists only what it would run: {msg}"
    );
    assert_eq!(j["error"]["kind"], "refused");
    assert!(
        j["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("run 'git swarm trust'"),
        "{j}"
    );
    assert_eq!(before, env.snapshot(), "nothing written");
    assert!(!env.work.join(".swarm/runs").exists());
    let text = env.swarm(&["start", "Add a greeting"]);
    text.code(3);
    assert!(
        text.stderr
            .contains("hint: read .swarm/policies.json yourself"),
        "{}",
        text.stderr
    );

    // --show records nothing.
    let j = env.sj(&["trust", "--show"]).json();
    assert_eq!(j["action"], "show");
    assert_eq!(j["files"][0]["state"], "untrusted");
    assert_eq!(j["files"][0]["commands"].as_array().unwrap().len(), 2);
    assert!(!trust_file(&env).exists());
    env.sj(&["start", "Add a greeting"]).code(3);

    let out = env.swarm(&["trust"]);
    out.code(0);
    assert!(
        out.stdout.contains("trusted now (was not trusted)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("/pr/createCommand"), "{}", out.stdout);
    assert!(!marker.exists(), "trusting runs nothing");

    let (id, _) = env.run_to_publish();
    assert_eq!(
        read(&marker),
        "setup\n",
        "the setup command ran once trusted"
    );
    env.sj(&["publish"]).code(0);
    assert_eq!(read(&marker), "setup\npr\n");
    assert_eq!(env.status(&id)["prUrl"], "https://example.test/pr/7");
}

#[test]
fn a_changed_policy_needs_trusting_again_and_publish_refuses_before_pushing() {
    let env = Env::new();
    let marker = env.root().join("ran.log");
    let pr = |n: u32| {
        json!({"pr": {"baseBranch": "main", "createCommand":
            ["sh", "-c", format!("echo pr{n} >> {}; echo https://example.test/pr/{n}", marker.display())]}})
    };
    commit_policy(&env, &pr(1));
    // No setup command: the run needs no trust until publishing.
    let (id, wt) = env.run_to_publish();
    let before = env.snapshot();
    let out = env.sj(&["publish"]);
    out.code(3);
    let msg = out.error_message();
    assert!(
        msg.contains(
            "/pr/createCommand — pull-request command, runs when publish opens the pull request"
        ),
        "{msg}"
    );
    assert_eq!(
        before,
        env.snapshot(),
        "nothing committed, pushed or recorded"
    );
    assert!(!on_origin(&env, "swarm/add-greeting"), "nothing pushed");
    assert!(wt.exists());
    assert!(!marker.exists());

    env.sj(&["trust"]).code(0);
    // The policy changes (a pull, a commit): its new content is not trusted.
    commit_policy(&env, &pr(2));
    let out = env.sj(&["publish"]);
    out.code(3);
    assert!(
        out.error_message().contains("changed since it was trusted"),
        "{}",
        out.error_message()
    );
    assert!(!on_origin(&env, "swarm/add-greeting"));
    let j = env.sj(&["trust", "--show"]).json();
    assert_eq!(j["files"][0]["state"], "changed");

    env.sj(&["trust"]).code(0);
    env.sj(&["publish"]).code(0);
    assert_eq!(read(&marker), "pr2\n");
    assert_eq!(env.status(&id)["prUrl"], "https://example.test/pr/2");
    assert!(on_origin(&env, "swarm/add-greeting"));
}

#[test]
fn a_policy_without_commands_needs_no_trust() {
    let env = Env::new();
    commit_policy(
        &env,
        &json!({
            "git": {"allowUntrackedFiles": true, "branching": {"branchPrefix": "swarm/"}},
            "fileAccess": {"deny": ["secrets/**"]},
            "pr": {"baseBranch": "main", "createCommand": null, "titleTemplate": "[swarm] {goal}"},
            "agents": {"allowedCommands": [], "allowAllCommands": false},
            "worktree": {"setupTimeoutSeconds": 30}
        }),
    );
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    assert_eq!(env.status(&id)["outcome"], "completed");
    let j = env.sj(&["trust"]).json();
    assert_eq!(j["action"], "nothing");
    assert_eq!(j["files"][0]["state"], "no-commands");
    assert!(!trust_file(&env).exists(), "nothing to record");
    let out = env.swarm(&["trust"]);
    assert!(
        out.stdout.contains("names no commands; needs no trust"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_workflow_config_inside_the_repository_launches_no_agent_before_trust() {
    let x = Exec::new();
    let env = &x.env;
    std::fs::write(
        env.work.join(".swarm/config.json"),
        serde_json::to_string_pretty(&env.config()).unwrap(),
    )
    .unwrap();
    env.git(&["add", ".swarm/config.json"]);
    env.git(&["commit", "-q", "-m", "the team's config"]);

    let before = env.snapshot();
    let out = x.run(&["Add a greeting", "--config", ".swarm/config.json"]);
    out.code(3);
    let j = out.json();
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains(".swarm/config.json (workflow config inside the repository)"),
        "{msg}"
    );
    assert!(
        msg.contains("/exec — agent launch (agents without their own exec) (argv template)"),
        "{msg}"
    );
    assert!(msg.contains(&x.agent.display().to_string()), "{msg}");
    assert!(
        msg.contains("/subagents/0/env — environment of planner's launch"),
        "{msg}"
    );
    assert!(
        j["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("git swarm trust --config .swarm/config.json"),
        "{j}"
    );
    assert_eq!(before, env.snapshot(), "nothing written, no agent launched");

    // The same file named by `git config swarm.config`.
    env.git(&["config", "swarm.config", ".swarm/config.json"]);
    x.run(&["Add a greeting"]).code(3);
    // Host mode launches no agent: starting needs no trust…
    let id = env.start("Add a greeting");
    // …but exec mode on that run does (it keeps the config it started with).
    let out = x.run(&["--run", &id]);
    out.code(3);
    assert!(
        out.error_message().contains("/exec"),
        "{}",
        out.error_message()
    );
    assert!(!env.run_dir(&id).join("logs").exists(), "no agent launched");

    let j = env.sj(&["trust"]).json();
    assert_eq!(j["action"], "trusted");
    let files = j["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{j}");
    assert_eq!(files[0]["path"], ".swarm/config.json");
    assert_eq!(files[0]["kind"], "config");
    let out = x.run(&["--run", &id]);
    out.code(0);
    assert_eq!(out.json()["action"], "done", "{}", out.stdout);
    assert!(x.pushed("swarm/feature"));
}

#[test]
fn a_config_outside_the_repository_is_the_users_own() {
    let x = Exec::new();
    let mine = x.env.root().join("my-config.json");
    std::fs::write(&mine, serde_json::to_string(&x.env.config()).unwrap()).unwrap();
    let out = x.run(&["Add a greeting", "--config", mine.to_str().unwrap()]);
    out.code(0);
    assert_eq!(out.json()["action"], "done");
    assert!(!trust_file(&x.env).exists());
}

#[test]
fn the_policy_widening_agent_commands_needs_trust_in_exec_mode() {
    let x = Exec::new();
    commit_policy(
        &x.env,
        &json!({"agents": {"allowedCommands": ["npm run lint"], "allowAllCommands": true}}),
    );
    let out = x.run(&["Add a greeting"]);
    out.code(3);
    let msg = out.error_message();
    assert!(msg.contains("/agents/allowedCommands/0 — agents may also run (a command prefix), applies when exec mode launches agents (run): npm run lint"), "{msg}");
    assert!(msg.contains("/agents/allowAllCommands — agents may run, applies when exec mode launches agents (run): any command at all"), "{msg}");
    // Host mode runs no agent.
    x.env.start("Add a greeting");
    x.env.sj(&["trust"]).code(0);
    // Agents may run anything: the verification gate runs the plan's test command too.
    x.plan_tests("git status --short");
    assert_eq!(x.run(&[]).json()["action"], "done");
}

#[test]
fn revoke_forgets_the_repository() {
    let env = Env::new();
    commit_policy(&env, &json!({"worktree": {"setupCommand": ["true"]}}));
    env.sj(&["trust"]).code(0);
    let id = env.start("Add a greeting");
    let j = env.sj(&["trust", "--revoke"]).json();
    assert_eq!(j["action"], "revoked");
    assert_eq!(j["revoked"], json!([".swarm/policies.json"]));
    // `next` on the run in progress refuses again, before any transition.
    play_planner(&env, &id, &simple_plan(&id));
    let before = env.snapshot();
    let out = env.sj(&["next"]);
    out.code(3);
    assert!(out.error_message().contains("/worktree/setupCommand"));
    assert_eq!(before, env.snapshot());
    assert_eq!(env.status(&id)["current-step"], "planner");
    let out = env.swarm(&["trust", "--revoke"]);
    out.code(0);
    assert!(out.stdout.contains("nothing was trusted"), "{}", out.stdout);
    env.sj(&["trust"]).code(0);
    assert_eq!(
        env.sj(&["next"]).json()["invocations"][0]["agent"],
        "implementor"
    );
}

#[test]
fn trust_json_names_every_command_and_the_trust_file_stays_outside_the_repository() {
    let mut env = Env::new();
    commit_policy(
        &env,
        &json!({"worktree": {"setupCommand": ["npm", "ci"]},
                "pr": {"createCommand": "mkpr --title \"{title}\" --base {baseBranch}"}}),
    );
    let bytes = std::fs::read(env.work.join(".swarm/policies.json")).unwrap();
    let sha = git_swarm::trust::sha256_hex(&bytes);
    let j = env.sj(&["trust"]).json();
    let git_dir = env.work.join(".git").canonicalize().unwrap();
    assert_eq!(j["action"], "trusted");
    assert_eq!(j["repository"], env.work.display().to_string());
    assert_eq!(j["gitDir"], git_dir.display().to_string());
    assert_eq!(j["trustFile"], trust_file(&env).display().to_string());
    let f = &j["files"][0];
    assert_eq!(f["path"], ".swarm/policies.json");
    assert_eq!(f["kind"], "policy");
    assert_eq!(f["sha256"], sha.as_str());
    assert_eq!(
        (f["state"].as_str(), f["was"].as_str()),
        (Some("trusted"), Some("untrusted"))
    );
    let c = &f["commands"];
    assert_eq!(c[0]["pointer"], "/worktree/setupCommand");
    assert_eq!(c[0]["use"], "setup");
    assert_eq!(c[0]["argv"], json!(["npm", "ci"]));
    assert_eq!(c[0]["command"], "npm ci");
    assert_eq!(c[1]["pointer"], "/pr/createCommand");
    assert_eq!(c[1]["use"], "pull-request");
    assert_eq!(
        c[1]["argv"],
        json!(["mkpr", "--title", "{title}", "--base", "{baseBranch}"])
    );

    let record = read_json(&trust_file(&env));
    assert_eq!(record["version"], 1);
    let entry =
        &record["repositories"][git_dir.display().to_string()]["files"][".swarm/policies.json"];
    assert_eq!(entry["sha256"], sha.as_str());
    assert!(entry["trustedAt"].as_str().unwrap().ends_with('Z'));
    // Nothing of it is in the work tree or the git directory.
    let mut inside = Vec::new();
    walk_all(&env.work, &mut inside);
    for p in &inside {
        assert_ne!(p.file_name().unwrap(), "trust.json", "{}", p.display());
        let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        assert!(
            !text.contains(&sha),
            "{} holds the trusted hash",
            p.display()
        );
    }
    assert_eq!(env.git(&["status", "--porcelain"]), "");

    // A linked worktree of the same repository shares the trust.
    let other = env.root().join("other");
    env.git(&["worktree", "add", "-q", other.to_str().unwrap()]);
    let j = sj_in(&env, &other, &["trust", "--show"]);
    assert_eq!(j["files"][0]["state"], "trusted", "{j}");

    // XDG_CONFIG_HOME moves it (when absolute); inside the repository it is refused.
    env.extra_env.push((
        "XDG_CONFIG_HOME".into(),
        env.root().join("xdg").display().to_string(),
    ));
    let j = env.sj(&["trust"]).json();
    assert_eq!(
        j["trustFile"],
        env.root()
            .join("xdg/git-swarm/trust.json")
            .display()
            .to_string()
    );
    assert!(env.root().join("xdg/git-swarm/trust.json").is_file());
    env.extra_env.pop();
    env.extra_env.push((
        "XDG_CONFIG_HOME".into(),
        env.work.join(".cfg").display().to_string(),
    ));
    let out = env.sj(&["trust"]);
    out.code(1);
    assert!(
        out.error_message().contains("lies inside the repository"),
        "{}",
        out.error_message()
    );
    assert!(!env.work.join(".cfg").exists());
}

fn walk_all(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_all(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// `git swarm <args> --json` in `dir`, expected to succeed.
fn sj_in(env: &Env, dir: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = env.swarm_in(dir, &a);
    out.code(0);
    out.json()
}

#[test]
fn a_setup_command_past_its_time_limit_is_stopped_with_its_children() {
    let env = Env::new();
    let pid_file = env.root().join("child.pid");
    commit_policy(
        &env,
        &json!({"worktree": {
            "setupCommand": ["sh", "-c", format!("echo preparing; sleep 60 & echo $! > {}; wait", pid_file.display())],
            "setupTimeoutSeconds": 1
        }}),
    );
    env.sj(&["trust"]).code(0);
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let t = Instant::now();
    let out = env.sj(&["next"]);
    out.code(1);
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    let j = out.json();
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("the worktree setup command 'sh -c ")
            && msg.contains("failed (timed out after 1 s)"),
        "{msg}"
    );
    assert!(msg.contains("preparing"), "the output's tail: {msg}");
    assert!(
        j["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("worktree.setupTimeoutSeconds"),
        "{j}"
    );
    assert_eq!(
        env.status(&id)["current-step"],
        "planner",
        "the run did not move"
    );
    // The whole process group was stopped, not just `sh`.
    let pid: u32 = read(&pid_file).trim().parse().unwrap();
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s[s.rfind(')').unwrap() + 1..].trim_start().starts_with('Z'))
            .unwrap_or(true)
    };
    let until = Instant::now() + Duration::from_secs(5);
    while !gone() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone(), "the setup command's child {pid} is still running");
}

#[test]
fn an_agent_launched_by_git_swarm_cannot_trust() {
    let env = Env::new();
    commit_policy(&env, &json!({"worktree": {"setupCommand": ["true"]}}));
    let mut cmd = env.command(&env.work, &["trust", "--json"]);
    cmd.env("SWARM_INVOCATION", "run:2:implementor");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("inside an agent that git swarm launched"),
        "{j}"
    );
    assert!(!trust_file(&env).exists());
    // Looking is fine.
    let mut cmd = env.command(&env.work, &["trust", "--show", "--json"]);
    cmd.env("SWARM_INVOCATION", "run:2:implementor");
    assert!(cmd.output().unwrap().status.success());
}

#[test]
fn doctor_shows_trust_and_runs_no_untrusted_agent_cli() {
    let x = Exec::new();
    let env = &x.env;
    marker_policy(env);
    std::fs::write(
        env.work.join(".swarm/config.json"),
        serde_json::to_string_pretty(&env.config()).unwrap(),
    )
    .unwrap();
    env.git(&["add", ".swarm/config.json"]);
    env.git(&["commit", "-q", "-m", "the team's config"]);
    // The fake agent answers --version by writing files where it runs: it must not run.
    let before = env.snapshot();
    let out = env.sj(&["doctor", "--config", ".swarm/config.json"]);
    let j = out.json();
    let check = |name: &str| {
        j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("{name} in {j}"))
            .clone()
    };
    assert_eq!(check("trust of .swarm/policies.json")["level"], "warn");
    assert_eq!(check("trust of .swarm/config.json")["level"], "warn");
    assert!(
        check("planner exec")["detail"]
            .as_str()
            .unwrap()
            .contains("not asked for its version"),
        "{j}"
    );
    assert_eq!(before, env.snapshot());
    assert_eq!(
        env.git(&["status", "--porcelain"]),
        "",
        "nothing ran in the work tree"
    );
    env.sj(&["trust", "--config", ".swarm/config.json"]).code(0);
    let j = env.sj(&["doctor", "--config", ".swarm/config.json"]).json();
    let trusted: Vec<&Value> = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"].as_str().unwrap().starts_with("trust of "))
        .collect();
    assert_eq!(trusted.len(), 2, "{j}");
    assert!(trusted.iter().all(|c| c["level"] == "ok"), "{j}");
    // Trusted, its CLI is asked for its version (the fake agent leaves a file doing so).
    assert!(env.work.join(".calls").exists());
}
