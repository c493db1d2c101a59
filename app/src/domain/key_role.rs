use serde::{Deserialize, Serialize};

/// What an API key may do (ARCHITECTURE.md "API keys"). `Viewer`, `Editor`
/// and `Admin` mean what they mean for people; `Ingest` may only post events,
/// which editors and admins may too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum KeyRole {
    Ingest,
    Viewer,
    Editor,
    Admin,
}

impl KeyRole {
    /// In the order the key form offers them; `Ingest` is proposed.
    pub const ALL: [KeyRole; 4] = [
        KeyRole::Ingest,
        KeyRole::Viewer,
        KeyRole::Editor,
        KeyRole::Admin,
    ];

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| {
                format!(
                    "Unknown key role {:?}: choose ingest, viewer, editor or admin",
                    raw.trim()
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Ingest => "ingest",
            KeyRole::Viewer => "viewer",
            KeyRole::Editor => "editor",
            KeyRole::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyRole::Ingest => "Ingest",
            KeyRole::Viewer => "Viewer",
            KeyRole::Editor => "Editor",
            KeyRole::Admin => "Admin",
        }
    }

    /// What the key form says of each role.
    pub fn description(self) -> &'static str {
        match self {
            KeyRole::Ingest => "Ingest: only posts events (for monitors)",
            KeyRole::Viewer => "Viewer: reads destinations, rules and deliveries",
            KeyRole::Editor => "Editor: also edits and tests destinations and rules",
            KeyRole::Admin => "Admin: also redelivers and does everything else",
        }
    }

    /// Whether a key with this role may do what `needed` guards.
    pub fn allows(self, needed: KeyRole) -> bool {
        match needed {
            KeyRole::Ingest => self != KeyRole::Viewer,
            KeyRole::Viewer => self != KeyRole::Ingest,
            KeyRole::Editor => matches!(self, KeyRole::Editor | KeyRole::Admin),
            KeyRole::Admin => self == KeyRole::Admin,
        }
    }
}

impl std::fmt::Display for KeyRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// For rows read from the database.
impl TryFrom<String> for KeyRole {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

#[cfg(test)]
mod tests {
    use super::KeyRole::{self, *};

    #[test]
    fn roles_allow_what_they_name() {
        let may = |role: KeyRole| KeyRole::ALL.map(|needed| role.allows(needed));
        // Needed:       Ingest Viewer Editor Admin
        assert_eq!(may(Ingest), [true, false, false, false]);
        assert_eq!(may(Viewer), [false, true, false, false]);
        assert_eq!(may(Editor), [true, true, true, false]);
        assert_eq!(may(Admin), [true, true, true, true]);
    }

    #[test]
    fn text_round_trips() {
        for role in KeyRole::ALL {
            assert_eq!(KeyRole::parse(role.as_str()), Ok(role));
        }
        assert!(KeyRole::parse("root").is_err());
    }
}
