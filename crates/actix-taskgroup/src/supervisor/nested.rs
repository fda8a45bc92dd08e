//! Nested groups (R8): a supervisor that is a child of a group. It is an actor child that is
//! never forced at its parent's grace deadline (DESIGN §6), whose end hands its parent its
//! combined result and its own report, whose readiness is its children's, and whose live
//! view joins its parent's snapshot.

use std::rc::{Rc, Weak};
use std::sync::Arc;

use actix::Addr;

use crate::child::{ChildId, ChildKind};
use crate::child_spec::Child;
use crate::engine::scope::{Name, Scope};
use crate::engine::spec::{ChildOptions, ChildSpec, Incarnate, Incarnation, SnapshotSource};
use crate::error::SpawnError;
use crate::outcome::Outcome;
use crate::report::GroupReport;
use crate::supervisor::GroupSupervisor;
use crate::supervisor::actor_child::{ActorChild, Once, Shared};
use crate::supervisor::builder::GroupSupervisorBuilder;
use crate::supervisor::reporter::Reporter;

/// Builds the inner supervisor of one incarnation and ties it to its parent.
fn nested_supervisor<U, T>(
    builder: GroupSupervisorBuilder<U>,
    map: impl FnOnce(Vec<U>) -> T + 'static,
    reporter: Reporter<T>,
) -> GroupSupervisor<U>
where
    U: Clone + 'static,
    T: Default + 'static,
{
    let mut inner = builder.build();
    inner.stop_when_finished();
    let on_end = reporter.clone();
    let view_at_end = Rc::downgrade(inner.scope());
    inner.scope().keep_final_view.set(true);
    inner.on_finish(Box::new(move |report: &GroupReport<U>| {
        on_end.attach_nested(Arc::new(report.summary()));
        if let Some(view) = view_at_end
            .upgrade()
            .and_then(|scope| scope.final_view.take())
        {
            on_end.attach_final_view(view);
        }
        match report.error() {
            None => on_end.complete(map(report.clone().into_result().unwrap_or_default())),
            // Stopped by request with nothing failed: the nested child was cancelled.
            Some(error) if error.is_cancelled() && error.failures().len() == 0 => {
                on_end.report(Outcome::Cancelled)
            }
            Some(error) => on_end.fail(error.clone()),
        }
    }));
    let on_ready = reporter.clone();
    inner.scope().on_ready(Box::new(move || on_ready.ready()));
    let weak: Weak<Scope<U>> = Rc::downgrade(inner.scope());
    let view: Weak<dyn SnapshotSource> = weak;
    reporter.attach_view(view);
    inner
}

/// Makes incarnations of a restartable nested group.
struct NestedMaker<U: 'static, T> {
    builder: Rc<dyn Fn() -> GroupSupervisorBuilder<U>>,
    map: Rc<dyn Fn(Vec<U>) -> T>,
}

impl<U, T> Incarnate<T> for NestedMaker<U, T>
where
    U: Clone + 'static,
    T: Default + 'static,
{
    fn incarnate(&self, incarnation: Incarnation<T>) -> crate::engine::child::BoxedChild<T> {
        let reporter = Reporter {
            scope: incarnation.scope,
            id: incarnation.id,
            incarnation: incarnation.number,
            remote: None,
        };
        let (builder, map) = (Rc::clone(&self.builder), Rc::clone(&self.map));
        let factory: Rc<dyn Fn(Reporter<T>) -> GroupSupervisor<U>> =
            Rc::new(move |reporter: Reporter<T>| {
                let map = Rc::clone(&map);
                nested_supervisor(builder(), move |values| map(values), reporter)
            });
        ActorChild::new(Shared(factory), reporter, ChildKind::Group, false).boxed()
    }
}

impl<T: Default + 'static> Child<T> {
    /// A nested group (R8): each incarnation is a supervisor built from `builder()`. Its
    /// values are mapped into this group's value by `map`; its failure is one failure of this
    /// group that keeps the inner [`GroupError`](crate::GroupError) as a tree, and its report
    /// is kept in its entry ([`ChildReport::nested`](crate::ChildReport::nested)); stopping
    /// this group stops it, and it stops its own children, with its own grace, before it
    /// ends. It is ready once all of its own children are (R15).
    pub fn group<U, B, M>(
        name: impl Into<std::borrow::Cow<'static, str>>,
        builder: B,
        map: M,
    ) -> Self
    where
        U: Clone + 'static,
        B: Fn() -> GroupSupervisorBuilder<U> + 'static,
        M: Fn(Vec<U>) -> T + 'static,
    {
        let maker = NestedMaker {
            builder: Rc::new(builder),
            map: Rc::new(map),
        };
        Child::with_maker(name, ChildKind::Group, Rc::new(maker))
    }
}

impl<T: Default + 'static> Scope<T> {
    /// Accepts a nested group built once from `group`, and returns its address.
    pub(crate) fn spawn_group<U, M>(
        self: &Rc<Self>,
        name: Option<Name>,
        group: GroupSupervisorBuilder<U>,
        map: M,
    ) -> Result<(ChildId, Addr<GroupSupervisor<U>>), SpawnError>
    where
        U: Clone + 'static,
        M: FnOnce(Vec<U>) -> T + 'static,
    {
        let spec = Box::new(ChildSpec::new(ChildOptions::default()));
        let mut address = None;
        let scope = self.me.clone();
        let id = self.spawn_body(name, ChildKind::Group, Some(spec), |id| {
            let reporter = Reporter {
                scope,
                id,
                incarnation: 1,
                remote: None,
            };
            let factory = move |reporter| nested_supervisor(group, map, reporter);
            let child = ActorChild::new(Once(Some(factory)), reporter, ChildKind::Group, false);
            address = child.addr();
            child.boxed()
        })?;
        address
            .map(|address| (id, address))
            .ok_or(SpawnError::Closed)
    }
}
