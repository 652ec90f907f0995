//! The follow phase through the real `gh` CLI against the GitHub stand-in
//! (tests/common/github.rs): the pull request's checks, a failing job's log and a review
//! thread read with `gh api graphql` and `gh api …/logs`; the fix pass published to the same
//! pull request; the comment answered and the body edited with `gh api`. Skipped without
//! /usr/bin/gh unless `GIT_SWARM_REQUIRE_REAL_CLIS=1` (CI), where that fails.

mod common;

use std::path::PathBuf;

use common::github::GithubStandin;
use common::*;
use serde_json::{Value, json};

const GH: &str = "/usr/bin/gh";
const REMOTE: &str = "http://github.localhost/owner/repo.git";

fn gh_installed() -> bool {
    if PathBuf::from(GH).is_file() {
        return true;
    }
    if std::env::var_os("GIT_SWARM_REQUIRE_REAL_CLIS").is_some_and(|v| v == "1") {
        panic!("GIT_SWARM_REQUIRE_REAL_CLIS=1 but {GH} is not installed");
    }
    eprintln!("skipped: {GH} is not installed");
    false
}

fn pull_request(head: &str, checks: Value, review: &str, threads: Value) -> Value {
    json!({"repository": {"pullRequest": {
        "state": "OPEN", "headRefOid": head, "reviewDecision": review,
        "commits": {"nodes": [{"commit": {"oid": head, "statusCheckRollup": {"contexts": {"nodes": checks}}}}]},
        "reviews": {"nodes": []},
        "reviewThreads": {"nodes": threads}
    }}})
}

fn check(conclusion: Option<&str>, job: u64) -> Value {
    json!({"__typename": "CheckRun", "name": "test",
           "status": if conclusion.is_some() { "COMPLETED" } else { "IN_PROGRESS" },
           "conclusion": conclusion,
           "detailsUrl": format!("http://github.localhost/owner/repo/actions/runs/3/job/{job}"),
           "databaseId": job, "isRequired": true})
}

#[test]
fn the_real_gh_follows_a_pull_request_from_red_to_green() {
    if !gh_installed() {
        return;
    }
    let hub = GithubStandin::start();
    let mut env = Env::new();
    env.remote_looks_like(REMOTE);
    let config = env.root().join("gh-config");
    env.extra_env.extend(hub.gh_env(&config));
    let (id, wt) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    assert_eq!(
        env.status(&id)["prUrl"],
        "http://github.localhost/owner/repo/pull/1"
    );
    let tip = env.git(&["rev-parse", "swarm/add-greeting"]);

    // Running, then failed with a log and a review comment.
    hub.set_pull_request_data(pull_request(
        &tip,
        json!([check(None, 41)]),
        "REVIEW_REQUIRED",
        json!([]),
    ));
    let j = env.sj(&["follow"]).code(0).json();
    assert_eq!(
        (j["action"].as_str(), j["waiting-for"].as_str()),
        (Some("wait"), Some("checks: test")),
        "{j}"
    );
    hub.set_job_log(
        42,
        "2026-11-28T10:00:00.0000000Z ##[group]Run cargo test\n2026-11-28T10:00:01.0000000Z test hello ... FAILED\n2026-11-28T10:00:02.0000000Z error: test failed, to rerun pass `--lib`\n2026-11-28T10:00:03.0000000Z ##[error]Process completed with exit code 101.\n",
    );
    hub.set_pull_request_data(pull_request(
        &tip,
        json!([check(Some("FAILURE"), 42)]),
        "CHANGES_REQUESTED",
        json!([{"id": "PRRT_1", "isResolved": false, "comments": {"nodes": [
            {"databaseId": 501, "body": "hello() should return the text", "path": "src/lib.rs", "line": 1, "author": {"login": "octo"}}
        ]}}]),
    ));
    let j = env.sj(&["follow"]).code(0).json();
    assert_eq!(j["action"], "invoke", "{j}");
    let fb = handoff(&env, &id)["context"]["feedback"].clone();
    assert!(
        fb[0]
            .as_str()
            .unwrap()
            .contains("error: test failed, to rerun pass `--lib`"),
        "{fb}"
    );
    assert!(
        fb[1].as_str().unwrap().contains("@octo on src/lib.rs:1"),
        "{fb}"
    );
    let reqs = hub.requests();
    assert!(
        reqs.iter()
            .any(|r| r.method == "GET" && r.path == "/repos/owner/repo/actions/jobs/42/logs"),
        "{reqs:?}"
    );
    let q = reqs
        .iter()
        .rev()
        .find(|r| r.path.ends_with("graphql"))
        .unwrap()
        .json();
    assert_eq!(q["variables"]["number"], 1, "{q}");
    assert_eq!(
        (
            q["variables"]["owner"].as_str(),
            q["variables"]["name"].as_str()
        ),
        (Some("owner"), Some("repo"))
    );

    // The fix pass, published to the same pull request.
    assert!(wt.exists());
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    env.sj(&["next"]).code(0);
    assert_eq!(env.sj(&["publish"]).code(0).json()["action"], "done");
    let fixed = env.git(&["rev-parse", "swarm/add-greeting"]);
    assert_ne!(fixed, tip);
    assert_eq!(hub.prs().len(), 1, "never a second pull request");
    let replies = hub.replies();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!((replies[0].pr, replies[0].in_reply_to), (1, 501));
    assert!(
        replies[0].body.contains(&fixed)
            && replies[0]
                .body
                .contains(&format!("<!-- swarm-reply {id} 501 -->")),
        "{}",
        replies[0].body
    );
    let body = hub.pr_body(1).unwrap();
    assert!(
        body.contains("### Follow-up passes\n- pass 1 (")
            && body.contains("fixed check `test`: test hello ... FAILED"),
        "{body}"
    );
    assert!(body.contains(&format!("Swarm-Run: {id}")), "{body}");

    // Green and approved.
    let done_thread = json!([{"id": "PRRT_1", "isResolved": true, "comments": {"nodes": [
        {"databaseId": 501, "body": "hello() should return the text", "path": "src/lib.rs", "line": 1, "author": {"login": "octo"}},
        {"databaseId": 502, "body": replies[0].body, "path": "src/lib.rs", "line": 1, "author": {"login": "swarm-bot"}}
    ]}}]);
    hub.set_pull_request_data(pull_request(
        &fixed,
        json!([check(Some("SUCCESS"), 43)]),
        "APPROVED",
        done_thread,
    ));
    let j = env.sj(&["follow"]).code(0).json();
    assert_eq!(j["action"], "done", "{j}");
    assert_eq!(
        env.status(&id)["swarm"]["follow"]["replied"],
        json!(["501"])
    );
    assert_run_files_valid(&env, &id);
}
