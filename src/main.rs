//! The `relgql` binary: parse the settings, set up logging, run the subcommand.

use clap::Parser;
use relgql::config::Cli;

/// jemalloc: its per-thread caches hand back the block freed last, still in the
/// core's cache, without a lock (the allocators compared are in bench/README.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
