//! The `switchyard` binary: command line, configuration, start-up and ordered shutdown.

mod config;
mod node;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Switchyard: a customer-conversation engine for contact centers.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// A configuration file (TOML). Without it, `config/switchyard.toml` is read if present.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the node: migrates the database, then serves the API, `/cable` and webhooks
    /// until SIGTERM or Ctrl-C.
    Serve,
    /// Applies pending database migrations and exits.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("switchyard: invalid configuration:");
            for problem in problems {
                eprintln!("  - {problem}");
            }
            return ExitCode::from(2);
        }
    };
    node::init_tracing(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("switchyard: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Command::Serve => runtime.block_on(node::serve(config)),
        Command::Migrate => runtime.block_on(node::migrate(config)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "switchyard stopped on an error"
            );
            eprintln!("switchyard: {error:#}");
            ExitCode::FAILURE
        }
    }
}
