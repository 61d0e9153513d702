//! The channel actor: one inbox's connection, and the router to its customers' lanes.
//!
//! It does no I/O itself, so it never stalls: an inbound message is passed straight to the
//! lane of the customer who sent it ([`crate::lane`]), which does the slow work. Customers are
//! therefore serialized only against themselves, however busy the inbox.
//!
//! It also owns the inbox's round-robin rotation, so every auto-assignment pick for the inbox
//! is made in one place, one at a time.

use crate::error::EngineError;
use crate::lane::{ContactLane, LaneMessage};
use crate::registry::{Ingested, Registry};
use ractor::{
    Actor, ActorId, ActorProcessingErr, ActorRef, MessagingErr, RpcReplyPort, SupervisionEvent,
};
use std::collections::{HashMap, HashSet};
use switchyard_engine::InboxId;
use switchyard_engine::assignment::RoundRobin;
use switchyard_engine::channel::Inbox;
use switchyard_engine::inbound::InboundMessage;
use switchyard_engine::user::UserSummary;

/// The messages a channel actor handles.
pub enum ChannelMessage {
    /// A customer message to route.
    Inbound(
        Box<InboundMessage>,
        RpcReplyPort<Result<Ingested, EngineError>>,
    ),
    /// Pick an online member for a new conversation.
    PickAssignee(RpcReplyPort<Option<UserSummary>>),
    /// The inbox's members changed: read them again.
    MembersChanged,
    /// A lane has been quiet long enough to stop.
    LaneIdle(String, ActorId),
}

/// The channel actor.
pub struct ChannelActor;

/// A customer's lane, running or on its way out.
enum LaneSlot {
    Active(ActorRef<LaneMessage>),
    /// Draining: messages for the customer wait here until the old lane has stopped, so two
    /// lanes never work for the same customer at once.
    Draining(ActorId, Vec<LaneMessage>),
}

/// What a channel actor holds.
pub struct ChannelState {
    registry: Registry,
    inbox: Inbox,
    members: Vec<UserSummary>,
    rotation: RoundRobin,
    lanes: HashMap<String, LaneSlot>,
    lane_keys: HashMap<ActorId, String>,
}

impl Actor for ChannelActor {
    type Msg = ChannelMessage;
    type State = ChannelState;
    type Arguments = (InboxId, Registry);

    async fn pre_start(
        &self,
        _: ActorRef<Self::Msg>,
        (inbox, registry): (InboxId, Registry),
    ) -> Result<ChannelState, ActorProcessingErr> {
        let store = registry.store();
        let inbox = store
            .inbox(inbox)
            .await?
            .ok_or(EngineError::NotFound("inbox"))?;
        let members = load_members(&registry, inbox.id).await?;
        Ok(ChannelState {
            registry,
            inbox,
            members,
            rotation: RoundRobin::new(),
            lanes: HashMap::new(),
            lane_keys: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: ChannelMessage,
        state: &mut ChannelState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ChannelMessage::Inbound(message, reply) => {
                let key = message.contact.source_id.clone();
                state
                    .route(&myself, key, LaneMessage::Inbound(message, reply))
                    .await;
            }
            ChannelMessage::PickAssignee(reply) => {
                let _ = reply.send(state.pick_assignee());
            }
            ChannelMessage::MembersChanged => {
                match load_members(&state.registry, state.inbox.id).await {
                    Ok(members) => state.members = members,
                    Err(error) => {
                        tracing::warn!(inbox.id = %state.inbox.id, error = %error, "members not reloaded")
                    }
                }
            }
            ChannelMessage::LaneIdle(key, lane) => state.drain_lane(key, lane),
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut ChannelState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(lane, _, _) => {
                state.lane_stopped(&myself, lane.get_id()).await
            }
            SupervisionEvent::ActorFailed(lane, error) => {
                tracing::error!(inbox.id = %state.inbox.id, error = %error, "contact lane failed");
                state.lane_stopped(&myself, lane.get_id()).await;
            }
            _ => {}
        }
        Ok(())
    }
}

async fn load_members(
    registry: &Registry,
    inbox: InboxId,
) -> Result<Vec<UserSummary>, EngineError> {
    let mut members = Vec::new();
    for user in registry.store().inbox_members(inbox).await? {
        if let Some(user) = registry.store().user(user).await? {
            members.push(user.summary());
        }
    }
    Ok(members)
}

impl ChannelState {
    /// Hands a message to the customer's lane, starting one if needed.
    async fn route(
        &mut self,
        myself: &ActorRef<ChannelMessage>,
        key: String,
        message: LaneMessage,
    ) {
        let message = match self.lanes.get_mut(&key) {
            Some(LaneSlot::Draining(_, waiting)) => {
                waiting.push(message);
                return;
            }
            Some(LaneSlot::Active(lane)) => match lane.cast(message) {
                Ok(()) => return,
                // The lane died between its failure and our hearing of it.
                Err(MessagingErr::SendErr(message)) => message,
                Err(_) => return,
            },
            None => message,
        };
        match self.start_lane(myself, &key).await {
            Ok(lane) => {
                let _ = lane.cast(message);
            }
            Err(error) => message.fail(error),
        }
    }

    async fn start_lane(
        &mut self,
        myself: &ActorRef<ChannelMessage>,
        key: &str,
    ) -> Result<ActorRef<LaneMessage>, EngineError> {
        let arguments = (
            self.inbox.clone(),
            key.to_owned(),
            self.registry.clone(),
            myself.clone(),
        );
        let (lane, _) = Actor::spawn_linked(None, ContactLane, arguments, myself.get_cell())
            .await
            .map_err(|error| EngineError::Unavailable(format!("lane failed to start: {error}")))?;
        self.lanes
            .insert(key.to_owned(), LaneSlot::Active(lane.clone()));
        self.lane_keys.insert(lane.get_id(), key.to_owned());
        Ok(lane)
    }

    fn drain_lane(&mut self, key: String, lane_id: ActorId) {
        if let Some(LaneSlot::Active(lane)) = self.lanes.get(&key)
            && lane.get_id() == lane_id
        {
            let _ = lane.drain();
            self.lanes
                .insert(key, LaneSlot::Draining(lane_id, Vec::new()));
        }
    }

    /// A lane stopped: forget it, and start its successor for any messages that waited.
    async fn lane_stopped(&mut self, myself: &ActorRef<ChannelMessage>, lane_id: ActorId) {
        let Some(key) = self.lane_keys.remove(&lane_id) else {
            return;
        };
        let waiting = match self.lanes.remove(&key) {
            Some(LaneSlot::Draining(id, waiting)) if id == lane_id => waiting,
            Some(LaneSlot::Active(lane)) if lane.get_id() == lane_id => Vec::new(),
            Some(other) => {
                self.lanes.insert(key, other);
                return;
            }
            None => Vec::new(),
        };
        for message in waiting {
            self.route(myself, key.clone(), message).await;
        }
    }

    fn pick_assignee(&mut self) -> Option<UserSummary> {
        let presence = self.registry.presence();
        let online: HashSet<_> = self
            .members
            .iter()
            .map(|member| member.id)
            .filter(|member| presence.is_online(*member))
            .collect();
        let pick = self.rotation.pick(&online)?;
        self.members
            .iter()
            .find(|member| member.id == pick)
            .cloned()
    }
}
