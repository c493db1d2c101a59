//! The new-key form: a name and a role, each checked, every problem at once.

use super::name::Name;
use app::domain::KeyRole;
use app::error::FormErrors;

pub struct NewKey {
    pub name: Name,
    pub role: KeyRole,
}

pub fn parse_new_key(name: &str, role: &str) -> Result<NewKey, FormErrors> {
    let mut errors = FormErrors::default();
    errors.keep("name", name);
    errors.keep("role", role);
    let name = Name::parse(name, "the key")
        .map_err(|m| errors.add("name", m))
        .ok();
    let role = KeyRole::parse(role).map_err(|m| errors.add("role", m)).ok();
    match (name, role) {
        (Some(name), Some(role)) => Ok(NewKey { name, role }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fields_are_checked_at_once() {
        let key = parse_new_key(" monitor ", "ingest").unwrap();
        assert_eq!(key.name.as_str(), "monitor");
        assert_eq!(key.role, KeyRole::Ingest);
        let errors = parse_new_key("", "root").err().unwrap();
        let fields: Vec<&str> = errors.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "role"]);
    }
}
