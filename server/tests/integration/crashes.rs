//! Reliability, part 2 (RELIABILITY.md): under a steady workload (events
//! posted, retries due, a receiver that fails some attempts) the server is
//! killed with SIGKILL at a random moment and started again, run after run.
//! Afterwards every accepted alert is delivered or failed per its schedule,
//! and a webhook-id reaches the receiver more often than attempts were
//! recorded only for an attempt in flight at a kill.
//! `ALERTWIRE_CRASH_RUNS` runs per engine (2 here; scripts/reliability/20-crash.sh: 100).

use crate::processes::Site;
use crate::receivers::receiver;
use crate::workload::{env_number, settled, Poster};
use rand::Rng;
use serde_json::Value;
use server::receiver::{Behaviour, Receiver};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Three attempts: at once, 300 ms after a failure, 600 ms after the next.
const SCHEDULE: &str = "0s,300ms,600ms";
const DELAYS_MS: [i64; 3] = [0, 300, 600];
/// Each webhook-id fails its first 0 to 3 requests: a quarter end failed.
const FAIL_BY_ID: u32 = 3;
const DESTINATIONS: usize = 2;

crate::on_both_engines!(with crate::processes::Site::new;
    sigkill_at_random_moments_loses_no_accepted_alert,
);

/// One SIGKILL: when (Unix ms, just before the signal) and the receiver's
/// count per webhook-id once the process was gone.
struct Kill {
    at: i64,
    seen: HashMap<String, i64>,
}

async fn sigkill_at_random_moments_loses_no_accepted_alert(site: &Site) {
    let runs = env_number("ALERTWIRE_CRASH_RUNS", 2);
    let rx = receiver(
        &site.ca.tls,
        Behaviour {
            delay: Duration::from_millis(50),
            fail_by_id: FAIL_BY_ID,
            ..Behaviour::default()
        },
    )
    .await;
    let env = [("ALERTWIRE_RETRY_SCHEDULE", SCHEDULE)];
    let mut kills = Vec::new();
    let mut accepted = HashSet::new();
    let (mut posted, mut unanswered) = (0, 0);
    for run in 0..runs {
        let mut process = site.start_with_env(&env).await;
        if run == 0 {
            site.routes(&process.base, &rx, DESTINATIONS).await;
        }
        let poster = Poster::start(&process.base, site.key(), 2, Duration::from_millis(20));
        let moment = rand::thread_rng().gen_range(200..1500);
        tokio::time::sleep(Duration::from_millis(moment)).await;
        let at = server::clock::now_ms();
        process.child.start_kill().unwrap();
        process.child.wait().await.unwrap();
        for answer in poster.stop().await {
            posted += 1;
            unanswered += usize::from(answer.status.is_none());
            if answer.status == Some(202) {
                accepted.extend(answer.alert_ids);
            }
        }
        // Requests already on the wire arrive before the count is taken.
        tokio::time::sleep(Duration::from_millis(200)).await;
        kills.push(Kill {
            at,
            seen: seen(&rx),
        });
    }

    let last = site.start_with_env(&env).await;
    let all = settled(site, &last.base, Duration::from_secs(180)).await;
    let mut report = Report::default();
    let present: HashMap<&str, usize> = all.iter().fold(HashMap::new(), |mut m, d| {
        *m.entry(d["alert_id"].as_str().unwrap()).or_default() += 1;
        m
    });
    for id in &accepted {
        if present.get(id.as_str()) != Some(&DESTINATIONS) {
            report.lost.push(id.clone());
        }
    }
    let now_seen = seen(&rx);
    for delivery in all
        .iter()
        .filter(|d| accepted.contains(d["alert_id"].as_str().unwrap()))
    {
        let path = format!("/deliveries/{}", delivery["id"]);
        let detail = site
            .api(&last.base, reqwest::Method::GET, &path, None)
            .await;
        report.check(&detail, &kills, &now_seen);
    }
    println!(
        "FIGURES crash engine={} runs={runs} posted={posted} unanswered={unanswered} accepted_alerts={} deliveries={} delivered={} failed={} lost={} duplicated_webhook_ids={} extra_requests={}",
        site.engine_name(),
        accepted.len(),
        report.deliveries,
        report.delivered,
        report.failed,
        report.lost.len(),
        report.duplicated,
        report.extra_requests,
    );
    assert!(!accepted.is_empty(), "the workload had alerts accepted");
    assert!(report.lost.is_empty(), "lost: {:?}", report.lost);
    assert!(
        report.problems.is_empty(),
        "{} problems, the first: {:#?}",
        report.problems.len(),
        &report.problems[..report.problems.len().min(10)]
    );
}

/// webhook-id -> requests the receiver got.
fn seen(rx: &Receiver) -> HashMap<String, i64> {
    let mut seen = HashMap::new();
    for r in rx.received() {
        let id = r.header("webhook-id").unwrap_or_default().to_owned();
        *seen.entry(id).or_default() += 1;
    }
    seen
}

#[derive(Default)]
struct Report {
    deliveries: usize,
    delivered: usize,
    failed: usize,
    lost: Vec<String>,
    /// webhook-ids the receiver got more often than attempts were recorded.
    duplicated: usize,
    /// Requests beyond the recorded attempts, over all webhook-ids.
    extra_requests: i64,
    problems: Vec<String>,
}

/// One recorded attempt: started (Unix ms), took (ms), the answer's status.
struct Recorded {
    started: i64,
    took: i64,
    status: Option<i64>,
}

impl Report {
    fn check(&mut self, detail: &Value, kills: &[Kill], now_seen: &HashMap<String, i64>) {
        self.deliveries += 1;
        let delivery = &detail["delivery"];
        let msg = delivery["msg_id"].as_str().unwrap().to_owned();
        let attempts: Vec<Recorded> = detail["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| Recorded {
                started: unix_ms(a["started_at"].as_str().unwrap()),
                took: a["duration_ms"].as_i64().unwrap(),
                status: a["response_status"].as_i64(),
            })
            .collect();
        let created = unix_ms(delivery["created_at"].as_str().unwrap());
        if let Err(problem) = per_schedule(delivery["status"].as_str().unwrap(), created, &attempts)
        {
            self.problems.push(format!("{msg}: {problem}"));
        }
        match delivery["status"].as_str() {
            Some("delivered") => self.delivered += 1,
            _ => self.failed += 1,
        }
        match extra_requests(&msg, &attempts, kills, now_seen) {
            Ok(0) => {}
            Ok(extra) => {
                self.duplicated += 1;
                self.extra_requests += extra;
            }
            Err(problem) => self.problems.push(format!("{msg}: {problem}")),
        }
    }
}

/// Delivered at its first 2xx, or failed after every attempt of the
/// schedule failed; each attempt no sooner than the schedule allows.
fn per_schedule(status: &str, created: i64, attempts: &[Recorded]) -> Result<(), String> {
    let ok = |a: &Recorded| a.status.is_some_and(|s| (200..300).contains(&s));
    let Some((last, earlier)) = attempts.split_last() else {
        return Err(format!("{status} with no attempt recorded"));
    };
    if earlier.iter().any(ok) {
        return Err("attempted again after a 2xx".into());
    }
    match status {
        "delivered" if ok(last) => {}
        "failed" if !ok(last) && attempts.len() == DELAYS_MS.len() => {}
        _ => {
            return Err(format!(
                "{status} after {} attempts, the last answered {:?}",
                attempts.len(),
                last.status
            ))
        }
    }
    let mut due = created + DELAYS_MS[0];
    for (i, attempt) in attempts.iter().enumerate() {
        // Milliseconds are rounded on the way: allow a few.
        if attempt.started + 5 < due {
            return Err(format!(
                "attempt {} started {} ms early",
                i + 1,
                due - attempt.started
            ));
        }
        due = attempt.started + attempt.took + DELAYS_MS.get(i + 1).copied().unwrap_or(0);
    }
    Ok(())
}

/// Requests the receiver got for `msg` beyond its recorded attempts. Within
/// each process's life (between two kills) that is at most one, the attempt
/// in flight at the kill; after the last kill it is none.
fn extra_requests(
    msg: &str,
    attempts: &[Recorded],
    kills: &[Kill],
    now_seen: &HashMap<String, i64>,
) -> Result<i64, String> {
    let count = |seen: &HashMap<String, i64>| seen.get(msg).copied().unwrap_or(0);
    let mut extra = 0;
    let (mut from_ms, mut from_seen) = (i64::MIN, 0);
    for (life, end) in kills
        .iter()
        .map(|k| (k.at, count(&k.seen)))
        .chain([(i64::MAX, count(now_seen))])
        .enumerate()
    {
        let (until_ms, until_seen) = end;
        let received = until_seen - from_seen;
        let in_life: Vec<&Recorded> = attempts
            .iter()
            .filter(|a| a.started >= from_ms && a.started < until_ms)
            .collect();
        let recorded = in_life.len() as i64;
        let answered = in_life.iter().filter(|a| a.status.is_some()).count() as i64;
        let allowed = i64::from(life < kills.len());
        if received < answered || received > recorded + allowed {
            return Err(format!(
                "process {life}: {recorded} attempts recorded ({answered} answered), {received} requests received"
            ));
        }
        extra += (received - recorded).max(0);
        (from_ms, from_seen) = (until_ms, until_seen);
    }
    Ok(extra)
}

fn unix_ms(rfc3339: &str) -> i64 {
    let at = OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap();
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap()
}
