//! Fair assignment of new conversations to agents.
//!
//! Round robin over an inbox's online members: the agent who was assigned least recently goes
//! first. Unlike a queue kept in a separate store and updated by several processes without a
//! lock, the rotation here is owned by one place (the inbox's channel actor) and every pick is
//! atomic with respect to the next.

use crate::UserId;
use std::collections::{HashMap, HashSet};

/// The rotation for one inbox.
#[derive(Debug, Default)]
pub struct RoundRobin {
    /// For each agent, the pick number of their last assignment (0 = never assigned).
    last_picked: HashMap<UserId, u64>,
    picks: u64,
}

impl RoundRobin {
    /// An empty rotation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Picks the eligible agent assigned least recently (ties by lowest id, so the order is
    /// deterministic), and records the pick. Returns `None` when nobody is eligible.
    pub fn pick(&mut self, eligible: &HashSet<UserId>) -> Option<UserId> {
        let chosen = eligible
            .iter()
            .copied()
            .min_by_key(|agent| (self.last_picked.get(agent).copied().unwrap_or(0), *agent))?;
        self.picks += 1;
        self.last_picked.insert(chosen, self.picks);
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_take_turns() {
        let mut rotation = RoundRobin::new();
        let agents: HashSet<_> = [UserId(1), UserId(2), UserId(3)].into();

        let picks: Vec<_> = (0..6).filter_map(|_| rotation.pick(&agents)).collect();

        assert_eq!(
            picks,
            [1, 2, 3, 1, 2, 3].map(UserId).to_vec(),
            "each agent gets one conversation before anyone gets a second"
        );
    }

    #[test]
    fn an_agent_coming_online_goes_first() {
        let mut rotation = RoundRobin::new();
        rotation.pick(&[UserId(1)].into());

        let pick = rotation.pick(&[UserId(1), UserId(2)].into());

        assert_eq!(pick, Some(UserId(2)));
    }

    #[test]
    fn nobody_online_means_no_pick() {
        assert_eq!(RoundRobin::new().pick(&HashSet::new()), None);
    }
}
