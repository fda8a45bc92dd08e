//! Building a group's live snapshot (R16) from its state: O(children), no waiting.

use tokio::time::Instant;

use crate::engine::scope::{Phase, Scope};
use crate::engine::spec::SnapshotSource;
use crate::snapshot::{ChildSnapshot, ChildState, GroupState, Snapshot};

impl<T> SnapshotSource for Scope<T> {
    fn snapshot(&self) -> Snapshot {
        let state = self.state.borrow();
        let now = Instant::now();
        let timed = self.config.timed;
        let reported = self.final_report.borrow();
        // Once the report is built the state no longer holds the children: the report does.
        let children = match reported.as_deref().filter(|_| state.outcomes.is_empty()) {
            Some(report) => report.children().iter().map(finished_child).collect(),
            None => (0..state.outcomes.len())
                .map(|index| {
                    let spec = state.spec(index);
                    let task = state.children.get(index).and_then(Option::as_ref);
                    let child_state = if let Some(outcome) = &state.outcomes[index] {
                        ChildState::Stopped(outcome.kind())
                    } else if spec.is_some_and(|spec| spec.queued.is_some()) {
                        ChildState::Queued
                    } else if let Some(spec) = spec.filter(|spec| spec.awaiting_restart) {
                        ChildState::Restarting {
                            in_: spec
                                .restarting_until
                                .map(|at| at.saturating_duration_since(now)),
                        }
                    } else if task.is_some_and(|task| task.stop_asked()) {
                        ChildState::Stopping
                    } else if spec.is_some_and(|spec| spec.counted_unready)
                        || task.is_some_and(|task| task.counts_unready())
                        || (index >= state.next_fresh
                            && state.kind(index) == crate::child::ChildKind::Actor)
                    {
                        ChildState::Starting
                    } else {
                        ChildState::Running
                    };
                    let started = spec
                        .and_then(|spec| spec.incarnation_started)
                        .or_else(|| state.times.get(index).map(|times| times.started))
                        .filter(|_| timed);
                    let stopped = state.times.get(index).and_then(|times| times.stopped);
                    let age = started
                        .map(|start| stopped.unwrap_or(now).saturating_duration_since(start));
                    let nested = spec.and_then(|spec| {
                        match spec.nested_view.as_ref().and_then(|view| view.upgrade()) {
                            Some(view) => Some(Box::new(view.snapshot())),
                            None => spec.nested_final.clone(),
                        }
                    });
                    ChildSnapshot {
                        id: crate::child::ChildId::new(index),
                        name: state.name(index).map(|name| name.to_string()),
                        kind: state.kind(index),
                        state: child_state,
                        attempts: spec.map_or(1, |spec| spec.incarnation),
                        age,
                        nested,
                    }
                })
                .collect(),
        };
        Snapshot {
            name: self.config.name.as_deref().map(str::to_owned),
            state: match state.phase {
                Phase::Open => GroupState::Running,
                Phase::Stopping => GroupState::Stopping,
                Phase::Finished => GroupState::Finished,
            },
            policy: self.config.policy,
            strategy: self.config.strategy,
            counters: state.counters,
            deadline_in: state
                .deadline
                .filter(|_| state.phase == Phase::Open)
                .map(|at| at.saturating_duration_since(now)),
            age: state.started_at.filter(|_| timed).map(|start| {
                state
                    .finished_at
                    .unwrap_or(now)
                    .saturating_duration_since(start)
            }),
            children,
        }
    }
}

/// A child of a finished group, from the group's report.
fn finished_child<T>(report: &crate::report::ChildReport<T>) -> ChildSnapshot {
    ChildSnapshot {
        id: report.id(),
        name: report.name().map(str::to_owned),
        kind: report.kind(),
        state: ChildState::Stopped(report.outcome().kind()),
        attempts: report.attempts(),
        age: report.duration(),
        nested: report
            .history
            .as_ref()
            .and_then(|history| history.nested_view.clone()),
    }
}
