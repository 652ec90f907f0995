//! Workflow configs: schema validation, the semantic checks, and routing results through the
//! resulting workflow.
#![no_main]

use std::sync::OnceLock;

use git_swarm::machine::route;
use libfuzzer_sys::fuzz_target;

/// A HOME holding the reference pack's schemas, so schemaPaths can resolve.
fn home() -> &'static std::path::Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        for (rel, text) in git_swarm::agents::pack::FILES {
            let p = d.path().join(".cursor/agents").join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    })
    .path()
}

fuzz_target!(|data: &[u8]| {
    // The input is a config, optionally followed by a NUL and a result to route.
    let (cfg, result) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(value) = git_swarm::files::json::parse_strict(cfg) else { return };
    let home = home();
    let Ok(wf) = git_swarm::config::from_value(std::path::Path::new("config.json"), &value, home, home) else { return };
    let result = git_swarm::files::json::parse_strict(result).unwrap_or_default();
    for a in &wf.subagents {
        // Routing never names an agent outside the agent's hand-off options.
        if let route::Route::Next(to) = route::route(&wf, &a.name, &result) {
            assert!(wf.next_options(&a.name).contains(&to), "{} -> {to}", a.name);
        }
    }
});
