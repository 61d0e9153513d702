//! What every handler shares.

use crate::directory::InboxDirectory;
use metrics_exporter_prometheus::PrometheusHandle;
use switchyard_actors::Registry;
use switchyard_engine::secret::Secret;
use switchyard_storage::Store;

/// Settings the gateways need.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// The Platform API token; empty disables the Platform API.
    pub platform_token: Secret,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

/// The state handed to every handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The actor registry.
    pub registry: Registry,
    /// Storage, for reads.
    pub store: Store,
    /// Settings.
    pub config: GatewayConfig,
    /// The metrics exporter, when metrics are enabled.
    pub metrics: Option<PrometheusHandle>,
    /// Inboxes by channel key, for the hot paths.
    pub inboxes: InboxDirectory,
    /// Becomes `true` when the node starts shutting down, so long-lived connections (`/cable`)
    /// can tell their clients to reconnect elsewhere before the process exits.
    pub closing: tokio::sync::watch::Receiver<bool>,
}
