//! The audit log's vocabulary: who acted, what they did, to which kind of
//! object. Stored as this text in `audit_log` and serialised as it.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn parse(raw: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == raw.trim())
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        format!("{} is one of {}", $what, names.join(", "))
                    })
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// For rows read from the database.
        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }
    };
}

vocabulary!(
    /// Who acted: a signed-in person or an API key.
    ActorKind, "the actor's kind" {
        User => "user", "User";
        ApiKey => "api_key", "API key";
    }
);

vocabulary!(
    /// What was done.
    AuditAction, "action" {
        Create => "create", "Created";
        Update => "update", "Updated";
        Delete => "delete", "Deleted";
        Enable => "enable", "Enabled";
        Disable => "disable", "Disabled";
        Test => "test", "Sent a test alert";
        RotateSecret => "rotate_secret", "Rotated the signing secret";
        RevealSecret => "reveal_secret", "Revealed the signing secret";
        Redeliver => "redeliver", "Redelivered";
        Cancel => "cancel", "Cancelled retries";
        BulkRedeliver => "bulk_redeliver", "Started a bulk redelivery";
        ChangeRole => "change_role", "Changed the role";
        Activate => "activate", "Reactivated";
        Deactivate => "deactivate", "Deactivated";
        ChangePassword => "change_password", "Changed the password";
        Revoke => "revoke", "Revoked";
        SignInFailed => "sign_in_failed", "Sign-in failed";
        PasswordReentryFailed => "password_reentry_failed", "Password re-entry failed";
        LockedOut => "locked_out", "Locked out";
    }
);

vocabulary!(
    /// What kind of thing an action was done to.
    ObjectKind, "the object's kind" {
        Destination => "destination", "Destination";
        Rule => "rule", "Rule";
        Delivery => "delivery", "Delivery";
        Job => "job", "Job";
        User => "user", "User";
        ApiKey => "api_key", "API key";
        Address => "address", "Address";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Ok(*a));
            assert_eq!(
                serde_json::to_string(a).unwrap(),
                format!("\"{}\"", a.as_str())
            );
        }
        for k in ObjectKind::ALL {
            assert_eq!(ObjectKind::parse(k.as_str()), Ok(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        for k in ActorKind::ALL {
            assert_eq!(ActorKind::parse(k.as_str()), Ok(*k));
        }
        let err = ObjectKind::parse("widget").unwrap_err();
        assert!(err.contains("destination"), "{err}");
    }
}
