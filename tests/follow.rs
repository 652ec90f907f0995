//! The follow phase through fake gh and glab on PATH that script the pull request's checks,
//! logs, review threads and merges round by round; and the verification gate.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::{Value, json};

/// gh: `pr create` opens pull request 7; `api … graphql` answers `state/pr.json`;
/// `api …/jobs/<id>/logs` answers `state/log.<id>`; replies and body edits answer `{}`.
const FAKE_GH: &str = r#"
state="$FAKE_STATE"
case "$1" in
  pr) echo 'https://github.com/acme/app/pull/7'; exit 0 ;;
esac
for a in "$@"; do
  case "$a" in
    graphql) cat "$state/pr.json"; exit 0 ;;
    repos/*/actions/jobs/*/logs) id=${a%/logs}; id=${id##*/}; cat "$state/log.$id" || exit 1; exit 0 ;;
    repos/*/replies) echo '{"id": 900}'; exit 0 ;;
    repos/*/pulls/*) echo '{"number": 7}'; exit 0 ;;
  esac
done
echo "fake gh: unexpected call $*" >&2
exit 2
"#;

/// glab: `mr create` opens merge request 3; `api <path>` answers `state/<path with / as _>`.
const FAKE_GLAB: &str = r#"
state="$FAKE_STATE"
case "$1" in
  mr) echo 'https://gitlab.com/acme/app/-/merge_requests/3'; exit 0 ;;
esac
post=
for a in "$@"; do
  case "$a" in
    POST|PUT) post=1 ;;
    projects/*)
      if [ -n "$post" ]; then echo '{"id": 901}'; exit 0; fi
      f="$state/$(printf '%s' "${a%%\?*}" | tr '/' '_')"
      cat "$f" || exit 1; exit 0 ;;
  esac
done
echo "fake glab: unexpected call $*" >&2
exit 2
"#;

struct Forge {
    env: Env,
    state: PathBuf,
}

fn forge(url: &str, tool: &str, script: &str) -> Forge {
    let mut env = Env::new();
    env.remote_looks_like(url);
    env.fake_tool(tool, script);
    let state = env.root().join("forge-state");
    std::fs::create_dir_all(&state).unwrap();
    env.extra_env
        .push(("FAKE_STATE".into(), state.display().to_string()));
    Forge { env, state }
}

impl Forge {
    fn put(&self, name: &str, text: &str) {
        std::fs::write(self.state.join(name), text).unwrap();
    }

    fn tip(&self) -> String {
        self.env.git(&["rev-parse", "swarm/add-greeting"])
    }

    /// What gh's GraphQL answer holds for the pull request.
    fn gh_pr(&self, checks: Value, review: &str, threads: Value) {
        let v = json!({"data": {"repository": {"pullRequest": {
            "state": "OPEN", "headRefOid": self.tip(), "reviewDecision": review,
            "commits": {"nodes": [{"commit": {"statusCheckRollup": {"contexts": {"nodes": checks}}}}]},
            "reviews": {"nodes": []},
            "reviewThreads": {"nodes": threads}
        }}}});
        self.put("pr.json", &v.to_string());
    }

    fn calls(&self, tool: &str) -> Vec<Vec<String>> {
        self.env
            .fake_calls()
            .into_iter()
            .filter(|(t, _)| t == tool)
            .map(|(_, a)| a)
            .collect()
    }

    /// Plays implementor, reviewer and tester of a fix pass, then publishes.
    fn fix_pass(&self, id: &str) -> Value {
        let h = handoff(&self.env, id);
        assert_eq!(h["to"], "implementor", "{h}");
        play_implementor(&self.env, id, "completed");
        self.env.sj(&["next", "--run", id]).code(0);
        play_reviewer(&self.env, id, "approved");
        self.env.sj(&["next", "--run", id]).code(0);
        play_tester(&self.env, id, "passed");
        assert_eq!(
            self.env.sj(&["next", "--run", id]).json()["action"],
            "publish"
        );
        let out = self.env.sj(&["publish", "--run", id]);
        out.code(0);
        out.json()
    }
}

fn gh_check(name: &str, status: &str, conclusion: Option<&str>, job: u64) -> Value {
    json!({"__typename": "CheckRun", "name": name, "status": status, "conclusion": conclusion,
           "detailsUrl": format!("https://github.com/acme/app/actions/runs/1/job/{job}"),
           "databaseId": job, "isRequired": true})
}

fn thread(id: u64, body: &str, resolved: bool) -> Value {
    json!({"id": format!("T{id}"), "isResolved": resolved, "comments": {"nodes": [
        {"databaseId": id, "body": body, "path": "src/lib.rs", "line": 1, "author": {"login": "alice"}}
    ]}})
}

const FAILING_LOG: &str = "2026-01-01T10:00:00.0000000Z ##[group]Run cargo test\n2026-01-01T10:00:01.0000000Z running 1 test\n2026-01-01T10:00:02.0000000Z thread 'hello' panicked at src/lib.rs:1:5: assertion failed (took 1.2s)\n2026-01-01T10:00:03.0000000Z ##[error]Process completed with exit code 101.\n2026-01-01T10:00:04.0000000Z Post job cleanup.\n";

#[test]
fn gh_failing_check_and_comment_are_fixed_replied_to_and_followed_to_green() {
    let f = forge("https://github.com/acme/app.git", "gh", FAKE_GH);
    let env = &f.env;
    let (id, wt) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    assert!(!wt.exists());
    let first_tip = f.tip();

    // Checks still running: wait.
    f.gh_pr(
        json!([gh_check("test", "IN_PROGRESS", None, 77)]),
        "REVIEW_REQUIRED",
        json!([]),
    );
    let out = env.sj(&["follow"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "wait", "{j}");
    assert_eq!(j["retry-after"], 60);
    assert_eq!(j["waiting-for"], "checks: test");
    assert_eq!(env.status(&id)["outcome"], "completed");

    // It failed, and a reviewer commented: a fix pass with both as feedback.
    f.gh_pr(
        json!([gh_check("test", "COMPLETED", Some("FAILURE"), 77)]),
        "CHANGES_REQUESTED",
        json!([
            thread(11, "please return the greeting", false),
            thread(12, "old", true)
        ]),
    );
    f.put("log.77", FAILING_LOG);
    let out = env.sj(&["follow", "--run", &id]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "invoke", "{j}");
    assert_eq!(j["invocations"][0]["agent"], "implementor");
    assert!(
        wt.exists(),
        "the worktree is made again on the pushed branch"
    );
    assert_eq!(env.git_in(&wt, &["rev-parse", "HEAD"]), first_tip);
    let h = handoff(env, &id);
    let fb: Vec<String> = h["context"]["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(fb.len(), 2, "{fb:?}");
    assert!(
        fb[0].starts_with(
            "failing check 'test' (https://github.com/acme/app/actions/runs/1/job/77)"
        ),
        "{}",
        fb[0]
    );
    assert!(
        fb[0].contains("thread 'hello' panicked")
            && fb[0].ends_with("##[error]Process completed with exit code 101."),
        "{}",
        fb[0]
    );
    assert!(
        !fb[0].contains("Post job") && !fb[0].contains("2026-01-01T"),
        "trimmed: {}",
        fb[0]
    );
    assert!(
        fb[1].contains("@alice on src/lib.rs:1") && fb[1].contains("please return the greeting"),
        "{}",
        fb[1]
    );
    // Following while the pass is in progress answers as next does.
    assert_eq!(env.sj(&["follow", "--run", &id]).json()["action"], "invoke");

    let j = f.fix_pass(&id);
    assert_eq!(j["action"], "done", "{j}");
    let second_tip = f.tip();
    assert_ne!(second_tip, first_tip);
    let origin_tip = env.git_in(&env.origin, &["rev-parse", "refs/heads/swarm/add-greeting"]);
    assert_eq!(origin_tip, second_tip, "pushed to the same branch");
    let gh = f.calls("gh");
    assert_eq!(
        gh.iter().filter(|a| a[0] == "pr").count(),
        1,
        "never a second pull request: {gh:?}"
    );
    let replies: Vec<&Vec<String>> = gh
        .iter()
        .filter(|a| a.iter().any(|x| x.ends_with("/replies")))
        .collect();
    assert_eq!(replies.len(), 1, "{gh:?}");
    let r = replies[0];
    assert!(
        r.contains(&"repos/acme/app/pulls/7/comments/11/replies".to_string()),
        "{r:?}"
    );
    let body = r.join("\n");
    assert!(
        body.contains(&second_tip) && body.contains(&format!("<!-- swarm-reply {id} 11 -->")),
        "{body}"
    );
    let edit = gh
        .iter()
        .find(|a| a.contains(&"PATCH".to_string()))
        .expect("the body is updated");
    assert!(edit.contains(&"repos/acme/app/pulls/7".to_string()));
    let body = edit.join("\n");
    assert!(
        body.contains("### Follow-up passes")
            && body.contains("fixed check `test`: thread 'hello' panicked"),
        "{body}"
    );
    assert!(body.contains(&format!("Swarm-Run: {id}")), "{body}");

    // Green and approved: done; asking again does not read the forge.
    let mut t = thread(11, "please return the greeting", false);
    t["comments"]["nodes"].as_array_mut().unwrap().push(json!({"databaseId": 13, "body": format!("Addressed. <!-- swarm-reply {id} 11 -->"), "author": {"login": "bot"}}));
    f.gh_pr(
        json!([gh_check("test", "COMPLETED", Some("SUCCESS"), 78)]),
        "APPROVED",
        json!([t]),
    );
    let out = env.sj(&["follow", "--run", &id]);
    out.code(0);
    assert_eq!(out.json()["action"], "done", "{}", out.json());
    let n = f.calls("gh").len();
    env.sj(&["follow", "--run", &id]).code(0);
    assert_eq!(f.calls("gh").len(), n);
    let st = env.status(&id);
    assert_eq!(st["swarm"]["follow"]["rounds"], 1);
    assert_eq!(st["swarm"]["follow"]["done"], true);
    assert_eq!(st["swarm"]["follow"]["replied"], json!(["11"]));
    assert_run_files_valid(env, &id);
}

#[test]
fn gh_the_same_failure_after_a_fix_escalates_with_both_excerpts() {
    let f = forge("https://github.com/acme/app.git", "gh", FAKE_GH);
    let env = &f.env;
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    f.gh_pr(
        json!([gh_check("test", "COMPLETED", Some("FAILURE"), 77)]),
        "",
        json!([]),
    );
    f.put("log.77", FAILING_LOG);
    assert_eq!(env.sj(&["follow"]).json()["action"], "invoke");
    f.fix_pass(&id);
    // The same error, another run: other timestamps, durations and job.
    f.gh_pr(
        json!([gh_check("test", "COMPLETED", Some("FAILURE"), 88)]),
        "",
        json!([]),
    );
    f.put(
        "log.88",
        &FAILING_LOG
            .replace("2026-01-01T10", "2026-01-02T11")
            .replace("1.2s", "0.9s"),
    );
    let out = env.sj(&["follow", "--run", &id]);
    out.code(4);
    let j = out.json();
    assert_eq!(j["action"], "escalated");
    assert_eq!(j["outcome"], "needs-human");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("check 'test' failed again"),
        "{j}"
    );
    assert!(
        j["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("git swarm follow --run {id}")),
        "{j}"
    );
    let st = env.status(&id);
    let w = st["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["reason"] == "follow-recurring")
        .unwrap();
    assert!(
        w["message"]
            .as_str()
            .unwrap()
            .matches("thread 'hello' panicked")
            .count()
            == 2,
        "{w}"
    );
    // Following again without a change escalates again; nothing is pushed.
    let pushes_before = env.git_in(&env.origin, &["rev-parse", "refs/heads/swarm/add-greeting"]);
    env.sj(&["follow", "--run", &id]).code(4);
    assert_eq!(
        env.git_in(&env.origin, &["rev-parse", "refs/heads/swarm/add-greeting"]),
        pushes_before
    );
}

#[test]
fn gh_merged_while_waiting_is_done_and_closed_escalates() {
    let f = forge("https://github.com/acme/app.git", "gh", FAKE_GH);
    let env = &f.env;
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    f.gh_pr(
        json!([gh_check("test", "QUEUED", None, 1)]),
        "REVIEW_REQUIRED",
        json!([]),
    );
    assert_eq!(env.sj(&["follow"]).json()["action"], "wait");
    f.put(
        "pr.json",
        &json!({"data": {"repository": {"pullRequest": {"state": "MERGED"}}}}).to_string(),
    );
    let out = env.sj(&["follow"]);
    out.code(0);
    assert_eq!(out.json()["action"], "done");
    assert!(out.json()["message"].as_str().unwrap().contains("merged"));
    // Another run's pull request closed without merging.
    let (id2, _) = {
        std::fs::write(env.work.join("extra.txt"), "x").unwrap();
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "extra"]);
        let id2 = env.start("Add a farewell");
        play_planner(
            env,
            &id2,
            &plan(&id2, "add-farewell", vec![task("t1", &["src/lib.rs"], &[])]),
        );
        env.sj(&["next"]).code(0);
        play_implementor(env, &id2, "completed");
        env.sj(&["next"]).code(0);
        play_reviewer(env, &id2, "approved");
        env.sj(&["next"]).code(0);
        play_tester(env, &id2, "passed");
        env.sj(&["next"]).code(0);
        env.sj(&["publish", "--run", &id2]).code(0);
        (id2, ())
    };
    assert_ne!(id, id2);
    f.put(
        "pr.json",
        &json!({"data": {"repository": {"pullRequest": {"state": "CLOSED"}}}}).to_string(),
    );
    let out = env.sj(&["follow", "--run", &id2]);
    out.code(4);
    assert!(
        out.json()["message"]
            .as_str()
            .unwrap()
            .contains("closed without being merged")
    );
}

#[test]
fn gh_errors_change_nothing_and_say_what_to_do() {
    let f = forge("https://github.com/acme/app.git", "gh", FAKE_GH);
    let env = &f.env;
    let (id, _) = env.run_to_publish();
    // Not published yet: nothing to follow (the run is in progress: follow answers as next).
    assert_eq!(
        env.sj(&["follow", "--run", &id]).json()["action"],
        "publish"
    );
    env.sj(&["publish"]).code(0);
    let before = std::fs::read(env.run_dir(&id).join("run.status.json")).unwrap();
    f.put("pr.json", "not json");
    let out = env.sj(&["follow", "--run", &id]);
    assert_ne!(out.code, 0);
    assert!(
        out.error_message().contains("not JSON"),
        "{}",
        out.error_message()
    );
    f.put(
        "pr.json",
        r#"{"errors": [{"message": "Could not resolve to a PullRequest with the number of 7."}]}"#,
    );
    let out = env.sj(&["follow", "--run", &id]);
    assert!(
        out.error_message().contains("Could not resolve"),
        "{}",
        out.error_message()
    );
    assert_eq!(
        std::fs::read(env.run_dir(&id).join("run.status.json")).unwrap(),
        before
    );
}

fn glab_state(f: &Forge, pipeline_jobs: Value, approved: bool, discussions: Value) {
    let p = "projects_acme%2Fapp";
    f.put(
        &format!("{p}_merge_requests_3"),
        &json!({"iid": 3, "state": "opened", "sha": f.tip(), "head_pipeline": {"id": 55}})
            .to_string(),
    );
    f.put(
        &format!("{p}_pipelines_55_jobs"),
        &pipeline_jobs.to_string(),
    );
    f.put(
        &format!("{p}_merge_requests_3_approvals"),
        &json!({"approved": approved, "approvals_left": if approved { 0 } else { 1 }}).to_string(),
    );
    f.put(
        &format!("{p}_merge_requests_3_discussions"),
        &discussions.to_string(),
    );
}

#[test]
fn glab_failing_job_and_discussion_are_fixed_and_followed_to_approval() {
    let f = forge("https://gitlab.com/acme/app.git", "glab", FAKE_GLAB);
    let env = &f.env;
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    assert_eq!(
        env.status(&id)["prUrl"],
        "https://gitlab.com/acme/app/-/merge_requests/3"
    );
    glab_state(
        &f,
        json!([{"id": 501, "name": "rspec", "status": "failed", "web_url": "https://gitlab.com/acme/app/-/jobs/501"},
               {"id": 502, "name": "lint", "status": "success"}]),
        false,
        json!([{"id": "d1", "notes": [{"id": 71, "body": "name it greet", "resolvable": true, "resolved": false,
                 "author": {"username": "carol"}, "position": {"new_path": "src/lib.rs", "new_line": 1}}]}]),
    );
    f.put(
        "projects_acme%2Fapp_jobs_501_trace",
        "\u{1b}[0Ksection_start:1700000000:step_script\r\u{1b}[0K\u{1b}[32;1m$ bundle exec rspec\u{1b}[0;m\nFailures:\n  1) greets: expected \"hi\" got \"hello\"\nsection_end:1700000001:step_script\r\u{1b}[0K\n",
    );
    let out = env.sj(&["follow"]);
    out.code(0);
    assert_eq!(out.json()["action"], "invoke", "{}", out.json());
    let fb = handoff(env, &id)["context"]["feedback"].clone();
    let first = fb[0].as_str().unwrap();
    assert!(
        first.contains("failing check 'rspec' (https://gitlab.com/acme/app/-/jobs/501)"),
        "{first}"
    );
    assert!(
        first.contains("expected \"hi\" got \"hello\"") && !first.contains('\u{1b}'),
        "{first}"
    );
    assert!(
        fb[1].as_str().unwrap().contains("@carol on src/lib.rs:1"),
        "{fb}"
    );
    f.fix_pass(&id);
    let glab = f.calls("glab");
    assert_eq!(glab.iter().filter(|a| a[0] == "mr").count(), 1, "{glab:?}");
    let reply = glab
        .iter()
        .find(|a| {
            a.iter()
                .any(|x| x == "projects/acme%2Fapp/merge_requests/3/discussions/d1/notes")
        })
        .expect("the discussion is answered");
    assert!(reply.contains(&"POST".to_string()));
    let put = glab
        .iter()
        .find(|a| a.contains(&"PUT".to_string()))
        .expect("the description is updated");
    let text = put.join("\n");
    assert!(
        text.contains("description=Goal: Greet the user")
            && text.contains("### Follow-up passes\n- pass 1 ("),
        "{text}"
    );
    assert!(
        text.contains("fixed check `rspec`: 1) greets: expected"),
        "{text}"
    );
    glab_state(
        &f,
        json!([{"id": 601, "name": "rspec", "status": "success"}]),
        true,
        json!([]),
    );
    let out = env.sj(&["follow"]);
    out.code(0);
    assert_eq!(out.json()["action"], "done", "{}", out.json());
}

#[test]
fn a_state_command_reads_other_forges_once_trusted() {
    let mut env = Env::new();
    env.remote_looks_like("https://bitbucket.org/acme/app.git");
    env.fake_tool(
        "acli",
        "echo 'https://bitbucket.org/acme/app/pull-requests/4'",
    );
    let state = env.root().join("bb-state.json");
    env.fake_tool(
        "bb-state",
        &format!(
            "echo \"$@\" > '{}.args'; cat '{}'",
            state.display(),
            state.display()
        ),
    );
    let policy = json!({"follow": {"stateCommand": ["bb-state", "{number}", "{branch}"]}});
    write_json(&env.work.join(".swarm/policies.json"), &policy);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "policy"]);
    env.swarm(&["trust"]).code(0);
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    assert_eq!(
        env.status(&id)["prUrl"],
        "https://bitbucket.org/acme/app/pull-requests/4"
    );
    std::fs::write(
        &state,
        json!({"state": "open", "checks": [{"name": "pipeline", "state": "pending"}]}).to_string(),
    )
    .unwrap();
    let out = env.sj(&["follow"]);
    out.code(0);
    assert_eq!(out.json()["action"], "wait", "{}", out.json());
    let args = std::fs::read_to_string(format!("{}.args", state.display())).unwrap();
    assert_eq!(args.trim(), "4 swarm/add-greeting");
    std::fs::write(&state, r#"{"state": "sideways"}"#).unwrap();
    let out = env.sj(&["follow"]);
    assert!(
        out.error_message().contains("pr-state.schema.json"),
        "{}",
        out.error_message()
    );
    // A changed policy is not run until trusted again.
    let policy = json!({"follow": {"stateCommand": ["bb-state", "{url}"]}});
    write_json(&env.work.join(".swarm/policies.json"), &policy);
    let out = env.sj(&["follow"]);
    out.code(3);
}

// ---- the verification gate ----------------------------------------------------------------

fn with_policy(env: &Env, policy: Value) {
    write_json(&env.work.join(".swarm/policies.json"), &policy);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "policy"]);
    env.swarm(&["trust"]).code(0);
}

/// A check that passes once the implementor's second pass wrote "hello 2".
const CHECK: &str = "grep -q 'hello 2' src/lib.rs || { echo 'FAIL: greeting is not the second one' >&2; exit 3; }\necho ok\n";

fn write_check(env: &Env) {
    std::fs::write(env.work.join("check.sh"), CHECK).unwrap();
}

#[test]
fn a_failing_gate_sends_the_work_back_and_a_passing_one_publishes() {
    let mut env = Env::new();
    env.remote_looks_like("https://github.com/acme/app.git");
    env.fake_tool("gh", "echo https://github.com/acme/app/pull/7");
    write_check(&env);
    with_policy(&env, json!({"verify": {"commands": ["sh check.sh"]}}));
    let (id, wt) = env.run_to_publish();
    let out = env.sj(&["publish"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "invoke", "{j}");
    assert_eq!(j["invocations"][0]["agent"], "implementor");
    assert!(on_origin(&env).is_none(), "nothing is pushed");
    let fb = handoff(&env, &id)["context"]["feedback"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fb.contains("`sh check.sh` failed: exit code 3"), "{fb}");
    assert!(fb.contains("FAIL: greeting is not the second one"), "{fb}");
    let st = env.status(&id);
    assert_eq!(st["retry-counts"]["verify"], 1);
    assert_eq!(st["swarm"]["verification"]["passed"], false);
    let log = st["swarm"]["verification"]["commands"][0]["log"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(std::fs::read_to_string(&log).unwrap().contains("FAIL"));
    // The second pass writes what the check wants.
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    env.sj(&["next"]).code(0);
    let out = env.sj(&["publish"]);
    out.code(0);
    assert_eq!(out.json()["action"], "done", "{}", out.json());
    assert!(on_origin(&env).is_some());
    let st = env.status(&id);
    let v = &st["swarm"]["verification"];
    assert_eq!(v["passed"], true);
    assert_eq!(v["commands"][0]["exitCode"], 0);
    assert_eq!(v["tree"], st["swarm"]["tested"]["tree"]);
    // The plan's `cargo test` was the planner's words: reported, not run.
    assert_eq!(v["commands"][1]["outcome"], "not-run");
    assert!(!wt.exists());
    let body = env
        .fake_calls()
        .iter()
        .find(|(t, _)| t == "gh")
        .map(|(_, a)| {
            let i = a.iter().position(|x| x == "--body-file").unwrap();
            std::fs::read_to_string(&a[i + 1]).unwrap()
        })
        .unwrap();
    assert!(
        body.contains("verified by git swarm: `sh check.sh` passed"),
        "{body}"
    );
}

fn on_origin(env: &Env) -> Option<String> {
    let out = std::process::Command::new("git")
        .args([
            "--git-dir",
            env.origin.to_str().unwrap(),
            "rev-parse",
            "--verify",
            "-q",
            "refs/heads/swarm/add-greeting",
        ])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn gate_timeouts_retries_and_changed_content_are_failures() {
    let env = Env::new();
    std::fs::write(env.work.join("slow.sh"), "sleep 30\n").unwrap();
    with_policy(
        &env,
        json!({"verify": {"commands": ["sh slow.sh"], "timeoutSeconds": 0.5}}),
    );
    let (id, _) = env.run_to_publish();
    let started = std::time::Instant::now();
    let out = env.sj(&["publish"]);
    assert!(started.elapsed().as_secs() < 20, "the command was stopped");
    out.code(0);
    let st = env.status(&id);
    assert_eq!(
        st["swarm"]["verification"]["commands"][0]["outcome"],
        "timed-out"
    );
    // Each failure goes back to the implementor until the retry budget is used up.
    let mut code = 0;
    for _ in 0..5 {
        if env.status(&id)["outcome"] != "in-progress" {
            break;
        }
        play_implementor(&env, &id, "completed");
        env.sj(&["next"]).code(0);
        play_reviewer(&env, &id, "approved");
        env.sj(&["next"]).code(0);
        play_tester(&env, &id, "passed");
        env.sj(&["next"]).code(0);
        code = env.sj(&["publish"]).code;
    }
    let st = env.status(&id);
    assert_eq!(st["outcome"], "needs-human", "{st}");
    assert!(
        st["failure-reason"]
            .as_str()
            .unwrap()
            .contains("retries are used up")
    );
    assert_eq!(code, 4);
    assert!(on_origin(&env).is_none());
}

#[test]
fn a_gate_that_changes_the_worktree_fails() {
    let env = Env::new();
    with_policy(
        &env,
        json!({"verify": {"commands": ["sh -c 'echo generated > gen.txt'"]}}),
    );
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    let st = env.status(&id);
    let cmds = st["swarm"]["verification"]["commands"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(cmds[0]["outcome"], "passed");
    assert_eq!(cmds.last().unwrap()["outcome"], "failed");
    assert!(
        cmds.last().unwrap()["why"]
            .as_str()
            .unwrap()
            .contains("changed files")
    );
    assert_eq!(handoff(&env, &id)["to"], "implementor");
}

// ---- exec mode: `git swarm run` follows by itself ------------------------------------------

/// gh whose GraphQL answers go round by round: `pr.<n>.json` for the n-th read, then `pr.json`.
const FAKE_GH_ROUNDS: &str = r#"
state="$FAKE_STATE"
case "$1" in
  pr) echo 'https://github.com/acme/app/pull/9'; exit 0 ;;
esac
for a in "$@"; do
  case "$a" in
    graphql)
      n=$(cat "$state/n" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$state/n"
      f="$state/pr.$n.json"; [ -f "$f" ] || f="$state/pr.json"; cat "$f"; exit 0 ;;
    repos/*/actions/jobs/*/logs) id=${a%/logs}; id=${id##*/}; cat "$state/log.$id" || exit 1; exit 0 ;;
    repos/*/replies) echo '{"id": 900}'; exit 0 ;;
    repos/*/pulls/*) echo '{"number": 9}'; exit 0 ;;
  esac
done
exit 2
"#;

fn gh_rounds_pr(checks: Value, review: &str) -> String {
    json!({"data": {"repository": {"pullRequest": {
        "state": "OPEN", "reviewDecision": review,
        "commits": {"nodes": [{"commit": {"statusCheckRollup": {"contexts": {"nodes": checks}}}}]},
        "reviews": {"nodes": []}, "reviewThreads": {"nodes": []}
    }}}})
    .to_string()
}

fn exec_following(policy: Value) -> (common::agents::Exec, PathBuf) {
    let mut x = common::agents::Exec::new();
    x.env.fake_tool("gh", FAKE_GH_ROUNDS);
    let state = x.env.root().join("forge-state");
    std::fs::create_dir_all(&state).unwrap();
    x.env
        .extra_env
        .push(("FAKE_STATE".into(), state.display().to_string()));
    write_json(&x.env.work.join(".swarm/policies.json"), &policy);
    x.env.git(&["add", "-A"]);
    x.env.git(&["commit", "-qm", "policy"]);
    (x, state)
}

#[test]
fn exec_mode_waits_fixes_the_failing_check_and_ends_green() {
    let (x, state) = exec_following(json!({"follow": {"enabled": true, "retryAfterSeconds": 1}}));
    std::fs::write(
        state.join("pr.1.json"),
        gh_rounds_pr(json!([gh_check("test", "IN_PROGRESS", None, 5)]), ""),
    )
    .unwrap();
    std::fs::write(
        state.join("pr.2.json"),
        gh_rounds_pr(
            json!([gh_check("test", "COMPLETED", Some("FAILURE"), 77)]),
            "",
        ),
    )
    .unwrap();
    std::fs::write(state.join("log.77"), FAILING_LOG).unwrap();
    std::fs::write(
        state.join("pr.json"),
        gh_rounds_pr(
            json!([gh_check("test", "COMPLETED", Some("SUCCESS"), 78)]),
            "APPROVED",
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = x.run(&["Add a greeting"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "done", "{j}");
    assert!(
        started.elapsed().as_secs_f64() >= 1.0,
        "it waited retry-after"
    );
    let id = j["run-id"].as_str().unwrap();
    let st = x.env.status(id);
    assert_eq!(st["swarm"]["follow"]["rounds"], 1);
    assert_eq!(st["swarm"]["follow"]["done"], true);
    assert_eq!(
        std::fs::read_to_string(state.join("n")).unwrap().trim(),
        "3"
    );
    let signals: Vec<String> = x
        .events(id)
        .iter()
        .map(|e| e["signal"].as_str().unwrap().to_string())
        .collect();
    for s in [
        "FOLLOW_WAIT",
        "FOLLOW_INVOKE",
        "FOLLOW_PUSHED",
        "FOLLOW_DONE",
    ] {
        assert!(signals.contains(&s.to_string()), "{s} in {signals:?}");
    }
    // Two implementor passes on one branch, pushed twice, one pull request.
    let log = x
        .env
        .git_in(&x.env.origin, &["log", "--format=%s", "swarm/feature"]);
    assert_eq!(log.matches("implementor: work").count(), 2, "{log}");
    let creates = x
        .env
        .fake_calls()
        .iter()
        .filter(|(t, a)| t == "gh" && a[0] == "pr")
        .count();
    assert_eq!(creates, 1);
    assert_run_files_valid(&x.env, id);
}

#[test]
fn exec_mode_stops_when_a_fix_does_not_converge() {
    let (x, state) = exec_following(json!({"follow": {"retryAfterSeconds": 1}}));
    std::fs::write(
        state.join("pr.json"),
        gh_rounds_pr(
            json!([gh_check("test", "COMPLETED", Some("FAILURE"), 77)]),
            "",
        ),
    )
    .unwrap();
    std::fs::write(state.join("log.77"), FAILING_LOG).unwrap();
    // Without --follow (and follow.enabled off) the run ends at the pull request.
    let j = x.run(&["Add a greeting"]).json();
    assert_eq!(j["action"], "done");
    assert!(!state.join("n").exists(), "the pull request was not read");
    let id = j["run-id"].as_str().unwrap().to_string();
    let out = x.run(&["--follow", "--run", &id]);
    out.code(4);
    let j = out.json();
    assert_eq!(j["outcome"], "needs-human");
    assert!(
        j["message"].as_str().unwrap().contains("failed again"),
        "{j}"
    );
    assert_eq!(x.env.status(&id)["swarm"]["follow"]["rounds"], 1);
}

#[test]
fn an_untrusted_verification_command_never_runs() {
    let env = Env::new();
    let marker = env.root().join("ran");
    write_json(
        &env.work.join(".swarm/policies.json"),
        &json!({"verify": {"commands": [format!("touch {}", marker.display())]}}),
    );
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "policy"]);
    let (id, _) = env.run_to_publish();
    let out = env.sj(&["publish"]);
    out.code(3);
    let msg = out.error_message();
    assert!(msg.contains("/verify/commands/0"), "{msg}");
    assert!(!marker.exists(), "the command did not run");
    assert!(on_origin(&env).is_none(), "nothing was pushed");
    assert_eq!(env.status(&id)["outcome"], "in-progress");
    // Trusted, it runs.
    env.swarm(&["trust"]).code(0);
    env.sj(&["publish"]).code(0);
    assert!(marker.exists());
}
