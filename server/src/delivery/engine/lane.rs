//! The lane: attempts to every destination not known to answer cheaply (new
//! in this process, failing, or sending bodies past the limit; `pacer.rs`,
//! `Standing`) run on a runtime of their own, one thread at the lowest CPU
//! priority (nice 19, on Linux). An endpoint that sends 400 KiB of headers or
//! an endless body costs TLS and parsing for every attempt; a thousand of
//! them, even paced, took the CPU from ingest, the recorder and attempts to
//! destinations that answer (RELIABILITY.md, section 4). Now the kernel gives
//! those the CPU first. When the CPU is idle, attempts on the lane run as fast
//! as before; when it is short, they slow down, and their durations say so.
//!
//! Connections live on the runtime that opened them, so the lane has its own
//! client and pool: a destination that answers moves to the main runtime
//! with connections of its own.

use crate::delivery::HttpSender;
use tokio::runtime::{Handle, Runtime};

/// The nice value of the lane's threads: the lowest priority there is.
#[cfg(target_os = "linux")]
const NICE: i32 = 19;

/// Where attempts on the lane run, and the client they send with.
#[derive(Clone)]
pub struct Lane {
    pub handle: Handle,
    pub sender: HttpSender,
}

/// Owns the lane's runtime; dropping it stops the lane without waiting
/// (the engine has drained its attempts by then).
pub struct LaneRuntime(Option<Runtime>);

impl Drop for LaneRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            // Blocking here is not allowed inside the main runtime.
            runtime.shutdown_background();
        }
    }
}

/// Starts the lane. If its runtime or client cannot be made, its attempts
/// run beside the others, as they did before the lane existed.
pub fn start(sender: &HttpSender) -> (Lane, LaneRuntime) {
    let runtime = match runtime() {
        Ok(runtime) => LaneRuntime(Some(runtime)),
        Err(err) => return beside(sender, &err),
    };
    let own = match sender.with_own_connections() {
        Ok(own) => own,
        Err(err) => return beside(sender, &err),
    };
    let handle = match &runtime.0 {
        Some(rt) => rt.handle().clone(),
        None => Handle::current(),
    };
    (
        Lane {
            handle,
            sender: own,
        },
        runtime,
    )
}

fn beside(sender: &HttpSender, err: &dyn std::fmt::Display) -> (Lane, LaneRuntime) {
    tracing::warn!(error = %err, "no runtime of lower priority for the lane's attempts; they run with the others");
    (
        Lane {
            handle: Handle::current(),
            sender: sender.clone(),
        },
        LaneRuntime(None),
    )
}

fn runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("alertwire-lane")
        .on_thread_start(lower_priority)
        .enable_all()
        .build()
}

/// Lowers the calling thread's priority: on Linux the nice value belongs to
/// the thread, not the process.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICE) {
        tracing::debug!(error = %err, "cannot lower the failing lane's priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_lane_runs_at_the_lowest_priority_and_the_caller_does_not() {
        let sender = HttpSender::new(Duration::from_secs(2), Vec::new(), None).unwrap();
        let (lane, _runtime) = start(&sender);
        let nice_here = || rustix::process::getpriority_process(Some(rustix::thread::gettid()));
        let before = nice_here().unwrap();
        let on_lane = lane.handle.spawn(async move { nice_here() }).await.unwrap();
        assert_eq!(on_lane.unwrap(), NICE);
        assert_eq!(
            nice_here().unwrap(),
            before,
            "the caller's thread keeps its priority"
        );
    }
}
