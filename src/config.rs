//! Typed, layered configuration: built-in defaults, then a TOML file, then `SWITCHYARD_*`
//! environment variables. Everything is validated before anything binds; every bad value is
//! reported, not just the first.
//!
//! The layers are read as text and each setting is parsed here, one by one, rather than
//! deserialized into a typed struct in one go: deserialization stops at the first value of the
//! wrong type (`SWITCHYARD_MAX_BODY_BYTES=-1`) and would hide every other problem.

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use switchyard_engine::secret::Secret;
use switchyard_storage::StoreConfig;

/// The file read when no `--config` is given, if it exists.
const DEFAULT_FILE: &str = "config/switchyard.toml";

/// Every setting with its built-in default.
const DEFAULTS: &[(&str, &str)] = &[
    ("listen", "127.0.0.1:3000"),
    ("data_dir", "./data"),
    ("database_url", ""),
    ("database_pool_size", "16"),
    ("redis_url", ""),
    ("platform_token", ""),
    ("whatsapp_api_base", "https://graph.facebook.com"),
    ("max_body_bytes", "1048576"),
    ("log_format", "text"),
    ("conversation_idle_seconds", "300"),
];

/// Validated settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The address to serve on.
    pub(crate) listen: SocketAddr,
    /// Where the embedded database lives.
    pub(crate) data_dir: PathBuf,
    /// Which database to use.
    pub(crate) store: StoreConfig,
    /// Redis, for shared state across nodes (accepted, not yet used on one node).
    pub(crate) redis_url: Option<String>,
    /// The Platform API token (empty disables the Platform API).
    pub(crate) platform_token: Secret,
    /// Meta's Graph API host.
    pub(crate) whatsapp_api_base: String,
    /// The largest request body accepted.
    pub(crate) max_body_bytes: usize,
    /// `text` or `json` logs.
    pub(crate) log_format: String,
    /// Seconds a conversation actor stays in memory without requests.
    pub(crate) conversation_idle_seconds: u64,
}

impl Config {
    /// Reads and validates the layers; returns every problem found.
    pub(crate) fn load(file: Option<&Path>) -> Result<Config, Vec<String>> {
        let layers = read_layers(file).map_err(|error| vec![error])?;
        let mut settings = Settings {
            layers,
            problems: Vec::new(),
        };
        match validate(&mut settings) {
            Some(config) if settings.problems.is_empty() => Ok(config),
            _ => Err(settings.problems),
        }
    }
}

/// Stacks the layers, leaving every value as the layer wrote it (environment variables stay
/// text; a TOML number stays a number until it is read as text).
fn read_layers(file: Option<&Path>) -> Result<config::Config, String> {
    let mut builder = config::Config::builder();
    for (key, value) in DEFAULTS {
        builder = builder
            .set_default(*key, *value)
            .map_err(|error| error.to_string())?;
    }
    let with_file = match file {
        Some(path) => {
            if !path.exists() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            builder.add_source(config::File::from(path))
        }
        None => builder.add_source(config::File::with_name(DEFAULT_FILE).required(false)),
    };
    with_file
        .add_source(config::Environment::with_prefix("SWITCHYARD"))
        .build()
        .map_err(|error| format!("cannot read configuration: {error}"))
}

/// The stacked layers, and the problems found so far in reading them.
struct Settings {
    layers: config::Config,
    problems: Vec<String>,
}

impl Settings {
    /// The value of `key` as text. A table or a list is a problem, and reads as empty.
    fn text(&mut self, key: &str) -> String {
        match self.layers.get_string(key) {
            Ok(text) => text,
            Err(_) => {
                self.problem(key, "must be a single value, not a table or a list");
                String::new()
            }
        }
    }

    /// The value of `key` as a whole number of at least `minimum`; `unit` says what it counts.
    fn number<T>(&mut self, key: &str, minimum: T, unit: &str) -> Option<T>
    where
        T: FromStr + PartialOrd + Display,
    {
        let text = self.text(key);
        match text.trim().parse::<T>() {
            Ok(value) if value >= minimum => Some(value),
            _ => {
                let rule = format!("`{text}` must be a whole number of {unit}, at least {minimum}");
                self.problem(key, &rule);
                None
            }
        }
    }

    /// Records that `key` is wrong, naming both ways of setting it.
    fn problem(&mut self, key: &str, rule: &str) {
        let variable = format!("SWITCHYARD_{}", key.to_uppercase());
        self.problems.push(format!("{key} ({variable}) {rule}"));
    }
}

/// Reads every setting, recording each problem; `None` when any setting is unusable.
fn validate(settings: &mut Settings) -> Option<Config> {
    let listen = listen_address(settings);
    let data_dir = PathBuf::from(settings.text("data_dir"));
    let store = store(settings, &data_dir);
    let redis_url = redis_url(settings);
    let platform_token = Secret::new(settings.text("platform_token"));
    let whatsapp_api_base = whatsapp_api_base(settings);
    let max_body_bytes = settings.number("max_body_bytes", 1024, "bytes");
    let log_format = log_format(settings);
    let conversation_idle_seconds = settings.number("conversation_idle_seconds", 1, "seconds");
    Some(Config {
        listen: listen?,
        data_dir,
        store: store?,
        redis_url,
        platform_token,
        whatsapp_api_base,
        max_body_bytes: max_body_bytes?,
        log_format,
        conversation_idle_seconds: conversation_idle_seconds?,
    })
}

fn listen_address(settings: &mut Settings) -> Option<SocketAddr> {
    let text = settings.text("listen");
    let address = text.trim().parse::<SocketAddr>().ok();
    if address.is_none() {
        let rule = format!("`{text}` is not an address like 127.0.0.1:3000");
        settings.problem("listen", &rule);
    }
    address
}

/// SQLite under `data_dir` when `database_url` is empty, PostgreSQL otherwise.
fn store(settings: &mut Settings, data_dir: &Path) -> Option<StoreConfig> {
    let url = settings.text("database_url");
    // Checked whichever database is used: a bad value is a mistake even where it is ignored.
    // The pool needs two connections: one can be held while another is taken.
    let pool_size = settings.number("database_pool_size", 2_u32, "connections");
    if url.is_empty() {
        if data_dir.as_os_str().is_empty() {
            settings.problem("data_dir", "must name a directory");
            return None;
        }
        let path = data_dir.join("switchyard.db");
        return Some(StoreConfig::Sqlite { path });
    }
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        settings.problem(
            "database_url",
            "must be a postgres:// URL, or empty for SQLite",
        );
        return None;
    }
    Some(StoreConfig::Postgres {
        url,
        pool_size: pool_size?,
    })
}

fn redis_url(settings: &mut Settings) -> Option<String> {
    let url = settings.text("redis_url");
    let known_scheme = ["redis://", "rediss://"]
        .iter()
        .any(|scheme| url.starts_with(scheme));
    if !url.is_empty() && !known_scheme {
        settings.problem("redis_url", "must be a redis:// URL");
    }
    Some(url).filter(|url| !url.is_empty())
}

fn whatsapp_api_base(settings: &mut Settings) -> String {
    let base = settings.text("whatsapp_api_base");
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        settings.problem(
            "whatsapp_api_base",
            &format!("`{base}` must be an http(s) URL"),
        );
    }
    base.trim_end_matches('/').to_owned()
}

fn log_format(settings: &mut Settings) -> String {
    let format = settings.text("log_format");
    if !matches!(format.as_str(), "text" | "json") {
        settings.problem("log_format", &format!("`{format}` must be text or json"));
    }
    format
}
