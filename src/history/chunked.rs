//! A list that grows in fixed chunks, for the members' books: growing never
//! moves or frees what it holds.
//!
//! The books grow for the whole run. As one `Vec` they were copied to a buffer
//! twice the size at each doubling, and the old buffer (up to half the list)
//! was freed, which the allocator hands back to the kernel after a few
//! milliseconds: the next allocations then fault fresh pages in again (a
//! quarter more page faults per run at a million claims; docs/performance.md).
//! Chunks of a fixed size are allocated once and kept.

/// Items by index, stored in chunks of [`Chunked::CHUNK`].
#[derive(Debug)]
pub(super) struct Chunked<T> {
    /// Every chunk but the last is full; each has room for `CHUNK` items.
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Items per chunk, a power of two (the index splits by shifts).
    pub(super) const CHUNK: usize = 1 << 12;
    const SHIFT: u32 = Self::CHUNK.trailing_zeros();

    /// The item at `index`.
    #[inline]
    pub(super) fn get(&self, index: usize) -> Option<&T> {
        self.chunks
            .get(index >> Self::SHIFT)?
            .get(index & (Self::CHUNK - 1))
    }

    /// The item at `index`, to change.
    #[inline]
    pub(super) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks
            .get_mut(index >> Self::SHIFT)?
            .get_mut(index & (Self::CHUNK - 1))
    }

    /// Adds an item at the end; returns its index.
    pub(super) fn push(&mut self, item: T) -> usize {
        match self.chunks.last_mut() {
            Some(last) if last.len() < Self::CHUNK => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
        self.len - 1
    }

    /// The number of items.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// True when there are no items.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The items in index order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// Removes every item (and the chunks).
    pub(super) fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_items_by_index_across_chunks_like_a_vec() {
        let mut list = Chunked::default();
        let mut reference = Vec::new();
        let n = Chunked::<u64>::CHUNK * 2 + 7;
        for i in 0..n as u64 {
            assert_eq!(list.push(i * 3), reference.len());
            reference.push(i * 3);
        }
        assert_eq!(list.len(), n);
        assert!(!list.is_empty());
        for (i, want) in reference.iter().enumerate() {
            assert_eq!(list.get(i), Some(want));
        }
        assert_eq!(list.get(n), None);
        assert_eq!(list.get(usize::MAX), None);
        // The first chunk was never moved: an item's address is kept as the
        // list grows (what growing without copying means).
        let first: *const u64 = list.get(0).unwrap_or(&0);
        list.push(1);
        assert_eq!(first, list.get(0).unwrap_or(&0) as *const u64);
        if let Some(x) = list.get_mut(Chunked::<u64>::CHUNK + 1) {
            *x = 99;
        }
        assert_eq!(list.get(Chunked::<u64>::CHUNK + 1), Some(&99));
        assert_eq!(list.iter().count(), n + 1);
        assert!(list
            .iter()
            .take(n)
            .zip(&reference)
            .all(|(a, b)| a == b || *a == 99));
        list.clear();
        assert!(list.is_empty());
        assert_eq!(list.get(0), None);
        assert_eq!(list.push(5), 0);
    }
}
