//! A group's per-child tables (R11): indexed like a `Vec`, grown in chunks that are never
//! moved nor larger than 1,024 entries.
//!
//! Why not a `Vec`: a `Vec` of ten thousand slots is reallocated a dozen times on its way,
//! and its last buffers are large enough for glibc to map fresh pages for each group and
//! return them when it ends. Measured on a group of 10,000 trivial children (`cargo bench
//! --bench peers`), those page faults and copies were a third of a child's whole cost, which
//! a `FuturesUnordered` (one small allocation per child, reused) never pays
//! (docs/PERFORMANCE.md). Chunks of at most 1,024 entries come from the allocator's free lists
//! instead, and a small group still starts with a chunk of 16.

use std::ops::{Index, IndexMut};

/// Entries in the first chunk; each next one doubles, up to `LAST`.
const FIRST_BITS: u32 = 4;
/// Entries in every chunk from the seventh on.
const LAST_BITS: u32 = 10;
const LAST: usize = 1 << LAST_BITS;
/// Entries held by the growing chunks (16 + 32 + … + 512).
const GROWING: usize = LAST - (1 << FIRST_BITS);
const GROWING_CHUNKS: usize = (LAST_BITS - FIRST_BITS) as usize;

pub(crate) struct Slots<E> {
    chunks: Vec<Vec<E>>,
    len: usize,
}

/// The chunk and the offset in it of entry `index`.
#[inline]
fn locate(index: usize) -> (usize, usize) {
    if index < GROWING {
        let shifted = index + (1 << FIRST_BITS);
        let bits = usize::BITS - 1 - shifted.leading_zeros();
        ((bits - FIRST_BITS) as usize, shifted - (1 << bits))
    } else {
        let rest = index - GROWING;
        (GROWING_CHUNKS + (rest >> LAST_BITS), rest & (LAST - 1))
    }
}

/// How many entries chunk `chunk` holds.
fn chunk_size(chunk: usize) -> usize {
    if chunk < GROWING_CHUNKS {
        1 << (FIRST_BITS as usize + chunk)
    } else {
        LAST
    }
}

impl<E> Slots<E> {
    pub(crate) const fn new() -> Self {
        Slots {
            chunks: Vec::new(),
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub(crate) fn push(&mut self, entry: E) {
        let (chunk, _) = locate(self.len);
        if chunk == self.chunks.len() {
            self.chunks.push(Vec::with_capacity(chunk_size(chunk)));
        }
        self.chunks[chunk].push(entry);
        self.len += 1;
    }

    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&E> {
        if index >= self.len {
            return None;
        }
        let (chunk, offset) = locate(index);
        self.chunks.get(chunk)?.get(offset)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut E> {
        if index >= self.len {
            return None;
        }
        let (chunk, offset) = locate(index);
        self.chunks.get_mut(chunk)?.get_mut(offset)
    }

    /// Grows to `len` entries made by `fill` (never shrinks).
    pub(crate) fn resize_with(&mut self, len: usize, mut fill: impl FnMut() -> E) {
        while self.len < len {
            self.push(fill());
        }
    }

    /// The entries in index order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &E> {
        self.chunks.iter().flatten()
    }
}

impl<E> Default for Slots<E> {
    fn default() -> Self {
        Slots::new()
    }
}

impl<E> Index<usize> for Slots<E> {
    type Output = E;

    #[inline]
    fn index(&self, index: usize) -> &E {
        let (chunk, offset) = locate(index);
        &self.chunks[chunk][offset]
    }
}

impl<E> IndexMut<usize> for Slots<E> {
    #[inline]
    fn index_mut(&mut self, index: usize) -> &mut E {
        let (chunk, offset) = locate(index);
        &mut self.chunks[chunk][offset]
    }
}

impl<E> IntoIterator for Slots<E> {
    type Item = E;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<E>>>;

    /// The entries in index order.
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_their_index_across_every_chunk_boundary() {
        let mut slots = Slots::new();
        let n = GROWING + 3 * LAST + 5;
        for i in 0..n {
            slots.push(i);
            assert_eq!(slots.len(), i + 1);
        }
        for i in 0..n {
            assert_eq!(slots[i], i);
            assert_eq!(slots.get(i), Some(&i));
        }
        assert_eq!(slots.get(n), None);
        slots[GROWING] = 7;
        *slots.get_mut(GROWING - 1).unwrap() = 8;
        assert_eq!((slots[GROWING], slots[GROWING - 1]), (7, 8));
        let all: Vec<usize> = slots.into_iter().collect();
        assert_eq!(all.len(), n);
        assert_eq!(&all[..3], &[0, 1, 2]);
        assert_eq!(all[n - 1], n - 1);
    }

    #[test]
    fn no_chunk_is_ever_larger_than_the_last_size_nor_reallocated() {
        let mut slots = Slots::new();
        for i in 0..GROWING + 2 * LAST {
            slots.push(i);
        }
        for (chunk, entries) in slots.chunks.iter().enumerate() {
            assert_eq!(entries.len(), chunk_size(chunk));
            assert!(entries.capacity() <= LAST);
        }
        assert_eq!(slots.chunks[0].capacity(), 1 << FIRST_BITS);
    }
}
