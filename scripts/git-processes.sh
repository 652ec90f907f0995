#!/usr/bin/env bash
# Counts the git processes each transition of a host-mode run starts (planner → implementor →
# reviewer → tester → publish), git's own children included, with strace on a 1,000-file
# repository with a bare origin. Needs strace. B= names the binary (default: the release build).
# Usage: cargo build --release && scripts/git-processes.sh
set -e
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/target/release/git-swarm}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT; export HOME=$T/home; mkdir -p $HOME
git config --global user.email a@b; git config --global user.name A; git config --global init.defaultBranch main
git init -q $T/work; cd $T/work
for d in $(seq 1 10); do mkdir -p d$d; for f in $(seq 1 100); do echo "$d $f" > d$d/f$f.txt; done; done
git add -A; git commit -qm init
git init -q --bare $T/origin.git; git remote add origin $T/origin.git; git push -q origin main
$B init --pack >/dev/null 2>&1; $B init >/dev/null
printf '# Standards\n\n- Format every change with the formatter before committing it.\n- Every behaviour change comes with a test that fails without it.\n' > .swarm/standards.md
git add .swarm/standards.md; git commit -qm std; git push -q origin main
count() { strace -f -qq -e trace=execve -o $T/trace "$@" >/dev/null 2>&1 || true; grep 'execve("[^"]*/git"' $T/trace | grep -c ' = 0$' || true; }
id=$($B start "Greet" --json | python3 -c 'import json,sys;print(json.load(sys.stdin)["run-id"])')
R=.swarm/runs/$id
cat > $R/plan.json <<P
{"id":"$id","friendly-name":"greet","goal":"Greet","description":"d","acceptance-criteria":["x"],"assumptions":[],"risks":[],"out-of-scope":[],"lanes":[{"branch-name":"greet","touch-map":[],"collision-risk":"low","test-plan-commands":["true"],"tasks":[{"task-id":"t1","description":"do it","files":["d1/f1.txt"],"dependencies":[]}]}]}
P
echo "{\"subagent\":\"planner\",\"status\":\"complete\",\"plan-id\":\"$id\",\"plan-path\":\"$R/plan.json\"}" > $R/planner.result.json
echo "planner→implementor (creates the worktree): $(count $B next --json)"
WT=../work-swarm-greet; hid() { python3 -c "import json;print(json.load(open('$R/handoff.json'))['handoffId'])"; }
echo changed >> $WT/d1/f1.txt
echo "{\"schemaVersion\":\"1.0\",\"subagent\":\"implementor\",\"status\":\"completed\",\"runId\":\"$id\",\"handoffId\":\"$(hid)\",\"iteration\":1,\"summary\":\"s\",\"filesChanged\":[\"d1/f1.txt\"],\"checks\":{}}" > $R/implementor.result.json
echo "implementor→reviewer: $(count $B next --json)"
echo "{\"schemaVersion\":\"1.0\",\"subagent\":\"reviewer\",\"runId\":\"$id\",\"handoffId\":\"$(hid)\",\"verdict\":\"approved\",\"summary\":\"s\",\"reviewedFiles\":[],\"issues\":[],\"createdAt\":\"2026-01-01T00:00:00Z\"}" > $R/reviewer.result.json
echo "reviewer→tester: $(count $B next --json)"
echo '{"subagent":"tester","status":"passed","summary":"ok"}' > $R/tester.result.json
echo "tester→publish: $(count $B next --json)"
echo "next with nothing to do: $(count $B next --json)"
echo "publish: $(count $B publish --json)"
