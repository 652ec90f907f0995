//! Remote URLs: parsing, forge detection, owner/repo, manual URLs, and credential redaction.
#![no_main]

use git_swarm::forge::{self, Hosts};
use git_swarm::git::url::redact;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else { return };
    let hosts = Hosts {
        github: vec!["ghe.example.com".into()],
        bitbucket: vec!["https://bb.example.com:8443".into()],
        gitlab: vec!["lab.example.com".into()],
    };
    if let Some(r) = forge::parse_remote(url) {
        let kind = forge::detect(&r, &hosts);
        let _ = forge::owner_repo(&r, kind);
        let manual = forge::manual_url(&r, kind, "swarm/x", "main");
        assert!(manual.starts_with("http"), "{manual}");
    }
    // Whatever the text, a `scheme://user:secret@host` never survives redaction.
    let shown = redact(url);
    if let Some(i) = url.find("://") {
        let authority = &url[i + 3..];
        let end = authority.find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'' || c == '>').unwrap_or(authority.len());
        if let Some(at) = authority[..end].rfind('@') {
            let secret = &authority[..at];
            if secret.len() >= 4 && !secret.contains("***") {
                // Text before the scheme is kept as it is, so look where the userinfo was:
                // right after the first `://`, which redaction does not move.
                let rest = &shown[i + 3..];
                let end = rest.find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'' || c == '>').unwrap_or(rest.len());
                assert!(!rest[..end].contains(&format!("{secret}@")), "{url:?} -> {shown:?}");
            }
        }
    }
});
