//! Command-line interface: argument parsing and the commands behind it.

mod batch;
mod extract;
mod input;
mod ordered;
mod run;
mod selection;
mod summarize;
mod webhook;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use linkdigest::config::Config;
use linkdigest::digest::Length;
use tracing_subscriber::EnvFilter;

/// Reads the links people share and answers with what the page says.
#[derive(Debug, Parser)]
#[command(name = "linkdigest", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Telegram bot (needs TELOXIDE_TOKEN).
    Run(RunArgs),
    /// Print the digest of a page: a URL, an HTML or text file, or `-` for stdin.
    Summarize(SummarizeArgs),
    /// Print the cleaned article text that the summarizer reads.
    Extract(ExtractArgs),
    /// Look at or remove the bot's webhook with Telegram (needs TELOXIDE_TOKEN).
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

/// What `linkdigest webhook` does.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Print the webhook Telegram has registered and its delivery state.
    Info,
    /// Remove the webhook, e.g. when every instance goes away or before polling elsewhere;
    /// updates wait at Telegram until a bot asks for them.
    Delete,
}

impl Command {
    /// The bot logs what it does; one-shot commands keep stderr quiet unless something fails.
    pub fn default_log_level(&self) -> &'static str {
        match self {
            Command::Run(_) => "info",
            Command::Summarize(_) | Command::Extract(_) | Command::Webhook(_) => "warn",
        }
    }
}

/// Options of `linkdigest run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Receive updates by webhook at this public HTTPS URL (LINKDIGEST_WEBHOOK_URL).
    #[arg(long, value_name = "URL")]
    pub webhook: Option<url::Url>,
    /// Where the webhook's web server listens (LINKDIGEST_LISTEN, default 0.0.0.0:8443).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

/// Options of `linkdigest summarize`.
#[derive(Debug, clap::Args)]
pub struct SummarizeArgs {
    /// A URL, a path to an HTML or text file, or `-` for stdin (not needed with --jsonl).
    #[arg(required_unless_present = "jsonl")]
    pub input: Option<String>,
    /// Digest length preset.
    #[arg(long, value_enum, default_value_t = LengthArg::Medium)]
    pub length: LengthArg,
    /// Print the expanded summary of the chosen length.
    #[arg(long)]
    pub expanded: bool,
    /// Exactly N sentences (overrides --length).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub sentences: Option<u16>,
    /// Print one JSON object instead of text.
    #[arg(long, conflicts_with = "jsonl")]
    pub json: bool,
    /// Batch mode: each stdin line is {"id","text"}, {"id","html","url"?} or {"id","url"}.
    #[arg(long, conflicts_with = "input")]
    pub jsonl: bool,
    /// Worker threads of the --jsonl batch mode (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
}

/// Options of `linkdigest extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// URLs or paths of HTML files (`-` for stdin).
    #[arg(required_unless_present = "jsonl")]
    pub inputs: Vec<String>,
    /// Print JSON with the metadata (one object per input, one per line).
    #[arg(long, conflicts_with = "jsonl")]
    pub json: bool,
    /// Batch mode: each stdin line is {"id","html","url"?} or {"id","url"}; each output line
    /// {"id","title","text"}, in input order.
    #[arg(long, conflicts_with = "inputs")]
    pub jsonl: bool,
    /// Worker threads of the --jsonl batch mode (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
}

/// The length presets as command-line values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LengthArg {
    /// 1-2 sentences.
    Short,
    /// 2-3 sentences.
    Medium,
    /// 4-5 sentences.
    Long,
}

impl From<LengthArg> for Length {
    fn from(arg: LengthArg) -> Self {
        match arg {
            LengthArg::Short => Length::Short,
            LengthArg::Medium => Length::Medium,
            LengthArg::Long => Length::Long,
        }
    }
}

/// Sets up `tracing` on stderr; `RUST_LOG` overrides the default level. Without it, the
/// HTML parser's own warnings ("foster parenting not implemented" on ordinary pages) are
/// kept out: they say nothing a user can act on.
pub fn init_logging(default_level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},html5ever=error")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Runs the chosen command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_env().context("invalid settings")?;
    match cli.command {
        Command::Run(args) => run::run(&config, args).await,
        Command::Summarize(args) => summarize::run(&config, args).await,
        Command::Extract(args) => extract::run(&config, args).await,
        Command::Webhook(command) => webhook::run(&config, command).await,
    }
}
