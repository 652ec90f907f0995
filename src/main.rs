fn main() -> std::process::ExitCode {
    git_swarm::cli::main()
}
