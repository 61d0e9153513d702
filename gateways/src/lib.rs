//! Switchyard's edges: the HTTP API, `/cable`, provider webhooks and outbound provider clients.

pub mod whatsapp;
