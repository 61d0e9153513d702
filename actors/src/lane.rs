//! A customer's lane into an inbox: dedupe, contact resolution and conversation choice.
//!
//! One lane per active customer handles that customer's messages one at a time. That is what
//! makes "one contact, one open conversation, however many webhooks race" hold without locks:
//! the second of two simultaneous first messages finds the contact and conversation the first
//! one created. A provider retry of a stored message is recognised here and stored nothing.
//! Different customers' lanes run in parallel.

use crate::channel::ChannelMessage;
use crate::conversation::{ConversationMessage, IncomingOutcome};
use crate::error::EngineError;
use crate::registry::{Ingested, Registry};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::collections::{HashSet, VecDeque};
use std::time::Instant;
use switchyard_engine::ConversationId;
use switchyard_engine::channel::Inbox;
use switchyard_engine::contact::{Contact, ContactInbox};
use switchyard_engine::conversation::ConversationStatus;
use switchyard_engine::inbound::InboundMessage;

/// How many recent provider ids a lane remembers without asking storage.
const RECENT_IDS: usize = 256;

/// The messages a lane handles.
pub enum LaneMessage {
    /// A customer message.
    Inbound(
        Box<InboundMessage>,
        RpcReplyPort<Result<Ingested, EngineError>>,
    ),
    /// Periodic check whether the lane has been quiet long enough to stop.
    IdleCheck,
}

impl LaneMessage {
    /// Answers the message's sender with an error (it could not be routed).
    pub(crate) fn fail(self, error: EngineError) {
        if let LaneMessage::Inbound(_, reply) = self {
            let _ = reply.send(Err(error));
        }
    }
}

/// The lane actor.
pub struct ContactLane;

/// What a lane holds.
pub struct LaneState {
    registry: Registry,
    inbox: Inbox,
    key: String,
    channel: ActorRef<ChannelMessage>,
    contact: Option<(Contact, ContactInbox)>,
    conversation: Option<(ConversationId, i64)>,
    recent: VecDeque<String>,
    recent_set: HashSet<String>,
    last_active: Instant,
}

impl Actor for ContactLane {
    type Msg = LaneMessage;
    type State = LaneState;
    type Arguments = (Inbox, String, Registry, ActorRef<ChannelMessage>);

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        (inbox, key, registry, channel): Self::Arguments,
    ) -> Result<LaneState, ActorProcessingErr> {
        let idle = registry.config().lane_idle;
        myself.send_interval(idle / 2, || LaneMessage::IdleCheck);
        Ok(LaneState {
            registry,
            inbox,
            key,
            channel,
            contact: None,
            conversation: None,
            recent: VecDeque::new(),
            recent_set: HashSet::new(),
            last_active: Instant::now(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: LaneMessage,
        state: &mut LaneState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            LaneMessage::Inbound(message, reply) => {
                state.last_active = Instant::now();
                let outcome = state.ingest(*message).await;
                let _ = reply.send(outcome);
            }
            LaneMessage::IdleCheck => {
                if state.last_active.elapsed() >= state.registry.config().lane_idle {
                    let _ = state
                        .channel
                        .cast(ChannelMessage::LaneIdle(state.key.clone(), myself.get_id()));
                }
            }
        }
        Ok(())
    }
}

impl LaneState {
    async fn ingest(&mut self, message: InboundMessage) -> Result<Ingested, EngineError> {
        if let Some(source_id) = &message.source_id
            && self.already_stored(source_id).await?
        {
            metrics::counter!("switchyard_duplicates_total").increment(1);
            return Ok(Ingested::Duplicate);
        }
        let source_id = message.source_id.clone();
        let ingested = self.store(message).await?;
        if let Some(source_id) = source_id {
            self.remember(source_id);
        }
        Ok(ingested)
    }

    async fn already_stored(&mut self, source_id: &str) -> Result<bool, EngineError> {
        if self.recent_set.contains(source_id) {
            return Ok(true);
        }
        let stored = self
            .registry
            .store()
            .message_by_source_id(self.inbox.id, source_id)
            .await?;
        if stored.is_some() {
            self.remember(source_id.to_owned());
        }
        Ok(stored.is_some())
    }

    /// Hands the message to the customer's conversation; if that conversation turns out to be
    /// resolved (and the inbox does not reopen), starts a new one and hands it there.
    async fn store(&mut self, message: InboundMessage) -> Result<Ingested, EngineError> {
        let (contact, contact_inbox) = self.contact(&message).await?;
        let allow_reopen = self.inbox.lock_to_single_conversation;
        let message = Box::new(message);
        for _ in 0..2 {
            let (conversation, display_id) = self.conversation(&contact, &contact_inbox).await?;
            let outcome = self
                .registry
                .ask_conversation(conversation, |reply| ConversationMessage::Incoming {
                    message: message.clone(),
                    allow_reopen,
                    reply,
                })
                .await??;
            match outcome {
                IncomingOutcome::Stored(stored) => {
                    return Ok(Ingested::Stored {
                        message: Box::new(stored),
                        display_id,
                    });
                }
                IncomingOutcome::Resolved => {
                    self.conversation = None;
                    let started = self
                        .registry
                        .start_conversation(
                            &self.inbox,
                            &contact,
                            &contact_inbox,
                            serde_json::json!({}),
                        )
                        .await?;
                    self.conversation = Some((started.id, started.display_id));
                }
            }
        }
        Err(EngineError::Unavailable(
            "no conversation accepted the message".into(),
        ))
    }

    async fn contact(
        &mut self,
        message: &InboundMessage,
    ) -> Result<(Contact, ContactInbox), EngineError> {
        if let Some(contact) = &self.contact {
            return Ok(contact.clone());
        }
        let resolved = self
            .registry
            .store()
            .resolve_contact(self.inbox.account_id, self.inbox.id, &message.contact)
            .await?;
        self.contact = Some(resolved.clone());
        Ok(resolved)
    }

    /// The conversation a new message of this customer belongs to: the latest one unless it
    /// is resolved and the inbox starts afresh, else a new one.
    async fn conversation(
        &mut self,
        contact: &Contact,
        contact_inbox: &ContactInbox,
    ) -> Result<(ConversationId, i64), EngineError> {
        if let Some(conversation) = self.conversation {
            return Ok(conversation);
        }
        let latest = self
            .registry
            .store()
            .latest_conversation(contact_inbox.id)
            .await?;
        let reusable = latest.filter(|conversation| {
            conversation.status != ConversationStatus::Resolved
                || self.inbox.lock_to_single_conversation
        });
        let conversation = match reusable {
            Some(conversation) => conversation,
            None => {
                self.registry
                    .start_conversation(&self.inbox, contact, contact_inbox, serde_json::json!({}))
                    .await?
            }
        };
        self.conversation = Some((conversation.id, conversation.display_id));
        Ok((conversation.id, conversation.display_id))
    }

    fn remember(&mut self, source_id: String) {
        if self.recent_set.insert(source_id.clone()) {
            self.recent.push_back(source_id);
        }
        while self.recent.len() > RECENT_IDS {
            if let Some(oldest) = self.recent.pop_front() {
                self.recent_set.remove(&oldest);
            }
        }
    }
}
