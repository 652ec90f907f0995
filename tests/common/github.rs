//! A stand-in for the GitHub API on 127.0.0.1, for the real `gh` CLI with no network.
//!
//! gh treats the host `github.localhost` as a development instance of github.com: it speaks
//! plain HTTP to `http://api.github.localhost/` (REST at `/…`, GraphQL at `/graphql`) and,
//! with `HTTP_PROXY` set, sends proxy-form request lines (`GET http://api.github.localhost/…`)
//! to the proxy — this server. [`GithubStandin::gh_env`] is everything gh needs for that. The
//! enterprise layout (`/api/v3/…`, `/api/graphql`) is answered the same way.
//!
//! GraphQL is answered by matching the query text: repository information, pull requests for
//! a branch, a pull request by number, `createPullRequest`, and — scripted by the test — any
//! query naming `reviewThreads`. Pull requests created here are numbered from 1 and live at
//! `http://github.localhost/<owner>/<repo>/pull/<n>`. Every request is recorded.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};

/// The host gh is pointed at.
pub const HOST: &str = "github.localhost";
/// The token gh sends (`Authorization: token …`).
pub const TOKEN: &str = "standin-token";

/// One request as received: the path without scheme and host, query included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// The host the client asked for (`api.github.localhost` for gh).
    pub host: String,
    pub path: String,
    pub body: String,
}

impl Recorded {
    /// The body as JSON (GraphQL requests: `query` and `variables`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The GraphQL query text, if this was a GraphQL request.
    pub fn query(&self) -> Option<String> {
        self.json()["query"].as_str().map(str::to_string)
    }
}

/// A pull request created through the stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub owner: String,
    pub repo: String,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub draft: bool,
    pub url: String,
}

/// A reply posted to a review comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub id: u64,
    pub pr: u64,
    pub in_reply_to: u64,
    pub body: String,
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    prs: Vec<PullRequest>,
    /// Bodies set by PATCH for pull requests not created here.
    bodies: HashMap<u64, String>,
    pr_data: VecDeque<Value>,
    job_logs: HashMap<u64, String>,
    replies: Vec<Reply>,
}

pub struct GithubStandin {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl GithubStandin {
    /// Binds 127.0.0.1:0 and serves on a thread per connection, for the life of the test.
    pub fn start() -> GithubStandin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        GithubStandin { port, state }
    }

    /// `http://127.0.0.1:<port>`: gh's `HTTP_PROXY`.
    pub fn proxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every variable real gh needs to use the stand-in for host `github.localhost`, without
    /// prompts and without touching anything outside `config_dir`. Found with gh 2.23:
    /// `GH_TOKEN` (not `GH_ENTERPRISE_TOKEN`: github.localhost is no enterprise host) or gh
    /// exits 4 asking for `gh auth login`; `GH_HOST` for `gh api` without `--hostname` and for
    /// `gh pr create` without `-R` (else "none of the git remotes … point to a known GitHub
    /// host"); `HTTP_PROXY` (or `http_proxy`); a `NO_PROXY` naming `.localhost` would bypass
    /// the proxy, so both spellings are set empty (Go treats empty as unset). HTTPS goes to
    /// the stand-in too, which refuses tunnels, so nothing reaches the network.
    pub fn gh_env(&self, config_dir: &Path) -> Vec<(String, String)> {
        let dir = |sub: &str| config_dir.join(sub).display().to_string();
        let proxy = self.proxy_url();
        [
            ("GH_HOST", HOST.to_string()),
            ("GH_TOKEN", TOKEN.to_string()),
            ("GH_CONFIG_DIR", config_dir.display().to_string()),
            ("HTTP_PROXY", proxy.clone()),
            ("http_proxy", proxy.clone()),
            ("HTTPS_PROXY", proxy.clone()),
            ("https_proxy", proxy),
            ("NO_PROXY", String::new()),
            ("no_proxy", String::new()),
            ("GH_NO_UPDATE_NOTIFIER", "1".to_string()),
            ("GH_PROMPT_DISABLED", "1".to_string()),
            ("GH_PAGER", "cat".to_string()),
            ("NO_COLOR", "1".to_string()),
            ("GIT_TERMINAL_PROMPT", "0".to_string()),
            ("XDG_STATE_HOME", dir("state")),
            ("XDG_CACHE_HOME", dir("cache")),
            ("XDG_DATA_HOME", dir("data")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("lock")
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// The GraphQL query texts received so far, in order.
    pub fn graphql_queries(&self) -> Vec<String> {
        self.requests().iter().filter_map(Recorded::query).collect()
    }

    /// The pull requests created so far.
    pub fn prs(&self) -> Vec<PullRequest> {
        self.lock().prs.clone()
    }

    /// The body of pull request `n` (as created, or as last set by PATCH).
    pub fn pr_body(&self, n: u64) -> Option<String> {
        let s = self.lock();
        s.bodies
            .get(&n)
            .cloned()
            .or_else(|| s.prs.iter().find(|p| p.number == n).map(|p| p.body.clone()))
    }

    /// Replies posted to review comments, in order.
    pub fn replies(&self) -> Vec<Reply> {
        self.lock().replies.clone()
    }

    /// The `data` of every GraphQL query naming `reviewThreads` from now on.
    pub fn set_pull_request_data(&self, data: Value) {
        self.queue_pull_request_data(vec![data]);
    }

    /// `data` values for the next GraphQL queries naming `reviewThreads`, one per query, the
    /// last repeating. Replaces whatever was set before.
    pub fn queue_pull_request_data(&self, data: Vec<Value>) {
        self.lock().pr_data = data.into();
    }

    /// The text `GET …/actions/jobs/<id>/logs` answers with.
    pub fn set_job_log(&self, id: u64, text: &str) {
        self.lock().job_logs.insert(id, text.to_string());
    }
}

// ---- HTTP ---------------------------------------------------------------------------------

struct Request {
    method: String,
    host: String,
    /// Path with query, without scheme and host.
    target: String,
    body: Vec<u8>,
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Response {
    fn json(status: u16, v: &Value) -> Response {
        Response {
            status,
            content_type: "application/json; charset=utf-8",
            body: serde_json::to_vec(v).expect("json"),
        }
    }

    fn text(status: u16, text: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.as_bytes().to_vec(),
        }
    }

    fn not_found() -> Response {
        Response::json(
            404,
            &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
        )
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let raw = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(n) = headers.get("content-length").and_then(|v| v.parse().ok()) {
        body.resize(n, 0);
        r.read_exact(&mut body).ok()?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    // Proxy form (`http://host/path`) or origin form (`/path` with a Host header).
    let (host, target) = match raw.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
            None => (rest.to_string(), "/".to_string()),
        },
        None => (headers.get("host").cloned().unwrap_or_default(), raw),
    };
    Some(Request {
        method,
        host,
        target,
        body,
    })
}

fn serve(conn: TcpStream, state: &Mutex<State>) {
    let mut w = conn.try_clone().expect("clone");
    let mut r = BufReader::new(conn);
    while let Some(req) = read_request(&mut r) {
        state.lock().expect("lock").requests.push(Recorded {
            method: req.method.clone(),
            host: req.host.clone(),
            path: req.target.clone(),
            body: String::from_utf8_lossy(&req.body).into_owned(),
        });
        // No tunnels: an HTTPS request would leave for the network.
        let connect = req.method == "CONNECT";
        let resp = if connect {
            Response::text(403, "the GitHub stand-in serves plain HTTP only\n")
        } else {
            route(&req, &mut state.lock().expect("lock"))
        };
        let reason = match resp.status {
            200 => "OK",
            201 => "Created",
            404 => "Not Found",
            _ => "Error",
        };
        let head = format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n",
            resp.status,
            resp.content_type,
            resp.body.len()
        );
        if w.write_all(head.as_bytes()).is_err() || w.write_all(&resp.body).is_err() {
            return;
        }
        let _ = w.flush();
        if connect {
            return;
        }
    }
}

// ---- the API ------------------------------------------------------------------------------

fn route(req: &Request, s: &mut State) -> Response {
    let path = req.target.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let path = if path == "/api/graphql" {
        "/graphql"
    } else {
        path
    };
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    if path == "/graphql" && req.method == "POST" {
        return Response::json(200, &graphql(&body, s));
    }
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), seg.as_slice()) {
        ("GET", ["repos", _, _, "actions", "jobs", id, "logs"]) => {
            match id.parse().ok().and_then(|id: u64| s.job_logs.get(&id)) {
                Some(text) => Response::text(200, text),
                None => Response::not_found(),
            }
        }
        ("POST", ["repos", owner, repo, "pulls", n, "comments", id, "replies"]) => {
            let (Ok(pr), Ok(in_reply_to)) = (n.parse(), id.parse()) else {
                return Response::not_found();
            };
            let reply = Reply {
                id: 1000 + s.replies.len() as u64 + 1,
                pr,
                in_reply_to,
                body: body["body"].as_str().unwrap_or_default().to_string(),
            };
            s.replies.push(reply.clone());
            Response::json(
                201,
                &json!({
                    "id": reply.id,
                    "body": reply.body,
                    "in_reply_to_id": in_reply_to,
                    "html_url": format!("{}#discussion_r{}", pr_url(owner, repo, pr), reply.id),
                    "user": {"login": "standin"},
                }),
            )
        }
        ("PATCH", ["repos", owner, repo, "pulls", n]) => {
            let Ok(n) = n.parse::<u64>() else {
                return Response::not_found();
            };
            if let Some(b) = body["body"].as_str() {
                s.bodies.insert(n, b.to_string());
                if let Some(p) = s.prs.iter_mut().find(|p| p.number == n) {
                    p.body = b.to_string();
                }
            }
            let pr = s.prs.iter().find(|p| p.number == n);
            Response::json(
                200,
                &json!({
                    "number": n,
                    "state": "open",
                    "title": pr.map(|p| p.title.clone()).unwrap_or_default(),
                    "body": s.bodies.get(&n),
                    "html_url": pr_url(owner, repo, n),
                    "head": {"ref": pr.map(|p| p.head.clone())},
                    "base": {"ref": pr.map(|p| p.base.clone())},
                }),
            )
        }
        _ => Response::not_found(),
    }
}

fn pr_url(owner: &str, repo: &str, n: u64) -> String {
    format!("http://{HOST}/{owner}/{repo}/pull/{n}")
}

fn repo_id(owner: &str, repo: &str) -> String {
    format!("R_{owner}/{repo}")
}

/// A GraphQL answer (always HTTP 200, like GitHub).
fn graphql(body: &Value, s: &mut State) -> Value {
    let query = body["query"].as_str().unwrap_or_default();
    let vars = &body["variables"];
    let var = |k: &str| vars[k].as_str().unwrap_or_default().to_string();
    let owner = var("owner");
    let repo = [var("name"), var("repo")]
        .into_iter()
        .find(|v| !v.is_empty());
    let repo = repo.unwrap_or_default();
    if query.contains("reviewThreads") {
        let data = if s.pr_data.len() > 1 {
            s.pr_data.pop_front()
        } else {
            s.pr_data.front().cloned()
        };
        return match data {
            Some(d) => json!({"data": d}),
            None => error("the test set no pull request data (set_pull_request_data)"),
        };
    }
    if query.contains("createPullRequest") {
        return create_pr(&vars["input"], s);
    }
    if query.contains("pullRequests(") {
        let head = [var("headRefName"), var("headBranch")].concat();
        let base = [var("baseRefName"), var("baseBranch")].concat();
        let states: Vec<String> = match (&vars["states"], &vars["state"]) {
            (Value::Array(a), _) | (_, Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            (_, Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        // Every pull request here is open.
        let open_wanted = states.is_empty() || states.iter().any(|st| st == "OPEN");
        let nodes: Vec<Value> = s
            .prs
            .iter()
            .rev()
            .filter(|p| open_wanted && p.owner == owner && p.repo == repo)
            .filter(|p| head.is_empty() || p.head == head)
            .filter(|p| base.is_empty() || p.base == base)
            .map(|p| pr_node(p, s))
            .collect();
        let mut r = repository(&owner, &repo);
        r["pullRequests"] = json!({
            "totalCount": nodes.len(),
            "nodes": nodes,
            "pageInfo": {"hasNextPage": false, "endCursor": null},
        });
        return json!({"data": {"repository": r}});
    }
    if query.contains("pullRequest(number") {
        let n = vars["number"]
            .as_u64()
            .or_else(|| vars["pr_number"].as_u64());
        let found = s
            .prs
            .iter()
            .find(|p| Some(p.number) == n && p.owner == owner && p.repo == repo);
        let Some(p) = found else {
            return error(&format!(
                "Could not resolve to a PullRequest with the number of {}.",
                n.unwrap_or_default()
            ));
        };
        let mut r = repository(&owner, &repo);
        r["pullRequest"] = pr_node(p, s);
        return json!({"data": {"repository": r}});
    }
    if query.contains("repository(") {
        return json!({"data": {"repository": repository(&owner, &repo)}});
    }
    if query.contains("viewer") {
        return json!({"data": {"viewer": {"login": "standin", "id": "U_standin"}}});
    }
    error("the GitHub stand-in does not know this query")
}

fn error(message: &str) -> Value {
    json!({"data": null, "errors": [{"message": message}]})
}

/// Everything gh asks of a repository, whatever the query.
fn repository(owner: &str, repo: &str) -> Value {
    json!({
        "id": repo_id(owner, repo),
        "name": repo,
        "nameWithOwner": format!("{owner}/{repo}"),
        "owner": {"login": owner},
        "url": format!("http://{HOST}/{owner}/{repo}"),
        "description": "",
        "hasIssuesEnabled": true,
        "hasWikiEnabled": false,
        "hasProjectsEnabled": false,
        "isPrivate": false,
        "isFork": false,
        "isArchived": false,
        "viewerPermission": "ADMIN",
        "defaultBranchRef": {"name": "main"},
        "parent": null,
        "mergeCommitAllowed": true,
        "rebaseMergeAllowed": true,
        "squashMergeAllowed": true,
    })
}

fn pr_node(p: &PullRequest, s: &State) -> Value {
    json!({
        "id": format!("PR_{}", p.number),
        "number": p.number,
        "title": p.title,
        "body": s.bodies.get(&p.number).unwrap_or(&p.body),
        "state": "OPEN",
        "isDraft": p.draft,
        "url": p.url,
        "baseRefName": p.base,
        "headRefName": p.head,
        "isCrossRepository": false,
        "maintainerCanModify": false,
        "headRepositoryOwner": {"login": p.owner},
        "headRepository": {"id": repo_id(&p.owner, &p.repo), "name": p.repo},
        "author": {"login": "standin"},
        "createdAt": "2026-01-01T00:00:00Z",
    })
}

/// `createPullRequest`: refused, as GitHub does, when an open one has the same head and base.
fn create_pr(input: &Value, s: &mut State) -> Value {
    let field = |k: &str| input[k].as_str().unwrap_or_default().to_string();
    let id = field("repositoryId");
    let Some((owner, repo)) = id.strip_prefix("R_").and_then(|r| r.split_once('/')) else {
        return error(&format!(
            "Could not resolve to a node with the global id of '{id}'"
        ));
    };
    let (owner, repo) = (owner.to_string(), repo.to_string());
    let head = field("headRefName");
    let head = head.rsplit(':').next().unwrap_or_default().to_string();
    let base = field("baseRefName");
    if s.prs
        .iter()
        .any(|p| p.owner == owner && p.repo == repo && p.head == head && p.base == base)
    {
        return json!({
            "data": {"createPullRequest": null},
            "errors": [{
                "type": "UNPROCESSABLE",
                "path": ["createPullRequest"],
                "message": format!("A pull request already exists for {owner}:{head}."),
            }],
        });
    }
    let number = s.prs.len() as u64 + 1;
    let pr = PullRequest {
        number,
        url: pr_url(&owner, &repo, number),
        owner,
        repo,
        head,
        base,
        title: field("title"),
        body: field("body"),
        draft: input["draft"].as_bool().unwrap_or(false),
    };
    let node = pr_node(&pr, s);
    s.prs.push(pr);
    json!({"data": {"createPullRequest": {"pullRequest": node}}})
}
