//! The account forms: a new user (first-run setup and Settings -> Users) and
//! a sign-in, each parsed with every field's problem at once.

use app::backend::NewUserInput;
use app::domain::password::PasswordField;
use app::domain::{Email, NewPassword, Role};
use app::error::FormErrors;

/// The longest address SMTP allows (RFC 5321).
const MAX_EMAIL_BYTES: usize = 254;

/// A new user's fields, each parsed.
pub struct ValidUser {
    pub email: Email,
    pub password: NewPassword,
    pub role: Role,
}

pub fn parse_new_user(input: &NewUserInput) -> Result<ValidUser, FormErrors> {
    let mut errors = FormErrors::default();
    errors.keep("email", &input.email);
    errors.keep("role", &input.role);
    let email = Email::parse(&input.email)
        .map_err(|m| errors.add("email", m))
        .ok();
    let password = NewPassword::parse(&input.password, &input.password_confirm)
        .map_err(|(field, m)| match field {
            PasswordField::Password => errors.add("password", m),
            PasswordField::Confirmation => errors.add("password_confirm", m),
        })
        .ok();
    let role = Role::parse(&input.role)
        .map_err(|m| errors.add("role", m))
        .ok();
    match (email, password, role) {
        (Some(email), Some(password), Some(role)) => Ok(ValidUser {
            email,
            password,
            role,
        }),
        _ => Err(errors),
    }
}

/// A sign-in as typed: the email is looked up as given (trimmed, lower-case),
/// not checked as an address, so the answer never tells which accounts exist.
pub struct SignIn<'a> {
    pub email: String,
    pub password: &'a str,
}

pub fn parse_sign_in<'a>(email: &str, password: &'a str) -> Result<SignIn<'a>, FormErrors> {
    let email = email.trim().to_lowercase();
    let mut errors = FormErrors::default();
    if email.is_empty() {
        errors.add("email", "Enter your email address");
    } else if email.len() > MAX_EMAIL_BYTES {
        // Refused before any lookup, count or hash: no address is this long.
        errors.add("email", "Email addresses are at most 254 characters");
        return Err(errors);
    } else if email.chars().any(char::is_control) {
        // No account holds one, and PostgreSQL cannot compare text with a NUL.
        errors.add(
            "email",
            "Enter a valid email address, like name@example.com",
        );
        return Err(errors);
    }
    errors.keep("email", &email);
    if password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SignIn { email, password })
}
