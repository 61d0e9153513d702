//! The event bus: committed events, fanned out to the agent sessions of their account.
//!
//! Sessions join the process group of each account they watch; the bus casts each event to
//! every member. Casting never waits, so one slow session cannot hold up the writer that
//! publishes; a session whose socket cannot keep up closes itself (see [`crate::session`]).
//!
//! LIMITATION: the bus reaches only sessions on this node. A multi-node deployment needs it
//! bridged over the cluster bus (Redis or NATS), which is not built yet.

use crate::session::SessionMessage;
use ractor::{ActorRef, pg};
use std::sync::Arc;
use switchyard_engine::AccountId;
use switchyard_engine::event::Event;

/// Publishes events to the sessions watching their account.
#[derive(Clone, Debug, Default)]
pub struct EventBus;

impl EventBus {
    /// A bus.
    pub fn new() -> Self {
        EventBus
    }

    /// The process group of an account's watchers.
    pub fn group(account: AccountId) -> String {
        format!("account:{account}")
    }

    /// Tells the account's sessions that inbox memberships changed.
    pub fn refresh_visibility(&self, account: AccountId) {
        for member in pg::get_members(&Self::group(account)) {
            let session: ActorRef<SessionMessage> = member.into();
            let _ = session.cast(SessionMessage::Refresh(account));
        }
    }

    /// Sends each event to every session watching its account.
    pub fn publish(&self, events: Vec<Event>) {
        for event in events {
            let event = Arc::new(event);
            for member in pg::get_members(&Self::group(event.account_id)) {
                let session: ActorRef<SessionMessage> = member.into();
                // A session that has just stopped misses nothing it could still deliver.
                let _ = session.cast(SessionMessage::Event(event.clone()));
            }
        }
    }
}
