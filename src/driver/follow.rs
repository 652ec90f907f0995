//! The follow phase's I/O: reading the pull request through the forge's tool (gh's GraphQL
//! and REST API, glab's REST API, or the policy's `follow.stateCommand`), reading failing jobs'
//! logs, and — when a fix pass is published — answering the comments it addressed and
//! appending the pass to the pull request's body. The decisions are `machine::follow`'s.

use std::path::PathBuf;

use serde_json::Value;

use super::publish::{configured_hosts, find_tool, run_tool};
use crate::config::policies::Policies;
use crate::error::{Error, Result};
use crate::forge::{self, Kind, template};
use crate::git::url::redact;
use crate::machine::follow::{Answer, Limits};
use crate::machine::pr_state::{self as pr, PrView};
use crate::machine::state::{Outcome, Resume, RunStatus};
use crate::store::Session;

/// Where the pull request lives and the tool that reads it.
pub(crate) struct Forge {
    kind: Kind,
    tool: PathBuf,
    host: String,
    /// `owner/repo` (GitHub), the project's path URL-encoded (GitLab).
    project: (String, String),
    number: String,
    cwd: PathBuf,
}

impl Forge {
    fn api(&self, args: &[&str]) -> Result<String> {
        let mut argv = vec![
            self.tool.display().to_string(),
            "api".to_string(),
            "--hostname".to_string(),
            self.host.clone(),
        ];
        argv.extend(args.iter().map(|a| a.to_string()));
        let shown = redact(&shell_words::join(
            argv.iter().map(|a| a.chars().take(80).collect::<String>()),
        ));
        match run_tool(&argv, &self.cwd) {
            Ok((true, out, _)) => Ok(out),
            Ok((false, out, err)) => Err(Error::failure(format!("'{shown}' failed"))
                .cause(crate::git::url::excerpt(&format!("{out}{err}")))
                .hint(format!(
                    "check that {} is logged in to {} ('{} auth status') and can read the pull request",
                    self.kind.tool(),
                    self.host,
                    self.kind.tool()
                ))),
            Err(e) => Err(Error::failure(format!("'{shown}' could not run: {e}"))),
        }
    }

    fn json(&self, args: &[&str]) -> Result<Value> {
        let out = self.api(args)?;
        serde_json::from_str(&out).map_err(|e| {
            Error::failure(format!(
                "{} api {}: the answer is not JSON ({e})",
                self.kind.tool(),
                args.last().copied().unwrap_or_default()
            ))
        })
    }

    fn gl_project(&self) -> String {
        let full = format!("{}/{}", self.project.0, self.project.1);
        url::form_urlencoded::byte_serialize(full.as_bytes()).collect()
    }

    /// The pull request's state, failing checks' logs read and trimmed.
    fn read(&self) -> Result<PrView> {
        let mut view = self.view()?;
        self.read_logs(&mut view);
        Ok(view)
    }

    /// The pull request's state without any job log.
    fn view(&self) -> Result<PrView> {
        Ok(match self.kind {
            Kind::GitHub => {
                let answer = self.json(&[
                    "graphql",
                    "-F",
                    &format!("owner={}", self.project.0),
                    "-F",
                    &format!("name={}", self.project.1),
                    "-F",
                    &format!("number={}", self.number),
                    "-f",
                    &format!("query={}", pr::GH_QUERY),
                ])?;
                pr::from_gh(&answer).map_err(|e| Error::failure(format!("gh: {e}")))?
            }
            _ => {
                let p = self.gl_project();
                let base = format!("projects/{p}/merge_requests/{}", self.number);
                let mr = self.json(&[&base])?;
                let jobs = match mr.pointer("/head_pipeline/id").and_then(Value::as_u64) {
                    Some(id) => Some(
                        self.json(&[&format!("projects/{p}/pipelines/{id}/jobs?per_page=100")])?,
                    ),
                    None => None,
                };
                let approvals = self.json(&[&format!("{base}/approvals")]).ok();
                let discussions = self.json(&[&format!("{base}/discussions?per_page=100")])?;
                pr::from_glab(&mr, jobs.as_ref(), approvals.as_ref(), Some(&discussions))
                    .map_err(|e| Error::failure(format!("glab: {e}")))?
            }
        })
    }

    /// Each failing check's log, trimmed to its failing step (a log that cannot be read says
    /// so in its place).
    fn read_logs(&self, view: &mut PrView) {
        for c in view
            .checks
            .iter_mut()
            .filter(|c| c.state == pr::CheckState::Failed)
        {
            let Some(job) = c.job.clone() else { continue };
            let path = match self.kind {
                Kind::GitHub => format!(
                    "repos/{}/{}/actions/jobs/{job}/logs",
                    self.project.0, self.project.1
                ),
                _ => format!("projects/{}/jobs/{job}/trace", self.gl_project()),
            };
            c.log = Some(match self.api(&[&path]) {
                Ok(text) => pr::excerpt(&redact(&text)),
                Err(e) => format!("(the log could not be read: {})", e.message),
            });
        }
    }

    /// Answers comment `comment` in `thread`.
    fn reply(&self, thread: &str, comment: &str, body: &str) -> Result<()> {
        let body = format!("body={body}");
        match self.kind {
            Kind::GitHub => {
                let path = format!(
                    "repos/{}/{}/pulls/{}/comments/{comment}/replies",
                    self.project.0, self.project.1, self.number
                );
                self.api(&["-X", "POST", &path, "-f", &body]).map(drop)
            }
            _ => {
                let path = format!(
                    "projects/{}/merge_requests/{}/discussions/{thread}/notes",
                    self.gl_project(),
                    self.number
                );
                self.api(&["-X", "POST", &path, "-f", &body]).map(drop)
            }
        }
    }

    /// Replaces the pull request's body.
    fn set_body(&self, body: &str) -> Result<()> {
        match self.kind {
            Kind::GitHub => {
                let path = format!(
                    "repos/{}/{}/pulls/{}",
                    self.project.0, self.project.1, self.number
                );
                self.api(&["-X", "PATCH", &path, "-f", &format!("body={body}")])
                    .map(drop)
            }
            _ => {
                let path = format!(
                    "projects/{}/merge_requests/{}",
                    self.gl_project(),
                    self.number
                );
                self.api(&["-X", "PUT", &path, "-f", &format!("description={body}")])
                    .map(drop)
            }
        }
    }
}

/// The forge of the run's pull request, when gh or glab can read it.
fn forge_of(session: &Session, st: &RunStatus, policies: &Policies) -> Result<Option<Forge>> {
    let root = &session.ws.root;
    let remote_name = st
        .swarm
        .publish
        .as_ref()
        .map(|p| p.remote.clone())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| policies.pr.remote.clone());
    let url = crate::git::query::remote_url(root, &remote_name).unwrap_or_default();
    let Some(remote) = forge::parse_remote(&url) else {
        return Ok(None);
    };
    let kind = forge::detect(&remote, &configured_hosts(root, policies));
    let kind = match kind {
        Some(k @ (Kind::GitHub | Kind::GitLab)) => k,
        _ => return Ok(None),
    };
    let number = st
        .pr_url
        .as_deref()
        .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string);
    let Some(number) = number else {
        return Err(Error::failure(format!(
            "the pull request URL {} names no number",
            st.pr_url.as_deref().unwrap_or("(none)")
        )));
    };
    let tool = find_tool(kind.tool()).ok_or_else(|| {
        Error::failure(format!(
            "{} is not installed: the follow phase reads the pull request with it",
            kind.tool()
        ))
        .hint(format!(
            "install {} and log in to {}, or set follow.stateCommand in .swarm/policies.json",
            kind.tool(),
            remote.host
        ))
    })?;
    Ok(Some(Forge {
        kind,
        tool,
        host: remote.host.clone(),
        project: forge::owner_repo(&remote, Some(kind)),
        number,
        cwd: root.clone(),
    }))
}

/// Runs `follow.stateCommand` and reads what it prints.
fn read_by_command(
    session: &Session,
    st: &RunStatus,
    cmd: &crate::config::policies::CommandTemplate,
) -> Result<PrView> {
    crate::trust::require(session, &[crate::trust::Use::Follow], None)?;
    let file = session.swarm.policies_path();
    let words = cmd
        .words()
        .map_err(|e| Error::failure(format!("{}: /follow/stateCommand: {e}", file.display())))?;
    let url = st.pr_url.clone().unwrap_or_default();
    let number = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    let ps = st.swarm.publish.clone().unwrap_or_default();
    let argv = template::substitute(
        &words,
        &[
            ("url", &url),
            ("number", &number),
            ("branch", st.branch.as_deref().unwrap_or("")),
            ("base", &ps.base),
        ],
    );
    let shown = redact(&shell_words::join(&argv));
    let (ok, out, err) = run_tool(&argv, &session.ws.root)
        .map_err(|e| Error::failure(format!("follow.stateCommand '{shown}' could not run: {e}")))?;
    if !ok {
        return Err(
            Error::failure(format!("follow.stateCommand '{shown}' failed"))
                .cause(crate::git::url::excerpt(&format!("{out}{err}")))
                .hint("fix the command (it must print the pull request's state as JSON)"),
        );
    }
    let v: Value = serde_json::from_str(&out).map_err(|e| {
        Error::failure(format!(
            "follow.stateCommand '{shown}' printed no JSON ({e})"
        ))
        .hint("it must print one JSON object in the shape of schemas/pr-state.schema.json")
    })?;
    let mut view = pr::from_own(v)
        .map_err(|e| Error::failure(format!("follow.stateCommand '{shown}': {e}")))?;
    for c in &mut view.checks {
        if let Some(l) = c.log.take() {
            c.log = Some(pr::excerpt(&redact(&l)));
        }
    }
    Ok(view)
}

/// Reads the pull request of a published run.
fn read_view(
    session: &Session,
    st: &RunStatus,
    policies: &Policies,
) -> Result<(PrView, Option<Forge>)> {
    if let Some(cmd) = &policies.follow.state_command {
        return Ok((read_by_command(session, st, cmd)?, None));
    }
    match forge_of(session, st, policies)? {
        Some(f) => Ok((f.read()?, Some(f))),
        None => Err(Error::failure(format!(
            "run {}'s pull request is on a forge git swarm reads only through a command",
            st.run_id
        ))
        .hint("set follow.stateCommand in .swarm/policies.json (see README, 'The follow phase')")),
    }
}

/// What `git swarm follow` did.
pub(crate) struct Followed {
    pub status: RunStatus,
    pub answer: Option<Answer>,
}

/// One step of the follow phase: a run in progress (a fix pass) advances as `next` would;
/// a published run reads its pull request and decides.
pub(crate) fn follow(tx: &super::Tx) -> Result<Followed> {
    let session = tx.session;
    let st = tx.status()?;
    if st.outcome.is_in_progress() {
        return Ok(Followed {
            status: super::advance(tx, None)?,
            answer: None,
        });
    }
    let id = st.run_id.clone();
    let resumable = st.outcome == Outcome::Completed
        || (st.outcome == Outcome::NeedsHuman && st.swarm.resume == Some(Resume::Follow));
    if !resumable {
        return Err(Error::refused(format!(
            "run {id} is {}: only a published run is followed",
            st.outcome.as_str()
        ))
        .hint(format!("see 'git swarm status --run {id}'")));
    }
    if st.pr_url.is_none() {
        return Err(Error::refused(format!(
            "run {id} has no pull request to follow"
        ))
        .hint(format!(
            "open it ('git swarm publish --run {id}' tries again when the tool failed), or follow it by hand"
        )));
    }
    if st.swarm.follow.as_ref().is_some_and(|f| f.done) {
        let why = "the pull request is merged, or green and approved".to_string();
        return Ok(Followed {
            status: st,
            answer: Some(Answer::Done(why)),
        });
    }
    let policies = session.policies()?;
    let (view, _) = read_view(session, &st, &policies)?;
    crate::failpoint!("follow-read-after");
    let cfg = tx.config(&st)?;
    // Publishing removed the worktree; a fix pass makes it again (finishing or undoing what a
    // killed attempt left there), so what is there now is not read.
    let mut probe = st.clone();
    if st
        .swarm
        .publish
        .as_ref()
        .is_some_and(|p| p.worktree_removed)
    {
        probe.worktree_path = None;
    }
    let mut facts = tx.facts(&probe, &cfg, &[])?;
    // A fix pass starts from what was pushed: its worktree is made again on the branch.
    if let Some(b) = &st.branch {
        facts.base_tree = crate::git::tree_of(&session.ws.root, &format!("refs/heads/{b}")).ok();
    }
    let limits = Limits {
        max_rounds: policies.follow.max_rounds,
        retry_after: policies.follow.retry_after_seconds,
    };
    // A fix pass may make the run's worktree again: one creator of worktrees at a time.
    let worktrees = super::worktree_lock(session, &st, &cfg)?;
    let mut answer = None;
    let status = tx.transition(&cfg, &facts, |ctx, facts| {
        let (t, a) = crate::machine::follow::decide(ctx, facts, &st, &view, limits);
        answer = Some(a);
        Ok(t)
    })?;
    drop(worktrees);
    Ok(Followed { status, answer })
}

/// After a fix pass was pushed: its comments answered (each once: a reply already on the forge
/// is found by its marker), and the pull request's body ends with the follow log.
pub(crate) fn after_push(
    session: &Session,
    st: &mut RunStatus,
    policies: &Policies,
    body: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(fs) = st.swarm.follow.clone() else {
        return problems;
    };
    let Some(pass) = fs.passes.last().cloned() else {
        return problems;
    };
    if policies.follow.state_command.is_some() {
        return problems;
    }
    let forge = match forge_of(session, st, policies) {
        Ok(Some(f)) => f,
        Ok(None) => return problems,
        Err(e) => {
            problems.push(e.full_message());
            return problems;
        }
    };
    let commit = pass.commit.clone().unwrap_or_default();
    let wanted: Vec<_> = pass
        .findings
        .iter()
        .filter(|f| f.comment.is_some() && f.thread.is_some())
        .filter(|f| !fs.replied.contains(f.comment.as_ref().expect("filtered")))
        .collect();
    // Replies a killed publish already posted are on the forge: found by their marker.
    let posted: Vec<String> = if wanted.is_empty() {
        Vec::new()
    } else {
        // The threads only: no job log is needed to find a reply.
        match forge.view() {
            Ok(v) => v
                .comments
                .iter()
                .flat_map(|c| c.thread_bodies.clone())
                .collect(),
            Err(e) => {
                problems.push(e.full_message());
                return problems;
            }
        }
    };
    for f in wanted {
        let (comment, thread) = (
            f.comment.clone().expect("filtered"),
            f.thread.clone().expect("filtered"),
        );
        let marker = pr::reply_marker(&st.run_id, &comment);
        if !posted.iter().any(|b| b.contains(&marker)) {
            let text = format!(
                "Addressed in {commit} (git swarm run {}, fix pass {}).\n\n{marker}",
                st.run_id, pass.round
            );
            crate::failpoint!("follow-reply-before");
            if let Err(e) = forge.reply(&thread, &comment, &text) {
                problems.push(e.full_message());
                continue;
            }
            crate::failpoint!("follow-reply-after");
        }
        if let Some(f) = st.swarm.follow.as_mut() {
            f.replied.push(comment);
        }
    }
    if let Err(e) = forge.set_body(body) {
        problems.push(e.full_message());
    }
    problems
}
