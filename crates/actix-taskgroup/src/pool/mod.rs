//! Beyond one thread: a group whose children spread over a pool of arbiters, with the same
//! guarantees (issue 20).
//!
//! A group stays on its own arbiter (its *home*). On each pool arbiter it has one *shard*: an
//! engine scope of its own that builds the children it is sent there (they may be `!Send`)
//! and polls them with its one driver — no task per child. Between home and each shard, two
//! mailboxes: launches and orders (stop, drop) go out, ends, readiness and addresses come
//! back, each way in batches with one wake per batch (`mailbox.rs`). Home gives each end to
//! its scope directly (`Scope::end_afar`), so a remote child needs no waker at home: a
//! described child (`Child::send_*`) has a stand-in body there (`proxy.rs`), a `spawn_send`
//! child only its slot (`ChildTask::remote`). Restarts, limits, deadlines, readiness and the
//! report are the home group's, so they cover the whole pool unchanged. A child's end is sent
//! home only once it is gone over there (at the grace deadline its shard is told to drop it),
//! so the group's reply still comes after every child on every arbiter has stopped (R1). No
//! lock is held across a poll, and a signal across threads is only ever a post and a wake.

pub(crate) mod binding;
pub(crate) mod child;
pub(crate) mod line;
pub(crate) mod mailbox;
pub(crate) mod proxy;
pub(crate) mod shard;
pub(crate) mod spawn_send;
pub(crate) mod wire;

use std::fmt;
use std::sync::Arc;

use actix_rt::{Arbiter, ArbiterHandle};

/// How a group places each child spread over a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Placement {
    /// Each arbiter in turn.
    #[default]
    RoundRobin,
    /// The arbiter with the fewest of this group's children running now.
    LeastLoaded,
}

/// A pool of arbiters (threads with an actix event loop each) that groups can spread their
/// children over ([`spread_over`](crate::TaskGroupBuilder::spread_over)).
///
/// ```
/// use actix_taskgroup::{ArbiterPool, Child, Placement, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let pool = ArbiterPool::new(2);
/// let group = TaskGroup::<u64>::builder().spread_over(&pool, Placement::RoundRobin).build();
/// for n in 0..4u64 {
///     // A `Send` factory; the future it makes runs on a pool arbiter and may be `!Send`.
///     group.spawn_child(Child::send_future("square", move || async move {
///         Ok::<_, anyhow::Error>(n * n)
///     })).unwrap();
/// }
/// assert_eq!(group.join().await.unwrap(), [0, 1, 4, 9]);
/// # });
/// ```
#[derive(Clone)]
pub struct ArbiterPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    handles: Vec<ArbiterHandle>,
    /// Arbiters the pool started itself: stopped when the last clone of the pool goes.
    owned: Vec<Arbiter>,
}

impl ArbiterPool {
    /// A pool of `arbiters` new arbiters (at least one), each on its own thread. They stop
    /// when the last clone of the pool is dropped.
    pub fn new(arbiters: usize) -> Self {
        let owned: Vec<Arbiter> = (0..arbiters.max(1)).map(|_| Arbiter::new()).collect();
        let handles = owned.iter().map(Arbiter::handle).collect();
        ArbiterPool {
            inner: Arc::new(PoolInner { handles, owned }),
        }
    }

    /// One new arbiter per core.
    pub fn per_core() -> Self {
        ArbiterPool::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// A pool of arbiters you already have (an actix-web server's workers, say). They are
    /// not stopped by the pool. An empty list makes a pool of one new arbiter.
    pub fn from_handles(handles: Vec<ArbiterHandle>) -> Self {
        if handles.is_empty() {
            return ArbiterPool::new(1);
        }
        ArbiterPool {
            inner: Arc::new(PoolInner {
                handles,
                owned: Vec::new(),
            }),
        }
    }

    /// How many arbiters the pool has.
    pub fn len(&self) -> usize {
        self.inner.handles.len()
    }

    /// Never: a pool has at least one arbiter.
    pub fn is_empty(&self) -> bool {
        self.inner.handles.is_empty()
    }

    /// The pool's arbiters.
    pub fn handles(&self) -> &[ArbiterHandle] {
        &self.inner.handles
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        for arbiter in &self.owned {
            arbiter.stop();
        }
    }
}

impl fmt::Debug for ArbiterPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArbiterPool")
            .field("arbiters", &self.len())
            .finish()
    }
}

/// A group's choice of pool and placement, in its settings.
#[derive(Clone, Debug)]
pub(crate) struct Spread {
    pub(crate) pool: ArbiterPool,
    pub(crate) placement: Placement,
}
