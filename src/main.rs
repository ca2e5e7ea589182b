//! The `relgql` binary: parse the settings, set up logging, run the subcommand.

use clap::Parser;
use relgql::config::Cli;

/// glibc's allocator spends much of a request in arena locks when both cores
/// allocate; mimalloc keeps per-thread heaps (see bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    relgql::telemetry::init(cli.settings.log_format);
    match relgql::commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "relgql stopped");
            std::process::ExitCode::FAILURE
        }
    }
}
