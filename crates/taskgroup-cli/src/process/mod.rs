//! One job as a real process.
mod spec;
mod stream;

pub use spec::{ProcessSpec, SHELL};
pub use stream::Stream;
