//! The bad-input corpus: every case in tests/corpus/*.json sets up a repository, plants hostile
//! input, runs one command, and asserts the exact exit code, a message naming the problem and
//! where it is, and that `.swarm/` and git are unchanged. The cases are data; add one by adding
//! a file.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

/// RFC 7396 merge patch, plus: an object patching an array patches its elements by index.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Array(items), Value::Object(p)) => {
            for (k, v) in p {
                if let Some(t) = k.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    merge(t, v);
                }
            }
        }
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn generate(kind: &str) -> Vec<u8> {
    match kind {
        "deep-nesting" => "[".repeat(100_000).into_bytes(),
        "huge-verdict" => format!(
            "{{\"schemaVersion\": \"1.0\", \"subagent\": \"reviewer\", \"runId\": \"r\", \"handoffId\": \"h\", \"verdict\": \"{}\", \"summary\": \"s\", \"reviewedFiles\": [], \"issues\": [], \"createdAt\": \"2026-01-01T00:00:00Z\"}}",
            "x".repeat(2_000_000)
        )
        .into_bytes(),
        "oversized" => format!("{{\"summary\": \"{}\"}}", "y".repeat(17 * 1024 * 1024)).into_bytes(),
        "binary" => vec![0xff, 0xfe, 0x00, 0x81, 0x7b, 0x22, 0xc3],
        other => panic!("unknown generator {other}"),
    }
}

fn plant(dir: &Path, spec: &Value) {
    let name = spec["name"].as_str().unwrap();
    let bytes = if let Some(t) = spec["text"].as_str() {
        t.as_bytes().to_vec()
    } else if let Some(g) = spec["generate"].as_str() {
        generate(g)
    } else {
        serde_json::to_vec_pretty(&spec["json"]).unwrap()
    };
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Lays out one entry of `setup.plant` (or `setup.committed`) under the work tree: a file (`text`, `json` or
/// `generate`), a FIFO (`"fifo": true`), a directory (`"dir": true`) or a symlink
/// (`"symlink": target`). `{run}` in its path and content is the id of the run `setup.start`
/// started.
fn plant_entry(work: &Path, spec: &Value) {
    let path = work.join(spec["path"].as_str().unwrap());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    if spec["fifo"].as_bool() == Some(true) {
        let _ = std::fs::remove_file(&path);
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    } else if spec["dir"].as_bool() == Some(true) {
        std::fs::create_dir_all(&path).unwrap();
    } else if let Some(target) = spec["symlink"].as_str() {
        if path.symlink_metadata().is_ok() {
            if path.is_dir() && !path.symlink_metadata().unwrap().is_symlink() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
        std::os::unix::fs::symlink(target, &path).unwrap();
    } else {
        let name = path.file_name().unwrap().to_str().unwrap();
        let mut spec = spec.clone();
        spec["name"] = Value::String(name.to_string());
        plant(path.parent().unwrap(), &spec);
    }
}

/// Replaces `{run}` (the started run's id), `{work}` and `{root}` in every string of `v`.
fn fill(v: &Value, run: &str, env: &Env) -> Value {
    let text = serde_json::to_string(v)
        .unwrap()
        .replace("{run}", run)
        .replace("{work}", &env.work.display().to_string())
        .replace("{root}", &env.root().display().to_string());
    serde_json::from_str(&text).unwrap()
}

/// Runs the binary, killing it after `limit`: a case that hangs fails instead of hanging the
/// suite.
fn swarm_with_timeout(env: &Env, argv: &[&str], limit: std::time::Duration) -> Result<Out, String> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = env
        .command(&env.work, argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "git swarm {argv:?} did not finish within {limit:?}"
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Ok(Out {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
    })
}

fn run_case(path: &Path) -> Result<(), String> {
    let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let env = Env::new();
    let root = env.root();
    let setup = &case["setup"];
    if !setup["file"].is_null() {
        plant(&root, &setup["file"]);
    }
    if !setup["extra_file"].is_null() {
        plant(&root, &setup["extra_file"]);
    }
    if let Some(patch) = setup.get("config_patch") {
        let mut cfg = env.config();
        merge(&mut cfg, patch);
        env.set_config(&cfg);
    }
    if let Some(text) = setup["config_text"].as_str() {
        std::fs::write(env.config_path(), text).unwrap();
    }
    if let Some(text) = setup["policies_text"].as_str() {
        std::fs::write(env.work.join(".swarm/policies.json"), text).unwrap();
        env.git(&["add", ".swarm/policies.json"]);
        env.git(&["commit", "-q", "-m", "policies"]);
    }
    if let Some(git_config) = setup["git_config"].as_array() {
        for pair in git_config {
            let kv: Vec<String> = fill(pair, "", &env)
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            env.git(&["config", "--global", &kv[0], &kv[1]]);
        }
    }
    // Entries committed to the repository (a repository can commit symlinks), before a run
    // starts.
    let committed = setup["committed"].as_array();
    for entry in committed.into_iter().flatten() {
        plant_entry(&env.work, &fill(entry, "", &env));
    }
    if committed.is_some() {
        env.git(&["add", "-A"]);
        env.git(&["commit", "-q", "-m", "committed by the case"]);
    }
    let run = match setup["start"].as_str() {
        Some(task) => env.start(task),
        None => String::new(),
    };
    if let Some(patch) = setup.get("status_patch") {
        let p = env.run_dir(&run).join("run.status.json");
        let mut st = read_json(&p);
        merge(&mut st, &fill(patch, &run, &env));
        write_json(&p, &st);
    }
    for entry in setup["plant"].as_array().into_iter().flatten() {
        plant_entry(&env.work, &fill(entry, &run, &env));
    }
    if let Some(link) = setup.get("symlink").filter(|l| !l.is_null()) {
        std::os::unix::fs::symlink(
            link["target"].as_str().unwrap(),
            env.work.join(link["path"].as_str().unwrap()),
        )
        .unwrap();
    }
    let args: Vec<String> = case["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace(
                    "{file}",
                    &root
                        .join(setup["file"]["name"].as_str().unwrap_or("none"))
                        .display()
                        .to_string(),
                )
                .replace("{root}", &root.display().to_string())
                .replace("{work}", &env.work.display().to_string())
                .replace("{run}", &run)
        })
        .collect();
    let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
    argv.push("--json");
    let before = env.snapshot();
    let out = swarm_with_timeout(&env, &argv, std::time::Duration::from_secs(60))?;
    let text = format!("{}{}", out.stdout, out.stderr);
    let want = case["exit"].as_i64().unwrap() as i32;
    if out.code != want {
        return Err(format!("exit {} instead of {want}\n{text}", out.code));
    }
    if serde_json::from_str::<Value>(out.stdout.trim()).is_err() {
        return Err(format!("stdout is not one JSON object:\n{}", out.stdout));
    }
    for needle in case["expect"].as_array().unwrap() {
        let n = &needle
            .as_str()
            .unwrap()
            .replace("{run}", &run)
            .replace("{work}", &env.work.display().to_string())
            .replace("{root}", &root.display().to_string());
        if !text.contains(n.as_str()) {
            return Err(format!("the output does not mention {n:?}:\n{text}"));
        }
    }
    for secret in setup["forbid"].as_array().into_iter().flatten() {
        let s = secret.as_str().unwrap();
        if text.contains(s) {
            return Err(format!("the output shows {s:?}:\n{text}"));
        }
    }
    if case["unchanged"].as_bool().unwrap_or(true) && before != env.snapshot() {
        return Err("`.swarm/` or git changed".to_string());
    }
    // Paths that must not exist afterwards (what a write through a symlink, or a worktree
    // outside its place, would have created).
    for absent in case["absent"].as_array().into_iter().flatten() {
        let p = fill(absent, &run, &env);
        let p = Path::new(p.as_str().unwrap());
        if p.symlink_metadata().is_ok() {
            return Err(format!("{} exists:\n{text}", p.display()));
        }
    }
    if text.contains("panicked") {
        return Err(format!("panic:\n{text}"));
    }
    Ok(())
}

#[test]
fn every_corpus_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 50, "the corpus has {} cases", files.len());
    // Cases are independent: run them on a few threads.
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<Vec<std::path::PathBuf>> = (0..4)
            .map(|i| files.iter().skip(i).step_by(4).cloned().collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|p| {
                            run_case(p).err().map(|e| {
                                format!("{}: {e}", p.file_name().unwrap().to_string_lossy())
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    println!("{} corpus cases", files.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
