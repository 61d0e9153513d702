//! WhatsApp through Meta's Cloud API: what a webhook body means, and what a reply looks like.
//!
//! The pieces are pure functions so that the HTTP routes, the channel actor and the benchmark
//! can share them:
//!
//! - [`signature`] checks the `X-Hub-Signature-256` header. A route must run it on the raw body
//!   before [`inbound::parse`] sees a byte, because only a verified body may be stored.
//! - [`inbound`] turns a verified webhook body into the engine's inbound messages and delivery
//!   reports, refusing the whole body when any part of it is unusable.
//! - [`outbound`] builds the Graph API request for a text reply and reads Meta's answer.
//!
//! This module does no I/O: no HTTP, no media download, no dedupe. Those belong to the routes
//! and to the channel actor, which know the inbox and its state.

pub mod inbound;
pub mod outbound;
pub mod signature;

/// Where tests find the provider payloads collected in the shared corpus.
#[cfg(test)]
mod corpus {
    use std::path::{Path, PathBuf};

    /// The corpus folder `name` (`whatsapp_cloud`, `signatures`...).
    ///
    /// The workspace keeps the corpus under `tests/corpus` (see its `SOURCES.md`). A missing
    /// folder fails the test instead of skipping it, so a broken checkout cannot pass for a
    /// green run.
    pub(super) fn dir(name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/corpus")
            .join(name);
        assert!(dir.is_dir(), "the corpus folder {dir:?} is missing");
        dir
    }

    /// The exact bytes of the corpus file `file` in folder `name`.
    pub(super) fn read(name: &str, file: &str) -> Vec<u8> {
        let path = dir(name).join(file);
        std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path:?}: {error}"))
    }
}
