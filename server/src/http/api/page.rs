//! Cursor pages, one spelling for every list that grows:
//! `?cursor=&limit=` in, `{"items": [...], "next_cursor": "..." | null}` out.

use app::error::{AppError, FormErrors};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// Query strings stay text so a bad value gets the API's error shape.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

impl PageQuery {
    /// The cursor (an id) and the page size, or every problem with them.
    pub fn parse(&self) -> Result<(Option<i64>, i64), AppError> {
        let mut errors = FormErrors::default();
        let cursor = match self.cursor.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => c
                .parse::<i64>()
                .map_err(|_| errors.add("cursor", "cursor is the next_cursor of an earlier page"))
                .ok(),
        };
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => Some(DEFAULT_LIMIT),
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .or_else(|| {
                    errors.add("limit", format!("limit is a number from 1 to {MAX_LIMIT}"));
                    None
                }),
        };
        errors.into_result()?;
        Ok((cursor, limit.unwrap_or(DEFAULT_LIMIT)))
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, next: Option<i64>) -> Self {
        Page {
            items,
            next_cursor: next.map(|id| id.to_string()),
        }
    }
}
