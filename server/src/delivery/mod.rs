//! Everything that sends a webhook: the address guard, the signer, the
//! payload, and the HTTP client. Send Test Alert and the delivery engine
//! share all of it.

pub mod client;
pub mod engine;
pub mod payload;
pub mod request;
pub mod resolver;
pub mod signer;
pub mod targets;
pub mod troubleshooting;

pub use client::{
    Attempt, AttemptError, ErrorKind, HttpSender, OutgoingRequest, MAX_RESPONSE_BYTES,
};
