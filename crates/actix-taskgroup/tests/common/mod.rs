//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

/// Runs `test` inside an actix `System` whose tokio clock is paused: sleeps complete as soon
/// as every task is idle, and `tokio::time::Instant` measures the virtual time exactly.
///
/// A test whose rule is broken may wait forever (a child that should have been cancelled
/// never ends); the watchdog turns that into a failure after a day of virtual time, which
/// passes in an instant of real time.
pub fn run_paused<F: Future>(test: F) -> F::Output {
    actix_rt::System::with_tokio_rt(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime")
    })
    .block_on(async {
        tokio::time::timeout(Duration::from_secs(24 * 3600), test)
            .await
            .expect("the test did not finish within a day of virtual time")
    })
}

/// Counts how many of the values it hands out have been dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Rc<Cell<usize>>);

impl DropCounter {
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    pub fn dropped(&self) -> usize {
        self.0.get()
    }
}

/// Bumps its counter when dropped.
pub struct DropToken(Rc<Cell<usize>>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A future that sleeps for `ms` of (virtual) time, then returns `value`.
pub async fn after<T>(ms: u64, value: T) -> anyhow::Result<T> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(value)
}

/// A future that sleeps for `ms`, then fails with `message`.
pub async fn fail_after<T>(ms: u64, message: &'static str) -> anyhow::Result<T> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Err(anyhow::anyhow!(message))
}

/// A future that never ends, holding `token` so that its drop can be counted.
pub async fn forever<T>(token: DropToken) -> anyhow::Result<T> {
    let _token = token;
    std::future::pending::<()>().await;
    unreachable!("a pending future never resumes")
}

pub mod recorder;
pub mod worker;

/// Runs `test` inside a plain actix `System` (the real clock), for tests that cross threads:
/// a paused clock would jump to the next timer while this thread waits for another one.
/// The watchdog turns a hang into a failure after ten real seconds.
pub fn run_real<F: Future>(test: F) -> F::Output {
    actix_rt::System::new().block_on(async {
        tokio::time::timeout(Duration::from_secs(10), test)
            .await
            .expect("the test did not finish within ten seconds")
    })
}
