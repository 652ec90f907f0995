//! Forges: which pull-request tool a remote needs, the argv it is called with, and the web
//! page to open a pull request by hand. Pure functions; `publish` runs the commands.

pub(crate) mod template;

use gix::bstr::ByteSlice;

/// A remote URL, parsed (credentials dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    /// Path without leading '/' and without a trailing `.git`.
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    GitHub,
    BitbucketCloud,
    BitbucketServer,
    GitLab,
}

impl Kind {
    pub(crate) fn tool(self) -> &'static str {
        match self {
            Kind::GitHub => "gh",
            Kind::BitbucketCloud | Kind::BitbucketServer => "acli",
            Kind::GitLab => "glab",
        }
    }
}

/// Hosts configured as GitHub Enterprise, Bitbucket Server or self-managed GitLab.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    pub github: Vec<String>,
    pub bitbucket: Vec<String>,
    pub gitlab: Vec<String>,
}

/// Parses a remote URL with gix's parser: scp-like `git@host:o/r.git`, `ssh://` with port,
/// `https://user:token@host:port/…`, and local paths (which have no host).
pub fn parse_remote(url: &str) -> Option<Remote> {
    let u = gix::url::parse(url.as_bytes().as_bstr()).ok()?;
    let host = u.host()?.to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let raw_path = u.path.to_str_lossy();
    let path = raw_path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .trim_start_matches("~")
        .to_string();
    Some(Remote {
        scheme: u.scheme.as_str().to_string(),
        host,
        port: u.port,
        path,
    })
}

/// Is the remote a repository on this machine (`/srv/app.git`, `../app.git`,
/// `file:///srv/app.git`)? Then there is no forge: no pull-request tool and no web page.
pub(crate) fn is_local(url: &str) -> bool {
    !url.trim().is_empty()
        && gix::url::parse(url.trim().as_bytes().as_bstr())
            .is_ok_and(|u| u.scheme == gix::url::Scheme::File)
}

fn host_matches(list: &[String], host: &str) -> bool {
    list.iter().any(|h| {
        let h = h.trim().to_ascii_lowercase();
        // A configured host may carry a scheme or port ("https://git.corp:8443").
        let h = h.split("://").last().unwrap_or_default();
        let h = h.split(['/', ':']).next().unwrap_or_default();
        !h.is_empty() && h == host
    })
}

/// The forge of a remote, from its host.
pub fn detect(remote: &Remote, hosts: &Hosts) -> Option<Kind> {
    let h = remote.host.as_str();
    if h == "github.com" || h.ends_with(".github.com") || host_matches(&hosts.github, h) {
        Some(Kind::GitHub)
    } else if h == "bitbucket.org" {
        Some(Kind::BitbucketCloud)
    } else if host_matches(&hosts.bitbucket, h) {
        Some(Kind::BitbucketServer)
    } else if h == "gitlab.com" || host_matches(&hosts.gitlab, h) {
        Some(Kind::GitLab)
    } else {
        None
    }
}

/// Owner (or workspace, project, group path) and repository name.
pub fn owner_repo(remote: &Remote, kind: Option<Kind>) -> (String, String) {
    let mut parts: Vec<&str> = remote.path.split('/').filter(|s| !s.is_empty()).collect();
    // Bitbucket Server over https: /scm/PROJ/repo
    if kind == Some(Kind::BitbucketServer) && parts.first() == Some(&"scm") {
        parts.remove(0);
    }
    match parts.split_last() {
        Some((repo, owner)) => (owner.join("/"), repo.to_string()),
        None => (String::new(), String::new()),
    }
}

/// The web origin of a remote: `https://host[:port]` (ssh ports are not web ports).
pub(crate) fn web_base(remote: &Remote) -> String {
    match (remote.scheme.as_str(), remote.port) {
        ("https" | "http", Some(p)) => format!("{}://{}:{p}", remote.scheme, remote.host),
        ("http", None) => format!("http://{}", remote.host),
        _ => format!("https://{}", remote.host),
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Where a person opens the pull request by hand.
pub fn manual_url(remote: &Remote, kind: Option<Kind>, head: &str, base: &str) -> String {
    let web = web_base(remote);
    let (owner, repo) = owner_repo(remote, kind);
    match kind {
        Some(Kind::GitHub) | None => format!(
            "{web}/{owner}/{repo}/compare/{}...{}?expand=1",
            enc_path(base),
            enc_path(head)
        ),
        Some(Kind::BitbucketCloud) => format!(
            "{web}/{owner}/{repo}/pull-requests/new?source={}&dest={}",
            enc(head),
            enc(base)
        ),
        Some(Kind::BitbucketServer) => format!(
            "{web}/projects/{}/repos/{repo}/pull-requests?create&sourceBranch={}&targetBranch={}",
            owner.to_uppercase(),
            enc(&format!("refs/heads/{head}")),
            enc(&format!("refs/heads/{base}"))
        ),
        Some(Kind::GitLab) => format!(
            "{web}/{owner}/{repo}/-/merge_requests/new?merge_request%5Bsource_branch%5D={}&merge_request%5Btarget_branch%5D={}",
            enc(head),
            enc(base)
        ),
    }
}

/// Branch names in a URL path keep their '/'.
fn enc_path(branch: &str) -> String {
    branch.split('/').map(enc).collect::<Vec<_>>().join("/")
}

/// What a pull request is made of.
#[derive(Debug, Clone)]
pub(crate) struct PrRequest {
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub body_file: String,
    pub remote: String,
    pub draft: bool,
}

/// The built-in commands, in one place. `acli`'s Bitbucket syntax is not well documented;
/// `policies.pr.createCommand` replaces any of these, and a failure is only a warning.
pub(crate) fn builtin_argv(kind: Kind, tool: &str, remote: &Remote, pr: &PrRequest) -> Vec<String> {
    let (owner, repo) = owner_repo(remote, Some(kind));
    let s = |x: &str| x.to_string();
    let mut argv = match kind {
        Kind::GitHub => vec![
            s(tool),
            s("pr"),
            s("create"),
            s("-R"),
            format!("{}/{owner}/{repo}", remote.host),
            s("--head"),
            pr.head.clone(),
            s("--base"),
            pr.base.clone(),
            s("--title"),
            pr.title.clone(),
            s("--body-file"),
            pr.body_file.clone(),
        ],
        Kind::GitLab => vec![
            s(tool),
            s("mr"),
            s("create"),
            s("-R"),
            format!("{}/{owner}/{repo}", web_base(remote)),
            s("--source-branch"),
            pr.head.clone(),
            s("--target-branch"),
            pr.base.clone(),
            s("--title"),
            pr.title.clone(),
            s("--description"),
            pr.body.clone(),
            s("--yes"),
        ],
        Kind::BitbucketCloud | Kind::BitbucketServer => vec![
            s(tool),
            s("bitbucket"),
            s("pullrequest"),
            s("create"),
            s("--workspace"),
            owner,
            s("--repository"),
            repo,
            s("--source-branch"),
            pr.head.clone(),
            s("--destination-branch"),
            pr.base.clone(),
            s("--title"),
            pr.title.clone(),
            s("--description"),
            pr.body.clone(),
        ],
    };
    if pr.draft && matches!(kind, Kind::GitHub | Kind::GitLab) {
        argv.push(s("--draft"));
    }
    argv
}

/// The first http(s) URL in `text` (a tool's answer).
pub(crate) fn find_url(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| {
                c == '"' || c == '\'' || c == '<' || c == '>' || c == ',' || c == '.'
            })
        })
        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
        .map(str::to_string)
}

/// gh's answer when the pull request exists already: `a pull request for branch "…" into
/// branch "…" already exists:` followed by its URL.
pub(crate) fn existing_pr_url(output: &str) -> Option<String> {
    let lower = output.to_ascii_lowercase();
    let i = lower.find("already exists")?;
    find_url(&output[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(url: &str) -> Remote {
        parse_remote(url).unwrap_or_else(|| panic!("{url} parses"))
    }

    #[test]
    fn remote_shapes() {
        let a = r("git@github.com:acme/app.git");
        assert_eq!(
            (a.host.as_str(), a.path.as_str(), a.port),
            ("github.com", "acme/app", None)
        );
        let b = r("ssh://git@bitbucket.corp:7999/proj/repo.git");
        assert_eq!(
            (b.host.as_str(), b.path.as_str(), b.port),
            ("bitbucket.corp", "proj/repo", Some(7999))
        );
        let c = r("https://user:tok3n@git.corp:8443/scm/PROJ/repo.git");
        assert_eq!(
            (c.host.as_str(), c.path.as_str(), c.port),
            ("git.corp", "scm/PROJ/repo", Some(8443))
        );
        let d = r("https://gitlab.com/group/sub/deeper/app.git");
        assert_eq!(d.path, "group/sub/deeper/app");
        assert!(parse_remote("/srv/git/app.git").is_none());
        assert!(parse_remote("file:///srv/git/app.git").is_none());
        for local in ["/srv/git/app.git", "../app.git", "file:///srv/git/app.git"] {
            assert!(is_local(local), "{local}");
        }
        for remote in ["git@github.com:a/b.git", "https://h/a/b", "ssh://h/a", ""] {
            assert!(!is_local(remote), "{remote}");
        }
    }

    #[test]
    fn detection_and_owner_repo() {
        let hosts = Hosts {
            github: vec!["ghe.corp".into()],
            bitbucket: vec!["https://git.corp:8443".into()],
            gitlab: vec!["lab.corp".into()],
        };
        assert_eq!(
            detect(&r("git@github.com:a/b.git"), &hosts),
            Some(Kind::GitHub)
        );
        assert_eq!(
            detect(&r("https://ghe.corp/a/b"), &hosts),
            Some(Kind::GitHub)
        );
        assert_eq!(
            detect(&r("git@bitbucket.org:ws/b.git"), &hosts),
            Some(Kind::BitbucketCloud)
        );
        let server = r("https://git.corp:8443/scm/PROJ/repo.git");
        assert_eq!(detect(&server, &hosts), Some(Kind::BitbucketServer));
        assert_eq!(
            owner_repo(&server, Some(Kind::BitbucketServer)),
            ("PROJ".into(), "repo".into())
        );
        let lab = r("git@lab.corp:group/sub/app.git");
        assert_eq!(detect(&lab, &hosts), Some(Kind::GitLab));
        assert_eq!(
            owner_repo(&lab, Some(Kind::GitLab)),
            ("group/sub".into(), "app".into())
        );
        assert_eq!(detect(&r("https://example.org/a/b"), &hosts), None);
    }

    #[test]
    fn manual_urls() {
        let gh = r("git@github.com:acme/app.git");
        assert_eq!(
            manual_url(&gh, Some(Kind::GitHub), "swarm/add-x", "main"),
            "https://github.com/acme/app/compare/main...swarm/add-x?expand=1"
        );
        let bb = r("git@bitbucket.org:ws/app.git");
        assert_eq!(
            manual_url(&bb, Some(Kind::BitbucketCloud), "swarm/x", "main"),
            "https://bitbucket.org/ws/app/pull-requests/new?source=swarm%2Fx&dest=main"
        );
        let bbs = r("ssh://git@git.corp:7999/proj/repo.git");
        assert_eq!(
            manual_url(&bbs, Some(Kind::BitbucketServer), "swarm/x", "main"),
            "https://git.corp/projects/PROJ/repos/repo/pull-requests?create&sourceBranch=refs%2Fheads%2Fswarm%2Fx&targetBranch=refs%2Fheads%2Fmain"
        );
        let gl = r("https://gitlab.com/g/s/app.git");
        assert!(
            manual_url(&gl, Some(Kind::GitLab), "swarm/x", "main")
                .starts_with("https://gitlab.com/g/s/app/-/merge_requests/new?")
        );
    }

    #[test]
    fn gh_argv_and_existing_pr() {
        let gh = r("https://github.com/acme/app.git");
        let pr = PrRequest {
            head: "swarm/x".into(),
            base: "main".into(),
            title: "[swarm] \"quoted\" $(x)".into(),
            body: "b".into(),
            body_file: "/tmp/body.md".into(),
            remote: "origin".into(),
            draft: true,
        };
        let argv = builtin_argv(Kind::GitHub, "gh", &gh, &pr);
        assert_eq!(
            argv[..5],
            ["gh", "pr", "create", "-R", "github.com/acme/app"]
        );
        assert!(argv.contains(&"[swarm] \"quoted\" $(x)".to_string()));
        assert_eq!(argv.last().unwrap(), "--draft");
        let out = "a pull request for branch \"swarm/x\" into branch \"main\" already exists:\nhttps://github.com/acme/app/pull/7\n";
        assert_eq!(
            existing_pr_url(out).as_deref(),
            Some("https://github.com/acme/app/pull/7")
        );
        assert_eq!(existing_pr_url("some other error"), None);
    }
}
