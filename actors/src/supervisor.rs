//! The supervisor of conversation and channel actors.
//!
//! Its policy is "forget, restart on demand": a failed actor's state is in storage, so the
//! supervisor removes it from the registry (after its pending writes are durable) and the next
//! request for that conversation or inbox starts a fresh actor. A failure is logged once, here,
//! and never spreads to the failed actor's neighbours.

use crate::registry::Registry;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use switchyard_engine::{ConversationId, InboxId};

/// What a supervised actor owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Supervised {
    /// A conversation actor.
    Conversation(ConversationId),
    /// A channel actor.
    Channel(InboxId),
}

/// The supervisor actor; it handles no messages of its own.
pub(crate) struct Supervisor;

impl Actor for Supervisor {
    type Msg = ();
    type State = Registry;
    type Arguments = Registry;

    async fn pre_start(
        &self,
        _: ActorRef<()>,
        registry: Registry,
    ) -> Result<Registry, ActorProcessingErr> {
        Ok(registry)
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<()>,
        event: SupervisionEvent,
        registry: &mut Registry,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(actor, error) => {
                let owned = registry.take_supervised(actor.get_id());
                tracing::error!(actor = ?owned, error = %error, "actor failed; it restarts on the next request");
                retire(registry, owned, actor.get_id());
            }
            SupervisionEvent::ActorTerminated(actor, _, _) => {
                let owned = registry.take_supervised(actor.get_id());
                retire(registry, owned, actor.get_id());
            }
            _ => {}
        }
        Ok(())
    }
}

fn retire(registry: &Registry, owned: Option<Supervised>, actor: ractor::ActorId) {
    match owned {
        Some(Supervised::Conversation(id)) => {
            let registry = registry.clone();
            tokio::spawn(async move { registry.retire_conversation(id, actor).await });
        }
        Some(Supervised::Channel(inbox)) => registry.retire_channel(inbox, actor),
        None => {}
    }
}
