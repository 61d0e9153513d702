//! The agent session actor: one agent's `/cable` connection.
//!
//! The session watches the accounts the agent subscribed to, keeps only the events of inboxes
//! the agent may see, renders each as an ActionCable frame and puts it in the socket's
//! outbox. The outbox is bounded: a client that does not read fast enough is disconnected
//! (it can reconnect and catch up), never allowed to grow the server's memory.

use crate::bus::EventBus;
use crate::presence::Presence;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, pg};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use switchyard_engine::event::{Event, EventKind};
use switchyard_engine::push;
use switchyard_engine::user::Role;
use switchyard_engine::{AccountId, InboxId, UserId};
use switchyard_storage::{StorageError, Store};
use tokio::sync::mpsc;

/// Who holds a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subscriber {
    /// An agent or administrator; counts as online while the session lives.
    Agent(UserId),
    /// A customer, through the pubsub token of their contact inbox (a website or app using the
    /// Client API).
    Contact(i64),
}

/// Which of an account's events a session may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Every inbox (administrators).
    AllInboxes,
    /// Only these (agents: the inboxes they are members of).
    Inboxes(HashSet<InboxId>),
    /// Only this customer's own conversations, without private notes or agent-only events.
    Contact(i64),
}

impl Visibility {
    fn shows(&self, event: &Event) -> bool {
        match self {
            Visibility::AllInboxes => true,
            Visibility::Inboxes(inboxes) => inboxes.contains(&event.inbox_id),
            Visibility::Contact(contact_inbox) => {
                event.contact_inbox_id == *contact_inbox
                    && !event.private
                    && event.kind != EventKind::AssigneeChanged
            }
        }
    }
}

/// The messages a session handles.
#[derive(Debug)]
pub enum SessionMessage {
    /// A committed event of a watched account.
    Event(Arc<Event>),
    /// The account's inbox memberships changed: work out again what the agent may see.
    Refresh(AccountId),
    /// Start watching an account, with the ActionCable subscription identifier to answer on.
    Watch {
        /// The account.
        account: AccountId,
        /// What the agent may see.
        visibility: Visibility,
        /// The subscription's identifier, echoed in every frame.
        identifier: String,
        /// Answered once the session receives the account's events, so the subscription is
        /// confirmed only when no later event can be missed.
        joined: RpcReplyPort<()>,
    },
}

/// Starting arguments of a session.
#[derive(Debug)]
pub struct SessionArguments {
    /// Who holds the session.
    pub subscriber: Subscriber,
    /// Frames for the socket.
    pub outbox: mpsc::Sender<String>,
    /// Online tracking.
    pub presence: Presence,
    /// Storage, to read memberships.
    pub store: Store,
}

/// The session actor.
pub struct AgentSession;

/// A watched account.
#[derive(Debug)]
struct Watch {
    visibility: Visibility,
    identifier: String,
}

/// What a session holds.
#[derive(Debug)]
pub struct SessionState {
    subscriber: Subscriber,
    outbox: mpsc::Sender<String>,
    presence: Presence,
    store: Store,
    watching: HashMap<AccountId, Watch>,
}

impl Actor for AgentSession {
    type Msg = SessionMessage;
    type State = SessionState;
    type Arguments = SessionArguments;

    async fn pre_start(
        &self,
        _: ActorRef<Self::Msg>,
        arguments: SessionArguments,
    ) -> Result<SessionState, ActorProcessingErr> {
        if let Subscriber::Agent(user) = arguments.subscriber {
            arguments.presence.connect(user);
        }
        Ok(SessionState {
            subscriber: arguments.subscriber,
            outbox: arguments.outbox,
            presence: arguments.presence,
            store: arguments.store,
            watching: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: SessionMessage,
        state: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SessionMessage::Watch {
                account,
                visibility,
                identifier,
                joined,
            } => {
                if state
                    .watching
                    .insert(
                        account,
                        Watch {
                            visibility,
                            identifier,
                        },
                    )
                    .is_none()
                {
                    pg::join(EventBus::group(account), vec![myself.get_cell()]);
                }
                let _ = joined.send(());
            }
            SessionMessage::Refresh(account) => state.refresh(account).await,
            SessionMessage::Event(event) => {
                let Some(frame) = state.frame(&event) else {
                    return Ok(());
                };
                if state.outbox.try_send(frame).is_err() {
                    tracing::warn!(subscriber = ?state.subscriber, "session outbox full or closed; disconnecting");
                    myself.stop(Some("slow client".into()));
                }
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        for account in state.watching.keys() {
            pg::leave(EventBus::group(*account), vec![myself.get_cell()]);
        }
        if let Subscriber::Agent(user) = state.subscriber {
            state.presence.disconnect(user);
        }
        Ok(())
    }
}

impl SessionState {
    /// Works out again what an agent may see (a customer's view never changes).
    async fn refresh(&mut self, account: AccountId) {
        let Subscriber::Agent(user) = self.subscriber else {
            return;
        };
        let Some(watch) = self.watching.get_mut(&account) else {
            return;
        };
        match visibility(&self.store, account, user).await {
            Ok(Some(visibility)) => watch.visibility = visibility,
            Ok(None) => watch.visibility = Visibility::Inboxes(HashSet::new()),
            Err(error) => {
                tracing::warn!(user.id = %user, error = %error, "visibility not refreshed")
            }
        }
    }

    /// The ActionCable frame for an event, if this subscriber may see it.
    fn frame(&self, event: &Event) -> Option<String> {
        let watch = self.watching.get(&event.account_id)?;
        if !watch.visibility.shows(event) {
            return None;
        }
        let data = match watch.visibility {
            Visibility::Contact(_) => push::for_contact(&event.data),
            _ => event.data.clone(),
        };
        let frame = json!({
            "identifier": watch.identifier,
            "message": {
                "event": event.kind.realtime_name(),
                "data": data,
                "conversation_id": event.conversation_id,
                "seq": event.seq,
            },
        });
        Some(frame.to_string())
    }
}

/// What a user may see of an account: `None` if they are not a member.
pub async fn visibility(
    store: &Store,
    account: AccountId,
    user: UserId,
) -> Result<Option<Visibility>, StorageError> {
    match store.role_of(account, user).await? {
        Some(Role::Administrator) => Ok(Some(Visibility::AllInboxes)),
        Some(Role::Agent) => {
            let inboxes = store.inboxes_of_member(account, user).await?;
            Ok(Some(Visibility::Inboxes(inboxes.into_iter().collect())))
        }
        None => Ok(None),
    }
}
