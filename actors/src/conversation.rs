//! The conversation actor: the single writer of one conversation.
//!
//! Every change to a conversation — a customer message, an agent reply, an assignment, a
//! status change, a delivery report — passes through this actor's mailbox, so they are applied
//! one at a time in arrival order and never race. The actor applies the engine's rules,
//! numbers the resulting events, and hands changes and events to the storage writer together.
//! It does not wait for the commit: it goes on with the next message while the writer
//! batches, and each caller is answered when its own change is durable.
//!
//! Whatever must leave the node because of a change — an agent's reply, and for an API inbox
//! with a `webhook_url` a notification of every conversation and message event — is queued
//! with that change's commit and sent by the conversation's outbound task, in order, only once
//! the change is durable.
//!
//! The actor starts on demand with its state read from storage and stops after a quiet period.
//! Before it is forgotten it waits until everything it handed the writer is committed, so the
//! next actor for the conversation never starts from stale state.

use crate::delivery::{
    DeliveryError, DeliveryJob, NotificationJob, ReplyJob, deliver_with_retries,
};
use crate::error::EngineError;
use crate::registry::Registry;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use switchyard_engine::channel::{Channel, Inbox};
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
    /// Jobs the request being handled has produced; they join the outbound queue with its
    /// commit. Every handler that produces jobs commits before it returns, as it does with
    /// events, so jobs never outlive their request.
    outbox: Vec<DeliveryJob>,
}

/// A job waiting for its commit before it is sent.
struct OutboundItem {
    job: DeliveryJob,
    durable: Durable,
}

/// Resolves when a commit is done: `Ok` once the change is durable, or why it is not.
type Durable = Shared<BoxFuture<'static, Result<(), String>>>;

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
        outbox: Vec::new(),
    };
    state.last_message = last.map(|message| state.render_message(&message, None));
    Ok(state)
}

impl ConversationState {
    async fn opened(&mut self, reply: Reply<Conversation>) {
        let now = Timestamp::now();
        let mut events = vec![self.conversation_event(EventKind::ConversationCreated, now)];
        self.notify_conversation("conversation_created", None);
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
        self.notify_message("message_created", &message, None);
        metrics::counter!("switchyard_messages_total", "direction" => "incoming").increment(1);
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
        metrics::counter!("switchyard_messages_total", "direction" => "outgoing").increment(1);
        self.conversation.record_outgoing(now, draft.private);
        let event = self.message_created(&message, Some(&draft.sender), now);
        // A reply leaves; a private note never does. For an API inbox the reply's delivery is
        // its `message_created` webhook call, so it is not notified a second time.
        if !message.private {
            self.queue_reply(&message, &draft.sender);
        }
        let writes = vec![Write::InsertMessage(message.clone())];
        self.commit(vec![event], writes, reply, message);
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
        self.update_message(message, reply).await;
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
            // Nothing new is known: the message stays as it is, and nobody is told.
            Ok(None) => return,
            Ok(Some(source_id)) if message.source_id.as_ref() == Some(&source_id) => return,
            Ok(Some(source_id)) => message.source_id = Some(source_id),
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
        self.update_message(message, reply.into()).await;
    }

    async fn update_message(&mut self, mut message: Message, reply: Reply<()>) {
        let now = Timestamp::now();
        message.updated_at = now;
        let agent = self.agent_of(message.sender).await;
        let data = self.render_message(&message, agent.as_ref());
        let event = self.event(EventKind::MessageUpdated, message.private, now, data);
        self.notify_message("message_updated", &message, agent.as_ref());
        self.commit(vec![event], vec![Write::UpdateMessage(message)], reply, ());
    }

    /// The agent who wrote a message, for rendering it; `None` for other senders, or when the
    /// agent cannot be read (the message is then shown without its sender).
    async fn agent_of(&self, sender: Sender) -> Option<UserSummary> {
        let Sender::User(id) = sender else {
            return None;
        };
        if let Some(assignee) = self.assignee.as_ref().filter(|agent| agent.id == id) {
            return Some(assignee.clone());
        }
        match self.registry.store().user(id).await {
            Ok(user) => user.map(|user| user.summary()),
            Err(error) => {
                tracing::warn!(user.id = %id, error = %error, "message sender not read");
                None
            }
        }
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
        // Chatwoot's webhooks have no assignee event: an assignment is a conversation update.
        // LIMITATION: `conversation_updated` is sent for assignments only; Chatwoot also sends
        // it when the status, priority, labels or first reply change.
        let (kind, webhook_event, changed) = match change {
            Change::Status { from, to } => (
                EventKind::ConversationStatusChanged,
                "conversation_status_changed",
                push::changed_attribute("status", json!(from.as_str()), json!(to.as_str())),
            ),
            Change::Assignee { from, to } => (
                EventKind::AssigneeChanged,
                "conversation_updated",
                push::changed_attribute("assignee_id", json!(from), json!(to)),
            ),
        };
        let event = self.conversation_event(kind, now);
        self.notify_conversation(webhook_event, Some(changed));
        vec![event]
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

    /// Where this conversation's events are announced: its API inbox's `webhook_url`, if
    /// set. Other channels announce nothing; only their replies leave.
    fn notification_url(&self) -> Option<String> {
        match &self.inbox.channel {
            Channel::Api(api) if !api.webhook_url.is_empty() => Some(api.webhook_url.clone()),
            _ => None,
        }
    }

    /// Queues a notification of `event` for the inbox's `webhook_url`, if it has one; the
    /// payload is rendered only then.
    fn notify(&mut self, event: &'static str, render: impl FnOnce(&Self) -> Value) {
        let Some(url) = self.notification_url() else {
            return;
        };
        let payload = render(self);
        let job = NotificationJob {
            url,
            event,
            payload,
        };
        self.outbox.push(DeliveryJob::Notification(job));
    }

    fn notify_conversation(&mut self, event: &'static str, changed: Option<Value>) {
        self.notify(event, |state| {
            push::webhook_conversation(event, state.render_conversation(), changed)
        });
    }

    /// Queues a message event's notification. A private note is never announced outside.
    fn notify_message(
        &mut self,
        event: &'static str,
        message: &Message,
        agent: Option<&UserSummary>,
    ) {
        if message.private {
            return;
        }
        self.notify(event, |state| {
            state.render_webhook_message(event, message, agent)
        });
    }

    fn queue_reply(&mut self, message: &Message, sender: &UserSummary) {
        let webhook_payload = self.render_webhook_message("message_created", message, Some(sender));
        let job = ReplyJob {
            inbox: self.inbox.clone(),
            recipient: self.contact_inbox.source_id.clone(),
            message: message.clone(),
            reply_to: None,
            webhook_payload,
        };
        self.outbox.push(DeliveryJob::Reply(Box::new(job)));
    }

    fn render_webhook_message(
        &self,
        event: &str,
        message: &Message,
        agent: Option<&UserSummary>,
    ) -> Value {
        let conversation = self.render_conversation();
        let sender = match message.sender {
            Sender::Contact(_) => push::webhook_contact(&self.contact),
            Sender::User(_) => agent.map_or(Value::Null, push::webhook_user),
            Sender::System => Value::Null,
        };
        let context = push::WebhookContext {
            account_name: &self.account.name,
            inbox_name: &self.inbox.name,
            conversation: &conversation,
            sender,
        };
        push::webhook_message(event, message, context)
    }

    /// Hands the writes, the conversation's new state and the events to the writer; answers
    /// `reply` with `value` once durable. The jobs this request produced join the outbound
    /// queue, to be sent once the change is durable and dropped if it never becomes so: what
    /// leaves the node must never describe a change storage may lose.
    fn commit<T: Send + 'static>(
        &mut self,
        events: Vec<Event>,
        writes: Vec<Write>,
        reply: Reply<T>,
        value: T,
    ) {
        let jobs = std::mem::take(&mut self.outbox);
        let durable = match self.submit(events, writes) {
            Ok(durable) => durable,
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        let answered = durable.clone();
        tokio::spawn(async move {
            let outcome = answered.await.map(|()| value);
            let _ = reply.send(outcome.map_err(|error| StorageError::Database(error).into()));
        });
        for job in jobs {
            let item = OutboundItem {
                job,
                durable: durable.clone(),
            };
            if self.outbound.send(item).is_err() {
                tracing::error!(conversation.id = %self.conversation.id, "outbound queue closed");
            }
        }
    }

    /// Submits the writes with the conversation's state and the events; a failure to submit
    /// poisons the actor, as a failed commit does.
    fn submit(
        &mut self,
        events: Vec<Event>,
        mut writes: Vec<Write>,
    ) -> Result<Durable, EngineError> {
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
            return Err(error.into());
        }
        let durable = async move {
            match durable.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(StorageError::WriterGone.to_string()),
            }
        };
        Ok(durable.boxed().shared())
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

/// Sends a conversation's jobs one at a time, in order, each only once its change is durable.
/// A reply's outcome goes back through the registry, so it reaches the conversation even if
/// the actor that queued the reply has since stopped.
async fn run_outbound(
    registry: Registry,
    id: ConversationId,
    mut queue: mpsc::UnboundedReceiver<OutboundItem>,
) {
    while let Some(OutboundItem { job, durable }) = queue.recv().await {
        if durable.await.is_err() {
            continue;
        }
        let outcome =
            deliver_with_retries(registry.deliverer(), &job, registry.config().retry).await;
        match job {
            DeliveryJob::Reply(reply) => {
                report_reply(&registry, id, reply.message.id, outcome).await;
            }
            DeliveryJob::Notification(notification) => {
                if let Err(error) = outcome {
                    report_notification_failure(id, &notification, &error);
                }
            }
        }
    }
}

/// Tells the conversation how its reply's delivery ended, so the message's status shows it.
async fn report_reply(
    registry: &Registry,
    id: ConversationId,
    message: MessageId,
    outcome: Result<Option<String>, DeliveryError>,
) {
    let outcome = outcome.map_err(|error| error.message);
    let result = if outcome.is_ok() {
        "delivered"
    } else {
        "failed"
    };
    metrics::counter!("switchyard_replies_total", "outcome" => result).increment(1);
    if let Err(error) = &outcome {
        tracing::warn!(conversation.id = %id, message.id = %message, error = %error, "delivery failed");
    }
    registry
        .tell_conversation(id, ConversationMessage::Delivered(message, outcome))
        .await;
}

/// A notification describes a change that already happened and is stored: its failure is
/// logged and counted, and changes nothing.
fn report_notification_failure(id: ConversationId, job: &NotificationJob, error: &DeliveryError) {
    metrics::counter!("switchyard_webhook_failures_total", "kind" => "api_inbox").increment(1);
    tracing::warn!(
        conversation.id = %id,
        webhook.event = job.event,
        error = %error,
        "webhook notification failed"
    );
}
