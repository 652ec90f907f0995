//! Fake agents for exec mode: one shell script plays every agent through a real exec template.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;

/// One shell script plays every agent, by $SWARM_AGENT; its behaviour comes from FAKE_*
/// variables set per agent in the config's `env`.
pub const AGENT: &str = r#"#!/bin/sh
set -e
log() { echo "$SWARM_AGENT${SWARM_WORKER:+[$SWARM_WORKER]}: $*"; }
field() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" "$SWARM_HANDOFF" | head -n 1; }
number() { sed -n "s/.*\"$1\": \([0-9][0-9]*\).*/\1/p" "$SWARM_HANDOFF" | head -n 1; }
allowed() { sed -n '/"allowedFiles"/,/]/p' "$SWARM_HANDOFF" | grep -o '"[^"]*"' | grep -v allowedFiles | tr -d '"'; }
count="$SWARM_RESULT.calls"
calls=$(cat "$count" 2>/dev/null || echo 0); calls=$((calls + 1)); echo "$calls" > "$count"
cat > "$SWARM_RESULT.prompt.$calls" 2>/dev/null || true
[ -n "$FAKE_SLEEP" ] && sleep "$FAKE_SLEEP"
[ -n "$FAKE_USAGE" ] && printf '%s\n' "$FAKE_USAGE"
case "$FAKE_MODE" in
  crash) log "crashing"; exit 1 ;;
  hang) sleep 300 & echo $! > "$SWARM_RUN_DIR/hung.pid"; wait ;;
  invalid-once) if [ "$calls" = 1 ]; then echo '{"subagent": "wrong"}' > "$SWARM_RESULT"; exit 0; fi ;;
esac
case "$SWARM_AGENT" in
planner)
  printf '%s' "$FAKE_PLAN" | sed "s/RUN_ID/$SWARM_RUN_ID/" > "$SWARM_RUN_DIR/plan.json"
  printf '{"subagent": "planner", "status": "complete", "plan-id": "%s", "plan-path": "%s/plan.json"}\n' "$SWARM_RUN_ID" "$SWARM_RUN_DIR" > "$SWARM_RESULT"
  ;;
implementor)
  files=$(allowed)
  if grep -q 'merge-fix' "$SWARM_HANDOFF"; then
    # A merge-fix pass keeps both sides: the conflict markers go, every line stays.
    for f in $files; do [ -f "$f" ] && sed -i -e '/^<<<<<<< /d' -e '/^=======$/d' -e '/^>>>>>>> /d' "$f"; done
  else
    for f in $files; do mkdir -p "$(dirname "$f")"; echo "written by ${SWARM_WORKER:-implementor} at $(date +%s%N)" >> "$f"; done
  fi
  if [ "$FAKE_MODE" = "outside" ] || { [ "$FAKE_MODE" = "outside-once" ] && ! grep -q 'outside context.allowedFiles' "$SWARM_HANDOFF"; }; then
    echo "sneaky" > outside.txt; files="$files outside.txt"
  elif [ "$FAKE_MODE" = "outside-once" ]; then
    rm -f outside.txt; git rm -q --cached --ignore-unmatch outside.txt; files=$(allowed)
  fi
  git add -A; git commit -q -m "${SWARM_WORKER:-implementor}: work" || true
  printf '{"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": "%s", "handoffId": "%s", "iteration": %s, "summary": "did %s", "filesChanged": [], "checks": {}'"${FAKE_TOKENS:+, \"tokens\": $FAKE_TOKENS}"'}\n' \
    "$SWARM_RUN_ID" "$(field handoffId)" "$(number iteration)" "$(echo $files)" > "$SWARM_RESULT"
  ;;
reviewer)
  printf '{"schemaVersion": "1.0", "subagent": "reviewer", "runId": "%s", "handoffId": "%s", "verdict": "approved", "summary": "fine", "reviewedFiles": [], "issues": [], "createdAt": "2026-01-01T00:00:00Z"}\n' \
    "$SWARM_RUN_ID" "$(field handoffId)" > "$SWARM_RESULT"
  ;;
tester)
  printf '{"subagent": "tester", "status": "passed", "summary": "all green"}\n' > "$SWARM_RESULT"
  ;;
esac
log "done"
"#;

pub struct Exec {
    pub env: Env,
    pub agent: PathBuf,
}

impl Exec {
    pub fn new() -> Exec {
        let mut env = Env::new();
        env.remote_looks_like("https://github.com/acme/app.git");
        env.fake_tool("gh", "echo https://github.com/acme/app/pull/9");
        let agent = env.root().join("fake-agent.sh");
        std::fs::write(&agent, AGENT).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = Exec { env, agent };
        e.configure(vec![task("t1", &["src/lib.rs"], &[])], &[]);
        e
    }

    /// Exec templates for every agent, the plan the planner writes, and per-agent env.
    pub fn configure(&self, tasks: Vec<Value>, agent_env: &[(&str, &[(&str, &str)])]) {
        let mut cfg = self.env.config();
        cfg["exec"] = json!([self.agent.display().to_string(), "{agent}"]);
        let mut p = plan("RUN_ID", "feature", tasks);
        p["id"] = json!("RUN_ID");
        let plan_text = p.to_string();
        for a in cfg["subagents"].as_array_mut().unwrap() {
            let name = a["name"].as_str().unwrap().to_string();
            let mut vars = serde_json::Map::new();
            if name == "planner" {
                vars.insert("FAKE_PLAN".into(), json!(plan_text));
            }
            for (who, kv) in agent_env {
                if *who == name {
                    for (k, v) in *kv {
                        vars.insert(k.to_string(), json!(v));
                    }
                }
            }
            a["env"] = Value::Object(vars);
        }
        cfg["retry-control"] = json!({"maxRetries": 1});
        self.env.set_config(&cfg);
    }

    /// The plan's `test-plan-commands` become `cmd` (the verification gate runs them when the
    /// policy consents).
    pub fn plan_tests(&self, cmd: &str) {
        let mut cfg = self.env.config();
        for a in cfg["subagents"].as_array_mut().unwrap() {
            if let Some(p) = a["env"].get_mut("FAKE_PLAN") {
                *p = json!(p.as_str().unwrap().replace("cargo test", cmd));
            }
        }
        self.env.set_config(&cfg);
    }

    pub fn run(&self, args: &[&str]) -> Out {
        let mut a = vec!["run"];
        a.extend_from_slice(args);
        a.push("--json");
        self.env.swarm(&a)
    }

    pub fn events(&self, id: &str) -> Vec<Value> {
        std::fs::read_to_string(self.env.run_dir(id).join("events.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn pushed(&self, branch: &str) -> bool {
        std::process::Command::new("git")
            .args([
                "--git-dir",
                self.env.origin.to_str().unwrap(),
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}"),
            ])
            .output()
            .unwrap()
            .status
            .success()
    }
}
