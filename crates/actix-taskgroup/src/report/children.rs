//! A report's entries: owned by whoever took a group's result, or shared by every asker of a
//! supervisor.
//!
//! A supervisor keeps its report for askers that come after the end and hands each asker one
//! of its own (R9). Copying a thousand entries per asker cost more than a thousand actor
//! children's whole lives bar their contexts (the copy is one large allocation, which glibc
//! places on freshly mapped pages each time: docs/PERFORMANCE.md). So a supervisor's report
//! shares its entries: an asker that reads them pays nothing, and one that takes them apart
//! (`into_children`, `into_result`) gets its own copy only if the supervisor still holds the
//! entries, and then of the values only.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::report::ChildReport;

pub(crate) struct Children<T>(Repr<T>);

enum Repr<T> {
    Owned(Vec<ChildReport<T>>),
    /// `clone_value` is `T::clone`, kept from where `T: Clone` was known, so that the
    /// entries can be taken apart by a caller with no `Clone` bound at hand.
    Shared {
        entries: Arc<Vec<ChildReport<T>>>,
        clone_value: fn(&T) -> T,
    },
}

impl<T> Children<T> {
    pub(crate) fn owned(entries: Vec<ChildReport<T>>) -> Self {
        Children(Repr::Owned(entries))
    }

    /// From now on a clone of the report shares the entries instead of copying them.
    pub(crate) fn share(&mut self, clone_value: fn(&T) -> T) {
        if let Repr::Owned(entries) = &mut self.0 {
            let entries = Arc::new(std::mem::take(entries));
            self.0 = Repr::Shared {
                entries,
                clone_value,
            };
        }
    }

    /// An entry to change: the report's own, or shared entries no one else holds.
    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut ChildReport<T>> {
        match &mut self.0 {
            Repr::Owned(entries) => entries.get_mut(index),
            Repr::Shared { entries, .. } => Arc::get_mut(entries)?.get_mut(index),
        }
    }

    /// The entries, copied out of shared ones only if someone else still holds them.
    pub(crate) fn into_vec(self) -> Vec<ChildReport<T>> {
        match self.0 {
            Repr::Owned(entries) => entries,
            Repr::Shared {
                entries,
                clone_value,
            } => Arc::try_unwrap(entries).unwrap_or_else(|shared| {
                shared
                    .iter()
                    .map(|entry| entry.clone_with(clone_value))
                    .collect()
            }),
        }
    }

    /// The values of the entries `keep` selects, in order, copied only as `into_vec` says.
    pub(crate) fn into_values(self, keep: impl Fn(&ChildReport<T>) -> bool) -> Vec<T> {
        match self.0 {
            Repr::Shared {
                entries,
                clone_value,
            } if Arc::strong_count(&entries) > 1 => entries
                .iter()
                .filter(|entry| keep(entry))
                .filter_map(|entry| entry.outcome.value().map(clone_value))
                .collect(),
            repr => Children(repr)
                .into_vec()
                .into_iter()
                .filter(|entry| keep(entry))
                .filter_map(|entry| entry.outcome.into_value())
                .collect(),
        }
    }
}

impl<T> Deref for Children<T> {
    type Target = [ChildReport<T>];

    fn deref(&self) -> &[ChildReport<T>] {
        match &self.0 {
            Repr::Owned(entries) => entries,
            Repr::Shared { entries, .. } => entries,
        }
    }
}

impl<T: Clone> Clone for Children<T> {
    fn clone(&self) -> Self {
        Children(match &self.0 {
            Repr::Owned(entries) => Repr::Owned(entries.clone()),
            Repr::Shared {
                entries,
                clone_value,
            } => Repr::Shared {
                entries: Arc::clone(entries),
                clone_value: *clone_value,
            },
        })
    }
}

impl<T: fmt::Debug> fmt::Debug for Children<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::ChildId;
    use crate::outcome::Outcome;

    fn entries() -> Vec<ChildReport<String>> {
        vec![
            ChildReport::new(ChildId::new(0), None, Outcome::Completed("a".to_owned())),
            ChildReport::new(ChildId::new(1), None, Outcome::Cancelled),
        ]
    }

    #[test]
    fn a_clone_of_shared_entries_is_the_same_entries_not_a_copy() {
        let mut children = Children::owned(entries());
        children.share(String::clone);
        let copy = children.clone();
        assert!(std::ptr::eq(children.as_ptr(), copy.as_ptr()));
        assert_eq!(copy.len(), 2);
    }

    #[test]
    fn shared_entries_taken_apart_while_held_elsewhere_are_copied_and_both_stay_whole() {
        let mut children = Children::owned(entries());
        children.share(String::clone);
        let kept = children.clone();
        assert_eq!(children.into_values(|_| true), ["a"]);
        assert_eq!(kept[0].outcome().value().map(String::as_str), Some("a"));
        let taken = kept.clone().into_vec();
        assert_eq!(taken.len(), 2);
        assert_eq!(kept.len(), 2);
    }

    #[test]
    fn shared_entries_held_by_one_alone_are_moved_out() {
        let mut children = Children::owned(entries());
        children.share(String::clone);
        let address = children.as_ptr();
        let taken = children.into_vec();
        assert!(std::ptr::eq(taken.as_ptr(), address));
    }

    #[test]
    fn shared_entries_held_elsewhere_cannot_be_changed_in_place() {
        let mut children = Children::owned(entries());
        children.share(String::clone);
        let kept = children.clone();
        assert!(children.get_mut(0).is_none());
        drop(kept);
        assert!(children.get_mut(0).is_some());
    }
}
