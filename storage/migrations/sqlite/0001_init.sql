-- The first schema: tenants, users, inboxes, contacts, conversations, messages and events.
--
-- Conventions: ids are INTEGER; timestamps are INTEGER microseconds since the Unix epoch (the
-- engine's Timestamp); JSON documents are TEXT; enumerations are Chatwoot's integer codes.
-- The SQLite script of the same version describes the same tables.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    locale TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    -- The display id the account's next conversation takes.
    next_display_id INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT,
    email TEXT NOT NULL,
    access_token TEXT NOT NULL UNIQUE,
    pubsub_token TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at INTEGER NOT NULL
) STRICT;
-- E-mail addresses are unique whatever their case.
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE account_users (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_id)
) STRICT;
CREATE INDEX account_users_user ON account_users (user_id);

CREATE TABLE inboxes (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    enable_auto_assignment INTEGER NOT NULL,
    lock_to_single_conversation INTEGER NOT NULL,
    -- Chatwoot's class name, such as Channel::Api.
    channel_type TEXT NOT NULL,
    -- What the channel is found by: the API channel's identifier, the WhatsApp number's digits.
    channel_key TEXT NOT NULL,
    -- The provider's own id for the connection, when it has one (WhatsApp's phone_number_id):
    -- two inboxes on one provider connection would send each other's replies.
    provider_key TEXT,
    -- The engine's Channel as JSON, secrets included.
    channel_config TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (channel_type, channel_key),
    UNIQUE (channel_type, provider_key)
) STRICT;
CREATE INDEX inboxes_account ON inboxes (account_id);

CREATE TABLE inbox_members (
    inbox_id INTEGER NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (inbox_id, user_id)
) STRICT;
CREATE INDEX inbox_members_user ON inbox_members (user_id);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    phone_number TEXT,
    identifier TEXT,
    additional_attributes TEXT NOT NULL,
    custom_attributes TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX contacts_account ON contacts (account_id);

CREATE TABLE contact_inboxes (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    inbox_id INTEGER NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
    -- The provider's identity for the contact; one contact per identity and inbox.
    source_id TEXT NOT NULL,
    pubsub_token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    UNIQUE (inbox_id, source_id)
) STRICT;
CREATE INDEX contact_inboxes_contact ON contact_inboxes (contact_id);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    inbox_id INTEGER NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
    display_id INTEGER NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    contact_inbox_id INTEGER NOT NULL REFERENCES contact_inboxes (id) ON DELETE CASCADE,
    status INTEGER NOT NULL,
    assignee_id INTEGER,
    team_id INTEGER,
    priority INTEGER,
    additional_attributes TEXT NOT NULL,
    custom_attributes TEXT NOT NULL,
    unread_count INTEGER NOT NULL,
    waiting_since INTEGER,
    first_reply_created_at INTEGER,
    agent_last_seen_at INTEGER,
    contact_last_seen_at INTEGER,
    last_activity_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_event_seq INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, display_id)
) STRICT;
CREATE INDEX conversations_listing ON conversations (account_id, status, last_activity_at, id);
CREATE INDEX conversations_contact_inbox ON conversations (contact_inbox_id);

CREATE TABLE messages (
    -- Supplied by the node (reserved in blocks from id_blocks), not allocated here.
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    inbox_id INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_type INTEGER NOT NULL,
    content_type INTEGER NOT NULL,
    content TEXT,
    content_attributes TEXT NOT NULL,
    private INTEGER NOT NULL,
    status INTEGER NOT NULL,
    source_id TEXT,
    -- Contact or User, with the sender's id; both null for system messages.
    sender_type TEXT,
    sender_id INTEGER,
    echo_id TEXT,
    -- The engine's Vec<Attachment> as JSON.
    attachments TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
-- A provider's id is stored once per inbox for incoming messages (retried webhooks are
-- skipped). Outgoing messages learn their provider id later and stay out of this rule, so a
-- reply can never collide with a customer's message.
CREATE UNIQUE INDEX messages_incoming_source ON messages (inbox_id, source_id)
    WHERE source_id IS NOT NULL AND message_type = 0;
-- Finds any message by provider id (delivery reports name outgoing messages this way).
CREATE INDEX messages_source ON messages (inbox_id, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX messages_conversation_order ON messages (conversation_id, created_at, id);

CREATE TABLE events (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    inbox_id INTEGER NOT NULL,
    -- The customer's identity on the inbox (contact inbox), whose own subscription may see
    -- the event unless it is private.
    contact_inbox_id INTEGER NOT NULL,
    -- The realtime name, such as message.created.
    kind TEXT NOT NULL,
    private INTEGER NOT NULL,
    at INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT, WITHOUT ROWID;

-- Id sequences handed out to nodes in blocks; next_value is the first id not yet reserved.
CREATE TABLE id_blocks (
    name TEXT PRIMARY KEY,
    next_value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Which node owns a conversation, with a fencing epoch. Created now so that the cluster can be
-- added without a schema change on a busy table; nothing reads or writes it yet.
CREATE TABLE conversation_leases (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    owner_node TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
