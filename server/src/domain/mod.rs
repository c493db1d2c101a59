//! Server-side values that can only hold valid data.

pub mod destination;
pub mod event;
pub mod glob;
pub mod header;
pub mod webhook_url;
