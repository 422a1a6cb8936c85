//! The `linkdigest` command: the bot (`run`) and the one-shot `summarize` and `extract` modes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // .env may set RUST_LOG, so it is read before logging starts.
    let dotenv = linkdigest::config::Config::load_dotenv();
    cli::init_logging(args.command.default_log_level());
    if let Err(e) = dotenv {
        eprintln!("linkdigest: {e}");
        return ExitCode::FAILURE;
    }
    match cli::run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("linkdigest: {e:#}");
            ExitCode::FAILURE
        }
    }
}
