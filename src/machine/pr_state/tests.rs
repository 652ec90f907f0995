use super::*;
use serde_json::json;

fn gh_answer() -> Value {
    json!({"data": {"repository": {"pullRequest": {
        "state": "OPEN",
        "headRefOid": "abc123",
        "reviewDecision": "CHANGES_REQUESTED",
        "commits": {"nodes": [{"commit": {"oid": "abc123", "statusCheckRollup": {"contexts": {"nodes": [
            {"__typename": "CheckRun", "name": "test", "status": "COMPLETED", "conclusion": "FAILURE",
             "detailsUrl": "https://github.com/o/r/actions/runs/1/job/77", "databaseId": 77, "isRequired": true},
            {"__typename": "CheckRun", "name": "lint", "status": "IN_PROGRESS", "conclusion": null,
             "detailsUrl": "", "databaseId": 78, "isRequired": false},
            {"__typename": "StatusContext", "context": "ci/legacy", "state": "SUCCESS", "targetUrl": "https://ci/x"}
        ]}}}}]},
        "reviews": {"nodes": [
            {"databaseId": 5, "state": "CHANGES_REQUESTED", "body": "please add docs", "author": {"login": "rev"}},
            {"databaseId": 6, "state": "COMMENTED", "body": "nice", "author": {"login": "rev"}}
        ]},
        "reviewThreads": {"nodes": [
            {"id": "T1", "isResolved": false, "comments": {"nodes": [
                {"databaseId": 11, "body": "off by one", "path": "src/a.rs", "line": 3, "author": {"login": "alice"}},
                {"databaseId": 12, "body": "done <!-- swarm-reply r1 11 -->", "path": "src/a.rs", "line": 3, "author": {"login": "bot"}}
            ]}},
            {"id": "T2", "isResolved": true, "comments": {"nodes": [
                {"databaseId": 21, "body": "typo", "path": "b.md", "line": null, "originalLine": 9, "author": {"login": "bob"}}
            ]}}
        ]}
    }}}})
}

#[test]
fn gh_answers_become_the_pull_request() {
    let v = from_gh(&gh_answer()).unwrap();
    assert_eq!(v.state, PrOpen::Open);
    assert_eq!(v.head.as_deref(), Some("abc123"));
    assert_eq!(v.review, Review::ChangesRequested);
    let states: Vec<_> = v
        .checks
        .iter()
        .map(|c| (c.name.as_str(), c.state, c.required))
        .collect();
    assert_eq!(
        states,
        [
            ("test", CheckState::Failed, true),
            ("lint", CheckState::Pending, false),
            ("ci/legacy", CheckState::Passed, false)
        ]
    );
    assert_eq!(v.checks[0].job.as_deref(), Some("77"));
    // The thread's latest comment that is not the tool's own reply is the finding.
    assert_eq!(v.comments[0].id, "11");
    assert_eq!(v.comments[0].thread.as_deref(), Some("11"));
    assert_eq!(v.comments[0].file.as_deref(), Some("src/a.rs"));
    assert_eq!(v.comments[0].author, "alice");
    assert_eq!(v.comments[0].thread_bodies.len(), 2);
    assert!(v.comments[1].resolved);
    assert_eq!(v.comments[1].line, Some(9));
    assert_eq!(v.comments[2].id, "review-5");
    assert_eq!(v.comments.len(), 3, "a plain comment review is no finding");
}

#[test]
fn gh_errors_are_named() {
    let e = from_gh(&json!({"errors": [{"message": "Could not resolve to a PullRequest"}]}))
        .unwrap_err();
    assert!(e.contains("Could not resolve"), "{e}");
    assert!(from_gh(&json!({"data": {"repository": {"pullRequest": null}}})).is_err());
    let merged = json!({"data": {"repository": {"pullRequest": {"state": "MERGED"}}}});
    assert_eq!(from_gh(&merged).unwrap().state, PrOpen::Merged);
}

#[test]
fn glab_answers_become_the_pull_request() {
    let mr = json!({"state": "opened", "sha": "def"});
    let jobs = json!([
        {"id": 1, "name": "build", "status": "success", "web_url": "https://gl/j/1"},
        {"id": 2, "name": "test", "status": "failed", "web_url": "https://gl/j/2"},
        {"id": 3, "name": "flaky", "status": "failed", "allow_failure": true},
        {"id": 4, "name": "deploy", "status": "running"}
    ]);
    let approvals = json!({"approved": false, "approvals_left": 1});
    let discussions = json!([
        {"id": "d1", "notes": [
            {"id": 31, "body": "rename this", "resolvable": true, "resolved": false,
             "author": {"username": "carol"}, "position": {"new_path": "src/x.rs", "new_line": 4}}
        ]},
        {"id": "d2", "notes": [{"id": 32, "body": "general remark", "resolvable": false}]},
        {"id": "d3", "notes": [{"id": 33, "body": "changed the description", "system": true}]}
    ]);
    let v = from_glab(&mr, Some(&jobs), Some(&approvals), Some(&discussions)).unwrap();
    assert_eq!(v.head.as_deref(), Some("def"));
    assert_eq!(v.review, Review::Required);
    let states: Vec<_> = v.checks.iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        [
            CheckState::Passed,
            CheckState::Failed,
            CheckState::Skipped,
            CheckState::Pending
        ]
    );
    assert_eq!(v.comments.len(), 1);
    assert_eq!(v.comments[0].thread.as_deref(), Some("d1"));
    assert_eq!(
        (v.comments[0].file.as_deref(), v.comments[0].line),
        (Some("src/x.rs"), Some(4))
    );
    let merged = from_glab(&json!({"state": "merged"}), None, None, None).unwrap();
    assert_eq!(merged.state, PrOpen::Merged);
    assert!(from_glab(&json!([]), None, None, None).is_err());
}

#[test]
fn own_shape_is_read_and_errors_point_at_the_schema() {
    let v =
        from_own(json!({"state": "open", "checks": [{"name": "ci", "state": "failed"}]})).unwrap();
    assert_eq!(v.checks[0].state, CheckState::Failed);
    let e = from_own(json!({"state": "green"})).unwrap_err();
    assert!(e.contains("pr-state.schema.json"), "{e}");
}

#[test]
fn excerpts_keep_the_failing_steps_last_lines() {
    let mut log = String::new();
    log.push_str("2024-05-01T10:00:00.1234567Z ##[group]Run actions/checkout\n");
    log.push_str("2024-05-01T10:00:01.0000000Z checked out\n");
    log.push_str("2024-05-01T10:00:02.0000000Z ##[endgroup]\n");
    log.push_str("2024-05-01T10:00:03.0000000Z ##[group]Run cargo test\n");
    for i in 0..60 {
        log.push_str(&format!(
            "2024-05-01T10:00:04.0000000Z \u{1b}[32mtest t{i} ... ok\u{1b}[0m\n"
        ));
    }
    log.push_str("2024-05-01T10:00:05.0000000Z progress 10%\rprogress 100%\n");
    log.push_str("2024-05-01T10:00:06.0000000Z error[E0308]: mismatched types at src/lib.rs:10\n");
    log.push_str("2024-05-01T10:00:07.0000000Z ##[error]Process completed with exit code 101.\n");
    log.push_str("2024-05-01T10:00:08.0000000Z Post job cleanup.\n");
    let e = excerpt(&log);
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), EXCERPT_LINES);
    assert_eq!(
        lines.last(),
        Some(&"##[error]Process completed with exit code 101.")
    );
    assert!(lines.contains(&"progress 100%"));
    assert!(!e.contains("checked out") && !e.contains("Post job") && !e.contains('\u{1b}'));
    assert!(!e.contains("2024-05-01"), "timestamps are removed");
    assert_eq!(excerpt(&log), e, "deterministic");
    assert_eq!(
        first_error_line(&e),
        "error[E0308]: mismatched types at src/lib.rs:10"
    );
    // Without marks: the last lines of the whole log.
    assert_eq!(excerpt("a\nb\n\nc\n"), "a\nb\nc");
    let long = "x".repeat(EXCERPT_CHARS * 2);
    assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS);
}

#[test]
fn fingerprints_ignore_what_changes_between_runs() {
    let a = "2024-05-01T10:00:00Z thread 'main' panicked at src/lib.rs:10:5 after 1.25s (run 123456, commit 0123abcdef) see https://ci/x/1";
    let b = "2024-06-02T11:11:11Z thread 'main' panicked at src/lib.rs:12:9 after 30ms (run 987654, commit fedcba9876) see https://ci/y/2";
    assert_eq!(normalise(a), normalise(b));
    assert_eq!(
        normalise(a),
        "thread main panicked at src/lib.rs:#:# after run commit see"
    );
    assert_eq!(check_fingerprint("test", a), check_fingerprint("test", b));
    assert_ne!(check_fingerprint("test", a), check_fingerprint("lint", a));
    assert_ne!(
        check_fingerprint("test", "error: mismatched types"),
        check_fingerprint("test", "error: unresolved import")
    );
    assert_eq!(comment_fingerprint("11"), "comment:11");
    assert_eq!(reply_marker("r1", "11"), "<!-- swarm-reply r1 11 -->");
}
