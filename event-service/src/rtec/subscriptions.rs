//! The subscription tables: which consumers may want an event of a given `(source, type)`,
//! found with a few hash lookups however many consumers want other events.
//!
//! Suppliers read an immutable snapshot (an `Arc` swapped whole when a consumer connects,
//! reconnects or leaves), so every event is matched against one consistent set of
//! subscriptions: a consumer whose subscription does not change is in every snapshot, and
//! never gets an event twice or misses one because another consumer came or went.

use super::filter::Key;
use super::ACE_ES_EVENT_ANY;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::Arc;

/// One snapshot of the tables; `T` is what the channel keeps per consumer.
pub(crate) struct Index<T> {
    exact: HashMap<(i32, i32), Vec<Entry<T>>>,
    by_source: HashMap<i32, Vec<Entry<T>>>,
    by_type: HashMap<i32, Vec<Entry<T>>>,
    all: Vec<Entry<T>>,
    /// Every consumer once, for events that carry wildcards themselves.
    everyone: Vec<Entry<T>>,
}

struct Entry<T> {
    id: u64,
    item: Arc<T>,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Entry {
            id: self.id,
            item: self.item.clone(),
        }
    }
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Index {
            exact: HashMap::new(),
            by_source: HashMap::new(),
            by_type: HashMap::new(),
            all: Vec::new(),
            everyone: Vec::new(),
        }
    }
}

impl<T> Clone for Index<T> {
    fn clone(&self) -> Self {
        Index {
            exact: self.exact.clone(),
            by_source: self.by_source.clone(),
            by_type: self.by_type.clone(),
            all: self.all.clone(),
            everyone: self.everyone.clone(),
        }
    }
}

impl<T> Index<T> {
    /// Calls `f` once for every consumer that may want an event from `source` of type `ty`,
    /// in the order they subscribed; returns how many.
    pub(crate) fn for_each_candidate(
        &self,
        source: i32,
        ty: i32,
        mut f: impl FnMut(&Arc<T>),
    ) -> usize {
        if source == ACE_ES_EVENT_ANY || ty == ACE_ES_EVENT_ANY {
            self.everyone.iter().for_each(|e| f(&e.item));
            return self.everyone.len();
        }
        let lists = [
            self.exact.get(&(source, ty)),
            self.by_type.get(&ty),
            self.by_source.get(&source),
            Some(&self.all),
        ];
        let mut nonempty = lists.iter().flatten().filter(|l| !l.is_empty());
        let first = match nonempty.next() {
            None => return 0,
            Some(l) => l,
        };
        if nonempty.next().is_none() {
            // The common case: one list, no duplicates possible.
            first.iter().for_each(|e| f(&e.item));
            return first.len();
        }
        // A consumer in several lists (a wildcard and an exact subscription, say) gets the
        // event once: merge by id, which is also subscription order.
        let mut merged: Vec<&Entry<T>> = lists.iter().flatten().flat_map(|l| l.iter()).collect();
        merged.sort_by_key(|e| e.id);
        merged.dedup_by_key(|e| e.id);
        merged.iter().for_each(|e| f(&e.item));
        merged.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.everyone.is_empty()
    }

    fn insert(&mut self, id: u64, item: &Arc<T>, keys: &[Key]) {
        let entry = Entry {
            id,
            item: item.clone(),
        };
        for k in keys {
            let list = match *k {
                Key::All => &mut self.all,
                Key::Source(s) => self.by_source.entry(s).or_default(),
                Key::Type(t) => self.by_type.entry(t).or_default(),
                Key::Exact { source, ty } => self.exact.entry((source, ty)).or_default(),
            };
            list.push(entry.clone());
        }
        self.everyone.push(entry);
    }

    fn remove(&mut self, id: u64) {
        let drop_id = |l: &mut Vec<Entry<T>>| l.retain(|e| e.id != id);
        drop_id(&mut self.all);
        drop_id(&mut self.everyone);
        for map in [&mut self.by_source, &mut self.by_type] {
            map.values_mut().for_each(drop_id);
            map.retain(|_, l| !l.is_empty());
        }
        self.exact.values_mut().for_each(drop_id);
        self.exact.retain(|_, l| !l.is_empty());
    }
}

/// The tables as the channel holds them: readers take the current snapshot, writers (one
/// at a time) make the next.
pub(crate) struct Subscriptions<T> {
    current: RwLock<Arc<Index<T>>>,
    writer: Mutex<()>,
}

impl<T> Subscriptions<T> {
    pub(crate) fn new() -> Self {
        Subscriptions {
            current: RwLock::new(Arc::new(Index::default())),
            writer: Mutex::new(()),
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<Index<T>> {
        self.current.read().clone()
    }

    /// Puts consumer `id` in the tables under `keys`, replacing what it had.
    pub(crate) fn set(&self, id: u64, item: &Arc<T>, keys: &[Key]) {
        let _w = self.writer.lock();
        let mut next = (**self.current.read()).clone();
        next.remove(id);
        next.insert(id, item, keys);
        *self.current.write() = Arc::new(next);
    }

    pub(crate) fn remove(&self, id: u64) {
        let _w = self.writer.lock();
        let mut next = (**self.current.read()).clone();
        next.remove(id);
        *self.current.write() = Arc::new(next);
    }

    pub(crate) fn clear(&self) {
        let _w = self.writer.lock();
        *self.current.write() = Arc::new(Index::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(s: &Subscriptions<u32>, source: i32, ty: i32) -> Vec<u32> {
        let mut v = Vec::new();
        s.snapshot().for_each_candidate(source, ty, |c| v.push(**c));
        v
    }

    #[test]
    fn lookups_find_exactly_the_interested() {
        let s = Subscriptions::new();
        s.set(1, &Arc::new(1), &[Key::Exact { source: 1, ty: 20 }]);
        s.set(
            2,
            &Arc::new(2),
            &[Key::Type(20), Key::Exact { source: 1, ty: 20 }],
        );
        s.set(3, &Arc::new(3), &[Key::Source(2)]);
        s.set(4, &Arc::new(4), &[Key::Exact { source: 9, ty: 99 }]);
        assert_eq!(candidates(&s, 1, 20), [1, 2]);
        assert_eq!(candidates(&s, 2, 20), [2, 3]);
        assert_eq!(candidates(&s, 2, 21), [3]);
        assert!(candidates(&s, 5, 5).is_empty());
        // An event with a wildcard may match anyone: every consumer is asked.
        assert_eq!(candidates(&s, 0, 20), [1, 2, 3, 4]);
        s.set(5, &Arc::new(5), &[Key::All]);
        assert_eq!(candidates(&s, 5, 5), [5]);
        s.remove(2);
        assert_eq!(candidates(&s, 1, 20), [1, 5]);
        s.clear();
        assert!(s.snapshot().is_empty());
    }
}
