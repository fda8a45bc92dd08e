//! R10: a child behaves as it would as a task. A child that yields (`yield_now`, or a wake of
//! its own waker before it returns `Pending`) lets its siblings run before it goes on, in
//! its first step as in any later one: the log reads as it does for plain
//! `actix_rt::spawn` tasks.

mod common;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_taskgroup::{GroupSupervisor, TaskGroup};
use common::run_paused;
use tokio::sync::Notify;

type Order = Rc<RefCell<Vec<&'static str>>>;

/// Wakes its own waker, then returns `Pending` once: a yield by hand.
#[derive(Default)]
struct WakeThenPending {
    woken: bool,
}

impl Future for WakeThenPending {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.woken {
            return Poll::Ready(());
        }
        self.woken = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[derive(Clone, Copy, Debug)]
enum Yield {
    YieldNow,
    ByHand,
}

async fn yield_by(how: Yield) {
    match how {
        Yield::YieldNow => tokio::task::yield_now().await,
        Yield::ByHand => WakeThenPending::default().await,
    }
}

/// Child A of the first-step scenario: A1, a yield, A2.
fn first_step_a(order: &Order, how: Yield) -> impl Future<Output = anyhow::Result<()>> + use<> {
    let order = Rc::clone(order);
    async move {
        order.borrow_mut().push("A1");
        yield_by(how).await;
        order.borrow_mut().push("A2");
        Ok(())
    }
}

/// Child B: B.
fn b(order: &Order) -> impl Future<Output = anyhow::Result<()>> + use<> {
    let order = Rc::clone(order);
    async move {
        order.borrow_mut().push("B");
        Ok(())
    }
}

/// The first-step scenario as plain tasks: what a child must do too.
async fn plain_tasks_first_step(how: Yield) -> Vec<&'static str> {
    let order = Order::default();
    let a = actix_rt::spawn(first_step_a(&order, how));
    let b = actix_rt::spawn(b(&order));
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    order.take()
}

#[test]
fn a_child_that_yields_in_its_first_step_lets_its_sibling_run_like_a_plain_task() {
    for how in [Yield::YieldNow, Yield::ByHand] {
        run_paused(async {
            assert_eq!(plain_tasks_first_step(how).await, ["A1", "B", "A2"]);

            let order = Order::default();
            let group = TaskGroup::<()>::new();
            group.spawn_named("A", first_step_a(&order, how)).unwrap();
            group.spawn_named("B", b(&order)).unwrap();
            group.join().await.unwrap();
            assert_eq!(*order.borrow(), ["A1", "B", "A2"], "{how:?}");
        });
    }
}

#[test]
fn a_supervisor_child_that_yields_in_its_first_step_lets_its_sibling_run() {
    for how in [Yield::YieldNow, Yield::ByHand] {
        run_paused(async {
            let order = Order::default();
            let (o1, o2) = (order.clone(), order.clone());
            let group = GroupSupervisor::<()>::builder()
                .child_future("A", move || first_step_a(&o1, how))
                .child_future("B", move || b(&o2))
                .start();
            let report = group.send(actix_taskgroup::Join::new()).await.unwrap();
            assert!(report.is_success());
            assert_eq!(*order.borrow(), ["A1", "B", "A2"], "{how:?}");
        });
    }
}

/// The later-step scenario: A waits for a timer, logs A1, wakes B, yields, logs A2; B waits
/// to be woken, logs B. B is woken before A yields, so B runs before A goes on.
fn later_step(order: &Order, how: Yield) -> [Pin<Box<dyn Future<Output = anyhow::Result<()>>>>; 2] {
    let wake_b = Rc::new(Notify::new());
    let (order_a, order_b, wake_a) = (order.clone(), order.clone(), wake_b.clone());
    let a = async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        order_a.borrow_mut().push("A1");
        wake_a.notify_one();
        yield_by(how).await;
        order_a.borrow_mut().push("A2");
        Ok(())
    };
    let b = async move {
        wake_b.notified().await;
        order_b.borrow_mut().push("B");
        Ok(())
    };
    [Box::pin(a), Box::pin(b)]
}

#[test]
fn a_child_that_yields_in_a_later_step_lets_its_woken_sibling_run_like_a_plain_task() {
    for how in [Yield::YieldNow, Yield::ByHand] {
        run_paused(async {
            let order = Order::default();
            let [a, b] = later_step(&order, how);
            let (a, b) = (actix_rt::spawn(a), actix_rt::spawn(b));
            a.await.unwrap().unwrap();
            b.await.unwrap().unwrap();
            assert_eq!(order.take(), ["A1", "B", "A2"], "plain tasks, {how:?}");

            let group = TaskGroup::<()>::new();
            let [a, b] = later_step(&order, how);
            group.spawn_named("A", a).unwrap();
            group.spawn_named("B", b).unwrap();
            group.join().await.unwrap();
            assert_eq!(order.take(), ["A1", "B", "A2"], "group children, {how:?}");
        });
    }
}

/// Round robin: each yield lets every other ready child take one step. (By hand, not with
/// `yield_now`: tokio defers `yield_now`'s wakes and runs the deferred ones last-in first-out,
/// so with several children plain tasks do not take turns either.)
#[test]
fn children_that_yield_many_times_take_turns_as_tasks_do() {
    fn counter(
        order: &Order,
        names: [&'static str; 3],
    ) -> impl Future<Output = anyhow::Result<()>> + use<> {
        let order = Rc::clone(order);
        async move {
            for name in names {
                order.borrow_mut().push(name);
                yield_by(Yield::ByHand).await;
            }
            Ok(())
        }
    }
    run_paused(async {
        let order = Order::default();
        let a = actix_rt::spawn(counter(&order, ["A1", "A2", "A3"]));
        let b = actix_rt::spawn(counter(&order, ["B1", "B2", "B3"]));
        a.await.unwrap().unwrap();
        b.await.unwrap().unwrap();
        let plain = order.take();
        assert_eq!(plain, ["A1", "B1", "A2", "B2", "A3", "B3"]);

        let group = TaskGroup::<()>::new();
        group.spawn(counter(&order, ["A1", "A2", "A3"])).unwrap();
        group.spawn(counter(&order, ["B1", "B2", "B3"])).unwrap();
        group.join().await.unwrap();
        assert_eq!(order.take(), plain);
    });
}

/// An actor whose first step (its `started()`'s future) yields: A1, a yield, A2, then stops.
struct YieldingActor {
    order: Order,
    done: Option<futures::channel::oneshot::Sender<()>>,
}

impl actix::Actor for YieldingActor {
    type Context = actix::Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        use actix::{ActorContext, ActorFutureExt, AsyncContext};
        let (order, done) = (Rc::clone(&self.order), self.done.take());
        let step = async move {
            order.borrow_mut().push("A1");
            tokio::task::yield_now().await;
            order.borrow_mut().push("A2");
            if let Some(done) = done {
                let _ = done.send(());
            }
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(step).map(|(), _, ctx| ctx.stop()));
    }
}

/// An actor that logs B in `started()` and stops.
struct LoggingActor(Order);

impl actix::Actor for LoggingActor {
    type Context = actix::Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        use actix::ActorContext;
        self.0.borrow_mut().push("B");
        ctx.stop();
    }
}

#[test]
fn an_actor_child_that_yields_in_its_first_step_lets_its_sibling_run_like_a_plain_actor() {
    use actix::Actor;
    run_paused(async {
        let order = Order::default();
        let (done, finished) = futures::channel::oneshot::channel();
        let _a = YieldingActor {
            order: order.clone(),
            done: Some(done),
        }
        .start();
        let _b = LoggingActor(order.clone()).start();
        finished.await.unwrap();
        assert_eq!(order.take(), ["A1", "B", "A2"], "plain actors");

        let (o1, o2) = (order.clone(), order.clone());
        let group = GroupSupervisor::<()>::builder()
            .child_actor("A", move |_| YieldingActor {
                order: o1,
                done: None,
            })
            .child_actor("B", move |_| LoggingActor(o2))
            .start();
        assert!(
            group
                .send(actix_taskgroup::Join::new())
                .await
                .unwrap()
                .is_success()
        );
        assert_eq!(order.take(), ["A1", "B", "A2"], "actor children");
    });
}
