//! Users (agents and administrators) as other parts of the engine see them.

use crate::UserId;
use serde::{Deserialize, Serialize};

/// A user's role in an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An agent: sees the inboxes they are a member of.
    Agent,
    /// An administrator: sees every inbox of the account.
    Administrator,
}

impl Role {
    /// The name the API shows and accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Administrator => "administrator",
        }
    }

    /// Parses the name a request carries.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "agent" => Some(Role::Agent),
            "administrator" => Some(Role::Administrator),
            _ => None,
        }
    }
}

/// Whether an agent takes new conversations. An agent is `Offline` whenever they have no
/// connection; while connected they are what they last chose (`Online` until they choose).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Takes new conversations.
    Online,
    /// Connected, but takes no new conversations.
    Busy,
    /// Takes no new conversations and shows as away.
    Offline,
}

impl Availability {
    /// The name the API shows and accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Busy => "busy",
            Availability::Offline => "offline",
        }
    }

    /// Parses the name a request carries.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "online" => Some(Availability::Online),
            "busy" => Some(Availability::Busy),
            "offline" => Some(Availability::Offline),
            _ => None,
        }
    }
}

/// What events and listings show of an agent.
#[derive(Clone, Debug, PartialEq)]
pub struct UserSummary {
    /// The user id.
    pub id: UserId,
    /// The full name.
    pub name: String,
    /// The name shown to customers.
    pub display_name: Option<String>,
    /// The e-mail address.
    pub email: String,
    /// The avatar, if any.
    pub avatar_url: String,
}
