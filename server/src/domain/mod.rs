//! Server-side values that can only hold valid data.

pub mod address_guard;
pub mod api_key;
pub mod audit_filter;
pub mod delivery_filter;
pub mod destination;
pub mod event;
pub mod glob;
pub mod header;
pub mod name;
pub mod rule;
pub mod user;
pub mod webhook_url;
