//! The storage interface: one [`Store`] over either backend.
//!
//! Every query is written once, in the SQL both SQLite and PostgreSQL accept (`$1`
//! placeholders, `ON CONFLICT`, `RETURNING`, row values), and run through a small executor
//! ([`executor`]) that hides which database answers. The backends differ only in how they
//! connect, bind values and migrate: see [`sqlite`] and [`postgres`].
//!
//! The store does not cache: every read goes to the database. It must not be used for the
//! hot-path writes of a conversation (messages, conversation state, events); those go through
//! [`crate::WriterPool`], which batches them into [`Store::commit`].

mod commit;
mod executor;
mod migrations;
mod postgres;
mod rows;
mod sql;
mod sqlite;

use crate::records::*;
use crate::{IdSequence, StorageError};
use executor::Executor;
use rand::Rng;
use rand::distr::Alphanumeric;
use rows::*;
use serde_json::json;
use sql::{SqlBuilder, Statement, params};
use std::ops::Range;
use std::sync::Arc;
use switchyard_engine::channel::{Channel, ChannelKind, Inbox, phone_digits};
use switchyard_engine::contact::{Contact, ContactInbox, ContactProfile};
use switchyard_engine::conversation::Conversation;
use switchyard_engine::event::Event;
use switchyard_engine::message::{Message, MessageType};
use switchyard_engine::user::Role;
use switchyard_engine::{
    AccountId, ContactId, ConversationId, InboxId, MessageId, Timestamp, UserId,
};

/// The length of generated access and pubsub tokens: 24 alphanumeric characters carry about
/// 143 bits, far beyond guessing.
const TOKEN_LENGTH: usize = 24;

/// Which database to open.
#[derive(Clone, Debug)]
pub enum StoreConfig {
    /// An SQLite file (created if missing), in WAL mode.
    Sqlite {
        /// The file path.
        path: std::path::PathBuf,
    },
    /// A PostgreSQL server.
    Postgres {
        /// A `postgres://` URL. Connection options go in its query string; for instance
        /// `?options=-csearch_path%3Dtenant_a` puts every table in schema `tenant_a` (the
        /// conformance tests give each test a schema of its own this way).
        url: String,
        /// The most connections to open.
        pool_size: u32,
    },
}

/// A handle on the database; cheap to clone, shared by every part of the node.
#[derive(Clone, Debug)]
pub struct Store {
    executor: Arc<Executor>,
}

impl Store {
    /// Opens the database. Does not migrate: call [`Store::migrate`].
    pub async fn connect(config: &StoreConfig) -> Result<Store, StorageError> {
        let executor = match config {
            StoreConfig::Sqlite { path } => Executor::Sqlite(open_sqlite(path.clone()).await?),
            StoreConfig::Postgres { url, pool_size } => {
                Executor::Postgres(postgres::PostgresExecutor::connect(url, *pool_size).await?)
            }
        };
        tracing::info!(
            storage.backend = executor.backend_name(),
            "storage connected"
        );
        Ok(Store {
            executor: Arc::new(executor),
        })
    }

    /// Applies every migration not yet applied, each in its own transaction, in order.
    /// Safe to run concurrently from several nodes.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        self.executor.migrate().await
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        self.executor.backend_name()
    }

    /// Whether the database answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.executor
            .query("SELECT 1 AS one", Vec::new())
            .await
            .map(drop)
    }

    /// Reserves `count` consecutive ids of a sequence for this node.
    pub async fn reserve_ids(
        &self,
        sequence: IdSequence,
        count: i64,
    ) -> Result<Range<i64>, StorageError> {
        if count < 1 {
            return Err(StorageError::Config(format!(
                "an id block must hold at least one id, not {count}"
            )));
        }
        // `next_value` is the first id nobody holds yet; the first block starts at 1.
        let row = self
            .executor
            .write_one(
                "INSERT INTO id_blocks (name, next_value) VALUES ($1, 1 + CAST($2 AS BIGINT)) \
                 ON CONFLICT (name) DO UPDATE SET next_value = id_blocks.next_value + $2 \
                 RETURNING next_value",
                params![sequence.name(), count],
            )
            .await?;
        let end = row.reader("id_blocks").i64("next_value")?;
        Ok(end - count..end)
    }

    /// Commits the writes in one transaction, in order.
    ///
    /// Writes of one kind are grouped into multi-row statements and repeated updates of one
    /// row collapse to the last, with the same result as applying them one by one. A message
    /// whose incoming provider id is already stored is skipped. One failing write (say, a
    /// message for a conversation that does not exist) fails the whole transaction.
    pub async fn commit(&self, writes: &[&Write]) -> Result<(), StorageError> {
        let statements = commit::statements(writes)?;
        self.executor.transaction(statements).await.map(drop)
    }

    /// Creates an account.
    pub async fn create_account(&self, name: &str, locale: &str) -> Result<Account, StorageError> {
        let sql = format!(
            "INSERT INTO accounts (name, locale, status, next_display_id, created_at) \
             VALUES ($1, $2, 'active', 1, $3) RETURNING {ACCOUNT_COLUMNS}"
        );
        let row = self
            .executor
            .write_one(&sql, params![name, locale, Timestamp::now().0])
            .await?;
        account(&row)
    }

    /// An account by id.
    pub async fn account(&self, id: AccountId) -> Result<Option<Account>, StorageError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        maybe(self.executor.query_opt(&sql, params![id.0]).await?, account)
    }

    /// Creates a user with fresh random access and pubsub tokens. A taken e-mail is a
    /// [`StorageError::Conflict`]. E-mail addresses are compared without regard to case.
    pub async fn create_user(&self, user: &NewUser) -> Result<User, StorageError> {
        let sql = format!(
            "INSERT INTO users (name, display_name, email, access_token, pubsub_token, \
             password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING {USER_COLUMNS}"
        );
        let values = params![
            user.name.as_str(),
            user.display_name.clone(),
            user.email.as_str(),
            random_token(),
            random_token(),
            user.password_hash.clone(),
            Timestamp::now().0,
        ];
        match self.executor.write_one(&sql, values).await {
            Ok(row) => rows::user(&row),
            Err(StorageError::Conflict(what)) if what.contains("email") => Err(
                StorageError::Conflict(format!("the e-mail {} is already taken", user.email)),
            ),
            Err(error) => Err(error),
        }
    }

    /// A user by id.
    pub async fn user(&self, id: UserId) -> Result<Option<User>, StorageError> {
        self.user_where("id = $1", params![id.0]).await
    }

    /// The user owning an access token.
    pub async fn user_by_access_token(&self, token: &str) -> Result<Option<User>, StorageError> {
        self.user_where("access_token = $1", params![token]).await
    }

    /// The user owning a pubsub token.
    pub async fn user_by_pubsub_token(&self, token: &str) -> Result<Option<User>, StorageError> {
        self.user_where("pubsub_token = $1", params![token]).await
    }

    /// The user with an e-mail address, compared without regard to case (for signing in).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        self.user_where("lower(email) = lower($1)", params![email])
            .await
    }

    /// A user's password hash, if the user exists and may sign in with a password. Kept apart
    /// from [`User`] so that the hash is read only where a password is checked.
    pub async fn password_hash(&self, id: UserId) -> Result<Option<String>, StorageError> {
        let sql = "SELECT password_hash FROM users WHERE id = $1";
        let row = self.executor.query_opt(sql, params![id.0]).await?;
        Ok(row
            .map(|row| row.reader("users").opt_text("password_hash"))
            .transpose()?
            .flatten())
    }

    async fn user_where(
        &self,
        condition: &str,
        values: Vec<sql::Value>,
    ) -> Result<Option<User>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}");
        maybe(self.executor.query_opt(&sql, values).await?, rows::user)
    }

    /// Makes a user a member of an account with a role (replacing an earlier role).
    pub async fn add_account_user(
        &self,
        account: AccountId,
        user: UserId,
        role: Role,
    ) -> Result<AccountUser, StorageError> {
        let sql = "INSERT INTO account_users (account_id, user_id, role, created_at) \
                   VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (account_id, user_id) DO UPDATE SET role = excluded.role \
                   RETURNING account_id, user_id, role";
        let values = params![account.0, user.0, role.as_str(), Timestamp::now().0];
        account_user(&self.executor.write_one(sql, values).await?)
    }

    /// The members of an account.
    pub async fn account_users(
        &self,
        account: AccountId,
    ) -> Result<Vec<AccountUser>, StorageError> {
        let sql = "SELECT account_id, user_id, role FROM account_users \
                   WHERE account_id = $1 ORDER BY user_id";
        all(
            &self.executor.query(sql, params![account.0]).await?,
            account_user,
        )
    }

    /// A user's role in an account, if a member.
    pub async fn role_of(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Option<Role>, StorageError> {
        let sql = "SELECT role FROM account_users WHERE account_id = $1 AND user_id = $2";
        maybe(
            self.executor
                .query_opt(sql, params![account.0, user.0])
                .await?,
            role,
        )
    }

    /// The accounts a user belongs to, with the role in each.
    pub async fn accounts_of_user(
        &self,
        user: UserId,
    ) -> Result<Vec<(Account, Role)>, StorageError> {
        let sql = "SELECT a.id, a.name, a.locale, a.status, a.created_at, au.role \
                   FROM account_users au JOIN accounts a ON a.id = au.account_id \
                   WHERE au.user_id = $1 ORDER BY a.id";
        let rows = self.executor.query(sql, params![user.0]).await?;
        all(&rows, |row| Ok((account(row)?, role(row)?)))
    }

    /// Creates an inbox. An API identifier or WhatsApp number already connected is a
    /// [`StorageError::Conflict`].
    pub async fn create_inbox(&self, inbox: &NewInbox) -> Result<Inbox, StorageError> {
        let config =
            serde_json::to_string(&inbox.channel).map_err(|error| StorageError::Corrupt {
                table: "inboxes",
                reason: format!("channel: {error}"),
            })?;
        let sql = format!(
            "INSERT INTO inboxes (account_id, name, enable_auto_assignment, \
             lock_to_single_conversation, channel_type, channel_key, provider_key, channel_config, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {INBOX_COLUMNS}"
        );
        let values = params![
            inbox.account_id.0,
            inbox.name.as_str(),
            inbox.enable_auto_assignment,
            inbox.lock_to_single_conversation,
            inbox.channel.kind().chatwoot_type(),
            channel_key(&inbox.channel),
            provider_key(&inbox.channel),
            config,
            Timestamp::now().0,
        ];
        match self.executor.write_one(&sql, values).await {
            Ok(row) => rows::inbox(&row),
            Err(StorageError::Conflict(_)) => Err(channel_taken(&inbox.channel)),
            Err(error) => Err(error),
        }
    }

    /// An inbox by id.
    pub async fn inbox(&self, id: InboxId) -> Result<Option<Inbox>, StorageError> {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inboxes WHERE id = $1");
        maybe(
            self.executor.query_opt(&sql, params![id.0]).await?,
            rows::inbox,
        )
    }

    /// An account's inboxes, by id.
    pub async fn inboxes(&self, account: AccountId) -> Result<Vec<Inbox>, StorageError> {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inboxes WHERE account_id = $1 ORDER BY id");
        all(
            &self.executor.query(&sql, params![account.0]).await?,
            rows::inbox,
        )
    }

    /// The API-channel inbox with this public identifier.
    pub async fn inbox_by_api_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<Inbox>, StorageError> {
        self.inbox_by_channel_key(ChannelKind::Api, identifier)
            .await
    }

    /// The WhatsApp inbox for this number (digits only; other characters are ignored).
    pub async fn inbox_by_whatsapp_number(
        &self,
        phone_digits: &str,
    ) -> Result<Option<Inbox>, StorageError> {
        let digits = switchyard_engine::channel::phone_digits(phone_digits);
        self.inbox_by_channel_key(ChannelKind::Whatsapp, &digits)
            .await
    }

    async fn inbox_by_channel_key(
        &self,
        kind: ChannelKind,
        key: &str,
    ) -> Result<Option<Inbox>, StorageError> {
        let sql = format!(
            "SELECT {INBOX_COLUMNS} FROM inboxes WHERE channel_type = $1 AND channel_key = $2"
        );
        let row = self
            .executor
            .query_opt(&sql, params![kind.chatwoot_type(), key])
            .await?;
        maybe(row, rows::inbox)
    }

    /// Adds members to an inbox (members already there stay).
    pub async fn add_inbox_members(
        &self,
        inbox: InboxId,
        users: &[UserId],
    ) -> Result<(), StorageError> {
        if users.is_empty() {
            return Ok(());
        }
        let mut sql = SqlBuilder::new("INSERT INTO inbox_members (inbox_id, user_id) VALUES ");
        for (index, user) in users.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind_tuple(params![inbox.0, user.0]);
        }
        sql.push(" ON CONFLICT DO NOTHING");
        let (sql, values) = sql.finish();
        self.executor.execute(&sql, values).await.map(drop)
    }

    /// An inbox's members.
    pub async fn inbox_members(&self, inbox: InboxId) -> Result<Vec<UserId>, StorageError> {
        let sql = "SELECT user_id FROM inbox_members WHERE inbox_id = $1 ORDER BY user_id";
        let rows = self.executor.query(sql, params![inbox.0]).await?;
        all(&rows, |row| {
            row.reader("inbox_members").i64("user_id").map(UserId)
        })
    }

    /// The inboxes of an account a user is a member of.
    pub async fn inboxes_of_member(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Vec<InboxId>, StorageError> {
        let sql = "SELECT m.inbox_id FROM inbox_members m JOIN inboxes i ON i.id = m.inbox_id \
                   WHERE i.account_id = $1 AND m.user_id = $2 ORDER BY m.inbox_id";
        let rows = self.executor.query(sql, params![account.0, user.0]).await?;
        all(&rows, |row| {
            row.reader("inbox_members").i64("inbox_id").map(InboxId)
        })
    }

    /// Finds the contact behind `(inbox, profile.source_id)`, or creates its contact inbox:
    /// for the account's contact with the profile's `identifier` (else `email`) if there is
    /// one, as Chatwoot does, else for a new contact created with it. Safe under races: two
    /// callers with the same source id get the same contact.
    ///
    /// A new contact is named after the profile's name, else its phone number, else its
    /// e-mail; an existing contact is returned as stored, not updated from the profile.
    pub async fn resolve_contact(
        &self,
        account: AccountId,
        inbox: InboxId,
        profile: &ContactProfile,
    ) -> Result<(Contact, ContactInbox), StorageError> {
        if let Some(found) = self.contact_inbox(inbox, &profile.source_id).await? {
            return Ok(found);
        }
        let known = match self.contact_by_identity(account, profile).await? {
            Some(contact) => {
                self.attach_contact_inbox(contact, inbox, &profile.source_id)
                    .await?
            }
            None => self.create_contact(account, inbox, profile).await?,
        };
        if let Some(resolved) = known {
            return Ok(resolved);
        }
        // Another caller created the contact inbox first: theirs is committed by now.
        self.contact_inbox(inbox, &profile.source_id)
            .await?
            .ok_or_else(|| {
                StorageError::Database("a contact inbox lost a race and then vanished".into())
            })
    }

    /// The account's contact with the profile's identifier, else with its e-mail address.
    async fn contact_by_identity(
        &self,
        account: AccountId,
        profile: &ContactProfile,
    ) -> Result<Option<Contact>, StorageError> {
        let lookups = [
            ("identifier", profile.identifier.as_deref()),
            ("email", profile.email.as_deref()),
        ];
        for (column, value) in lookups {
            let Some(value) = value.filter(|value| !value.is_empty()) else {
                continue;
            };
            let sql = format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE account_id = $1 AND {column} = $2 \
                 ORDER BY id LIMIT 1"
            );
            let row = self
                .executor
                .query_opt(&sql, params![account.0, value])
                .await?;
            if let Some(contact) = maybe(row, rows::contact)? {
                return Ok(Some(contact));
            }
        }
        Ok(None)
    }

    /// Gives an existing contact an identity on an inbox; `None` when that identity already
    /// exists (a racing caller created it).
    async fn attach_contact_inbox(
        &self,
        contact: Contact,
        inbox: InboxId,
        source_id: &str,
    ) -> Result<Option<(Contact, ContactInbox)>, StorageError> {
        let sql = "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, pubsub_token, \
                   created_at) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (inbox_id, source_id) DO NOTHING \
                   RETURNING id, contact_id, inbox_id, source_id, pubsub_token";
        let values = params![
            contact.id.0,
            inbox.0,
            source_id,
            random_token(),
            Timestamp::now().0
        ];
        let rows = self.executor.write(sql, values).await?;
        let contact_inbox = rows.first().map(returned_contact_inbox).transpose()?;
        Ok(contact_inbox.map(|contact_inbox| (contact, contact_inbox)))
    }

    /// Creates a contact and its contact inbox in one transaction; `None` (and nothing
    /// stored) when the contact inbox already exists.
    async fn create_contact(
        &self,
        account: AccountId,
        inbox: InboxId,
        profile: &ContactProfile,
    ) -> Result<Option<(Contact, ContactInbox)>, StorageError> {
        let now = Timestamp::now().0;
        let name = profile
            .name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .or_else(|| profile.phone_number.clone())
            .or_else(|| profile.email.clone())
            .unwrap_or_default();
        let insert_contact = Statement::new(
            format!(
                "INSERT INTO contacts (account_id, name, email, phone_number, identifier, \
                 additional_attributes, custom_attributes, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {CONTACT_COLUMNS}"
            ),
            params![
                account.0,
                name,
                profile.email.clone(),
                profile.phone_number.clone(),
                profile.identifier.clone(),
                profile.additional_attributes.to_string(),
                json!({}).to_string(),
                now,
            ],
        );
        // The contact id ($1) is carried over from the insert above.
        let insert_contact_inbox = Statement::new(
            "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, pubsub_token, \
             created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (inbox_id, source_id) DO NOTHING \
             RETURNING id, contact_id, inbox_id, source_id, pubsub_token",
            params![
                0_i64,
                inbox.0,
                profile.source_id.as_str(),
                random_token(),
                now
            ],
        )
        .carry(1, 0, "id")
        .required();

        let statements = vec![insert_contact, insert_contact_inbox];
        let Some(results) = self.executor.transaction(statements).await? else {
            return Ok(None);
        };
        let contact = first_row(&results, 0, "contacts", rows::contact)?;
        let contact_inbox = first_row(&results, 1, "contact_inboxes", returned_contact_inbox)?;
        Ok(Some((contact, contact_inbox)))
    }

    /// The contact behind `(inbox, source_id)`, if any.
    pub async fn contact_inbox(
        &self,
        inbox: InboxId,
        source_id: &str,
    ) -> Result<Option<(Contact, ContactInbox)>, StorageError> {
        self.contact_inbox_where(
            "ci.inbox_id = $1 AND ci.source_id = $2",
            params![inbox.0, source_id],
        )
        .await
    }

    /// The contact inbox a contact-side `/cable` subscription names by its pubsub token.
    pub async fn contact_inbox_by_pubsub_token(
        &self,
        token: &str,
    ) -> Result<Option<(Contact, ContactInbox)>, StorageError> {
        self.contact_inbox_where("ci.pubsub_token = $1", params![token])
            .await
    }

    /// A contact inbox by row id, with its contact.
    pub async fn contact_inbox_by_id(
        &self,
        id: i64,
    ) -> Result<Option<(Contact, ContactInbox)>, StorageError> {
        self.contact_inbox_where("ci.id = $1", params![id]).await
    }

    async fn contact_inbox_where(
        &self,
        condition: &str,
        values: Vec<sql::Value>,
    ) -> Result<Option<(Contact, ContactInbox)>, StorageError> {
        let sql = format!(
            "SELECT {CONTACT_WITH_INBOX_COLUMNS} FROM contact_inboxes ci \
             JOIN contacts c ON c.id = ci.contact_id WHERE {condition}"
        );
        maybe(
            self.executor.query_opt(&sql, values).await?,
            contact_with_inbox,
        )
    }

    /// A contact by id.
    pub async fn contact(&self, id: ContactId) -> Result<Option<Contact>, StorageError> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1");
        maybe(
            self.executor.query_opt(&sql, params![id.0]).await?,
            rows::contact,
        )
    }

    /// Creates a conversation, taking the account's next display id.
    pub async fn create_conversation(
        &self,
        conversation: &NewConversation,
    ) -> Result<Conversation, StorageError> {
        // The account row stays locked until the commit, so concurrent creations in one
        // account take consecutive display ids without gaps or repeats.
        let take_display_id = Statement::new(
            "UPDATE accounts SET next_display_id = next_display_id + 1 WHERE id = $1 \
             RETURNING next_display_id - 1 AS display_id",
            params![conversation.account_id.0],
        )
        .required();
        let insert = Statement::new(
            format!(
                "INSERT INTO conversations (account_id, inbox_id, display_id, uuid, contact_id, \
                 contact_inbox_id, status, additional_attributes, custom_attributes, \
                 unread_count, last_activity_at, created_at, updated_at, last_event_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10, $10, 0) \
                 RETURNING {CONVERSATION_COLUMNS}"
            ),
            params![
                conversation.account_id.0,
                conversation.inbox_id.0,
                0_i64,
                uuid::Uuid::new_v4().to_string(),
                conversation.contact_id.0,
                conversation.contact_inbox_id,
                conversation.status.code(),
                conversation.additional_attributes.to_string(),
                conversation.custom_attributes.to_string(),
                conversation.at.0,
            ],
        )
        .carry(3, 0, "display_id");

        let results = self
            .executor
            .transaction(vec![take_display_id, insert])
            .await?;
        let results = results.ok_or_else(|| {
            StorageError::Database(format!(
                "account {} does not exist",
                conversation.account_id
            ))
        })?;
        first_row(&results, 1, "conversations", rows::conversation)
    }

    /// A conversation by global id.
    pub async fn conversation(
        &self,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StorageError> {
        self.conversation_where("id = $1", params![id.0]).await
    }

    /// A conversation by its per-account display id.
    pub async fn conversation_by_display_id(
        &self,
        account: AccountId,
        display_id: i64,
    ) -> Result<Option<Conversation>, StorageError> {
        self.conversation_where(
            "account_id = $1 AND display_id = $2",
            params![account.0, display_id],
        )
        .await
    }

    /// The most recent conversation of a contact inbox.
    pub async fn latest_conversation(
        &self,
        contact_inbox_id: i64,
    ) -> Result<Option<Conversation>, StorageError> {
        let condition = "contact_inbox_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1";
        self.conversation_where(condition, params![contact_inbox_id])
            .await
    }

    /// A contact inbox's conversations, newest first.
    pub async fn conversations_of_contact_inbox(
        &self,
        contact_inbox_id: i64,
    ) -> Result<Vec<Conversation>, StorageError> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE contact_inbox_id = $1 \
             ORDER BY created_at DESC, id DESC"
        );
        all(
            &self.executor.query(&sql, params![contact_inbox_id]).await?,
            rows::conversation,
        )
    }

    async fn conversation_where(
        &self,
        condition: &str,
        values: Vec<sql::Value>,
    ) -> Result<Option<Conversation>, StorageError> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {condition}");
        maybe(
            self.executor.query_opt(&sql, values).await?,
            rows::conversation,
        )
    }

    /// A page of conversations with Chatwoot's counts.
    ///
    /// The counts apply the status, inbox and visibility filters but not the assignee filter,
    /// as Chatwoot's `meta` does: the tabs show how many each assignee filter would list.
    pub async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, StorageError> {
        let (counts, page) = futures::try_join!(
            self.count_conversations(query),
            self.page_of_conversations(query)
        )?;
        let cells = counts.reader("conversations");
        Ok(ConversationPage {
            conversations: page,
            mine_count: cells.i64("mine_count")?,
            assigned_count: cells.i64("assigned_count")?,
            unassigned_count: cells.i64("unassigned_count")?,
            all_count: cells.i64("all_count")?,
        })
    }

    async fn count_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<sql::Row, StorageError> {
        let mut sql = SqlBuilder::new(
            "SELECT COUNT(*) AS all_count, COUNT(assignee_id) AS assigned_count, \
             COUNT(*) FILTER (WHERE assignee_id IS NULL) AS unassigned_count, \
             COUNT(*) FILTER (WHERE assignee_id = ",
        );
        sql.bind(query.viewer.0)
            .push(") AS mine_count FROM conversations");
        conversation_filters(&mut sql, query);
        let (sql, values) = sql.finish();
        let row = self.executor.query_opt(&sql, values).await?;
        row.ok_or_else(|| StorageError::Database("a count returned no row".into()))
    }

    async fn page_of_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<Vec<Conversation>, StorageError> {
        let mut sql = SqlBuilder::new(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations"));
        conversation_filters(&mut sql, query);
        match query.assignee {
            AssigneeFilter::All => {}
            AssigneeFilter::Me(user) => {
                sql.push(" AND assignee_id = ").bind(user.0);
            }
            AssigneeFilter::Unassigned => {
                sql.push(" AND assignee_id IS NULL");
            }
            AssigneeFilter::Assigned => {
                sql.push(" AND assignee_id IS NOT NULL");
            }
        }
        let offset = i64::from(query.page.max(1) - 1) * i64::from(query.per_page);
        sql.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .bind(i64::from(query.per_page))
            .push(" OFFSET ")
            .bind(offset);
        let (sql, values) = sql.finish();
        all(
            &self.executor.query(&sql, values).await?,
            rows::conversation,
        )
    }

    /// Messages of a conversation, oldest first, in `(created_at, id)` order.
    ///
    /// Paging from a message that is not in the conversation finds nothing.
    pub async fn messages(
        &self,
        conversation: ConversationId,
        page: MessagePage,
    ) -> Result<Vec<Message>, StorageError> {
        // The anchor's position, looked up in the same statement: when the anchor is missing
        // the row comparison is NULL and nothing matches.
        const ANCHOR: &str =
            "(SELECT created_at, id FROM messages WHERE id = $2 AND conversation_id = $1)";
        let (condition, values, newest_first) = match page {
            MessagePage::Latest { limit } => (
                "ORDER BY created_at DESC, id DESC LIMIT $2".to_owned(),
                params![conversation.0, i64::from(limit)],
                true,
            ),
            MessagePage::Before { id, limit } => (
                format!(
                    "AND (created_at, id) < {ANCHOR} ORDER BY created_at DESC, id DESC LIMIT $3"
                ),
                params![conversation.0, id.0, i64::from(limit)],
                true,
            ),
            MessagePage::After { id, limit } => (
                format!("AND (created_at, id) > {ANCHOR} ORDER BY created_at, id LIMIT $3"),
                params![conversation.0, id.0, i64::from(limit)],
                false,
            ),
        };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 {condition}"
        );
        let mut messages = all(&self.executor.query(&sql, values).await?, rows::message)?;
        if newest_first {
            messages.reverse();
        }
        Ok(messages)
    }

    /// A message by id.
    pub async fn message(&self, id: MessageId) -> Result<Option<Message>, StorageError> {
        self.message_where("id = $1", params![id.0]).await
    }

    /// The message an inbox stored under a provider id. Should an outgoing message share its
    /// provider id with an incoming one, the older message is returned.
    pub async fn message_by_source_id(
        &self,
        inbox: InboxId,
        source_id: &str,
    ) -> Result<Option<Message>, StorageError> {
        let condition = "inbox_id = $1 AND source_id = $2 ORDER BY id LIMIT 1";
        self.message_where(condition, params![inbox.0, source_id])
            .await
    }

    /// The message this inbox sent under a provider id (an agent reply or a template), for
    /// applying the provider's delivery reports. A customer message with the same id is never
    /// returned.
    pub async fn sent_message_by_source_id(
        &self,
        inbox: InboxId,
        source_id: &str,
    ) -> Result<Option<Message>, StorageError> {
        let condition = "inbox_id = $1 AND source_id = $2 AND message_type IN ($3, $4) \
                         ORDER BY id DESC LIMIT 1";
        let values = params![
            inbox.0,
            source_id,
            MessageType::Outgoing.code(),
            MessageType::Template.code()
        ];
        self.message_where(condition, values).await
    }

    /// The last message the customer can see (not private, not an activity).
    pub async fn last_visible_message(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<Message>, StorageError> {
        let condition = "conversation_id = $1 AND private = $2 AND message_type <> $3 \
                         ORDER BY created_at DESC, id DESC LIMIT 1";
        let values = params![conversation.0, false, MessageType::Activity.code()];
        self.message_where(condition, values).await
    }

    async fn message_where(
        &self,
        condition: &str,
        values: Vec<sql::Value>,
    ) -> Result<Option<Message>, StorageError> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {condition}");
        maybe(self.executor.query_opt(&sql, values).await?, rows::message)
    }

    /// A conversation's events after `seq`, in order, at most `limit`.
    pub async fn events_after(
        &self,
        conversation: ConversationId,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE conversation_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        );
        let values = params![conversation.0, seq, i64::from(limit)];
        all(&self.executor.query(&sql, values).await?, rows::event)
    }
}

/// The `WHERE` clause shared by a conversation listing and its counts.
fn conversation_filters(sql: &mut SqlBuilder, query: &ConversationQuery) {
    sql.push(" WHERE account_id = ").bind(query.account_id.0);
    if let Some(status) = query.status {
        sql.push(" AND status = ").bind(status.code());
    }
    if let Some(inbox) = query.inbox_id {
        sql.push(" AND inbox_id = ").bind(inbox.0);
    }
    match &query.visible_inboxes {
        None => {}
        Some(inboxes) if inboxes.is_empty() => {
            sql.push(" AND 1 = 0");
        }
        Some(inboxes) => {
            let ids = inboxes
                .iter()
                .map(|inbox| sql::Value::I64(inbox.0))
                .collect();
            sql.push(" AND inbox_id IN ").bind_tuple(ids);
        }
    }
}

/// Opens an SQLite database off the async workers: it creates files and waits on the disk.
async fn open_sqlite(path: std::path::PathBuf) -> Result<sqlite::SqliteExecutor, StorageError> {
    tokio::task::spawn_blocking(move || sqlite::SqliteExecutor::open(&path))
        .await
        .map_err(|error| StorageError::Database(format!("opening SQLite failed: {error}")))?
}

/// Reads the first row of statement `index` of a transaction's results.
fn first_row<T>(
    results: &[Vec<sql::Row>],
    index: usize,
    table: &'static str,
    read: impl Fn(&sql::Row) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let row = results
        .get(index)
        .and_then(|rows| rows.first())
        .ok_or_else(|| StorageError::Corrupt {
            table,
            reason: "an insert returned no row".into(),
        })?;
    read(row)
}

/// Reads a contact inbox as its insert returned it.
fn returned_contact_inbox(row: &sql::Row) -> Result<ContactInbox, StorageError> {
    let cells = row.reader("contact_inboxes");
    Ok(ContactInbox {
        id: cells.i64("id")?,
        contact_id: ContactId(cells.i64("contact_id")?),
        inbox_id: InboxId(cells.i64("inbox_id")?),
        source_id: cells.text("source_id")?,
        pubsub_token: cells.text("pubsub_token")?,
    })
}

/// The conflict for a channel that another inbox already connects.
fn channel_taken(channel: &Channel) -> StorageError {
    StorageError::Conflict(match channel {
        Channel::Api(api) => format!("the API identifier {} is already in use", api.identifier),
        Channel::Whatsapp(whatsapp) => format!(
            "the WhatsApp number {} or its phone_number_id {} is already connected",
            phone_digits(&whatsapp.phone_number),
            whatsapp.phone_number_id
        ),
    })
}

/// A fresh random token for `api_access_token` or `/cable` subscriptions (URL-safe).
fn random_token() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(TOKEN_LENGTH)
        .map(char::from)
        .collect()
}
