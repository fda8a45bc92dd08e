//! Model check of a group's phases and stop protocol (issue 19, item 2), with
//! `proptest-state-machine`: a supervisor is driven one operation at a time (spawn a child of
//! some kind, tell a running child to complete, fail or panic, cancel, ask for the join, let
//! 100 ms of virtual time pass so that grace and restart timers fire, take a snapshot), and
//! after every operation its snapshot, its live children (counted from `Drop`), its spawn
//! answers and its reply are compared with a small reference model of the phases (Open,
//! Stopping, Finished), the two-phase stop, fail-fast, one-for-one restarts with backoff and
//! the intensity limit.
//!
//! What this adds to the random trees of `properties.rs`: the state is compared after every
//! single step, not only at the end, and the steps are interleaved by the test (a child ends
//! while its siblings are stopping; a spawn while stopping; a join after the end).

mod common;
#[path = "common/puppet.rs"]
mod puppet;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Once;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Backoff, Cancel, ChildState, GroupHandle, GroupReport, GroupState, GroupSupervisor, Join,
    Outcome, SpawnError,
};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use puppet::{ATTEMPTS, COMMANDS, Cmd, Kind, LIVE, child};

const GRACE: u64 = 1000;
const BACKOFF: u64 = 100;
const TICK: u64 = 100;
const MAX_RESTARTS: usize = 2;
const WINDOW: u64 = 1000;

#[derive(Debug, Clone)]
enum Op {
    Spawn(Kind, bool),
    End(usize, Cmd),
    Cancel,
    Join,
    Tick,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    Stopping,
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Completed(u32),
    Failed,
    Panicked,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Running,
    Stopping,
    Restarting(u64),
    Done(End),
}

#[derive(Debug, Clone)]
struct MChild {
    kind: Kind,
    restartable: bool,
    attempts: u32,
    st: St,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Failed,
    Cancelled,
    RestartLimit,
}

/// The reference model.
#[derive(Debug, Clone)]
struct Model {
    phase: Phase,
    joining: bool,
    now: u64,
    grace_deadline: Option<u64>,
    children: Vec<MChild>,
    restarts: Vec<u64>,
    cause: Option<Cause>,
    /// What the last spawn should have answered.
    last_spawn: Option<Result<(), SpawnError>>,
}

impl Model {
    fn live(&self) -> usize {
        self.children
            .iter()
            .filter(|c| !matches!(c.st, St::Done(_)))
            .count()
    }

    fn end_check(&mut self) {
        let done = self.live() == 0;
        match self.phase {
            Phase::Open if self.joining && done => self.phase = Phase::Finished,
            Phase::Stopping if done => self.phase = Phase::Finished,
            _ => {}
        }
    }

    fn stop(&mut self, cause: Cause) {
        if self.phase != Phase::Open {
            return;
        }
        self.phase = Phase::Stopping;
        self.cause = Some(cause);
        self.grace_deadline = Some(self.now + GRACE);
        for child in self.children.iter_mut().rev() {
            child.st = match (child.st, child.kind) {
                (St::Running, Kind::Ignore | Kind::Veto) => St::Stopping,
                (St::Running | St::Restarting(_), _) => St::Done(End::Cancelled),
                (other, _) => other,
            };
        }
        self.end_check();
    }

    fn end(&mut self, i: usize, cmd: Cmd) {
        let stopping = self.children[i].st == St::Stopping;
        let end = match cmd {
            // A graceful future that returns `Ok` after a stop request was cancelled.
            Cmd::Complete(_) if stopping => End::Cancelled,
            Cmd::Complete(v) => End::Completed(v),
            Cmd::Fail => End::Failed,
            Cmd::Panic => End::Panicked,
        };
        let failed = matches!(end, End::Failed | End::Panicked);
        let child = &mut self.children[i];
        if self.phase == Phase::Open && failed && child.restartable && child.attempts < ATTEMPTS {
            let now = self.now;
            self.restarts.retain(|&t| now - t <= WINDOW);
            self.restarts.push(now);
            if self.restarts.len() > MAX_RESTARTS {
                self.children[i].st = St::Done(end);
                self.stop(Cause::RestartLimit);
                return;
            }
            self.children[i].st = St::Restarting(now + BACKOFF);
            return;
        }
        self.children[i].st = St::Done(end);
        if self.phase == Phase::Open && failed {
            self.stop(Cause::Failed);
        }
        self.end_check();
    }

    fn tick(&mut self) {
        self.now += TICK;
        if self.phase == Phase::Open {
            for child in &mut self.children {
                if let St::Restarting(due) = child.st
                    && due <= self.now
                {
                    child.st = St::Running;
                    child.attempts += 1;
                }
            }
        }
        if self.phase == Phase::Stopping && self.grace_deadline.is_some_and(|d| d <= self.now) {
            for child in self.children.iter_mut().rev() {
                if child.st == St::Stopping {
                    child.st = St::Done(End::Cancelled);
                }
            }
            self.end_check();
        }
    }
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model {
            phase: Phase::Open,
            joining: false,
            now: 0,
            grace_deadline: None,
            children: Vec::new(),
            restarts: Vec::new(),
            cause: None,
            last_spawn: None,
        })
        .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Op> {
        let kind = prop_oneof![
            Just(Kind::Plain),
            Just(Kind::Quick),
            Just(Kind::Ignore),
            Just(Kind::Actor),
            Just(Kind::Veto)
        ];
        let spawn = (kind, any::<bool>()).prop_map(|(k, r)| Op::Spawn(k, r));
        let cmd = prop_oneof![
            3 => (1..100u32).prop_map(Cmd::Complete),
            2 => Just(Cmd::Fail),
            1 => Just(Cmd::Panic)
        ];
        let endable: Vec<usize> = (0..state.children.len())
            .filter(|&i| Self::endable(state, i))
            .collect();
        let simple = prop_oneof![
            4 => spawn,
            1 => Just(Op::Cancel),
            1 => Just(Op::Join),
            3 => Just(Op::Tick),
        ];
        if endable.is_empty() {
            return simple.boxed();
        }
        let end = (prop::sample::select(endable), cmd).prop_map(|(i, c)| Op::End(i, c));
        prop_oneof![3 => simple, 2 => end].boxed()
    }

    fn preconditions(state: &Model, op: &Op) -> bool {
        match op {
            Op::End(i, _) => *i < state.children.len() && Self::endable(state, *i),
            _ => true,
        }
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        match *op {
            Op::Spawn(kind, restartable) => {
                state.last_spawn = Some(match state.phase {
                    Phase::Open => {
                        state.children.push(MChild {
                            kind,
                            restartable,
                            attempts: 1,
                            st: St::Running,
                        });
                        Ok(())
                    }
                    Phase::Stopping => Err(SpawnError::ShuttingDown),
                    Phase::Finished => Err(SpawnError::Closed),
                });
            }
            Op::End(i, cmd) => state.end(i, cmd),
            Op::Cancel => state.stop(Cause::Cancelled),
            Op::Join => {
                state.joining = true;
                state.end_check();
            }
            Op::Tick => state.tick(),
        }
        state
    }
}

impl Reference {
    /// A child that the test can tell to end now: running (a veto actor would veto its own
    /// stop too), or stopping while it ignores the request.
    fn endable(state: &Model, i: usize) -> bool {
        let child = &state.children[i];
        (child.st == St::Running && child.kind != Kind::Veto)
            || (child.st == St::Stopping && child.kind == Kind::Ignore)
    }
}

struct Sut {
    system: actix_rt::SystemRunner,
    addr: Addr<GroupSupervisor<u32>>,
    handle: GroupHandle<u32>,
    answers: Rc<RefCell<Vec<GroupReport<u32>>>>,
    asked: usize,
    spawned: Option<Result<(), SpawnError>>,
}

/// Lets everything that is due run, without letting virtual time pass.
async fn settle() {
    for _ in 0..64 {
        actix_rt::task::yield_now().await;
    }
}

struct Machine;

impl StateMachineTest for Machine {
    type SystemUnderTest = Sut;
    type Reference = Reference;

    fn init_test(_: &Model) -> Sut {
        quiet_panics();
        LIVE.with(|l| *l.borrow_mut() = 0);
        COMMANDS.with(|c| c.borrow_mut().clear());
        let system = actix_rt::System::with_tokio_rt(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .expect("a current-thread runtime")
        });
        let (addr, handle) = system.block_on(async {
            let sup = GroupSupervisor::<u32>::builder()
                .intensity(MAX_RESTARTS as u32, Duration::from_millis(WINDOW))
                .backoff(Backoff::constant(Duration::from_millis(BACKOFF)))
                .grace(Duration::from_millis(GRACE))
                .build();
            let handle = sup.handle();
            let addr = sup.start();
            settle().await;
            (addr, handle)
        });
        Sut {
            system,
            addr,
            handle,
            answers: Rc::default(),
            asked: 0,
            spawned: None,
        }
    }

    fn apply(mut sut: Sut, model: &Model, op: Op) -> Sut {
        let (addr, handle, answers) = (sut.addr.clone(), sut.handle.clone(), sut.answers.clone());
        let mut spawned = None;
        let mut asked = false;
        sut.system.block_on(async {
            match op {
                Op::Spawn(kind, restartable) => {
                    let i = model.children.len() - usize::from(model.last_spawn == Some(Ok(())));
                    spawned = Some(handle.spawn_child(child(i, kind, restartable)).map(drop));
                }
                Op::End(i, cmd) => {
                    let sender = COMMANDS.with(|c| c.borrow_mut().remove(&i));
                    let _ = sender.expect("a listening child").send(cmd);
                }
                Op::Cancel => addr.do_send(Cancel),
                Op::Join => {
                    asked = true;
                    actix_rt::spawn(async move {
                        if let Ok(report) = addr.send(Join::new()).await {
                            answers.borrow_mut().push(report);
                        }
                    });
                }
                Op::Tick => tokio::time::advance(Duration::from_millis(TICK)).await,
            }
            settle().await;
        });
        sut.spawned = spawned;
        sut.asked += usize::from(asked);
        if let Op::Spawn(..) = op {
            assert_eq!(sut.spawned, model.last_spawn, "the spawn's answer (R7)");
        }
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let snapshot = sut
            .handle
            .snapshot()
            .expect("the supervisor keeps its group");
        let state = match model.phase {
            Phase::Open => GroupState::Running,
            Phase::Stopping => GroupState::Stopping,
            Phase::Finished => GroupState::Finished,
        };
        assert_eq!(
            snapshot.state, state,
            "the group's phase\n{snapshot}\n{model:?}"
        );
        let live = LIVE.with(|l| *l.borrow());
        let expected_live = model
            .children
            .iter()
            .filter(|c| matches!(c.st, St::Running | St::Stopping))
            .count() as i64;
        assert_eq!(
            live, expected_live,
            "live children (R1, R2)\n{snapshot}\n{model:?}"
        );
        assert_eq!(snapshot.children.len(), model.children.len());
        for (got, want) in snapshot.children.iter().zip(&model.children) {
            let ok = match (got.state, want.st) {
                (ChildState::Running | ChildState::Starting, St::Running) => true,
                (ChildState::Stopping, St::Stopping) => true,
                (ChildState::Restarting { .. }, St::Restarting(_)) => true,
                (ChildState::Stopped(kind), St::Done(end)) => kind == outcome_kind(end),
                _ => false,
            };
            assert!(
                ok,
                "child {:?}: {:?}, the model says {:?}\n{snapshot}",
                got.name, got.state, want.st
            );
            assert_eq!(got.attempts, want.attempts, "{:?}: attempts", got.name);
        }
        let answers = sut.answers.borrow();
        if model.phase == Phase::Finished && sut.asked > 0 {
            assert_eq!(answers.len(), sut.asked, "one answer per asker (R9)");
            let report = &answers[0];
            for (got, want) in report.children().iter().zip(&model.children) {
                let St::Done(end) = want.st else {
                    panic!("a live child in a finished group")
                };
                assert_eq!(outcome_kind(end), got.outcome().kind(), "{:?}", got.name());
                if let (Outcome::Completed(v), End::Completed(w)) = (got.outcome(), end) {
                    assert_eq!(*v, w);
                }
                assert_eq!(got.attempts(), want.attempts);
            }
            let kind = report.error().map(|e| e.kind());
            let want = model.cause.map(|c| match c {
                Cause::Failed => actix_taskgroup::GroupErrorKind::Failed,
                Cause::Cancelled => actix_taskgroup::GroupErrorKind::Cancelled,
                Cause::RestartLimit => actix_taskgroup::GroupErrorKind::RestartLimit,
            });
            let want = want.or_else(|| {
                let failed = model
                    .children
                    .iter()
                    .any(|c| matches!(c.st, St::Done(End::Failed | End::Panicked)));
                failed.then_some(actix_taskgroup::GroupErrorKind::Failed)
            });
            assert_eq!(kind, want, "the error's kind\n{report}");
        } else {
            assert!(answers.is_empty(), "an answer before the end (R1)");
        }
    }
}

fn outcome_kind(end: End) -> actix_taskgroup::OutcomeKind {
    use actix_taskgroup::OutcomeKind as K;
    match end {
        End::Completed(_) => K::Completed,
        End::Failed => K::Failed,
        End::Panicked => K::Panicked,
        End::Cancelled => K::Cancelled,
    }
}

fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = info
                .payload()
                .downcast_ref::<&str>()
                .is_some_and(|m| m.starts_with("sm:"));
            if !ours {
                default(info);
            }
        }));
    });
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "proptest-regressions/state_machine.txt",
            ),
        )),
        rng_seed: seed(),
        ..ProptestConfig::default()
    }
}

/// Deterministic by default (the same cases on every run, CI's included); `PROPTEST_RNG_SEED`
/// chooses another seed.
fn seed() -> proptest::test_runner::RngSeed {
    match ProptestConfig::default().rng_seed {
        proptest::test_runner::RngSeed::Random => proptest::test_runner::RngSeed::Fixed(19),
        chosen => chosen,
    }
}

prop_state_machine! {
    #![proptest_config(config())]

    #[test]
    fn a_supervisor_follows_the_model_of_its_phases(sequential 1..60 => Machine);
}
