//! Reliability, part 3 (RELIABILITY.md): the database goes away under load
//! and comes back. PostgreSQL: a private cluster stopped and started again.
//! SQLite: its disk full (a small tmpfs filled with ballast), then freed.
//! The server stays up; while the database is gone ingest answers 202 (kept)
//! or 503 with `Retry-After` in the error shape, never anything else; and
//! everything accepted is delivered afterwards.
//! `ALERTWIRE_OUTAGE_SECS` long (5 here; scripts/reliability/30-outage.sh: 30).

use crate::private_pg::PrivateCluster;
use crate::processes::Site;
use crate::receivers::receiver;
use crate::small_fs::SmallFs;
use crate::workload::{env_number, settled, Answer, Poster};
use server::receiver::Behaviour;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What goes away and comes back.
enum Outage<'a> {
    Postgres(&'a PrivateCluster),
    FullDisk(&'a SmallFs),
}

impl Outage<'_> {
    fn begin(&self) {
        match self {
            Outage::Postgres(cluster) => cluster.stop(),
            Outage::FullDisk(fs) => fs.fill(),
        }
    }

    fn end(&self) {
        match self {
            Outage::Postgres(cluster) => cluster.resume(),
            Outage::FullDisk(fs) => fs.free(),
        }
    }
}

#[test]
fn postgres_stopped_under_load_loses_no_accepted_alert() {
    crate::helpers::runtime().block_on(async {
        let Some(cluster) = PrivateCluster::start() else {
            return;
        };
        let dir = std::env::temp_dir().join(crate::helpers::unique_name());
        std::fs::create_dir_all(&dir).unwrap();
        let site = Site::open(dir, cluster.url(), None).await;
        let figures = through(&site, Outage::Postgres(&cluster)).await;
        assert!(
            figures.health_503 > 0 && figures.health_200_during == 0,
            "/healthz during the outage: {} x 503, {} x 200",
            figures.health_503,
            figures.health_200_during
        );
    });
}

#[test]
fn sqlite_on_a_full_disk_loses_no_accepted_alert() {
    crate::helpers::runtime().block_on(async {
        let Some(fs) = SmallFs::mount(16) else {
            return;
        };
        let dir = fs.dir.join("site");
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("a.db").display());
        let site = Site::open(dir, url, None).await;
        let figures = through(&site, Outage::FullDisk(&fs)).await;
        // Reads still work on a full disk: health looks at the free space.
        assert!(
            figures.health_503 > 0 && figures.health_200_during == 0,
            "/healthz on the full disk: {} x 503, {} x 200",
            figures.health_503,
            figures.health_200_during
        );
    });
}

#[derive(Default)]
struct Figures {
    health_503: usize,
    health_200_during: usize,
}

/// Load before, during and after the outage; the checks every outage shares.
async fn through(site: &Site, outage: Outage<'_>) -> Figures {
    let secs = env_number("ALERTWIRE_OUTAGE_SECS", 5);
    let rx = receiver(&site.ca.tls, Behaviour::default()).await;
    let mut process = site
        .start_with_env(&[("ALERTWIRE_RETRY_SCHEDULE", "0s,1s,2s,5s")])
        .await;
    site.routes(&process.base, &rx, 1).await;
    let poster = Poster::start(&process.base, site.key(), 4, Duration::from_millis(10));
    let health = Probe::start(&process.base);
    tokio::time::sleep(Duration::from_secs(1)).await;
    outage.begin();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let up = Instant::now();
    outage.end();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let answers = poster.stop().await;
    let probes = health.stop().await;
    assert!(
        process.child.try_wait().unwrap().is_none(),
        "the server stayed up"
    );

    let during: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.sent >= down && a.sent < up)
        .collect();
    let count = |status: u16| during.iter().filter(|a| a.status == Some(status)).count();
    let wrong: Vec<&Answer> = answers.iter().filter(|a| !kept_or_refused(a)).collect();
    let accepted: HashSet<String> = answers
        .iter()
        .filter(|a| a.status == Some(202))
        .flat_map(|a| a.alert_ids.iter().cloned())
        .collect();
    let all = settled(site, &process.base, Duration::from_secs(120)).await;
    let delivered: HashSet<&str> = all
        .iter()
        .filter(|d| d["status"] == "delivered")
        .map(|d| d["alert_id"].as_str().unwrap())
        .collect();
    let lost = accepted
        .iter()
        .filter(|id| !delivered.contains(id.as_str()))
        .count();
    let figures = Figures {
        health_503: probes
            .iter()
            .filter(|p| p.0 >= down && p.0 < up && p.1 == Some(503))
            .count(),
        health_200_during: probes
            .iter()
            .filter(|p| p.0 >= down && p.1 == Some(200) && p.2 < up)
            .count(),
    };
    let slowest = during
        .iter()
        .map(|a| a.answered - a.sent)
        .max()
        .unwrap_or_default();
    println!(
        "FIGURES outage engine={} outage_secs={secs} ingest_during={} answered_202={} answered_503={} other={} slowest_answer_ms={} healthz_503={} healthz_200={} accepted_alerts={} lost={lost}",
        site.engine_name(),
        during.len(),
        count(202),
        count(503),
        during.len() - count(202) - count(503),
        slowest.as_millis(),
        figures.health_503,
        figures.health_200_during,
        accepted.len(),
    );
    process.child.start_kill().unwrap();
    assert!(
        wrong.is_empty(),
        "{} answers neither 202 nor 503 with Retry-After, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    // Not only those sent inside the window: with a 3 s wait for a connection,
    // a request in flight when the database went away is the one refused, and
    // one sent late in the window may be kept once it is back.
    let refused = answers.iter().filter(|a| a.status == Some(503)).count();
    assert!(refused > 0, "the outage was felt: some ingest got 503");
    assert_eq!(lost, 0, "every accepted alert was delivered");
    figures
}

/// A kept `202`, or a `503` with `Retry-After` in the error shape.
fn kept_or_refused(answer: &Answer) -> bool {
    match answer.status {
        Some(202) => true,
        Some(503) => answer.retry_after.is_some() && answer.code.is_some(),
        _ => false,
    }
}

/// `/healthz` asked every 100 ms: (sent, status, answered).
struct Probe {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<(Instant, Option<u16>, Instant)>>,
}

impl Probe {
    fn start(base: &str) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, flag) = (format!("{base}/healthz"), stop.clone());
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut seen = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                let sent = Instant::now();
                let status = client
                    .get(&url)
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status().as_u16());
                seen.push((sent, status, Instant::now()));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            seen
        });
        Probe { stop, task }
    }

    async fn stop(self) -> Vec<(Instant, Option<u16>, Instant)> {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap()
    }
}
