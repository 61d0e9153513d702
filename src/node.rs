//! Start-up and shutdown of a node, in order.
//!
//! Start: bind the listener, then storage (migrated), writers, actors, then serve — so a port
//! already in use stops the node before the database is touched, and no request is served
//! before it can be stored (connections that arrive meanwhile wait in the kernel's backlog).
//! Shutdown: stop accepting, finish requests in flight, stop the actors (each commits what it
//! holds), stop the writers (each commits what it has queued).

use crate::config::Config;
use anyhow::Context;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;
use switchyard_actors::{EventBus, Presence, Registry, RegistryConfig};
use switchyard_gateways::deliver::ProviderDeliverer;
use switchyard_gateways::{AppState, GatewayConfig};
use switchyard_storage::{Store, StoreConfig, WriterPool};
use tokio::net::TcpListener;

/// Sets up logging: `RUST_LOG` filters (default `info`), text or JSON lines on stderr. Text
/// is coloured only on a terminal, so that files and log collectors get no escape codes.
pub(crate) fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if let StoreConfig::Sqlite { .. } = &config.store {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
    }
    let store = Store::connect(&config.store)
        .await
        .context("cannot open the database")?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

/// `switchyard migrate`.
pub(crate) async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    tracing::info!(database = store.backend_name(), "migrations applied");
    Ok(())
}

/// `switchyard serve`.
pub(crate) async fn serve(config: Config) -> anyhow::Result<()> {
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    describe_metrics();
    // Bound before the database is opened: a port in use must fail without touching it.
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let store = open_store(&config).await?;
    if config.redis_url.is_some() {
        // LIMITATION: Redis is accepted for forward compatibility; one node keeps presence
        // and the event bus in memory and does not connect to it.
        tracing::warn!("redis_url is set but not used by a single node yet");
    }
    let shards = match config.store {
        StoreConfig::Sqlite { .. } => 1,
        StoreConfig::Postgres { .. } => 4,
    };
    let bus = EventBus::new();
    let sink_bus = bus.clone();
    let writers = WriterPool::start(
        store.clone(),
        shards,
        Arc::new(move |events| sink_bus.publish(events)),
    )
    .await
    .context("cannot start the storage writers")?;
    let deliverer = ProviderDeliverer::new(config.whatsapp_api_base.clone())
        .context("cannot build the outbound HTTP client")?;
    let registry_config = RegistryConfig {
        conversation_idle: Duration::from_secs(config.conversation_idle_seconds),
        ..RegistryConfig::default()
    };
    let registry = Registry::start(
        store.clone(),
        writers.clone(),
        Presence::new(),
        Arc::new(deliverer),
        registry_config,
    )
    .await
    .context("cannot start the actor system")?;
    let (announce_closing, closing) = tokio::sync::watch::channel(false);
    let state = AppState {
        registry: registry.clone(),
        store: store.clone(),
        config: GatewayConfig {
            platform_token: config.platform_token.clone(),
            max_body_bytes: config.max_body_bytes,
        },
        metrics: Some(metrics),
        inboxes: switchyard_gateways::directory::InboxDirectory::new(),
        closing,
    };
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    tracing::info!(server.addr = %address, database = store.backend_name(), "listening");
    // Tests and scripts read the chosen port from this line.
    println!("switchyard listening on http://{address}");
    let shutdown = async move {
        shutdown_signal().await;
        // `/cable` sockets are upgraded connections, which the HTTP server's graceful
        // shutdown does not wait for: tell them now, so clients hear why and reconnect.
        let _ = announce_closing.send(true);
    };
    switchyard_gateways::serve(listener, state, shutdown).await;
    tracing::info!("draining actors");
    registry.shutdown().await;
    writers.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received");
}

/// Gives every metric its `# HELP` line, so `/metrics` documents itself from the start.
fn describe_metrics() {
    use metrics::{describe_counter, describe_histogram};
    describe_counter!("switchyard_messages_total", "Messages stored, by direction");
    describe_counter!(
        "switchyard_duplicates_total",
        "Provider retries of messages already stored (stored nothing)"
    );
    describe_counter!(
        "switchyard_webhooks_accepted_total",
        "Provider webhooks accepted, by provider"
    );
    describe_counter!(
        "switchyard_webhooks_rejected_total",
        "Provider webhooks refused, by provider and reason"
    );
    describe_counter!(
        "switchyard_replies_total",
        "Agent replies delivered or failed for good"
    );
    describe_counter!(
        "switchyard_webhook_failures_total",
        "Event notifications given up after their retries"
    );
    describe_counter!(
        "switchyard_storage_batches_total",
        "Group commits, by outcome"
    );
    describe_histogram!(
        "switchyard_storage_commit_seconds",
        metrics::Unit::Seconds,
        "Time to commit one batch"
    );
    describe_histogram!(
        "switchyard_storage_batch_requests",
        "Requests sharing one commit"
    );
    // Counters appear in `/metrics` once touched; start the main series at zero so dashboards
    // and alerts see them before the first message.
    for direction in ["incoming", "outgoing"] {
        metrics::counter!("switchyard_messages_total", "direction" => direction).absolute(0);
    }
    for outcome in ["delivered", "failed"] {
        metrics::counter!("switchyard_replies_total", "outcome" => outcome).absolute(0);
    }
    for outcome in ["committed", "failed"] {
        metrics::counter!("switchyard_storage_batches_total", "outcome" => outcome).absolute(0);
    }
    metrics::counter!("switchyard_duplicates_total").absolute(0);
    metrics::counter!("switchyard_webhooks_accepted_total", "provider" => "whatsapp").absolute(0);
}
