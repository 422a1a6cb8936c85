//! The `linkdigest` command: the one-shot `summarize` and `extract` modes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(args.command.default_log_level());
    match cli::run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("linkdigest: {e:#}");
            ExitCode::FAILURE
        }
    }
}
