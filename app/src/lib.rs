//! Alertwire's pages, routes and server functions, and the types the server
//! and the browser share. Server-only code sits behind the `ssr` feature.

pub mod api;
mod assets;
#[cfg(feature = "ssr")]
pub mod backend;
#[cfg(feature = "hydrate")]
mod code_missing;
mod components;
pub mod domain;
pub mod error;
pub mod format;
pub mod model;
mod pages;
mod routes;

pub use routes::{shell, App};
