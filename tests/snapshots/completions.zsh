#compdef git-swarm

autoload -U is-at-least

_git-swarm() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_git-swarm_commands" \
"*::: :->git-swarm" \
&& ret=0
    case $state in
    (git-swarm)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:git-swarm-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'--exec=[With --pack\: the config it writes launches every agent in exec mode through this built-in profile ("exec"\: PROFILE). A config that exists is kept as it is]:PROFILE:(claude codex gemini cursor-agent)' \
'*--host=[Also set up an agent host (repeatable)\: subagent definitions, a /swarm command that drives the run, and a hook that advances it when a subagent stops. Files that exist are kept]:HOST:((claude-code\:"Claude Code\: .claude/agents/, .claude/commands/swarm.md, a SubagentStop hook"
cursor\:"Cursor\: .cursor/agents/, .cursor/commands/swarm.md, a subagentStop hook"))' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--pack[Install the default agent pack under ~/.cursor/agents/]' \
'--man[Install the git-swarm(1) manual page for this user, so \`git swarm --help\` (which git turns into \`git help swarm\`) opens it]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(start)
_arguments "${_arguments_options[@]}" : \
'()--task-file=[Read the task from this file (the planner is pointed at it)]:FILE:_files' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::task -- What the agents should do:_default' \
&& ret=0
;;
(next)
_arguments "${_arguments_options[@]}" : \
'--run=[The run (default\: the only run in progress)]:ID:_default' \
'--reject=[Reject the waiting result with this feedback (a plan goes back to the planner, any other step back to its agent)]:FEEDBACK:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(publish)
_arguments "${_arguments_options[@]}" : \
'--run=[The run (default\: the only run in progress, else the most recent run if it was published)]:ID:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--draft[Open the pull request as a draft (also policies.pr.createDraft)]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(approve)
_arguments "${_arguments_options[@]}" : \
'--run=[The run (default\: the only run in progress)]:ID:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(follow)
_arguments "${_arguments_options[@]}" : \
'--run=[The run (default\: the most recent run)]:ID:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(run)
_arguments "${_arguments_options[@]}" : \
'()--task-file=[Start a new run with the task in this file]:FILE:_files' \
'(--task-file)--run=[Continue this run (default\: the only run in progress)]:ID:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--follow[After publishing, follow the pull request\: wait for its checks and reviews, and hand failures and comments back to the agents until it is green (policy follow.enabled does the same)]' \
'--workers-elsewhere[Stop when a batch of parallel workers is handed out and print it (action invoke, each invocation with its worker)\: the workers run elsewhere ('\''git swarm work --run ID --worker wN'\'' on other clones, e.g. a CI matrix); run this again to merge them and go on]' \
'--no-publish[Stop when the run is ready to publish (action publish) instead of publishing]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::task -- Start a new run with this task:_default' \
&& ret=0
;;
(push)
_arguments "${_arguments_options[@]}" : \
'--run=[The run (default\: the most recent run)]:ID:_default' \
'--remote=[The remote (default\: the one the run was pushed to or taken from, else origin)]:NAME:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(resume)
_arguments "${_arguments_options[@]}" : \
'--remote=[The remote to take it from]:NAME:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--force[Replace a copy here that has steps the remote does not have]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':id -- The run'\''s id (in full\: it names the state ref):_default' \
&& ret=0
;;
(work)
_arguments "${_arguments_options[@]}" : \
'--run=[The run'\''s id (in full)]:ID:_default' \
'--worker=[The worker (w1, w2, … as the batch names them)]:WORKER:_default' \
'--remote=[The remote that holds the run]:NAME:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(demo)
_arguments "${_arguments_options[@]}" : \
'--dir=[Where to build the demo (an empty or new directory)]:DIR:_files' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(demo-agent)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
':agent -- planner, implementor, reviewer or tester:_default' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--run=[The run (default\: the most recent run)]:ID:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(retry)
_arguments "${_arguments_options[@]}" : \
'--run=[The run (default\: the most recent run)]:ID:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(abort)
_arguments "${_arguments_options[@]}" : \
'--run=[The run (default\: the most recent run)]:ID:_default' \
'--reason=[Why the run is canceled (recorded in failure-reason)]:REASON:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
'(--schema --plan)--agent=[Validate as this agent'\''s result]:NAME:_default' \
'(--plan)--schema=[Validate against this JSON Schema file]:PATH:_files' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--plan[Validate as a plan (schema and structure)]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':file -- The JSON file to check:_files' \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(forge)
_arguments "${_arguments_options[@]}" : \
'(--url)--remote=[The remote (default\: policies.pr.remote, else origin)]:NAME:_default' \
'--url=[Judge this URL instead of a remote'\''s]:URL:_default' \
'--head=[The branch a pull request would come from]:HEAD:_default' \
'--base=[The branch it would go into]:BASE:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
'--older-than=[Run folders of runs that ended more than DAYS ago are removed (default\: policies gc.retentionDays, else 30)]:DAYS:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--apply[Remove what is listed (default\: only show it)]' \
'--include-resumable[Also remove the leftovers of failed and escalated runs (which '\''git swarm retry'\'' could otherwise resume), under the same rules]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(trust)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'(--revoke)--show[Only show the files, their commands and whether they are trusted; record nothing]' \
'(--revoke)--dry-run[Only show the files, their commands and whether they are trusted; record nothing]' \
'--revoke[Forget every trust recorded for this repository\: its commands refuse again until trusted]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(ci)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
":: :_git-swarm__subcmd__ci_commands" \
"*::: :->ci" \
&& ret=0

    case $state in
    (ci)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:git-swarm-ci-command-$line[1]:"
        case $line[1] in
            (github)
_arguments "${_arguments_options[@]}" : \
'--output=[Where to write the file ('\''-'\'' prints it instead)]:PATH:_files' \
'--agent=[The agent CLI the runners install (default\: from the config'\''s exec profile)]:CLI:((claude\:"Claude Code (@anthropic-ai/claude-code), key in ANTHROPIC_API_KEY"
codex\:"Codex (@openai/codex), key in OPENAI_API_KEY"
gemini\:"Gemini CLI (@google/gemini-cli), key in GEMINI_API_KEY"))' \
'--install=[The shell command that installs git swarm on a runner (several lines are several commands). Default\: cargo install --locked git-swarm (on GitLab, after installing Rust with rustup); a prebuilt binary saves minutes per job]:CMD:_default' \
'--label=[Also start a run when an issue gets this label; the task is the issue'\''s title and body]:NAME:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--force[Overwrite the file if it exists]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(gitlab)
_arguments "${_arguments_options[@]}" : \
'--output=[Where to write the file ('\''-'\'' prints it instead)]:PATH:_files' \
'--agent=[The agent CLI the runners install (default\: from the config'\''s exec profile)]:CLI:((claude\:"Claude Code (@anthropic-ai/claude-code), key in ANTHROPIC_API_KEY"
codex\:"Codex (@openai/codex), key in OPENAI_API_KEY"
gemini\:"Gemini CLI (@google/gemini-cli), key in GEMINI_API_KEY"))' \
'--install=[The shell command that installs git swarm on a runner (several lines are several commands). Default\: cargo install --locked git-swarm (on GitLab, after installing Rust with rustup); a prebuilt binary saves minutes per job]:CMD:_default' \
'--max-workers=[Worker jobs per pipeline (default\: the largest maxConcurrent of the config'\''s parallelization rules)]:N:_default' \
'--image=[The image the jobs run in (it needs git, curl and Node.js for the agent CLIs)]:IMAGE:_default' \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--force[Overwrite the file if it exists]' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_git-swarm__subcmd__ci__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:git-swarm-ci-help-command-$line[1]:"
        case $line[1] in
            (github)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gitlab)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(hook)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_git-swarm__subcmd__hook_commands" \
"*::: :->hook" \
&& ret=0

    case $state in
    (hook)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:git-swarm-hook-command-$line[1]:"
        case $line[1] in
            (pre-push)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
':remote -- The remote'\''s name:_default' \
'::url -- The remote'\''s URL:_default' \
&& ret=0
;;
(agent-stop)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_git-swarm__subcmd__hook__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:git-swarm-hook-help-command-$line[1]:"
        case $line[1] in
            (pre-push)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(agent-stop)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':shell:(bash zsh fish)' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this workflow config instead of ~/.cursor/agents/manager/config.json]:PATH:_files' \
'-C+[Run as if started in PATH]:PATH:_files' \
'--color=[Colour\: auto (on a terminal, unless NO_COLOR is set), always or never]:WHEN:(auto always never)' \
'--json[Print one JSON object on stdout (errors as {"error"\: {"message", "hint"}})]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_git-swarm__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:git-swarm-help-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(start)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(next)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(publish)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(approve)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(follow)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(run)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(push)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(resume)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(work)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(demo)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(demo-agent)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(retry)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(abort)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(forge)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(trust)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(ci)
_arguments "${_arguments_options[@]}" : \
":: :_git-swarm__subcmd__help__subcmd__ci_commands" \
"*::: :->ci" \
&& ret=0

    case $state in
    (ci)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:git-swarm-help-ci-command-$line[1]:"
        case $line[1] in
            (github)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gitlab)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(hook)
_arguments "${_arguments_options[@]}" : \
":: :_git-swarm__subcmd__help__subcmd__hook_commands" \
"*::: :->hook" \
&& ret=0

    case $state in
    (hook)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:git-swarm-help-hook-command-$line[1]:"
        case $line[1] in
            (pre-push)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(agent-stop)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_git-swarm_commands] )) ||
_git-swarm_commands() {
    local commands; commands=(
'init:Set up git swarm in this repository\: .swarm/, .swarm/runs/, its exclude entry, and the pre-push hook (chaining any pre-push hook already there); or, with only --pack and --man, this machine' \
'start:Start a run\: refuse a dirty tree, create the run, and return the first action' \
'next:Advance the run as far as it can without an agent, and print the next action' \
'publish:Publish a run whose last agent passed\: commit leftovers, push swarm/<name>, open the pull request with the remote'\''s tool, remove the worktree' \
'approve:Approve the gate a run waits at (policies.approval)\: the accepted plan, or publishing' \
'follow:Follow a published run'\''s pull request\: read its checks, review and comments, and answer with an action' \
'run:Exec mode\: start a run (or continue one) and drive it to its end with the agent CLIs of the workflow config'\''s exec templates\: next → launch the agents → next … → publish' \
'push:Push a run to a remote, so that it can continue on another clone' \
'resume:Take a run from a remote onto this clone and continue it here' \
'work:Run one worker of a run'\''s parallel batch on this clone (a CI job, another machine)' \
'demo:See a whole run in seconds, with simulated agents\: a throwaway repository and origin, a plan with two parallel tasks, a review rejection and its fix, passing tests, and publishing' \
'demo-agent:Plays a simulated agent (used by the demo'\''s exec templates)' \
'status:Show one run in detail\: a timeline of its steps, counters, warnings and paths' \
'list:List the runs of this repository, one line each, oldest first' \
'retry:Re-open a failed or escalated run at the step where it stopped, once the cause is fixed' \
'abort:Cancel a run (outcome canceled)' \
'validate:Validate a JSON file the way \`git swarm next\` would' \
'doctor:Check the setup\: config and where its paths resolve, schemas, standards, git, hooks, PR tools, and orphan worktrees. Exit 1 when something is broken' \
'forge:Show what publishing would use for a remote\: its host, owner and repository, the forge, the pull-request tool (and whether it is installed), and the page for a pull request by hand. Credentials in the URL are never shown' \
'gc:Find what ended runs left behind — worktrees, swarm branches, old run folders, worktrees whose removal was interrupted — and show what would be removed (the default), or remove it with --apply' \
'trust:Trust the commands this repository'\''s files make git swarm run, after reading them' \
'ci:Write a CI workflow that runs git swarm on CI runners\: start or continue a run for a task, run each worker of a parallel batch in its own job, start the next round, publish' \
'hook:What git'\''s hooks run (installed by '\''git swarm init'\'')' \
'completions:Print a shell completion script for \`git swarm <TAB>\` (and \`git-swarm <TAB>\`)' \
'man:Print the git-swarm(1) manual page (roff) — what \`git swarm --help\` opens once installed with \`git swarm init --man\`' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'git-swarm commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__abort_commands] )) ||
_git-swarm__subcmd__abort_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm abort commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__approve_commands] )) ||
_git-swarm__subcmd__approve_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm approve commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__ci_commands] )) ||
_git-swarm__subcmd__ci_commands() {
    local commands; commands=(
'github:Write .github/workflows/git-swarm.yml\: a GitHub Actions workflow, started by hand with a task (workflow_dispatch) or, with --label, by labelling an issue' \
'gitlab:Write .gitlab-ci.yml (or, when that exists, .gitlab/git-swarm.yml to include from it)\: a pipeline started with the variable SWARM_TASK, or SWARM_RUN to continue a run' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'git-swarm ci commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__ci__subcmd__github_commands] )) ||
_git-swarm__subcmd__ci__subcmd__github_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm ci github commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__ci__subcmd__gitlab_commands] )) ||
_git-swarm__subcmd__ci__subcmd__gitlab_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm ci gitlab commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__ci__subcmd__help_commands] )) ||
_git-swarm__subcmd__ci__subcmd__help_commands() {
    local commands; commands=(
'github:Write .github/workflows/git-swarm.yml\: a GitHub Actions workflow, started by hand with a task (workflow_dispatch) or, with --label, by labelling an issue' \
'gitlab:Write .gitlab-ci.yml (or, when that exists, .gitlab/git-swarm.yml to include from it)\: a pipeline started with the variable SWARM_TASK, or SWARM_RUN to continue a run' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'git-swarm ci help commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__ci__subcmd__help__subcmd__github_commands] )) ||
_git-swarm__subcmd__ci__subcmd__help__subcmd__github_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm ci help github commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__ci__subcmd__help__subcmd__gitlab_commands] )) ||
_git-swarm__subcmd__ci__subcmd__help__subcmd__gitlab_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm ci help gitlab commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__ci__subcmd__help__subcmd__help_commands] )) ||
_git-swarm__subcmd__ci__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm ci help help commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__completions_commands] )) ||
_git-swarm__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm completions commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__demo_commands] )) ||
_git-swarm__subcmd__demo_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm demo commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__demo-agent_commands] )) ||
_git-swarm__subcmd__demo-agent_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm demo-agent commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__doctor_commands] )) ||
_git-swarm__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm doctor commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__follow_commands] )) ||
_git-swarm__subcmd__follow_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm follow commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__forge_commands] )) ||
_git-swarm__subcmd__forge_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm forge commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__gc_commands] )) ||
_git-swarm__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm gc commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help_commands] )) ||
_git-swarm__subcmd__help_commands() {
    local commands; commands=(
'init:Set up git swarm in this repository\: .swarm/, .swarm/runs/, its exclude entry, and the pre-push hook (chaining any pre-push hook already there); or, with only --pack and --man, this machine' \
'start:Start a run\: refuse a dirty tree, create the run, and return the first action' \
'next:Advance the run as far as it can without an agent, and print the next action' \
'publish:Publish a run whose last agent passed\: commit leftovers, push swarm/<name>, open the pull request with the remote'\''s tool, remove the worktree' \
'approve:Approve the gate a run waits at (policies.approval)\: the accepted plan, or publishing' \
'follow:Follow a published run'\''s pull request\: read its checks, review and comments, and answer with an action' \
'run:Exec mode\: start a run (or continue one) and drive it to its end with the agent CLIs of the workflow config'\''s exec templates\: next → launch the agents → next … → publish' \
'push:Push a run to a remote, so that it can continue on another clone' \
'resume:Take a run from a remote onto this clone and continue it here' \
'work:Run one worker of a run'\''s parallel batch on this clone (a CI job, another machine)' \
'demo:See a whole run in seconds, with simulated agents\: a throwaway repository and origin, a plan with two parallel tasks, a review rejection and its fix, passing tests, and publishing' \
'demo-agent:Plays a simulated agent (used by the demo'\''s exec templates)' \
'status:Show one run in detail\: a timeline of its steps, counters, warnings and paths' \
'list:List the runs of this repository, one line each, oldest first' \
'retry:Re-open a failed or escalated run at the step where it stopped, once the cause is fixed' \
'abort:Cancel a run (outcome canceled)' \
'validate:Validate a JSON file the way \`git swarm next\` would' \
'doctor:Check the setup\: config and where its paths resolve, schemas, standards, git, hooks, PR tools, and orphan worktrees. Exit 1 when something is broken' \
'forge:Show what publishing would use for a remote\: its host, owner and repository, the forge, the pull-request tool (and whether it is installed), and the page for a pull request by hand. Credentials in the URL are never shown' \
'gc:Find what ended runs left behind — worktrees, swarm branches, old run folders, worktrees whose removal was interrupted — and show what would be removed (the default), or remove it with --apply' \
'trust:Trust the commands this repository'\''s files make git swarm run, after reading them' \
'ci:Write a CI workflow that runs git swarm on CI runners\: start or continue a run for a task, run each worker of a parallel batch in its own job, start the next round, publish' \
'hook:What git'\''s hooks run (installed by '\''git swarm init'\'')' \
'completions:Print a shell completion script for \`git swarm <TAB>\` (and \`git-swarm <TAB>\`)' \
'man:Print the git-swarm(1) manual page (roff) — what \`git swarm --help\` opens once installed with \`git swarm init --man\`' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'git-swarm help commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__abort_commands] )) ||
_git-swarm__subcmd__help__subcmd__abort_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help abort commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__approve_commands] )) ||
_git-swarm__subcmd__help__subcmd__approve_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help approve commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__ci_commands] )) ||
_git-swarm__subcmd__help__subcmd__ci_commands() {
    local commands; commands=(
'github:Write .github/workflows/git-swarm.yml\: a GitHub Actions workflow, started by hand with a task (workflow_dispatch) or, with --label, by labelling an issue' \
'gitlab:Write .gitlab-ci.yml (or, when that exists, .gitlab/git-swarm.yml to include from it)\: a pipeline started with the variable SWARM_TASK, or SWARM_RUN to continue a run' \
    )
    _describe -t commands 'git-swarm help ci commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__ci__subcmd__github_commands] )) ||
_git-swarm__subcmd__help__subcmd__ci__subcmd__github_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help ci github commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__ci__subcmd__gitlab_commands] )) ||
_git-swarm__subcmd__help__subcmd__ci__subcmd__gitlab_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help ci gitlab commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__completions_commands] )) ||
_git-swarm__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help completions commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__demo_commands] )) ||
_git-swarm__subcmd__help__subcmd__demo_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help demo commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__demo-agent_commands] )) ||
_git-swarm__subcmd__help__subcmd__demo-agent_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help demo-agent commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__doctor_commands] )) ||
_git-swarm__subcmd__help__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help doctor commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__follow_commands] )) ||
_git-swarm__subcmd__help__subcmd__follow_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help follow commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__forge_commands] )) ||
_git-swarm__subcmd__help__subcmd__forge_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help forge commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__gc_commands] )) ||
_git-swarm__subcmd__help__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help gc commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__help_commands] )) ||
_git-swarm__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help help commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__hook_commands] )) ||
_git-swarm__subcmd__help__subcmd__hook_commands() {
    local commands; commands=(
'pre-push:The pre-push check\: reads git'\''s ref lines on stdin; refuses a swarm branch whose content the tester did not pass, and new commits that add files under .swarm/runs/' \
'agent-stop:What agent hosts run when a subagent stops (installed by '\''git swarm init --host'\'')\: advances every run in progress that no '\''git swarm run'\'' drives, so a result is consumed as soon as it is written. Reads and ignores the host'\''s JSON on stdin, prints nothing (with --json, what it advanced) and always exits 0; '\''git swarm next'\'' reports problems' \
    )
    _describe -t commands 'git-swarm help hook commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__hook__subcmd__agent-stop_commands] )) ||
_git-swarm__subcmd__help__subcmd__hook__subcmd__agent-stop_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help hook agent-stop commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__hook__subcmd__pre-push_commands] )) ||
_git-swarm__subcmd__help__subcmd__hook__subcmd__pre-push_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help hook pre-push commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__init_commands] )) ||
_git-swarm__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help init commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__list_commands] )) ||
_git-swarm__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help list commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__man_commands] )) ||
_git-swarm__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help man commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__next_commands] )) ||
_git-swarm__subcmd__help__subcmd__next_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help next commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__publish_commands] )) ||
_git-swarm__subcmd__help__subcmd__publish_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help publish commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__push_commands] )) ||
_git-swarm__subcmd__help__subcmd__push_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help push commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__resume_commands] )) ||
_git-swarm__subcmd__help__subcmd__resume_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help resume commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__retry_commands] )) ||
_git-swarm__subcmd__help__subcmd__retry_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help retry commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__run_commands] )) ||
_git-swarm__subcmd__help__subcmd__run_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help run commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__start_commands] )) ||
_git-swarm__subcmd__help__subcmd__start_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help start commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__status_commands] )) ||
_git-swarm__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help status commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__trust_commands] )) ||
_git-swarm__subcmd__help__subcmd__trust_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help trust commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__validate_commands] )) ||
_git-swarm__subcmd__help__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help validate commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__help__subcmd__work_commands] )) ||
_git-swarm__subcmd__help__subcmd__work_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm help work commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__hook_commands] )) ||
_git-swarm__subcmd__hook_commands() {
    local commands; commands=(
'pre-push:The pre-push check\: reads git'\''s ref lines on stdin; refuses a swarm branch whose content the tester did not pass, and new commits that add files under .swarm/runs/' \
'agent-stop:What agent hosts run when a subagent stops (installed by '\''git swarm init --host'\'')\: advances every run in progress that no '\''git swarm run'\'' drives, so a result is consumed as soon as it is written. Reads and ignores the host'\''s JSON on stdin, prints nothing (with --json, what it advanced) and always exits 0; '\''git swarm next'\'' reports problems' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'git-swarm hook commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__hook__subcmd__agent-stop_commands] )) ||
_git-swarm__subcmd__hook__subcmd__agent-stop_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm hook agent-stop commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__hook__subcmd__help_commands] )) ||
_git-swarm__subcmd__hook__subcmd__help_commands() {
    local commands; commands=(
'pre-push:The pre-push check\: reads git'\''s ref lines on stdin; refuses a swarm branch whose content the tester did not pass, and new commits that add files under .swarm/runs/' \
'agent-stop:What agent hosts run when a subagent stops (installed by '\''git swarm init --host'\'')\: advances every run in progress that no '\''git swarm run'\'' drives, so a result is consumed as soon as it is written. Reads and ignores the host'\''s JSON on stdin, prints nothing (with --json, what it advanced) and always exits 0; '\''git swarm next'\'' reports problems' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'git-swarm hook help commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__hook__subcmd__help__subcmd__agent-stop_commands] )) ||
_git-swarm__subcmd__hook__subcmd__help__subcmd__agent-stop_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm hook help agent-stop commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__hook__subcmd__help__subcmd__help_commands] )) ||
_git-swarm__subcmd__hook__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm hook help help commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__hook__subcmd__help__subcmd__pre-push_commands] )) ||
_git-swarm__subcmd__hook__subcmd__help__subcmd__pre-push_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm hook help pre-push commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__hook__subcmd__pre-push_commands] )) ||
_git-swarm__subcmd__hook__subcmd__pre-push_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm hook pre-push commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__init_commands] )) ||
_git-swarm__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm init commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__list_commands] )) ||
_git-swarm__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm list commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__man_commands] )) ||
_git-swarm__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm man commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__next_commands] )) ||
_git-swarm__subcmd__next_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm next commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__publish_commands] )) ||
_git-swarm__subcmd__publish_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm publish commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__push_commands] )) ||
_git-swarm__subcmd__push_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm push commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__resume_commands] )) ||
_git-swarm__subcmd__resume_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm resume commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__retry_commands] )) ||
_git-swarm__subcmd__retry_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm retry commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__run_commands] )) ||
_git-swarm__subcmd__run_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm run commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__start_commands] )) ||
_git-swarm__subcmd__start_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm start commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__status_commands] )) ||
_git-swarm__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm status commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__trust_commands] )) ||
_git-swarm__subcmd__trust_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm trust commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__validate_commands] )) ||
_git-swarm__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm validate commands' commands "$@"
}
(( $+functions[_git-swarm__subcmd__work_commands] )) ||
_git-swarm__subcmd__work_commands() {
    local commands; commands=()
    _describe -t commands 'git-swarm work commands' commands "$@"
}

if [ "$funcstack[1]" = "_git-swarm" ]; then
    _git-swarm "$@"
else
    compdef _git-swarm git-swarm
fi

# zsh's git completion calls _git-swarm for "git swarm …".
