//! The real `gh` CLI against the GitHub stand-in (tests/common/github.rs): `gh pr create` the
//! way publishing runs it (and again, refused with the existing pull request's URL), the pull
//! request lookups, and the `gh api` calls the review follow-up makes. Asserted on gh's real
//! output and on the requests the stand-in recorded.
//!
//! Without /usr/bin/gh the tests are skipped with a message saying why — unless
//! `GIT_SWARM_REQUIRE_REAL_CLIS=1` (CI), which turns a skip into a failure.

mod common;

use std::path::PathBuf;

use common::github::{GithubStandin, PullRequest, Recorded};
use common::*;
use serde_json::{Value, json};

const GH: &str = "/usr/bin/gh";
const REMOTE: &str = "http://github.localhost/owner/repo.git";
const BRANCH: &str = "swarm/add-greeting";

/// The gh to run, or why there is none: a skip, or (in CI) a failure.
fn gh() -> Option<PathBuf> {
    let gh = PathBuf::from(GH);
    if gh.is_file() {
        return Some(gh);
    }
    let why = format!("{GH} is not installed");
    if std::env::var_os("GIT_SWARM_REQUIRE_REAL_CLIS").is_some_and(|v| v == "1") {
        panic!("GIT_SWARM_REQUIRE_REAL_CLIS=1 but {why}");
    }
    eprintln!("skipped: {why}");
    None
}

/// A repository whose origin looks like github.localhost/owner/repo, a branch to propose, and
/// a stand-in.
struct Setup {
    env: Env,
    gh: PathBuf,
    hub: GithubStandin,
}

impl Setup {
    fn new() -> Option<Setup> {
        let gh = gh()?;
        let env = Env::bare();
        env.remote_looks_like(REMOTE);
        env.git(&["checkout", "-q", "-b", BRANCH]);
        std::fs::write(
            env.work.join("src/lib.rs"),
            "pub fn hello() { println!(\"hi\"); }\n",
        )
        .unwrap();
        env.git(&["commit", "-q", "-am", "greet"]);
        env.git(&["push", "-q", "origin", BRANCH]);
        Some(Setup {
            env,
            gh,
            hub: GithubStandin::start(),
        })
    }

    fn gh(&self, args: &[&str]) -> Out {
        let config = self.env.root().join("gh-config");
        let out = self
            .env
            .program(&self.gh, &self.env.work)
            .args(args)
            .envs(self.hub.gh_env(&config))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("gh runs");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `gh pr create` exactly as publishing builds it (src/forge/mod.rs, `builtin_argv`).
    fn pr_create(&self, head: &str, title: &str, draft: bool) -> Out {
        let body_file = self.env.root().join("pr-body.md");
        std::fs::write(&body_file, format!("Goal: {title}\n\nSwarm-Run: r1\n")).unwrap();
        let body_file = body_file.display().to_string();
        let mut args = vec![
            "pr",
            "create",
            "-R",
            "github.localhost/owner/repo",
            "--head",
            head,
            "--base",
            "main",
            "--title",
            title,
            "--body-file",
            &body_file,
        ];
        if draft {
            args.push("--draft");
        }
        self.gh(&args)
    }
}

/// Every request went to gh's host for github.localhost, through the proxy.
fn all_to_api_host(reqs: &[Recorded]) {
    assert!(!reqs.is_empty());
    for r in reqs {
        assert_eq!(r.host, "api.github.localhost", "{r:?}");
    }
}

fn mutations(reqs: &[Recorded]) -> Vec<Value> {
    reqs.iter()
        .filter(|r| r.query().is_some_and(|q| q.contains("createPullRequest")))
        .map(Recorded::json)
        .collect()
}

#[test]
fn pr_create_prints_the_url_and_a_second_create_names_the_existing_one() {
    let Some(s) = Setup::new() else { return };
    let out = s.pr_create(BRANCH, "[swarm] Greet the user", false);
    out.code(0);
    assert_eq!(
        out.stdout, "http://github.localhost/owner/repo/pull/1\n",
        "{out:?}"
    );

    let reqs = s.hub.requests();
    all_to_api_host(&reqs);
    assert!(
        reqs.iter()
            .all(|r| r.method == "POST" && r.path == "/graphql"),
        "{reqs:#?}"
    );
    let queries = s.hub.graphql_queries();
    assert!(queries[0].contains("query RepositoryInfo"), "{queries:#?}");
    assert!(
        queries
            .iter()
            .any(|q| q.contains("query PullRequestForBranch")),
        "{queries:#?}"
    );
    let created = mutations(&reqs);
    assert_eq!(created.len(), 1, "{reqs:#?}");
    let input = &created[0]["variables"]["input"];
    assert_eq!(input["headRefName"], BRANCH);
    assert_eq!(input["baseRefName"], "main");
    assert_eq!(input["title"], "[swarm] Greet the user");
    assert_eq!(
        input["body"],
        "Goal: [swarm] Greet the user\n\nSwarm-Run: r1\n"
    );
    assert_eq!(input["draft"], false);
    assert_eq!(
        s.hub.prs(),
        vec![PullRequest {
            number: 1,
            owner: "owner".into(),
            repo: "repo".into(),
            head: BRANCH.into(),
            base: "main".into(),
            title: "[swarm] Greet the user".into(),
            body: "Goal: [swarm] Greet the user\n\nSwarm-Run: r1\n".into(),
            draft: false,
            url: "http://github.localhost/owner/repo/pull/1".into(),
        }]
    );

    // Again (a publish that died while gh ran): gh finds the open one and refuses.
    let again = s.pr_create(BRANCH, "[swarm] Greet the user", false);
    again.code(1);
    assert_eq!(again.stdout, "");
    assert!(
        again.stderr.contains(&format!(
            "a pull request for branch \"{BRANCH}\" into branch \"main\" already exists:\nhttp://github.localhost/owner/repo/pull/1"
        )),
        "{again:?}"
    );
    assert_eq!(mutations(&s.hub.requests()).len(), 1, "no second mutation");
    assert_eq!(s.hub.prs().len(), 1);

    // The mutation itself is refused too, with GitHub's words.
    let input = s.env.root().join("mutation.json");
    let mutation = json!({
        "query": "mutation($input:CreatePullRequestInput!){createPullRequest(input:$input){pullRequest{url}}}",
        "variables": {"input": {"repositoryId": created[0]["variables"]["input"]["repositoryId"],
            "headRefName": BRANCH, "baseRefName": "main", "title": "again", "body": ""}},
    });
    std::fs::write(&input, mutation.to_string()).unwrap();
    let input = input.display().to_string();
    let refused = s.gh(&[
        "api",
        "--hostname",
        "github.localhost",
        "graphql",
        "--input",
        &input,
    ]);
    refused.code(1);
    assert!(
        refused.stderr.contains(&format!(
            "A pull request already exists for owner:{BRANCH}."
        )),
        "{refused:?}"
    );
    assert_eq!(s.hub.prs().len(), 1);

    // Another branch, as a draft: the next number.
    s.env.git(&["checkout", "-q", "-b", "swarm/other"]);
    let draft = s.pr_create("swarm/other", "[swarm] Other", true);
    draft.code(0);
    assert_eq!(draft.stdout, "http://github.localhost/owner/repo/pull/2\n");
    let prs = s.hub.prs();
    assert!(prs[1].draft && prs[1].head == "swarm/other", "{prs:?}");
}

#[test]
fn gh_finds_the_repository_from_the_remote_and_looks_pull_requests_up() {
    let Some(s) = Setup::new() else { return };
    // No -R: gh takes owner/repo from the remote URL on github.localhost.
    let out = s.gh(&[
        "pr", "create", "--head", BRANCH, "--base", "main", "--title", "T", "--body", "B",
    ]);
    out.code(0);
    assert_eq!(
        out.stdout, "http://github.localhost/owner/repo/pull/1\n",
        "{out:?}"
    );
    let again = s.gh(&[
        "pr", "create", "--head", BRANCH, "--base", "main", "--title", "T", "--body", "B",
    ]);
    again.code(1);
    assert!(
        again
            .stderr
            .contains("already exists:\nhttp://github.localhost/owner/repo/pull/1")
    );

    let list = s.gh(&[
        "pr",
        "list",
        "--head",
        BRANCH,
        "--json",
        "number,url,headRefName",
    ]);
    list.code(0);
    assert_eq!(
        list.json(),
        json!([{"headRefName": BRANCH, "number": 1, "url": "http://github.localhost/owner/repo/pull/1"}])
    );
    let none = s.gh(&["pr", "list", "--head", "swarm/nothing", "--json", "url"]);
    none.code(0);
    assert_eq!(none.json(), json!([]));

    let view = s.gh(&[
        "pr",
        "view",
        BRANCH,
        "--json",
        "number,url,state,baseRefName",
    ]);
    view.code(0);
    assert_eq!(
        view.json(),
        json!({"baseRefName": "main", "number": 1, "state": "OPEN", "url": "http://github.localhost/owner/repo/pull/1"})
    );
    let by_number = s.gh(&["pr", "view", "1", "--json", "title,body"]);
    by_number.code(0);
    assert_eq!(by_number.json(), json!({"body": "B", "title": "T"}));
    all_to_api_host(&s.hub.requests());
}

#[test]
fn gh_api_graphql_review_threads_answers_the_scripted_data() {
    let Some(s) = Setup::new() else { return };
    let first = json!({"repository": {"pullRequest": {"state": "OPEN", "reviewThreads": {"nodes": [{"isResolved": false}]}}}});
    let then = json!({"repository": {"pullRequest": {"state": "OPEN", "reviewThreads": {"nodes": [{"isResolved": true}]}}}});
    s.hub
        .queue_pull_request_data(vec![first.clone(), then.clone()]);
    let query = "query($owner:String!,$name:String!,$number:Int!){repository(owner:$owner,name:$name){pullRequest(number:$number){state reviewThreads(first:1){nodes{isResolved}}}}}";
    let q = format!("query={query}");
    let args = [
        "api",
        "--hostname",
        "github.localhost",
        "graphql",
        "-f",
        &q,
        "-F",
        "owner=o",
        "-F",
        "name=r",
        "-F",
        "number=1",
    ];
    for want in [&first, &then, &then] {
        let out = s.gh(&args);
        out.code(0);
        assert_eq!(out.json(), json!({"data": want}), "{out:?}");
    }
    let reqs = s.hub.requests();
    all_to_api_host(&reqs);
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("POST", "/graphql")
    );
    assert_eq!(
        reqs[0].json(),
        json!({"query": query, "variables": {"owner": "o", "name": "r", "number": 1}})
    );
}

#[test]
fn gh_api_job_logs_answer_the_text_set_or_404() {
    let Some(s) = Setup::new() else { return };
    s.hub.set_job_log(5, "step 1\nerror: tests failed\n");
    let args = [
        "api",
        "--hostname",
        "github.localhost",
        "repos/o/r/actions/jobs/5/logs",
    ];
    let out = s.gh(&args);
    out.code(0);
    assert_eq!(out.stdout, "step 1\nerror: tests failed\n");
    let missing = s.gh(&[
        "api",
        "--hostname",
        "github.localhost",
        "repos/o/r/actions/jobs/6/logs",
    ]);
    missing.code(1);
    assert!(missing.stderr.contains("HTTP 404"), "{missing:?}");
    let reqs = s.hub.requests();
    all_to_api_host(&reqs);
    let got: Vec<(&str, &str)> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("GET", "/repos/o/r/actions/jobs/5/logs"),
            ("GET", "/repos/o/r/actions/jobs/6/logs")
        ]
    );
}

#[test]
fn gh_api_posts_a_reply_to_a_review_comment() {
    let Some(s) = Setup::new() else { return };
    let out = s.gh(&[
        "api",
        "--hostname",
        "github.localhost",
        "-X",
        "POST",
        "repos/o/r/pulls/1/comments/7/replies",
        "-f",
        "body=hi",
    ]);
    out.code(0);
    let j = out.json();
    assert_eq!(
        (j["body"].clone(), j["in_reply_to_id"].clone()),
        (json!("hi"), json!(7)),
        "{j}"
    );
    assert!(j["id"].as_u64().is_some(), "{j}");
    let reqs = s.hub.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("POST", "/repos/o/r/pulls/1/comments/7/replies")
    );
    assert_eq!(reqs[0].json(), json!({"body": "hi"}));
    let replies = s.hub.replies();
    assert_eq!((replies[0].pr, replies[0].in_reply_to), (1, 7));
    assert_eq!(replies[0].body, "hi");
}

#[test]
fn gh_api_patches_a_pull_request_body() {
    let Some(s) = Setup::new() else { return };
    let out = s.gh(&[
        "api",
        "--hostname",
        "github.localhost",
        "-X",
        "PATCH",
        "repos/o/r/pulls/1",
        "-f",
        "body=x",
    ]);
    out.code(0);
    let j = out.json();
    assert_eq!(
        (j["number"].clone(), j["body"].clone()),
        (json!(1), json!("x")),
        "{j}"
    );
    assert_eq!(s.hub.pr_body(1).as_deref(), Some("x"));
    let reqs = s.hub.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("PATCH", "/repos/o/r/pulls/1")
    );
    assert_eq!(reqs[0].json(), json!({"body": "x"}));
}

/// github.com over HTTPS goes to the stand-in as a tunnel request, which is refused: nothing
/// reaches the network.
#[test]
fn https_hosts_are_refused_not_reached() {
    let Some(s) = Setup::new() else { return };
    let out = s.gh(&["api", "--hostname", "github.com", "meta"]);
    out.code(1);
    let reqs = s.hub.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("CONNECT", "api.github.com:443")
    );
}

/// `git swarm publish` itself, with gh found on PATH: the remote on github.localhost is a
/// GitHub remote (GH_HOST names it), gh makes pull request 1, and its URL is the run's.
fn publish_env(hub: &GithubStandin) -> Option<Env> {
    gh()?;
    let mut env = Env::new();
    env.remote_looks_like(REMOTE);
    let config = env.root().join("gh-config");
    env.extra_env.extend(hub.gh_env(&config));
    Some(env)
}

#[test]
fn git_swarm_publish_opens_the_pull_request_through_the_real_gh() {
    let hub = GithubStandin::start();
    let Some(env) = publish_env(&hub) else { return };
    let (id, _) = env.run_to_publish();
    let out = env.sj(&["publish"]);
    out.code(0);
    let url = "http://github.localhost/owner/repo/pull/1";
    assert_eq!(env.status(&id)["prUrl"], url, "{}", out.stdout);
    let prs = hub.prs();
    assert_eq!(prs.len(), 1, "{prs:?}");
    assert_eq!(
        (prs[0].head.as_str(), prs[0].base.as_str()),
        (BRANCH, "main")
    );
    assert_eq!(prs[0].title, "[swarm] Greet the user");
    assert!(
        prs[0].body.contains(&format!("Swarm-Run: {id}\n")),
        "{}",
        prs[0].body
    );
    assert!(!prs[0].draft);
}

/// Killed right after gh made the pull request, before the URL was recorded: the next publish
/// runs gh again, which names the existing one, and that URL is recorded.
#[cfg(feature = "failpoints")]
#[test]
fn a_publish_killed_after_gh_ran_records_the_existing_pull_request() {
    let hub = GithubStandin::start();
    let Some(env) = publish_env(&hub) else { return };
    let (id, _) = env.run_to_publish();
    let killed = env
        .command(&env.work, &["publish", "--json"])
        .env("FAILPOINTS", "publish-pr-after=return")
        .output()
        .unwrap();
    assert!(killed.status.code().is_none(), "{killed:?}");
    assert_eq!(hub.prs().len(), 1);
    env.sj(&["publish", "--run", &id]).code(0);
    let st = env.status(&id);
    assert_eq!(st["prUrl"], "http://github.localhost/owner/repo/pull/1");
    assert_eq!(hub.prs().len(), 1);
    assert_eq!(
        mutations(&hub.requests()).len(),
        1,
        "gh refused before its mutation"
    );
}

/// The stand-in answers the enterprise layout too (`/api/v3/…`, `/api/graphql`), for a
/// client pointed at it directly.
#[test]
fn enterprise_paths_are_the_same_api() {
    let hub = GithubStandin::start();
    hub.set_job_log(9, "log");
    let got = http_get(&hub, "/api/v3/repos/o/r/actions/jobs/9/logs");
    assert!(
        got.starts_with("HTTP/1.1 200") && got.ends_with("\r\n\r\nlog"),
        "{got}"
    );
    let missing = http_get(&hub, "/api/v3/repos/o/r/actions/jobs/1/logs");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    assert_eq!(
        hub.requests()[0].path,
        "/api/v3/repos/o/r/actions/jobs/9/logs"
    );
}

fn http_get(hub: &GithubStandin, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = hub.proxy_url().trim_start_matches("http://").to_string();
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: ghe.local\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut text = String::new();
    // The server keeps the connection open for more requests; read what one answer holds.
    let mut buf = [0u8; 4096];
    c.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    while let Ok(n) = c.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    text
}
