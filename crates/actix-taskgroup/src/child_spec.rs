//! `Child`: a child described before it is spawned — how to make it (again), and how the
//! group treats it.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::rc::Rc;
use std::time::Duration;

use crate::child::ChildKind;
use crate::control::ChildControl;
use crate::engine::spec::{ChildOptions, ChildSpec, Incarnate, Incarnation};
use crate::future_child::{FutureMaker, GracefulMaker};
use crate::policy::Restart;

/// A child described before it is spawned: a factory, called once per incarnation, and the
/// options that say how its group treats it. Give it to a supervisor's builder
/// ([`child`](crate::GroupSupervisorBuilder::child)), to a running group
/// ([`TaskGroup::spawn_child`](crate::TaskGroup::spawn_child),
/// [`GroupHandle::spawn_child`](crate::GroupHandle::spawn_child)), or by message
/// ([`SpawnChild`](crate::SpawnChild)).
///
/// ```
/// use actix_taskgroup::{Backoff, Child, Restart, TaskGroup};
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// # actix_rt::System::new().block_on(async {
/// // A retrying fan-out: each fetch is tried up to three times.
/// let group = TaskGroup::<u32>::builder()
///     .backoff(Backoff::exponential(Duration::from_millis(10)))
///     .build();
/// let tries = Rc::new(Cell::new(0));
/// let counter = Rc::clone(&tries);
/// group.spawn_child(
///     Child::future("flaky fetch", move || {
///         let tries = Rc::clone(&counter);
///         async move {
///             tries.set(tries.get() + 1);
///             anyhow::ensure!(tries.get() >= 3, "connection reset");
///             Ok(200)
///         }
///     })
///     .restart(Restart::Transient)
///     .attempts(3),
/// ).unwrap();
/// assert_eq!(group.join().await.unwrap(), [200]);
/// assert_eq!(tries.get(), 3);
/// # });
/// ```
pub struct Child<T> {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) kind: ChildKind,
    pub(crate) options: ChildOptions,
    pub(crate) maker: Rc<dyn Incarnate<T>>,
}

impl<T: 'static> Child<T> {
    /// A future child: `factory` makes the future of each incarnation.
    pub fn future<F, Fut, E>(name: impl Into<Cow<'static, str>>, factory: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        Child::with_maker(
            name,
            ChildKind::Future,
            Rc::new(FutureMaker(Rc::new(factory))),
        )
    }

    /// A future child given a [`ChildControl`]: it can signal readiness, and when its group
    /// stops it, it is told ([`ChildControl::stop_requested`]) and given the grace period to
    /// finish instead of being dropped at once.
    pub fn future_with<F, Fut, E>(name: impl Into<Cow<'static, str>>, factory: F) -> Self
    where
        F: Fn(ChildControl) -> Fut + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        Child::with_maker(
            name,
            ChildKind::Future,
            Rc::new(GracefulMaker(Rc::new(factory))),
        )
    }

    pub(crate) fn with_maker(
        name: impl Into<Cow<'static, str>>,
        kind: ChildKind,
        maker: Rc<dyn Incarnate<T>>,
    ) -> Self {
        Child {
            name: Some(name.into()),
            kind,
            options: ChildOptions::default(),
            maker,
        }
    }

    /// When the child is started again (R12; default [`Restart::Temporary`]: never).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.options.restart = restart;
        self
    }

    /// At most `attempts` incarnations (at least 1); after that, the child's last failure is
    /// its outcome, an ordinary failure (Akka's `maxNrOfRetries`, GNU parallel's
    /// `--retries`). With the default temporary restart type, more than one attempt makes
    /// the child transient: a failure is retried.
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.options.max_attempts = NonZeroU32::new(attempts.max(1));
        self
    }

    /// The child is best-effort: its failure is recorded in the report and triggers
    /// nothing; the group's result stays `Ok` (§3).
    pub fn best_effort(mut self) -> Self {
        self.options.best_effort = true;
        self
    }

    /// The child is a service: under [`EndCondition::WhenMainDone`](crate::EndCondition)
    /// it runs beside the others and is stopped, `Cancelled`, once they have all ended.
    pub fn service(mut self) -> Self {
        self.options.service = true;
        self
    }

    /// Each incarnation may run this long; then it is stopped and `TimedOut`, a failure
    /// that triggers the policy, or a restart (R13). Time queued or in backoff does not
    /// count.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// The child says when it is ready (R15), through its [`ChildControl`] or its
    /// [`Reporter`](crate::Reporter), instead of being ready once started.
    pub fn signals_ready(mut self) -> Self {
        self.options.signals_ready = true;
        self
    }

    /// An actor child stops once every address to it other than its group's is gone (the
    /// plain actix behaviour). By default the group holds an address of its own, so an idle
    /// actor runs until it stops itself or its group stops it (DESIGN §6).
    pub fn stop_when_unaddressed(mut self) -> Self {
        self.options.stop_when_unaddressed = true;
        self
    }

    /// The child's name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl<T> fmt::Debug for Child<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> crate::engine::scope::Scope<T> {
    /// Accepts a child described by a [`Child`]: only a child that needs it gets a spec.
    pub(crate) fn spawn_child(
        self: &Rc<Self>,
        child: Child<T>,
    ) -> Result<crate::child::ChildId, crate::error::SpawnError> {
        let Child {
            name,
            kind,
            options,
            maker,
        } = child;
        let needs_spec = !options.is_plain() || kind == ChildKind::Group;
        let spec = needs_spec.then(|| {
            let mut spec = ChildSpec::new(options);
            spec.maker = Some(Rc::clone(&maker));
            Box::new(spec)
        });
        let scope = self.me.clone();
        self.spawn_body(name, kind, spec, |id| {
            maker.incarnate(Incarnation {
                scope,
                id,
                number: 1,
                options,
            })
        })
    }
}
