//! The `supervised_service` example's app, started on 127.0.0.1 and spoken to over real
//! connections: a pool that crashes is restarted while requests to it and to the cache keep
//! succeeding, and `GET /tree` shows the live tree.

// The example's own `main` and demo are not used here.
#[allow(dead_code)]
#[path = "../../examples/examples/supervised_service.rs"]
mod supervised_service;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_taskgroup::{ChildState, Snapshot, TakeSnapshot};
use supervised_service::http1::{self, Connection};
use supervised_service::{Service, serve, start_tree};

/// A generous bound for anything that takes milliseconds on an idle machine.
const PATIENCE: Duration = Duration::from_secs(2);

/// Waits until `done()` holds, checking every millisecond, for at most `PATIENCE`.
async fn eventually(what: &str, done: impl Fn() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while !done() {
        anyhow::ensure!(start.elapsed() < PATIENCE, "never happened: {what}");
        actix_rt::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// Waits until the pool's second incarnation runs, and returns the snapshot that shows it.
async fn restarted_pool(service: &Service) -> anyhow::Result<Snapshot> {
    let start = Instant::now();
    loop {
        let snapshot = service.supervisor.send(TakeSnapshot).await?;
        let pool = snapshot.child_named("pool");
        if pool.is_some_and(|pool| pool.attempts == 2 && pool.state == ChildState::Running) {
            return Ok(snapshot);
        }
        anyhow::ensure!(start.elapsed() < PATIENCE, "not restarted:\n{snapshot}");
        actix_rt::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Every answer the clients got: the path, the status, the body.
type Answers = Rc<RefCell<Vec<(String, u16, String)>>>;

/// A client that sends requests over one keep-alive connection, alternating between the
/// pool and the cache, until `stop` is set.
async fn client(
    addr: SocketAddr,
    n: u32,
    answers: Answers,
    stop: Rc<RefCell<bool>>,
) -> anyhow::Result<()> {
    let mut connection = Connection::open(addr).await?;
    for i in 0.. {
        if *stop.borrow() {
            break;
        }
        let path = match i % 2 {
            0 => format!("/users/{n}"),
            _ => "/top".to_owned(),
        };
        let response = connection.request("GET", &path).await?;
        answers
            .borrow_mut()
            .push((path, response.status, response.body));
    }
    Ok(())
}

#[actix_rt::test]
async fn a_crashed_pool_is_restarted_while_requests_keep_succeeding() -> anyhow::Result<()> {
    let (tree, service) = start_tree(Duration::from_millis(20)).await?;
    let (server, addr) = serve(service.clone(), 0, false)?;
    let handle = server.handle();
    actix_rt::spawn(server);

    let answers: Answers = Rc::default();
    let stop = Rc::new(RefCell::new(false));
    let clients: Vec<_> = (1..=4)
        .map(|n| actix_rt::spawn(client(addr, n, Rc::clone(&answers), Rc::clone(&stop))))
        .collect();
    eventually("20 answers", || answers.borrow().len() >= 20).await?;

    let crash = http1::request(addr, "POST", "/pool/crash").await?;
    assert_eq!(crash.status, 202, "{}", crash.body);
    let snapshot = restarted_pool(&service).await?;
    assert_eq!(snapshot.counters.restarted, 1, "{snapshot}");
    // Requests go on, now answered by the new pool.
    let new_pool = || {
        let answers = answers.borrow();
        let by_new_pool = answers
            .iter()
            .filter(|(_, _, body)| body.contains("incarnation 2"));
        by_new_pool.count() >= 20
    };
    eventually("20 answers from the new pool", new_pool).await?;
    *stop.borrow_mut() = true;
    for client in clients {
        client.await??;
    }

    let answers = answers.take();
    let failed: Vec<_> = answers
        .iter()
        .filter(|(_, status, _)| *status != 200)
        .collect();
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    assert!(
        answers
            .iter()
            .any(|(_, _, body)| body.contains("incarnation 1"))
    );
    assert!(answers.iter().any(|(path, _, _)| path == "/top"));
    drop(tree);
    handle.stop(true).await;
    Ok(())
}

#[actix_rt::test]
async fn the_tree_route_shows_the_live_snapshot() -> anyhow::Result<()> {
    let (tree, service) = start_tree(Duration::from_millis(20)).await?;
    let (server, addr) = serve(service.clone(), 0, false)?;
    let handle = server.handle();
    actix_rt::spawn(server);

    let before = http1::request(addr, "GET", "/tree").await?;
    assert_eq!(before.status, 200);
    let body = &before.body;
    assert!(
        body.starts_with("group \"service\" running (FailFast, OneForOne;"),
        "{body}"
    );
    assert!(body.contains("#0 \"pool\" actor running"), "{body}");
    assert!(body.contains("#1 \"cache\" actor running"), "{body}");

    http1::request(addr, "POST", "/pool/crash").await?;
    restarted_pool(&service).await?;
    let after = http1::request(addr, "GET", "/tree").await?;
    let body = &after.body;
    assert!(body.contains("1 restarted"), "{body}");
    assert!(
        body.contains("#0 \"pool\" actor running, attempt 2"),
        "{body}"
    );
    drop(tree);
    handle.stop(true).await;
    Ok(())
}
