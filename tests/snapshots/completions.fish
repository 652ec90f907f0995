# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_git_swarm_global_optspecs
    string join \n json config= C= color= h/help V/version
end

function __fish_git_swarm_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_git_swarm_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_git_swarm_using_subcommand
    set -l cmd (__fish_git_swarm_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c git-swarm -n "__fish_git_swarm_needs_command" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_needs_command" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_needs_command" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_needs_command" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -s V -l version -d 'Print version'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "init" -d 'Set up git swarm in this repository: .swarm/, .swarm/runs/, its exclude entry, and the pre-push hook (chaining any pre-push hook already there); or, with only --pack and --man, this machine'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "start" -d 'Start a run: refuse a dirty tree, create the run, and return the first action'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "next" -d 'Advance the run as far as it can without an agent, and print the next action'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "publish" -d 'Publish a run whose last agent passed: commit leftovers, push swarm/<name>, open the pull request with the remote\'s tool, remove the worktree'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "approve" -d 'Approve the gate a run waits at (policies.approval): the accepted plan, or publishing'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "follow" -d 'Follow a published run\'s pull request: read its checks, review and comments, and answer with an action'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "run" -d 'Exec mode: start a run (or continue one) and drive it to its end with the agent CLIs of the workflow config\'s exec templates: next → launch the agents → next … → publish'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "push" -d 'Push a run to a remote, so that it can continue on another clone'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "resume" -d 'Take a run from a remote onto this clone and continue it here'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "work" -d 'Run one worker of a run\'s parallel batch on this clone (a CI job, another machine)'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "demo" -d 'See a whole run in seconds, with simulated agents: a throwaway repository and origin, a plan with two parallel tasks, a review rejection and its fix, passing tests, and publishing'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "demo-agent" -d 'Plays a simulated agent (used by the demo\'s exec templates)'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "status" -d 'Show one run in detail: a timeline of its steps, counters, warnings and paths'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "list" -d 'List the runs of this repository, one line each, oldest first'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "retry" -d 'Re-open a failed or escalated run at the step where it stopped, once the cause is fixed'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "abort" -d 'Cancel a run (outcome canceled)'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "validate" -d 'Validate a JSON file the way `git swarm next` would'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "doctor" -d 'Check the setup: config and where its paths resolve, schemas, standards, git, hooks, PR tools, and orphan worktrees. Exit 1 when something is broken'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "forge" -d 'Show what publishing would use for a remote: its host, owner and repository, the forge, the pull-request tool (and whether it is installed), and the page for a pull request by hand. Credentials in the URL are never shown'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "gc" -d 'Find what ended runs left behind — worktrees, swarm branches, old run folders, worktrees whose removal was interrupted — and show what would be removed (the default), or remove it with --apply'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "trust" -d 'Trust the commands this repository\'s files make git swarm run, after reading them'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "ci" -d 'Write a CI workflow that runs git swarm on CI runners: start or continue a run for a task, run each worker of a parallel batch in its own job, start the next round, publish'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "hook" -d 'What git\'s hooks run (installed by \'git swarm init\')'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "completions" -d 'Print a shell completion script for `git swarm <TAB>` (and `git-swarm <TAB>`)'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "man" -d 'Print the git-swarm(1) manual page (roff) — what `git swarm --help` opens once installed with `git swarm init --man`'
complete -c git-swarm -n "__fish_git_swarm_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -l exec -d 'With --pack: the config it writes launches every agent in exec mode through this built-in profile ("exec": PROFILE). A config that exists is kept as it is' -r -f -a "claude\t''
codex\t''
gemini\t''
cursor-agent\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -l host -d 'Also set up an agent host (repeatable): subagent definitions, a /swarm command that drives the run, and a hook that advances it when a subagent stops. Files that exist are kept' -r -f -a "claude-code\t'Claude Code: .claude/agents/, .claude/commands/swarm.md, a SubagentStop hook'
cursor\t'Cursor: .cursor/agents/, .cursor/commands/swarm.md, a subagentStop hook'"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -l pack -d 'Install the default agent pack under ~/.cursor/agents/'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -l man -d 'Install the git-swarm(1) manual page for this user, so `git swarm --help` (which git turns into `git help swarm`) opens it'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand start" -l task-file -d 'Read the task from this file (the planner is pointed at it)' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand start" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand start" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand start" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand start" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand next" -l run -d 'The run (default: the only run in progress)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand next" -l reject -d 'Reject the waiting result with this feedback (a plan goes back to the planner, any other step back to its agent)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand next" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand next" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand next" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand next" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand next" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand publish" -l run -d 'The run (default: the only run in progress, else the most recent run if it was published)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand publish" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand publish" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand publish" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand publish" -l draft -d 'Open the pull request as a draft (also policies.pr.createDraft)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand publish" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand publish" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand approve" -l run -d 'The run (default: the only run in progress)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand approve" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand approve" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand approve" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand approve" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand approve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand follow" -l run -d 'The run (default: the most recent run)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand follow" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand follow" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand follow" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand follow" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand follow" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -l task-file -d 'Start a new run with the task in this file' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -l run -d 'Continue this run (default: the only run in progress)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -l follow -d 'After publishing, follow the pull request: wait for its checks and reviews, and hand failures and comments back to the agents until it is green (policy follow.enabled does the same)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -l workers-elsewhere -d 'Stop when a batch of parallel workers is handed out and print it (action invoke, each invocation with its worker): the workers run elsewhere (\'git swarm work --run ID --worker wN\' on other clones, e.g. a CI matrix); run this again to merge them and go on'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -l no-publish -d 'Stop when the run is ready to publish (action publish) instead of publishing'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand push" -l run -d 'The run (default: the most recent run)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand push" -l remote -d 'The remote (default: the one the run was pushed to or taken from, else origin)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand push" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand push" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand push" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand push" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand resume" -l remote -d 'The remote to take it from' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand resume" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand resume" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand resume" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand resume" -l force -d 'Replace a copy here that has steps the remote does not have'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand resume" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand work" -l run -d 'The run\'s id (in full)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand work" -l worker -d 'The worker (w1, w2, … as the batch names them)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand work" -l remote -d 'The remote that holds the run' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand work" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand work" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand work" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand work" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand work" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo" -l dir -d 'Where to build the demo (an empty or new directory)' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo-agent" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo-agent" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo-agent" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo-agent" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand demo-agent" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand status" -l run -d 'The run (default: the most recent run)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand status" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand status" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand status" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand status" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand status" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand list" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand list" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand list" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand list" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand list" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand retry" -l run -d 'The run (default: the most recent run)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand retry" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand retry" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand retry" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand retry" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand retry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand abort" -l run -d 'The run (default: the most recent run)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand abort" -l reason -d 'Why the run is canceled (recorded in failure-reason)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand abort" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand abort" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand abort" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand abort" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand abort" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand validate" -l agent -d 'Validate as this agent\'s result' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand validate" -l schema -d 'Validate against this JSON Schema file' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand validate" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand validate" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand validate" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand validate" -l plan -d 'Validate as a plan (schema and structure)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand validate" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand doctor" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand doctor" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand doctor" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand doctor" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -l remote -d 'The remote (default: policies.pr.remote, else origin)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -l url -d 'Judge this URL instead of a remote\'s' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -l head -d 'The branch a pull request would come from' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -l base -d 'The branch it would go into' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand forge" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand gc" -l older-than -d 'Run folders of runs that ended more than DAYS ago are removed (default: policies gc.retentionDays, else 30)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand gc" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand gc" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand gc" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand gc" -l apply -d 'Remove what is listed (default: only show it)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand gc" -l include-resumable -d 'Also remove the leftovers of failed and escalated runs (which \'git swarm retry\' could otherwise resume), under the same rules'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand gc" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand trust" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand trust" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand trust" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand trust" -l show -l dry-run -d 'Only show the files, their commands and whether they are trusted; record nothing'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand trust" -l revoke -d 'Forget every trust recorded for this repository: its commands refuse again until trusted'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand trust" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand trust" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and not __fish_seen_subcommand_from github gitlab help" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and not __fish_seen_subcommand_from github gitlab help" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and not __fish_seen_subcommand_from github gitlab help" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and not __fish_seen_subcommand_from github gitlab help" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and not __fish_seen_subcommand_from github gitlab help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and not __fish_seen_subcommand_from github gitlab help" -f -a "github" -d 'Write .github/workflows/git-swarm.yml: a GitHub Actions workflow, started by hand with a task (workflow_dispatch) or, with --label, by labelling an issue'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and not __fish_seen_subcommand_from github gitlab help" -f -a "gitlab" -d 'Write .gitlab-ci.yml (or, when that exists, .gitlab/git-swarm.yml to include from it): a pipeline started with the variable SWARM_TASK, or SWARM_RUN to continue a run'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and not __fish_seen_subcommand_from github gitlab help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -l output -d 'Where to write the file (\'-\' prints it instead)' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -l agent -d 'The agent CLI the runners install (default: from the config\'s exec profile)' -r -f -a "claude\t'Claude Code (@anthropic-ai/claude-code), key in ANTHROPIC_API_KEY'
codex\t'Codex (@openai/codex), key in OPENAI_API_KEY'
gemini\t'Gemini CLI (@google/gemini-cli), key in GEMINI_API_KEY'"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -l install -d 'The shell command that installs git swarm on a runner (several lines are several commands). Default: cargo install --locked git-swarm (on GitLab, after installing Rust with rustup); a prebuilt binary saves minutes per job' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -l label -d 'Also start a run when an issue gets this label; the task is the issue\'s title and body' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -l force -d 'Overwrite the file if it exists'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from github" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l output -d 'Where to write the file (\'-\' prints it instead)' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l agent -d 'The agent CLI the runners install (default: from the config\'s exec profile)' -r -f -a "claude\t'Claude Code (@anthropic-ai/claude-code), key in ANTHROPIC_API_KEY'
codex\t'Codex (@openai/codex), key in OPENAI_API_KEY'
gemini\t'Gemini CLI (@google/gemini-cli), key in GEMINI_API_KEY'"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l install -d 'The shell command that installs git swarm on a runner (several lines are several commands). Default: cargo install --locked git-swarm (on GitLab, after installing Rust with rustup); a prebuilt binary saves minutes per job' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l max-workers -d 'Worker jobs per pipeline (default: the largest maxConcurrent of the config\'s parallelization rules)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l image -d 'The image the jobs run in (it needs git, curl and Node.js for the agent CLIs)' -r
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l force -d 'Overwrite the file if it exists'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from gitlab" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from help" -f -a "github" -d 'Write .github/workflows/git-swarm.yml: a GitHub Actions workflow, started by hand with a task (workflow_dispatch) or, with --label, by labelling an issue'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from help" -f -a "gitlab" -d 'Write .gitlab-ci.yml (or, when that exists, .gitlab/git-swarm.yml to include from it): a pipeline started with the variable SWARM_TASK, or SWARM_RUN to continue a run'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand ci; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and not __fish_seen_subcommand_from pre-push agent-stop help" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and not __fish_seen_subcommand_from pre-push agent-stop help" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and not __fish_seen_subcommand_from pre-push agent-stop help" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and not __fish_seen_subcommand_from pre-push agent-stop help" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and not __fish_seen_subcommand_from pre-push agent-stop help" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and not __fish_seen_subcommand_from pre-push agent-stop help" -f -a "pre-push" -d 'The pre-push check: reads git\'s ref lines on stdin; refuses a swarm branch whose content the tester did not pass, and new commits that add files under .swarm/runs/'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and not __fish_seen_subcommand_from pre-push agent-stop help" -f -a "agent-stop" -d 'What agent hosts run when a subagent stops (installed by \'git swarm init --host\'): advances every run in progress that no \'git swarm run\' drives, so a result is consumed as soon as it is written. Reads and ignores the host\'s JSON on stdin, prints nothing (with --json, what it advanced) and always exits 0; \'git swarm next\' reports problems'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and not __fish_seen_subcommand_from pre-push agent-stop help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from pre-push" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from pre-push" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from pre-push" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from pre-push" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from pre-push" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from agent-stop" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from agent-stop" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from agent-stop" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from agent-stop" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from agent-stop" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "pre-push" -d 'The pre-push check: reads git\'s ref lines on stdin; refuses a swarm branch whose content the tester did not pass, and new commits that add files under .swarm/runs/'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "agent-stop" -d 'What agent hosts run when a subagent stops (installed by \'git swarm init --host\'): advances every run in progress that no \'git swarm run\' drives, so a result is consumed as soon as it is written. Reads and ignores the host\'s JSON on stdin, prints nothing (with --json, what it advanced) and always exits 0; \'git swarm next\' reports problems'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand completions" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand completions" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand completions" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand completions" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand man" -l config -d 'Use this workflow config instead of ~/.cursor/agents/manager/config.json' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand man" -s C -d 'Run as if started in PATH' -r -F
complete -c git-swarm -n "__fish_git_swarm_using_subcommand man" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c git-swarm -n "__fish_git_swarm_using_subcommand man" -l json -d 'Print one JSON object on stdout (errors as {"error": {"message", "hint"}})'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand man" -s h -l help -d 'Print help'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "init" -d 'Set up git swarm in this repository: .swarm/, .swarm/runs/, its exclude entry, and the pre-push hook (chaining any pre-push hook already there); or, with only --pack and --man, this machine'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "start" -d 'Start a run: refuse a dirty tree, create the run, and return the first action'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "next" -d 'Advance the run as far as it can without an agent, and print the next action'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "publish" -d 'Publish a run whose last agent passed: commit leftovers, push swarm/<name>, open the pull request with the remote\'s tool, remove the worktree'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "approve" -d 'Approve the gate a run waits at (policies.approval): the accepted plan, or publishing'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "follow" -d 'Follow a published run\'s pull request: read its checks, review and comments, and answer with an action'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "run" -d 'Exec mode: start a run (or continue one) and drive it to its end with the agent CLIs of the workflow config\'s exec templates: next → launch the agents → next … → publish'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "push" -d 'Push a run to a remote, so that it can continue on another clone'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "resume" -d 'Take a run from a remote onto this clone and continue it here'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "work" -d 'Run one worker of a run\'s parallel batch on this clone (a CI job, another machine)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "demo" -d 'See a whole run in seconds, with simulated agents: a throwaway repository and origin, a plan with two parallel tasks, a review rejection and its fix, passing tests, and publishing'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "demo-agent" -d 'Plays a simulated agent (used by the demo\'s exec templates)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "status" -d 'Show one run in detail: a timeline of its steps, counters, warnings and paths'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "list" -d 'List the runs of this repository, one line each, oldest first'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "retry" -d 'Re-open a failed or escalated run at the step where it stopped, once the cause is fixed'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "abort" -d 'Cancel a run (outcome canceled)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "validate" -d 'Validate a JSON file the way `git swarm next` would'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "doctor" -d 'Check the setup: config and where its paths resolve, schemas, standards, git, hooks, PR tools, and orphan worktrees. Exit 1 when something is broken'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "forge" -d 'Show what publishing would use for a remote: its host, owner and repository, the forge, the pull-request tool (and whether it is installed), and the page for a pull request by hand. Credentials in the URL are never shown'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "gc" -d 'Find what ended runs left behind — worktrees, swarm branches, old run folders, worktrees whose removal was interrupted — and show what would be removed (the default), or remove it with --apply'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "trust" -d 'Trust the commands this repository\'s files make git swarm run, after reading them'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "ci" -d 'Write a CI workflow that runs git swarm on CI runners: start or continue a run for a task, run each worker of a parallel batch in its own job, start the next round, publish'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "hook" -d 'What git\'s hooks run (installed by \'git swarm init\')'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "completions" -d 'Print a shell completion script for `git swarm <TAB>` (and `git-swarm <TAB>`)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "man" -d 'Print the git-swarm(1) manual page (roff) — what `git swarm --help` opens once installed with `git swarm init --man`'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo demo-agent status list retry abort validate doctor forge gc trust ci hook completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and __fish_seen_subcommand_from ci" -f -a "github" -d 'Write .github/workflows/git-swarm.yml: a GitHub Actions workflow, started by hand with a task (workflow_dispatch) or, with --label, by labelling an issue'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and __fish_seen_subcommand_from ci" -f -a "gitlab" -d 'Write .gitlab-ci.yml (or, when that exists, .gitlab/git-swarm.yml to include from it): a pipeline started with the variable SWARM_TASK, or SWARM_RUN to continue a run'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "pre-push" -d 'The pre-push check: reads git\'s ref lines on stdin; refuses a swarm branch whose content the tester did not pass, and new commits that add files under .swarm/runs/'
complete -c git-swarm -n "__fish_git_swarm_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "agent-stop" -d 'What agent hosts run when a subagent stops (installed by \'git swarm init --host\'): advances every run in progress that no \'git swarm run\' drives, so a result is consumed as soon as it is written. Reads and ignores the host\'s JSON on stdin, prints nothing (with --json, what it advanced) and always exits 0; \'git swarm next\' reports problems'

# "git swarm <TAB>": the subcommands, under git's own completion.
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a init -d 'Set up git swarm in this repository: .swarm/, .swarm/runs/, its exclude entry, and the pre-push hook (chaining any pre-push hook already there); or, with only --pack and --man, this machine'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a start -d 'Start a run: refuse a dirty tree, create the run, and return the first action'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a next -d 'Advance the run as far as it can without an agent, and print the next action'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a publish -d 'Publish a run whose last agent passed: commit leftovers, push swarm/<name>, open the pull request with the remote\'s tool, remove the worktree'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a approve -d 'Approve the gate a run waits at (policies.approval): the accepted plan, or publishing'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a follow -d 'Follow a published run\'s pull request: read its checks, review and comments, and answer with an action'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a run -d 'Exec mode: start a run (or continue one) and drive it to its end with the agent CLIs of the workflow config\'s exec templates: next → launch the agents → next … → publish'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a push -d 'Push a run to a remote, so that it can continue on another clone'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a resume -d 'Take a run from a remote onto this clone and continue it here'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a work -d 'Run one worker of a run\'s parallel batch on this clone (a CI job, another machine)'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a demo -d 'See a whole run in seconds, with simulated agents: a throwaway repository and origin, a plan with two parallel tasks, a review rejection and its fix, passing tests, and publishing'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a status -d 'Show one run in detail: a timeline of its steps, counters, warnings and paths'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a list -d 'List the runs of this repository, one line each, oldest first'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a retry -d 'Re-open a failed or escalated run at the step where it stopped, once the cause is fixed'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a abort -d 'Cancel a run (outcome canceled)'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a validate -d 'Validate a JSON file the way `git swarm next` would'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a doctor -d 'Check the setup: config and where its paths resolve, schemas, standards, git, hooks, PR tools, and orphan worktrees. Exit 1 when something is broken'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a forge -d 'Show what publishing would use for a remote: its host, owner and repository, the forge, the pull-request tool (and whether it is installed), and the page for a pull request by hand. Credentials in the URL are never shown'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a gc -d 'Find what ended runs left behind — worktrees, swarm branches, old run folders, worktrees whose removal was interrupted — and show what would be removed (the default), or remove it with --apply'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a trust -d 'Trust the commands this repository\'s files make git swarm run, after reading them'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a ci -d 'Write a CI workflow that runs git swarm on CI runners: start or continue a run for a task, run each worker of a parallel batch in its own job, start the next round, publish'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a hook -d 'What git\'s hooks run (installed by \'git swarm init\')'
complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from init start next publish approve follow run push resume work demo status list retry abort validate doctor forge gc trust ci hook completions' -a completions -d 'Print a shell completion script for `git swarm <TAB>` (and `git-swarm <TAB>`)'
