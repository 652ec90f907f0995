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

/// A copy of the binary in `<prefix>/bin`, as `cargo install` leaves it in `~/.cargo/bin`, and
/// a command running it with that directory first on PATH and nothing else of the user's.
fn installed_binary(env: &Env, prefix: &Path) -> impl Fn(&[&str]) -> std::process::Command {
    let bin = prefix.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(BIN, bin.join("git-swarm")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = env.home.clone();
    let gitconfig = env.gitconfig.clone();
    let work = env.work.clone();
    move |args: &[&str]| {
        let mut cmd = std::process::Command::new(bin.join("git-swarm"));
        cmd.args(args)
            .current_dir(&work)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", &home)
            .env("GIT_CONFIG_GLOBAL", &gitconfig)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LC_ALL", "C");
        cmd
    }
}

fn man_available() -> bool {
    std::process::Command::new("man").arg("-w").output().is_ok()
}

/// Right after `cargo install --path .` and `git swarm init --man`, with PATH unchanged, `man`
/// finds the page: it goes beside the binary, `<prefix>/share/man/man1`, which `man` searches
/// for every `<prefix>/bin` on PATH.
#[test]
fn init_man_puts_the_page_beside_an_installed_binary() {
    let env = Env::bare();
    let prefix = env.root().join("cargo");
    let run = installed_binary(&env, &prefix);
    let out = run(&["init", "--man", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let page = prefix.join("share/man/man1/git-swarm.1");
    assert_eq!(j["man"]["path"], page.display().to_string(), "{j}");
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains(".TH GIT-SWARM 1")
    );
    assert!(
        !env.home.join(".local/share/man").exists(),
        "nothing goes to the XDG location when the prefix takes it"
    );
    if !man_available() {
        return;
    }
    assert_eq!(j["man"]["found"], true, "{j}");
    assert!(j["man"]["manpath"].is_null(), "{j}");
    let found = std::process::Command::new("man")
        .args(["-w", "git-swarm"])
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", prefix.join("bin").display()),
        )
        .env("HOME", &env.home)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&found.stdout).trim(),
        page.display().to_string()
    );
    // And git's way there: `git swarm --help` is `git help swarm`, which runs man.
    let help = std::process::Command::new("git")
        .args(["swarm", "--help"])
        .current_dir(&env.work)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", prefix.join("bin").display()),
        )
        .env("HOME", &env.home)
        .env("GIT_CONFIG_GLOBAL", &env.gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("GIT-SWARM(1)"),
        "{}{}",
        String::from_utf8_lossy(&help.stdout),
        String::from_utf8_lossy(&help.stderr)
    );
    // In the C locale too, the page renders without groff warnings (no ellipsis character).
    assert!(
        !String::from_utf8_lossy(&help.stderr).contains("warning"),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
}

/// Where the binary's prefix cannot take the page, it goes to the XDG location, and when `man`
/// would not look there the exact MANPATH line to add is printed.
#[test]
fn init_man_falls_back_to_xdg_and_names_the_manpath_line() {
    let env = Env::bare();
    let prefix = env.root().join("locked");
    let run = installed_binary(&env, &prefix);
    // `<prefix>/share` is a file: nothing can be created under it.
    std::fs::write(prefix.join("share"), "").unwrap();
    let data = env.root().join("xdg");
    let out = run(&["init", "--man"])
        .env("XDG_DATA_HOME", &data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let page = data.join("man/man1/git-swarm.1");
    assert!(page.is_file(), "{text}");
    assert!(
        text.contains(&format!("wrote {}", page.display())),
        "{text}"
    );
    let line = format!("export MANPATH=\"{}:$MANPATH\"", data.join("man").display());
    assert!(text.contains(&line), "{text}");
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
