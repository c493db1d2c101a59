//! The reliability tests' steady workload: events posted without pause by a
//! few posters, every answer kept (or its absence), and the accounting after:
//! every delivery listed, and a wait until none is queued.

use crate::processes::Site;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// One `POST /api/v1/events` and what came back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub sent: Instant,
    pub answered: Instant,
    /// `None`: no answer (the process was gone or the connection broke).
    pub status: Option<u16>,
    pub retry_after: Option<String>,
    /// The error shape's `code`, when the answer had one.
    pub code: Option<String>,
    /// The alerts a `202` named.
    pub alert_ids: Vec<String>,
}

pub struct Poster {
    stop: Arc<AtomicBool>,
    tasks: JoinSet<Vec<Answer>>,
}

/// Event names stay unique across posters and runs.
static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Poster {
    /// `parallel` loops posting one event each, `pace` apart, to `base`.
    pub fn start(base: &str, key: &str, parallel: usize, pace: Duration) -> Poster {
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut tasks = JoinSet::new();
        for _ in 0..parallel {
            let (stop, client) = (stop.clone(), client.clone());
            let (url, key) = (format!("{base}/api/v1/events"), key.to_owned());
            tasks.spawn(async move {
                let mut answers = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    answers.push(post_one(&client, &url, &key).await);
                    tokio::time::sleep(pace).await;
                }
                answers
            });
        }
        Poster { stop, tasks }
    }

    /// Stops posting; every answer, in no particular order.
    pub async fn stop(mut self) -> Vec<Answer> {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        while let Some(answers) = self.tasks.join_next().await {
            all.extend(answers.unwrap());
        }
        all
    }
}

async fn post_one(client: &reqwest::Client, url: &str, key: &str) -> Answer {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let event = json!({"type": "schema_change", "asset": {"qualified_name": format!("db.w{n}"), "asset_type": "table"}});
    let sent = Instant::now();
    let response = client.post(url).bearer_auth(key).json(&event).send().await;
    let mut answer = Answer {
        sent,
        answered: sent,
        status: None,
        retry_after: None,
        code: None,
        alert_ids: Vec::new(),
    };
    if let Ok(response) = response {
        answer.status = Some(response.status().as_u16());
        answer.retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // A body cut short by a kill leaves the ids unknown: not counted as accepted.
        let Ok(body) = response.json::<Value>().await else {
            answer.status = None;
            answer.answered = Instant::now();
            return answer;
        };
        answer.code = body["error"]["code"].as_str().map(str::to_owned);
        answer.alert_ids = body["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["id"].as_str().map(str::to_owned))
            .collect();
    }
    answer.answered = Instant::now();
    answer
}

/// Every delivery (`filter` narrows, e.g. `status=pending`), through the API, following cursors.
pub async fn deliveries(site: &Site, base: &str, filter: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/deliveries?{filter}&cursor={cursor}");
        let page = site.api(base, reqwest::Method::GET, &path, None).await;
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return all,
        }
    }
}

/// Waits until no delivery is pending; returns them all.
pub async fn settled(site: &Site, base: &str, within: Duration) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let queued = deliveries(site, base, "status=pending").await.len()
            + deliveries(site, base, "status=retrying").await.len();
        if queued == 0 {
            return deliveries(site, base, "").await;
        }
        assert!(
            Instant::now() < deadline,
            "{queued} deliveries still queued"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A count from the environment (the long runs set it), or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
