//! What people name things (destinations, rules, API keys): one rule for all.

use app::error::FormErrors;

pub const MAX_NAME_CHARS: usize = 100;

/// A trimmed name of 1 to 100 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// `thing` is what is named, as the messages say it ("the rule").
    pub fn parse(raw: &str, thing: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(format!("Give {thing} a name"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("Names can be at most {MAX_NAME_CHARS} characters"));
        }
        if name.chars().any(char::is_control) {
            return Err("Names cannot contain control characters".into());
        }
        Ok(Name(name.to_owned()))
    }

    /// A form whose only field is `name`: the typed value is kept for the form.
    pub fn parse_field(raw: &str, thing: &str) -> Result<Self, FormErrors> {
        Name::parse(raw, thing).map_err(|message| {
            let mut errors = FormErrors::default();
            errors.keep("name", raw);
            errors.add("name", message);
            errors
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(
            Name::parse("  CI monitor ", "the key").unwrap().as_str(),
            "CI monitor"
        );
        assert_eq!(
            Name::parse(" ", "the rule").unwrap_err(),
            "Give the rule a name"
        );
        assert!(Name::parse(&"x".repeat(100), "it").is_ok());
        assert!(Name::parse(&"x".repeat(101), "it")
            .unwrap_err()
            .contains("100"));
        assert!(Name::parse("bad\nname", "it")
            .unwrap_err()
            .contains("control"));
        let Err(errors) = Name::parse_field("", "the key") else {
            panic!("expected an error")
        };
        assert_eq!(errors.fields[0].field, "name");
    }
}
