//! The HTTP edge: routes, middleware, and the mapping of errors to responses.

pub mod api;
pub mod assets;
pub mod csrf;
pub mod guard;
pub mod health;
pub mod live;
pub mod metrics;
pub mod pages;
pub mod security_headers;
pub mod sessions;
pub mod unread_body;
