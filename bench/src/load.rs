//! The closed-loop load driver and its report.
//!
//! `concurrency` workers each send a request, wait for the whole response, record
//! the latency and send the next one, over one reqwest client whose pool keeps a
//! keep-alive connection per worker. A closed loop measures what the server
//! sustains without queueing work in the generator; it understates tail latency
//! under an open arrival rate (coordinated omission), which the report does not
//! try to correct.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

/// Distinct error messages kept per run; further distinct ones are only counted.
const MAX_ERROR_KINDS: usize = 16;

/// Builds request number `n` of a run.
///
/// Numbers are unique within one invocation (the warm-up and the measured pass
/// use disjoint ranges), so a source can derive unique ids from them.
pub(crate) trait RequestSource: Send + Sync + 'static {
    /// The request to send as number `n`.
    fn request(&self, client: &reqwest::Client, n: u64) -> reqwest::RequestBuilder;
}

/// Plain GET of one URL: the baseline mode.
pub(crate) struct GetSource {
    url: String,
}

impl GetSource {
    pub(crate) fn new(url: String) -> Self {
        Self { url }
    }
}

impl RequestSource for GetSource {
    fn request(&self, client: &reqwest::Client, _n: u64) -> reqwest::RequestBuilder {
        client.get(&self.url)
    }
}

/// The HTTP client every mode uses: HTTP/1 keep-alive, no proxy (load must
/// never leave the loopback through an environment proxy), one timeout.
pub(crate) fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(timeout)
        .build()
        .context("building the HTTP client")
}

/// When a run stops.
#[derive(Clone, Copy)]
enum Limit {
    Count(u64),
    Duration(Duration),
}

/// How many requests to send, and how many at once.
#[derive(Clone, Copy)]
pub(crate) struct LoadPlan {
    first: u64,
    limit: Limit,
    concurrency: usize,
}

impl LoadPlan {
    /// Send `total` requests numbered from `first`.
    pub(crate) fn count(first: u64, total: u64, concurrency: usize) -> Self {
        let limit = Limit::Count(total);
        Self {
            first,
            limit,
            concurrency: concurrency.max(1),
        }
    }

    /// Send requests numbered from `first` until `duration` has passed.
    pub(crate) fn timed(first: u64, duration: Duration, concurrency: usize) -> Self {
        let limit = Limit::Duration(duration);
        Self {
            first,
            limit,
            concurrency: concurrency.max(1),
        }
    }
}

/// What one worker saw.
#[derive(Default)]
struct WorkerTally {
    latencies_us: Vec<u32>,
    errors: u64,
    error_kinds: BTreeMap<String, u64>,
}

impl WorkerTally {
    fn record_error(&mut self, message: String) {
        self.errors += 1;
        if self.error_kinds.len() < MAX_ERROR_KINDS || self.error_kinds.contains_key(&message) {
            *self.error_kinds.entry(message).or_default() += 1;
        }
    }
}

/// Runs `plan` against `source` and reports what happened.
pub(crate) async fn run<S: RequestSource>(
    client: &reqwest::Client,
    source: &Arc<S>,
    plan: LoadPlan,
) -> Report {
    let next = Arc::new(AtomicU64::new(plan.first));
    let started = Instant::now();

    let workers: Vec<_> = (0..plan.concurrency)
        .map(|_| {
            let (client, source, next) = (client.clone(), source.clone(), next.clone());
            tokio::spawn(work(client, source, next, plan, started))
        })
        .collect();

    let mut tallies = Vec::with_capacity(workers.len());
    for worker in futures::future::join_all(workers).await {
        match worker {
            Ok(tally) => tallies.push(tally),
            Err(error) => {
                let mut tally = WorkerTally::default();
                tally.record_error(format!("worker task failed: {error}"));
                tallies.push(tally);
            }
        }
    }
    Report::from_tallies(plan.concurrency, started.elapsed(), tallies)
}

/// One worker: take the next request number, send it, wait for the full body, repeat.
async fn work<S: RequestSource>(
    client: reqwest::Client,
    source: Arc<S>,
    next: Arc<AtomicU64>,
    plan: LoadPlan,
    started: Instant,
) -> WorkerTally {
    let mut tally = WorkerTally::default();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let done = match plan.limit {
            Limit::Count(total) => n >= plan.first + total,
            Limit::Duration(duration) => started.elapsed() >= duration,
        };
        if done {
            return tally;
        }

        let sent = Instant::now();
        match send(source.request(&client, n)).await {
            Ok(()) => {
                let micros = sent.elapsed().as_micros();
                tally
                    .latencies_us
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
            }
            Err(message) => tally.record_error(message),
        }
    }
}

/// Sends one request and reads the whole response, so the connection can be reused.
async fn send(request: reqwest::RequestBuilder) -> Result<(), String> {
    let response = request.send().await.map_err(|error| describe(&error))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|error| describe(&error))?;
    if status.is_success() {
        return Ok(());
    }
    let excerpt = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    Err(format!("HTTP {status}: {excerpt}"))
}

/// A transport error with its causes, on one line.
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The outcome of one run.
pub(crate) struct Report {
    /// Requests sent, successful or not.
    pub(crate) requests: u64,
    /// Requests that failed (transport error, timeout or non-2xx status).
    pub(crate) errors: u64,
    /// Distinct error messages with how often each was seen (capped).
    pub(crate) error_samples: BTreeMap<String, u64>,
    concurrency: usize,
    elapsed: Duration,
    /// Latencies of the successful requests, ascending, in microseconds.
    sorted_latencies_us: Vec<u32>,
}

impl Report {
    fn from_tallies(concurrency: usize, elapsed: Duration, tallies: Vec<WorkerTally>) -> Self {
        let mut sorted_latencies_us = Vec::new();
        let mut errors = 0;
        let mut error_samples = BTreeMap::new();
        for tally in tallies {
            sorted_latencies_us.extend(tally.latencies_us);
            errors += tally.errors;
            for (message, count) in tally.error_kinds {
                *error_samples.entry(message).or_default() += count;
            }
        }
        sorted_latencies_us.sort_unstable();
        let requests = sorted_latencies_us.len() as u64 + errors;
        Self {
            requests,
            errors,
            error_samples,
            concurrency,
            elapsed,
            sorted_latencies_us,
        }
    }

    /// Completed requests (successful or not) per second of the run.
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// Latency at `quantile` (0..=1) of the successful requests, nearest rank, in ms.
    fn latency_ms(&self, quantile: f64) -> Option<f64> {
        let len = self.sorted_latencies_us.len();
        if len == 0 {
            return None;
        }
        let rank = ((quantile * len as f64).ceil() as usize).clamp(1, len);
        Some(f64::from(self.sorted_latencies_us[rank - 1]) / 1000.0)
    }

    /// The report as one JSON object (latencies in milliseconds).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests,
            "errors": self.errors,
            "concurrency": self.concurrency,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "requests_per_s": self.rate(),
            "p50_ms": self.latency_ms(0.50),
            "p90_ms": self.latency_ms(0.90),
            "p99_ms": self.latency_ms(0.99),
            "max_ms": self.latency_ms(1.0),
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |quantile| match self.latency_ms(quantile) {
            Some(value) => format!("{value:.3} ms"),
            None => "n/a".to_owned(),
        };
        writeln!(f, "requests     {}", self.requests)?;
        writeln!(f, "errors       {}", self.errors)?;
        writeln!(f, "concurrency  {}", self.concurrency)?;
        writeln!(f, "elapsed      {:.2} s", self.elapsed.as_secs_f64())?;
        writeln!(f, "throughput   {:.0} requests/s", self.rate())?;
        writeln!(f, "latency p50  {}", ms(0.50))?;
        writeln!(f, "latency p90  {}", ms(0.90))?;
        writeln!(f, "latency p99  {}", ms(0.99))?;
        writeln!(f, "latency max  {}", ms(1.0))
    }
}
