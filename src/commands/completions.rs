use clap::{Args, CommandFactory, ValueEnum};
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::{Cli, Context};
use crate::error::Result;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Print a shell completion script for `git swarm <TAB>` (and `git-swarm <TAB>`).
///
/// bash: `git swarm completions bash > ~/.local/share/bash-completion/completions/git-swarm`
/// (loaded with git's own completion). zsh: write it as `_git-swarm` into a directory of your
/// `fpath`. fish: `git swarm completions fish > ~/.config/fish/completions/git-swarm.fish`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    pub shell: Shell,
}

/// The script for `shell`.
pub(crate) fn script(shell: Shell) -> String {
    let name = "git-swarm";
    let mut cmd = Cli::command().bin_name(name);
    let mut buf = Vec::new();
    match shell {
        // clap names bash functions after the binary with '-' turned into a separator it also
        // uses between subcommands; a name without '-' keeps them apart, and the script is
        // registered for git-swarm below.
        Shell::Bash => {
            let mut cmd = Cli::command().bin_name("gitswarm");
            clap_complete::generate(clap_complete::shells::Bash, &mut cmd, "gitswarm", &mut buf)
        }
        Shell::Zsh => clap_complete::generate(clap_complete::shells::Zsh, &mut cmd, name, &mut buf),
        Shell::Fish => {
            clap_complete::generate(clap_complete::shells::Fish, &mut cmd, name, &mut buf)
        }
    }
    let mut s = String::from_utf8(buf).expect("completion scripts are UTF-8");
    if let Shell::Bash = shell {
        s = s
            .lines()
            .map(|l| match l.strip_suffix(" gitswarm") {
                Some(head) if l.trim_start().starts_with("complete ") => {
                    format!("{head} git-swarm")
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        s.push('\n');
    }
    let subcommands: Vec<(String, String)> = Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .map(|c| {
            (
                c.get_name().to_string(),
                c.get_about().map(|a| a.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    match shell {
        Shell::Bash => s.push_str(
            r#"
# git's completion (git-completion.bash) calls _git_swarm for "git swarm …": complete it as
# "git-swarm …" with the function above.
_git_swarm() {
    local -a w=("${words[@]:-${COMP_WORDS[@]}}")
    local c=${cword:-$COMP_CWORD}
    local -a COMP_WORDS=(gitswarm "${w[@]:2}")
    local COMP_CWORD=$((c - 1))
    _gitswarm gitswarm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#,
        ),
        Shell::Zsh => {
            s.push_str("\n# zsh's git completion calls _git-swarm for \"git swarm …\".\n")
        }
        Shell::Fish => {
            s.push_str("\n# \"git swarm <TAB>\": the subcommands, under git's own completion.\n");
            for (name, about) in &subcommands {
                s.push_str(&format!(
                    "complete -c git -f -n '__fish_seen_subcommand_from swarm; and not __fish_seen_subcommand_from {}' -a {name} -d '{}'\n",
                    subcommands.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" "),
                    about.replace('\'', "\\'")
                ));
            }
        }
    }
    s
}

pub(crate) fn run(_ctx: &Context, args: CompletionsArgs) -> Result<Output> {
    let s = script(args.shell);
    Ok(Output::new(json!({"script": s}), s))
}

/// Print the git-swarm(1) manual page (roff) — what `git swarm --help` opens once installed
/// with `git swarm init --man`.
#[derive(Debug, Args)]
pub(crate) struct ManArgs {}

/// The manual page, generated from the command-line definitions.
pub(crate) fn man_page() -> String {
    let cmd = Cli::command().name("git-swarm");
    let mut buf = Vec::new();
    let man = clap_mangen::Man::new(cmd)
        .title("GIT-SWARM")
        .section("1")
        .manual("Git Manual");
    man.render(&mut buf)
        .expect("rendering to memory cannot fail");
    // Every command, with its full help, so `man git-swarm` documents them all.
    let mut s = String::from_utf8(buf).expect("roff is UTF-8");
    s.push_str(".SH COMMANDS\n");
    for sub in Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
    {
        s.push_str(&format!(".SS \"git swarm {}\"\n", sub.get_name()));
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        for para in about.split("\n\n") {
            s.push_str(".PP\n");
            s.push_str(&para.replace('\\', "\\\\").replace("\n.", "\n\\&."));
            s.push('\n');
        }
        for a in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let flag = match (a.get_long(), a.get_short()) {
                (Some(l), _) => format!("--{l}"),
                (None, Some(c)) => format!("-{c}"),
                _ => format!("<{}>", a.get_id().as_str().to_uppercase()),
            };
            let mut value = String::new();
            if !a.is_positional() && a.get_action().takes_values() {
                let name = a
                    .get_value_names()
                    .and_then(|n| n.first())
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| a.get_id().as_str().to_uppercase());
                value = format!(" \\fI{name}\\fR");
            }
            let mut help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if !values.is_empty() {
                help = format!("{help} (one of: {})", values.join(", "))
                    .trim_start()
                    .to_string();
            }
            s.push_str(&format!(
                ".TP\n\\fB{flag}\\fR{value}\n{}\n",
                help.replace('\\', "\\\\")
            ));
        }
    }
    // groff has no ASCII form of the ellipsis and warns about it in a C locale (where `git
    // swarm --help` may well run); three dots read the same.
    s.replace('…', "...")
}

pub(crate) fn man(_ctx: &Context, _args: ManArgs) -> Result<Output> {
    let s = man_page();
    Ok(Output::new(json!({"man": s}), s))
}
