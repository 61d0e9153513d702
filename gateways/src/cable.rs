//! `/cable`: the ActionCable protocol, as Chatwoot's dashboard and SDKs speak it.
//!
//! The socket task reads client commands and writes frames; events reach it through an
//! [`AgentSession`] actor, which filters them by what the subscriber may see (an agent: their
//! inboxes; a customer: their own conversations) and puts them in a bounded outbox. When the
//! outbox overflows the session stops, the outbox closes, and this task closes the socket: a
//! slow client is disconnected rather than buffered without bound.

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use ractor::{Actor, ActorRef};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use switchyard_actors::session::{
    self, AgentSession, SessionArguments, SessionMessage, Subscriber, Visibility,
};
use switchyard_engine::{AccountId, UserId};
use tokio::sync::mpsc;

/// Frames that may wait for a slow client before it is disconnected.
const OUTBOX_FRAMES: usize = 1_024;
/// The largest frame a client may send (commands and subscription identifiers are tiny).
const MAX_COMMAND_BYTES: usize = 64 * 1024;
/// How long a subscription waits for its session to start receiving events.
const JOIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the server pings, as ActionCable does.
const PING_INTERVAL: Duration = Duration::from_secs(3);

/// The `/cable` route, documented in `api/openapi.rs` like every route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/cable", get(upgrade))
}

/// Upgrades to a WebSocket that speaks ActionCable's JSON protocol (`actioncable-v1-json`).
///
/// Every frame is a JSON text message. The server first sends `{"type":"welcome"}`, then
/// `{"type":"ping","message":<Unix seconds>}` every 3 seconds.
///
/// To receive an account's events the client subscribes to `RoomChannel` with its user's
/// `pubsub_token` (from `GET /api/v1/profile`); the `identifier` is itself a JSON string:
///
/// ```text
/// {"command": "subscribe",
///  "identifier": "{\"channel\":\"RoomChannel\",\"pubsub_token\":\"…\",\"account_id\":1}"}
/// ```
///
/// `account_id` and `user_id` are optional: without `account_id` the subscription covers
/// every account of the user; a `user_id` must be the token's user. A customer subscribes
/// the same way, without `user_id`, with the `pubsub_token` the Client API returned when the
/// contact was created; they receive their own conversations' events, never private notes
/// or `assignee.changed`. The server answers
/// `{"identifier": …, "type": "confirm_subscription"}` once events flow to the socket, or
/// `reject_subscription` when the token, channel, user or account is not valid, followed by a
/// `presence.update` event (`{"account_id", "users": {"<id>": "online"|"offline"},
/// "contacts": {}}`: an agent is online while connected). The heartbeat
/// `{"command":"message","identifier":…,"data":"{\"action\":\"update_presence\"}"}` is
/// answered with a fresh `presence.update`. When the server shuts down it sends
/// `{"type":"disconnect","reason":"server_restart","reconnect":true}` and closes with code
/// 1012.
///
/// Events then arrive as
///
/// ```text
/// {"identifier": …, "message": {"event": …, "data": …, "conversation_id": …, "seq": …}}
/// ```
///
/// where `event` is `conversation.created`, `conversation.status_changed`,
/// `conversation.updated`, `assignee.changed`, `message.created` or `message.updated`, and
/// `data` is the conversation or message in the Application API's shape. Agents receive only
/// the events of inboxes they are members of. A client too slow to read its events is
/// disconnected.
#[utoipa::path(
    get,
    path = "/cable",
    operation_id = "open_cable",
    tag = "Realtime",
    responses(
        (status = 101, description = "Switched to the ActionCable protocol described above"),
        (status = 400, description = "Not a WebSocket upgrade request (plain text)"),
        (status = 426, description = "The connection cannot be upgraded (plain text)"),
    )
)]
async fn upgrade(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols(["actioncable-v1-json"])
        // Client commands are small; a larger frame is refused rather than buffered.
        .max_message_size(MAX_COMMAND_BYTES)
        .on_upgrade(move |socket| serve_socket(socket, state))
}

/// A client command frame.
#[derive(Debug, Deserialize)]
struct Command {
    command: String,
    #[serde(default)]
    identifier: String,
    /// For `message` commands: the action, itself a JSON string (`{"action":"update_presence"}`).
    #[serde(default)]
    data: String,
}

/// The identifier of a `RoomChannel` subscription (itself a JSON string in the frame).
#[derive(Debug, Deserialize)]
struct RoomIdentifier {
    channel: String,
    pubsub_token: String,
    #[serde(default)]
    account_id: Option<serde_json::Value>,
    #[serde(default)]
    user_id: Option<serde_json::Value>,
}

/// One socket's connection state.
struct Connection {
    state: AppState,
    /// The outbox's sender until the session takes it. Only the session may hold it: when
    /// the session stops, the outbox closes, and that is how the socket learns to close.
    outbox: Option<mpsc::Sender<String>>,
    session: Option<(ActorRef<SessionMessage>, Subscriber)>,
    /// The confirmed subscriptions: identifier and account.
    watched: Vec<(String, AccountId)>,
}

async fn serve_socket(mut socket: WebSocket, state: AppState) {
    let (outbox, mut frames) = mpsc::channel::<String>(OUTBOX_FRAMES);
    let mut closing = state.closing.clone();
    let mut connection = Connection {
        state,
        outbox: Some(outbox),
        session: None,
        watched: Vec::new(),
    };
    if socket
        .send(Message::text(json!({ "type": "welcome" }).to_string()))
        .await
        .is_err()
    {
        return;
    }
    let mut ping = tokio::time::interval(PING_INTERVAL);
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let mut answered = true;
                    for reply in connection.command(text.as_str()).await {
                        answered = answered && socket.send(Message::text(reply)).await.is_ok();
                    }
                    if !answered {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            frame = frames.recv(), if connection.session.is_some() => match frame {
                Some(frame) => if socket.send(Message::text(frame)).await.is_err() { break; },
                // The session stopped (the client was too slow): close the socket.
                None => break,
            },
            _ = closing.changed() => {
                // As Rails does on a restart: clients reconnect, to this node or another.
                let frame = json!({ "type": "disconnect", "reason": "server_restart", "reconnect": true });
                let _ = socket.send(Message::text(frame.to_string())).await;
                let _ = socket.send(Message::Close(Some(axum::extract::ws::CloseFrame {
                    code: axum::extract::ws::close_code::RESTART,
                    reason: "server restart".into(),
                }))).await;
                break;
            }
            _ = ping.tick() => {
                let now = switchyard_engine::Timestamp::now().unix_seconds();
                let frame = json!({ "type": "ping", "message": now }).to_string();
                if socket.send(Message::text(frame)).await.is_err() { break; }
            }
        }
    }
    if let Some((session, _)) = connection.session {
        session.stop(Some("socket closed".into()));
    }
}

impl Connection {
    /// Handles one client command; returns the frames to answer with.
    async fn command(&mut self, text: &str) -> Vec<String> {
        let Ok(command) = serde_json::from_str::<Command>(text) else {
            return Vec::new();
        };
        match command.command.as_str() {
            "subscribe" => self.subscribe(&command.identifier).await,
            // An open socket is what makes an agent present; the heartbeat is answered with
            // who else is, as Chatwoot does.
            "message" if command.data.contains("update_presence") => self.presence().await,
            _ => Vec::new(),
        }
    }

    async fn subscribe(&mut self, identifier: &str) -> Vec<String> {
        match self.try_subscribe(identifier).await {
            Ok(accounts) => {
                let confirm = json!({ "identifier": identifier, "type": "confirm_subscription" });
                let mut frames = vec![confirm.to_string()];
                for account in accounts {
                    self.watched.push((identifier.to_owned(), account));
                    frames.extend(self.presence_of(identifier, account).await);
                }
                frames
            }
            Err(reason) => {
                tracing::debug!(reason = %reason, "cable subscription rejected");
                let reject = json!({ "identifier": identifier, "type": "reject_subscription" });
                vec![reject.to_string()]
            }
        }
    }

    /// `presence.update` frames for every watched account.
    async fn presence(&self) -> Vec<String> {
        let mut frames = Vec::new();
        for (identifier, account) in &self.watched {
            frames.extend(self.presence_of(identifier, *account).await);
        }
        frames
    }

    /// Which of the account's agents are online, as Chatwoot's `presence.update` shows it.
    async fn presence_of(&self, identifier: &str, account: AccountId) -> Option<String> {
        let members = match self.state.store.account_users(account).await {
            Ok(members) => members,
            Err(error) => {
                tracing::warn!(account.id = %account, error = %error, "presence not read");
                return None;
            }
        };
        let users: serde_json::Map<String, serde_json::Value> = members
            .iter()
            .map(|member| {
                let status = self.state.registry.availability(member.user_id).as_str();
                (member.user_id.to_string(), json!(status))
            })
            .collect();
        let data = json!({ "account_id": account, "users": users, "contacts": {} });
        let message = json!({ "event": "presence.update", "data": data });
        Some(json!({ "identifier": identifier, "message": message }).to_string())
    }

    /// Subscribes the socket's session to the accounts the identifier names; returns them.
    async fn try_subscribe(&mut self, identifier: &str) -> Result<Vec<AccountId>, String> {
        let room: RoomIdentifier = serde_json::from_str(identifier).map_err(|e| e.to_string())?;
        if room.channel != "RoomChannel" {
            return Err(format!("unknown channel {}", room.channel));
        }
        let (subscriber, watches) = self.resolve(&room).await?;
        let session = self.session(subscriber).await?;
        let mut accounts = Vec::with_capacity(watches.len());
        for (account, visibility) in watches {
            let watch = |joined| SessionMessage::Watch {
                account,
                visibility,
                identifier: identifier.to_owned(),
                joined,
            };
            match session.call(watch, Some(JOIN_TIMEOUT)).await {
                Ok(ractor::rpc::CallResult::Success(())) => accounts.push(account),
                _ => return Err("the session did not join the account's events".into()),
            }
        }
        Ok(accounts)
    }

    /// Who the pubsub token belongs to, and what they may see of which accounts: a user's
    /// token gives an agent's view; without `user_id`, a contact inbox's token gives that
    /// customer's view of their own conversations, as in Chatwoot.
    async fn resolve(
        &self,
        room: &RoomIdentifier,
    ) -> Result<(Subscriber, Vec<(AccountId, Visibility)>), String> {
        let store = &self.state.store;
        let requested_account = room.account_id.as_ref().and_then(as_i64).map(AccountId);
        let requested_user = room.user_id.as_ref().and_then(as_i64).map(UserId);
        let user = store
            .user_by_pubsub_token(&room.pubsub_token)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(user) = user {
            if requested_user.is_some_and(|id| id != user.id) {
                return Err("user_id does not match the pubsub_token".into());
            }
            let accounts = match requested_account {
                Some(account) => vec![account],
                None => store
                    .accounts_of_user(user.id)
                    .await
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|(account, _)| account.id)
                    .collect(),
            };
            let mut watches = Vec::with_capacity(accounts.len());
            for account in accounts {
                watches.push((account, self.visibility(account, user.id).await?));
            }
            return Ok((Subscriber::Agent(user.id), watches));
        }
        if requested_user.is_some() {
            return Err("unknown pubsub_token".into());
        }
        let contact = store
            .contact_inbox_by_pubsub_token(&room.pubsub_token)
            .await
            .map_err(|e| e.to_string())?;
        let (contact, contact_inbox) = contact.ok_or("unknown pubsub_token")?;
        if requested_account.is_some_and(|account| account != contact.account_id) {
            return Err("account_id does not match the pubsub_token".into());
        }
        let watch = (contact.account_id, Visibility::Contact(contact_inbox.id));
        Ok((Subscriber::Contact(contact_inbox.id), vec![watch]))
    }

    async fn visibility(&self, account: AccountId, user: UserId) -> Result<Visibility, String> {
        let visibility = session::visibility(&self.state.store, account, user).await;
        visibility
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "not a member of the account".into())
    }

    /// The socket's session actor, started on the first subscription. A socket speaks for
    /// one subscriber: a second identity on the same socket is refused.
    async fn session(
        &mut self,
        subscriber: Subscriber,
    ) -> Result<ActorRef<SessionMessage>, String> {
        if let Some((session, holder)) = &self.session {
            if *holder != subscriber {
                return Err("this socket is already subscribed with another pubsub_token".into());
            }
            return Ok(session.clone());
        }
        let outbox = self
            .outbox
            .take()
            .ok_or("the socket's session has stopped")?;
        let arguments = SessionArguments {
            subscriber,
            outbox,
            presence: self.state.registry.presence().clone(),
            store: self.state.store.clone(),
        };
        let (session, _) = Actor::spawn(None, AgentSession, arguments)
            .await
            .map_err(|e| e.to_string())?;
        self.session = Some((session.clone(), subscriber));
        Ok(session)
    }
}

fn as_i64(value: &serde_json::Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str()?.parse().ok())
}
