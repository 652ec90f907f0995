//! The pull request step of publishing: the forge's tool chosen from the remote's host (or the
//! policy's command), its argv, the title and body, and the warnings when it cannot be made.

use super::*;
use crate::config::policies::SubmitMethod;

pub(crate) fn configured_hosts(root: &Path, policies: &Policies) -> Hosts {
    let mut found = git::query::config_values(
        root,
        &[
            "swarm.githubHost",
            "swarm.bitbucketHost",
            "swarm.gitlabHost",
        ],
    )
    .into_iter()
    .map(|(_, values)| values);
    let mut h = Hosts {
        github: found.next().unwrap_or_default(),
        bitbucket: found.next().unwrap_or_default(),
        gitlab: found.next().unwrap_or_default(),
    };
    h.github.extend(policies.forges.github.iter().cloned());
    h.bitbucket
        .extend(policies.forges.bitbucket.iter().cloned());
    h.gitlab.extend(policies.forges.gitlab.iter().cloned());
    if let Ok(gh) = std::env::var("GH_HOST")
        && !gh.is_empty()
    {
        h.github.push(gh);
    }
    h
}

/// The tool's executable: gh and glab from PATH; acli from ~/.cursor/acli.exe,
/// ~/.cursor/acli, then PATH.
pub(crate) fn find_tool(tool: &str) -> Option<PathBuf> {
    if tool == "acli"
        && let Ok(home) = crate::config::paths::home_dir()
    {
        for name in ["acli.exe", "acli"] {
            let p = home.join(".cursor").join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    which::which(tool).ok()
}

/// What the last agent (the tester) said it ran, from its consumed result: `command` and
/// `exit-code` in the tester's result format.
fn tester_ran(st: &RunStatus) -> Option<String> {
    let path = st.swarm.results.get(&st.current_step)?;
    let v = crate::files::read_json(Path::new(path)).ok()?;
    let command = v.get("command")?.as_str()?;
    // Written by an agent: one line, shortened, before it reaches the pull request.
    let command = text::first_line(command);
    Some(
        match v.get("exit-code").and_then(serde_json::Value::as_i64) {
            Some(code) => format!("- {} ran `{command}`: exit {code}", st.current_step),
            None => format!("- {} ran `{command}`", st.current_step),
        },
    )
}

pub(crate) fn title_and_body(
    st: &RunStatus,
    policies: &Policies,
    branch: &str,
    base: &str,
) -> (String, String) {
    let plan = st.swarm.plan.clone().unwrap_or_default();
    let goal = if plan.goal.is_empty() {
        crate::machine::text::first_line(&st.swarm.task.text)
    } else {
        plan.goal.trim().to_string()
    };
    let mut summary: Vec<String> = st
        .swarm
        .notes
        .iter()
        .filter(|(_, n)| !n.summary.is_empty())
        .map(|(a, n)| format!("- {a}: {}", n.summary))
        .collect();
    if summary.is_empty() {
        summary.push("- (no summaries recorded)".to_string());
    }
    let acceptance = plan
        .acceptance
        .iter()
        .map(|a| format!("- {a}"))
        .collect::<Vec<_>>()
        .join("\n");
    let tasks = if plan.tasks.is_empty() {
        "- (no plan)".to_string()
    } else {
        plan.tasks
            .iter()
            .map(|t| format!("- {}: {}", t.id, text::first_line(&t.description)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let tests = {
        let mut lines: Vec<String> = plan
            .test_commands
            .iter()
            .map(|c| format!("- `{c}`"))
            .collect();
        if lines.is_empty() {
            lines.push("- (the plan names no test command)".to_string());
        }
        lines.extend(tester_ran(st));
        if let Some(n) = st.swarm.notes.get(&st.current_step)
            && !n.summary.is_empty()
        {
            lines.push(format!("- {} passed: {}", st.current_step, n.summary));
        }
        // The tool's own evidence, on the same content.
        if let Some(v) = &st.swarm.verification {
            if v.commands.is_empty() {
                lines.push(
                    "- verified by git swarm: no command to run (set verify.commands)".to_string(),
                );
            }
            for c in &v.commands {
                lines.push(format!("- verified by git swarm: {}", c.line()));
            }
        }
        lines.join("\n")
    };
    let reviews = {
        let rounds: Vec<String> = st
            .swarm
            .passes
            .iter()
            .map(|(a, n)| format!("{a} ×{n}"))
            .collect();
        if rounds.is_empty() {
            "-".to_string()
        } else {
            rounds.join(", ")
        }
    };
    let (tokens, cost) = crate::machine::usage::totals(st);
    let spent = match (tokens, cost) {
        (None, None) => "not reported".to_string(),
        (t, c) => [
            t.map(|t| format!("{} tokens", crate::machine::usage::thousands(t))),
            c.map(|c| format!("${c:.2}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", "),
    };
    let tested_tree = st
        .swarm
        .tested
        .as_ref()
        .map(|t| t.tree.clone())
        .unwrap_or_default();
    let vars: Vec<(&str, String)> = vec![
        ("goal", goal.clone()),
        ("tasks", tasks),
        ("tests", tests),
        ("passes", reviews),
        ("spent", spent),
        ("testedTree", tested_tree),
        ("summary", summary.join("\n")),
        ("runId", st.run_id.clone()),
        ("friendlyName", plan.friendly_name.clone()),
        ("description", plan.description.clone()),
        ("acceptance", acceptance),
        ("branch", branch.to_string()),
        ("baseBranch", base.to_string()),
    ];
    let fill = |t: &str| {
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        template::substitute(&[t.to_string()], &refs).remove(0)
    };
    let title = fill(
        policies
            .pr
            .title_template
            .as_deref()
            .unwrap_or("[swarm] {goal}"),
    );
    let body = fill(policies.pr.body_template.as_deref().unwrap_or(
        "Goal: {goal}\n\nTasks:\n{tasks}\n\nSummary:\n{summary}\n\nAcceptance criteria:\n{acceptance}\n\nTests:\n{tests}\n\nPasses: {passes}\nSpent: {spent}\n\nSwarm-Run: {runId}\nTested tree: {testedTree} (what the tester passed; publishing checked that the pushed branch holds exactly it)\n\nArtifacts:\n- Run folder: .swarm/runs/{runId}\n- Plan: .swarm/runs/{runId}/plan.json\n",
    ));
    (
        text::clean_line(title.lines().next().unwrap_or_default()),
        text::clean_body(&body),
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn pull_request(
    j: &mut Journal,
    root: &Path,
    cwd: &Path,
    policies: &Policies,
    remote_name: &str,
    branch: &str,
    base: &str,
    opts: &Options,
) -> Result<()> {
    let ps_pr =
        j.st.swarm
            .publish
            .as_ref()
            .map(|p| p.pr)
            .unwrap_or_default();
    if ps_pr == PrState::Created || ps_pr == PrState::Skipped {
        return Ok(());
    }
    let url = git::query::remote_url(root, remote_name).unwrap_or_default();
    let remote: Option<Remote> = forge::parse_remote(&url);
    let hosts = configured_hosts(root, policies);
    let submit = policies.pr.submit_method;
    let mut kind = remote.as_ref().and_then(|r| forge::detect(r, &hosts));
    if kind.is_none() {
        kind = match submit {
            Some(SubmitMethod::Gh) => Some(Kind::GitHub),
            Some(SubmitMethod::Glab) => Some(Kind::GitLab),
            Some(SubmitMethod::Bb | SubmitMethod::Acli) => Some(Kind::BitbucketCloud),
            Some(SubmitMethod::Manual) | None => None,
        };
    }
    // A remote that is a path on this machine has no forge and no web page: the advice is to
    // merge with git there, never to open a page.
    let local = forge::is_local(&url);
    let manual = remote
        .as_ref()
        .map(|r| forge::manual_url(r, kind, branch, base))
        .unwrap_or_else(|| format!("the web page of remote '{remote_name}'"));
    let (manual_steps, check) = if local {
        (
            format!(
                "'{remote_name}' is a repository on this machine, with no pull requests: merge {branch} into {base} with git (for example, on {base}: 'git pull {remote_name} {branch}', then 'git push {remote_name} {base}'), or push {branch} to a forge and open the pull request there"
            ),
            format!("look for branch {branch} in '{remote_name}'"),
        )
    } else {
        (
            format!("open {manual} and create a pull request from {branch} into {base}"),
            format!("check {manual}"),
        )
    };

    let by_hand = submit == Some(SubmitMethod::Manual);
    if by_hand || !policies.pr.create_on_success {
        j.pr(PrState::Skipped);
        j.warn(warning(
            "pr-manual",
            format!(
                "pull requests are created by hand in this repository (policies.pr.{})",
                if by_hand {
                    "submitMethod"
                } else {
                    "createOnSuccess"
                }
            ),
            None,
            None,
            None,
            manual_steps,
        ));
        return Ok(());
    }

    let (title, body) = title_and_body(&j.st, policies, branch, base);
    let body_file = j.tx.run.path.join("pr-body.md");
    atomic::write(&body_file, body.as_bytes())?;
    let draft = opts.draft || policies.pr.create_draft;
    let pr = PrRequest {
        head: branch.to_string(),
        base: base.to_string(),
        title,
        body,
        body_file: body_file.display().to_string(),
        remote: remote_name.to_string(),
        draft,
    };

    let argv: Vec<String> = if let Some(t) = &policies.pr.create_command {
        let words = t.words().map_err(|e| {
            Error::failure(format!(
                "{}: /pr/createCommand {e}",
                j.tx.session.swarm.policies_path().display()
            ))
            .hint("write it as an array of strings, or a string split like a shell would")
        })?;
        let (owner, repo) = remote
            .as_ref()
            .map(|r| forge::owner_repo(r, kind))
            .unwrap_or_default();
        let host = remote.as_ref().map(|r| r.host.clone()).unwrap_or_default();
        template::substitute(
            &words,
            &[
                ("baseBranch", &pr.base),
                ("head", &pr.head),
                ("title", &pr.title),
                ("body", &pr.body),
                ("bodyFile", &pr.body_file),
                ("remote", &pr.remote),
                ("host", &host),
                ("owner", &owner),
                ("repo", &repo),
            ],
        )
    } else {
        let (Some(k), Some(r)) = (kind, remote.as_ref()) else {
            j.pr(PrState::Failed);
            let (message, remediation) = if local {
                (
                    format!(
                        "remote '{remote_name}' ({}) is a path on this machine, not a forge: there is no pull request to open",
                        redact(&url)
                    ),
                    manual_steps,
                )
            } else {
                (
                    format!(
                        "cannot tell which pull-request tool serves remote '{remote_name}' ({})",
                        if url.is_empty() {
                            "no URL".to_string()
                        } else {
                            redact(&url)
                        }
                    ),
                    format!(
                        "{manual_steps}; for a GitHub Enterprise, Bitbucket Server or GitLab host, add it with 'git config --add swarm.githubHost <host>' (or swarm.bitbucketHost / swarm.gitlabHost)"
                    ),
                )
            };
            j.warn(warning(
                "pr-tool-undetermined",
                message,
                None,
                None,
                None,
                remediation,
            ));
            return Ok(());
        };
        let Some(exe) = find_tool(k.tool()) else {
            j.pr(PrState::Failed);
            j.warn(warning(
                "pr-tool-missing",
                format!("{} is needed for {} but was not found", k.tool(), r.host),
                Some(k.tool()),
                None,
                None,
                format!(
                    "install {} (or set policies.pr.createCommand), then run 'git swarm publish --run {}' again; or {manual_steps}",
                    k.tool(),
                    j.st.run_id
                ),
            ));
            return Ok(());
        };
        forge::builtin_argv(k, &exe.display().to_string(), r, &pr)
    };
    let tool_name = argv
        .first()
        .map(|t| {
            Path::new(t)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let shown = redact(&shell_words::join(&argv));
    // An earlier publish died while the tool ran: only gh is known to refuse duplicates, so
    // any other tool is not run again blindly.
    if ps_pr == PrState::Attempting && tool_name != "gh" {
        j.pr(PrState::Failed);
        j.warn(warning(
            "pr-state-unknown",
            "an earlier publish stopped while creating the pull request; it may exist already"
                .to_string(),
            Some(&tool_name),
            Some(shown),
            None,
            format!("{check}; if there is no pull request, create it there"),
        ));
        return Ok(());
    }
    j.pr(PrState::Attempting);
    j.save()?;
    crate::failpoint!("publish-pr-before");
    let result = run_tool(&argv, cwd);
    crate::failpoint!("publish-pr-after");
    match result {
        Err(e) => {
            j.pr(PrState::Failed);
            j.warn(warning(
                "pr-tool-missing",
                format!("could not run {tool_name}: {e}"),
                Some(&tool_name),
                Some(shown),
                None,
                manual_steps,
            ));
        }
        Ok((true, stdout, _)) => match forge::find_url(
            stdout
                .lines()
                .rev()
                .find(|l| l.contains("://"))
                .unwrap_or_default(),
        ) {
            Some(u) => {
                j.record(machine::publish::Record::PullRequest {
                    state: PrState::Created,
                    url: Some(u),
                    existed: false,
                });
            }
            None => {
                j.pr(PrState::Failed);
                j.warn(warning(
                    "pr-create-failed",
                    format!("{tool_name} succeeded but printed no pull-request URL"),
                    Some(&tool_name),
                    Some(shown),
                    Some(crate::git::url::excerpt(&stdout)),
                    check,
                ));
            }
        },
        Ok((false, stdout, stderr)) => {
            let both = format!("{stdout}\n{stderr}");
            if let Some(u) = forge::existing_pr_url(&both) {
                j.record(machine::publish::Record::PullRequest {
                    state: PrState::Created,
                    url: Some(u),
                    existed: true,
                });
            } else {
                j.pr(PrState::Failed);
                j.warn(warning(
                    "pr-create-failed",
                    format!("{tool_name} could not create the pull request"),
                    Some(&tool_name),
                    Some(shown),
                    Some(crate::git::url::excerpt(&both)),
                    format!(
                        "fix the cause shown in the output, then run 'git swarm publish --run {}' again; or {manual_steps}",
                        j.st.run_id
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Runs a forge tool (argv, never a shell) with prompts disabled and a time limit.
pub(crate) fn run_tool(
    argv: &[String],
    cwd: &Path,
) -> std::result::Result<(bool, String, String), String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let handle = duct::cmd(prog, args)
        .dir(cwd)
        .env("GH_PROMPT_DISABLED", "1")
        .env("GH_NO_UPDATE_NOTIFIER", "1")
        .env("NO_COLOR", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .start()
        .map_err(|e| e.to_string())?;
    let limit = std::env::var("GIT_SWARM_PR_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120u64);
    let deadline = Instant::now() + Duration::from_secs(limit);
    loop {
        match handle.try_wait() {
            Ok(Some(out)) => {
                return Ok((
                    out.status.success(),
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                ));
            }
            Ok(None) if Instant::now() > deadline => {
                let _ = handle.kill();
                return Ok((false, String::new(), format!("timed out after {limit} s")));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
}
