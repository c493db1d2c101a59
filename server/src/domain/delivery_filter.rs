//! The Deliveries tab's and `GET /api/v1/deliveries`' filters, parsed.

use app::domain::DeliveryStatus;
use app::error::FormErrors;
use app::model::DeliveryFilter;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidFilter {
    pub status: Option<DeliveryStatus>,
    pub destination_id: Option<i64>,
    /// Deliveries with an id below this one (the previous page's last).
    pub before: Option<i64>,
}

pub fn parse(filter: &DeliveryFilter) -> Result<ValidFilter, FormErrors> {
    let mut errors = FormErrors::default();
    let status = match filter.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => DeliveryStatus::parse(s)
            .map_err(|m| errors.add("status", m))
            .ok(),
    };
    let before = match filter.cursor.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| errors.add("cursor", "cursor is the next_cursor of an earlier page"))
            .ok(),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidFilter {
        status,
        destination_id: filter.destination_id,
        before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_bad_ones_are_named() {
        let good = DeliveryFilter {
            status: Some(" failed ".into()),
            destination_id: Some(4),
            cursor: Some("120".into()),
        };
        assert_eq!(
            parse(&good).unwrap(),
            ValidFilter {
                status: Some(DeliveryStatus::Failed),
                destination_id: Some(4),
                before: Some(120),
            }
        );
        assert_eq!(
            parse(&DeliveryFilter::default()).unwrap(),
            ValidFilter::default()
        );
        let bad = DeliveryFilter {
            status: Some("lost".into()),
            destination_id: None,
            cursor: Some("x".into()),
        };
        let errors = parse(&bad).unwrap_err();
        let fields: Vec<&str> = errors.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["status", "cursor"]);
    }
}
