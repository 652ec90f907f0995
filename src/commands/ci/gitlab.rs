//! The GitLab CI pipeline. Pipeline variables reach scripts as environment variables, always
//! quoted, so no text becomes shell code; tokens are read from variables, never written out.

use super::{ConfigUse, Options};

/// The pipeline file, relative to the repository.
pub(crate) const MAIN: &str = ".gitlab-ci.yml";
/// Where the pipeline goes when the repository has a `.gitlab-ci.yml` already.
pub(crate) const INCLUDED: &str = ".gitlab/git-swarm.yml";
/// The jobs' default image: git, curl and Node.js (for the agent CLIs).
pub(crate) const IMAGE: &str = "node:22-bookworm";
/// The default install of git swarm: the image has no Rust, so rustup first.
pub(crate) const INSTALL: [&str; 2] = [
    "command -v cargo >/dev/null || curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal",
    "cargo install --locked git-swarm",
];
/// The CI/CD variable with the token that pushes and opens merge requests.
pub(crate) const PUSH_TOKEN: &str = "SWARM_PUSH_TOKEN";
/// The CI/CD variable with the pipeline trigger token.
pub(crate) const TRIGGER_TOKEN: &str = "SWARM_TRIGGER_TOKEN";
/// The stages the jobs use.
pub(crate) const STAGES: [&str; 3] = ["swarm-coordinate", "swarm-work", "swarm-next"];
/// The glab release the publish job installs.
const GLAB_VERSION: &str = "1.114.0";

const HEADER: &str = r#"# git swarm on GitLab CI, written by 'git swarm ci gitlab'. Yours to edit.
#
# A round is one pipeline: swarm-coordinate starts a run for SWARM_TASK (or continues the run
# SWARM_RUN), drives it with the agent CLIs until it hands out a parallel batch of workers or
# is ready to publish; swarm-worker runs each worker of the batch (one job per possible
# worker; those not in the batch end at once); swarm-continue triggers the next round's
# pipeline with SWARM_RUN set; swarm-publish pushes the branch and opens the merge request.
# Run state travels in the repository (refs/swarm/runs/<id>), so every job starts from a
# fresh clone.
#
# Set up (README, "Runs on CI runners"):
#   1. Commit this file with an actionable .swarm/standards.md.
#   2. Settings > CI/CD > Variables, masked:@SECRETS@
#        SWARM_PUSH_TOKEN     a project access token, role Developer, scopes api and
#                             write_repository (CI_JOB_TOKEN cannot push)
#        SWARM_TRIGGER_TOKEN  a pipeline trigger token (Settings > CI/CD > Pipeline trigger
#                             tokens)
#   3. Build > Pipelines > Run pipeline, with SWARM_TASK set to what the agents should do.
#   Your other jobs run in these pipelines too unless their rules leave them out when
#   SWARM_TASK or SWARM_RUN is set.
"#;

/// The whole pipeline for `o`.
pub(crate) fn render(o: &Options) -> String {
    let secrets: String = o
        .agents
        .iter()
        .map(|a| format!("\n#        {:<20} {}'s API key", a.secret(), a.title()))
        .collect();
    let mut y = HEADER.replace("@SECRETS@", &secrets);
    y.push_str(&format!(
        "\n# Included from another .gitlab-ci.yml that lists stages: add the last three there.\nstages: [build, test, deploy, {}]\n",
        STAGES.join(", ")
    ));
    y.push_str(
        r#"
variables:
  SWARM_TASK:
    value: ""
    description: What the agents should do (starts a new run)
  SWARM_RUN:
    value: ""
    description: The id of a run to continue (set by the pipeline between rounds)

"#,
    );
    y.push_str(&job_template(o));
    y.push_str(&setup(o));
    y.push_str(&agents(o));
    y.push_str(&coordinate(o));
    y.push_str(&worker(o));
    y.push_str(CONTINUE);
    y.push_str(&publish());
    y
}

fn job_template(o: &Options) -> String {
    let mut y = format!(
        r#".swarm-job:
  image: {}
  rules:
    - if: $SWARM_TASK || $SWARM_RUN
  interruptible: false
  variables:
    # A fresh clone with the whole history: the run's worktrees go beside it.
    GIT_STRATEGY: clone
    GIT_DEPTH: "0"
    SWARM_MAX_WORKERS: "{}"
"#,
        super::yaml_quoted(&o.image),
        o.max_workers
    );
    if let ConfigUse::Repo(rel) = &o.config {
        y.push_str(&format!(
            "    # The workflow config committed in the repository.\n    GIT_SWARM_CONFIG: $CI_PROJECT_DIR/{rel}\n"
        ));
    }
    for a in &o.agents {
        if a.env() != a.secret() {
            y.push_str(&format!("    {}: ${}\n", a.env(), a.secret()));
        }
    }
    y.push('\n');
    y
}

/// git swarm, a git identity, pushing with the project token, the workflow config, trust.
fn setup(o: &Options) -> String {
    let mut s = String::from("export PATH=\"$HOME/.cargo/bin:$PATH\"\n");
    for l in &o.install {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str(&format!(
        r#"git config --global user.name "git swarm"
git config --global user.email "git-swarm@noreply.$CI_SERVER_HOST"
# Push with the project token, read from its variable when git asks (it is never written).
git remote set-url origin "$CI_SERVER_URL/$CI_PROJECT_PATH.git"
git config --global credential.helper '!f() {{ if [ "$1" = get ]; then echo username=oauth2; echo "password=${PUSH_TOKEN}"; fi; }}; f'
if [ -n "${{CI_COMMIT_BRANCH:-}}" ]; then git checkout -B "$CI_COMMIT_BRANCH"; fi
rm -f "$CI_PROJECT_DIR/swarm.env"
{}
"#,
        match &o.config {
            ConfigUse::Pack(p) => format!("git swarm init --pack --exec {p}"),
            ConfigUse::Repo(_) => "git swarm init --pack".to_string(),
        }
    ));
    s.push_str(super::TRUST_COMMENT);
    s.push_str("git swarm trust");
    format!(
        ".swarm-setup:\n  script:\n    - |\n{}\n\n",
        super::indent(&s, 6)
    )
}

fn agents(o: &Options) -> String {
    let mut s = super::agent_installs(o);
    if s.is_empty() {
        s.push_str("echo \"install the programs your config's exec runs here\"\n");
    }
    format!(
        ".swarm-agents:\n  script:\n    - |\n{}\n\n",
        super::indent(s.trim_end(), 6)
    )
}

fn coordinate(_o: &Options) -> String {
    let script = r#"field() {
  node -e 'let v = {}; try { v = JSON.parse(require("fs").readFileSync(0, "utf8")); } catch (e) {}
    const f = process.argv[1];
    const x = f === "workers" ? (v.invocations || []).map((i) => i.worker).filter(Boolean).join(",") : v[f];
    process.stdout.write(x == null ? "" : String(x));' "$1"
}
out="${TMPDIR:-/tmp}"
if [ -n "$SWARM_RUN" ]; then
  git swarm resume "$SWARM_RUN" --remote origin
  run="$SWARM_RUN"
else
  started=0
  git swarm start --json -- "$SWARM_TASK" > "$out/swarm-start.json" || started=$?
  cat "$out/swarm-start.json"
  run="$(field run-id < "$out/swarm-start.json")"
  if [ -z "$run" ]; then
    exit "$(( started == 0 ? 1 : started ))"
  fi
  # From here on every transition of the run pushes its state (with a lease).
  git swarm push --run "$run" --remote origin
fi
code=0
git swarm run --run "$run" --workers-elsewhere --no-publish --json > "$out/swarm-action.json" || code=$?
cat "$out/swarm-action.json"
action="$(field action < "$out/swarm-action.json")"
workers="$(field workers < "$out/swarm-action.json")"
printf 'SWARM_RUN_ID=%s\nSWARM_ACTION=%s\nSWARM_WORKERS=%s\n' "$run" "$action" "$workers" > "$CI_PROJECT_DIR/swarm.env"
# 4: escalated, 5: failed (the JSON above says why); the run's state is on the remote.
if [ "$code" -ne 0 ]; then exit "$code"; fi
count="$(printf '%s' "$workers" | tr ',' '\n' | grep -c . || true)"
if [ "$count" -gt "$SWARM_MAX_WORKERS" ]; then
  echo "the batch has $count workers, swarm-worker runs $SWARM_MAX_WORKERS: raise its parallel: (and SWARM_MAX_WORKERS), then run the pipeline with SWARM_RUN=$run"
  exit 1
fi"#;
    format!(
        r#"swarm-coordinate:
  extends: .swarm-job
  stage: swarm-coordinate
  script:
    - !reference [.swarm-setup, script]
    - !reference [.swarm-agents, script]
    - |
{}
  artifacts:
    reports:
      dotenv: swarm.env

"#,
        super::indent(script, 6)
    )
}

fn worker(o: &Options) -> String {
    let parallel = if o.max_workers > 1 {
        format!("  parallel: {}\n", o.max_workers)
    } else {
        String::new()
    };
    format!(
        r#"swarm-worker:
  extends: .swarm-job
  stage: swarm-work
  needs: [swarm-coordinate]
{parallel}  script:
    - |
      worker="w${{CI_NODE_INDEX:-1}}"
      if [ "$SWARM_ACTION" != invoke ]; then echo "no batch in this round"; exit 0; fi
      case ",$SWARM_WORKERS," in
        *",$worker,"*) ;;
        *) echo "$worker is not in this batch ($SWARM_WORKERS)"; exit 0 ;;
      esac
    - !reference [.swarm-setup, script]
    - !reference [.swarm-agents, script]
    - git swarm work --run "$SWARM_RUN_ID" --worker "w${{CI_NODE_INDEX:-1}}" --remote origin

"#
    )
}

const CONTINUE: &str = r#"# Only when every worker succeeded: a failed worker stops the rounds (see its log; then run
# the pipeline with SWARM_RUN set to the run's id to go on).
swarm-continue:
  extends: .swarm-job
  stage: swarm-next
  needs: [swarm-coordinate, swarm-worker]
  variables:
    GIT_STRATEGY: none
  script:
    - |
      if [ "$SWARM_ACTION" != invoke ]; then echo "no next round (action: $SWARM_ACTION)"; exit 0; fi
      curl --fail --silent --show-error --request POST \
        --form-string "token=$SWARM_TRIGGER_TOKEN" \
        --form-string "ref=$CI_COMMIT_REF_NAME" \
        --form-string "variables[SWARM_RUN]=$SWARM_RUN_ID" \
        "$CI_API_V4_URL/projects/$CI_PROJECT_ID/trigger/pipeline" > /dev/null
      echo "started the next round of run $SWARM_RUN_ID"

"#;

fn publish() -> String {
    format!(
        r#"swarm-publish:
  extends: .swarm-job
  stage: swarm-next
  needs: [swarm-coordinate]
  variables:
    GITLAB_TOKEN: ${PUSH_TOKEN}
    GITLAB_HOST: $CI_SERVER_URL
    GLAB_VERSION: "{GLAB_VERSION}"
  script:
    - |
      if [ "$SWARM_ACTION" != publish ]; then echo "nothing to publish (action: $SWARM_ACTION)"; exit 0; fi
    - !reference [.swarm-setup, script]
    - |
      if ! command -v glab >/dev/null; then
        curl -fsSL -o /tmp/glab.tar.gz "https://gitlab.com/gitlab-org/cli/-/releases/v$GLAB_VERSION/downloads/glab_${{GLAB_VERSION}}_linux_amd64.tar.gz"
        tar -C /usr/local -xzf /tmp/glab.tar.gz bin/glab
      fi
      git config --global --add swarm.gitlabHost "$CI_SERVER_HOST"
      git swarm resume "$SWARM_RUN_ID" --remote origin
      git swarm publish --run "$SWARM_RUN_ID" --json
"#
    )
}
