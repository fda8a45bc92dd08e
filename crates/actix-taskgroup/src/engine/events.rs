//! Every lifecycle step of a group and its children as a `tracing` event (R16), under one
//! span per group (a nested group's span inside its parent's).
//!
//! Levels, as an operator reads them: a group failing is ERROR; a child failing and a child
//! dropped at its grace deadline are WARN; restarts and a group's start of a stop and its end
//! are INFO; a child's start, readiness, stop request and stop are DEBUG; spawns and queueing
//! are TRACE. Each event carries `group` (its name, or empty), `id` and `child` (the child's
//! name, when it has one); events of a restartable child carry its `incarnation`.
//!
//! With no subscriber, each call costs the check of a static level and of an atomic: field
//! values are not even computed.

use std::time::Duration;

use tracing::{Level, Span};

use crate::child::ChildId;
use crate::engine::scope::{Scope, State, StopReason};
use crate::error::GroupErrorKind;
use crate::outcome::Outcome;

/// Every event's target, for filters (`RUST_LOG=actix_taskgroup=debug`).
pub(crate) const TARGET: &str = "actix_taskgroup";

/// Whether events at `level` can be seen by anyone: the compile-time ceiling and the current
/// subscriber's ceiling, both read without a call. With no subscriber, this is the whole
/// cost of an event.
#[inline(always)]
fn on(level: Level) -> bool {
    level <= tracing::level_filters::STATIC_MAX_LEVEL
        && level <= tracing::level_filters::LevelFilter::current()
}

#[inline]
pub(crate) fn group_span(name: Option<&str>) -> Span {
    tracing::span!(target: TARGET, Level::INFO, "group", name = name.unwrap_or(""))
}

fn child_name<T>(state: &State<T>, id: ChildId) -> Option<&str> {
    state.name(id.index()).map(|name| name.as_ref())
}

#[inline(always)]
pub(crate) fn spawned<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    if on(Level::TRACE) {
        spawned_event(scope, state, id);
    }
}

#[cold]
#[inline(never)]
fn spawned_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::TRACE,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        kind = %state.kind(id.index()),
        "spawned"
    );
}

#[inline(always)]
pub(crate) fn queued<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    if on(Level::TRACE) {
        queued_event(scope, state, id);
    }
}

#[cold]
#[inline(never)]
fn queued_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::TRACE,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        waiting = state.queue.waiting.len(),
        "queued"
    );
}

#[inline(always)]
pub(crate) fn started<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    if on(Level::DEBUG) {
        started_event(scope, state, id);
    }
}

#[cold]
#[inline(never)]
fn started_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::DEBUG,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        incarnation = state.incarnation(id.index()),
        "started"
    );
}

#[inline(always)]
pub(crate) fn ready<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    if on(Level::DEBUG) {
        ready_event(scope, state, id);
    }
}

#[cold]
#[inline(never)]
fn ready_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::DEBUG,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        incarnation = state.incarnation(id.index()),
        "ready"
    );
}

#[inline(always)]
pub(crate) fn failed<T>(scope: &Scope<T>, state: &State<T>, id: ChildId, outcome: &Outcome<T>) {
    if on(Level::WARN) {
        failed_event(scope, state, id, outcome);
    }
}

#[cold]
#[inline(never)]
fn failed_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId, outcome: &Outcome<T>) {
    let Some((kind, cause)) = outcome.failure() else {
        return;
    };
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::WARN,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        incarnation = state.incarnation(id.index()),
        kind = ?kind, cause = %format_args!("{cause:#}"),
        "failed"
    );
}

#[inline(always)]
pub(crate) fn restarting<T>(
    scope: &Scope<T>,
    state: &State<T>,
    id: ChildId,
    attempt: u32,
    delay: Duration,
) {
    if on(Level::INFO) {
        restarting_event(scope, state, id, attempt, delay);
    }
}

#[cold]
#[inline(never)]
fn restarting_event<T>(
    scope: &Scope<T>,
    state: &State<T>,
    id: ChildId,
    attempt: u32,
    delay: Duration,
) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::INFO,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        attempt, delay_ms = delay.as_millis() as u64,
        "restarting"
    );
}

#[inline(always)]
pub(crate) fn restarted<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    if on(Level::INFO) {
        restarted_event(scope, state, id);
    }
}

#[cold]
#[inline(never)]
fn restarted_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::INFO,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        incarnation = state.incarnation(id.index()),
        "restarted"
    );
}

#[inline(always)]
pub(crate) fn stopping<T>(scope: &Scope<T>, state: &State<T>, id: ChildId, reason: &str) {
    if on(Level::DEBUG) {
        stopping_event(scope, state, id, reason);
    }
}

#[cold]
#[inline(never)]
fn stopping_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId, reason: &str) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::DEBUG,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        reason,
        "stopping"
    );
}

#[inline(always)]
pub(crate) fn force_stopped<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    if on(Level::WARN) {
        force_stopped_event(scope, state, id);
    }
}

#[cold]
#[inline(never)]
fn force_stopped_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::WARN,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        grace_ms = scope.config.grace.as_millis() as u64,
        "force-stopped"
    );
}

#[inline(always)]
pub(crate) fn stopped<T>(scope: &Scope<T>, state: &State<T>, id: ChildId, outcome: &Outcome<T>) {
    if on(Level::DEBUG) {
        stopped_event(scope, state, id, outcome);
    }
}

#[cold]
#[inline(never)]
fn stopped_event<T>(scope: &Scope<T>, state: &State<T>, id: ChildId, outcome: &Outcome<T>) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::DEBUG,
        group = scope.display_name(), id = id.index(), child = child_name(state, id),
        outcome = %outcome.kind(),
        duration_ms = state.times.get(id.index()).and_then(|times| {
            Some(times.stopped?.saturating_duration_since(times.started).as_millis() as u64)
        }),
        "stopped"
    );
}

#[inline(always)]
pub(crate) fn group_stopping<T>(scope: &Scope<T>, reason: StopReason) {
    if on(Level::INFO) {
        group_stopping_event(scope, reason);
    }
}

#[cold]
#[inline(never)]
fn group_stopping_event<T>(scope: &Scope<T>, reason: StopReason) {
    tracing::event!(
        target: TARGET, parent: &scope.span, Level::INFO,
        group = scope.display_name(), reason = reason.as_str(),
        "group stopping"
    );
}

#[inline(always)]
pub(crate) fn group_ended<T>(scope: &Scope<T>, state: &State<T>) {
    if on(Level::INFO) {
        group_ended_event(scope, state);
    }
}

#[cold]
#[inline(never)]
fn group_ended_event<T>(scope: &Scope<T>, state: &State<T>) {
    let duration_ms = match (state.started_at, state.finished_at) {
        (Some(start), Some(end)) => Some(end.saturating_duration_since(start).as_millis() as u64),
        _ => None,
    };
    let counters = &state.counters;
    macro_rules! ended {
        ($level:expr, $outcome:expr) => {
            tracing::event!(
                target: TARGET, parent: &scope.span, $level,
                group = scope.display_name(), outcome = $outcome,
                spawned = counters.spawned, completed = counters.completed,
                failed = counters.failed, restarted = counters.restarted,
                cancelled = counters.cancelled, duration_ms,
                "group ended"
            )
        };
    }
    match scope.error_kind(state) {
        None => ended!(Level::INFO, "completed"),
        Some(GroupErrorKind::Cancelled) => ended!(Level::INFO, "cancelled"),
        Some(kind) => ended!(Level::ERROR, kind.as_str()),
    }
}
