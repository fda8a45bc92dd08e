//! A request-scoped group in an actix-web 4 handler: each `GET /search` fans out to several
//! slow backends (futures, and an actor made for the request) in one `TaskGroup` with a
//! deadline.
//!
//! * When the deadline passes, the backends still running are cut off and the answer has
//!   what arrived: which backends answered, which were cut off (partial results, 200).
//! * When a backend the answer needs fails, the others are cancelled at once and the answer
//!   is a 502 with the group's error tree. A best-effort backend's failure changes nothing.
//! * When actix-web drops the handler's future (the client left, the server is shutting
//!   down), the group inside it is dropped and every backend with it (R6): nothing runs on
//!   for a client that is gone.
//!
//! actix-web 4 serves half-closed connections by default: after a client's FIN it lets the
//! handler run to its end, for clients that shut down their write side and still read the
//! answer (actix-web issues #1313, #3462, #3748). This server turns that off with
//! `HttpServer::h1_allow_half_closed(false)` (actix-web 4.12, PR #3777), so that a client
//! that leaves, by FIN as by RST, drops its handler.
//!
//! Run with `cargo run --release -p examples --example web_fanout`: it starts the server on
//! 127.0.0.1, sends a few requests (partial results, a failed backend, a client that leaves
//! mid-request), prints what happened and stops. With `-- --serve [--port N]` it serves
//! until Ctrl-C instead.

#[path = "web/args.rs"]
mod args;
#[path = "web/http1.rs"]
pub mod http1;

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_taskgroup::{Child, GroupReport, Outcome, Reporter, TaskGroup};
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, error, web};
use serde::Deserialize;

/// One backend of the fan-out: how long it takes and how it runs.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    /// Its name, in the answer and in the group's report.
    pub name: &'static str,
    /// How long it takes to answer.
    pub delay: Duration,
    /// A future, or an actor started for the request.
    pub runs_as: RunsAs,
    /// Its failure is reported and changes nothing else.
    pub best_effort: bool,
}

/// How a backend runs in the request's group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsAs {
    /// A future, as a call to a remote service is.
    Future,
    /// An actor started for the request, which answers from its own timer: the kind of
    /// work a dropped `join_all` would leave running.
    Actor,
}

/// What every search fans out to, and the deadline its answer must meet.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The backends, in the order of the answer.
    pub backends: Vec<Backend>,
    /// The group deadline of a request that names none (`deadline_ms`).
    pub deadline: Duration,
}

impl Plan {
    /// Five backends, one too slow for the 150 ms deadline.
    pub fn demo() -> Plan {
        let backend = Backend::new;
        Plan {
            backends: vec![
                backend("profile", 20, RunsAs::Future, false),
                backend("orders", 60, RunsAs::Future, false),
                backend("ranking", 90, RunsAs::Actor, false),
                backend("ads", 30, RunsAs::Future, true),
                backend("inventory", 400, RunsAs::Future, false),
            ],
            deadline: Duration::from_millis(150),
        }
    }
}

/// How many backends are running now, across every request and worker thread: what shows
/// that a request leaves nothing running behind it.
#[derive(Debug, Default)]
pub struct Live(AtomicUsize);

/// One running backend; dropping it (the backend ended, or was dropped) counts it out.
pub struct Alive(Arc<Live>);

impl Live {
    /// Counts a backend in until the returned token is dropped.
    pub fn enter(self: &Arc<Self>) -> Alive {
        self.0.fetch_add(1, Ordering::SeqCst);
        Alive(Arc::clone(self))
    }

    /// How many backends are running now.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits until `done(count)` holds, checking every millisecond for at most `within`, and
    /// returns how long it took, or the last count if it never held.
    pub async fn wait_until(
        &self,
        within: Duration,
        done: impl Fn(usize) -> bool,
    ) -> Result<Duration, usize> {
        let start = Instant::now();
        loop {
            let count = self.count();
            if done(count) {
                return Ok(start.elapsed());
            }
            if start.elapsed() > within {
                return Err(count);
            }
            actix_rt::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A backend called as a future: waits `delay`, then answers or fails.
pub async fn call(backend: Backend, fails: bool, live: Arc<Live>) -> anyhow::Result<String> {
    let _alive = live.enter();
    actix_rt::time::sleep(backend.delay).await;
    anyhow::ensure!(!fails, "{}: 503 Service Unavailable", backend.name);
    Ok(format!("{} ms of work", backend.delay.as_millis()))
}

/// A backend that runs as an actor of the request's group: it answers from its own timer,
/// through its `Reporter`, and stops.
struct Ranker {
    reporter: Reporter<String>,
    delay: Duration,
    fails: bool,
    _alive: Alive,
}

impl Actor for Ranker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_later(self.delay, |ranker, ctx| {
            if ranker.fails {
                let error = anyhow::anyhow!("ranking: model server unreachable");
                ranker.reporter.fail_and_stop(ctx, error);
            } else {
                let answer = format!("{} ms of work (an actor)", ranker.delay.as_millis());
                ranker.reporter.complete_and_stop(ctx, answer);
            }
        });
    }
}

impl Backend {
    /// A backend that answers after `delay_ms`.
    pub fn new(name: &'static str, delay_ms: u64, runs_as: RunsAs, best_effort: bool) -> Self {
        Backend {
            name,
            delay: Duration::from_millis(delay_ms),
            runs_as,
            best_effort,
        }
    }

    /// This backend as a child of a request's group.
    fn child(self, fails: bool, live: &Arc<Live>) -> Child<String> {
        let live = Arc::clone(live);
        let child = match self.runs_as {
            RunsAs::Future => {
                Child::future(self.name, move || call(self, fails, Arc::clone(&live)))
            }
            RunsAs::Actor => Child::actor(self.name, move |reporter| Ranker {
                reporter,
                delay: self.delay,
                fails,
                _alive: live.enter(),
            }),
        };
        if self.best_effort {
            child.best_effort()
        } else {
            child
        }
    }
}

/// The query of `GET /search`.
#[derive(Debug, Deserialize)]
pub struct Search {
    /// What to search for.
    #[serde(default)]
    pub q: String,
    /// The name of a backend to make fail (fault injection, for the demo and the tests).
    pub fail: Option<String>,
    /// The group deadline, instead of the plan's.
    pub deadline_ms: Option<u64>,
}

/// `GET /search`: one group per request, its deadline the answer's.
pub async fn search(
    query: web::Query<Search>,
    plan: web::Data<Plan>,
    live: web::Data<Live>,
) -> actix_web::Result<HttpResponse> {
    let deadline = query
        .deadline_ms
        .map_or(plan.deadline, Duration::from_millis);
    let group = TaskGroup::builder()
        .name("search")
        .deadline(deadline)
        .build();
    let live = live.into_inner();
    for backend in &plan.backends {
        let fails = query.fail.as_deref() == Some(backend.name);
        // A fresh group on a worker's arbiter refuses no child; if it ever did, say so.
        group
            .spawn_child(backend.child(fails, &live))
            .map_err(error::ErrorInternalServerError)?;
    }
    // The group lives inside this future. If actix-web drops the future (the client left,
    // the server shuts down), the group is dropped with it, and every backend at once (R6).
    let report = group.join_report().await;
    Ok(answer(&query.q, deadline, &report))
}

/// The answer: 200 with what arrived (partial or not), or 502 when a backend it needs failed.
pub fn answer(query: &str, deadline: Duration, report: &GroupReport<String>) -> HttpResponse {
    let mut body = String::new();
    // A real failure ranks above the deadline (R13): the error is "timed out" only when the
    // deadline alone cut the request short.
    let failed = report.error().filter(|error| !error.is_timed_out());
    let answered = report.values().count();
    let total = report.children().len();
    match failed {
        Some(error) => {
            let _ = writeln!(body, "search {query:?} failed: {error}");
        }
        None if report.error().is_some() => {
            let _ = writeln!(
                body,
                "search {query:?}: {answered} of {total} backends answered within {} ms (partial)",
                deadline.as_millis()
            );
        }
        None => {
            let _ = writeln!(body, "search {query:?}: every backend answered");
        }
    }
    body.push('\n');
    for child in report.children() {
        let name = child.name().unwrap_or("?");
        let what = match child.outcome() {
            Outcome::Completed(value) => format!("answered: {value}"),
            Outcome::Cancelled if failed.is_some() => "cancelled: a backend failed".to_owned(),
            Outcome::Cancelled => "cut off by the deadline".to_owned(),
            Outcome::Failed(cause) if child.is_best_effort() => {
                format!("failed (best-effort, ignored): {cause:#}")
            }
            Outcome::Failed(cause) => format!("failed: {cause:#}"),
            Outcome::Panicked(message) => format!("panicked: {message}"),
            other => format!("{:?}", other.kind()),
        };
        let _ = writeln!(body, "  {name:<10} {what}");
    }
    if failed.is_some() {
        HttpResponse::BadGateway().body(body)
    } else {
        HttpResponse::Ok().body(body)
    }
}

/// How to run the server.
#[derive(Debug, Clone, Copy)]
pub struct Serve {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Worker threads, each an actix arbiter with its own groups.
    pub workers: usize,
    /// actix-web's default (`true`): a client's FIN leaves its handler running to its end.
    pub allow_half_closed: bool,
    /// Stop gracefully on SIGINT/SIGTERM (for `--serve`; tests and the demo stop it
    /// through its handle).
    pub signals: bool,
}

impl Default for Serve {
    fn default() -> Serve {
        Serve {
            port: 0,
            workers: 1,
            allow_half_closed: false,
            signals: false,
        }
    }
}

/// Binds the server on 127.0.0.1 and returns it, not yet running (await or spawn it), with
/// its address.
pub fn serve(plan: Plan, live: Arc<Live>, options: Serve) -> io::Result<(Server, SocketAddr)> {
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::from(Arc::clone(&live)))
            .app_data(web::Data::new(plan.clone()))
            .route("/search", web::get().to(search))
    })
    .workers(options.workers)
    // The line this example is about: with `false`, a client's FIN ends its connection and
    // drops its handler's future, and the request's group with it.
    .h1_allow_half_closed(options.allow_half_closed)
    // On shutdown, a request still running after a second is dropped, and its group.
    .shutdown_timeout(1);
    if !options.signals {
        server = server.disable_signals();
    }
    let server = server.bind(("127.0.0.1", options.port))?;
    let addr = server.addrs()[0];
    Ok((server.run(), addr))
}

/// Sends the demo's requests and prints what happened.
async fn demo(addr: SocketAddr, live: &Live) -> anyhow::Result<()> {
    println!("== GET /search?q=rust: the deadline cuts the slowest backend off\n");
    let partial = http1::request(addr, "GET", "/search?q=rust").await?;
    println!("{} {}", partial.status, partial.body);
    anyhow::ensure!(partial.status == 200 && partial.body.contains("cut off"));

    println!("== GET /search?q=rust&fail=orders: a backend the answer needs fails\n");
    let failed = http1::request(addr, "GET", "/search?q=rust&fail=orders").await?;
    println!("{} {}", failed.status, failed.body);
    anyhow::ensure!(failed.status == 502);

    println!("== a client sends GET /search?q=rust&deadline_ms=10000 and leaves (FIN)\n");
    let mut client = http1::Connection::open(addr).await?;
    client
        .send("GET", "/search?q=rust&deadline_ms=10000")
        .await?;
    let five = live.wait_until(Duration::from_secs(2), |n| n == 5).await;
    anyhow::ensure!(five.is_ok(), "the backends did not start: {five:?}");
    println!(
        "  {} backends running; the client closes its side",
        live.count()
    );
    client.close_write().await?;
    match live.wait_until(Duration::from_secs(2), |n| n == 0).await {
        Ok(took) => println!("  0 backends running {took:.1?} later: the group was dropped"),
        Err(left) => anyhow::bail!("{left} backends still run after the client left"),
    }
    let answered = client.closed_by_server().await?;
    anyhow::ensure!(!answered, "the server answered a client that had left");
    println!("  the server closed the connection without answering");
    Ok(())
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let serve_forever = args.iter().any(|arg| arg == "--serve");
    let live = Arc::new(Live::default());
    let options = Serve {
        port: args::port_flag(&args)?,
        workers: 2,
        signals: serve_forever,
        ..Serve::default()
    };
    let (server, addr) = serve(Plan::demo(), Arc::clone(&live), options)?;
    if serve_forever {
        println!("serving http://{addr}/search?q=rust (try &fail=orders, &deadline_ms=500)");
        return Ok(server.await?);
    }
    let handle = server.handle();
    let running = actix_rt::spawn(server);
    let outcome = demo(addr, &live).await;
    handle.stop(true).await;
    running.await??;
    outcome
}
