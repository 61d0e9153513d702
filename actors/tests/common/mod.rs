//! What the actor tests share: a migrated SQLite store in a temporary directory, and the
//! actor system started over it with one API inbox.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;
use switchyard_actors::delivery::Deliverer;
use switchyard_actors::{EventBus, Presence, Registry, RegistryConfig};
use switchyard_engine::channel::{ApiChannel, Channel, Inbox};
use switchyard_engine::secret::Secret;
use switchyard_storage::{NewInbox, Store, StoreConfig, WriterPool};

/// A directory removed when the test ends.
pub(crate) struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, migrated SQLite store; it lives as long as the directory.
pub(crate) async fn sqlite_store() -> (Store, TempDir) {
    let dir = std::env::temp_dir().join(format!("switchyard-actors-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("test.db");
    let store = Store::connect(&StoreConfig::Sqlite { path }).await.unwrap();
    store.migrate().await.unwrap();
    (store, TempDir(dir))
}

/// The actor system over a fresh store, with one API inbox.
pub(crate) struct Engine {
    pub(crate) registry: Registry,
    pub(crate) store: Store,
    pub(crate) inbox: Inbox,
    _dir: TempDir,
}

impl Engine {
    /// Starts the writers and the registry; the inbox POSTs to `webhook_url` (empty: none).
    pub(crate) async fn start(
        deliverer: Arc<dyn Deliverer>,
        config: RegistryConfig,
        webhook_url: &str,
    ) -> Engine {
        let (store, dir) = sqlite_store().await;
        let bus = EventBus::new();
        let sink = Arc::new(move |events| bus.publish(events));
        let writers = WriterPool::start(store.clone(), 1, sink).await.unwrap();
        let registry = Registry::start(store.clone(), writers, Presence::new(), deliverer, config)
            .await
            .unwrap();
        let account = store.create_account("Acme", "en").await.unwrap();
        let channel = Channel::Api(ApiChannel {
            identifier: format!("inbox-{}", uuid::Uuid::new_v4()),
            webhook_url: webhook_url.to_owned(),
            hmac_token: Secret::new("hmac"),
        });
        let new_inbox = NewInbox {
            account_id: account.id,
            name: "API".into(),
            enable_auto_assignment: false,
            lock_to_single_conversation: false,
            channel,
        };
        let inbox = store.create_inbox(&new_inbox).await.unwrap();
        Engine {
            registry,
            store,
            inbox,
            _dir: dir,
        }
    }
}
