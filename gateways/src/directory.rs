//! A short-lived cache of inboxes by their public channel key (a WhatsApp number, an API
//! inbox identifier).
//!
//! Every webhook and Client API call starts by finding its inbox; caching that lookup takes a
//! database read off the hot path. An entry lives a few seconds, so a changed or deleted inbox
//! is seen soon after; a key that is not found is never cached, so a new inbox is found at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use switchyard_engine::channel::Inbox;
use switchyard_storage::{StorageError, Store};

/// How long a found inbox is reused before it is read again.
const TIME_TO_LIVE: Duration = Duration::from_secs(10);

/// The channel key an inbox is found by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Whatsapp(String),
    Api(String),
}

/// The cache. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct InboxDirectory {
    entries: Arc<Mutex<HashMap<Key, (Inbox, Instant)>>>,
}

impl InboxDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// The WhatsApp inbox for a number (digits only).
    pub async fn whatsapp(
        &self,
        store: &Store,
        digits: &str,
    ) -> Result<Option<Inbox>, StorageError> {
        let key = Key::Whatsapp(digits.to_owned());
        if let Some(inbox) = self.cached(&key) {
            return Ok(Some(inbox));
        }
        let inbox = store.inbox_by_whatsapp_number(digits).await?;
        Ok(self.remember(key, inbox))
    }

    /// The API inbox with a public identifier.
    pub async fn api(
        &self,
        store: &Store,
        identifier: &str,
    ) -> Result<Option<Inbox>, StorageError> {
        let key = Key::Api(identifier.to_owned());
        if let Some(inbox) = self.cached(&key) {
            return Ok(Some(inbox));
        }
        let inbox = store.inbox_by_api_identifier(identifier).await?;
        Ok(self.remember(key, inbox))
    }

    fn cached(&self, key: &Key) -> Option<Inbox> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (inbox, stored_at) = entries.get(key)?;
        (stored_at.elapsed() < TIME_TO_LIVE).then(|| inbox.clone())
    }

    fn remember(&self, key: Key, inbox: Option<Inbox>) -> Option<Inbox> {
        let inbox = inbox?;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.insert(key, (inbox.clone(), Instant::now()));
        Some(inbox)
    }
}
