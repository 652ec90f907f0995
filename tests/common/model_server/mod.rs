//! A scripted model server on 127.0.0.1 for the real agent CLIs (Claude Code speaks the
//! Anthropic Messages API, Codex the OpenAI Responses API). The test supplies a script: given
//! the conversation so far (the first user message, the tools the CLI offers, the outcomes of
//! earlier tool calls), it answers with tool calls or a final message. The protocol modules
//! translate those into each CLI's own tools (Claude Code `Write`/`Bash`, Codex's shell and
//! patch tools) and stream them back the way the real API does. Every request is logged.
#![allow(dead_code)]

pub mod anthropic;
pub mod gemini;
pub mod responses;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Which API a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Anthropic,
    Responses,
    Gemini,
}

/// A tool call, in the CLI-independent form scripts use.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// Create or overwrite a file (absolute path, or relative to the agent's cwd).
    Write { path: String, content: String },
    /// Run a shell command line in the agent's cwd.
    Bash { command: String },
    /// Read a file.
    Read { path: String },
}

/// What became of an earlier call, as the CLI reported it back in the conversation.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub call: Call,
    pub output: String,
    pub is_error: bool,
}

/// The conversation as the script sees it.
#[derive(Debug, Clone)]
pub struct Turn {
    pub api: Api,
    pub model: String,
    /// The system prompt / instructions (joined).
    pub system: String,
    /// The text of the first user message: the prompt git swarm gave the CLI.
    pub prompt: String,
    /// Names of the tools the CLI offered.
    pub tools: Vec<String>,
    /// Every tool call made so far in this conversation, with its outcome, in order.
    pub done: Vec<Outcome>,
    /// The whole request body, for anything else.
    pub body: Value,
}

/// The script's answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Call these tools (in one assistant message).
    Calls(Vec<Call>),
    /// End the turn with this text.
    Final(String),
}

/// Token counts reported with every streamed response (fixed, so tests can check totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_creation: u64,
}

pub const USAGE: Usage = Usage {
    input: 100,
    output: 20,
    cache_read: 50,
    cache_creation: 10,
};

pub type Script = Arc<dyn Fn(&Turn) -> Reply + Send + Sync>;

/// One HTTP request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One HTTP response to send.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, v: &Value) -> Response {
        Response {
            status,
            content_type: "application/json".into(),
            body: serde_json::to_vec(v).expect("json"),
        }
    }

    pub fn sse(body: String) -> Response {
        Response {
            status: 200,
            content_type: "text/event-stream".into(),
            body: body.into_bytes(),
        }
    }
}

/// What a protocol module gets besides the request.
pub struct State {
    pub script: Script,
    /// Every model reply's usage, as served (one entry per streamed response).
    pub served: Mutex<Vec<(Api, Usage)>>,
    next_id: Mutex<u64>,
}

impl State {
    /// A fresh id with a prefix (`msg_…`, `toolu_…`, `resp_…`).
    pub fn id(&self, prefix: &str) -> String {
        let mut n = self.next_id.lock().expect("lock");
        *n += 1;
        format!("{prefix}{:020}", *n)
    }
}

/// A request as logged: what was asked, and what was answered.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub model: Option<String>,
}

pub struct ModelServer {
    pub port: u16,
    pub state: Arc<State>,
    pub log: Arc<Mutex<Vec<Logged>>>,
}

impl ModelServer {
    pub fn start(script: Script) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(State {
            script,
            served: Mutex::new(Vec::new()),
            next_id: Mutex::new(0),
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let (st, lg) = (state.clone(), log.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (st, lg) = (st.clone(), lg.clone());
                std::thread::spawn(move || serve(conn, &st, &lg));
            }
        });
        ModelServer { port, state, log }
    }

    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().expect("lock").clone()
    }

    /// The sum of the usage served, per API.
    pub fn served(&self, api: Api) -> (usize, Usage) {
        let s = self.state.served.lock().expect("lock");
        let mut sum = Usage::default();
        let mut n = 0;
        for (a, u) in s.iter().filter(|(a, _)| *a == api) {
            let _ = a;
            n += 1;
            sum.input += u.input;
            sum.output += u.output;
            sum.cache_read += u.cache_read;
            sum.cache_creation += u.cache_creation;
        }
        (n, sum)
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
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
    if let Some(n) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
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
    if headers
        .get("content-encoding")
        .is_some_and(|v| !v.eq_ignore_ascii_case("identity"))
    {
        // Compressed bodies are not expected; a script sees an empty body and the test fails
        // on the logged request.
        body.clear();
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn serve(conn: TcpStream, st: &State, log: &Mutex<Vec<Logged>>) {
    let mut w = conn.try_clone().expect("clone");
    let mut r = BufReader::new(conn);
    while let Some(req) = read_request(&mut r) {
        let path = req.path.split('?').next().unwrap_or_default().to_string();
        let resp = if path.starts_with("/v1/messages") {
            anthropic::handle(&req, st)
        } else if path.starts_with("/v1beta/") {
            gemini::handle(&req, st)
        } else if path.starts_with("/v1/") {
            responses::handle(&req, st)
        } else {
            Response::json(404, &serde_json::json!({"error": {"message": "not here"}}))
        };
        log.lock().expect("lock").push(Logged {
            method: req.method.clone(),
            path: req.path.clone(),
            status: resp.status,
            model: req
                .json()
                .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_string))
                .or_else(|| gemini::model_of(&req.path)),
        });
        let reason = if resp.status == 200 { "OK" } else { "Error" };
        let head = format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: keep-alive\r\n\r\n",
            resp.status,
            resp.content_type,
            resp.body.len()
        );
        // A HEAD answer has no body (the client reads none, so one would be taken for the
        // next response on this keep-alive connection). Claude Code sends `HEAD /api/hello`
        // unless CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set.
        let body: &[u8] = if req.method == "HEAD" {
            &[]
        } else {
            &resp.body
        };
        if w.write_all(head.as_bytes()).is_err() || w.write_all(body).is_err() {
            return;
        }
        let _ = w.flush();
    }
}
