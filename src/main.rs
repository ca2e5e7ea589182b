//! The `relgql` binary: parse the settings, set up logging, run the subcommand.

use clap::Parser;
use relgql::config::Cli;

/// glibc's allocator spends much of a request in arena locks when both cores
/// allocate; mimalloc keeps per-thread heaps (see bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `arena_eager_commit` option (its place in v3's `mi_option_e`).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Commit arena memory as it is used, not up front: on Linux mimalloc commits whole
/// arenas eagerly, and with transparent huge pages they become resident 2 MiB at a
/// time (peak RSS under load 103 -> 75 MB at the same throughput with this off;
/// bench/README.md). The first arena is reserved at the first allocation, which the
/// standard library makes before `main`: so this runs as a constructor, earlier.
extern "C" fn set_allocator_options() {
    // SAFETY: sets a plain integer option; nothing else runs yet.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static SET_ALLOCATOR_OPTIONS: extern "C" fn() = set_allocator_options;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let telemetry = match relgql::telemetry::init(cli.settings.log_format) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("relgql: cannot set up tracing: {error:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = match relgql::commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "relgql stopped");
            std::process::ExitCode::FAILURE
        }
    };
    telemetry.shutdown();
    code
}
