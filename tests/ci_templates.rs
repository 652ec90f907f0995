//! `git swarm ci github|gitlab`: the files it writes are valid for their CI system (GitHub's
//! workflow schema and actionlint; GitLab's CI schema), call the commands a run on CI runners
//! needs, name the secrets without holding any, and never replace a file unasked.

#[path = "common/ci_tools.rs"]
mod ci_tools;
mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use serde_json::json;

const AGENTS: [(&str, &str, &str); 3] = [
    ("claude", "@anthropic-ai/claude-code@", "ANTHROPIC_API_KEY"),
    ("codex", "@openai/codex@", "OPENAI_API_KEY"),
    ("gemini", "@google/gemini-cli@", "GEMINI_API_KEY"),
];

/// The validators, installed once per test process (`None`: skipped, said why).
struct Validators {
    schema: Option<PathBuf>,
    actionlint: Option<PathBuf>,
}

fn validators() -> &'static Validators {
    static V: OnceLock<Validators> = OnceLock::new();
    V.get_or_init(|| {
        let schema = ci_tools::check_jsonschema()
            .map_err(|e| ci_tools::skip(&format!("check-jsonschema is not available: {e}")))
            .ok();
        let actionlint = ci_tools::actionlint()
            .map_err(|e| ci_tools::skip(&format!("actionlint is not available: {e}")))
            .ok();
        Validators { schema, actionlint }
    })
}

/// GitHub's workflow schema and actionlint accept `file`.
#[track_caller]
fn assert_valid_github(file: &Path) {
    let v = validators();
    if let Some(exe) = &v.schema
        && let Err(report) = ci_tools::schema_check(exe, "vendor.github-workflows", file)
    {
        panic!("{}: GitHub workflow schema:\n{report}", file.display());
    }
    if let Some(dir) = &v.actionlint {
        let found = ci_tools::actionlint_check(dir, file);
        assert!(
            found.is_empty(),
            "{}: actionlint:\n{}",
            file.display(),
            found.join("\n")
        );
    }
}

/// GitLab's CI schema accepts `file`.
#[track_caller]
fn assert_valid_gitlab(file: &Path) {
    if let Some(exe) = &validators().schema
        && let Err(report) = ci_tools::schema_check(exe, "vendor.gitlab-ci", file)
    {
        panic!("{}: GitLab CI schema:\n{report}", file.display());
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A repository whose HOME holds key-like variables: none of their values may reach a file.
fn env_with_keys() -> Env {
    let mut env = Env::bare();
    for (_, _, secret) in AGENTS {
        env.extra_env
            .push((secret.into(), format!("value-of-{secret}-never-written")));
    }
    env.extra_env.push((
        "GH_TOKEN".into(),
        "ghp_valueNeverWritten0000000000000000".into(),
    ));
    env
}

#[track_caller]
fn assert_no_secret_value(text: &str) {
    assert!(
        !text.contains("never-written"),
        "a key's value was written:\n{text}"
    );
    assert!(!text.contains("ghp_"), "a token was written:\n{text}");
}

/// The lines of `run:` scripts in a workflow (inline, or the block below `run: |`).
fn script_lines(text: &str) -> Vec<&str> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut out = Vec::new();
    let mut block: Option<usize> = None;
    for line in text.lines() {
        if let Some(i) = block {
            if line.trim().is_empty() || indent(line) > i {
                out.push(line);
                continue;
            }
            block = None;
        }
        let t = line.trim_start().trim_start_matches("- ");
        if let Some(rest) = t.strip_prefix("run:") {
            match rest.trim() {
                "|" => block = Some(indent(line)),
                inline => out.push(inline),
            }
        }
    }
    out
}

#[test]
fn github_workflows_pass_the_schema_and_actionlint_for_every_agent_with_and_without_a_label() {
    let env = env_with_keys();
    let out_dir = env.root().join("out");
    for (agent, package, secret) in AGENTS {
        for label in [None, Some("swarm")] {
            let path = out_dir.join(format!("{agent}-{}.yml", label.unwrap_or("dispatch")));
            let mut args = vec!["ci", "github", "--agent", agent, "--output"];
            let p = path.to_string_lossy().into_owned();
            args.push(&p);
            if let Some(l) = label {
                args.extend(["--label", l]);
            }
            let out = env.sj(&args);
            out.code(0);
            let j = out.json();
            assert_eq!(j["forge"], "github");
            assert_eq!(j["agents"][0]["secret"], secret);
            assert_eq!(j["config"], json!({"use": "pack", "exec": agent}));
            let y = read(&path);
            assert_valid_github(&path);
            // The run's commands, each with its values from the environment.
            for cmd in [
                "git swarm start --json -- \"$task\"",
                "git swarm push --run \"$run\" --remote origin",
                "git swarm resume \"$RUN\" --remote origin",
                "git swarm run --run \"$run\" --workers-elsewhere --no-publish --json",
                "git swarm work --run \"$RUN\" --worker \"$WORKER\" --remote origin",
                "git swarm publish --run \"$RUN\" --json",
                "gh workflow run \"${workflow##*/}\"",
                &format!("git swarm init --pack --exec {agent}"),
                "git swarm trust",
                "cargo install --locked git-swarm",
                "fetch-depth: 0",
                "worker: ${{ fromJSON(needs.coordinate.outputs.workers) }}",
                "if: needs.coordinate.outputs.action == 'publish'",
                "actions: write",
                "pull-requests: write",
            ] {
                assert!(y.contains(cmd), "{agent}: no {cmd:?} in\n{y}");
            }
            assert!(y.contains(package), "{agent}: its CLI is not installed");
            assert!(y.contains(&format!("${{{{ secrets.{secret} }}}}")));
            for (other, other_package, other_secret) in AGENTS {
                if other != agent {
                    assert!(!y.contains(other_package) && !y.contains(other_secret));
                }
            }
            // Inputs, issue text and job outputs reach scripts as variables, never as text.
            let scripts = script_lines(&y);
            assert!(scripts.iter().any(|l| l.contains("git swarm work")));
            let bad: Vec<_> = scripts.iter().filter(|l| l.contains("${{")).collect();
            assert!(bad.is_empty(), "an expression inside a script: {bad:?}");
            assert_eq!(y.contains("issues:\n    types: [labeled]"), label.is_some());
            assert_eq!(
                y.contains("github.event.label.name == 'swarm'"),
                label.is_some()
            );
            assert_no_secret_value(&y);
            assert_no_secret_value(&out.stdout);
        }
    }
}

#[test]
fn gitlab_pipelines_pass_the_schema_for_every_agent_and_worker_count() {
    let env = env_with_keys();
    let out_dir = env.root().join("out");
    for (agent, package, secret) in AGENTS {
        for workers in [None, Some("1"), Some("7")] {
            let path = out_dir.join(format!("{agent}-{}.yml", workers.unwrap_or("default")));
            let p = path.to_string_lossy().into_owned();
            let mut args = vec!["ci", "gitlab", "--agent", agent, "--output", &p];
            if let Some(n) = workers {
                args.extend(["--max-workers", n]);
            }
            env.sj(&args).code(0);
            let y = read(&path);
            assert_valid_gitlab(&path);
            for cmd in [
                "git swarm start --json -- \"$SWARM_TASK\"",
                "git swarm push --run \"$run\" --remote origin",
                "git swarm resume \"$SWARM_RUN\" --remote origin",
                "git swarm run --run \"$run\" --workers-elsewhere --no-publish --json",
                "git swarm work --run \"$SWARM_RUN_ID\" --worker \"w${CI_NODE_INDEX:-1}\" --remote origin",
                "git swarm resume \"$SWARM_RUN_ID\" --remote origin",
                "git swarm publish --run \"$SWARM_RUN_ID\" --json",
                &format!("git swarm init --pack --exec {agent}"),
                "git swarm trust",
                "dotenv: swarm.env",
                "--form-string \"token=$SWARM_TRIGGER_TOKEN\"",
                "--form-string \"variables[SWARM_RUN]=$SWARM_RUN_ID\"",
                "/trigger/pipeline",
                "password=$SWARM_PUSH_TOKEN",
                "GITLAB_TOKEN: $SWARM_PUSH_TOKEN",
                "- if: $SWARM_TASK || $SWARM_RUN",
                "image: \"node:22-bookworm\"",
            ] {
                assert!(y.contains(cmd), "{agent}: no {cmd:?} in\n{y}");
            }
            assert!(y.contains(package));
            assert!(y.contains(secret), "{agent}: its variable is not named");
            match workers {
                None => assert!(y.contains("  parallel: 4\n"), "the pack's maxConcurrent"),
                Some("1") => assert!(!y.contains("\n  parallel:")),
                Some(n) => assert!(y.contains(&format!("  parallel: {n}\n"))),
            }
            // Codex's exec reads its key from CODEX_API_KEY.
            assert_eq!(
                y.contains("CODEX_API_KEY: $OPENAI_API_KEY"),
                agent == "codex"
            );
            assert_no_secret_value(&y);
        }
    }
}

#[test]
fn an_existing_file_is_kept_unless_forced() {
    let env = Env::bare();
    let path = env.work.join(".github/workflows/git-swarm.yml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "name: mine\n").unwrap();
    let out = env.sj(&["ci", "github"]);
    out.code(3);
    assert!(
        out.error_message()
            .contains(".github/workflows/git-swarm.yml exists")
    );
    assert!(
        out.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--force")
    );
    assert_eq!(read(&path), "name: mine\n", "refused, yet changed");
    let out = env.swarm(&["ci", "github"]);
    out.code(3);
    assert!(out.stderr.contains("nothing was written"), "{}", out.stderr);

    env.sj(&["ci", "github", "--force"]).code(0);
    assert!(read(&path).contains("name: git swarm"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "a file to commit is readable by all");
    assert_valid_github(&path);

    // '-' prints the file and writes nothing.
    std::fs::write(&path, "name: mine\n").unwrap();
    let out = env.swarm(&["ci", "github", "--output", "-"]);
    out.code(0);
    assert!(out.stdout.starts_with("# git swarm on GitHub Actions"));
    assert_eq!(read(&path), "name: mine\n");
}

#[test]
fn gitlab_goes_beside_an_existing_pipeline_to_be_included() {
    let env = Env::bare();
    let out = env.sj(&["ci", "gitlab"]);
    out.code(0);
    let main = env.work.join(".gitlab-ci.yml");
    assert_eq!(out.json()["path"], json!(main));
    assert_valid_gitlab(&main);

    // A repository with its own pipeline gets a file to include, and its own is untouched.
    std::fs::write(&main, "test:\n  script: [make test]\n").unwrap();
    let out = env.sj(&["ci", "gitlab"]);
    out.code(0);
    let included = env.work.join(".gitlab/git-swarm.yml");
    assert_eq!(out.json()["path"], json!(included));
    assert_eq!(read(&main), "test:\n  script: [make test]\n");
    let next = out.json()["next"].to_string();
    assert!(
        next.contains("include: - local: .gitlab/git-swarm.yml"),
        "{next}"
    );
    assert!(
        next.contains("swarm-coordinate, swarm-work, swarm-next"),
        "{next}"
    );
    assert_valid_gitlab(&included);
    // Included from that pipeline, both files together are valid too.
    std::fs::write(
        &main,
        format!("{}\ntest:\n  script: [make test]\n", read(&included)),
    )
    .unwrap();
    assert_valid_gitlab(&main);
}

#[test]
fn a_config_in_the_repository_is_used_with_every_cli_it_names() {
    let env = Env::new();
    let mut cfg = env.config();
    cfg["exec"] = json!("codex");
    cfg["subagents"][3]["exec"] = json!({"profile": "gemini", "model": "gemini-2.5-flash"});
    cfg["subagents"][2]["exec"] = json!(["my-reviewer", "{prompt}"]);
    cfg["parallelization"] = json!({"enabled": true, "rules": [{"maxConcurrent": 3}]});
    std::fs::create_dir_all(env.work.join(".swarm")).unwrap();
    let rel = ".swarm/config.json";
    std::fs::write(
        env.work.join(rel),
        serde_json::to_string_pretty(&cfg).unwrap(),
    )
    .unwrap();

    let out = env.sj(&["--config", rel, "ci", "gitlab"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["config"], json!({"use": "repository", "path": rel}));
    let agents: Vec<&str> = j["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["profile"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["codex", "gemini"]);
    let notes = j["notes"].to_string();
    assert!(notes.contains("is not committed"), "{notes}");
    assert!(
        notes.contains("'my-reviewer' through an argv template"),
        "{notes}"
    );
    let y = read(&env.work.join(".gitlab-ci.yml"));
    assert!(y.contains("GIT_SWARM_CONFIG: $CI_PROJECT_DIR/.swarm/config.json"));
    assert!(y.contains("git swarm init --pack\n") && !y.contains("--exec"));
    assert!(y.contains("@openai/codex@") && y.contains("@google/gemini-cli@"));
    assert!(y.contains("  parallel: 3\n"));
    assert_valid_gitlab(&env.work.join(".gitlab-ci.yml"));

    // Committed, with --agent choosing one CLI, for GitHub.
    env.git(&["add", rel]);
    env.git(&["commit", "-q", "-m", "config"]);
    let out = env.sj(&["--config", rel, "ci", "github", "--agent", "claude"]);
    out.code(0);
    assert!(!out.json()["notes"].to_string().contains("is not committed"));
    let path = env.work.join(".github/workflows/git-swarm.yml");
    let y = read(&path);
    assert!(y.contains("GIT_SWARM_CONFIG: ${{ github.workspace }}/.swarm/config.json"));
    assert!(y.contains("@anthropic-ai/claude-code@") && !y.contains("@openai/codex@"));
    assert_valid_github(&path);
}

#[test]
fn the_agent_follows_the_exec_of_the_users_own_config() {
    let env = Env::new();
    let mut cfg = env.config();
    cfg["exec"] = json!({"profile": "gemini"});
    env.set_config(&cfg);
    let out = env.sj(&["ci", "github", "--output", "-"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["config"], json!({"use": "pack", "exec": "gemini"}));
    let y = j["content"].as_str().unwrap();
    assert!(y.contains("git swarm init --pack --exec gemini"));
    assert!(
        y.contains("selectedType\": \"gemini-api-key"),
        "Gemini CLI told to use the key"
    );
    assert!(j["notes"].to_string().contains("outside the repository"));

    // A profile no registry offers: Claude Code, and a note saying so.
    cfg["exec"] = json!("cursor-agent");
    env.set_config(&cfg);
    let j = env.sj(&["ci", "github", "--output", "-"]).json();
    assert_eq!(j["config"]["exec"], "claude");
    assert!(
        j["notes"]
            .to_string()
            .contains("'cursor-agent' has no package")
    );
}

#[test]
fn the_install_command_is_the_users() {
    let env = Env::bare();
    let install = "curl -fsSL https://example.invalid/git-swarm.tar.gz | tar -xz -C /usr/local/bin\ngit swarm --version";
    let out = env.sj(&["ci", "github", "--install", install]);
    out.code(0);
    let path = env.work.join(".github/workflows/git-swarm.yml");
    let y = read(&path);
    assert!(y.contains("          curl -fsSL https://example.invalid/git-swarm.tar.gz | tar -xz -C /usr/local/bin\n          git swarm --version\n"));
    assert!(!y.contains("cargo install"));
    assert_valid_github(&path);
    let out = env.sj(&[
        "ci",
        "gitlab",
        "--install",
        install,
        "--image",
        "rust:1-bookworm",
    ]);
    out.code(0);
    let y = read(&env.work.join(".gitlab-ci.yml"));
    assert!(y.contains("image: \"rust:1-bookworm\"") && !y.contains("rustup"));
    assert_valid_gitlab(&env.work.join(".gitlab-ci.yml"));
}

#[test]
fn bad_options_are_refused_by_name_and_write_nothing() {
    let env = Env::bare();
    for (args, names) in [
        (vec!["ci", "github", "--label", ""], "--label"),
        (vec!["ci", "github", "--label", "a\nb"], "--label"),
        (
            vec!["ci", "github", "--label", "${{ github.token }}"],
            "--label",
        ),
        (vec!["ci", "github", "--install", " "], "--install"),
        (
            vec!["ci", "github", "--install", "make\u{1b}[2J"],
            "--install",
        ),
        (vec!["ci", "gitlab", "--image", "node 22"], "--image"),
        (vec!["ci", "gitlab", "--max-workers", "0"], "--max-workers"),
        (vec!["ci", "gitlab", "--label", "x"], "--label"),
        (vec!["ci", "github", "--agent", "cursor-agent"], "--agent"),
        (vec!["ci", "bitbucket"], "bitbucket"),
        (vec!["ci", "github", "--output", "a\nb.yml"], "--output"),
    ] {
        let out = env.sj(&args);
        out.code(2);
        assert!(
            out.error_message().contains(names),
            "{args:?}: {}",
            out.stdout
        );
    }
    assert!(!env.work.join(".github").exists() && !env.work.join(".gitlab-ci.yml").exists());
    // Outside a repository there is nothing to write a workflow for.
    let out = env.swarm_in(&env.root(), &["ci", "github"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
}

#[test]
fn init_pack_exec_writes_a_config_that_names_the_profile() {
    let env = Env::bare();
    let out = env.sj(&["init", "--pack", "--exec", "codex"]);
    out.code(0);
    let config = env.home.join(".cursor/agents/manager/config.json");
    assert_eq!(out.json()["pack"]["exec"], "codex");
    assert_eq!(read_json(&config)["exec"], "codex");
    // The config validates and names its agents' argv through the profile.
    let doctor = env.sj(&["doctor"]);
    assert!(doctor.stdout.contains("codex"), "{}", doctor.stdout);
    // A config that exists is kept, and the answer says so.
    let out = env.swarm(&["init", "--pack", "--exec", "gemini"]);
    out.code(0);
    assert!(
        out.stdout.contains("applies only to a config this writes"),
        "{}",
        out.stdout
    );
    assert_eq!(read_json(&config)["exec"], "codex");
    env.sj(&["init", "--exec", "claude"]).code(2);
}

/// The validators find what they exist to find, so their silence above means something.
#[test]
fn the_validators_reject_broken_files() {
    let env = Env::bare();
    let dir = env.root().join("broken");
    std::fs::create_dir_all(&dir).unwrap();
    let injected = dir.join("injected.yml");
    std::fs::write(
        &injected,
        "on:\n  issues:\n    types: [labeled]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ github.event.issue.title }}\"\n",
    )
    .unwrap();
    let v = validators();
    if let Some(al) = &v.actionlint {
        let found = ci_tools::actionlint_check(al, &injected);
        assert!(
            found.iter().any(|f| f.contains("potentially untrusted")),
            "{found:?}"
        );
    }
    let no_jobs = dir.join("no-jobs.yml");
    std::fs::write(&no_jobs, "on: push\nname: x\n").unwrap();
    let bad_gitlab = dir.join("gitlab.yml");
    std::fs::write(&bad_gitlab, "job:\n  script: [make]\n  parallel: 0\n").unwrap();
    if let Some(exe) = &v.schema {
        assert!(ci_tools::schema_check(exe, "vendor.github-workflows", &no_jobs).is_err());
        assert!(ci_tools::schema_check(exe, "vendor.gitlab-ci", &bad_gitlab).is_err());
    }
}
