//! Which agents are online: those with at least one open `/cable` session.
//!
//! LIMITATION: presence is kept per node, in memory. With several nodes an agent connected to
//! another node counts as offline here; shared presence belongs in Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use switchyard_engine::UserId;

/// Counts open sessions per agent.
#[derive(Clone, Debug, Default)]
pub struct Presence {
    sessions: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Presence {
    /// No one online.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a session opening.
    pub fn connect(&self, user: UserId) {
        *self.lock().entry(user).or_insert(0) += 1;
    }

    /// Records a session closing.
    pub fn disconnect(&self, user: UserId) {
        let mut sessions = self.lock();
        if let Some(count) = sessions.get_mut(&user) {
            *count -= 1;
            if *count == 0 {
                sessions.remove(&user);
            }
        }
    }

    /// Whether the agent has an open session.
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().contains_key(&user)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, usize>> {
        // The map holds plain counters, so a panic elsewhere cannot leave it inconsistent.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
