//! Which agents are online: those with at least one open `/cable` session who have not set
//! themselves busy or offline.
//!
//! LIMITATION: presence and chosen availability are kept per node, in memory. With several
//! nodes an agent connected to another node counts as offline here, and a restart forgets
//! who chose to be busy; shared presence belongs in Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use switchyard_engine::UserId;
use switchyard_engine::user::Availability;

/// Counts open sessions per agent, and remembers the availability each agent chose.
#[derive(Clone, Debug, Default)]
pub struct Presence {
    sessions: Arc<Mutex<HashMap<UserId, usize>>>,
    chosen: Arc<Mutex<HashMap<UserId, Availability>>>,
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

    /// Records the availability an agent chose.
    pub fn choose(&self, user: UserId, availability: Availability) {
        let mut chosen = self.chosen.lock().unwrap_or_else(PoisonError::into_inner);
        chosen.insert(user, availability);
    }

    /// The agent's availability: offline without a session, else what they chose (online by
    /// default).
    pub fn availability(&self, user: UserId) -> Availability {
        if !self.lock().contains_key(&user) {
            return Availability::Offline;
        }
        let chosen = self.chosen.lock().unwrap_or_else(PoisonError::into_inner);
        chosen.get(&user).copied().unwrap_or(Availability::Online)
    }

    /// Whether the agent takes new conversations: connected and available.
    pub fn is_online(&self, user: UserId) -> bool {
        self.availability(user) == Availability::Online
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, usize>> {
        // The maps hold plain values, so a panic elsewhere cannot leave them inconsistent.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_is_online_while_connected_unless_they_chose_otherwise() {
        let presence = Presence::new();
        let agent = UserId(1);
        presence.choose(agent, Availability::Busy);
        assert_eq!(
            presence.availability(agent),
            Availability::Offline,
            "not connected"
        );

        presence.connect(agent);
        assert_eq!(presence.availability(agent), Availability::Busy);
        assert!(
            !presence.is_online(agent),
            "busy agents take no new conversations"
        );

        presence.choose(agent, Availability::Online);
        assert!(presence.is_online(agent));
        presence.disconnect(agent);
        assert!(!presence.is_online(agent));
    }
}
