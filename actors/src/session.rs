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
use switchyard_engine::event::Event;
use switchyard_engine::user::Role;
use switchyard_engine::{AccountId, InboxId, UserId};
use switchyard_storage::{StorageError, Store};
use tokio::sync::mpsc;

/// Which of an account's inboxes a session may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Every inbox (administrators).
    AllInboxes,
    /// Only these (agents: the inboxes they are members of).
    Inboxes(HashSet<InboxId>),
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
    /// The agent.
    pub user: UserId,
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
    user: UserId,
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
        arguments.presence.connect(arguments.user);
        Ok(SessionState {
            user: arguments.user,
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
                    tracing::warn!(user.id = %state.user, "session outbox full or closed; disconnecting");
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
        state.presence.disconnect(state.user);
        Ok(())
    }
}

impl SessionState {
    async fn refresh(&mut self, account: AccountId) {
        let Some(watch) = self.watching.get_mut(&account) else {
            return;
        };
        match visibility(&self.store, account, self.user).await {
            Ok(Some(visibility)) => watch.visibility = visibility,
            Ok(None) => watch.visibility = Visibility::Inboxes(HashSet::new()),
            Err(error) => {
                tracing::warn!(user.id = %self.user, error = %error, "visibility not refreshed")
            }
        }
    }

    /// The ActionCable frame for an event, if this agent may see it.
    fn frame(&self, event: &Event) -> Option<String> {
        let watch = self.watching.get(&event.account_id)?;
        let visible = match &watch.visibility {
            Visibility::AllInboxes => true,
            Visibility::Inboxes(inboxes) => inboxes.contains(&event.inbox_id),
        };
        if !visible {
            return None;
        }
        let frame = json!({
            "identifier": watch.identifier,
            "message": {
                "event": event.kind.realtime_name(),
                "data": event.data,
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
