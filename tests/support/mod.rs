//! The end-to-end harness: the real `switchyard` binary on port 0, a fresh database for each
//! test, a `/cable` client, and a fake provider on loopback that plays Meta's Graph API and an
//! API channel's `webhook_url`.
//!
//! Every wait has a deadline; nothing here sleeps to make a test pass. Server logs are shown
//! only when `TEST_LOG` is set; otherwise the last lines are kept and quoted if the server fails
//! to start.

// Each test file uses a different part of the harness.
#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::VecDeque;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long the server may take to print its address.
const STARTUP: Duration = Duration::from_secs(20);
/// How long a graceful stop may take.
const SHUTDOWN: Duration = Duration::from_secs(15);
/// The default deadline for anything a test waits for.
pub(crate) const WAIT: Duration = Duration::from_secs(10);
/// How often a poll looks again.
const POLL: Duration = Duration::from_millis(20);
/// The server's stderr lines kept for a failure message.
const KEPT_LOG_LINES: usize = 60;

/// The PostgreSQL server tests create their databases on, unless the environment names one.
const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The business number and Meta number id the shared corpus is addressed to.
pub(crate) const CORPUS_PHONE_NUMBER: &str = "972123456789";
/// Meta's id for [`CORPUS_PHONE_NUMBER`].
pub(crate) const CORPUS_PHONE_NUMBER_ID: &str = "1122334455667";

/// Which database the server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A file in a fresh temporary data directory.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// Settings a test may change from the defaults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    /// `SWITCHYARD_MAX_BODY_BYTES`.
    pub(crate) max_body_bytes: Option<usize>,
}

/// A running server with its own storage and its own fake provider.
pub(crate) struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub(crate) address: String,
    /// The Platform API token the server was started with.
    pub(crate) platform_token: String,
    /// The fake Graph API and webhook receiver the server talks to.
    pub(crate) provider: FakeProvider,
    /// An HTTP client with a per-request timeout, so no request hangs a test.
    pub(crate) client: reqwest::Client,
    backend: Backend,
    settings: Settings,
    server: Option<Server>,
    // Dropped after the server is killed: the database, then the directory.
    database: Option<PostgresDatabase>,
    data_dir: TempDir,
}

/// Starts the server on `backend` with default settings.
pub(crate) async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Settings::default()).await
}

/// Starts the server on `backend` with `settings`.
pub(crate) async fn spawn_app_with(backend: Backend, settings: Settings) -> TestApp {
    let provider = FakeProvider::start().await;
    let data_dir = TempDir::new("switchyard-e2e");
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PostgresDatabase::create().await),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("the HTTP client builds");
    let mut app = TestApp {
        address: String::new(),
        platform_token: format!("platform-{}", uuid::Uuid::new_v4().simple()),
        provider,
        client,
        backend,
        settings,
        server: None,
        database,
        data_dir,
    };
    app.start().await;
    app
}

impl TestApp {
    /// The command that runs the binary against this app's storage and provider.
    fn command(&self, arguments: &[&str]) -> Command {
        let mut command = switchyard_command(self.data_dir.path());
        command
            .args(arguments)
            .env("SWITCHYARD_LISTEN", "127.0.0.1:0")
            .env("SWITCHYARD_DATA_DIR", self.data_dir.path().join("data"))
            .env("SWITCHYARD_PLATFORM_TOKEN", &self.platform_token)
            .env("SWITCHYARD_WHATSAPP_API_BASE", &self.provider.base_url);
        if let Some(database) = &self.database {
            command
                .env("SWITCHYARD_DATABASE_URL", &database.url)
                .env("SWITCHYARD_DATABASE_POOL_SIZE", "6");
        }
        if let Some(bytes) = self.settings.max_body_bytes {
            command.env("SWITCHYARD_MAX_BODY_BYTES", bytes.to_string());
        }
        command
    }

    /// Starts `switchyard serve` and waits for the address it prints.
    async fn start(&mut self) {
        assert!(self.server.is_none(), "the server is already running");
        let server = Server::spawn(self.command(&["serve"])).await;
        self.address = server.address.clone();
        self.server = Some(server);
    }

    /// Stops the server with SIGTERM, as an orchestrator would, and returns how it exited.
    pub(crate) async fn stop_gracefully(&mut self) -> ExitStatus {
        let mut server = self.server.take().expect("the server is running");
        server.terminate().await
    }

    /// Stops the server gracefully and starts it again on the same storage.
    pub(crate) async fn restart(&mut self) {
        let status = self.stop_gracefully().await;
        assert!(status.success(), "a graceful stop exits 0, got {status}");
        self.start().await;
    }

    /// Which database this app runs on.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The absolute URL of `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `GET path`, with `token` as `api_access_token` when given.
    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        send(self.client.get(self.url(path)), token).await
    }

    /// `POST path` with a JSON body, with `token` as `api_access_token` when given.
    pub(crate) async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        send(self.client.post(self.url(path)).json(body), token).await
    }

    /// `PATCH path` with a JSON body, with `token` as `api_access_token` when given.
    pub(crate) async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        send(self.client.patch(self.url(path)).json(body), token).await
    }

    /// POSTs raw `body` to the WhatsApp webhook of `phone_number`, with `signature` as
    /// `X-Hub-Signature-256` when given.
    pub(crate) async fn post_whatsapp(
        &self,
        phone_number: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> Reply {
        let mut request = self
            .client
            .post(self.url(&format!("/webhooks/whatsapp/{phone_number}")))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        Reply::from(request.send().await.expect("the webhook is answered")).await
    }

    /// POSTs `body` to the WhatsApp webhook of `inbox`, signed with its app secret.
    pub(crate) async fn post_signed(&self, inbox: &WhatsappInbox, body: &[u8]) -> Reply {
        let signature = sign(&inbox.app_secret, body);
        self.post_whatsapp(&inbox.phone_number, body, Some(&signature))
            .await
    }

    /// A Platform API call.
    async fn platform(&self, path: &str, body: Value) -> Value {
        self.post(path, Some(&self.platform_token), &body)
            .await
            .ok()
    }

    /// Creates a user through the Platform API and makes them a member of `account` in `role`.
    pub(crate) async fn create_user(&self, account: i64, name: &str, role: &str) -> User {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        let created = self
            .platform(
                "/platform/api/v1/users",
                json!({ "name": name, "email": email }),
            )
            .await;
        let user = User {
            id: created["id"].as_i64().expect("a user has an id"),
            access_token: text(&created["access_token"]),
            pubsub_token: text(&created["pubsub_token"]),
        };
        let path = format!("/platform/api/v1/accounts/{account}/account_users");
        self.platform(&path, json!({ "user_id": user.id, "role": role }))
            .await;
        user
    }

    /// Creates an API-channel inbox whose replies and events go to `webhook_url` (empty for
    /// none).
    pub(crate) async fn create_api_inbox(
        &self,
        account: i64,
        admin: &User,
        name: &str,
        webhook_url: &str,
    ) -> ApiInbox {
        let body =
            json!({ "name": name, "channel": { "type": "api", "webhook_url": webhook_url } });
        let path = format!("/api/v1/accounts/{account}/inboxes");
        let inbox = self
            .post(&path, Some(&admin.access_token), &body)
            .await
            .ok();
        ApiInbox {
            id: inbox["id"].as_i64().expect("an inbox has an id"),
            identifier: text(&inbox["inbox_identifier"]),
        }
    }

    /// Creates a WhatsApp Cloud inbox for `phone_number` (digits) with Meta number id
    /// `phone_number_id`.
    pub(crate) async fn create_whatsapp_inbox(
        &self,
        account: i64,
        admin: &User,
        phone_number: &str,
        phone_number_id: &str,
    ) -> WhatsappInbox {
        let api_key = format!("key-{phone_number_id}");
        let app_secret = format!("secret-{phone_number_id}");
        let verify_token = format!("verify-{phone_number_id}");
        let body = json!({
            "name": format!("WhatsApp +{phone_number}"),
            "channel": {
                "type": "whatsapp",
                "phone_number": format!("+{phone_number}"),
                "provider": "whatsapp_cloud",
                "provider_config": {
                    "api_key": api_key,
                    "phone_number_id": phone_number_id,
                    "webhook_verify_token": verify_token,
                    "app_secret": app_secret,
                },
            },
        });
        let path = format!("/api/v1/accounts/{account}/inboxes");
        let inbox = self
            .post(&path, Some(&admin.access_token), &body)
            .await
            .ok();
        WhatsappInbox {
            id: inbox["id"].as_i64().expect("an inbox has an id"),
            phone_number: phone_number.to_owned(),
            phone_number_id: phone_number_id.to_owned(),
            api_key,
            app_secret,
            verify_token,
        }
    }

    /// Makes `users` members of `inbox`.
    pub(crate) async fn add_members(&self, account: i64, admin: &User, inbox: i64, users: &[i64]) {
        let path = format!("/api/v1/accounts/{account}/inbox_members");
        let body = json!({ "inbox_id": inbox, "user_ids": users });
        self.post(&path, Some(&admin.access_token), &body)
            .await
            .ok();
    }

    /// An account with an administrator and an agent, an API inbox whose replies go to the
    /// fake provider's `/api-webhook`, and a WhatsApp inbox for the corpus's business number;
    /// the agent is a member of both inboxes.
    pub(crate) async fn provision(&self) -> Provisioned {
        let account = self
            .platform(
                "/platform/api/v1/accounts",
                json!({ "name": "Acme Support" }),
            )
            .await;
        let account_id = account["id"].as_i64().expect("an account has an id");
        let admin = self
            .create_user(account_id, "Ada Admin", "administrator")
            .await;
        let agent = self.create_user(account_id, "Alan Agent", "agent").await;
        let webhook_url = self.provider.url("/api-webhook");
        let api_inbox = self
            .create_api_inbox(account_id, &admin, "Website API", &webhook_url)
            .await;
        let whatsapp_inbox = self
            .create_whatsapp_inbox(
                account_id,
                &admin,
                CORPUS_PHONE_NUMBER,
                CORPUS_PHONE_NUMBER_ID,
            )
            .await;
        for inbox in [api_inbox.id, whatsapp_inbox.id] {
            self.add_members(account_id, &admin, inbox, &[agent.id])
                .await;
        }
        Provisioned {
            account_id,
            admin,
            agent,
            api_inbox,
            whatsapp_inbox,
        }
    }

    /// Every conversation of the account the user can see, whatever its status.
    pub(crate) async fn conversations(&self, account: i64, user: &User) -> Vec<Value> {
        let path = format!("/api/v1/accounts/{account}/conversations?status=all");
        let list = self.get(&path, Some(&user.access_token)).await.ok();
        list["data"]["payload"]
            .as_array()
            .expect("a conversation list has a payload")
            .clone()
    }

    /// The latest page of a conversation's messages, oldest first.
    pub(crate) async fn messages(&self, account: i64, user: &User, display_id: i64) -> Vec<Value> {
        self.messages_page(account, user, display_id, None).await
    }

    /// A page of a conversation's messages: the latest, or those just before message `before`.
    pub(crate) async fn messages_page(
        &self,
        account: i64,
        user: &User,
        display_id: i64,
        before: Option<i64>,
    ) -> Vec<Value> {
        let mut path = format!("/api/v1/accounts/{account}/conversations/{display_id}/messages");
        if let Some(id) = before {
            path.push_str(&format!("?before={id}"));
        }
        let page = self.get(&path, Some(&user.access_token)).await.ok();
        page["payload"]
            .as_array()
            .expect("a message list has a payload")
            .clone()
    }

    /// Every message of a conversation, oldest first, read page by page with `before`.
    pub(crate) async fn all_messages(
        &self,
        account: i64,
        user: &User,
        display_id: i64,
    ) -> Vec<Value> {
        let mut all = self.messages(account, user, display_id).await;
        loop {
            let Some(oldest) = all.first().and_then(|message| message["id"].as_i64()) else {
                return all;
            };
            let older = self
                .messages_page(account, user, display_id, Some(oldest))
                .await;
            if older.is_empty() {
                return all;
            }
            all.splice(0..0, older);
        }
    }

    /// Polls the conversation's latest messages until message `id` satisfies `wanted`.
    pub(crate) async fn message_when(
        &self,
        account: i64,
        user: &User,
        display_id: i64,
        id: i64,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(&format!("message {id} to change"), WAIT, || async {
            let messages = self.messages(account, user, display_id).await;
            messages
                .into_iter()
                .find(|message| message["id"] == id && wanted(message))
        })
        .await
    }

    /// Agent `user` writes into the conversation: a reply, or a private note.
    pub(crate) async fn send_reply(
        &self,
        account: i64,
        user: &User,
        display_id: i64,
        content: &str,
        private: bool,
    ) -> Value {
        let path = format!("/api/v1/accounts/{account}/conversations/{display_id}/messages");
        let body = json!({ "content": content, "private": private });
        self.post(&path, Some(&user.access_token), &body).await.ok()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = &mut self.server {
            server.kill();
        }
    }
}

/// The `RoomChannel` subscription identifier of an agent.
fn agent_identifier(account: i64, user: &User) -> String {
    json!({
        "channel": "RoomChannel",
        "pubsub_token": user.pubsub_token,
        "account_id": account,
        "user_id": user.id,
    })
    .to_string()
}

/// Sends `request`, with `token` as `api_access_token` when given, and reads the answer.
async fn send(request: reqwest::RequestBuilder, token: Option<&str>) -> Reply {
    let response = with_token(request, token).send().await;
    Reply::from(response.expect("the request is answered")).await
}

fn with_token(request: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
    match token {
        Some(token) => request.header("api_access_token", token),
        None => request,
    }
}

/// The binary, run in `directory` so that no `config/switchyard.toml` of the developer's is
/// read, with no `SWITCHYARD_*` variable inherited from the test's environment.
pub(crate) fn switchyard_command(directory: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command.current_dir(directory);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SWITCHYARD_") {
            command.env_remove(name);
        }
    }
    command
}

/// Whether server logs should be shown.
fn show_logs() -> bool {
    std::env::var_os("TEST_LOG").is_some()
}

/// A string field of an API answer.
pub(crate) fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

/// An HTTP answer: its status, its body as text, and the body as JSON (`null` if it is not).
#[derive(Debug)]
pub(crate) struct Reply {
    /// The status code.
    pub(crate) status: u16,
    /// The body.
    pub(crate) text: String,
    /// The body as JSON.
    pub(crate) json: Value,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let text = response.text().await.expect("the body is readable");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, text, json }
    }

    /// The JSON body of a successful answer; panics with the body otherwise.
    pub(crate) fn ok(self) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "expected success, got {}: {}",
            self.status,
            self.text
        );
        self.json
    }
}

/// A user and their tokens.
#[derive(Clone, Debug)]
pub(crate) struct User {
    /// The user id.
    pub(crate) id: i64,
    /// The `api_access_token`.
    pub(crate) access_token: String,
    /// The `/cable` token.
    pub(crate) pubsub_token: String,
}

/// An API-channel inbox.
#[derive(Clone, Debug)]
pub(crate) struct ApiInbox {
    /// The inbox id.
    pub(crate) id: i64,
    /// The Client API's `inbox_identifier`.
    pub(crate) identifier: String,
}

/// A WhatsApp Cloud inbox and its secrets.
#[derive(Clone, Debug)]
pub(crate) struct WhatsappInbox {
    /// The inbox id.
    pub(crate) id: i64,
    /// The business number's digits, as the webhook path names it.
    pub(crate) phone_number: String,
    /// Meta's id for the number.
    pub(crate) phone_number_id: String,
    /// The Bearer token replies are sent with.
    pub(crate) api_key: String,
    /// The key webhooks are signed with.
    pub(crate) app_secret: String,
    /// The token Meta's subscription check must present.
    pub(crate) verify_token: String,
}

/// What [`TestApp::provision`] created.
#[derive(Clone, Debug)]
pub(crate) struct Provisioned {
    /// The account id.
    pub(crate) account_id: i64,
    /// An administrator of the account (member of no inbox).
    pub(crate) admin: User,
    /// An agent, member of both inboxes.
    pub(crate) agent: User,
    /// An API inbox replying to the fake provider's `/api-webhook`.
    pub(crate) api_inbox: ApiInbox,
    /// The WhatsApp inbox of the corpus's business number.
    pub(crate) whatsapp_inbox: WhatsappInbox,
}

/// `X-Hub-Signature-256` for `body`: `sha256=` and the hex HMAC-SHA256 keyed with `app_secret`.
pub(crate) fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A Cloud API notification for `phone_number_id` with one text message.
pub(crate) fn whatsapp_text(
    phone_number_id: &str,
    from: &str,
    message_id: &str,
    timestamp: i64,
    body: &str,
) -> Vec<u8> {
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(phone_number_id),
        "contacts": [{ "profile": { "name": format!("Customer {from}") }, "wa_id": from }],
        "messages": [{
            "from": from,
            "id": message_id,
            "timestamp": timestamp.to_string(),
            "type": "text",
            "text": { "body": body },
        }],
    });
    whatsapp_notification(value)
}

/// A Cloud API notification for `phone_number_id` reporting `status` for the sent message
/// `message_id`.
pub(crate) fn whatsapp_status(
    phone_number_id: &str,
    message_id: &str,
    status: &str,
    recipient: &str,
) -> Vec<u8> {
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(phone_number_id),
        "statuses": [{
            "id": message_id,
            "status": status,
            "timestamp": now_unix_seconds().to_string(),
            "recipient_id": recipient,
        }],
    });
    whatsapp_notification(value)
}

/// The `metadata` of a change addressed to `phone_number_id`.
fn metadata(phone_number_id: &str) -> Value {
    json!({ "display_phone_number": CORPUS_PHONE_NUMBER, "phone_number_id": phone_number_id })
}

fn whatsapp_notification(value: Value) -> Vec<u8> {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{ "field": "messages", "value": value }],
        }],
    });
    serde_json::to_vec(&body).expect("JSON serializes")
}

/// The current time in Unix seconds.
pub(crate) fn now_unix_seconds() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit in i64")
}

/// Polls `probe` until it gives a value, for at most `within`; panics naming `what` otherwise.
pub(crate) async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

/// A running `switchyard serve`.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    /// Spawns `command` and waits until it prints the address it listens on.
    async fn spawn(mut command: Command) -> Server {
        command.stdin(Stdio::null()).stdout(Stdio::piped());
        command.stderr(if show_logs() {
            Stdio::inherit()
        } else {
            Stdio::piped()
        });
        let mut child = command.spawn().expect("the switchyard binary starts");
        let log = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            keep_last_lines(stderr, log.clone());
        }
        let (lines, mut received) = tokio::sync::mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        // A thread, not a task: it outlives nothing it borrows and drains stdout until the end.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let announced = tokio::time::timeout(STARTUP, async {
            while let Some(line) = received.recv().await {
                if let Some(address) = line.strip_prefix("switchyard listening on ") {
                    return Some(address.trim().to_owned());
                }
            }
            None
        })
        .await;
        match announced {
            Ok(Some(address)) => Server { child, address },
            outcome => {
                let _ = child.kill();
                let status = child.wait().ok();
                let log = log.lock().unwrap_or_else(PoisonError::into_inner);
                let log: Vec<&str> = log.iter().map(String::as_str).collect();
                panic!(
                    "the server did not announce its address ({}; exit: {status:?}); \
                     last log lines:\n{}",
                    if outcome.is_err() {
                        "timed out"
                    } else {
                        "stdout closed"
                    },
                    log.join("\n")
                );
            }
        }
    }

    /// Sends SIGTERM and waits for the process to exit.
    async fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("the kill command runs");
        assert!(sent.success(), "SIGTERM could not be sent to {pid}");
        let child = &mut self.child;
        eventually("the server to exit after SIGTERM", SHUTDOWN, || {
            let exited = child.try_wait().expect("the child can be polled");
            async move { exited }
        })
        .await
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Drains `stream` line by line, keeping the last lines in `log`.
fn keep_last_lines(stream: impl std::io::Read + Send + 'static, log: Arc<Mutex<VecDeque<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
            if log.len() == KEPT_LOG_LINES {
                log.pop_front();
            }
            log.push_back(line);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Storage: temporary directories and PostgreSQL databases
// ---------------------------------------------------------------------------------------------

/// A directory removed (best effort) when dropped.
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new, empty directory under the system's temporary directory.
    pub(crate) fn new(prefix: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("a temporary directory can be created");
        TempDir { path }
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A database of its own on the test PostgreSQL server, dropped (best effort) when dropped.
pub(crate) struct PostgresDatabase {
    /// The URL the server is pointed at.
    pub(crate) url: String,
    name: String,
    admin_url: String,
}

impl PostgresDatabase {
    /// Creates `sy_<uuid>` on the server named by `SWITCHYARD_TEST_DATABASE_URL`.
    pub(crate) async fn create() -> PostgresDatabase {
        let admin_url = std::env::var("SWITCHYARD_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
        let name = format!("sy_{}", uuid::Uuid::new_v4().simple());
        let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "PostgreSQL does not answer at {admin_url} \
                     (set SWITCHYARD_TEST_DATABASE_URL): {error}"
                )
            });
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        drop(client);
        let _ = connection.await;
        PostgresDatabase {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop runs outside async code (or inside a runtime that must not be blocked on), so the
        // database is dropped from a thread with a runtime of its own.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let drop_database = async {
                    let (client, connection) =
                        tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await?;
                    tokio::spawn(connection);
                    client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await
                };
                if let Ok(Err(error)) =
                    tokio::time::timeout(Duration::from_secs(10), drop_database).await
                {
                    eprintln!("note: test database {name} was not dropped: {error}");
                }
            });
        });
        let _ = dropper.join();
    }
}

/// The URL of database `name` on the test PostgreSQL server, whether or not it exists.
pub(crate) fn postgres_url_of(name: &str) -> String {
    let admin_url = std::env::var("SWITCHYARD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    with_database(&admin_url, name)
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |index| index + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |index| authority + index);
    let mut result = format!("{}/{name}", &base[..path]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

// ---------------------------------------------------------------------------------------------
// /cable
// ---------------------------------------------------------------------------------------------

/// An agent's ActionCable connection, subscribed to `RoomChannel`.
pub(crate) struct CableClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl CableClient {
    /// Connects to `/cable`, reads the welcome, subscribes as `user` to `account`, and waits for
    /// the confirmation.
    pub(crate) async fn connect(app: &TestApp, account: i64, user: &User) -> CableClient {
        let identifier = agent_identifier(account, user);
        Self::subscribe(app, identifier).await
    }

    /// Connects and subscribes as a customer, with their contact inbox's pubsub token.
    pub(crate) async fn connect_contact(app: &TestApp, pubsub_token: &str) -> CableClient {
        let identifier = json!({ "channel": "RoomChannel", "pubsub_token": pubsub_token });
        Self::subscribe(app, identifier.to_string()).await
    }

    async fn subscribe(app: &TestApp, identifier: String) -> CableClient {
        let (client, confirmed) = Self::open_and_subscribe(app, identifier).await;
        assert!(confirmed, "the subscription was rejected");
        client
    }

    /// Opens a socket and subscribes; whether the server confirmed (true) or rejected.
    pub(crate) async fn try_subscribe(app: &TestApp, identifier: String) -> bool {
        Self::open_and_subscribe(app, identifier).await.1
    }

    async fn open_and_subscribe(app: &TestApp, identifier: String) -> (CableClient, bool) {
        let url = format!("{}/cable", app.address.replacen("http://", "ws://", 1));
        let (socket, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("/cable answers in time")
            .expect("/cable accepts the WebSocket");
        let mut client = CableClient { socket };
        let welcome = client.next_frame(Instant::now() + WAIT).await;
        assert_eq!(welcome["type"], "welcome", "the first frame is the welcome");

        let subscribe = json!({ "command": "subscribe", "identifier": identifier }).to_string();
        client
            .socket
            .send(Frame::text(subscribe))
            .await
            .expect("the subscription is sent");
        let deadline = Instant::now() + WAIT;
        loop {
            let frame = client.next_frame(deadline).await;
            match frame["type"].as_str() {
                Some("confirm_subscription") => return (client, true),
                Some("reject_subscription") => return (client, false),
                _ => {}
            }
        }
    }

    /// The `data` of the next event named `name`, skipping pings and other events.
    pub(crate) async fn next_event(&mut self, name: &str, within: Duration) -> Value {
        self.next_event_where(name, |_| true, within).await
    }

    /// The `data` of the next event named `name` whose data satisfies `wanted`.
    pub(crate) async fn next_event_where(
        &mut self,
        name: &str,
        wanted: impl Fn(&Value) -> bool,
        within: Duration,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let frame = self.next_frame(deadline).await;
            let message = &frame["message"];
            if message["event"] == name && wanted(&message["data"]) {
                return message["data"].clone();
            }
        }
    }

    /// The next JSON text frame; panics at the deadline or when the socket closes.
    /// Reads frames until the server closes the socket; returns the JSON frames seen and the
    /// close code.
    pub(crate) async fn until_closed(&mut self, within: Duration) -> (Vec<Value>, Option<u16>) {
        let deadline = Instant::now() + within;
        let mut frames = Vec::new();
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("the server closes /cable before the deadline");
            match next {
                Some(Ok(Frame::Text(text))) => {
                    frames.push(serde_json::from_str(text.as_str()).expect("frames are JSON"));
                }
                Some(Ok(Frame::Close(close))) => {
                    return (frames, close.map(|close| u16::from(close.code)));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (frames, None),
            }
        }
    }

    /// Sends a `message` command on the subscription (an ActionCable `perform`).
    pub(crate) async fn perform(&mut self, account: i64, user: &User, action: &str) {
        let identifier = agent_identifier(account, user);
        let data = json!({ "action": action }).to_string();
        let command = json!({ "command": "message", "identifier": identifier, "data": data });
        self.socket
            .send(Frame::text(command.to_string()))
            .await
            .expect("the command is sent");
    }

    async fn next_frame(&mut self, deadline: Instant) -> Value {
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("a /cable frame arrives before the deadline");
            match next {
                Some(Ok(Frame::Text(text))) => {
                    return serde_json::from_str(text.as_str()).expect("frames are JSON");
                }
                Some(Ok(Frame::Close(reason))) => panic!("/cable closed: {reason:?}"),
                Some(Ok(_)) => {}
                Some(Err(error)) => panic!("/cable failed: {error}"),
                None => panic!("/cable ended"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fake provider
// ---------------------------------------------------------------------------------------------

/// A request the fake provider received.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    /// The method.
    pub(crate) method: String,
    /// The path.
    pub(crate) path: String,
    /// The `Authorization` header, if any.
    pub(crate) authorization: Option<String>,
    /// The body as JSON (`null` if it is not).
    pub(crate) body: Value,
}

#[derive(Default)]
struct ProviderState {
    requests: Vec<Recorded>,
    /// Answers for the next Graph API sends, before the default success.
    scripted: VecDeque<(u16, Value)>,
    sent: u64,
}

/// A loopback server that plays Meta's Graph API (`POST /v22.0/{phone_number_id}/messages`)
/// and receives API-channel webhooks on any other path, recording every request.
pub(crate) struct FakeProvider {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
    state: Arc<Mutex<ProviderState>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeProvider {
    async fn start() -> FakeProvider {
        let state = Arc::new(Mutex::new(ProviderState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake provider binds");
        let address = listener
            .local_addr()
            .expect("the fake provider has an address");
        let router = Router::new().fallback(answer).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeProvider {
            base_url: format!("http://{address}"),
            state,
            task,
        }
    }

    /// The absolute URL of `path` on the fake provider.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Makes the next Graph API sends answer these statuses and bodies, in order; later sends
    /// succeed again.
    pub(crate) fn script_whatsapp_answers(&self, answers: Vec<(u16, Value)>) {
        self.lock().scripted.extend(answers);
    }

    /// Every request received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Waits until at least `count` requests satisfying `wanted` have arrived; returns them.
    pub(crate) async fn wait_for(
        &self,
        what: &str,
        count: usize,
        wanted: impl Fn(&Recorded) -> bool,
    ) -> Vec<Recorded> {
        eventually(what, WAIT, || {
            let matching: Vec<Recorded> = self.requests().into_iter().filter(&wanted).collect();
            async move { (matching.len() >= count).then_some(matching) }
        })
        .await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProviderState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Records the request, then answers as the Graph API or as a webhook receiver.
async fn answer(
    State(state): State<Arc<Mutex<ProviderState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let path = uri.path().to_owned();
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    state.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        authorization,
        body: body.clone(),
    });
    let is_graph_send = path.starts_with("/v22.0/") && path.ends_with("/messages");
    if !is_graph_send {
        return (StatusCode::OK, axum::Json(json!({}))).into_response();
    }
    if let Some((status, answer)) = state.scripted.pop_front() {
        let status = StatusCode::from_u16(status).expect("a scripted status is valid");
        return (status, axum::Json(answer)).into_response();
    }
    state.sent += 1;
    let to = body["to"].clone();
    let sent = json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": format!("wamid.OUT{}", state.sent) }],
    });
    (StatusCode::OK, axum::Json(sent)).into_response()
}
