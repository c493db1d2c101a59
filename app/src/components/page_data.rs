//! Every page's data is a `PageData` resource: server-rendered, sent along
//! with the HTML and read back by the browser when it hydrates.
//!
//! Why not `Resource::new`: its JSON codec reads the sent data from a `&str`
//! (`serde_json::from_str`), while server functions read their answers from
//! bytes (`serde_json::from_slice`). The two readers are different types, so
//! every page's data type had its decoding compiled into the WASM twice. This
//! codec reads the sent data from bytes too, so one copy serves both.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

/// JSON for page data, read with the same reader as server function answers.
pub struct PageJson;

impl<T: Serialize> Encoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(sent: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(sent.as_bytes())
    }
}

/// A page's data: loaded on the server, reloaded whenever `source` changes.
pub type PageData<T> = Resource<T, PageJson>;

/// `Resource::new`, with the page-data codec.
#[track_caller]
pub fn page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageData<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Row {
        name: String,
        count: u32,
    }

    #[test]
    fn page_data_reads_back_what_it_wrote() {
        let rows = vec![
            Row {
                name: "ops \"webhook\" ✓".into(),
                count: 3,
            },
            Row {
                name: String::new(),
                count: 0,
            },
        ];
        let sent = PageJson::encode(&rows).unwrap();
        let read: Vec<Row> = PageJson::decode(&sent).unwrap();
        assert_eq!(read, rows);
    }

    #[test]
    fn page_data_refuses_what_is_not_its_type() {
        let read: Result<Vec<Row>, _> = PageJson::decode(r#"[{"name": 1}]"#);
        assert!(read.is_err());
    }
}
