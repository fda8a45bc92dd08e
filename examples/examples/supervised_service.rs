//! A long-lived supervision tree inside an actix-web 4 app: a connection pool and a cache
//! that refreshes itself from it, two actors under a one-for-one supervisor that restarts
//! them (permanent, with backoff). Handlers reach them by name through `ChildRef`s, which
//! follow restarts: when the pool loses its database connection it is restarted, and the
//! server keeps answering. `GET /tree` shows the live tree.
//!
//! Routes: `GET /users/{id}` (the pool), `GET /top` (the cache), `POST /pool/crash` (fault
//! injection: the pool loses its connection), `GET /tree` (the supervisor's snapshot).
//!
//! Run with `cargo run --release -p examples --example supervised_service`: it starts the
//! server on 127.0.0.1, sends a few requests, crashes the pool, shows the tree before and
//! after the restart, then stops the server and the tree. With `-- --serve [--port N]` it
//! serves until Ctrl-C instead.

#[path = "web/args.rs"]
mod args;
#[path = "web/http1.rs"]
pub mod http1;

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_taskgroup::{
    Backoff, Child, ChildRef, ChildRefError, EndCondition, GroupSupervisor, Join, Reporter,
    Restart, SpawnChild, Strategy, SupervisorGuard, TakeSnapshot,
};
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};

/// A pretend connection pool: answers queries until it loses its connection, and then
/// fails, so that its supervisor starts a fresh one.
pub struct Pool {
    reporter: Reporter<()>,
    served: u64,
}

impl Pool {
    fn connect(reporter: Reporter<()>) -> Pool {
        println!("  [pool] connected (incarnation {})", reporter.attempt());
        Pool {
            reporter,
            served: 0,
        }
    }
}

impl Actor for Pool {
    type Context = Context<Self>;
}

/// Looks a user up.
#[derive(Message)]
#[rtype(result = "String")]
pub struct FetchUser(pub u32);

impl Handler<FetchUser> for Pool {
    type Result = String;

    fn handle(&mut self, FetchUser(id): FetchUser, _: &mut Context<Self>) -> String {
        self.served += 1;
        let incarnation = self.reporter.attempt();
        format!(
            "user {id} (pool incarnation {incarnation}, query {})",
            self.served
        )
    }
}

/// The most active users, for the cache.
#[derive(Message)]
#[rtype(result = "Vec<u32>")]
pub struct FetchTop;

impl Handler<FetchTop> for Pool {
    type Result = MessageResult<FetchTop>;

    fn handle(&mut self, _: FetchTop, _: &mut Context<Self>) -> Self::Result {
        self.served += 1;
        MessageResult(vec![7, 3, 42])
    }
}

/// Fault injection: the database connection is gone.
#[derive(Message)]
#[rtype(result = "()")]
pub struct LoseConnection;

impl Handler<LoseConnection> for Pool {
    type Result = ();

    fn handle(&mut self, _: LoseConnection, ctx: &mut Context<Self>) {
        println!("  [pool] connection lost");
        // A failure, not a normal stop: the supervisor restarts the pool after its backoff.
        let error = anyhow::anyhow!("connection to the database lost");
        self.reporter.fail_and_stop(ctx, error);
    }
}

/// The cache: refreshes the top users from the pool on a timer and answers from memory, so
/// it keeps answering while the pool restarts.
pub struct Cache {
    pool: ChildRef<Pool>,
    every: Duration,
    top: Vec<u32>,
    refreshed: Option<Instant>,
    refreshes: u64,
    missed: u64,
}

impl Actor for Cache {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.refresh(ctx);
        ctx.run_interval(self.every, Cache::refresh);
    }
}

impl Cache {
    fn refresh(&mut self, ctx: &mut Context<Self>) {
        let pool = self.pool.clone();
        // A future of the cache's own context: it stops with the cache.
        let fetch = async move { pool.send(FetchTop).await }.into_actor(self);
        ctx.spawn(fetch.map(|fetched, cache, _| match fetched {
            Ok(top) => {
                cache.top = top;
                cache.refreshed = Some(Instant::now());
                cache.refreshes += 1;
            }
            // The pool is restarting: keep the last answer, try again at the next tick.
            Err(_) => cache.missed += 1,
        }));
    }
}

/// What the cache holds, as text.
#[derive(Message)]
#[rtype(result = "String")]
pub struct Top;

impl Handler<Top> for Cache {
    type Result = String;

    fn handle(&mut self, _: Top, _: &mut Context<Self>) -> String {
        let age = match self.refreshed {
            Some(at) => format!("{:.0?} old", at.elapsed()),
            None => "not refreshed yet".to_owned(),
        };
        format!(
            "top users {:?}, {age} ({} refreshes, {} missed while the pool was down)",
            self.top, self.refreshes, self.missed
        )
    }
}

/// What the handlers hold: the supervisor and a reference to each child, by name. All are
/// `Send` and cheap to clone, so every worker thread gets a copy.
#[derive(Clone)]
pub struct Service {
    /// The supervisor, for `GET /tree`.
    pub supervisor: Addr<GroupSupervisor<()>>,
    /// The pool, whichever incarnation runs.
    pub pool: ChildRef<Pool>,
    /// The cache, whichever incarnation runs.
    pub cache: ChildRef<Cache>,
}

/// Starts the tree on the current arbiter; the guard stops it when dropped.
pub async fn start_tree(refresh_every: Duration) -> anyhow::Result<(SupervisorGuard<()>, Service)> {
    let tree = GroupSupervisor::<()>::builder()
        .name("service")
        // It serves until it is stopped, not until its children are done.
        .end(EndCondition::Never)
        .strategy(Strategy::OneForOne)
        .intensity(5, Duration::from_secs(10))
        .backoff(Backoff::exponential(Duration::from_millis(20)).max(Duration::from_secs(1)))
        .child(Child::actor("pool", Pool::connect).restart(Restart::Permanent))
        .start_guarded();
    let supervisor = tree.address().clone();
    let pool = ChildRef::<Pool>::named(&supervisor, "pool");
    // The cache needs the pool's reference, which needs the supervisor's address: it is
    // spawned into the running tree by message.
    let cache_pool = pool.clone();
    let spawn_cache = SpawnChild::new(move || {
        Child::actor("cache", move |_| Cache {
            pool: cache_pool.clone(),
            every: refresh_every,
            top: Vec::new(),
            refreshed: None,
            refreshes: 0,
            missed: 0,
        })
        .restart(Restart::Permanent)
    });
    supervisor.send(spawn_cache).await??;
    let cache = ChildRef::named(&supervisor, "cache");
    Ok((
        tree,
        Service {
            supervisor,
            pool,
            cache,
        },
    ))
}

/// Sends `message` to the pool, across a restart: while the pool restarts a message is not
/// delivered (`NotRunning`), or is lost with the old incarnation's mailbox; so try again a
/// few times, a little later each time (the restart's backoff starts at 20 ms).
async fn ask_pool<M>(
    pool: &ChildRef<Pool>,
    message: impl Fn() -> M,
) -> Result<M::Result, ChildRefError>
where
    M: Message + Send + 'static,
    M::Result: Send,
    Pool: Handler<M>,
{
    let mut wait = Duration::from_millis(10);
    for _ in 0..5 {
        match pool.send(message()).await {
            Err(ChildRefError::NotRunning | ChildRefError::Mailbox(_)) => {
                actix_rt::time::sleep(wait).await;
                wait *= 2;
            }
            answered => return answered,
        }
    }
    pool.send(message()).await
}

/// `GET /users/{id}`: asks the pool.
async fn user(id: web::Path<u32>, service: web::Data<Service>) -> HttpResponse {
    let id = id.into_inner();
    match ask_pool(&service.pool, || FetchUser(id)).await {
        Ok(user) => HttpResponse::Ok().body(user),
        Err(error) => HttpResponse::ServiceUnavailable().body(format!("the pool: {error}")),
    }
}

/// `GET /top`: answers from the cache.
async fn top(service: web::Data<Service>) -> HttpResponse {
    match service.cache.send(Top).await {
        Ok(top) => HttpResponse::Ok().body(top),
        Err(error) => HttpResponse::ServiceUnavailable().body(format!("the cache: {error}")),
    }
}

/// `POST /pool/crash`: fault injection.
async fn crash(service: web::Data<Service>) -> HttpResponse {
    match service.pool.send(LoseConnection).await {
        Ok(()) => HttpResponse::Accepted().body("the pool lost its connection"),
        Err(error) => HttpResponse::ServiceUnavailable().body(format!("the pool: {error}")),
    }
}

/// `GET /tree`: the live supervision tree.
async fn tree(service: web::Data<Service>) -> HttpResponse {
    match service.supervisor.send(TakeSnapshot).await {
        Ok(snapshot) => HttpResponse::Ok().body(format!("{snapshot}\n")),
        Err(error) => HttpResponse::ServiceUnavailable().body(format!("the tree: {error}")),
    }
}

/// Binds the app on 127.0.0.1 (`port` 0: any free port) and returns it, not yet running,
/// with its address.
pub fn serve(service: Service, port: u16, signals: bool) -> io::Result<(Server, SocketAddr)> {
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(service.clone()))
            .route("/users/{id}", web::get().to(user))
            .route("/top", web::get().to(top))
            .route("/pool/crash", web::post().to(crash))
            .route("/tree", web::get().to(tree))
    })
    .workers(2)
    .h1_allow_half_closed(false)
    .shutdown_timeout(1);
    if !signals {
        server = server.disable_signals();
    }
    let server = server.bind(("127.0.0.1", port))?;
    let addr = server.addrs()[0];
    Ok((server.run(), addr))
}

/// Sends the demo's requests and prints the answers.
async fn demo(addr: SocketAddr, service: &Service) -> anyhow::Result<()> {
    let mut client = http1::Connection::open(addr).await?;
    for (method, path) in [
        ("GET", "/users/1"),
        ("GET", "/top"),
        ("GET", "/tree"),
        ("POST", "/pool/crash"),
        // Sent at once: it waits out the pool's restart and is answered by the new one.
        ("GET", "/users/2"),
        ("GET", "/top"),
        ("GET", "/tree"),
    ] {
        let response = client.request(method, path).await?;
        println!(
            "{method} {path} -> {} {}",
            response.status,
            response.body.trim_end()
        );
        anyhow::ensure!(response.status < 300, "{method} {path} failed");
    }
    let snapshot = service.supervisor.send(TakeSnapshot).await?;
    let pool = snapshot.child_named("pool");
    anyhow::ensure!(
        pool.is_some_and(|pool| pool.attempts == 2),
        "the pool was restarted once:\n{snapshot}"
    );
    Ok(())
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let serve_forever = args.iter().any(|arg| arg == "--serve");
    let (tree, service) = start_tree(Duration::from_millis(100)).await?;
    let (server, addr) = serve(service.clone(), args::port_flag(&args)?, serve_forever)?;
    if serve_forever {
        println!("serving http://{addr}/users/1, /top, /tree; POST /pool/crash");
        return Ok(server.await?);
    }
    let handle = server.handle();
    let running = actix_rt::spawn(server);
    let outcome = demo(addr, &service).await;
    handle.stop(true).await;
    running.await??;
    // Ask for the report first, then drop the guard: that cancels the tree, whose children
    // are stopped, and the report comes once every one of them has.
    let report = service.supervisor.send(Join::new());
    drop(tree);
    println!("\nthe tree stopped:\n{}", report.await?);
    outcome
}
