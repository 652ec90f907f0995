//! The follow phase survives a crash (the process aborted like kill -9) at every failpoint on
//! its way: reading the pull request and handing out a fix pass, then publishing the pass
//! (push, replies, the body). Running the command again ends exactly as an uninterrupted run:
//! one fix pass, one push of it, one reply per addressed comment, one pull request.
#![cfg(feature = "failpoints")]

mod common;

use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// gh: one pull request; the review thread's comments include the replies posted so far
/// (so that a reply a killed publish posted is found by its marker).
const GH: &str = r#"
state="$FAKE_STATE"
case "$1" in
  pr) echo x >> "$state/created"; echo 'https://github.com/acme/app/pull/7'; exit 0 ;;
esac
for a in "$@"; do
  case "$a" in
    graphql) sed "s|,\"REPLIES\"|$(cat "$state/replies" 2>/dev/null)|" "$state/pr.json"; exit 0 ;;
    repos/*/actions/jobs/*/logs) echo 'error: test hello failed'; exit 0 ;;
    repos/*/replies)
      for b in "$@"; do case "$b" in body=*) m=$(printf '%s' "$b" | grep -o '<!-- swarm-reply [^ ]* [^ ]* -->') ;; esac; done
      printf ',{"databaseId": 900, "body": "%s", "author": {"login": "bot"}}' "$m" >> "$state/replies"
      echo '{}'; exit 0 ;;
    repos/*/pulls/*) echo x >> "$state/edits"; echo '{}'; exit 0 ;;
  esac
done
exit 2
"#;

fn count(p: &Path, what: &str) -> usize {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .matches(what)
        .count()
}

/// A published run whose pull request has a failing check and an open comment.
fn published() -> (Env, PathBuf, String, PathBuf) {
    let mut env = Env::new();
    env.remote_looks_like("https://github.com/acme/app.git");
    env.fake_tool("gh", GH);
    let state = env.root().join("forge-state");
    std::fs::create_dir_all(&state).unwrap();
    env.extra_env
        .push(("FAKE_STATE".into(), state.display().to_string()));
    let (id, wt) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    let tip = env.git(&["rev-parse", "swarm/add-greeting"]);
    let pr = json!({"data": {"repository": {"pullRequest": {
        "state": "OPEN", "headRefOid": tip, "reviewDecision": "CHANGES_REQUESTED",
        "commits": {"nodes": [{"commit": {"statusCheckRollup": {"contexts": {"nodes": [
            {"__typename": "CheckRun", "name": "test", "status": "COMPLETED", "conclusion": "FAILURE", "databaseId": 77}
        ]}}}}]},
        "reviews": {"nodes": []},
        "reviewThreads": {"nodes": [{"id": "T", "isResolved": false, "comments": {"nodes": [
            {"databaseId": 11, "body": "please return it", "path": "src/lib.rs", "line": 1, "author": {"login": "alice"}},
            "REPLIES"
        ]}}]}
    }}}});
    std::fs::write(state.join("pr.json"), pr.to_string()).unwrap();
    (env, state, id, wt)
}

fn check_fix_pass_handed_out(env: &Env, id: &str, wt: &Path) {
    let out = env.sj(&["follow", "--run", id]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "invoke", "{j}");
    assert_eq!(j["invocations"].as_array().unwrap().len(), 1);
    let st = env.status(id);
    assert_eq!(st["swarm"]["follow"]["rounds"], 1, "exactly one fix pass");
    assert!(wt.join("src/lib.rs").exists(), "the worktree is whole");
    assert_eq!(env.git_in(wt, &["status", "--porcelain"]), "");
    assert_eq!(env.git(&["worktree", "list"]).lines().count(), 2);
    assert_run_files_valid(env, id);
}

const FOLLOW_POINTS: &[&str] = &[
    "follow-read-after",
    "lock-after",
    "worktree-add-before",
    "worktree-add-after",
    "atomic-write-before-rename",
    "atomic-write-after-rename",
    "events-append-before",
    "status-write-before",
    "status-write-after",
];

#[test]
fn a_crash_while_following_hands_out_one_fix_pass() {
    let mut hits = Vec::new();
    for point in FOLLOW_POINTS {
        for skip in 0..4 {
            let (env, _, id, wt) = published();
            let hit = env.crashed_at(&["follow", "--json"], point, skip);
            check_fix_pass_handed_out(&env, &id, &wt);
            if !hit {
                break;
            }
            hits.push(format!("{point}: {skip}"));
        }
    }
    println!("failpoint hits while following: {hits:?}");
    for p in [
        "follow-read-after: 0",
        "worktree-add-after: 0",
        "status-write-before: 0",
    ] {
        assert!(hits.iter().any(|h| h == p), "{p} in {hits:?}");
    }
}

const PUBLISH_POINTS: &[&str] = &[
    "publish-commit-before",
    "publish-push-before",
    "publish-push-after",
    "follow-reply-before",
    "follow-reply-after",
    "worktree-remove-before",
    "worktree-remove-after",
    "status-write-before",
    "status-write-after",
];

#[test]
fn a_crash_while_publishing_a_fix_pass_pushes_and_replies_once() {
    let mut hits = Vec::new();
    for point in PUBLISH_POINTS {
        for skip in 0..4 {
            let (env, state, id, wt) = published();
            env.sj(&["follow"]).code(0);
            play_implementor(&env, &id, "completed");
            // A leftover the tester runs on: publishing commits it.
            std::fs::write(
                wt.join("src/lib.rs"),
                "pub fn hello() -> &'static str { \"hello\" }\n",
            )
            .unwrap();
            env.sj(&["next"]).code(0);
            play_reviewer(&env, &id, "approved");
            env.sj(&["next"]).code(0);
            play_tester(&env, &id, "passed");
            env.sj(&["next"]).code(0);
            let hit = env.crashed_at(&["publish", "--json"], point, skip);
            let out = env.sj(&["publish", "--run", &id]);
            out.code(0);
            assert_eq!(
                out.json()["action"],
                "done",
                "{point} {skip}: {}",
                out.json()
            );
            let tip = env.git(&["rev-parse", "swarm/add-greeting"]);
            assert_eq!(
                env.git_in(&env.origin, &["rev-parse", "refs/heads/swarm/add-greeting"]),
                tip,
                "{point} {skip}: the fix is pushed"
            );
            assert_eq!(count(&state.join("created"), "x"), 1, "one pull request");
            assert_eq!(
                count(
                    &state.join("replies"),
                    &format!("<!-- swarm-reply {id} 11 -->")
                ),
                1,
                "{point} {skip}: one reply"
            );
            assert!(count(&state.join("edits"), "x") >= 1, "the body is updated");
            let st = env.status(&id);
            assert_eq!(st["swarm"]["follow"]["passes"].as_array().unwrap().len(), 1);
            assert_eq!(st["swarm"]["follow"]["passes"][0]["commit"], tip.as_str());
            assert_eq!(st["swarm"]["follow"]["replied"], json!(["11"]));
            assert!(!wt.exists());
            assert_run_files_valid(&env, &id);
            if !hit {
                break;
            }
            hits.push(format!("{point}: {skip}"));
        }
    }
    println!("failpoint hits while publishing a fix pass: {hits:?}");
    for p in [
        "follow-reply-before: 0",
        "follow-reply-after: 0",
        "publish-push-after: 0",
    ] {
        assert!(hits.iter().any(|h| h == p), "{p} in {hits:?}");
    }
}
