//! The `web_fanout` example's server, started on 127.0.0.1 and spoken to over real
//! connections: a request past its deadline gets the partial results, a failed backend is a
//! 502, and a client that leaves (FIN or RST) leaves no backend running. Every check of the
//! backends is the example's shared counter of live backends, polled with a timeout.

// The example's own `main` and demo are not used here.
#[allow(dead_code)]
#[path = "../../examples/examples/web_fanout.rs"]
mod web_fanout;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use web_fanout::http1::{self, Connection};
use web_fanout::{Backend, Live, Plan, RunsAs, Serve};

/// How long the backends of a request may take to stop once its client has gone. Dropping
/// the group stops them at once; the margin is for a loaded 2-core machine.
const GRACE: Duration = Duration::from_millis(500);

/// Five backends: four answer within tens of milliseconds, `inventory` takes 30 s, so only
/// a deadline or a dropped handler can end it.
fn plan() -> Plan {
    let backend = Backend::new;
    Plan {
        backends: vec![
            backend("profile", 10, RunsAs::Future, false),
            backend("orders", 20, RunsAs::Future, false),
            backend("ranking", 30, RunsAs::Actor, false),
            backend("ads", 10, RunsAs::Future, true),
            backend("inventory", 30_000, RunsAs::Future, false),
        ],
        deadline: Duration::from_millis(200),
    }
}

/// The example's server, running, with its counter of live backends.
struct Server {
    addr: SocketAddr,
    live: Arc<Live>,
    handle: ServerHandle,
}

impl Server {
    fn start(allow_half_closed: bool) -> anyhow::Result<Server> {
        let live = Arc::new(Live::default());
        let options = Serve {
            allow_half_closed,
            ..Serve::default()
        };
        let (server, addr) = web_fanout::serve(plan(), Arc::clone(&live), options)?;
        let handle = server.handle();
        actix_rt::spawn(server);
        Ok(Server { addr, live, handle })
    }

    /// Sends a request and waits until every backend of it runs.
    async fn request_in_flight(&self, path: &str) -> anyhow::Result<Connection> {
        let mut client = Connection::open(self.addr).await?;
        client.send("GET", path).await?;
        let all = plan().backends.len();
        let started = self.live.wait_until(GRACE * 4, |n| n == all).await;
        anyhow::ensure!(started.is_ok(), "the backends never all ran: {started:?}");
        Ok(client)
    }

    async fn stop(self) {
        self.handle.stop(true).await;
    }
}

#[actix_rt::test]
async fn a_request_past_its_deadline_answers_with_the_partial_results() -> anyhow::Result<()> {
    let server = Server::start(false)?;
    let start = Instant::now();
    let response = http1::request(server.addr, "GET", "/search?q=rust").await?;
    let took = start.elapsed();

    assert_eq!(response.status, 200, "{}", response.body);
    let body = &response.body;
    assert!(
        body.contains("4 of 5 backends answered within 200 ms (partial)"),
        "{body}"
    );
    for answered in ["profile", "orders", "ranking", "ads"] {
        assert!(
            body.contains(&format!("{answered:<10} answered: ")),
            "{body}"
        );
    }
    assert!(
        body.contains("inventory  cut off by the deadline"),
        "{body}"
    );
    assert!(
        took >= Duration::from_millis(200),
        "answered before the deadline: {took:?}"
    );
    // R1: the group ended, every backend gone, before the handler answered.
    assert_eq!(server.live.count(), 0);
    server.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_failed_backend_is_a_502_with_the_error_tree_and_cancels_the_rest() -> anyhow::Result<()>
{
    let server = Server::start(false)?;
    for (failing, cause) in [
        ("orders", "orders: 503 Service Unavailable"),
        ("ranking", "ranking: model server unreachable"), // the actor backend
    ] {
        let start = Instant::now();
        let path = format!("/search?q=rust&fail={failing}&deadline_ms=10000");
        let response = http1::request(server.addr, "GET", &path).await?;

        assert_eq!(response.status, 502, "{}", response.body);
        let body = &response.body;
        assert!(
            body.contains("group \"search\" failed: 1 child failed"),
            "{body}"
        );
        assert!(
            body.contains(&format!("\"{failing}\" failed: {cause}")),
            "{body}"
        );
        assert!(
            body.contains("inventory  cancelled: a backend failed"),
            "{body}"
        );
        // Fail-fast: the 30 s backend was cancelled, the 10 s deadline never reached.
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(server.live.count(), 0);
    }
    server.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_best_effort_backend_that_fails_changes_nothing() -> anyhow::Result<()> {
    let server = Server::start(false)?;
    let response = http1::request(server.addr, "GET", "/search?q=rust&fail=ads").await?;

    assert_eq!(response.status, 200, "{}", response.body);
    let body = &response.body;
    assert!(
        body.contains("ads        failed (best-effort, ignored): ads: 503"),
        "{body}"
    );
    assert!(body.contains("ranking    answered: "), "{body}");
    server.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_client_that_closes_its_side_mid_request_stops_every_backend() -> anyhow::Result<()> {
    let server = Server::start(false)?;
    // A deadline of a minute: only the dropped handler can stop the backends in time.
    let mut client = server
        .request_in_flight("/search?q=rust&deadline_ms=60000")
        .await?;

    client.close_write().await?; // FIN
    let stopped = server.live.wait_until(GRACE, |n| n == 0).await;
    assert!(stopped.is_ok(), "backends still running: {stopped:?}");
    assert!(
        !client.closed_by_server().await?,
        "answered a client that left"
    );
    server.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_client_that_resets_mid_request_stops_every_backend() -> anyhow::Result<()> {
    // actix-web's default: an RST ends the connection, and drops the handler, whether or not
    // half-closed connections are allowed.
    let server = Server::start(true)?;
    let client = server
        .request_in_flight("/search?q=rust&deadline_ms=60000")
        .await?;

    client.reset()?; // RST
    let stopped = server.live.wait_until(GRACE, |n| n == 0).await;
    assert!(stopped.is_ok(), "backends still running: {stopped:?}");
    server.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn by_default_a_half_closed_connection_keeps_its_handler_running() -> anyhow::Result<()> {
    // actix-web 4's default, `h1_allow_half_closed(true)`: after the client's FIN the
    // handler runs to its end (here the 300 ms deadline) and the answer is still sent.
    let server = Server::start(true)?;
    let start = Instant::now();
    let mut client = server
        .request_in_flight("/search?q=rust&deadline_ms=300")
        .await?;

    client.close_write().await?; // FIN
    let response = client.response().await?;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.body.contains("inventory  cut off by the deadline"));
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.live.count(), 0);
    server.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_server_that_shuts_down_drops_the_requests_in_flight_and_their_backends()
-> anyhow::Result<()> {
    let server = Server::start(false)?;
    let _client = server
        .request_in_flight("/search?q=rust&deadline_ms=60000")
        .await?;

    // A graceful stop lets requests in flight run for the shutdown timeout (1 s in the
    // example), then drops them, and their groups.
    let start = Instant::now();
    server.handle.stop(true).await;
    let stopped = server.live.wait_until(GRACE, |n| n == 0).await;
    assert!(stopped.is_ok(), "backends still running: {stopped:?}");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1) + 2 * GRACE, "{took:?}");
    Ok(())
}
