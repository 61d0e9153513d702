//! Typed identifiers.
//!
//! Every entity is keyed by a 64-bit integer. Wrapping each in its own type keeps an inbox id
//! from being passed where a conversation id is expected; the wrappers serialize as plain
//! numbers so the Chatwoot-shaped JSON is unchanged.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An account: one tenant, with its own agents, inboxes and conversations.
    AccountId
);
id_type!(
    /// A user: an agent or administrator, possibly a member of several accounts.
    UserId
);
id_type!(
    /// An inbox: one channel connection (an API channel, a WhatsApp number, ...).
    InboxId
);
id_type!(
    /// A contact: one customer within an account.
    ContactId
);
id_type!(
    /// A conversation's global id. The API shows the per-account `display_id` instead.
    ConversationId
);
id_type!(
    /// A message's global id, allocated in arrival order.
    MessageId
);
