//! Crash tests with the real fault model (issue 11): Ctrl-C, a closed terminal or the OOM
//! killer take the whole process group, so the `git` child dies too — in the middle of
//! `worktree add`, `merge`, `commit`, `push`, `worktree remove` — and git leaves half-made
//! states behind (a worktree `locked initializing` holding only `.git`, a checkout without an
//! index, `index.lock`, `HEAD.lock`, `refs/heads/….lock`).
//!
//! Each sweep runs a command in a process group of its own, on a repository of a few thousand
//! files so checkouts take long enough to be interrupted, kills the group with SIGKILL at
//! points across the command's uninterrupted duration and inside every git operation it runs
//! (`tests/kill/harness.rs`), reruns the command and drives the run to its end, and checks
//! the end is exactly that of an uninterrupted run — or that the rerun refused with exit 1
//! naming what to remove. `GIT_SWARM_KILL_SWEEP=full` runs the fine sweep. (Linux: the
//! harness watches git through /proc. The test that kills at failpoints needs
//! `--features failpoints`.)
#![cfg(target_os = "linux")]

mod common;
#[path = "kill/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use common::agents::Exec;
use common::*;
use harness::{Sweep, Trial, Victims};
use serde_json::{Value, json};

/// Files in the test repository besides README.md, src/lib.rs and .swarm/standards.md.
const FILES: usize = 5000;

/// Where the tests' directories go: a tmpfs when there is one. Every attempt copies and
/// removes tens of thousands of files, several times faster there than on a disk; git's
/// checkouts of `FILES` files still take long enough to be killed half-way.
fn scratch() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && tempfile::tempdir_in(shm).is_ok() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir_in(scratch()).expect("tempdir")
}

/// Every file the base commit tracks.
fn tracked() -> usize {
    FILES + 3
}

/// A gh that behaves like the real one: the first call for a branch creates its pull request,
/// later calls answer that it exists. Each creation leaves a `fake.log.pr.<branch>` file,
/// written whole (a kill while gh runs must not leave a pull request without its URL).
const GH: &str = r#"if [ "$1" = api ]; then
  for a in "$@"; do
    case "$a" in
      graphql) sed "s|,\"REPLIES\"|$(cat "$FAKE_LOG.replies" 2>/dev/null)|" "$FAKE_LOG.follow.json"; exit 0 ;;
      repos/*/logs) echo 'error: test hello failed'; exit 0 ;;
      repos/*/replies)
        for b in "$@"; do case "$b" in body=*) m=$(printf '%s' "$b" | grep -o '<!-- swarm-reply [^ ]* [^ ]* -->') ;; esac; done
        printf ',{"databaseId": 900, "body": "%s", "author": {"login": "bot"}}' "$m" >> "$FAKE_LOG.replies"
        echo '{}'; exit 0 ;;
      repos/*/pulls/*) echo '{}'; exit 0 ;;
    esac
  done
  exit 2
fi
head=""; prev=""
for a in "$@"; do [ "$prev" = "--head" ] && head="$a"; prev="$a"; done
mark="$FAKE_LOG.pr.$(printf '%s' "$head" | tr '/' '_')"
if [ -f "$mark" ]; then
  echo "a pull request for branch \"$head\" into branch \"main\" already exists:" >&2
  cat "$mark" >&2
  exit 1
fi
n=$(ls "$FAKE_LOG".pr.* 2>/dev/null | wc -l); n=$((n + 1))
echo "https://github.com/acme/app/pull/$n" > "$mark.new" && mv "$mark.new" "$mark"
cat "$mark""#;

/// The origin answers pushes from a session of its own, as a server would: killing the
/// pushing group cuts the connection but does not kill the remote's receive-pack.
const RECEIVE_PACK: &str = "#!/bin/sh\nexec setsid git receive-pack \"$@\"\n";

/// A repository of `FILES` small files in directories, with a bare origin, generated once per
/// test and copied for every attempt.
struct Big {
    tpl: Env,
}

impl Big {
    fn new() -> Big {
        let tmp = tempdir();
        let root = tmp.path().canonicalize().unwrap();
        let tpl = Env {
            home: root.join("home"),
            work: root.join("work"),
            origin: root.join("origin.git"),
            gitconfig: root.join("gitconfig"),
            extra_env: Vec::new(),
            tmp,
        };
        std::fs::create_dir_all(&tpl.home).unwrap();
        std::fs::create_dir_all(tpl.work.join("src")).unwrap();
        std::fs::create_dir_all(tpl.work.join(".swarm")).unwrap();
        std::fs::write(
            &tpl.gitconfig,
            "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        tpl.git(&["init", "-q", "-b", "main"]);
        std::fs::write(tpl.work.join("README.md"), "# app\n").unwrap();
        std::fs::write(tpl.work.join("src/lib.rs"), "pub fn hello() {}\n").unwrap();
        std::fs::write(tpl.work.join(".swarm/standards.md"), STANDARDS).unwrap();
        for d in 0..FILES / 100 {
            let dir = tpl.work.join(format!("tree/d{d:02}"));
            std::fs::create_dir_all(&dir).unwrap();
            for f in 0..100 {
                std::fs::write(dir.join(format!("f{f:03}.txt")), format!("file {d} {f}\n"))
                    .unwrap();
            }
        }
        tpl.git(&["add", "-A"]);
        tpl.git(&["commit", "-q", "-m", "initial"]);
        tpl.git_in(&root, &["init", "-q", "--bare", "origin.git"]);
        tpl.git(&["remote", "add", "origin", tpl.origin.to_str().unwrap()]);
        tpl.git(&["push", "-q", "-u", "origin", "main"]);
        // One pack instead of thousands of loose objects: copies are quick.
        tpl.git(&["repack", "-adq"]);
        Big { tpl }
    }

    /// A fresh copy: work repository, origin, the reference pack in HOME, an origin that
    /// looks like GitHub and a gh that records pull requests.
    fn env(&self) -> Env {
        self.env_in(tempdir())
    }

    /// The same, in `tmp`.
    fn env_in(&self, tmp: tempfile::TempDir) -> Env {
        let root = tmp.path().canonicalize().unwrap();
        cp_a(&self.tpl.work, &root.join("work"));
        cp_a(&self.tpl.origin, &root.join("origin.git"));
        std::fs::copy(&self.tpl.gitconfig, root.join("gitconfig")).unwrap();
        std::fs::create_dir_all(root.join("home")).unwrap();
        let mut env = Env {
            home: root.join("home"),
            work: root.join("work"),
            origin: root.join("origin.git"),
            gitconfig: root.join("gitconfig"),
            extra_env: Vec::new(),
            tmp,
        };
        env.git(&["remote", "set-url", "origin", env.origin.to_str().unwrap()]);
        let rp = root.join("receive-pack-detached");
        std::fs::write(&rp, RECEIVE_PACK).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rp, std::fs::Permissions::from_mode(0o755)).unwrap();
        env.git(&["config", "remote.origin.receivepack", rp.to_str().unwrap()]);
        // The copy has new inodes: refresh the index once, as a user's first status would.
        env.git(&["update-index", "-q", "--refresh"]);
        env.install_reference_pack();
        env.remote_looks_like("https://github.com/acme/app.git");
        env.fake_tool("gh", GH);
        env
    }
}

/// `cp -a from to`.
fn cp_a(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(ok.success(), "cp -a {} {}", from.display(), to.display());
}

/// A state made once (a run moved on to the command under test) and copied, at the same
/// absolute paths, for every attempt: worktrees, run files and git's records name them.
struct Prepared<T> {
    slot: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
    data: T,
}

impl<T: Clone> Prepared<T> {
    fn new(big: &Big, setup: impl FnOnce(Env) -> (Env, T)) -> Prepared<T> {
        let slot = tempdir();
        let (env, data) = setup(big.env_in(Self::place(slot.path())));
        cp_a(&env.root(), &slot.path().join("snapshot"));
        let extra_env = env.extra_env.clone();
        drop(env);
        Prepared {
            slot,
            extra_env,
            data,
        }
    }

    /// The directory every attempt runs in (removed when its Env is dropped).
    fn place(slot: &Path) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("attempt")
            .rand_bytes(0)
            .tempdir_in(slot)
            .expect("the attempt's directory is free")
    }

    /// A copy of the state for one attempt.
    fn attempt(&self) -> (Env, T) {
        let tmp = Self::place(self.slot.path());
        let root = tmp.path().canonicalize().unwrap();
        cp_a(&self.slot.path().join("snapshot/."), &root.join("."));
        let env = Env {
            home: root.join("home"),
            work: root.join("work"),
            origin: root.join("origin.git"),
            gitconfig: root.join("gitconfig"),
            extra_env: self.extra_env.clone(),
            tmp,
        };
        (env, self.data.clone())
    }
}

// ---- checks -------------------------------------------------------------------------------

/// Runs `git swarm <args> --json` again, as a user would after the crash: again while it
/// refuses because a lock is busy (exit 3), at most four times.
fn rerun(env: &Env, args: &[&str]) -> Out {
    let mut a = args.to_vec();
    a.push("--json");
    let mut out = env.swarm(&a);
    for _ in 0..3 {
        if out.code != 3 || !format!("{}{}", out.stdout, out.stderr).contains("lock") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        out = env.swarm(&a);
    }
    out
}

/// What a crash may have left that a refusal could name: directories beside the work
/// repository, git lock files, worktree records, swarm branches.
fn leftovers(env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(env.root()).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("work") && name != "work" {
            out.push(e.path().display().to_string());
        }
    }
    let git_dir = env.work.join(".git");
    out.extend(
        harness::lock_files(&git_dir)
            .iter()
            .map(|p| p.display().to_string()),
    );
    if let Ok(d) = std::fs::read_dir(git_dir.join("worktrees")) {
        out.extend(d.flatten().map(|e| e.path().display().to_string()));
    }
    out.extend(swarm_branches(env));
    out
}

/// Exit 1 is allowed where a half-made state cannot be proven the tool's own, if the error's
/// hint names exactly what to remove. Returns a note then; `None` for any other exit.
fn refusal(env: &Env, out: &Out) -> Option<String> {
    if out.code != 1 {
        return None;
    }
    let j: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "exit 1 without a JSON error:\n{}\n{}",
            out.stdout, out.stderr
        )
    });
    let msg = j["error"]["message"].as_str().unwrap_or_default();
    let hint = j["error"]["hint"].as_str().unwrap_or_default();
    // The hint says what to do: it names what to remove (a message naming a path only as
    // where a command failed does not count).
    // A git lock file left blocks whatever else is named: then the lock must be named.
    let locks: Vec<String> = harness::lock_files(&env.work.join(".git"))
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let left = if locks.is_empty() {
        leftovers(env)
    } else {
        locks
    };
    let named: Vec<&String> = left.iter().filter(|l| hint.contains(l.as_str())).collect();
    assert!(
        !named.is_empty(),
        "the rerun exited 1 without naming what to remove\nmessage: {msg}\nhint: {hint}\nleft: {left:?}"
    );
    Some(format!(
        "exit 1 naming {}: {}",
        named
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        msg.lines().next().unwrap_or_default()
    ))
}

fn swarm_branches(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = env
        .git(&[
            "for-each-ref",
            "--format=%(refname:short)",
            "refs/heads/swarm/",
        ])
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[track_caller]
fn assert_branches(env: &Env, want: &[&str]) {
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(swarm_branches(env), want, "swarm branches");
}

/// `(path, porcelain block)` of every linked worktree git knows.
fn linked_worktrees(env: &Env) -> Vec<(PathBuf, String)> {
    env.git(&["worktree", "list", "--porcelain"])
        .split("\n\n")
        .skip(1)
        .filter_map(|b| {
            let p = b.lines().find_map(|l| l.strip_prefix("worktree "))?;
            Some((PathBuf::from(p), b.to_string()))
        })
        .collect()
}

/// A worktree git and the run can use: `.git`, an index, every file, a clean status, the
/// branch checked out, neither locked nor prunable.
#[track_caller]
fn assert_whole_worktree(env: &Env, wt: &Path, branch: &str, extra: &[&str]) {
    assert!(
        wt.join(".git").is_file(),
        "{} is not a worktree (no .git file)",
        wt.display()
    );
    let index = env.git_in(
        wt,
        &["rev-parse", "--path-format=absolute", "--git-path", "index"],
    );
    assert!(Path::new(&index).is_file(), "{}: no index", wt.display());
    let status = env.git_in(wt, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(
        status.is_empty(),
        "git status in {} is not clean ({} lines):\n{}",
        wt.display(),
        status.lines().count(),
        harness::first_lines(&status, 5)
    );
    assert_eq!(
        env.git_in(wt, &["symbolic-ref", "--short", "HEAD"]),
        branch,
        "{}",
        wt.display()
    );
    let n = env.git_in(wt, &["ls-files"]).lines().count();
    assert_eq!(n, tracked() + extra.len(), "files in {}", wt.display());
    for f in extra {
        assert!(wt.join(f).is_file(), "{f} in {}", wt.display());
    }
    let block = linked_worktrees(env)
        .into_iter()
        .find(|(p, _)| p == wt)
        .unwrap_or_else(|| panic!("git does not list {}", wt.display()))
        .1;
    assert!(
        !block.contains("\nlocked") && !block.contains("\nprunable"),
        "{block}"
    );
}

/// Nothing orphaned: the linked worktrees are exactly `keep`, no other directory beside the
/// repository, no worktree record without one, no git lock file in the repository or the
/// origin, and the main worktree clean with its index.
#[track_caller]
fn assert_no_debris(env: &Env, keep: &[&Path]) {
    let locks: Vec<PathBuf> = harness::lock_files(&env.work.join(".git"))
        .into_iter()
        .chain(harness::lock_files(&env.origin))
        .collect();
    assert!(locks.is_empty(), "git lock files left: {locks:?}");
    let temps = tool_temp_files(env);
    assert!(
        temps.is_empty(),
        "temporary files left in the git dir: {temps:?}"
    );
    let mut listed: Vec<PathBuf> = linked_worktrees(env).into_iter().map(|w| w.0).collect();
    listed.sort();
    let mut want: Vec<PathBuf> = keep.iter().map(|p| p.to_path_buf()).collect();
    want.sort();
    assert_eq!(listed, want, "linked worktrees");
    let records: Vec<String> = std::fs::read_dir(env.work.join(".git/worktrees"))
        .map(|d| {
            d.flatten()
                .map(|e| {
                    let files: Vec<String> = std::fs::read_dir(e.path())
                        .map(|f| {
                            f.flatten()
                                .map(|f| f.file_name().to_string_lossy().into_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    format!("{} {files:?}", e.file_name().to_string_lossy())
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        records.len(),
        keep.len(),
        "records under .git/worktrees: {records:?}"
    );
    let mut beside: Vec<PathBuf> = std::fs::read_dir(env.root())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("work") && n != "work")
        })
        .collect();
    beside.sort();
    assert_eq!(beside, want, "directories beside the repository");
    assert!(env.work.join(".git/index").is_file(), "the main index");
    assert_eq!(env.git(&["status", "--porcelain"]), "", "the main worktree");
}

/// The tool's temporary files in the git dirs (`swarm-index.*`, its copies of an index).
fn tool_temp_files(env: &Env) -> Vec<PathBuf> {
    let git_dir = env.work.join(".git");
    let mut dirs = vec![git_dir.clone()];
    if let Ok(d) = std::fs::read_dir(git_dir.join("worktrees")) {
        dirs.extend(d.flatten().map(|e| e.path()));
    }
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|d| d.flatten().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("swarm-index."))
        })
        .collect()
}

/// The tip of `branch` on the origin.
fn on_origin(env: &Env, branch: &str) -> Option<String> {
    let out = Command::new("git")
        .args(["--git-dir", env.origin.to_str().unwrap()])
        .args([
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// How many pull requests the fake gh created.
fn prs(env: &Env) -> usize {
    std::fs::read_dir(env.root())
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("fake.log.pr.") && !n.ends_with(".new")
        })
        .count()
}

/// The run completed: its tested tip is on the origin with every file and `extra`, with a
/// pull request recorded.
#[track_caller]
fn assert_published(env: &Env, id: &str, branch: &str, extra: &[&str]) {
    let st = env.status(id);
    assert_eq!(st["outcome"], "completed", "{st:#}");
    assert!(
        st["prUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://github.com/acme/app/pull/")),
        "{st:#}"
    );
    let tip = env.git(&["rev-parse", branch]);
    assert_eq!(
        on_origin(env, branch).as_deref(),
        Some(tip.as_str()),
        "the tested tip is on the origin"
    );
    assert_eq!(
        env.git(&["rev-parse", &format!("{tip}^{{tree}}")]),
        st["swarm"]["tested"]["tree"].as_str().unwrap_or_default(),
        "what shipped is what was tested"
    );
    let files = env.git_in(&env.origin, &["ls-tree", "-r", "--name-only", &tip]);
    assert_eq!(
        files.lines().count(),
        tracked() + extra.len(),
        "files pushed"
    );
    for f in extra {
        assert!(files.lines().any(|l| l == *f), "{f} pushed");
    }
}

/// Plays reviewer and tester, then publishes; the run must complete.
fn review_test_publish(env: &Env, id: &str) {
    play_reviewer(env, id, "approved");
    assert_eq!(
        env.sj(&["next", "--run", id]).code(0).json()["invocations"][0]["agent"],
        "tester"
    );
    play_tester(env, id, "passed");
    assert_eq!(env.sj(&["next", "--run", id]).code(0).action(), "publish");
    let out = env.sj(&["publish", "--run", id]);
    out.code(0);
    assert_eq!(out.json()["outcome"], "completed", "{}", out.stdout);
}

/// Plays every worker of the batch the run waits for: each writes its allowed file; the first
/// commits, the others leave their work for the merge to commit.
fn play_batch(env: &Env, id: &str) {
    let st = env.status(id);
    for (n, inv) in st["swarm"]["pending"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let h = read_json(Path::new(inv["handoff"].as_str().unwrap()));
        let cwd = PathBuf::from(inv["cwd"].as_str().unwrap());
        let file = h["context"]["allowedFiles"][0]
            .as_str()
            .unwrap()
            .to_string();
        std::fs::write(cwd.join(&file), format!("work of {id}\n")).unwrap();
        if n == 0 {
            env.git_in(&cwd, &["add", "-A"]);
            env.git_in(&cwd, &["commit", "-q", "-m", &file]);
        }
        write_json(
            Path::new(inv["result"].as_str().unwrap()),
            &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id,
                "handoffId": h["handoffId"], "iteration": h["iteration"], "summary": file,
                "filesChanged": [file], "checks": {}}),
        );
    }
}

/// Plays a single implementor that writes and commits `file`.
fn play_editor(env: &Env, id: &str, file: &str) {
    let h = handoff(env, id);
    assert_eq!(h["to"], "implementor", "{h}");
    let wt = PathBuf::from(h["context"]["worktreePath"].as_str().unwrap());
    std::fs::write(wt.join(file), format!("work of {id}\n")).unwrap();
    env.git_in(&wt, &["add", "-A"]);
    env.git_in(&wt, &["commit", "-q", "-m", file]);
    write_json(
        &env.run_dir(id).join("implementor.result.json"),
        &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id,
            "handoffId": h["handoffId"], "iteration": h["iteration"], "summary": file,
            "filesChanged": [file], "checks": {}}),
    );
}

fn worktree_of(env: &Env, id: &str) -> PathBuf {
    PathBuf::from(
        env.status(id)["worktreePath"]
            .as_str()
            .expect("worktreePath"),
    )
}

struct Case {
    env: Env,
    id: String,
}

fn swarm_cmd(env: &Env, args: &[&str]) -> Command {
    env.command(&env.work, args)
}

// ---- start and next: the run's worktree ---------------------------------------------------

#[test]
fn start_killed_anywhere_leaves_a_clean_tree_and_a_usable_run() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| (env, String::new()));
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["start", "Add a greeting", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let env = &c.env;
        assert_eq!(env.git(&["status", "--porcelain"]), "", "the tree");
        // The only lock a killed start may leave is its state ref's (the first record moves
        // it), which the run's next command removes.
        let locks = harness::lock_files(&env.work.join(".git"));
        assert!(
            locks
                .iter()
                .all(|l| l.parent() == Some(&env.work.join(".git/refs/swarm/runs"))),
            "git lock files left: {locks:?}"
        );
        // A run whose status was written can go on.
        for e in std::fs::read_dir(env.work.join(".swarm/runs"))
            .map(|d| d.flatten().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let id = e.file_name().to_string_lossy().into_owned();
            if !id.starts_with('.') && e.path().join("run.status.json").exists() {
                let out = rerun(env, &["next", "--run", &id]);
                out.code(0);
                assert_eq!(out.json()["invocations"][0]["agent"], "planner");
                assert_run_files_valid(env, &id);
                env.sj(&["abort", "--run", &id]).code(0);
            }
        }
        let locks = harness::lock_files(&env.work.join(".git"));
        assert!(locks.is_empty(), "git lock files left: {locks:?}");
        env.sj(&["list"]).code(0);
        // Starting again works, and its run creates a whole worktree.
        let id = env.start("Add a greeting");
        play_planner(env, &id, &simple_plan(&id));
        env.sj(&["next", "--run", &id]).code(0);
        assert_whole_worktree(env, &worktree_of(env, &id), "swarm/add-greeting", &[]);
        assert_run_files_valid(env, &id);
        None
    };
    Sweep {
        name: "start",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

#[test]
fn next_creating_the_worktree_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        let id = env.start("Add a greeting");
        play_planner(&env, &id, &simple_plan(&id));
        (env, id)
    });
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["next", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["next"]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        let j = out.json();
        assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");
        let st = env.status(id);
        assert_eq!(st["swarm"]["seq"], 2, "exactly one transition");
        assert_eq!(st["branch"], "swarm/add-greeting");
        let wt = env.root().join("work-swarm-add-greeting");
        assert_eq!(worktree_of(env, id), wt);
        assert_whole_worktree(env, &wt, "swarm/add-greeting", &[]);
        assert_branches(env, &["swarm/add-greeting"]);
        assert_no_debris(env, &[&wt]);
        assert_run_files_valid(env, id);
        // And the run goes on to its end.
        play_implementor(env, id, "completed");
        assert_eq!(
            env.sj(&["next"]).code(0).json()["invocations"][0]["agent"],
            "reviewer"
        );
        review_test_publish(env, id);
        assert_published(env, id, "swarm/add-greeting", &[]);
        assert_eq!(prs(env), 1, "one pull request");
        assert_branches(env, &["swarm/add-greeting"]);
        assert_no_debris(env, &[]);
        assert_run_files_valid(env, id);
        None
    };
    Sweep {
        name: "next (worktree add)",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

// ---- next: a parallel batch, fanned out and merged ----------------------------------------

/// A run planned with two independent tasks: its implementor step fans out to two workers.
fn batch_setup(env: Env) -> (Env, String) {
    let id = env.start("Two files");
    play_planner(
        &env,
        &id,
        &plan(
            &id,
            "two",
            vec![task("a", &["a.txt"], &[]), task("b", &["b.txt"], &[])],
        ),
    );
    (env, id)
}

/// After the batch's merge: the run's worktree holds both workers' files, the worker's
/// worktree and branch are gone, and the run goes on to its end.
fn check_merged_and_finish(env: &Env, id: &str) {
    let wt = env.root().join("work-swarm-two");
    assert_whole_worktree(env, &wt, "swarm/two", &["a.txt", "b.txt"]);
    assert_branches(env, &["swarm/two"]);
    assert_no_debris(env, &[&wt]);
    let events = std::fs::read_to_string(env.run_dir(id).join("events.jsonl")).unwrap();
    assert_eq!(events.matches("\"BATCH_MERGED\"").count(), 1, "{events}");
    assert_run_files_valid(env, id);
    review_test_publish(env, id);
    assert_published(env, id, "swarm/two", &["a.txt", "b.txt"]);
    assert_eq!(prs(env), 1, "one pull request");
    assert_branches(env, &["swarm/two"]);
    assert_no_debris(env, &[]);
    assert_run_files_valid(env, id);
}

#[test]
fn a_batch_fan_out_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, batch_setup);
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["next", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["next"]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        let j = out.json();
        let inv = j["invocations"].as_array().cloned().unwrap_or_default();
        assert_eq!(inv.len(), 2, "two workers: {j}");
        let wt = env.root().join("work-swarm-two");
        let w2 = env.root().join("work-swarm-two--w2");
        let cwds: Vec<&str> = inv.iter().filter_map(|i| i["cwd"].as_str()).collect();
        assert_eq!(
            cwds,
            [wt.to_str().unwrap(), w2.to_str().unwrap()],
            "worker places"
        );
        assert_whole_worktree(env, &wt, "swarm/two", &[]);
        assert_whole_worktree(env, &w2, "swarm/two--w2", &[]);
        assert_branches(env, &["swarm/two", "swarm/two--w2"]);
        assert_no_debris(env, &[&wt, &w2]);
        assert_run_files_valid(env, id);
        play_batch(env, id);
        let out = env.sj(&["next"]);
        out.code(0);
        assert_eq!(
            out.json()["invocations"][0]["agent"],
            "reviewer",
            "{}",
            out.stdout
        );
        check_merged_and_finish(env, id);
        None
    };
    Sweep {
        name: "next (batch fan-out)",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

#[test]
fn a_batch_merge_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        let (env, id) = batch_setup(env);
        env.sj(&["next"]).code(0);
        play_batch(&env, &id);
        (env, id)
    });
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["next", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["next"]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        assert_eq!(
            out.json()["invocations"][0]["agent"],
            "reviewer",
            "{}",
            out.stdout
        );
        check_merged_and_finish(env, id);
        None
    };
    Sweep {
        name: "next (batch merge)",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

// ---- publish, abort, gc --------------------------------------------------------------------

#[test]
fn publish_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        let id = env.start("Add a greeting");
        play_planner(
            &env,
            &id,
            &plan(
                &id,
                "add-greeting",
                vec![task("t1", &["src/lib.rs", "src/extra.rs"], &[])],
            ),
        );
        env.sj(&["next"]).code(0);
        play_implementor(&env, &id, "completed");
        // A leftover the tester saw and nobody committed: publish commits it.
        std::fs::write(
            worktree_of(&env, &id).join("src/extra.rs"),
            "pub fn extra() {}\n",
        )
        .unwrap();
        env.sj(&["next"]).code(0);
        play_reviewer(&env, &id, "approved");
        env.sj(&["next"]).code(0);
        play_tester(&env, &id, "passed");
        assert_eq!(env.sj(&["next"]).action(), "publish");
        (env, id)
    });
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["publish", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["publish", "--run", id]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        assert_published(env, id, "swarm/add-greeting", &["src/extra.rs"]);
        assert_eq!(
            env.git(&["rev-list", "--count", "main..swarm/add-greeting"]),
            "2",
            "one implementor commit, one leftover commit"
        );
        assert_eq!(prs(env), 1, "one pull request");
        assert_branches(env, &["swarm/add-greeting"]);
        assert_no_debris(env, &[]);
        assert_run_files_valid(env, id);
        None
    };
    Sweep {
        name: "publish",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

#[test]
fn abort_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        let id = env.start("Add a greeting");
        play_planner(&env, &id, &simple_plan(&id));
        env.sj(&["next"]).code(0);
        (env, id)
    });
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["abort", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["abort", "--run", id]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        let st = env.status(id);
        assert_eq!(st["outcome"], "canceled", "{st:#}");
        // Nothing was lost (clean, no commits beyond the base): the worktree goes, the
        // branch stays.
        assert!(
            !env.root().join("work-swarm-add-greeting").exists(),
            "the worktree is removed; the rerun said: {}",
            out.stdout
        );
        assert_branches(env, &["swarm/add-greeting"]);
        assert_no_debris(env, &[]);
        assert_run_files_valid(env, id);
        None
    };
    Sweep {
        name: "abort",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

#[test]
fn gc_apply_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        // A running run (kept), a stray clean worktree on a merged swarm branch and a merged
        // swarm branch without one (both removed).
        let id = env.start("Add a greeting");
        play_planner(&env, &id, &simple_plan(&id));
        env.sj(&["next"]).code(0);
        let stray = env.root().join("work-swarm-stray");
        env.git(&[
            "worktree",
            "add",
            "-q",
            stray.to_str().unwrap(),
            "-b",
            "swarm/stray",
        ]);
        env.git(&["branch", "swarm/old"]);
        (env, id)
    });
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["gc", "--apply", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["gc", "--apply"]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        let wt = env.root().join("work-swarm-add-greeting");
        assert!(
            !env.root().join("work-swarm-stray").exists(),
            "the stray worktree is removed; the rerun said: {}",
            out.stdout
        );
        assert_branches(env, &["swarm/add-greeting"]);
        assert_whole_worktree(env, &wt, "swarm/add-greeting", &[]);
        assert_no_debris(env, &[&wt]);
        assert_run_files_valid(env, id);
        // The running run goes on.
        play_implementor(env, id, "completed");
        assert_eq!(
            env.sj(&["next"]).code(0).json()["invocations"][0]["agent"],
            "reviewer"
        );
        None
    };
    // gc's `git config --remove-section` writes too (a kill there leaves `config.lock`).
    let interesting = |phase: &str| harness::writes(phase) || phase == "git config";
    Sweep {
        name: "gc --apply",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &interesting,
        failpoints: &[],
        timed: true,
    }
    .run();
}

// ---- run (exec mode) ----------------------------------------------------------------------

/// Fake agents for every role, through an exec template; the plan has two independent
/// tasks, so the run fans out to two workers and merges them.
fn exec_setup(env: Env) -> (Env, PathBuf) {
    let agent = env.root().join("fake-agent.sh");
    std::fs::write(&agent, common::agents::AGENT).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let x = Exec {
        env,
        agent: agent.clone(),
    };
    x.configure(
        vec![task("a", &["a.txt"], &[]), task("b", &["b.txt"], &[])],
        &[],
    );
    (x.env, agent)
}

/// Reruns `git swarm run` after a kill (resuming the run if `start` got as far as its status)
/// and checks the end of an uninterrupted run.
fn check_run_end(x: &Exec) -> Option<String> {
    let env = &x.env;
    let with_status = |env: &Env| -> Vec<String> {
        std::fs::read_dir(env.work.join(".swarm/runs"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().join("run.status.json").is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let runs = with_status(env);
    assert!(runs.len() <= 1, "runs: {runs:?}");
    let out = match runs.first() {
        Some(id) => rerun(env, &["run", "--run", id]),
        None => rerun(env, &["run", "Add a greeting"]),
    };
    if let Some(note) = refusal(env, &out) {
        return Some(note);
    }
    out.code(0);
    assert_eq!(out.json()["action"], "done", "{}", out.stdout);
    let runs = with_status(env);
    assert_eq!(runs.len(), 1, "one run: {runs:?}");
    let id = &runs[0];
    assert_published(env, id, "swarm/feature", &["a.txt", "b.txt"]);
    assert_eq!(prs(env), 1, "one pull request");
    assert_branches(env, &["swarm/feature"]);
    assert_no_debris(env, &[]);
    assert_run_files_valid(env, id);
    None
}

/// Git operations of `run` worth killing inside in the coarse sweep (the agents' own git runs
/// in their process groups and is not killed with the tool's).
fn run_writes(phase: &str) -> bool {
    [
        "git worktree add",
        "git worktree remove",
        "git merge",
        "git commit",
        "git push",
    ]
    .contains(&phase)
}

#[test]
fn run_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, exec_setup);
    let prepare = || {
        let (env, agent) = state.attempt();
        Exec { env, agent }
    };
    let command = |x: &Exec| swarm_cmd(&x.env, &["run", "Add a greeting", "--json"]);
    let check = |x: &Exec, _: &Trial| check_run_end(x);
    Sweep {
        name: "run",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &run_writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

/// `run` while its planner works long enough for the spare worktrees to be made, then used for
/// the run's worktree and its worker's: killed inside every git operation that makes, moves or
/// checks out a spare (and the rest of the run), it ends as an uninterrupted run, no spare or
/// worktree left.
#[test]
fn run_with_spare_worktrees_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        let (env, agent) = exec_setup(env);
        let x = Exec { env, agent };
        x.configure(
            vec![task("a", &["a.txt"], &[]), task("b", &["b.txt"], &[])],
            &[("planner", &[("FAKE_SLEEP", "1")])],
        );
        (x.env, x.agent)
    });
    let prepare = || {
        let (env, agent) = state.attempt();
        Exec { env, agent }
    };
    let command = |x: &Exec| swarm_cmd(&x.env, &["run", "Add a greeting", "--json"]);
    let check = |x: &Exec, _: &Trial| check_run_end(x);
    Sweep {
        name: "run (spare worktrees)",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &|phase| {
            [
                "git worktree add",
                "git worktree move",
                "git branch",
                "git symbolic-ref",
                "git checkout",
                "git read-tree",
                "git update-ref",
                "git worktree remove",
            ]
            .contains(&phase)
        },
        failpoints: &[],
        timed: true,
    }
    .run();
}

/// At a failpoint the tool aborts and the harness kills at once every process it started,
/// agents included (in their own process groups): the machine going down while agents work.
#[cfg(feature = "failpoints")]
#[test]
fn run_survives_losing_its_agents_at_failpoints() {
    let big = Big::new();
    let state = Prepared::new(&big, exec_setup);
    let prepare = || {
        let (env, agent) = state.attempt();
        Exec { env, agent }
    };
    let command = |x: &Exec| swarm_cmd(&x.env, &["run", "Add a greeting", "--json"]);
    let check = |x: &Exec, _: &Trial| check_run_end(x);
    Sweep {
        name: "run (failpoints, agents killed too)",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Tree,
        interesting: &run_writes,
        failpoints: &[
            ("runner-launch-after", 0),
            ("runner-launch-after", 1),
            ("runner-launch-after", 2),
            ("runner-agent-ended", 1),
            ("worktree-add-after", 1),
            ("merge-before", 0),
            ("publish-push-after", 0),
        ],
        timed: false,
    }
    .run();
}

// ---- concurrency: gc beside running runs; runs named like worker branches -----------------

/// The message of a panic.
fn panic_text(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".to_string())
}

/// A gc --apply loop beside `env`'s runs until `stop`; every answer is kept.
fn gc_loop(env: &Env, stop: &AtomicBool, answers: &Mutex<Vec<Out>>) {
    while !stop.load(Ordering::SeqCst) {
        let out = env.sj(&["gc", "--apply"]);
        answers.lock().unwrap().push(out);
    }
}

/// What gc removed, and how it failed, over all its answers.
fn gc_removed(answers: &[Out]) -> (Vec<String>, Vec<String>) {
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    for a in answers {
        if a.code != 0 {
            failed.push(format!(
                "exit {}: {}",
                a.code,
                harness::first_lines(&format!("{}{}", a.stdout, a.stderr), 4)
            ));
            continue;
        }
        for i in a.json()["items"].as_array().cloned().unwrap_or_default() {
            if i["action"] == "remove" {
                removed.push(format!(
                    "{} {} ({})",
                    i["kind"].as_str().unwrap_or_default(),
                    i["target"].as_str().unwrap_or_default(),
                    i["reason"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    (removed, failed)
}

/// Drives a planned run through its implementor step(s) to the publish action, checking
/// after every `next` that its worktree (and its workers') are whole.
fn drive_to_publish(env: &Env, id: &str, name: &str, batch: bool) -> Result<(), String> {
    let next = || {
        let out = env.sj(&["next", "--run", id]);
        if out.code != 0 {
            return Err(format!(
                "next --run {id} ({name}) exited {}: {}{}",
                out.code, out.stdout, out.stderr
            ));
        }
        Ok(out.json())
    };
    let whole = |extra: &[&str]| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let wt = worktree_of(env, id);
            assert_whole_worktree(env, &wt, &format!("swarm/{name}"), extra);
        }))
        .map_err(|e| panic_text(e.as_ref()))
    };
    let j = next()?;
    whole(&[])?;
    if batch {
        let st = env.status(id);
        for inv in st["swarm"]["pending"].as_array().unwrap() {
            let cwd = PathBuf::from(inv["cwd"].as_str().unwrap());
            if !cwd.join(".git").is_file() {
                return Err(format!(
                    "{name}: the worker's worktree {} is gone",
                    cwd.display()
                ));
            }
        }
        play_batch(env, id);
        let j = next()?;
        if j["invocations"][0]["agent"] != "reviewer" {
            return Err(format!("{name}: after the batch: {j}"));
        }
        whole(&["a.txt", "b.txt"])?;
    } else {
        if j["invocations"][0]["agent"] != "implementor" {
            return Err(format!("{name}: {j}"));
        }
        play_editor(env, id, &format!("{name}.txt"));
        next()?;
        whole(&[&format!("{name}.txt")])?;
    }
    play_reviewer(env, id, "approved");
    next()?;
    play_tester(env, id, "passed");
    let j = next()?;
    if j["action"] != "publish" {
        return Err(format!("{name}: {j}"));
    }
    Ok(())
}

/// `gc --apply` in a loop while three runs (one with a parallel batch) advance, in three
/// rounds: gc never removes a worktree or branch a running run uses or is creating, and never
/// fails because of them.
#[test]
fn gc_beside_next_never_takes_what_a_run_uses() {
    let big = Big::new();
    let env = big.env();
    let mut failures = Vec::new();
    for round in 0..3 {
        let names: Vec<String> = ["one", "two", "three"]
            .iter()
            .map(|n| format!("{n}-{round}"))
            .collect();
        let ids: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let id = env.start(&format!("Run {name}"));
                let tasks = if i == 1 {
                    vec![task("a", &["a.txt"], &[]), task("b", &["b.txt"], &[])]
                } else {
                    vec![task("t1", &[&format!("{name}.txt")], &[])]
                };
                play_planner(&env, &id, &plan(&id, name, tasks));
                id
            })
            .collect();
        let stop = AtomicBool::new(false);
        let answers = Mutex::new(Vec::new());
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let gc = s.spawn(|| gc_loop(&env, &stop, &answers));
            let drivers: Vec<_> = ids
                .iter()
                .zip(&names)
                .enumerate()
                .map(|(i, (id, name))| {
                    let env = &env;
                    s.spawn(move || drive_to_publish(env, id, name, i == 1))
                })
                .collect();
            let r = drivers
                .into_iter()
                .map(|d| d.join().unwrap_or_else(|e| Err(panic_text(e.as_ref()))))
                .collect();
            stop.store(true, Ordering::SeqCst);
            gc.join().unwrap();
            r
        });
        let answers = answers.into_inner().unwrap();
        let (removed, failed) = gc_removed(&answers);
        println!(
            "round {round}: {} gc runs, removed {removed:?}, failed {failed:?}",
            answers.len()
        );
        let driven: Vec<bool> = results.iter().map(Result::is_ok).collect();
        for r in results.into_iter().filter_map(Result::err) {
            failures.push(format!("round {round}: {r}"));
        }
        let ours: Vec<&String> = removed
            .iter()
            .filter(|r| names.iter().any(|n| r.contains(n.as_str())))
            .collect();
        if !ours.is_empty() {
            failures.push(format!(
                "round {round}: gc removed what a running run uses: {ours:?}"
            ));
        }
        if !failed.is_empty() {
            failures.push(format!(
                "round {round}: gc failed beside running runs: {failed:?}"
            ));
        }
        // Every run still holds its whole worktree and its branch; no worker is left.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for (i, (id, name)) in ids.iter().zip(&names).enumerate() {
                let extra = if i == 1 {
                    vec!["a.txt".to_string(), "b.txt".to_string()]
                } else {
                    vec![format!("{name}.txt")]
                };
                let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                assert_whole_worktree(
                    &env,
                    &worktree_of(&env, id),
                    &format!("swarm/{name}"),
                    &extra,
                );
            }
            let branches = swarm_branches(&env);
            for n in &names {
                assert!(
                    branches.contains(&format!("swarm/{n}")),
                    "swarm/{n}: {branches:?}"
                );
            }
            assert!(!branches.iter().any(|b| b.contains("--w")), "{branches:?}");
        }));
        if let Err(e) = r {
            failures.push(format!("round {round}: {}", panic_text(e.as_ref())));
        }
        // The round's runs publish: their worktrees go, their branches stay (pushed).
        for (id, ok) in ids.iter().zip(&driven) {
            if *ok {
                let out = env.sj(&["publish", "--run", id]);
                if out.code != 0 {
                    failures.push(format!("round {round}: publish {id}: {}", out.stdout));
                }
            }
        }
    }
    if let Err(e) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| assert_no_debris(&env, &[])))
    {
        failures.push(format!(
            "after every run published: {}",
            panic_text(e.as_ref())
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs named like another run's worker branch: a plan named `fix--w2` (where worker 2 of run
/// `fix` would work) is sent back to its planner; a branch made by hand there stops the
/// fan-out of `fix` until removed. Then `fix-w2` beside `fix`, in both orders: nothing is
/// adopted, merged or removed across runs, and gc keeps both.
#[test]
fn runs_named_like_worker_branches_stay_apart() {
    let big = Big::new();
    let mut failures = Vec::new();
    for worker_first in [false, true] {
        let order = if worker_first {
            "fix fanned out first"
        } else {
            "fix--w2 started first"
        };
        if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            named_apart(&big, worker_first)
        })) {
            failures.push(format!("{order}: {}", panic_text(e.as_ref())));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn named_apart(big: &Big, worker_first: bool) {
    let env = big.env();
    let gc = |when: &str| {
        let out = env.sj(&["gc", "--apply"]);
        out.code(0);
        let (removed, _) = gc_removed(std::slice::from_ref(&out));
        assert!(removed.is_empty(), "gc {when}: {removed:?}");
    };
    let start_fix = || {
        let a = env.start("Two files");
        play_planner(
            &env,
            &a,
            &plan(
                &a,
                "fix",
                vec![task("a", &["a.txt"], &[]), task("b", &["b.txt"], &[])],
            ),
        );
        if !worker_first {
            // A branch someone made by hand where worker 2 of `fix` would work: the fan-out
            // stops naming it, and takes nothing over.
            env.git(&["branch", "swarm/fix--w2", "main"]);
            let tip = env.git(&["rev-parse", "swarm/fix--w2"]);
            let out = env.sj(&["next", "--run", &a]);
            out.code(1);
            let said = format!("{}{}", out.stdout, out.stderr);
            assert!(
                said.contains("swarm/fix--w2") && said.contains("git branch -D"),
                "the refusal names the branch and how to remove it: {said}"
            );
            assert_eq!(env.git(&["rev-parse", "swarm/fix--w2"]), tip);
            env.git(&["branch", "-D", "swarm/fix--w2"]);
        }
        let j = env.sj(&["next", "--run", &a]).code(0).json();
        assert_eq!(j["invocations"].as_array().map(Vec::len), Some(2), "{j}");
        a
    };
    let start_named = || {
        let b = env.start("A run named like a worker");
        // A plan may not take a worker's branch name: it is sent back to the planner.
        play_planner(
            &env,
            &b,
            &plan(&b, "fix--w2", vec![task("c", &["c.txt"], &[])]),
        );
        let j = env.sj(&["next", "--run", &b]).code(0).json();
        assert_eq!(j["invocations"][0]["agent"], "planner", "{j}");
        assert!(
            j["invocations"][0]["prompt"]
                .as_str()
                .is_some_and(|p| p.contains("parallel workers' branches")),
            "{j}"
        );
        play_planner(
            &env,
            &b,
            &plan(&b, "fix-w2", vec![task("c", &["c.txt"], &[])]),
        );
        let j = env.sj(&["next", "--run", &b]).code(0).json();
        assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");
        b
    };
    let (a, b) = if worker_first {
        let a = start_fix();
        let b = start_named();
        (a, b)
    } else {
        let b = start_named();
        play_editor(&env, &b, "c.txt");
        let a = start_fix();
        (a, b)
    };
    gc("after both fanned out");
    let b_branch = env.status(&b)["branch"].as_str().unwrap().to_string();
    let b_wt = worktree_of(&env, &b);
    let a_wt = worktree_of(&env, &a);
    let a_worker: Vec<(String, String)> = env.status(&a)["swarm"]["batch"]["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["branch"].as_str().unwrap_or_default().to_string(),
                w["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (branch, path) in &a_worker {
        assert_ne!(branch, &b_branch, "worker of fix on the other run's branch");
        assert_ne!(
            Path::new(path),
            b_wt.as_path(),
            "worker of fix in the other run's worktree"
        );
    }
    assert_ne!(b_wt, a_wt);
    if worker_first {
        play_editor(&env, &b, "c.txt");
    }
    let b_tip = env.git(&["rev-parse", &b_branch]);
    play_batch(&env, &a);
    let j = env.sj(&["next", "--run", &a]).code(0).json();
    assert_eq!(j["invocations"][0]["agent"], "reviewer", "{j}");
    gc("after fix merged its batch");
    assert_whole_worktree(&env, &a_wt, "swarm/fix", &["a.txt", "b.txt"]);
    assert!(
        !a_wt.join("c.txt").exists(),
        "nothing of the other run merged"
    );
    assert_eq!(
        env.git(&["rev-parse", &b_branch]),
        b_tip,
        "the other run's branch is untouched"
    );
    assert_eq!(
        env.git_in(&b_wt, &["rev-parse", "HEAD"]),
        b_tip,
        "the other run's worktree is untouched"
    );
    let j = env.sj(&["next", "--run", &b]).code(0).json();
    assert_eq!(j["invocations"][0]["agent"], "reviewer", "{j}");
    assert_whole_worktree(&env, &b_wt, &b_branch, &["c.txt"]);
    assert!(!b_wt.join("a.txt").exists() && !b_wt.join("b.txt").exists());
    let mut want = ["swarm/fix".to_string(), b_branch.clone()];
    want.sort();
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    assert_branches(&env, &want);
    assert_no_debris(&env, &[&a_wt, &b_wt]);
    review_test_publish(&env, &a);
    review_test_publish(&env, &b);
    assert_published(&env, &a, "swarm/fix", &["a.txt", "b.txt"]);
    assert_published(&env, &b, &b_branch, &["c.txt"]);
    assert_eq!(prs(&env), 2, "a pull request each");
    // Finished and pushed, their local branches are gc's to remove now; nothing else is.
    let out = env.sj(&["gc", "--apply"]);
    out.code(0);
    let (removed, _) = gc_removed(std::slice::from_ref(&out));
    assert!(
        removed.iter().all(|r| r.starts_with("branch ")),
        "gc after both published: {removed:?}"
    );
    assert_no_debris(&env, &[]);
    assert_run_files_valid(&env, &a);
    assert_run_files_valid(&env, &b);
}

// ---- the follow phase ----------------------------------------------------------------------

/// A published run whose pull request has a failing check and an open review comment.
fn followed(env: Env) -> (Env, String) {
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    env.sj(&["next"]).code(0);
    env.sj(&["publish"]).code(0);
    let tip = env.git(&["rev-parse", "swarm/add-greeting"]);
    let pr = serde_json::json!({"data": {"repository": {"pullRequest": {
        "state": "OPEN", "headRefOid": tip, "reviewDecision": "CHANGES_REQUESTED",
        "commits": {"nodes": [{"commit": {"statusCheckRollup": {"contexts": {"nodes": [
            {"__typename": "CheckRun", "name": "test", "status": "COMPLETED", "conclusion": "FAILURE", "databaseId": 77}
        ]}}}}]},
        "reviews": {"nodes": []},
        "reviewThreads": {"nodes": [{"id": "T", "isResolved": false, "comments": {"nodes": [
            {"databaseId": 11, "body": "please return it", "path": "src/lib.rs", "line": 1, "author": {"login": "alice"}},
            "REPLIES"
        ]}}]}
    }}}});
    std::fs::write(env.root().join("fake.log.follow.json"), pr.to_string()).unwrap();
    (env, id)
}

#[test]
fn follow_handing_out_a_fix_pass_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, followed);
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["follow", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["follow", "--run", id]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        assert_eq!(
            out.json()["invocations"][0]["agent"],
            "implementor",
            "{}",
            out.stdout
        );
        assert_eq!(
            env.status(id)["swarm"]["follow"]["rounds"],
            1,
            "one fix pass"
        );
        let wt = worktree_of(env, id);
        assert_whole_worktree(env, &wt, "swarm/add-greeting", &[]);
        assert_branches(env, &["swarm/add-greeting"]);
        assert_no_debris(env, &[&wt]);
        assert_run_files_valid(env, id);
        None
    };
    Sweep {
        name: "follow (fix pass)",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

#[test]
fn publishing_a_fix_pass_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        let (env, id) = followed(env);
        env.sj(&["follow"]).code(0);
        play_implementor(&env, &id, "completed");
        env.sj(&["next"]).code(0);
        play_reviewer(&env, &id, "approved");
        env.sj(&["next"]).code(0);
        play_tester(&env, &id, "passed");
        assert_eq!(env.sj(&["next"]).action(), "publish");
        (env, id)
    });
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["publish", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["publish", "--run", id]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        assert_published(env, id, "swarm/add-greeting", &[]);
        assert_eq!(prs(env), 1, "one pull request");
        let replies =
            std::fs::read_to_string(env.root().join("fake.log.replies")).unwrap_or_default();
        assert_eq!(
            replies
                .matches(&format!("<!-- swarm-reply {id} 11 -->"))
                .count(),
            1,
            "one reply"
        );
        let st = env.status(id);
        assert_eq!(st["swarm"]["follow"]["passes"].as_array().unwrap().len(), 1);
        assert_eq!(st["swarm"]["follow"]["replied"], serde_json::json!(["11"]));
        assert_eq!(
            env.git(&["rev-list", "--count", "main..swarm/add-greeting"]),
            "2",
            "two implementor passes, one branch"
        );
        assert_branches(env, &["swarm/add-greeting"]);
        assert_no_debris(env, &[]);
        assert_run_files_valid(env, id);
        None
    };
    Sweep {
        name: "publish (fix pass)",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

// ---- next: a batch whose merge conflicts, handed to a merge-fix pass ----------------------

#[test]
fn a_conflicting_merge_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        let mut cfg = env.config();
        cfg["parallelization"] = serde_json::json!({"enabled": true, "rules": [
            {"maxConcurrent": 2, "requireDisjointFiles": false, "respectDependencies": true}]});
        env.set_config(&cfg);
        let id = env.start("Both edit README");
        play_planner(
            &env,
            &id,
            &plan(
                &id,
                "both",
                vec![
                    task("a", &["README.md"], &[]),
                    task("b", &["README.md"], &[]),
                ],
            ),
        );
        let j = env.sj(&["next"]).json();
        for (k, inv) in j["invocations"].as_array().unwrap().iter().enumerate() {
            let cwd = PathBuf::from(inv["cwd"].as_str().unwrap());
            std::fs::write(cwd.join("README.md"), format!("# app by {k}\n")).unwrap();
            let h = read_json(Path::new(inv["handoff"].as_str().unwrap()));
            write_json(
                Path::new(inv["result"].as_str().unwrap()),
                &serde_json::json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed",
                    "runId": id, "handoffId": h["handoffId"], "iteration": 1, "summary": "s",
                    "filesChanged": ["README.md"], "checks": {}}),
            );
        }
        (env, id)
    });
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["next", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["next"]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        let j = out.json();
        assert_eq!(
            j["invocations"].as_array().unwrap().len(),
            1,
            "{}",
            out.stdout
        );
        assert_eq!(j["invocations"][0]["agent"], "implementor");
        let wt = worktree_of(env, id);
        let text = std::fs::read_to_string(wt.join("README.md")).unwrap();
        assert_eq!(text.matches("<<<<<<< ").count(), 1, "{text}");
        assert!(env.git_ok(&wt, &["rev-parse", "-q", "--verify", "MERGE_HEAD"]));
        assert_eq!(env.status(id)["swarm"]["batch"]["conflict"]["worker"], "w2");
        // Resolved, the run goes on: one merge commit, the worker gone.
        std::fs::write(wt.join("README.md"), "# app by both\n").unwrap();
        let inv = &j["invocations"][0];
        let h = read_json(Path::new(inv["handoff"].as_str().unwrap()));
        write_json(
            Path::new(inv["result"].as_str().unwrap()),
            &serde_json::json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed",
                "runId": id, "handoffId": h["handoffId"], "iteration": h["iteration"], "summary": "resolved",
                "filesChanged": ["README.md"], "checks": {}}),
        );
        let j = env.sj(&["next", "--run", id]).json();
        assert_eq!(j["invocations"][0]["agent"], "reviewer", "{j}");
        assert_eq!(
            env.git_in(&wt, &["rev-list", "--merges", "--count", "HEAD"]),
            "1"
        );
        assert_whole_worktree(env, &wt, "swarm/both", &[]);
        assert_branches(env, &["swarm/both"]);
        assert_no_debris(env, &[&wt]);
        assert_run_files_valid(env, id);
        None
    };
    Sweep {
        name: "next (conflicting merge)",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &harness::writes,
        failpoints: &[],
        timed: true,
    }
    .run();
}

// ---- runs that move between machines: push, a remote-backed step, resume ------------------

/// A second name for the origin, `shared`, that fetches and pushes straight to it (`origin`
/// looks like GitHub and only pushes there), as the remote every machine shares.
fn shared_remote(env: &Env) {
    env.git(&["remote", "add", "shared", env.origin.to_str().unwrap()]);
    let rp = env.root().join("receive-pack-detached");
    env.git(&["config", "remote.shared.receivepack", rp.to_str().unwrap()]);
}

/// The state ref on the origin, if it has one.
fn remote_state(env: &Env, id: &str) -> Option<String> {
    remote_ref(env, &format!("refs/swarm/runs/{id}"))
}

/// A ref of the origin, if it has it.
fn remote_ref(env: &Env, name: &str) -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "-q", "--verify", name])
        .current_dir(&env.origin)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn push_and_a_remote_backed_step_survive_a_group_kill() {
    let big = Big::new();
    // `push` itself, then the first step of a remote-backed run: a claim pushed before the
    // worktree is made, the new state and the run's branch pushed after.
    for (name, pushed) in [("push", false), ("next (remote-backed)", true)] {
        let state = Prepared::new(&big, |env| {
            let id = env.start("Add a greeting");
            play_planner(&env, &id, &simple_plan(&id));
            shared_remote(&env);
            if pushed {
                env.sj(&["push", "--run", &id, "--remote", "shared"])
                    .code(0);
            }
            (env, id)
        });
        let prepare = || {
            let (env, id) = state.attempt();
            Case { env, id }
        };
        let command = |c: &Case| {
            if pushed {
                swarm_cmd(&c.env, &["next", "--json"])
            } else {
                swarm_cmd(
                    &c.env,
                    &["push", "--run", &c.id, "--remote", "shared", "--json"],
                )
            }
        };
        let check = |c: &Case, _: &Trial| {
            let (env, id) = (&c.env, c.id.as_str());
            let out = if pushed {
                rerun(env, &["next"])
            } else {
                rerun(env, &["push", "--run", id, "--remote", "shared"])
            };
            if let Some(note) = refusal(env, &out) {
                return Some(note);
            }
            out.code(0);
            if !pushed {
                // Pushed once the rerun ends; the run goes on remote-backed.
                assert_eq!(
                    remote_state(env, id),
                    Some(env.git(&["rev-parse", &format!("refs/swarm/runs/{id}")])),
                    "the origin has the state"
                );
                assert_no_debris(env, &[]);
                let out = env.sj(&["next"]);
                out.code(0);
                assert_eq!(out.json()["invocations"][0]["agent"], "implementor");
            } else {
                assert_eq!(out.json()["invocations"][0]["agent"], "implementor");
                assert_eq!(env.status(id)["swarm"]["seq"], 2, "exactly one transition");
            }
            let wt = env.root().join("work-swarm-add-greeting");
            assert_whole_worktree(env, &wt, "swarm/add-greeting", &[]);
            assert_no_debris(env, &[&wt]);
            assert_run_files_valid(env, id);
            // The origin holds the state this clone recorded, and the run's branch beside it.
            let local = env.git(&["rev-parse", &format!("refs/swarm/runs/{id}")]);
            assert_eq!(remote_state(env, id), Some(local), "the origin's state");
            assert_eq!(
                remote_ref(env, &format!("refs/swarm/branches/{id}/swarm/add-greeting")),
                Some(env.git(&["rev-parse", "swarm/add-greeting"])),
                "the run's branch travels with it"
            );
            None
        };
        Sweep {
            name,
            prepare: &prepare,
            command: &command,
            check: &check,
            victims: Victims::Group,
            interesting: &|p| harness::writes(p) || p == "git fetch",
            failpoints: &[],
            timed: true,
        }
        .run();
    }
}

/// A run started and pushed on another machine (a clone beside this one), resumed here:
/// killed anywhere in the fetch, the folder written from the state, or its worktree made,
/// `resume` run again finishes it, and the run goes on here.
#[test]
fn resume_survives_a_group_kill() {
    let big = Big::new();
    let state = Prepared::new(&big, |env| {
        let first = env.root().join("first");
        env.git_in(
            &env.root(),
            &["clone", "-q", env.origin.to_str().unwrap(), "first"],
        );
        let id = env
            .swarm_in(&first, &["start", "Add a greeting", "--json"])
            .json()["run-id"]
            .as_str()
            .unwrap()
            .to_string();
        let run = first.join(".swarm/runs").join(&id);
        let plan_path = run.join("plan.json");
        write_json(&plan_path, &simple_plan(&id));
        write_json(
            &run.join("planner.result.json"),
            &serde_json::json!({"subagent": "planner", "status": "complete", "plan-id": id,
                "plan-path": plan_path.to_str().unwrap()}),
        );
        env.swarm_in(&first, &["next", "--json"]).code(0);
        env.swarm_in(&first, &["push", "--run", &id, "--json"])
            .code(0);
        shared_remote(&env);
        (env, id)
    });
    let prepare = || {
        let (env, id) = state.attempt();
        Case { env, id }
    };
    let command = |c: &Case| swarm_cmd(&c.env, &["resume", &c.id, "--remote", "shared", "--json"]);
    let check = |c: &Case, _: &Trial| {
        let (env, id) = (&c.env, c.id.as_str());
        let out = rerun(env, &["resume", id, "--remote", "shared"]);
        if let Some(note) = refusal(env, &out) {
            return Some(note);
        }
        out.code(0);
        let wt = env.root().join("work-swarm-add-greeting");
        assert_eq!(worktree_of(env, id), wt, "the path is this clone's");
        assert_whole_worktree(env, &wt, "swarm/add-greeting", &[]);
        assert_no_debris(env, &[&wt]);
        assert_run_files_valid(env, id);
        assert_eq!(
            remote_state(env, id),
            Some(env.git(&["rev-parse", &format!("refs/swarm/runs/{id}")])),
            "the state as the origin has it"
        );
        // The run goes on here, remote-backed.
        play_implementor(env, id, "completed");
        let out = env.sj(&["next"]);
        out.code(0);
        assert_eq!(
            out.json()["invocations"][0]["agent"],
            "reviewer",
            "{}",
            out.stdout
        );
        assert_eq!(
            remote_state(env, id),
            Some(env.git(&["rev-parse", &format!("refs/swarm/runs/{id}")]))
        );
        None
    };
    Sweep {
        name: "resume",
        prepare: &prepare,
        command: &command,
        check: &check,
        victims: Victims::Group,
        interesting: &|p| harness::writes(p) || p == "git fetch",
        failpoints: &[],
        timed: true,
    }
    .run();
}
