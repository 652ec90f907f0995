//! The GitHub Actions workflow. Values from outside (inputs, issue text, job outputs) reach
//! scripts only through `env:`, never inside a script, so no text can become shell code.

use super::{ConfigUse, Options};

/// Where the workflow goes, relative to the repository.
pub(crate) const PATH: &str = ".github/workflows/git-swarm.yml";
/// The default install of git swarm (GitHub's runners have cargo).
pub(crate) const INSTALL: &str = "cargo install --locked git-swarm";
/// The optional secret that opens the pull request instead of GITHUB_TOKEN.
pub(crate) const PR_TOKEN: &str = "SWARM_GH_TOKEN";

const HEADER: &str = r#"# git swarm on GitHub Actions, written by 'git swarm ci github'. Yours to edit.
#
# A round: 'coordinate' starts a run for the task (or continues the run given), drives it
# with the agent CLIs until it hands out a parallel batch of workers or is ready to publish;
# 'worker' runs each worker of the batch in its own job; 'continue' dispatches this workflow
# again with the run's id for the next round; 'publish' pushes the branch and opens the pull
# request. Run state travels in the repository (refs/swarm/runs/<id>), so every job starts
# from a fresh checkout.
#
# Set up (README, "Runs on CI runners"):
#   1. Commit this file on the default branch, with an actionable .swarm/standards.md.
#   2. Add the repository secret(s)@SECRETS@.
#   3. Settings > Actions > General: allow GitHub Actions to create pull requests.
#   4. Actions > git swarm > Run workflow, with a task (or: gh workflow run @FILE@ -f task="...").
"#;

/// The whole workflow for `o`.
pub(crate) fn render(o: &Options) -> String {
    let secrets: Vec<&str> = o.agents.iter().map(|a| a.secret()).collect();
    let mut y = HEADER
        .replace(
            "@SECRETS@",
            &if secrets.is_empty() {
                " your agent CLIs need".to_string()
            } else {
                format!(" {}", secrets.join(", "))
            },
        )
        .replace("@FILE@", &o.file);
    if let Some(l) = &o.label {
        y.push_str(&format!(
            "#   Or label an issue '{l}': its title and body become the task. Label only issues whose\n#   text you would give the agents yourself.\n"
        ));
    }
    y.push_str("\nname: git swarm\n\non:\n");
    y.push_str(
        r#"  workflow_dispatch:
    inputs:
      task:
        description: What the agents should do (starts a new run)
        type: string
        required: false
      run:
        description: The id of a run to continue (set by the workflow between rounds)
        type: string
        required: false
"#,
    );
    if o.label.is_some() {
        y.push_str("  issues:\n    types: [labeled]\n");
    }
    y.push_str(
        r#"
permissions:
  contents: read

# One workflow at a time per run (a new task has no run id yet: its own group).
concurrency:
"#,
    );
    y.push_str(&format!(
        "  group: git-swarm-${{{{ inputs.run || {}github.run_id }}}}\n  cancel-in-progress: false\n",
        if o.label.is_some() {
            "github.event.issue.number || "
        } else {
            ""
        }
    ));
    y.push_str("\ndefaults:\n  run:\n    shell: bash\n");
    if let ConfigUse::Repo(rel) = &o.config {
        y.push_str(&format!(
            "\nenv:\n  # The workflow config committed in the repository.\n  GIT_SWARM_CONFIG: ${{{{ github.workspace }}}}/{rel}\n"
        ));
    }
    y.push_str("\njobs:\n");
    y.push_str(&coordinate(o));
    y.push_str(&worker(o));
    y.push_str(CONTINUE);
    y.push_str(&publish(o));
    y
}

fn coordinate(o: &Options) -> String {
    let mut y = String::from("  coordinate:\n    name: Start or continue the run\n");
    if let Some(l) = &o.label {
        let literal = l.replace('\'', "''");
        y.push_str(&format!(
            "    if: {}\n",
            super::yaml_quoted(&format!(
                "github.event_name == 'workflow_dispatch' || github.event.label.name == '{literal}'"
            ))
        ));
    }
    y.push_str(
        r#"    runs-on: ubuntu-latest
    permissions:
      contents: write
    outputs:
      run-id: ${{ steps.drive.outputs.run-id }}
      action: ${{ steps.drive.outputs.action }}
      workers: ${{ steps.drive.outputs.workers }}
"#,
    );
    y.push_str(&agent_env(o));
    y.push_str("    steps:\n");
    y.push_str(&setup_steps(o, true));
    y.push_str(
        r#"      - name: Start or continue the run, drive it
        id: drive
        env:
          TASK: ${{ inputs.task }}
          RUN: ${{ inputs.run }}
"#,
    );
    if o.label.is_some() {
        y.push_str(
            "          ISSUE_TITLE: ${{ github.event.issue.title }}\n          ISSUE_BODY: ${{ github.event.issue.body }}\n",
        );
    }
    y.push_str("        run: |\n");
    let mut script = String::from(
        r#"if [ -n "$RUN" ]; then
  git swarm resume "$RUN" --remote origin
  run="$RUN"
else
  task="$TASK"
"#,
    );
    if o.label.is_some() {
        script.push_str(
            r#"  if [ "$GITHUB_EVENT_NAME" = issues ]; then
    task="$(printf '%s\n\n%s' "$ISSUE_TITLE" "$ISSUE_BODY")"
  fi
"#,
        );
    }
    script.push_str(
        r#"  if [ -z "$task" ]; then
    echo "::error::no task: run the workflow with a task, or with the id of a run to continue"
    exit 1
  fi
  started=0
  git swarm start --json -- "$task" > "$RUNNER_TEMP/start.json" || started=$?
  cat "$RUNNER_TEMP/start.json"
  run="$(jq -r '."run-id" // empty' "$RUNNER_TEMP/start.json")"
  if [ -z "$run" ]; then
    exit "$(( started == 0 ? 1 : started ))"
  fi
  # From here on every transition of the run pushes its state (with a lease).
  git swarm push --run "$run" --remote origin
fi
echo "run-id=$run" >> "$GITHUB_OUTPUT"
code=0
git swarm run --run "$run" --workers-elsewhere --no-publish --json > "$RUNNER_TEMP/action.json" || code=$?
cat "$RUNNER_TEMP/action.json"
echo "action=$(jq -r '.action // empty' "$RUNNER_TEMP/action.json")" >> "$GITHUB_OUTPUT"
echo "workers=$(jq -c '[.invocations[]?.worker | select(. != null)]' "$RUNNER_TEMP/action.json")" >> "$GITHUB_OUTPUT"
# 4: escalated, 5: failed (the JSON above says why); the run's state is on the remote.
exit "$code"
"#,
    );
    y.push_str(&super::indent(&script, 10));
    y.push_str("\n\n");
    y
}

fn worker(o: &Options) -> String {
    let mut y = String::from(
        r#"  worker:
    name: Worker ${{ matrix.worker }}
    needs: coordinate
    if: needs.coordinate.outputs.action == 'invoke' && needs.coordinate.outputs.workers != '[]'
    runs-on: ubuntu-latest
    permissions:
      contents: write
    strategy:
      # Each worker records its own result; one failing does not stop the others.
      fail-fast: false
      matrix:
        worker: ${{ fromJSON(needs.coordinate.outputs.workers) }}
"#,
    );
    y.push_str(&agent_env(o));
    y.push_str("    steps:\n");
    y.push_str(&setup_steps(o, true));
    y.push_str(
        r#"      - name: Run the worker
        env:
          RUN: ${{ needs.coordinate.outputs.run-id }}
          WORKER: ${{ matrix.worker }}
        run: git swarm work --run "$RUN" --worker "$WORKER" --remote origin

"#,
    );
    y
}

const CONTINUE: &str = r#"  continue:
    name: Start the next round
    # Only when every worker succeeded: a failed worker stops the rounds (see its log; then
    # run this workflow with the run's id to go on).
    needs: [coordinate, worker]
    if: needs.coordinate.outputs.action == 'invoke'
    runs-on: ubuntu-latest
    permissions:
      actions: write
    steps:
      - name: Dispatch this workflow for the run
        env:
          GH_TOKEN: ${{ github.token }}
          RUN: ${{ needs.coordinate.outputs.run-id }}
        run: |
          workflow="${GITHUB_WORKFLOW_REF%@*}"
          gh workflow run "${workflow##*/}" --repo "$GITHUB_REPOSITORY" --ref "$GITHUB_REF_NAME" -f run="$RUN"

"#;

fn publish(o: &Options) -> String {
    let mut y = format!(
        r#"  publish:
    name: Publish
    needs: coordinate
    if: needs.coordinate.outputs.action == 'publish'
    runs-on: ubuntu-latest
    permissions:
      contents: write
      pull-requests: write
    steps:
{}"#,
        setup_steps(o, false)
    );
    y.push_str(&format!(
        r#"      - name: Push the branch, open the pull request
        env:
          # A pull request opened with GITHUB_TOKEN starts no workflow; {PR_TOKEN} (a token
          # allowed to write pull requests) makes your checks run on it.
          GH_TOKEN: ${{{{ secrets.{PR_TOKEN} || github.token }}}}
          RUN: ${{{{ needs.coordinate.outputs.run-id }}}}
        run: |
          git swarm resume "$RUN" --remote origin
          git swarm publish --run "$RUN" --json
"#
    ));
    y
}

/// The API keys the agents read, from the repository's secrets.
fn agent_env(o: &Options) -> String {
    if o.agents.is_empty() {
        return String::new();
    }
    let mut y = String::from("    env:\n");
    for a in &o.agents {
        y.push_str(&format!(
            "      {}: ${{{{ secrets.{} }}}}\n",
            a.env(),
            a.secret()
        ));
    }
    y
}

/// Checkout with the whole history, git swarm, the agent CLIs (when the job runs agents), a
/// git identity, the workflow config, and trust in the repository's commands.
fn setup_steps(o: &Options, agents: bool) -> String {
    let mut y = String::from(
        "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n",
    );
    if agents && !o.agents.is_empty() {
        y.push_str(
            "      - uses: actions/setup-node@v4\n        with:\n          node-version: 22\n",
        );
    }
    y.push_str("      - name: Install git swarm\n");
    y.push_str(&run_block(&o.install.join("\n")));
    if agents && !o.agents.is_empty() {
        let s = super::agent_installs(o);
        y.push_str("      - name: Install the agent CLI\n");
        y.push_str(&run_block(s.trim_end()));
    }
    y.push_str("      - name: Set up git swarm\n");
    let mut s = String::from(
        "git config --global user.name \"github-actions[bot]\"\ngit config --global user.email \"41898276+github-actions[bot]@users.noreply.github.com\"\n",
    );
    s.push_str(&match &o.config {
        ConfigUse::Pack(p) => format!("git swarm init --pack --exec {p}\n"),
        ConfigUse::Repo(_) => "git swarm init --pack\n".to_string(),
    });
    s.push_str(super::TRUST_COMMENT);
    s.push_str("git swarm trust\n");
    y.push_str(&run_block(s.trim_end()));
    y
}

/// `run:` with the script as a literal block.
fn run_block(script: &str) -> String {
    format!("        run: |\n{}\n", super::indent(script, 10))
}
