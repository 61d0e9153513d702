//! Timestamps with microsecond precision.
//!
//! Storage keeps microseconds since the Unix epoch so that messages arriving within the same
//! second keep a stable order; the Chatwoot API shows whole seconds.

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_micros() as i64)
            .unwrap_or(0);
        Timestamp(micros)
    }

    /// A timestamp from whole Unix seconds, as providers send them.
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Timestamp(seconds.saturating_mul(1_000_000))
    }

    /// Whole Unix seconds, as the Chatwoot API shows them.
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Fractional Unix seconds, as Chatwoot shows `updated_at` and `last_activity_at`.
    pub fn unix_seconds_f64(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }
}
