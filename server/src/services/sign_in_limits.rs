//! How many password checks may run: per account and per client address at
//! sign-in, per user at password re-entry. An attempt is counted before its
//! check, so a burst gets at most the limit of checks; the rest are told when
//! to come back. A failed check stays counted for the window; a success
//! clears its account (or re-entry) and gives back its address's slot.

use super::{internal, Services};
use crate::clock::now_ms;
use crate::store::auth_attempts;
use app::error::AppError;
use sha2::{Digest, Sha256};
use std::net::IpAddr;

const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed checks allowed per account, and per user re-entering their password.
pub const PER_ACCOUNT: i64 = 5;
/// Per client address, across accounts (one office may share an address).
pub const PER_ADDRESS: i64 = 30;

/// What a limit counts.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A sign-in email, as typed (normalised); stored only as a hash.
    Account(&'a str),
    Address(IpAddr),
    /// A signed-in user confirming their password.
    Reentry(i64),
}

impl Subject<'_> {
    fn key(self) -> String {
        match self {
            Subject::Account(email) => {
                format!("account:{}", hex::encode(Sha256::digest(email.as_bytes())))
            }
            Subject::Address(ip) => format!("address:{ip}"),
            Subject::Reentry(user) => format!("reentry:{user}"),
        }
    }

    fn limit(self) -> i64 {
        match self {
            Subject::Address(_) => PER_ADDRESS,
            Subject::Account(_) | Subject::Reentry(_) => PER_ACCOUNT,
        }
    }

    fn refusal(self, minutes: i64) -> String {
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        let what = match self {
            Subject::Account(_) => "Too many failed sign-in attempts for this account",
            Subject::Address(_) => "Too many failed sign-in attempts from your network address",
            Subject::Reentry(_) => "Too many wrong passwords",
        };
        format!("{what}. Try again in {minutes} {unit}.")
    }
}

/// One counted attempt.
pub struct Ticket {
    id: i64,
    key: String,
    rank: i64,
    limit: i64,
}

impl Ticket {
    /// True when this attempt took the last check its subject had: if it
    /// fails, the subject is locked out for the rest of the window.
    pub fn takes_the_last_try(&self) -> bool {
        self.rank == self.limit
    }
}

impl Services {
    /// Counts an attempt for `subject`, or refuses it with `LockedOut` when
    /// the limit's checks are taken (it then counts for nothing).
    pub(crate) async fn admit(&self, subject: Subject<'_>) -> Result<Ticket, AppError> {
        let key = subject.key();
        let now = now_ms();
        let a = auth_attempts::admit(self.db(), &key, now, now - WINDOW_MS)
            .await
            .map_err(internal)?;
        if a.rank <= subject.limit() {
            return Ok(Ticket {
                id: a.id,
                key,
                rank: a.rank,
                limit: subject.limit(),
            });
        }
        auth_attempts::forget(self.db(), a.id)
            .await
            .map_err(internal)?;
        let wait_ms = (a.oldest + WINDOW_MS - now).max(1000);
        tracing::info!(
            subject = key.split(':').next(),
            "password checks refused by the limit"
        );
        Err(AppError::LockedOut {
            message: subject.refusal((wait_ms + 59_999) / 60_000),
            retry_after: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1),
        })
    }

    /// A refused or unneeded attempt: it counts for nothing.
    pub(crate) async fn release(&self, ticket: Ticket) -> Result<(), AppError> {
        auth_attempts::forget(self.db(), ticket.id)
            .await
            .map_err(internal)
    }

    /// A successful check clears every attempt of its subject.
    pub(crate) async fn cleared(&self, ticket: Ticket) -> Result<(), AppError> {
        auth_attempts::clear(self.db(), &ticket.key)
            .await
            .map_err(internal)
    }
}
