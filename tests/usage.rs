//! Token and cost accounting: `tokens` fields in results, what agent CLIs report in exec mode,
//! and the totals `status` and `list` show.

mod common;

use common::agents::Exec;
use common::*;
use serde_json::{Value, json};

/// Adds a `tokens` field to the result an agent just wrote.
fn with_tokens(env: &Env, id: &str, agent: &str, tokens: Value) {
    let p = env.run_dir(id).join(format!("{agent}.result.json"));
    let mut v = read_json(&p);
    v["tokens"] = tokens;
    write_json(&p, &v);
}

#[test]
fn tokens_in_results_are_totalled_per_agent_in_status_and_list() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    with_tokens(&env, &id, "planner", json!(1200));
    assert_eq!(env.sj(&["next"]).action(), "invoke");
    play_implementor(&env, &id, "completed");
    with_tokens(
        &env,
        &id,
        "implementor",
        json!({"input": 3000, "output": 500, "costUsd": 0.25}),
    );
    assert_eq!(env.sj(&["next"]).action(), "invoke");
    play_reviewer(&env, &id, "rejected");
    with_tokens(&env, &id, "reviewer", json!({"total": 800}));
    env.sj(&["next"]).code(0);
    // The second implementor pass adds to the first.
    play_implementor(&env, &id, "completed");
    with_tokens(
        &env,
        &id,
        "implementor",
        json!({"input_tokens": 90, "output_tokens": 10}),
    );
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    with_tokens(&env, &id, "tester", json!(100));
    assert_eq!(env.sj(&["next"]).action(), "publish");

    let st = env.status(&id);
    assert_eq!(
        st["step-tokens"],
        json!({"planner": 1200, "implementor": 3600, "reviewer": 800, "tester": 100}),
        "{st}"
    );
    assert_eq!(st["swarm"]["costUsd"], json!({"implementor": 0.25}));
    assert_run_files_valid(&env, &id);

    let j = env.sj(&["status"]).json();
    assert_eq!(j["tokens"]["total"], 5700, "{j}");
    assert_eq!(j["tokens"]["costUsd"], 0.25);
    let text = env.swarm(&["status"]).stdout;
    // The parts the reports named, and what they gave only as a total.
    assert!(
        text.contains(
            "tokens:    5,700 in all — input 3,090 · output 510 · cache read 0 · cache write 0 · not itemised 2,100\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("by agent:  planner 1,200, implementor 3,600, reviewer 800, tester 100\n"),
        "{text}"
    );
    assert!(text.contains("cost:      $0.2500\n"), "{text}");
    assert_eq!(j["tokens"]["input"], 3090, "{j}");
    assert_eq!(j["tokens"]["output"], 510, "{j}");
    let l = env.sj(&["list"]).json();
    assert_eq!(l["runs"][0]["tokens"], 5700, "{l}");
    assert_eq!(l["runs"][0]["costUsd"], 0.25);
    let text = env.swarm(&["list"]).stdout;
    assert!(text.contains("5.7k"), "{text}");
}

#[test]
fn a_run_without_reports_shows_no_totals() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    let st = env.status(&id);
    assert!(st.get("step-tokens").is_none(), "{st}");
    let j = env.sj(&["status"]).json();
    assert_eq!(j["tokens"]["total"], Value::Null);
    assert!(!env.swarm(&["status"]).stdout.contains("tokens:"));
    assert_eq!(env.sj(&["list"]).json()["runs"][0]["tokens"], Value::Null);
}

#[test]
fn a_malformed_tokens_field_is_a_schema_violation_naming_the_pointer() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    play_implementor(&env, &id, "completed");
    with_tokens(&env, &id, "implementor", json!("lots"));
    // Like any result that does not match its schema, the run stops for a person.
    let out = env.sj(&["next"]);
    let j = out.json();
    assert_eq!(j["action"], "failed", "{j}");
    let msg = j["message"].as_str().unwrap();
    assert!(
        msg.contains("implementor.result.json")
            && msg.contains("/tokens: expected a non-negative integer"),
        "{msg}"
    );
    assert!(env.status(&id).get("step-tokens").is_none());
}

#[test]
fn a_schema_that_declares_tokens_keeps_it_and_still_counts_it() {
    let env = Env::new();
    // A planner schema that owns the field (and requires it).
    let schema_path = env
        .home
        .join(".cursor/agents/plan/planner.result.schema.json");
    let mut schema = read_json(&schema_path);
    schema["properties"]["tokens"] = json!({"type": "integer"});
    schema["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("tokens"));
    write_json(&schema_path, &schema);
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    with_tokens(&env, &id, "planner", json!(64));
    assert_eq!(env.sj(&["next"]).action(), "invoke");
    assert_eq!(env.status(&id)["step-tokens"], json!({"planner": 64}));
}

#[test]
fn exec_mode_reads_what_agent_clis_report_and_does_not_count_twice() {
    let x = Exec::new();
    let claude = r#"{"type":"result","subtype":"success","total_cost_usd":0.0125,"usage":{"input_tokens":100,"cache_read_input_tokens":400,"output_tokens":20}}"#;
    let codex = "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":300,\"cached_input_tokens\":200,\"output_tokens\":30}}\n{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":10,\"cached_input_tokens\":0,\"output_tokens\":5}}";
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[
            // The implementor's result also carries a (different) count: the CLI's wins.
            (
                "implementor",
                &[("FAKE_USAGE", claude), ("FAKE_TOKENS", "999")],
            ),
            ("reviewer", &[("FAKE_USAGE", codex)]),
        ],
    );
    let j = x.run(&["Add a greeting"]).json();
    assert_eq!(j["action"], "done", "{j}");
    let id = j["run-id"].as_str().unwrap();
    let st = x.env.status(id);
    assert_eq!(
        st["step-tokens"],
        json!({"implementor": 520, "reviewer": 345}),
        "{st}"
    );
    assert_eq!(st["swarm"]["costUsd"], json!({"implementor": 0.0125}));
    // Claude Code's cache reads are beside its input; Codex's cached input is a part of it.
    assert_eq!(
        st["swarm"]["tokenSplit"],
        json!({
            "implementor": {"input": 100, "output": 20, "cacheRead": 400, "cacheWrite": 0},
            "reviewer": {"input": 110, "output": 35, "cacheRead": 200, "cacheWrite": 0}
        }),
        "{st}"
    );
    let text = x.env.swarm(&["status", "--run", id]).stdout;
    assert!(
        text.contains(
            "tokens:    865 in all — input 210 · output 55 · cache read 600 · cache write 0\n"
        ),
        "{text}"
    );
    let tokens: Vec<Value> = x
        .events(id)
        .into_iter()
        .filter(|e| e["signal"] == "TOKENS")
        .collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert!(
        tokens[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("520 tokens, $0.0125"),
        "{tokens:?}"
    );
    assert_run_files_valid(&x.env, id);
}

#[test]
fn validate_checks_a_tokens_field_the_way_next_does() {
    let env = Env::new();
    let f = env.root().join("r.json");
    let schema = env.home.join(".cursor/agents/tester/tester.schema.json");
    let mut r = json!({"subagent": "tester", "status": "passed", "summary": "ok", "tokens": 12});
    write_json(&f, &r);
    env.sj(&["validate", f.to_str().unwrap(), "--agent", "tester"])
        .code(0);
    // Against the bare schema (no agent), the field is what the strict schema says: extra.
    env.sj(&[
        "validate",
        f.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
    ])
    .code(1);
    r["tokens"] = json!({"input": -1});
    write_json(&f, &r);
    let out = env.sj(&["validate", f.to_str().unwrap(), "--agent", "tester"]);
    out.code(1);
    let j = out.json();
    assert!(
        j["error"]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["pointer"] == "/tokens"),
        "{j}"
    );
}

/// See issue 10: two results with `costUsd: 1e308` wrote `null` into run.status.json, after
/// which `next`, `status` and `abort` failed and the run was lost; token totals wrapped past
/// 2^64.
#[test]
fn huge_or_non_finite_numbers_never_break_the_run() {
    for tokens in [
        json!({"total": 10, "costUsd": 1e308}),
        json!(9223372036854775808u64),
        json!({"input": 9223372036854775808u64, "output": 9223372036854775808u64}),
    ] {
        let env = Env::new();
        let id = env.start("Add a greeting");
        play_planner(&env, &id, &simple_plan(&id));
        with_tokens(&env, &id, "planner", tokens.clone());
        let out = env.sj(&["next"]);
        let j = out.json();
        // The result is refused like any invalid one, naming /tokens; the run is intact.
        assert!(
            j.to_string().contains("/tokens") && j.to_string().contains("plausible"),
            "{tokens}: {j}"
        );
        let st = env.status(&id);
        assert!(st.get("step-tokens").is_none(), "{st}");
        assert_run_files_valid(&env, &id);
        env.sj(&["status"]).code(0);
        env.sj(&["list"]).code(0);
        env.sj(&["abort"]).code(0);
    }
}

#[test]
fn a_run_over_its_budget_stops_before_the_next_agent_and_retry_goes_on_once_raised() {
    let x = Exec::new();
    let claude = r#"{"type":"result","subtype":"success","total_cost_usd":0.5,"usage":{"input_tokens":4000,"output_tokens":2000}}"#;
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[("implementor", &[("FAKE_USAGE", claude)])],
    );
    let policy = |budget: Value| {
        std::fs::write(
            x.env.work.join(".swarm/policies.json"),
            json!({ "budget": budget }).to_string(),
        )
        .unwrap();
        x.env.git(&["add", ".swarm/policies.json"]);
        x.env.git(&["commit", "-q", "-m", "budget"]);
    };
    policy(json!({"maxTokens": 5000, "agents": {"implementor": {"maxCostUsd": 2}}}));
    let out = x.run(&["Add a greeting"]);
    let j = out.json();
    assert_eq!(out.code, 4, "an escalation: {j}");
    assert_eq!(j["outcome"], "needs-human", "{j}");
    assert_eq!(
        j["message"],
        "needs-human: over budget: the run spent 6,000 tokens, and policies.budget allows 5,000",
        "{j}"
    );
    assert!(
        j["hint"].as_str().unwrap().contains("git swarm retry"),
        "{j}"
    );
    let id = j["run-id"].as_str().unwrap().to_string();
    // The reviewer was never launched.
    assert!(
        !x.env
            .run_dir(&id)
            .join("logs")
            .read_dir()
            .unwrap()
            .any(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("reviewer")
            })
    );
    let text = x.env.swarm(&["status", "--run", &id]).stdout;
    assert!(
        text.contains("budget:    6,000 of 5,000 tokens · implementor at most $2.00\n"),
        "{text}"
    );
    // Raised, the run goes on from the reviewer to its end.
    policy(json!({"maxTokens": 100000}));
    x.env.sj(&["retry", "--run", &id]).code(0);
    let j = x.run(&["--run", &id]).json();
    assert_eq!(j["action"], "done", "{j}");
    assert_run_files_valid(&x.env, &id);
}
