//! git swarm: deterministic, crash-safe bookkeeping for planner → implementor → reviewer →
//! tester runs of AI coding agents, as a git subcommand.

pub mod agents;
pub(crate) mod cli;
pub mod commands;
pub mod config;
pub(crate) mod driver;
pub mod error;
pub mod files;
pub mod forge;
pub mod git;
pub(crate) mod hook;
pub mod machine;
pub mod schema;
pub(crate) mod store;
pub mod trust;

/// A named failpoint: compiled in only with the `failpoints` feature, where the crash tests
/// use it to kill the process at that exact point. Configured with `FAILPOINTS=<name>=return`
/// (or `<name>=N*off->return` for the N+1th hit), it aborts the process — no destructors, no
/// clean-up, exactly like `kill -9`.
#[macro_export]
macro_rules! failpoint {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        {
            fail::fail_point!($name, |_| {
                eprintln!("failpoint {} hit: aborting", $name);
                std::process::abort()
            });
        }
    };
}

/// `GIT_SWARM_TRACE=1` prints where time goes (milliseconds since the process started) on
/// stderr, like git's `GIT_TRACE_PERFORMANCE`.
pub mod trace {
    use std::sync::OnceLock;
    use std::time::Instant;

    static START: OnceLock<Option<Instant>> = OnceLock::new();

    pub fn init() {
        START.get_or_init(|| std::env::var_os("GIT_SWARM_TRACE").map(|_| Instant::now()));
    }

    pub fn mark(what: &str) {
        if let Some(Some(t)) = START.get() {
            eprintln!(
                "trace: {:>8.3} ms  {what}",
                t.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}
