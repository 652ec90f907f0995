//! Links the binary as a non-PIE executable on Linux: the dynamic loader then has no
//! relative relocations to apply at start-up, which saves about half a millisecond on every
//! call (git swarm runs once per step and inside git's pre-push hook, so start-up is its
//! hot path; see BENCHMARKS.md). Only executables are affected, never libraries.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if os == "linux"
        && (arch == "x86_64" || arch == "aarch64")
        && std::env::var_os("GIT_SWARM_PIE").is_none()
    {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
