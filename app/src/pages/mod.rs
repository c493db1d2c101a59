pub mod account;
pub mod alerts;
pub mod api_keys;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod setup;
pub mod users;
