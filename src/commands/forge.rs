use clap::Args;
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::forge;
use crate::git::url::redact;

/// Show what publishing would use for a remote: its host, owner and repository, the forge, the
/// pull-request tool (and whether it is installed), and the page for a pull request by hand.
/// Credentials in the URL are never shown.
#[derive(Debug, Args)]
pub(crate) struct ForgeArgs {
    /// The remote (default: policies.pr.remote, else origin).
    #[arg(long, value_name = "NAME", conflicts_with = "url")]
    pub remote: Option<String>,
    /// Judge this URL instead of a remote's.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The branch a pull request would come from.
    #[arg(long, default_value = "swarm/<name>")]
    pub head: String,
    /// The branch it would go into.
    #[arg(long, default_value = "main")]
    pub base: String,
}

pub(crate) fn run(ctx: &Context, args: ForgeArgs) -> Result<Output> {
    let session = ctx.session()?;
    let policies = session.policies()?;
    let remote_name = args
        .remote
        .clone()
        .unwrap_or_else(|| policies.pr.remote.clone());
    if args.url.is_none() {
        crate::config::policies::check_remote_name(&remote_name).map_err(|why| {
            Error::failure(format!("--remote: {why}"))
                .hint("name a remote of this repository ('git remote' lists them)")
        })?;
    }
    let url = match &args.url {
        Some(u) => u.clone(),
        None => crate::git::query::remote_url(&session.ws.root, &remote_name).map_err(|e| {
            Error::failure(format!(
                "no remote '{remote_name}': {}",
                e.causes.first().cloned().unwrap_or(e.message)
            ))
            .hint("name a remote with --remote, or judge a URL with --url")
        })?,
    };
    if url.trim().is_empty() || url.contains(['\n', '\r', '\0']) {
        return Err(
            Error::failure(format!("{:?} is not a remote URL", redact(&url)))
                .hint("give one line, e.g. https://github.com/owner/repo.git"),
        );
    }
    let shown = redact(&url);
    let parsed = forge::parse_remote(&url);
    if parsed.is_none() && gix::url::parse(gix::bstr::BStr::new(url.as_bytes())).is_err() {
        return Err(
            Error::failure(format!("cannot parse the remote URL {shown}"))
                .hint("use scp-like (git@host:owner/repo.git), ssh://, https:// or a path"),
        );
    }
    let hosts = crate::driver::publish::configured_hosts(&session.ws.root, &policies);
    let kind = parsed.as_ref().and_then(|r| forge::detect(r, &hosts));
    let (owner, repo) = parsed
        .as_ref()
        .map(|r| forge::owner_repo(r, kind))
        .unwrap_or_default();
    let tool = kind.map(|k| k.tool());
    let tool_path = tool.and_then(crate::driver::publish::find_tool);
    let manual = parsed
        .as_ref()
        .map(|r| forge::manual_url(r, kind, &args.head, &args.base));
    let forge_name = kind.map(|k| match k {
        forge::Kind::GitHub => "github",
        forge::Kind::BitbucketCloud => "bitbucket-cloud",
        forge::Kind::BitbucketServer => "bitbucket-server",
        forge::Kind::GitLab => "gitlab",
    });
    let j = json!({
        "remote": args.url.is_none().then_some(remote_name.clone()),
        "url": shown,
        "host": parsed.as_ref().map(|r| r.host.clone()),
        "port": parsed.as_ref().and_then(|r| r.port),
        "owner": owner,
        "repo": repo,
        "forge": forge_name,
        "tool": tool,
        "toolPath": tool_path,
        "manualUrl": manual,
    });
    let mut t = format!("url:    {shown}\n");
    match &parsed {
        Some(r) => t.push_str(&format!(
            "host:   {}{}\nrepo:   {owner}/{repo}\n",
            r.host,
            r.port.map(|p| format!(":{p}")).unwrap_or_default()
        )),
        None => t.push_str("host:   none (a local path)\n"),
    }
    match (forge_name, tool) {
        (Some(f), Some(tl)) => t.push_str(&format!(
            "forge:  {f}, pull requests with {tl} ({})\n",
            j["toolPath"].as_str().map(|p| format!("found at {p}")).unwrap_or_else(|| "not installed".to_string())
        )),
        _ => t.push_str("forge:  undetermined — publish pushes and warns pr-tool-undetermined (configure with git config --add swarm.githubHost <host>)\n"),
    }
    if let Some(m) = &manual {
        t.push_str(&format!("by hand: {m}\n"));
    }
    Ok(Output::new(j, t))
}
