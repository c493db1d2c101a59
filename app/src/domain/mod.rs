//! Values that can only hold valid data ("parse, don't validate").
//! Shared by the browser and the server so both give the same messages.

mod audit;
mod delivery_state;
mod delivery_status;
mod email;
mod key_role;
pub mod password;

mod role;

pub use audit::{ActorKind, AuditAction, ObjectKind};
pub use delivery_state::DeliveryState;
pub use delivery_status::DeliveryStatus;
pub use email::Email;
pub use key_role::KeyRole;
pub use password::NewPassword;
pub use role::Role;
