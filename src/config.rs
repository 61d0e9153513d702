//! Typed, layered configuration: built-in defaults, then a TOML file, then `SWITCHYARD_*`
//! environment variables. Everything is validated before anything binds; every bad value is
//! reported, not just the first.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use switchyard_engine::secret::Secret;
use switchyard_storage::StoreConfig;

/// The file read when no `--config` is given, if it exists.
const DEFAULT_FILE: &str = "config/switchyard.toml";

/// Raw settings as read from the layers.
#[derive(Debug, Deserialize)]
struct RawConfig {
    listen: String,
    data_dir: PathBuf,
    #[serde(default)]
    database_url: String,
    #[serde(default)]
    database_pool_size: u32,
    #[serde(default)]
    redis_url: String,
    #[serde(default)]
    platform_token: String,
    whatsapp_api_base: String,
    max_body_bytes: usize,
    log_format: String,
    conversation_idle_seconds: u64,
}

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
        let raw = read_layers(file).map_err(|error| vec![error])?;
        validate(raw)
    }
}

fn read_layers(file: Option<&Path>) -> Result<RawConfig, String> {
    let defaults = config::Config::builder()
        .set_default("listen", "127.0.0.1:3000")
        .and_then(|b| b.set_default("data_dir", "./data"))
        .and_then(|b| b.set_default("database_pool_size", 16))
        .and_then(|b| b.set_default("whatsapp_api_base", "https://graph.facebook.com"))
        .and_then(|b| b.set_default("max_body_bytes", 1_048_576))
        .and_then(|b| b.set_default("log_format", "text"))
        .and_then(|b| b.set_default("conversation_idle_seconds", 300))
        .map_err(|error| error.to_string())?;
    let with_file = match file {
        Some(path) => {
            if !path.exists() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            defaults.add_source(config::File::from(path))
        }
        None => defaults.add_source(config::File::with_name(DEFAULT_FILE).required(false)),
    };
    with_file
        .add_source(config::Environment::with_prefix("SWITCHYARD").try_parsing(true))
        .build()
        .and_then(|layers| layers.try_deserialize())
        .map_err(|error| format!("cannot read configuration: {error}"))
}

fn validate(raw: RawConfig) -> Result<Config, Vec<String>> {
    let mut problems = Vec::new();
    let listen = raw.listen.parse::<SocketAddr>().map_err(|_| {
        problems.push(format!(
            "listen (SWITCHYARD_LISTEN) `{}` is not an address like 127.0.0.1:3000",
            raw.listen
        ))
    });
    let store = if raw.database_url.is_empty() {
        StoreConfig::Sqlite {
            path: raw.data_dir.join("switchyard.db"),
        }
    } else {
        if !(raw.database_url.starts_with("postgres://")
            || raw.database_url.starts_with("postgresql://"))
        {
            problems.push(
                "database_url (SWITCHYARD_DATABASE_URL) must be a postgres:// URL, or empty for SQLite".into(),
            );
        }
        StoreConfig::Postgres {
            url: raw.database_url.clone(),
            pool_size: raw.database_pool_size.max(2),
        }
    };
    let redis_scheme = ["redis://", "rediss://"]
        .iter()
        .any(|scheme| raw.redis_url.starts_with(scheme));
    if !raw.redis_url.is_empty() && !redis_scheme {
        problems.push("redis_url (SWITCHYARD_REDIS_URL) must be a redis:// URL".into());
    }
    if !(raw.whatsapp_api_base.starts_with("http://")
        || raw.whatsapp_api_base.starts_with("https://"))
    {
        problems.push(format!(
            "whatsapp_api_base (SWITCHYARD_WHATSAPP_API_BASE) `{}` must be an http(s) URL",
            raw.whatsapp_api_base
        ));
    }
    if raw.max_body_bytes < 1024 {
        problems.push("max_body_bytes (SWITCHYARD_MAX_BODY_BYTES) must be at least 1024".into());
    }
    if !matches!(raw.log_format.as_str(), "text" | "json") {
        problems.push(format!(
            "log_format (SWITCHYARD_LOG_FORMAT) `{}` must be text or json",
            raw.log_format
        ));
    }
    if raw.conversation_idle_seconds == 0 {
        problems.push("conversation_idle_seconds must be at least 1".into());
    }
    match listen {
        Ok(listen) if problems.is_empty() => Ok(Config {
            listen,
            data_dir: raw.data_dir,
            store,
            redis_url: Some(raw.redis_url).filter(|url| !url.is_empty()),
            platform_token: Secret::new(raw.platform_token),
            whatsapp_api_base: raw.whatsapp_api_base.trim_end_matches('/').to_owned(),
            max_body_bytes: raw.max_body_bytes,
            log_format: raw.log_format,
            conversation_idle_seconds: raw.conversation_idle_seconds,
        }),
        _ => Err(problems),
    }
}
