//! Help, the manual page and the completion scripts: snapshots (UPDATE_SNAPSHOTS=1 rewrites
//! them), and the wiring that makes `git swarm --help` and `git swarm <TAB>` work.

mod common;

use common::*;
use std::path::Path;

#[track_caller]
fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() || !path.exists() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(
        expected == actual,
        "{name} changed; review the difference and run with UPDATE_SNAPSHOTS=1 to accept it\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn help_man_and_completions_match_their_snapshots() {
    let env = Env::bare();
    let out = env.swarm(&["-h"]);
    out.code(0);
    snapshot("help.txt", &out.stdout);
    let out = env.swarm(&["next", "--help"]);
    out.code(0);
    snapshot("help-next.txt", &out.stdout);
    let man = env.swarm(&["man"]);
    man.code(0);
    assert!(man.stdout.contains(".TH GIT-SWARM 1"));
    assert!(man.stdout.contains(".SS \"git swarm publish\""));
    snapshot("git-swarm.1", &man.stdout);
    for shell in ["bash", "zsh", "fish"] {
        let out = env.swarm(&["completions", shell]);
        out.code(0);
        snapshot(&format!("completions.{shell}"), &out.stdout);
    }
}

#[test]
fn init_man_installs_the_page_where_man_finds_it() {
    let env = Env::bare();
    let data = env.root().join("xdg");
    let mut cmd = env.command(&env.work, &["init", "--man", "--json"]);
    cmd.env("XDG_DATA_HOME", &data);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let page = data.join("man/man1/git-swarm.1");
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains(".TH GIT-SWARM 1")
    );
    // git turns `git swarm --help` into `git help swarm`, which asks man for git-swarm.
    let found = std::process::Command::new("man")
        .args(["-w", "git-swarm"])
        .env("MANPATH", data.join("man"))
        .output();
    if let Ok(o) = found
        && o.status.success()
    {
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            page.display().to_string()
        );
    }
}

#[test]
fn bash_completes_git_swarm_subcommands_and_options() {
    let git_completion = Path::new("/usr/share/bash-completion/completions/git");
    if !git_completion.exists() {
        eprintln!("git's bash completion is not installed; skipping");
        return;
    }
    let env = Env::bare();
    let script = env.root().join("git-swarm.bash");
    std::fs::write(&script, env.swarm(&["completions", "bash"]).stdout).unwrap();
    let probe = format!(
        r#"source {}; source {}
for line in "git swarm ne" "git swarm next --r" "git-swarm sta"; do
  read -ra COMP_WORDS <<< "$line"; COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); COMP_LINE="$line"; COMP_POINT=${{#COMP_LINE}}
  if [[ "$line" == git-swarm* ]]; then _gitswarm git-swarm "${{COMP_WORDS[COMP_CWORD]}}" git-swarm; else __git_func_wrap __git_main; fi
  echo "$line -> ${{COMPREPLY[*]}}"
done"#,
        git_completion.display(),
        script.display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(probe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("git swarm ne -> next"), "{text}");
    assert!(
        text.contains("git swarm next --r -> --run --reject"),
        "{text}"
    );
    assert!(text.contains("git-swarm sta -> start status"), "{text}");
}
