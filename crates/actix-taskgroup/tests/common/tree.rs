//! The random supervision trees of the property tests: a plain-data model of a tree (groups,
//! children, behaviours, options, external actions) and the proptest strategies that make them.
//!
//! Times are whole milliseconds of virtual time, drawn from a wide range so that two decisive
//! events of one group rarely fall on the same instant (the oracle gives up on such ties).
#![allow(dead_code)]

use proptest::prelude::*;

/// Milliseconds of virtual time.
pub type Ms = u64;

/// How a group is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// A `GroupSupervisor` (at the root, or nested with `Child::group`).
    Supervisor,
    /// A `TaskGroup` (at the root, or built inside a future child that joins it).
    TaskGroup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyM {
    FailFast,
    CollectAll,
    FirstSuccess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyM {
    OneForOne,
    OneForAll,
    RestForOne,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartM {
    Temporary,
    Transient,
    Permanent,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffM {
    pub base: Ms,
    pub factor: f64,
    pub max: Ms,
    /// 0.0, or a fraction that makes the delays random (the oracle then only checks invariants).
    pub jitter: f64,
    pub reset_after: Ms,
}

#[derive(Debug, Clone)]
pub struct GroupM {
    pub kind: GroupKind,
    pub policy: PolicyM,
    pub strategy: StrategyM,
    pub max_restarts: u32,
    pub window: Ms,
    pub backoff: Option<BackoffM>,
    pub limit: Option<usize>,
    pub deadline: Option<Ms>,
    pub grace: Ms,
    pub children: Vec<ChildM>,
}

/// What a future child does when its group asks it to stop (a `Child::future_with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStop {
    /// Returns `Ok` at once: `Cancelled`.
    Quick,
    /// Ignores the request: dropped when the grace period ends.
    Ignore,
}

#[derive(Debug, Clone)]
pub enum FutScript {
    Complete(Ms, u32),
    Fail(Ms),
    Panic(Ms),
    Hang,
    /// Yields `n` times (a wake before `Pending`), then completes with the value.
    Yield(u32, u32),
    /// After the delay, spawns these children into its own group through a `GroupHandle` (or
    /// `SpawnChild` messages), then completes with 0.
    Spawn(Ms, Vec<ChildM>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActScript {
    /// `complete_and_stop` after the delay (0: in `started()`).
    Complete(Ms, u32),
    /// `fail_and_stop` after the delay (0: in `started()`).
    Fail(Ms),
    /// Panics after the delay (0: in `started()`).
    Panic(Ms),
    /// Runs until stopped.
    Hang,
    /// Runs until stopped and returns `Running::Continue` from `stopping()`, forever.
    Veto,
    /// Runs until stopped and panics in `stopping()`.
    PanicInStopping,
    /// Reports at `at` (a value, or a failure if `None`), then stops itself `then` later.
    Report {
        at: Ms,
        then: Ms,
        value: Option<u32>,
    },
}

#[derive(Debug, Clone)]
pub enum Body {
    Future {
        script: FutScript,
        graceful: Option<OnStop>,
        panic_on_drop: bool,
        /// Spawned as a plain future (`spawn_named` / `child_future`), not from a `Child` spec.
        plain: bool,
    },
    Actor {
        script: ActScript,
        panic_on_drop: bool,
        /// Given to a supervisor's builder as `child_actor` (a one-shot factory).
        plain: bool,
    },
    Group {
        group: Box<GroupM>,
        /// Given to a supervisor's builder as `child_group` (a one-shot builder).
        plain: bool,
    },
}

#[derive(Debug, Clone)]
pub struct ChildM {
    pub body: Body,
    pub restart: RestartM,
    pub attempts: Option<u32>,
    pub timeout: Option<Ms>,
    pub best_effort: bool,
    /// The first `flaky` incarnations fail after `flaky_at`, whatever the script says.
    pub flaky: u32,
    pub flaky_at: Ms,
}

impl ChildM {
    /// Whether the child is given without options (a plain future or a one-shot factory).
    pub fn is_plain(&self) -> bool {
        matches!(
            self.body,
            Body::Future { plain: true, .. }
                | Body::Actor { plain: true, .. }
                | Body::Group { plain: true, .. }
        )
    }
}

/// How the root is owned and waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// `start()`: top-level.
    Plain,
    /// `start_guarded()`, the test keeps the guard.
    Guard,
    /// `start_guarded()`, the guard is kept in an owner actor's state.
    Owner,
}

/// An external action at a virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `Cancel` message / `TaskGroup`'s handle `cancel()`.
    Cancel,
    /// Drops the `join_report` future (a `TaskGroup` root); drops one `Join` asker (a
    /// supervisor root).
    DropJoin,
    /// Drops the guard the test holds (`Ownership::Guard`).
    DropGuard,
    /// Stops the owner actor that keeps the guard (`Ownership::Owner`).
    StopOwner,
    /// Asks for a snapshot.
    Snapshot,
    /// Sends one more `Join` (a late asker).
    LateJoin,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub root: GroupM,
    pub ownership: Ownership,
    /// `Join` askers sent at once (supervisor roots), at least one.
    pub askers: usize,
    pub notify: bool,
    pub actions: Vec<(Ms, Action)>,
}

/// The number of nodes (groups and children) of a group, itself included.
pub fn size(group: &GroupM) -> usize {
    1 + group.children.iter().map(child_size).sum::<usize>()
}

fn child_size(child: &ChildM) -> usize {
    match &child.body {
        Body::Group { group, .. } => size(group),
        Body::Future {
            script: FutScript::Spawn(_, kids),
            ..
        } => 1 + kids.len(),
        _ => 1,
    }
}

/// The most nodes a tree may have.
pub const MAX_NODES: usize = 200;
/// The deepest nesting of groups (the root is at depth 0).
pub const MAX_DEPTH: u32 = 4;

fn ms(range: std::ops::RangeInclusive<Ms>) -> impl Strategy<Value = Ms> {
    range
}

/// A delay: mostly long and spread (ties are rare), sometimes zero.
fn delay() -> impl Strategy<Value = Ms> {
    prop_oneof![1 => Just(0), 12 => ms(1..=100_000)]
}

fn fut_script(spawner: bool) -> BoxedStrategy<FutScript> {
    let base = prop_oneof![
        4 => (delay(), 1..1000u32).prop_map(|(d, v)| FutScript::Complete(d, v)),
        2 => delay().prop_map(FutScript::Fail),
        1 => delay().prop_map(FutScript::Panic),
        2 => Just(FutScript::Hang),
        1 => (1..20u32, 1..1000u32).prop_map(|(n, v)| FutScript::Yield(n, v)),
    ];
    if !spawner {
        return base.boxed();
    }
    prop_oneof![
        10 => base,
        1 => (ms(1..=100_000), prop::collection::vec(leaf(false), 1..6))
            .prop_map(|(d, kids)| FutScript::Spawn(d, kids)),
    ]
    .boxed()
}

fn act_script() -> impl Strategy<Value = ActScript> {
    prop_oneof![
        4 => (delay(), 1..1000u32).prop_map(|(d, v)| ActScript::Complete(d, v)),
        2 => delay().prop_map(ActScript::Fail),
        1 => delay().prop_map(ActScript::Panic),
        2 => Just(ActScript::Hang),
        1 => Just(ActScript::Veto),
        1 => Just(ActScript::PanicInStopping),
        1 => (ms(1..=100_000), ms(1..=100_000), prop::option::of(1..1000u32))
            .prop_map(|(at, then, value)| ActScript::Report { at, then, value }),
    ]
}

fn restart() -> impl Strategy<Value = RestartM> {
    prop_oneof![
        6 => Just(RestartM::Temporary),
        2 => Just(RestartM::Transient),
        1 => Just(RestartM::Permanent),
    ]
}

/// The options every child spec may have.
fn options() -> impl Strategy<Value = (RestartM, Option<u32>, Option<Ms>, bool, u32, Ms)> {
    (
        restart(),
        prop::option::weighted(0.25, 1..5u32),
        prop::option::weighted(0.2, ms(1..=100_000)),
        prop::bool::weighted(0.15),
        prop_oneof![6 => Just(0u32), 1 => 1..4u32],
        ms(1..=100_000),
    )
}

fn make_child(body: Body, opts: (RestartM, Option<u32>, Option<Ms>, bool, u32, Ms)) -> ChildM {
    let (restart, attempts, timeout, best_effort, flaky, flaky_at) = opts;
    let mut child = ChildM {
        body,
        restart,
        attempts,
        timeout,
        best_effort,
        flaky,
        flaky_at,
    };
    normalise(&mut child);
    child
}

/// Keeps the combinations the harness can build: a plain child has no options; an actor
/// that vetoes its stop or panics in `stopping()` only hangs (a self-stop would run the same
/// `stopping()`).
fn normalise(child: &mut ChildM) {
    if matches!(
        child.body,
        Body::Actor {
            script: ActScript::Veto | ActScript::PanicInStopping,
            ..
        } | Body::Group { .. }
    ) {
        child.flaky = 0;
    }
    // A restartable child has a bounded number of incarnations: a permanent child whose
    // incarnations outlast the intensity window would otherwise restart forever.
    if child.restart != RestartM::Temporary {
        child.attempts = Some(child.attempts.unwrap_or(8).min(8));
    }
    if child.is_plain() {
        child.restart = RestartM::Temporary;
        child.attempts = None;
        child.timeout = None;
        child.best_effort = false;
        child.flaky = 0;
    }
}

/// A leaf: a future or an actor child.
fn leaf(spawner: bool) -> BoxedStrategy<ChildM> {
    let future = (
        fut_script(spawner),
        prop::option::weighted(0.3, prop_oneof![Just(OnStop::Quick), Just(OnStop::Ignore)]),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(script, graceful, panic_on_drop, plain)| Body::Future {
            script,
            graceful,
            panic_on_drop,
            plain: plain && graceful.is_none(),
        });
    let actor = (
        act_script(),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(script, panic_on_drop, plain)| Body::Actor {
            script,
            panic_on_drop,
            plain,
        });
    let body = prop_oneof![3 => future, 2 => actor];
    (body, options())
        .prop_map(|(body, opts)| make_child(body, opts))
        .boxed()
}

fn group_options() -> impl Strategy<Value = (PolicyM, StrategyM, u32, Ms, Option<BackoffM>)> {
    let policy = prop_oneof![
        4 => Just(PolicyM::FailFast),
        2 => Just(PolicyM::CollectAll),
        1 => Just(PolicyM::FirstSuccess),
    ];
    let strategy = prop_oneof![
        4 => Just(StrategyM::OneForOne),
        1 => Just(StrategyM::OneForAll),
        1 => Just(StrategyM::RestForOne),
    ];
    let backoff = prop::option::weighted(
        0.4,
        (
            ms(1..=5_000),
            prop_oneof![Just(1.0), Just(2.0), Just(3.0)],
            ms(1..=60_000),
            prop_oneof![4 => Just(0.0), 1 => Just(0.5)],
            ms(1..=200_000),
        )
            .prop_map(|(base, factor, max, jitter, reset_after)| BackoffM {
                base,
                factor,
                max,
                jitter,
                reset_after,
            }),
    );
    (policy, strategy, 0..5u32, ms(1..=200_000), backoff)
}

/// A group at `depth`, with its children.
pub fn group(kind: GroupKind, depth: u32) -> BoxedStrategy<GroupM> {
    // Spawners need a handle on their group: the root's, or a nested `TaskGroup`'s.
    let spawners = depth == 0 || kind == GroupKind::TaskGroup;
    let child = if depth < MAX_DEPTH {
        let nested = (
            prop_oneof![Just(GroupKind::Supervisor), Just(GroupKind::TaskGroup)],
            prop::bool::weighted(0.2),
            options(),
        )
            .prop_flat_map(move |(kind, plain, opts)| {
                group(kind, depth + 1).prop_map(move |group| {
                    let plain = plain && kind == GroupKind::Supervisor;
                    make_child(
                        Body::Group {
                            group: Box::new(group),
                            plain,
                        },
                        opts,
                    )
                })
            });
        let nested_weight = if depth == 0 { 2 } else { 1 };
        prop_oneof![12 => leaf(spawners), nested_weight => nested].boxed()
    } else {
        leaf(spawners)
    };
    let max_children = [24, 10, 6, 4, 3][depth as usize];
    (
        group_options(),
        prop::option::weighted(0.25, 1..6usize),
        prop::option::weighted(0.2, ms(1..=150_000)),
        ms(1..=20_000),
        prop::collection::vec(child, 0..=max_children),
    )
        .prop_map(
            move |(
                (policy, strategy, max_restarts, window, backoff),
                limit,
                deadline,
                grace,
                children,
            )| {
                GroupM {
                    kind,
                    policy,
                    strategy,
                    max_restarts,
                    window,
                    backoff,
                    limit,
                    deadline,
                    grace,
                    children,
                }
            },
        )
        .boxed()
}

/// Cuts a tree down to `MAX_NODES` nodes, dropping the last children first.
pub fn prune(group: &mut GroupM, budget: &mut usize) {
    *budget = budget.saturating_sub(1);
    let mut kept = Vec::new();
    for mut child in std::mem::take(&mut group.children) {
        if *budget == 0 {
            break;
        }
        match &mut child.body {
            Body::Group { group, .. } => prune(group, budget),
            Body::Future {
                script: FutScript::Spawn(_, kids),
                ..
            } => {
                *budget -= 1;
                kids.truncate(*budget);
                *budget -= kids.len();
            }
            _ => *budget -= 1,
        }
        kept.push(child);
    }
    group.children = kept;
}

fn action(kind: GroupKind, ownership: Ownership) -> BoxedStrategy<Action> {
    let mut choices = vec![Action::Cancel, Action::Snapshot, Action::DropJoin];
    if kind == GroupKind::Supervisor {
        choices.push(Action::LateJoin);
        match ownership {
            Ownership::Guard => choices.push(Action::DropGuard),
            Ownership::Owner => choices.push(Action::StopOwner),
            Ownership::Plain => {}
        }
    }
    prop::sample::select(choices).boxed()
}

/// A whole case: a root group of either kind, how it is owned, and what happens to it.
pub fn case() -> impl Strategy<Value = Case> {
    let kind = prop_oneof![Just(GroupKind::Supervisor), Just(GroupKind::TaskGroup)];
    let ownership = prop_oneof![
        Just(Ownership::Plain),
        Just(Ownership::Guard),
        Just(Ownership::Owner)
    ];
    (kind, ownership)
        .prop_flat_map(|(kind, ownership)| {
            let ownership = if kind == GroupKind::TaskGroup {
                Ownership::Plain
            } else {
                ownership
            };
            (
                group(kind, 0),
                Just(ownership),
                1..4usize,
                prop::bool::ANY,
                prop::collection::vec((ms(0..=150_000), action(kind, ownership)), 0..4),
            )
        })
        .prop_map(|(mut root, ownership, askers, notify, actions)| {
            prune(&mut root, &mut MAX_NODES.clone());
            Case {
                root,
                ownership,
                askers,
                notify,
                actions,
            }
        })
}
