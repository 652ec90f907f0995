//! The pull request's state as the follow phase reads it, whatever the forge: checks (CI jobs)
//! and their state, review decision, review comments, merged or closed. Parsed from gh's
//! GraphQL answer, glab's REST answers, or git swarm's own shape (what a `follow.stateCommand`
//! prints, `schemas/pr-state.schema.json`). Also pure text work on what the forge said: a
//! failing job's log trimmed to the failing step's last lines, and a finding's fingerprint.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Lines of a failing job's log that reach the agent.
pub(crate) const EXCERPT_LINES: usize = 40;
/// Characters of an excerpt at most (the last ones are kept).
pub(crate) const EXCERPT_CHARS: usize = 6000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PrOpen {
    #[default]
    Open,
    Merged,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum CheckState {
    Pending,
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Review {
    /// No review is asked for.
    #[default]
    None,
    Required,
    Approved,
    ChangesRequested,
}

/// One check run, status or CI job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Check {
    pub name: String,
    pub state: CheckState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Required by the branch's rules (a check not required that fails is still a finding).
    #[serde(default)]
    pub required: bool,
    /// The job whose log can be read, when the forge has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The log's trimmed excerpt (filled for failing checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// A review comment (a thread's latest comment) or a review's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Comment {
    /// The comment's id on the forge (a review's body: `review-<id>`).
    pub id: String,
    /// The thread (discussion) a reply goes to; none for a review's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub author: String,
    pub body: String,
    #[serde(default)]
    pub resolved: bool,
    /// Bodies of every comment of its thread (to find the tool's own replies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thread_bodies: Vec<String>,
}

/// The pull request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrView {
    pub state: PrOpen,
    /// The commit at the head of the pull request's branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    #[serde(default)]
    pub checks: Vec<Check>,
    #[serde(default)]
    pub review: Review,
    #[serde(default)]
    pub comments: Vec<Comment>,
}

/// The marker the tool's replies carry, so a reply is never posted twice.
pub(crate) fn reply_marker(run: &str, comment: &str) -> String {
    format!("<!-- swarm-reply {run} {comment} -->")
}

/// The GraphQL query gh runs (`gh api graphql -F owner -F name -F number -f query=…`).
pub(crate) const GH_QUERY: &str = "query($owner:String!,$name:String!,$number:Int!){repository(owner:$owner,name:$name){pullRequest(number:$number){state headRefOid reviewDecision commits(last:1){nodes{commit{oid statusCheckRollup{contexts(first:100){nodes{__typename ... on CheckRun{name status conclusion detailsUrl databaseId isRequired(pullRequestNumber:$number)} ... on StatusContext{context state targetUrl isRequired(pullRequestNumber:$number)}}}}}}} reviews(last:50){nodes{databaseId state body author{login}}} reviewThreads(first:100){nodes{id isResolved comments(first:50){nodes{databaseId body path line originalLine author{login}}}}}}}}";

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn id_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn nodes<'a>(v: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Is `body` one of the tool's own replies?
fn ours(body: &str) -> bool {
    body.contains("<!-- swarm-reply ")
}

/// gh's GraphQL answer (`{"data": {"repository": {"pullRequest": …}}}`).
pub(crate) fn from_gh(answer: &Value) -> Result<PrView, String> {
    let pr = answer
        .pointer("/data/repository/pullRequest")
        .filter(|v| v.is_object())
        .ok_or_else(
            || match answer.pointer("/errors/0/message").and_then(Value::as_str) {
                Some(m) => format!("GitHub answered with an error: {m}"),
                None => "the answer has no /data/repository/pullRequest".to_string(),
            },
        )?;
    let state = match s(pr, "state") {
        "MERGED" => PrOpen::Merged,
        "CLOSED" => PrOpen::Closed,
        _ => PrOpen::Open,
    };
    let mut checks = Vec::new();
    for c in nodes(
        pr,
        "/commits/nodes/0/commit/statusCheckRollup/contexts/nodes",
    ) {
        let (name, state, url) = if s(c, "__typename") == "StatusContext" {
            let st = match s(c, "state") {
                "SUCCESS" => CheckState::Passed,
                "FAILURE" | "ERROR" => CheckState::Failed,
                _ => CheckState::Pending,
            };
            (s(c, "context"), st, s(c, "targetUrl"))
        } else {
            let st = if s(c, "status") != "COMPLETED" {
                CheckState::Pending
            } else {
                match s(c, "conclusion") {
                    "SUCCESS" => CheckState::Passed,
                    "NEUTRAL" | "SKIPPED" | "STALE" => CheckState::Skipped,
                    _ => CheckState::Failed,
                }
            };
            (s(c, "name"), st, s(c, "detailsUrl"))
        };
        checks.push(Check {
            name: name.to_string(),
            state,
            url: (!url.is_empty()).then(|| url.to_string()),
            required: c
                .get("isRequired")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            job: id_of(c, "databaseId"),
            log: None,
        });
    }
    let review = match s(pr, "reviewDecision") {
        "APPROVED" => Review::Approved,
        "CHANGES_REQUESTED" => Review::ChangesRequested,
        "REVIEW_REQUIRED" => Review::Required,
        _ => Review::None,
    };
    let mut comments = Vec::new();
    for t in nodes(pr, "/reviewThreads/nodes") {
        let all: Vec<&Value> = nodes(t, "/comments/nodes").collect();
        let bodies: Vec<String> = all.iter().map(|c| s(c, "body").to_string()).collect();
        let Some(last) = all.iter().rev().find(|c| !ours(s(c, "body"))) else {
            continue;
        };
        let first = all[0];
        comments.push(Comment {
            id: id_of(last, "databaseId").unwrap_or_default(),
            thread: id_of(first, "databaseId"),
            file: Some(s(first, "path").to_string()).filter(|p| !p.is_empty()),
            line: first
                .get("line")
                .and_then(Value::as_u64)
                .or_else(|| first.get("originalLine").and_then(Value::as_u64)),
            author: last
                .pointer("/author/login")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            body: s(last, "body").to_string(),
            resolved: t
                .get("isResolved")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            thread_bodies: bodies,
        });
    }
    for r in nodes(pr, "/reviews/nodes") {
        if s(r, "state") == "CHANGES_REQUESTED" && !s(r, "body").trim().is_empty() {
            comments.push(Comment {
                id: format!("review-{}", id_of(r, "databaseId").unwrap_or_default()),
                thread: None,
                file: None,
                line: None,
                author: r
                    .pointer("/author/login")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                body: s(r, "body").to_string(),
                resolved: false,
                thread_bodies: Vec::new(),
            });
        }
    }
    Ok(PrView {
        state,
        head: Some(s(pr, "headRefOid").to_string()).filter(|h| !h.is_empty()),
        checks,
        review,
        comments,
    })
}

/// glab's answers: the merge request, its head pipeline's jobs, its approvals and its
/// discussions (each `glab api …` JSON).
pub(crate) fn from_glab(
    mr: &Value,
    jobs: Option<&Value>,
    approvals: Option<&Value>,
    discussions: Option<&Value>,
) -> Result<PrView, String> {
    if !mr.is_object() {
        return Err("the merge request answer is not a JSON object".to_string());
    }
    let state = match s(mr, "state") {
        "merged" => PrOpen::Merged,
        "closed" | "locked" => PrOpen::Closed,
        _ => PrOpen::Open,
    };
    let mut checks = Vec::new();
    for j in jobs.and_then(Value::as_array).into_iter().flatten() {
        let allow_failure = j.get("allow_failure").and_then(Value::as_bool) == Some(true);
        let state = match s(j, "status") {
            "success" => CheckState::Passed,
            "failed" if allow_failure => CheckState::Skipped,
            "failed" | "canceled" => CheckState::Failed,
            "skipped" | "manual" => CheckState::Skipped,
            _ => CheckState::Pending,
        };
        checks.push(Check {
            name: s(j, "name").to_string(),
            state,
            url: Some(s(j, "web_url").to_string()).filter(|u| !u.is_empty()),
            required: !allow_failure,
            job: id_of(j, "id"),
            log: None,
        });
    }
    let review = match approvals {
        Some(a) if a.get("approved").and_then(Value::as_bool) == Some(true) => Review::Approved,
        Some(a) if a.get("approvals_left").and_then(Value::as_u64).unwrap_or(0) > 0 => {
            Review::Required
        }
        _ => Review::None,
    };
    let mut comments = Vec::new();
    for d in discussions.and_then(Value::as_array).into_iter().flatten() {
        let notes: Vec<&Value> = nodes(d, "/notes")
            .filter(|n| n.get("system").and_then(Value::as_bool) != Some(true))
            .collect();
        let Some(first) = notes.first() else { continue };
        if first.get("resolvable").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let Some(last) = notes.iter().rev().find(|n| !ours(s(n, "body"))) else {
            continue;
        };
        comments.push(Comment {
            id: id_of(last, "id").unwrap_or_default(),
            thread: id_of(d, "id"),
            file: first
                .pointer("/position/new_path")
                .and_then(Value::as_str)
                .map(str::to_string),
            line: first.pointer("/position/new_line").and_then(Value::as_u64),
            author: last
                .pointer("/author/username")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            body: s(last, "body").to_string(),
            resolved: first.get("resolved").and_then(Value::as_bool) == Some(true),
            thread_bodies: notes.iter().map(|n| s(n, "body").to_string()).collect(),
        });
    }
    Ok(PrView {
        state,
        head: Some(s(mr, "sha").to_string()).filter(|h| !h.is_empty()),
        checks,
        review,
        comments,
    })
}

/// The JSON a `follow.stateCommand` prints, in git swarm's own shape.
pub(crate) fn from_own(answer: Value) -> Result<PrView, String> {
    serde_json::from_value(answer).map_err(|e| {
        format!("{e} (see schemas/pr-state.schema.json for the shape git swarm reads)")
    })
}

/// A job's log trimmed to what an agent needs: the failing step (GitHub Actions marks steps
/// with `##[group]` and failures with `##[error]`; GitLab with `section_start:`), ANSI colours,
/// carriage-return redraws and per-line timestamps removed, then its last
/// [`EXCERPT_LINES`] lines and at most [`EXCERPT_CHARS`] characters. Deterministic.
pub(crate) fn excerpt(log: &str) -> String {
    let lines: Vec<String> = log.lines().map(clean_line).collect();
    // The failing step: from the last step start before the first error mark to that mark.
    let is_start = |l: &str| l.starts_with("##[group]") || l.contains("section_start:");
    let end = lines
        .iter()
        .position(|l| l.starts_with("##[error]"))
        .map_or(lines.len(), |i| i + 1);
    let start = lines[..end].iter().rposition(|l| is_start(l)).unwrap_or(0);
    let step: Vec<&String> = lines[start..end]
        .iter()
        .filter(|l| !l.trim().is_empty() && !l.contains("section_end:"))
        .collect();
    let from = step.len().saturating_sub(EXCERPT_LINES);
    let text = step[from..]
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let n = text.chars().count();
    if n > EXCERPT_CHARS {
        text.chars().skip(n - EXCERPT_CHARS).collect()
    } else {
        text
    }
}

/// One log line without ANSI escapes, what a carriage return overwrote, and a leading
/// timestamp (`2024-05-01T10:00:00.1234567Z `).
fn clean_line(line: &str) -> String {
    let line = line.rsplit('\r').find(|p| !p.is_empty()).unwrap_or("");
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    match out.split_once(' ') {
        Some((first, rest)) if is_timestamp(first) => rest.to_string(),
        _ => out,
    }
}

fn is_timestamp(w: &str) -> bool {
    w.len() >= 8
        && w.chars().any(|c| c.is_ascii_digit())
        && w.contains(':')
        && w.chars()
            .all(|c| c.is_ascii_digit() || "-:.TZ+".contains(c))
}

/// The line of an excerpt that says what went wrong: the first that names an error, a
/// failure, a panic or an exception (the `##[error]` mark's own line last), else the last.
pub(crate) fn first_error_line(excerpt: &str) -> String {
    let lines: Vec<&str> = excerpt.lines().filter(|l| !l.trim().is_empty()).collect();
    let names = |l: &str| {
        let l = l.to_ascii_lowercase();
        ["error", "fail", "panic", "exception", "assert", "fatal"]
            .iter()
            .any(|w| l.contains(w))
    };
    // A heading ("Failures:") says less than the line under it.
    let heading = |l: &str| l.split_whitespace().count() < 2;
    let at = lines
        .iter()
        .position(|l| !l.starts_with("##[error]") && names(l))
        .or_else(|| lines.iter().position(|l| names(l)));
    match at {
        Some(i) if heading(lines[i]) && i + 1 < lines.len() => lines[i + 1],
        Some(i) => lines[i],
        None => lines.last().copied().unwrap_or_default(),
    }
    .trim()
    .to_string()
}

/// A line with what changes between two runs of the same failure removed: URLs, timestamps
/// and durations, hashes and ids, every number; lower case, single spaces.
pub(crate) fn normalise(line: &str) -> String {
    let mut words = Vec::new();
    for raw in line.split_whitespace() {
        let w = raw.trim_matches(|c: char| "()[]{}<>,;'\"`".contains(c));
        if w.contains("://") {
            continue;
        }
        let has_digit = w.chars().any(|c| c.is_ascii_digit());
        let hexish = w.len() >= 7 && w.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if has_digit
            && (hexish
                || w.chars()
                    .all(|c| c.is_ascii_digit() || "-:.TZtz+/".contains(c)))
        {
            continue;
        }
        let lower = w.to_ascii_lowercase();
        let unit = lower.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        if has_digit
            && lower.starts_with(|c: char| c.is_ascii_digit())
            && ["ms", "s", "sec", "secs", "m", "min", "h", "µs", "us", "ns"].contains(&unit)
        {
            continue;
        }
        let mut out = String::with_capacity(lower.len());
        let mut in_digits = false;
        for c in lower.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                out.push(c);
                in_digits = false;
            }
        }
        if !out.is_empty() {
            words.push(out);
        }
    }
    words.join(" ")
}

/// A check's fingerprint: its name and its normalised first error line.
pub(crate) fn check_fingerprint(name: &str, excerpt: &str) -> String {
    use sha2::Digest;
    let text = format!("{}\n{}", name.trim(), normalise(&first_error_line(excerpt)));
    let d = sha2::Sha256::digest(text.as_bytes());
    let hex: String = d.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("check:{hex}")
}

/// A comment's fingerprint: its id on the forge.
pub(crate) fn comment_fingerprint(id: &str) -> String {
    format!("comment:{id}")
}

#[cfg(test)]
mod tests;
