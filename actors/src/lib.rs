//! The actor system: every conversation, every customer's lane into an inbox, every inbox's
//! channel connection and every agent's `/cable` session is an actor.
//!
//! ```text
//!                       Registry (addressing: id → actor, spawn on demand)
//!                          │
//!        ┌─────────────────┼──────────────────────────┐
//!  ChannelSupervisor   ConversationSupervisor    AgentSession (one per /cable socket)
//!        │                 │
//!   ChannelActor ×inbox  ConversationActor ×conversation ──▶ WriterPool (storage)
//!        │                                                        │ after commit
//!   ContactLane ×active customer                                  ▼
//!                                                   EventBus ──▶ AgentSessions
//! ```
//!
//! A message's path: a gateway hands an [`inbound::InboundMessage`] to the inbox's
//! [`channel::ChannelActor`], which passes it to the customer's [`lane::ContactLane`] (dedupe,
//! contact resolution, conversation choice — one customer at a time, customers in parallel),
//! which hands it to the [`conversation::ConversationActor`] (the only writer of that
//! conversation: order, state, events), which hands the changes to the storage writer. The
//! gateway's caller is answered once the writer has committed.
//!
//! Supervisors do not restart a failed conversation eagerly: its state is in storage, so the
//! registry simply forgets it and the next message for it starts a fresh actor from storage.
//!
//! [`inbound::InboundMessage`]: switchyard_engine::inbound::InboundMessage

pub mod bus;
pub mod channel;
pub mod conversation;
pub mod delivery;
pub mod error;
pub mod lane;
pub mod presence;
pub mod registry;
pub mod session;
mod supervisor;

pub use bus::EventBus;
pub use delivery::{Deliverer, DeliveryError, DeliveryJob, NotificationJob, ReplyJob};
pub use error::EngineError;
pub use presence::Presence;
pub use registry::{Registry, RegistryConfig};
