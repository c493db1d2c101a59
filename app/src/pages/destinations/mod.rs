//! Alerts -> Destinations: the list, the Add Destination wizard, a destination's page.

mod configure;
mod detail;
mod health;
mod list;
mod live;
mod report;
mod secret;
mod wizard;

pub use detail::DestinationDetail;
pub use list::DestinationsTab;
pub use wizard::{ChooseDestinationType, NewWebhook};
