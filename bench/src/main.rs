//! `switchyard-bench`: the load generator and the baseline server used to measure Switchyard.
//!
//! Three subcommands:
//!
//! - `hello` serves a fixed "Hello, world!" over plain hyper HTTP/1. It does no work at all,
//!   so what it sustains is the ceiling any HTTP server can reach on this machine with this
//!   load generator.
//! - `http` hammers one URL with GET requests; pointed at `hello` it measures that ceiling.
//! - `webhooks` posts signed WhatsApp Cloud text-message webhooks at a running Switchyard,
//!   the way Meta would, and measures how fast they are acknowledged.
//!
//! Both load modes share one closed-loop driver (see `load.rs`), so their figures compare.

mod hello;
mod load;
mod whatsapp;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::load::{LoadPlan, Report};
use crate::whatsapp::WebhookSource;

/// Command line of `switchyard-bench`.
#[derive(Parser)]
#[command(version, about = "Switchyard load generator and baseline server")]
struct Cli {
    /// Tokio worker threads (default: one per CPU).
    #[arg(long, global = true)]
    threads: Option<usize>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve "Hello, world!" over hyper HTTP/1: the ceiling baseline.
    Hello {
        /// Address to listen on; port 0 picks a free port (the bound address is printed).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },

    /// Hammer one URL with GET requests over keep-alive connections.
    Http {
        /// URL to GET.
        #[arg(long)]
        url: String,

        #[command(flatten)]
        load: LoadArgs,
    },

    /// Post signed WhatsApp Cloud text-message webhooks at a Switchyard server.
    Webhooks {
        /// Base URL of the server, e.g. http://127.0.0.1:3000.
        #[arg(long)]
        target: String,

        /// The inbox's phone number as configured, e.g. +15550001111 (it names the route).
        #[arg(long)]
        phone: String,

        /// The inbox's WhatsApp Cloud phone_number_id (sent in metadata).
        #[arg(long, default_value = "100000000000001")]
        phone_number_id: String,

        /// The WhatsApp Business Account id (sent as entry[0].id).
        #[arg(long, default_value = "200000000000001")]
        business_account_id: String,

        /// The inbox's Meta app secret, used to sign each body (X-Hub-Signature-256).
        #[arg(long, env = "BENCH_APP_SECRET")]
        app_secret: String,

        /// Number of distinct customer numbers the messages are spread over.
        #[arg(long, default_value_t = 1000)]
        contacts: u64,

        /// Prefix of the message ids, so repeated runs never collide (default: the start time).
        #[arg(long)]
        run_id: Option<String>,

        #[command(flatten)]
        load: LoadArgs,
    },
}

/// How much load to send; shared by `http` and `webhooks`.
#[derive(Args)]
struct LoadArgs {
    /// Requests to send (after the warm-up). Ignored when --duration is given.
    #[arg(long, default_value_t = 10_000)]
    total: u64,

    /// Send for this many seconds instead of a fixed total.
    #[arg(long)]
    duration: Option<f64>,

    /// Requests in flight at once; each worker keeps one keep-alive connection busy.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,

    /// Requests sent first and left out of the figures (opens connections, warms caches).
    #[arg(long, default_value_t = 0)]
    warmup: u64,

    /// Per-request timeout in seconds; a timed-out request counts as an error.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,

    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("switchyard-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(threads) = cli.threads {
        runtime.worker_threads(threads);
    }
    let runtime = runtime.build().context("building the tokio runtime")?;

    runtime.block_on(async move {
        match cli.command {
            Command::Hello { listen } => {
                hello::serve(listen).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Http { url, load } => {
                let source = load::GetSource::new(url);
                measure(&load, source).await
            }
            Command::Webhooks {
                target,
                phone,
                phone_number_id,
                business_account_id,
                app_secret,
                contacts,
                run_id,
                load,
            } => {
                let source = WebhookSource::new(whatsapp::WebhookSettings {
                    target,
                    phone,
                    phone_number_id,
                    business_account_id,
                    app_secret,
                    contacts,
                    run_id: run_id.unwrap_or_else(whatsapp::default_run_id),
                })?;
                measure(&load, source).await
            }
        }
    })
}

/// Runs the warm-up, then the measured pass, and prints the report.
///
/// Exits non-zero when any measured request failed: a throughput figure that
/// includes errors is not a figure.
async fn measure<S: load::RequestSource>(args: &LoadArgs, source: S) -> anyhow::Result<ExitCode> {
    let client = load::client(Duration::from_secs_f64(args.timeout))?;
    let source = std::sync::Arc::new(source);

    if args.warmup > 0 {
        let warmup = LoadPlan::count(0, args.warmup, args.concurrency);
        let report = load::run(&client, &source, warmup).await;
        if report.errors > 0 {
            eprintln!(
                "warm-up: {} of {} requests failed",
                report.errors, report.requests
            );
            print_errors(&report);
        }
    }

    let plan = match args.duration {
        Some(seconds) => LoadPlan::timed(
            args.warmup,
            Duration::from_secs_f64(seconds),
            args.concurrency,
        ),
        None => LoadPlan::count(args.warmup, args.total, args.concurrency),
    };
    let report = load::run(&client, &source, plan).await;

    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{report}");
    }
    print_errors(&report);

    Ok(if report.errors == 0 && report.requests > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_errors(report: &Report) {
    for (error, count) in &report.error_samples {
        eprintln!("error x{count}: {error}");
    }
}
