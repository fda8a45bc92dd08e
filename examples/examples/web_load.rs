//! A bounded load test of `web_fanout`'s handler beside the same handler written by hand
//! with `futures::future::join_all` and `tokio::time::timeout_at`, in one run, on one
//! server: a few thousand requests per contender, a few dozen connections at once, to
//! 127.0.0.1 only. Some requests have a backend fail (injected, a 502 expected), and some
//! clients leave early, by FIN or by RST, while their request runs.
//!
//! It checks that nothing leaks (every backend stopped once the clients are done: the live
//! counter back to zero) and that no request fails beyond those injected, and prints p50,
//! p99 and requests/s of both contenders, rounds interleaved so that both see the same
//! machine. It ends by itself and exits non-zero if a check fails.
//!
//! Run with `cargo run --release -p examples --example web_load` (options: `--requests N`
//! per contender and scenario, default 2000; `--connections C`, default 32; `--rounds R`,
//! default 4). The figures are in `docs/PERFORMANCE.md`.

#[allow(dead_code)] // the example's own `main` and demo
#[path = "web_fanout.rs"]
mod web_fanout;

use std::cell::RefCell;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{App, HttpResponse, HttpServer, web};
use futures::channel::oneshot;
use futures::future::join_all;
use tokio::time::{error::Elapsed, timeout_at};
use web_fanout::http1::Connection;
use web_fanout::{Alive, Backend, Live, Plan, RunsAs, Search, call};

/// How many hand-written rankers finished their work after nobody waited for it any more
/// (their request was cut off by the deadline, or its client had left). A group drops
/// such an actor instead: its timer never fires.
static RAN_FOR_NOBODY: AtomicUsize = AtomicUsize::new(0);

/// The hand-written twin of `web_fanout`'s `Ranker`: it answers on a channel instead of a
/// `Reporter`.
struct RankerByHand {
    reply: Option<oneshot::Sender<anyhow::Result<String>>>,
    delay: Duration,
    fails: bool,
    _alive: Alive,
}

impl Actor for RankerByHand {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_later(self.delay, |ranker, ctx| {
            let answer = if ranker.fails {
                Err(anyhow::anyhow!("ranking: model server unreachable"))
            } else {
                Ok(format!(
                    "{} ms of work (an actor)",
                    ranker.delay.as_millis()
                ))
            };
            if let Some(reply) = ranker.reply.take()
                && reply.send(answer).is_err()
            {
                RAN_FOR_NOBODY.fetch_add(1, Ordering::Relaxed);
            }
            ctx.stop();
        });
    }
}

/// What one backend gave by hand: its answer, or the deadline.
type Answer = Result<anyhow::Result<String>, Elapsed>;

/// `web_fanout::search` written by hand: every backend bounded by the request's deadline,
/// so that what arrived is kept, and joined with `join_all`. Two things differ, which the
/// group does for `search`: a failure does not cancel the other backends (the 502 waits for
/// them or the deadline), and the actor cut off by the deadline, or by a client that left,
/// runs on to its own timer, since nothing here owns it.
async fn search_by_hand(
    query: web::Query<Search>,
    plan: web::Data<Plan>,
    live: web::Data<Live>,
) -> HttpResponse {
    let deadline = query
        .deadline_ms
        .map_or(plan.deadline, Duration::from_millis);
    let until = tokio::time::Instant::now() + deadline;
    let live = live.into_inner();
    let calls = plan.backends.iter().map(|&backend| {
        let fails = query.fail.as_deref() == Some(backend.name);
        let live = Arc::clone(&live);
        async move {
            let answer = match backend.runs_as {
                RunsAs::Future => timeout_at(until, call(backend, fails, live)).await,
                RunsAs::Actor => {
                    let (reply, answer) = oneshot::channel();
                    RankerByHand {
                        reply: Some(reply),
                        delay: backend.delay,
                        fails,
                        _alive: live.enter(),
                    }
                    .start();
                    let gone = |_| Err(anyhow::anyhow!("{}: stopped", backend.name));
                    timeout_at(until, answer)
                        .await
                        .map(|sent| sent.unwrap_or_else(gone))
                }
            };
            (backend, answer)
        }
    });
    let answers = join_all(calls).await;
    answer_by_hand(&query.q, deadline, &answers)
}

/// The same answer as `web_fanout::answer`, from the hand-written results.
fn answer_by_hand(query: &str, deadline: Duration, answers: &[(Backend, Answer)]) -> HttpResponse {
    let mut body = String::new();
    let failed = answers
        .iter()
        .find(|(backend, answer)| !backend.best_effort && matches!(answer, Ok(Err(_))));
    let answered = answers
        .iter()
        .filter(|(_, a)| matches!(a, Ok(Ok(_))))
        .count();
    let cut_off = answers.iter().any(|(_, answer)| answer.is_err());
    let total = answers.len();
    match failed {
        Some((backend, _)) => {
            let _ = writeln!(body, "search {query:?} failed: {} failed", backend.name);
        }
        None if cut_off => {
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
    for (backend, answer) in answers {
        let what = match answer {
            Ok(Ok(value)) => format!("answered: {value}"),
            Ok(Err(cause)) if backend.best_effort => {
                format!("failed (best-effort, ignored): {cause:#}")
            }
            Ok(Err(cause)) => format!("failed: {cause:#}"),
            Err(_) => "cut off by the deadline".to_owned(),
        };
        let _ = writeln!(body, "  {:<10} {what}", backend.name);
    }
    if failed.is_some() {
        HttpResponse::BadGateway().body(body)
    } else {
        HttpResponse::Ok().body(body)
    }
}

/// One shape of backend latencies.
struct Scenario {
    name: &'static str,
    plan: Plan,
    /// How long a client that leaves early waits before it goes.
    leave_after: Duration,
}

/// The backends of `web_fanout`'s demo, with these delays (profile, orders, ranking: the
/// actor, ads: best-effort, inventory) and deadline.
fn plan(ms: [u64; 5], deadline_ms: u64) -> Plan {
    let shape = [
        ("profile", RunsAs::Future, false),
        ("orders", RunsAs::Future, false),
        ("ranking", RunsAs::Actor, false),
        ("ads", RunsAs::Future, true),
        ("inventory", RunsAs::Future, false),
    ];
    let backends = shape.iter().zip(ms);
    Plan {
        backends: backends
            .map(|(&(name, runs_as, best_effort), ms)| Backend::new(name, ms, runs_as, best_effort))
            .collect(),
        deadline: Duration::from_millis(deadline_ms),
    }
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "past the deadline: inventory (200 ms) cut off at 20 ms",
            plan: plan([2, 5, 12, 3, 200], 20),
            leave_after: Duration::from_millis(5),
        },
        Scenario {
            name: "within the deadline: the slowest backend answers at 15 ms",
            plan: plan([2, 5, 12, 3, 15], 50),
            leave_after: Duration::from_millis(5),
        },
        Scenario {
            name: "instant backends: what the handler itself costs",
            plan: plan([0; 5], 50),
            leave_after: Duration::ZERO,
        },
    ]
}

/// The two contenders, and the route of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    Group,
    ByHand,
}

impl Contender {
    fn route(self) -> &'static str {
        match self {
            Contender::Group => "/group",
            Contender::ByHand => "/by-hand",
        }
    }
}

/// What one contender's clients saw.
#[derive(Default)]
struct Tally {
    /// Latencies of the requests answered 200.
    latencies: Vec<Duration>,
    /// Requests with an injected failure, answered 502 as they should be.
    injected: usize,
    /// Clients that left early.
    left: usize,
    /// Anything else: a wrong status, an I/O error.
    unexpected: Vec<String>,
    /// Time spent in rounds.
    busy: Duration,
    /// The most backends still running right after a round's clients were done.
    live_after: usize,
    /// The longest wait after a round until no backend ran.
    drained_in: Duration,
}

/// What request number `i` of a connection does: one in 50 has a backend fail, one in 40
/// leaves early (FIN and RST in turn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Injected,
    LeaveFin,
    LeaveRst,
}

fn kind(i: usize) -> Kind {
    match (i % 50, i % 40) {
        (7, _) => Kind::Injected,
        (_, 3) if i % 80 == 3 => Kind::LeaveFin,
        (_, 3) => Kind::LeaveRst,
        _ => Kind::Plain,
    }
}

/// One client: `count` requests over one keep-alive connection; the requests that leave
/// early use a connection of their own.
async fn client(
    addr: SocketAddr,
    route: &'static str,
    first: usize,
    count: usize,
    leave_after: Duration,
    tally: Rc<RefCell<Tally>>,
) {
    let mut connection = None;
    for i in first..first + count {
        let kind = kind(i);
        let path = match kind {
            Kind::Injected => format!("{route}?q=load&fail=orders"),
            _ => format!("{route}?q=load"),
        };
        if let Err(error) = one(addr, &mut connection, &path, kind, leave_after, &tally).await {
            tally
                .borrow_mut()
                .unexpected
                .push(format!("{path}: {error}"));
            connection = None;
        }
    }
}

async fn one(
    addr: SocketAddr,
    connection: &mut Option<Connection>,
    path: &str,
    kind: Kind,
    leave_after: Duration,
    tally: &RefCell<Tally>,
) -> std::io::Result<()> {
    if matches!(kind, Kind::LeaveFin | Kind::LeaveRst) {
        let mut leaving = Connection::open(addr).await?;
        leaving.send("GET", path).await?;
        actix_rt::time::sleep(leave_after).await;
        match kind {
            Kind::LeaveFin => leaving.close_write().await?,
            _ => leaving.reset()?,
        }
        tally.borrow_mut().left += 1;
        return Ok(());
    }
    let open = match connection.take() {
        Some(open) => open,
        None => Connection::open(addr).await?,
    };
    let open = connection.insert(open);
    let start = Instant::now();
    let response = open.request("GET", path).await?;
    let took = start.elapsed();
    let mut tally = tally.borrow_mut();
    match (kind, response.status) {
        (Kind::Plain, 200) => tally.latencies.push(took),
        (Kind::Injected, 502) => tally.injected += 1,
        (_, status) => tally
            .unexpected
            .push(format!("{path}: {status} {}", response.body)),
    }
    Ok(())
}

/// Options from the command line.
struct Options {
    requests: usize,
    connections: usize,
    rounds: usize,
}

fn options() -> anyhow::Result<Options> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: usize| -> anyhow::Result<usize> {
        match args.iter().position(|arg| arg == name) {
            Some(at) => Ok(args
                .get(at + 1)
                .ok_or_else(|| anyhow::anyhow!("{name} needs a number"))?
                .parse()?),
            None => Ok(default),
        }
    };
    Ok(Options {
        requests: flag("--requests", 2000)?,
        connections: flag("--connections", 32)?.max(1),
        rounds: flag("--rounds", 4)?.max(1),
    })
}

/// One round of one contender: `requests` over `connections` clients at once; then how
/// many backends still run, and how long until none does.
async fn round(
    addr: SocketAddr,
    contender: Contender,
    requests: usize,
    connections: usize,
    leave_after: Duration,
    live: &Live,
    tally: &Rc<RefCell<Tally>>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let per_client = requests.div_ceil(connections);
    let clients = (0..connections).map(|c| {
        let tally = Rc::clone(tally);
        actix_rt::spawn(client(
            addr,
            contender.route(),
            c * per_client,
            per_client,
            leave_after,
            tally,
        ))
    });
    for finished in join_all(clients).await {
        finished?;
    }
    let busy = start.elapsed();
    let live_after = live.count();
    let drained = live.wait_until(Duration::from_secs(2), |n| n == 0).await;
    let mut tally = tally.borrow_mut();
    tally.busy += busy;
    tally.live_after = tally.live_after.max(live_after);
    match drained {
        Ok(took) => tally.drained_in = tally.drained_in.max(took),
        Err(left) => tally
            .unexpected
            .push(format!("{left} backends still running 2 s after the round")),
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// Runs one scenario on a server of its own and prints both contenders' figures.
async fn scenario(scenario: &Scenario, options: &Options) -> anyhow::Result<bool> {
    let group_live = Arc::new(Live::default());
    let by_hand_live = Arc::new(Live::default());
    let (plan, group, by_hand) = (
        scenario.plan.clone(),
        Arc::clone(&group_live),
        Arc::clone(&by_hand_live),
    );
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(plan.clone()))
            .service(
                web::resource("/group")
                    .app_data(web::Data::from(Arc::clone(&group)))
                    .route(web::get().to(web_fanout::search)),
            )
            .service(
                web::resource("/by-hand")
                    .app_data(web::Data::from(Arc::clone(&by_hand)))
                    .route(web::get().to(search_by_hand)),
            )
    })
    // One worker: the clients run on this thread, the server on the other core.
    .workers(1)
    .h1_allow_half_closed(false)
    .backlog(1024)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(("127.0.0.1", 0))?;
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    let running = actix_rt::spawn(server);

    let tallies = [Rc::new(RefCell::default()), Rc::new(RefCell::default())];
    let contenders = [Contender::Group, Contender::ByHand];
    let lives = [&*group_live, &*by_hand_live];
    // A short warm-up of each, not counted.
    for at in 0..2 {
        let warm = Rc::new(RefCell::default());
        let leave = scenario.leave_after;
        round(addr, contenders[at], 200, 8, leave, lives[at], &warm).await?;
    }
    RAN_FOR_NOBODY.store(0, Ordering::Relaxed);
    let per_round = options.requests.div_ceil(options.rounds);
    for r in 0..options.rounds {
        // Alternate who goes first, so that neither always follows the other.
        for k in 0..2 {
            let at = (r + k) % 2;
            let (connections, leave) = (options.connections, scenario.leave_after);
            let tally = &tallies[at];
            round(
                addr,
                contenders[at],
                per_round,
                connections,
                leave,
                lives[at],
                tally,
            )
            .await?;
        }
    }
    handle.stop(true).await;
    running.await??;

    println!("\n{}:", scenario.name);
    println!(
        "  {:<9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>6} {:>6} {:>10} {:>10}",
        "", "answered", "req/s", "p50", "p99", "max", "502", "left", "live after", "drained in"
    );
    let mut p50s = [Duration::ZERO; 2];
    let mut healthy = true;
    for (at, tally) in tallies.iter().enumerate() {
        let mut tally = tally.borrow_mut();
        tally.latencies.sort_unstable();
        let answered = tally.latencies.len() + tally.injected;
        let rate = answered as f64 / tally.busy.as_secs_f64();
        p50s[at] = percentile(&tally.latencies, 50);
        println!(
            "  {:<9} {:>8} {:>8.0} {:>9.2?} {:>9.2?} {:>9.2?} {:>6} {:>6} {:>10} {:>10.1?}",
            match contenders[at] {
                Contender::Group => "group",
                Contender::ByHand => "by hand",
            },
            answered,
            rate,
            p50s[at],
            percentile(&tally.latencies, 99),
            tally.latencies.last().copied().unwrap_or_default(),
            tally.injected,
            tally.left,
            tally.live_after,
            tally.drained_in,
        );
        for problem in tally.unexpected.iter().take(5) {
            println!("    unexpected: {problem}");
        }
        healthy &= tally.unexpected.is_empty();
    }
    let for_nobody = RAN_FOR_NOBODY.swap(0, Ordering::Relaxed);
    println!(
        "  hand-written rankers that ran on for nobody: {for_nobody} (with the group: dropped)"
    );
    let ratio = p50s[0].as_secs_f64() / p50s[1].as_secs_f64().max(f64::EPSILON);
    println!("  p50 group / by hand: {ratio:.3} (target at most 1.1)");
    Ok(healthy)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|line| {
            line.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// With `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) set, every `anyhow::Error` captures a
/// backtrace (microseconds each), which would weigh on the requests with an injected
/// failure: run again without.
fn without_backtraces() -> anyhow::Result<Option<ExitCode>> {
    let set = ["RUST_BACKTRACE", "RUST_LIB_BACKTRACE"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| value != "0"));
    if !set {
        return Ok(None);
    }
    eprintln!(
        "(backtraces are on: running again with RUST_BACKTRACE and RUST_LIB_BACKTRACE unset)"
    );
    let status = std::process::Command::new(std::env::current_exe()?)
        .args(std::env::args_os().skip(1))
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .status()?;
    Ok(Some(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }))
}

fn main() -> anyhow::Result<ExitCode> {
    if let Some(exit) = without_backtraces()? {
        return Ok(exit);
    }
    actix_rt::System::new().block_on(run())?;
    Ok(ExitCode::SUCCESS)
}

async fn run() -> anyhow::Result<()> {
    let options = options()?;
    println!(
        "{} requests per contender and scenario, {} connections, {} rounds interleaved; \
         load average {}",
        options.requests,
        options.connections,
        options.rounds,
        load_average()
    );
    let mut healthy = true;
    for each in scenarios() {
        healthy &= scenario(&each, &options).await?;
    }
    println!("\nload average at the end: {}", load_average());
    anyhow::ensure!(healthy, "a check failed: see above");
    Ok(())
}
