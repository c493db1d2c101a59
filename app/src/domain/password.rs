/// A new password that meets the policy and was typed the same way twice.
/// Deliberately neither `Debug` nor `Serialize`: it must not end up in logs.
pub struct NewPassword(String);

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Argon2 takes any length; the cap stops a megabyte "password" from costing CPU.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Which field a password error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordField {
    Password,
    Confirmation,
}

impl NewPassword {
    pub fn parse(password: &str, confirmation: &str) -> Result<Self, (PasswordField, String)> {
        let chars = password.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err((
                PasswordField::Password,
                format!("Use at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err((
                PasswordField::Password,
                format!("Use at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        if password != confirmation {
            return Err((
                PasswordField::Confirmation,
                "The passwords do not match".into(),
            ));
        }
        Ok(Self(password.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_length_and_confirmation() {
        assert!(NewPassword::parse("correct horse", "correct horse").is_ok());
        assert_eq!(
            NewPassword::parse("short", "short").err().map(|e| e.0),
            Some(PasswordField::Password)
        );
        assert_eq!(
            NewPassword::parse("elevenchars", "elevenchars")
                .err()
                .map(|e| e.0),
            Some(PasswordField::Password)
        );
        assert!(NewPassword::parse("twelve chars", "twelve chars").is_ok());
        assert_eq!(
            NewPassword::parse("correct horse", "correct h0rse")
                .err()
                .map(|e| e.0),
            Some(PasswordField::Confirmation)
        );
        let huge = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert!(NewPassword::parse(&huge, &huge).is_err());
    }

    #[test]
    fn counts_characters_not_bytes() {
        // 12 characters, 24 bytes.
        let pw = "ääääääääääää";
        assert!(NewPassword::parse(pw, pw).is_ok());
        let pw = "äääääääääää";
        assert!(NewPassword::parse(pw, pw).is_err());
    }
}
