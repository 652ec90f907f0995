//! The clean-tree gate agrees with `git status` on every kind of change, through both the
//! fast walk and the full gix status (GIT_SWARM_FULL_STATUS).

mod common;

use common::*;
use std::path::Path;

/// Does `git status --porcelain` (minus .swarm/runs) see anything, with untracked files?
fn git_dirty(env: &Env, untracked: bool) -> bool {
    let args: &[&str] = if untracked {
        &["status", "--porcelain"]
    } else {
        &["status", "--porcelain", "--untracked-files=no"]
    };
    !env.git(args).is_empty()
}

fn swarm_verdict(env: &Env, full: bool) -> i32 {
    let mut cmd = env.command(&env.work, &["start", "probe", "--json"]);
    if full {
        cmd.env("GIT_SWARM_FULL_STATUS", "1");
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap();
    if code == 0 {
        // Started: cancel it so the next probe starts from the same state.
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        env.sj(&["abort", "--run", j["run-id"].as_str().unwrap()])
            .code(0);
    }
    code
}

#[track_caller]
fn agree(env: &Env, what: &str) {
    let dirty = git_dirty(env, true);
    for full in [false, true] {
        let code = swarm_verdict(env, full);
        assert_eq!(
            code,
            if dirty { 3 } else { 0 },
            "{what} (full status: {full}): git says dirty={dirty}\n{}",
            env.git(&["status", "--porcelain"])
        );
    }
}

fn write(p: &Path, text: &str) {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

#[test]
fn gate_agrees_with_git_status() {
    let env = Env::new();
    let w = env.work.clone();
    write(&w.join("docs/deep/a.md"), "a\n");
    write(&w.join("docs/b.md"), "b\n");
    write(&w.join(".gitignore"), "target/\n*.log\n");
    write(&w.join("bin/run.sh"), "#!/bin/sh\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "more"]);
    agree(&env, "clean");

    // Same content, new timestamps: not a change.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(&w.join("docs/b.md"), "b\n");
    agree(&env, "touched with identical content");

    write(&w.join("docs/b.md"), "B\n");
    agree(&env, "modified, same size");
    env.git(&["checkout", "docs/b.md"]);
    agree(&env, "restored");

    write(&w.join("docs/deep/a.md"), "longer content\n");
    agree(&env, "modified in a nested dir");
    env.git(&["checkout", "docs/deep/a.md"]);

    std::fs::remove_file(w.join("docs/deep/a.md")).unwrap();
    agree(&env, "deleted file (whole dir gone)");
    env.git(&["checkout", "docs/deep/a.md"]);

    write(&w.join("target/debug/out.bin"), "x");
    write(&w.join("app.log"), "x");
    agree(&env, "only ignored files");

    write(&w.join("newdir/sub/x.txt"), "x");
    agree(&env, "untracked file deep in an untracked dir");
    std::fs::remove_dir_all(w.join("newdir")).unwrap();

    write(&w.join("onlyignored/a.log"), "x");
    agree(&env, "untracked dir holding only ignored files");
    std::fs::remove_dir_all(w.join("onlyignored")).unwrap();

    write(&w.join("docs/deep/new.md"), "x");
    agree(&env, "untracked file in a tracked dir");
    std::fs::remove_file(w.join("docs/deep/new.md")).unwrap();

    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(w.join("bin/run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    agree(&env, "executable bit changed");
    std::fs::set_permissions(w.join("bin/run.sh"), std::fs::Permissions::from_mode(0o644)).unwrap();
    agree(&env, "executable bit restored");

    std::fs::remove_file(w.join("README.md")).unwrap();
    std::os::unix::fs::symlink("docs/b.md", w.join("README.md")).unwrap();
    agree(&env, "file replaced by a symlink");
    std::fs::remove_file(w.join("README.md")).unwrap();
    env.git(&["checkout", "README.md"]);

    std::fs::remove_file(w.join("docs/b.md")).unwrap();
    std::fs::create_dir_all(w.join("docs/b.md")).unwrap();
    write(&w.join("docs/b.md/inner"), "x");
    agree(&env, "file replaced by a directory");
    std::fs::remove_dir_all(w.join("docs/b.md")).unwrap();
    env.git(&["checkout", "docs/b.md"]);

    write(&w.join("staged.txt"), "x");
    env.git(&["add", "staged.txt"]);
    agree(&env, "staged new file");
    env.git(&["rm", "-q", "--cached", "staged.txt"]);
    std::fs::remove_file(w.join("staged.txt")).unwrap();

    env.git(&["rm", "-q", "--cached", "docs/b.md"]);
    env.git(&["add", "docs/b.md"]);
    agree(
        &env,
        "re-added unchanged (cache-tree invalidated, no real change)",
    );

    env.git(&["init", "-q", "nested"]);
    agree(&env, "nested repository");
    std::fs::remove_dir_all(w.join("nested")).unwrap();
    agree(&env, "clean again");
}

#[test]
fn untracked_files_are_allowed_by_policy_but_modifications_are_not() {
    let env = Env::new();
    write(
        &env.work.join(".swarm/policies.json"),
        r#"{"git": {"allowUntrackedFiles": true}}"#,
    );
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "policy"]);
    write(&env.work.join("scratch/notes.txt"), "x");
    for full in [false, true] {
        assert_eq!(swarm_verdict(&env, full), 0);
    }
    write(&env.work.join("README.md"), "changed\n");
    assert!(git_dirty(&env, false));
    for full in [false, true] {
        assert_eq!(swarm_verdict(&env, full), 3);
    }
}
