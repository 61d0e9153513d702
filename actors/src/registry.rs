//! Actor addressing: from an id to the actor that owns it, started on demand.
//!
//! Callers never hold actor references for long; they ask the registry each time. That keeps
//! passivation and restarts invisible to them, and it is the one place that will decide, in a
//! cluster, whether a conversation's owner is on this node or another.
//!
//! A send that finds the actor stopping (draining after a quiet period, or just failed) gets
//! its message back from the mailbox; the registry then waits for the actor to be retired and
//! sends again to a fresh one. So a request is never lost to passivation.

use crate::bus::EventBus;
use crate::channel::{ChannelActor, ChannelMessage};
use crate::conversation::{ConversationActor, ConversationMessage, IncomingOutcome, OutgoingDraft};
use crate::delivery::{Deliverer, RetryPolicy};
use crate::error::EngineError;
use crate::presence::Presence;
use crate::supervisor::{Supervised, Supervisor};
use ractor::concurrency::oneshot;
use ractor::{Actor, ActorCell, ActorId, ActorRef, MessagingErr, RpcReplyPort};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use switchyard_engine::channel::Inbox;
use switchyard_engine::contact::{Contact, ContactInbox};
use switchyard_engine::conversation::{Conversation, ConversationStatus};
use switchyard_engine::inbound::{InboundMessage, StatusReport};
use switchyard_engine::message::Message;
use switchyard_engine::user::UserSummary;
use switchyard_engine::{ConversationId, InboxId, MessageId, UserId};
use switchyard_storage::{IdAllocator, IdSequence, NewConversation, Store, WriterPool};
use tokio::sync::OnceCell;

/// Timing and retry settings of the actor system.
#[derive(Clone, Copy, Debug)]
pub struct RegistryConfig {
    /// A conversation actor stops after this long without requests.
    pub conversation_idle: Duration,
    /// A customer's lane stops after this long without messages.
    pub lane_idle: Duration,
    /// The longest a caller waits for an actor's answer.
    pub call_timeout: Duration,
    /// Outbound delivery retries.
    pub retry: RetryPolicy,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            conversation_idle: Duration::from_secs(300),
            lane_idle: Duration::from_secs(60),
            call_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

/// How many times a send is retried while its actor is being replaced.
const SEND_ATTEMPTS: u32 = 200;
/// The pause between those retries.
const SEND_RETRY_PAUSE: Duration = Duration::from_millis(5);

/// A slot for one actor: filled once, by whoever asks first.
type Slot<M> = Arc<OnceCell<ActorRef<M>>>;

/// The shared address book of the node's actors. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    writers: WriterPool,
    message_ids: IdAllocator,
    bus: EventBus,
    presence: Presence,
    deliverer: Arc<dyn Deliverer>,
    config: RegistryConfig,
    conversations: Mutex<HashMap<ConversationId, Slot<ConversationMessage>>>,
    channels: Mutex<HashMap<InboxId, Slot<ChannelMessage>>>,
    supervisor: OnceLock<ActorCell>,
    /// Which id each supervised actor owns, for the supervisor to retire it.
    supervised: Mutex<HashMap<ActorId, Supervised>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// What became of a customer message handed to an inbox.
#[derive(Clone, Debug)]
pub enum Ingested {
    /// Stored as this message of this conversation.
    Stored {
        /// The message.
        message: Box<Message>,
        /// The conversation's display id.
        display_id: i64,
    },
    /// The provider id was already stored: nothing new was stored.
    Duplicate,
}

impl Registry {
    /// Starts the supervisors and returns the registry.
    pub async fn start(
        store: Store,
        writers: WriterPool,
        presence: Presence,
        deliverer: Arc<dyn Deliverer>,
        config: RegistryConfig,
    ) -> Result<Registry, EngineError> {
        let registry = Registry {
            inner: Arc::new(Inner {
                message_ids: IdAllocator::new(store.clone(), IdSequence::Message, 1_000),
                store,
                writers,
                bus: EventBus::new(),
                presence,
                deliverer,
                config,
                conversations: Mutex::default(),
                channels: Mutex::default(),
                supervisor: OnceLock::new(),
                supervised: Mutex::default(),
            }),
        };
        let (supervisor, _) = Actor::spawn(None, Supervisor, registry.clone())
            .await
            .map_err(|error| {
                EngineError::Unavailable(format!("supervisor failed to start: {error}"))
            })?;
        let _ = registry.inner.supervisor.set(supervisor.get_cell());
        Ok(registry)
    }

    /// Stops every actor after it has handled what is already in its mailbox (conversations
    /// wait until what they handed the writer is committed), then the supervisor.
    pub async fn shutdown(&self) {
        if let Some(supervisor) = self.inner.supervisor.get() {
            supervisor
                .drain_children_and_wait(Some(Duration::from_secs(10)))
                .await;
            let _ = supervisor
                .drain_and_wait(Some(Duration::from_secs(1)))
                .await;
        }
    }

    /// The storage handle.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The write-behind writers.
    pub fn writers(&self) -> &WriterPool {
        &self.inner.writers
    }

    /// The online agents.
    pub fn presence(&self) -> &Presence {
        &self.inner.presence
    }

    /// The event bus.
    pub fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    /// The outbound provider client.
    pub fn deliverer(&self) -> &Arc<dyn Deliverer> {
        &self.inner.deliverer
    }

    /// Timing settings.
    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    /// The next message id.
    pub async fn next_message_id(&self) -> Result<MessageId, EngineError> {
        Ok(MessageId(self.inner.message_ids.next().await?))
    }

    /// Hands a customer message to its inbox: deduplicated, its contact and conversation
    /// resolved, stored. Returns once durable.
    pub async fn ingest(
        &self,
        inbox: InboxId,
        message: InboundMessage,
    ) -> Result<Ingested, EngineError> {
        let message = Box::new(message);
        self.ask_channel(inbox, |reply| ChannelMessage::Inbound(message, reply))
            .await?
    }

    /// Applies a provider's delivery report to the message it names. Reports on messages
    /// this inbox never sent (unknown ids, or a customer's own messages) are ignored.
    ///
    /// LIMITATION: a report that arrives before the provider's id of the reply is stored
    /// (Meta can report `sent` within milliseconds) finds no message and is ignored; later
    /// reports (`delivered`, `read`) still apply.
    pub async fn report_status(
        &self,
        inbox: InboxId,
        report: StatusReport,
    ) -> Result<(), EngineError> {
        let store = self.store();
        let Some(message) = store
            .sent_message_by_source_id(inbox, &report.source_id)
            .await?
        else {
            tracing::debug!(inbox.id = %inbox, "status report for an unknown message ignored");
            return Ok(());
        };
        let conversation = message.conversation_id;
        self.ask_conversation(conversation, |reply| {
            ConversationMessage::ProviderStatus(message.id, report, reply)
        })
        .await?
    }

    /// Starts a conversation for a customer and announces it. Returns once durable.
    pub async fn start_conversation(
        &self,
        inbox: &Inbox,
        contact: &Contact,
        contact_inbox: &ContactInbox,
        custom_attributes: serde_json::Value,
    ) -> Result<Conversation, EngineError> {
        let new = NewConversation {
            account_id: inbox.account_id,
            inbox_id: inbox.id,
            contact_id: contact.id,
            contact_inbox_id: contact_inbox.id,
            status: ConversationStatus::Open,
            additional_attributes: serde_json::json!({}),
            custom_attributes,
            at: switchyard_engine::Timestamp::now(),
        };
        let conversation = self.store().create_conversation(&new).await?;
        self.ask_conversation(conversation.id, ConversationMessage::Opened)
            .await?
    }

    /// Adds a customer message to a known conversation (the Client API path), reopening it
    /// if resolved. Returns once durable.
    pub async fn post_incoming(
        &self,
        conversation: ConversationId,
        message: InboundMessage,
    ) -> Result<Message, EngineError> {
        let message = Box::new(message);
        let outcome = self
            .ask_conversation(conversation, |reply| ConversationMessage::Incoming {
                message,
                allow_reopen: true,
                reply,
            })
            .await??;
        match outcome {
            IncomingOutcome::Stored(message) => Ok(message),
            IncomingOutcome::Resolved => {
                Err(EngineError::Invalid("conversation is resolved".into()))
            }
        }
    }

    /// Adds an agent's reply or private note. Returns once durable; delivery follows.
    pub async fn reply(
        &self,
        conversation: ConversationId,
        draft: OutgoingDraft,
    ) -> Result<Message, EngineError> {
        let draft = Box::new(draft);
        self.ask_conversation(conversation, |reply| {
            ConversationMessage::Outgoing(draft, reply)
        })
        .await?
    }

    /// Assigns a conversation to an agent, or unassigns it.
    pub async fn assign(
        &self,
        conversation: ConversationId,
        agent: Option<UserSummary>,
    ) -> Result<Conversation, EngineError> {
        self.ask_conversation(conversation, |reply| {
            ConversationMessage::Assign(agent, reply)
        })
        .await?
    }

    /// Sets a conversation's status.
    pub async fn set_status(
        &self,
        conversation: ConversationId,
        status: ConversationStatus,
    ) -> Result<Conversation, EngineError> {
        self.ask_conversation(conversation, |reply| {
            ConversationMessage::SetStatus(status, reply)
        })
        .await?
    }

    /// A conversation's current state, as its actor holds it.
    pub async fn snapshot(
        &self,
        conversation: ConversationId,
    ) -> Result<Conversation, EngineError> {
        self.ask_conversation(conversation, ConversationMessage::Snapshot)
            .await
    }

    /// Picks an online member of the inbox by round robin.
    pub async fn pick_assignee(&self, inbox: InboxId) -> Option<UserSummary> {
        match self.ask_channel(inbox, ChannelMessage::PickAssignee).await {
            Ok(pick) => pick,
            Err(error) => {
                tracing::warn!(inbox.id = %inbox, error = %error, "auto-assignment skipped");
                None
            }
        }
    }

    /// Tells an inbox's channel actor that its members changed.
    pub async fn inbox_members_changed(&self, inbox: InboxId) {
        self.tell_channel(inbox, ChannelMessage::MembersChanged)
            .await;
    }

    /// Sends a message to a conversation without waiting for an answer.
    pub async fn tell_conversation(&self, id: ConversationId, message: ConversationMessage) {
        if let Err(error) = self.send_conversation(id, message).await {
            tracing::warn!(conversation.id = %id, error = %error, "message to conversation dropped");
        }
    }

    /// Sends a request to a conversation and waits for the answer.
    pub async fn ask_conversation<R: Send + 'static>(
        &self,
        id: ConversationId,
        request: impl FnOnce(RpcReplyPort<R>) -> ConversationMessage,
    ) -> Result<R, EngineError> {
        let (reply, answer) = oneshot();
        self.send_conversation(id, request(reply.into())).await?;
        self.await_answer(answer).await
    }

    async fn ask_channel<R: Send + 'static>(
        &self,
        inbox: InboxId,
        request: impl FnOnce(RpcReplyPort<R>) -> ChannelMessage,
    ) -> Result<R, EngineError> {
        let (reply, answer) = oneshot();
        self.send_channel(inbox, request(reply.into())).await?;
        self.await_answer(answer).await
    }

    async fn tell_channel(&self, inbox: InboxId, message: ChannelMessage) {
        if let Err(error) = self.send_channel(inbox, message).await {
            tracing::warn!(inbox.id = %inbox, error = %error, "message to channel dropped");
        }
    }

    async fn await_answer<R>(
        &self,
        answer: ractor::concurrency::OneshotReceiver<R>,
    ) -> Result<R, EngineError> {
        match tokio::time::timeout(self.inner.config.call_timeout, answer).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(EngineError::Unavailable(
                "the actor stopped before answering".into(),
            )),
            Err(_) => Err(EngineError::Unavailable(
                "the actor did not answer in time".into(),
            )),
        }
    }

    async fn send_conversation(
        &self,
        id: ConversationId,
        message: ConversationMessage,
    ) -> Result<(), EngineError> {
        let what = format!("conversation {id}");
        cast_until_accepted(message, &what, || self.conversation(id)).await
    }

    async fn send_channel(
        &self,
        inbox: InboxId,
        message: ChannelMessage,
    ) -> Result<(), EngineError> {
        let what = format!("inbox {inbox}");
        cast_until_accepted(message, &what, || self.channel(inbox)).await
    }

    /// The conversation's actor, started (from storage) if it is not running.
    async fn conversation(
        &self,
        id: ConversationId,
    ) -> Result<ActorRef<ConversationMessage>, EngineError> {
        let arguments = (id, self.clone());
        let owned = Supervised::Conversation(id);
        self.running(
            &self.inner.conversations,
            id,
            ConversationActor,
            arguments,
            owned,
        )
        .await
    }

    /// The inbox's channel actor, started if it is not running.
    async fn channel(&self, inbox: InboxId) -> Result<ActorRef<ChannelMessage>, EngineError> {
        let arguments = (inbox, self.clone());
        let owned = Supervised::Channel(inbox);
        self.running(&self.inner.channels, inbox, ChannelActor, arguments, owned)
            .await
    }

    /// The actor in `key`'s slot, spawned under the supervisor by the first caller to find
    /// the slot empty (the others wait for it). A failed start leaves the slot empty.
    async fn running<K, A>(
        &self,
        slots: &Mutex<HashMap<K, Slot<A::Msg>>>,
        key: K,
        handler: A,
        arguments: A::Arguments,
        owned: Supervised,
    ) -> Result<ActorRef<A::Msg>, EngineError>
    where
        K: std::hash::Hash + Eq + Copy,
        A: Actor,
    {
        let actor = slot(slots, key)
            .get_or_try_init(|| async {
                let supervisor = self.supervisor()?;
                let (actor, _) = Actor::spawn_linked(None, handler, arguments, supervisor)
                    .await
                    .map_err(|error| spawn_error(owned, error))?;
                self.remember(actor.get_id(), owned);
                Ok(actor)
            })
            .await
            .cloned();
        if actor.is_err() {
            forget_empty(slots, key);
        }
        actor
    }

    /// Forgets a stopped or failed conversation actor once everything it handed the writer
    /// is durable, so that its successor starts from complete state.
    pub(crate) async fn retire_conversation(&self, id: ConversationId, actor: ActorId) {
        // An empty request is committed after every earlier request of the same conversation.
        if let Err(error) = self.writers().write(id, Vec::new()).await {
            tracing::warn!(conversation.id = %id, error = %error, "retiring without write barrier");
        }
        forget(&self.inner.conversations, id, actor);
    }

    /// Forgets a stopped or failed channel actor.
    pub(crate) fn retire_channel(&self, inbox: InboxId, actor: ActorId) {
        forget(&self.inner.channels, inbox, actor);
    }

    fn remember(&self, actor: ActorId, key: Supervised) {
        let mut supervised = self
            .inner
            .supervised
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        supervised.insert(actor, key);
    }

    /// What a supervised actor owned; the entry is removed.
    pub(crate) fn take_supervised(&self, actor: ActorId) -> Option<Supervised> {
        let mut supervised = self
            .inner
            .supervised
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        supervised.remove(&actor)
    }

    fn supervisor(&self) -> Result<ActorCell, EngineError> {
        self.inner
            .supervisor
            .get()
            .cloned()
            .ok_or_else(|| EngineError::Unavailable("registry is not started".into()))
    }

    /// Whether an agent is online and may be assigned.
    pub fn is_online(&self, user: UserId) -> bool {
        self.presence().is_online(user)
    }

    /// An agent's availability as the API and `/cable` show it.
    pub fn availability(&self, user: UserId) -> switchyard_engine::user::Availability {
        self.presence().availability(user)
    }
}

fn slot<K: std::hash::Hash + Eq + Copy, M>(map: &Mutex<HashMap<K, Slot<M>>>, key: K) -> Slot<M> {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    map.entry(key).or_default().clone()
}

fn forget<K: std::hash::Hash + Eq + Copy, M>(
    map: &Mutex<HashMap<K, Slot<M>>>,
    key: K,
    actor: ActorId,
) {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    let is_that_actor = map
        .get(&key)
        .and_then(|slot| slot.get())
        .is_some_and(|current| current.get_id() == actor);
    if is_that_actor {
        map.remove(&key);
    }
}

fn forget_empty<K: std::hash::Hash + Eq + Copy, M>(map: &Mutex<HashMap<K, Slot<M>>>, key: K) {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    if map.get(&key).is_some_and(|slot| slot.get().is_none()) {
        map.remove(&key);
    }
}

fn spawn_error(owned: Supervised, error: ractor::SpawnErr) -> EngineError {
    // The actor's start reads storage; a missing row comes back as the start error's text.
    let text = error.to_string();
    let kind = match owned {
        Supervised::Conversation(_) => "conversation",
        Supervised::Channel(_) => "inbox",
    };
    if text.contains("not found") {
        EngineError::NotFound(kind)
    } else {
        EngineError::Unavailable(format!("{kind} actor failed to start: {text}"))
    }
}

/// Casts `message` to the actor `locate` finds. An actor that is stopping hands the message
/// back; then the registry is asked again after a pause, until a live actor takes it.
async fn cast_until_accepted<M, F, Fut>(
    mut message: M,
    what: &str,
    locate: F,
) -> Result<(), EngineError>
where
    M: ractor::Message,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<ActorRef<M>, EngineError>>,
{
    for _ in 0..SEND_ATTEMPTS {
        match locate().await?.cast(message) {
            Ok(()) => return Ok(()),
            Err(MessagingErr::SendErr(returned)) => message = returned,
            Err(error) => return Err(EngineError::Unavailable(error.to_string())),
        }
        tokio::time::sleep(SEND_RETRY_PAUSE).await;
    }
    Err(EngineError::Unavailable(format!(
        "{what} is not accepting messages"
    )))
}
