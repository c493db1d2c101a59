//! Small SVG charts drawn from numbers on the server (and identically after
//! hydration): no chart library, no script. Colours come from CSS classes,
//! since the Content-Security-Policy allows no inline style.

use crate::format::utc_minute;
use crate::model::HealthBar;
use leptos::prelude::*;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 120.0;

/// One coordinate as SVG text: one decimal, the same on both sides.
fn at(v: f64) -> String {
    format!("{v:.1}")
}

/// Each bar's x and width in the chart.
fn slots(n: usize) -> impl Fn(usize) -> (f64, f64) {
    let slot = WIDTH / n.max(1) as f64;
    let width = (slot * 0.8).max(1.0);
    move |i| (i as f64 * slot + (slot - width) / 2.0, width)
}

/// Attempts by outcome, one stacked bar per hour or day.
#[component]
pub fn OutcomeChart(bars: Vec<HealthBar>, label: String) -> impl IntoView {
    let max = bars
        .iter()
        .map(|b| b.outcomes.total())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = slots(bars.len());
    let rects = bars
        .iter()
        .enumerate()
        .flat_map(|(i, bar)| {
            let (x, width) = slot(i);
            let mut y = HEIGHT;
            let start = utc_minute(bar.start);
            bar.outcomes
                .parts()
                .into_iter()
                .filter(|(_, n, _)| *n > 0)
                .map(|(name, n, class)| {
                    let h = n as f64 / max * HEIGHT;
                    y -= h;
                    view! {
                        <rect class=format!("part {class}") x=at(x) y=at(y) width=at(width) height=at(h)>
                            <title>{format!("{start}: {n} {name}")}</title>
                        </rect>
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect_view();
    view! {
        <svg class="chart outcomes" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label
            preserveAspectRatio="none">
            <line class="axis" x1="0" y1=at(HEIGHT) x2=at(WIDTH) y2=at(HEIGHT)/>
            {rects}
        </svg>
    }
}

/// p50 and p95 response time per hour or day, as two lines over the bars that had attempts.
#[component]
pub fn LatencyChart(bars: Vec<HealthBar>, label: String) -> impl IntoView {
    let max = bars
        .iter()
        .filter_map(|b| b.p95_ms)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = slots(bars.len());
    let points = |pick: fn(&HealthBar) -> Option<i64>| -> Vec<(String, String)> {
        bars.iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let (x, width) = slot(i);
                pick(b).map(|ms| {
                    (
                        at(x + width / 2.0),
                        at(HEIGHT - ms as f64 / max * (HEIGHT - 4.0)),
                    )
                })
            })
            .collect()
    };
    let line = |points: &[(String, String)]| {
        points
            .iter()
            .map(|(x, y)| format!("{x},{y}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // A dot per point too: a line through one point draws nothing.
    let dots = |points: Vec<(String, String)>, class: &'static str| {
        points
            .into_iter()
            .map(|(x, y)| view! { <circle class=class cx=x cy=y r="2.5"/> })
            .collect_view()
    };
    let (p50, p95) = (points(|b| b.p50_ms), points(|b| b.p95_ms));
    let (p50_line, p95_line) = (line(&p50), line(&p95));
    view! {
        <svg class="chart latency" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label
            preserveAspectRatio="none">
            <line class="axis" x1="0" y1=at(HEIGHT) x2=at(WIDTH) y2=at(HEIGHT)/>
            <polyline class="p95" points=p95_line><title>"p95"</title></polyline>
            <polyline class="p50" points=p50_line><title>"p50"</title></polyline>
            {dots(p95, "p95")}
            {dots(p50, "p50")}
        </svg>
    }
}
