//! The messages a `GroupSupervisor` answers, from any actor or thread.

pub(crate) mod join;
pub(crate) mod lifecycle;
pub(crate) mod lookup;
pub(crate) mod spawn;
