//! The `relgql` binary: parse the settings, set up logging, run the subcommand.

use clap::Parser;
use relgql::config::Cli;

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
