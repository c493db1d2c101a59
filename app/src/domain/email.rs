use serde::{Deserialize, Serialize};

/// A syntactically valid email address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

/// RFC 5321 caps a forward path at 254 characters.
pub const MAX_EMAIL_LEN: usize = 254;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err("Enter an email address".into());
        }
        if value.chars().count() > MAX_EMAIL_LEN {
            return Err(format!(
                "Email addresses can be at most {MAX_EMAIL_LEN} characters"
            ));
        }
        let malformed = || "Enter a valid email address, like name@example.com".to_string();
        let (local, domain) = value.rsplit_once('@').ok_or_else(malformed)?;
        let local_ok = !local.is_empty() && local.len() <= 64 && !local.contains('@');
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let clean = value
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '<' && c != '>');
        if !(local_ok && domain_ok && clean) {
            return Err(malformed());
        }
        Ok(Self(value.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_valid_addresses() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert!(Email::parse("first.last+tag@sub.example.org").is_ok());
    }

    #[test]
    fn refuses_bad_addresses() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@.example.com",
            "ada@example..com",
            "ada @example.com",
            "ada@exa mple.com",
            "a\nb@example.com",
            "<ada@example.com>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn refuses_overlong_addresses() {
        let long = format!("{}@{}.com", "a".repeat(60), "b".repeat(200));
        assert!(long.len() > MAX_EMAIL_LEN);
        assert!(Email::parse(&long).unwrap_err().contains("254"));
        let fits = format!("{}@{}.com", "a".repeat(60), "b".repeat(189));
        assert_eq!(fits.len(), MAX_EMAIL_LEN);
        assert!(Email::parse(&fits).is_ok());
    }
}
