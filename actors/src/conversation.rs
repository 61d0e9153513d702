//! The conversation actor: the single writer of one conversation.
//!
//! Every change to a conversation — a customer message, an agent reply, an assignment, a
//! status change, a delivery report — passes through this actor's mailbox, so they are applied
//! one at a time in arrival order and never race. The actor applies the engine's rules,
//! numbers the resulting events, and hands changes and events to the storage writer together.
//! It does not wait for the commit: it goes on with the next message while the writer
//! batches, and each caller is answered when its own change is durable.
//!
//! The actor starts on demand with its state read from storage and stops after a quiet period.
//! Before it is forgotten it waits until everything it handed the writer is committed, so the
//! next actor for the conversation never starts from stale state.

use crate::delivery::{DeliveryJob, deliver_with_retries};
use crate::error::EngineError;
use crate::registry::Registry;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use switchyard_engine::channel::Inbox;
use switchyard_engine::contact::{Contact, ContactInbox};
use switchyard_engine::conversation::{Change, Conversation, ConversationStatus};
use switchyard_engine::event::{Event, EventKind};
use switchyard_engine::inbound::{InboundMessage, StatusReport};
use switchyard_engine::message::{
    ContentType, Message, MessageStatus, MessageType, Sender, storable_text,
};
use switchyard_engine::push;
use switchyard_engine::user::UserSummary;
use switchyard_engine::{ConversationId, MessageId, Timestamp};
use switchyard_storage::{Account, StorageError, Write, WriteRequest};
use tokio::sync::{mpsc, oneshot};

/// What an agent writes into a conversation.
#[derive(Clone, Debug)]
pub struct OutgoingDraft {
    /// The agent.
    pub sender: UserSummary,
    /// The text.
    pub content: String,
    /// Whether it is a private note (stays inside, never delivered).
    pub private: bool,
    /// How to read the content.
    pub content_type: ContentType,
    /// Structured extras.
    pub content_attributes: Value,
    /// The client's own id for an optimistic send.
    pub echo_id: Option<String>,
}

/// What became of a customer message handed to a conversation.
#[derive(Clone, Debug)]
pub enum IncomingOutcome {
    /// Stored (and durable) as this message.
    Stored(Message),
    /// The conversation is resolved and the inbox starts a new conversation instead of
    /// reopening; nothing was stored.
    Resolved,
}

/// The reply to a request that changes the conversation: sent once the change is durable.
pub type Reply<T> = RpcReplyPort<Result<T, EngineError>>;

/// The messages a conversation actor handles.
pub enum ConversationMessage {
    /// The conversation was just created: announce it and offer it to auto-assignment.
    Opened(Reply<Conversation>),
    /// A customer message. `allow_reopen` false makes a resolved conversation refuse it.
    Incoming {
        /// The message.
        message: Box<InboundMessage>,
        /// Whether a resolved conversation may be reopened by it.
        allow_reopen: bool,
        /// Answered when stored.
        reply: Reply<IncomingOutcome>,
    },
    /// An agent's reply or private note.
    Outgoing(Box<OutgoingDraft>, Reply<Message>),
    /// Assign to an agent, or unassign with `None`.
    Assign(Option<UserSummary>, Reply<Conversation>),
    /// Change the status.
    SetStatus(ConversationStatus, Reply<Conversation>),
    /// A provider's report on one of this conversation's outgoing messages.
    ProviderStatus(MessageId, StatusReport, Reply<()>),
    /// The outcome of delivering a reply: the provider's id, or the final error.
    Delivered(MessageId, Result<Option<String>, String>),
    /// The current state.
    Snapshot(RpcReplyPort<Conversation>),
    /// Periodic check whether the actor has been idle long enough to stop.
    IdleCheck,
    /// Panics, to test that a failing conversation does not affect others.
    #[cfg(feature = "fault-injection")]
    Panic,
}

/// The conversation actor.
pub struct ConversationActor;

/// Everything the actor holds in memory.
pub struct ConversationState {
    registry: Registry,
    conversation: Conversation,
    account: Account,
    inbox: Inbox,
    contact: Contact,
    contact_inbox: ContactInbox,
    assignee: Option<UserSummary>,
    last_message: Option<Value>,
    last_active: Instant,
    poisoned: Arc<AtomicBool>,
    outbound: mpsc::UnboundedSender<OutboundItem>,
}

/// A reply waiting for its commit before it is delivered.
struct OutboundItem {
    job: DeliveryJob,
    durable: Durable,
}

type Durable = Shared<BoxFuture<'static, bool>>;

impl Actor for ConversationActor {
    type Msg = ConversationMessage;
    type State = ConversationState;
    type Arguments = (ConversationId, Registry);

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        (id, registry): (ConversationId, Registry),
    ) -> Result<ConversationState, ActorProcessingErr> {
        let state = load(id, registry).await?;
        let idle = state.registry.config().conversation_idle;
        myself.send_interval(idle / 2, || ConversationMessage::IdleCheck);
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: ConversationMessage,
        state: &mut ConversationState,
    ) -> Result<(), ActorProcessingErr> {
        if state.poisoned.load(Ordering::Acquire) {
            // A commit of this conversation failed: what is in memory may not be in storage.
            // Stop, and let the next request start from what storage holds.
            myself.stop(Some("storage commit failed".into()));
            return Ok(());
        }
        if !matches!(message, ConversationMessage::IdleCheck) {
            state.last_active = Instant::now();
        }
        match message {
            ConversationMessage::Opened(reply) => state.opened(reply).await,
            ConversationMessage::Incoming {
                message,
                allow_reopen,
                reply,
            } => state.incoming(*message, allow_reopen, reply).await,
            ConversationMessage::Outgoing(draft, reply) => state.outgoing(*draft, reply).await,
            ConversationMessage::Assign(agent, reply) => state.assign_by_hand(agent, reply),
            ConversationMessage::SetStatus(status, reply) => state.set_status(status, reply).await,
            ConversationMessage::ProviderStatus(id, report, reply) => {
                state.provider_status(id, report, reply).await
            }
            ConversationMessage::Delivered(id, outcome) => state.delivered(id, outcome).await,
            ConversationMessage::Snapshot(reply) => {
                let _ = reply.send(state.conversation.clone());
            }
            ConversationMessage::IdleCheck => state.stop_if_idle(&myself),
            #[cfg(feature = "fault-injection")]
            ConversationMessage::Panic => panic!("fault injection: conversation actor panics"),
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut ConversationState,
    ) -> Result<(), ActorProcessingErr> {
        let id = state.conversation.id;
        state
            .registry
            .retire_conversation(id, myself.get_id())
            .await;
        Ok(())
    }
}

/// Reads a conversation and everything its events show from storage.
async fn load(id: ConversationId, registry: Registry) -> Result<ConversationState, EngineError> {
    let store = registry.store();
    let conversation = store
        .conversation(id)
        .await?
        .ok_or(EngineError::NotFound("conversation"))?;
    let account = store
        .account(conversation.account_id)
        .await?
        .ok_or(EngineError::NotFound("account"))?;
    let inbox = store
        .inbox(conversation.inbox_id)
        .await?
        .ok_or(EngineError::NotFound("inbox"))?;
    let (contact, contact_inbox) = store
        .contact_inbox_by_id(conversation.contact_inbox_id)
        .await?
        .ok_or(EngineError::NotFound("contact inbox"))?;
    let assignee = match conversation.assignee_id {
        Some(user) => store.user(user).await?.map(|user| user.summary()),
        None => None,
    };
    let last = store.last_visible_message(id).await?;
    let (outbound, queue) = mpsc::unbounded_channel();
    tokio::spawn(run_outbound(registry.clone(), id, queue));
    let mut state = ConversationState {
        registry,
        conversation,
        account,
        inbox,
        contact,
        contact_inbox,
        assignee,
        last_message: None,
        last_active: Instant::now(),
        poisoned: Arc::new(AtomicBool::new(false)),
        outbound,
    };
    state.last_message = last.map(|message| state.render_message(&message, None));
    Ok(state)
}

impl ConversationState {
    async fn opened(&mut self, reply: Reply<Conversation>) {
        let now = Timestamp::now();
        let mut events = vec![self.conversation_event(EventKind::ConversationCreated, now)];
        events.extend(self.auto_assign(now).await);
        let snapshot = self.conversation.clone();
        self.commit(events, Vec::new(), reply, snapshot);
    }

    async fn incoming(
        &mut self,
        inbound: InboundMessage,
        allow_reopen: bool,
        reply: Reply<IncomingOutcome>,
    ) {
        if self.conversation.status == ConversationStatus::Resolved && !allow_reopen {
            let _ = reply.send(Ok(IncomingOutcome::Resolved));
            return;
        }
        let Some((id, reply)) = self.allocate_message_id(reply).await else {
            return;
        };
        let now = Timestamp::now();
        let message = self.incoming_message(id, inbound, now);
        let mut events = Vec::new();
        if let Some(change) = self.conversation.receive_incoming(message.created_at) {
            events.extend(self.change_events(change, now));
            events.extend(self.auto_assign(now).await);
        }
        events.push(self.message_created(&message, None, now));
        let outcome = IncomingOutcome::Stored(message.clone());
        self.commit(events, vec![Write::InsertMessage(message)], reply, outcome);
    }

    /// A new message id, or `None` after telling `reply` why there is none.
    async fn allocate_message_id<T>(&self, reply: Reply<T>) -> Option<(MessageId, Reply<T>)> {
        match self.registry.next_message_id().await {
            Ok(id) => Some((id, reply)),
            Err(error) => {
                let _ = reply.send(Err(error));
                None
            }
        }
    }

    async fn outgoing(&mut self, draft: OutgoingDraft, reply: Reply<Message>) {
        let Some((id, reply)) = self.allocate_message_id(reply).await else {
            return;
        };
        let now = Timestamp::now();
        let message = Message {
            id,
            account_id: self.conversation.account_id,
            inbox_id: self.conversation.inbox_id,
            conversation_id: self.conversation.id,
            message_type: MessageType::Outgoing,
            content_type: draft.content_type,
            content: Some(storable_text(draft.content)),
            content_attributes: draft.content_attributes,
            private: draft.private,
            status: MessageStatus::Sent,
            source_id: None,
            sender: Sender::User(draft.sender.id),
            echo_id: draft.echo_id,
            attachments: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.conversation.record_outgoing(now, draft.private);
        let event = self.message_created(&message, Some(&draft.sender), now);
        let durable = self.commit_tracked(
            vec![event],
            vec![Write::InsertMessage(message.clone())],
            reply,
            message.clone(),
        );
        if !message.private {
            self.enqueue_delivery(message, &draft.sender, durable);
        }
    }

    fn assign_by_hand(&mut self, agent: Option<UserSummary>, reply: Reply<Conversation>) {
        let now = Timestamp::now();
        let events = self.assign(agent, now).into_iter().collect();
        let snapshot = self.conversation.clone();
        self.commit(events, Vec::new(), reply, snapshot);
    }

    async fn set_status(&mut self, status: ConversationStatus, reply: Reply<Conversation>) {
        let now = Timestamp::now();
        let mut events = Vec::new();
        if let Some(change) = self.conversation.set_status(status, now) {
            events.extend(self.change_events(change, now));
            events.extend(self.auto_assign(now).await);
        }
        let snapshot = self.conversation.clone();
        self.commit(events, Vec::new(), reply, snapshot);
    }

    async fn provider_status(&mut self, id: MessageId, report: StatusReport, reply: Reply<()>) {
        let mut message = match self.registry.store().message(id).await {
            Ok(Some(message)) => message,
            Ok(None) => {
                let _ = reply.send(Err(EngineError::NotFound("message")));
                return;
            }
            Err(error) => {
                let _ = reply.send(Err(error.into()));
                return;
            }
        };
        if !message.status.may_advance_to(report.status) {
            let _ = reply.send(Ok(()));
            return;
        }
        message.status = report.status;
        if let Some(error) = report.error {
            set_attribute(
                &mut message.content_attributes,
                "external_error",
                json!(error),
            );
        }
        self.update_message(message, reply);
    }

    async fn delivered(&mut self, id: MessageId, outcome: Result<Option<String>, String>) {
        let message = match self.registry.store().message(id).await {
            Ok(Some(message)) => message,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(message.id = %id, error = %error, "delivery outcome not recorded");
                return;
            }
        };
        let mut message = message;
        match outcome {
            Ok(source_id) => message.source_id = source_id.or(message.source_id),
            Err(error) => {
                message.status = MessageStatus::Failed;
                set_attribute(
                    &mut message.content_attributes,
                    "external_error",
                    json!(error),
                );
            }
        }
        let (reply, _) = oneshot::channel();
        self.update_message(message, reply.into());
    }

    fn update_message(&mut self, mut message: Message, reply: Reply<()>) {
        let now = Timestamp::now();
        message.updated_at = now;
        let agent = match message.sender {
            Sender::User(id) if self.assignee.as_ref().is_some_and(|a| a.id == id) => {
                self.assignee.clone()
            }
            _ => None,
        };
        let data = self.render_message(&message, agent.as_ref());
        let event = self.event(EventKind::MessageUpdated, message.private, now, data);
        self.commit(vec![event], vec![Write::UpdateMessage(message)], reply, ());
    }

    /// Offers the conversation to auto-assignment if its inbox wants that and it has nobody.
    async fn auto_assign(&mut self, now: Timestamp) -> Option<Event> {
        if !self.inbox.enable_auto_assignment || !self.conversation.wants_assignee() {
            return None;
        }
        let agent = self.registry.pick_assignee(self.inbox.id).await?;
        self.assign(Some(agent), now)
    }

    fn assign(&mut self, agent: Option<UserSummary>, now: Timestamp) -> Option<Event> {
        let change = self
            .conversation
            .assign(agent.as_ref().map(|agent| agent.id), now)?;
        self.assignee = agent;
        self.change_events(change, now).pop()
    }

    fn change_events(&mut self, change: Change, now: Timestamp) -> Vec<Event> {
        let kind = match change {
            Change::Status { .. } => EventKind::ConversationStatusChanged,
            Change::Assignee { .. } => EventKind::AssigneeChanged,
        };
        vec![self.conversation_event(kind, now)]
    }

    fn incoming_message(&self, id: MessageId, inbound: InboundMessage, now: Timestamp) -> Message {
        Message {
            id,
            account_id: self.conversation.account_id,
            inbox_id: self.conversation.inbox_id,
            conversation_id: self.conversation.id,
            message_type: MessageType::Incoming,
            content_type: inbound.content_type,
            content: inbound.content.map(storable_text),
            content_attributes: inbound.content_attributes,
            private: false,
            status: MessageStatus::Sent,
            source_id: inbound.source_id,
            sender: Sender::Contact(self.contact.id),
            echo_id: inbound.echo_id,
            attachments: inbound.attachments,
            // A provider's clock may run ahead; a message is never dated after its arrival.
            created_at: inbound.sent_at.map_or(now, |sent| sent.min(now)),
            updated_at: now,
        }
    }

    fn message_created(
        &mut self,
        message: &Message,
        agent: Option<&UserSummary>,
        now: Timestamp,
    ) -> Event {
        let data = self.render_message(message, agent);
        if !message.private {
            self.last_message = Some(data.clone());
        }
        self.event(EventKind::MessageCreated, message.private, now, data)
    }

    fn conversation_event(&mut self, kind: EventKind, now: Timestamp) -> Event {
        let data = self.render_conversation();
        self.event(kind, false, now, data)
    }

    fn event(&mut self, kind: EventKind, private: bool, at: Timestamp, data: Value) -> Event {
        Event {
            account_id: self.conversation.account_id,
            inbox_id: self.conversation.inbox_id,
            contact_inbox_id: self.contact_inbox.id,
            conversation_id: self.conversation.id,
            seq: self.conversation.next_event_seq(),
            kind,
            private,
            at,
            data,
        }
    }

    fn render_message(&self, message: &Message, agent: Option<&UserSummary>) -> Value {
        let context = push::MessageContext {
            conversation: &self.conversation,
            contact_inbox: &self.contact_inbox,
            contact: &self.contact,
            agent,
        };
        push::message(message, context)
    }

    fn render_conversation(&self) -> Value {
        let context = push::ConversationContext {
            contact: &self.contact,
            contact_inbox: &self.contact_inbox,
            channel: self.inbox.channel.kind(),
            assignee: self.assignee.as_ref(),
            last_message: self.last_message.as_ref(),
            labels: &[],
        };
        push::conversation(&self.conversation, context)
    }

    /// Hands the writes, the conversation's new state and the events to the writer; answers
    /// `reply` with `value` once durable.
    fn commit<T: Send + 'static>(
        &mut self,
        events: Vec<Event>,
        writes: Vec<Write>,
        reply: Reply<T>,
        value: T,
    ) {
        // Nobody else waits on this change, so whether it became durable concerns only `reply`.
        drop(self.commit_tracked(events, writes, reply, value));
    }

    /// Like [`Self::commit`], and returns a future that tells whether the change became
    /// durable (a reply is delivered only if it did).
    fn commit_tracked<T: Send + 'static>(
        &mut self,
        events: Vec<Event>,
        mut writes: Vec<Write>,
        reply: Reply<T>,
        value: T,
    ) -> Durable {
        writes.push(Write::SaveConversation(self.conversation.clone()));
        writes.extend(events.into_iter().map(Write::AppendEvent));
        let (done, durable) = oneshot::channel();
        let poisoned = self.poisoned.clone();
        let request = WriteRequest {
            key: self.conversation.id,
            writes,
            done: Some(done),
            on_failure: Some(Box::new(move || poisoned.store(true, Ordering::Release))),
        };
        if let Err(error) = self.registry.writers().submit(request) {
            self.poisoned.store(true, Ordering::Release);
            let _ = reply.send(Err(error.into()));
            return futures::future::ready(false).boxed().shared();
        }
        let durable = async move {
            match durable.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(StorageError::WriterGone.to_string()),
            }
        };
        let durable = durable.boxed().shared();
        let answered = durable.clone();
        tokio::spawn(async move {
            let outcome = answered.await.map(|()| value);
            let _ = reply.send(outcome.map_err(|error| StorageError::Database(error).into()));
        });
        async move { durable.await.is_ok() }.boxed().shared()
    }

    fn enqueue_delivery(&mut self, message: Message, sender: &UserSummary, durable: Durable) {
        let conversation = self.render_conversation();
        let context = push::WebhookContext {
            account_name: &self.account.name,
            inbox_name: &self.inbox.name,
            conversation: &conversation,
            sender: push::webhook_user(sender),
        };
        let webhook_payload = push::webhook_message("message_created", &message, context);
        let job = DeliveryJob {
            inbox: self.inbox.clone(),
            recipient: self.contact_inbox.source_id.clone(),
            message,
            reply_to: None,
            webhook_payload,
        };
        if self.outbound.send(OutboundItem { job, durable }).is_err() {
            tracing::error!(conversation.id = %self.conversation.id, "outbound queue closed");
        }
    }

    fn stop_if_idle(&self, myself: &ActorRef<ConversationMessage>) {
        if self.last_active.elapsed() >= self.registry.config().conversation_idle {
            tracing::debug!(conversation.id = %self.conversation.id, "conversation passivated");
            // Drain: requests already queued are still handled; later ones are refused and
            // the registry sends them to a fresh actor once this one has stopped.
            let _ = myself.drain();
        }
    }
}

fn set_attribute(attributes: &mut Value, key: &str, value: Value) {
    if !attributes.is_object() {
        *attributes = json!({});
    }
    if let Some(fields) = attributes.as_object_mut() {
        fields.insert(key.to_owned(), value);
    }
}

/// Delivers a conversation's replies one at a time, in order, each only once it is durable.
/// Outcomes go back through the registry, so they reach the conversation even if the actor
/// that queued the reply has since stopped.
async fn run_outbound(
    registry: Registry,
    id: ConversationId,
    mut queue: mpsc::UnboundedReceiver<OutboundItem>,
) {
    while let Some(OutboundItem { job, durable }) = queue.recv().await {
        if !durable.await {
            continue;
        }
        let outcome = deliver_with_retries(registry.deliverer(), &job, registry.config().retry)
            .await
            .map_err(|error| error.message);
        if let Err(error) = &outcome {
            tracing::warn!(conversation.id = %id, message.id = %job.message.id, error = %error, "delivery failed");
        }
        registry
            .tell_conversation(id, ConversationMessage::Delivered(job.message.id, outcome))
            .await;
    }
}
