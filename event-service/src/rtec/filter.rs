//! A consumer's filter: the tree its `ConsumerQOS` dependencies describe, compiled once when
//! it connects (TAO's `EC_Basic_Filter_Builder` and `EC_Prefix_Filter_Builder`), and the
//! small mutable state correlation needs (which members of each conjunction have arrived).
//!
//! Semantics are TAO's: a type filter's wildcards work both ways (a subscription or an event
//! with source or type [`ACE_ES_EVENT_ANY`] matches any), a conjunction hands its consumer
//! the set of every member's event once all have arrived, a negation passes what its child
//! refuses, a logical-and what all its children accept, a bitmask filter screens events for
//! its child, a masked-type filter compares masked values, and after every delivery the whole
//! tree is cleared (conjunctions start over, deadline timers are re-armed).
//!
//! Never panics on a QOS: a malformed one is a [`QosError`] (the channel answers `TypeError`).

use super::{
    ACE_ES_BITMASK_DESIGNATOR, ACE_ES_CONJUNCTION_DESIGNATOR, ACE_ES_DISJUNCTION_DESIGNATOR,
    ACE_ES_EVENT_ANY, ACE_ES_EVENT_DEADLINE_TIMEOUT, ACE_ES_EVENT_INTERVAL_TIMEOUT,
    ACE_ES_EVENT_TIMEOUT, ACE_ES_GLOBAL_DESIGNATOR, ACE_ES_LOGICAL_AND_DESIGNATOR,
    ACE_ES_MASKED_TYPE_DESIGNATOR, ACE_ES_NEGATION_DESIGNATOR, ACE_ES_NULL_DESIGNATOR,
};
use crate::rtec::idl::rtec_event_channel_admin::ConsumerQos;
use crate::rtec::idl::rtec_event_comm::{Event, EventHeader};

/// How group designators say how many children they have (`-ECFiltering`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilteringMode {
    /// Every consumer gets every event (TAO's null filter builder).
    Null,
    /// TAO's basic builder: a group runs until the next group designator, so groups do not
    /// nest.
    Basic,
    /// TAO's prefix builder: a group designator's `source` is its number of children, so
    /// groups nest to any depth.
    Prefix,
}

/// Why a `ConsumerQOS` was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QosError {
    #[error("the QOS has no dependencies")]
    Empty,
    #[error("dependency {at}: a designator needs {needed} more dependencies than the QOS has")]
    Truncated { at: usize, needed: usize },
    #[error("dependency {at}: a group of {count} children is impossible here")]
    BadCount { at: usize, count: i32 },
    #[error("dependency {at}: groups nested deeper than {MAX_DEPTH}")]
    TooDeep { at: usize },
    #[error("dependency {at}: a timeout of period 0")]
    ZeroPeriod { at: usize },
}

/// Deeper nesting than any real QOS, and shallow enough that building (which recurses) never
/// exhausts a thread's stack whatever a remote client sends.
pub const MAX_DEPTH: usize = 64;

/// A timeout designator: TAO's `ACE_ES_EVENT_TIMEOUT` (once), `..._INTERVAL_TIMEOUT`
/// (periodic) or `..._DEADLINE_TIMEOUT` (periodic, re-armed by each delivery).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutSpec {
    pub kind: i32,
    /// In TimeBase units (100 ns), from the designator's `creation_time`.
    pub period: u64,
}

#[derive(Debug)]
pub(crate) enum Node {
    Type {
        source: i32,
        ty: i32,
    },
    Conjunction {
        slot: usize,
        children: Vec<Node>,
    },
    Disjunction(Vec<Node>),
    And(Vec<Node>),
    Negation(Box<Node>),
    Bitmask {
        source_mask: u32,
        type_mask: u32,
        child: Box<Node>,
    },
    Masked {
        source_mask: u32,
        type_mask: u32,
        source_value: u32,
        type_value: u32,
    },
    Null,
    Timeout {
        slot: usize,
    },
}

/// Where an event may be found in the subscription tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Key {
    /// Any event may match (wildcards on both, masks, negations, the null filter).
    All,
    Source(i32),
    Type(i32),
    Exact {
        source: i32,
        ty: i32,
    },
}

/// A compiled filter: the tree, and what the channel needs to know about it.
#[derive(Debug)]
pub(crate) struct Filter {
    root: Node,
    /// Members of each conjunction, by slot.
    conjunctions: Vec<usize>,
    pub timeouts: Vec<TimeoutSpec>,
    /// Every subscription table entry the consumer belongs in (sorted, no duplicates).
    pub keys: Vec<Key>,
    /// `(source, type)` of every type filter: what an observer is told.
    pub headers: Vec<(i32, i32)>,
}

/// What a node hands its parent.
enum Up {
    /// Matched, nothing to pass up yet (a conjunction still waiting).
    Held,
    /// The event itself.
    Single,
    /// A completed conjunction's events.
    Set(Vec<Event>),
}

/// One event going through a tree: a supplier's, or the timeout of the tree's timer `timer`.
pub(crate) struct Input<'a> {
    pub event: &'a Event,
    pub timer: Option<usize>,
}

/// What the consumer is to be given.
pub(crate) enum Output {
    /// The event that came in.
    Single,
    /// A correlated set.
    Set(Vec<Event>),
}

/// A filter's mutable state: per conjunction, which members have arrived and their events.
#[derive(Debug, Default)]
pub(crate) struct FilterState {
    conj: Vec<Conj>,
}

#[derive(Debug, Default)]
struct Conj {
    got: Vec<bool>,
    missing: usize,
    events: Vec<Event>,
}

impl Filter {
    /// Compiles `qos` (TAO's builders; see [`FilteringMode`]). Top-level entries after the
    /// first complete filter are or-ed with it, as if under a disjunction: a QOS made by hand
    /// without a leading designator means "any of these" to its author.
    pub(crate) fn build(qos: &ConsumerQos, mode: FilteringMode) -> Result<Filter, QosError> {
        let deps: Vec<&EventHeader> = qos.dependencies.iter().map(|d| &d.event.header).collect();
        if deps.is_empty() {
            return Err(QosError::Empty);
        }
        let mut b = Builder {
            deps: &deps,
            mode,
            pos: 0,
            conjunctions: Vec::new(),
            timeouts: Vec::new(),
        };
        let root = if mode == FilteringMode::Null {
            Node::Null
        } else {
            let mut roots = Vec::new();
            while b.pos < deps.len() {
                roots.push(b.node(0)?);
            }
            if roots.len() == 1 {
                roots.pop().unwrap_or(Node::Null)
            } else {
                Node::Disjunction(roots)
            }
        };
        let mut keys = Vec::new();
        let mut headers = Vec::new();
        collect_keys(&root, &mut keys, &mut headers);
        keys.sort();
        keys.dedup();
        if keys.contains(&Key::All) {
            keys = vec![Key::All];
        }
        headers.sort();
        headers.dedup();
        Ok(Filter {
            root,
            conjunctions: b.conjunctions,
            timeouts: b.timeouts,
            keys,
            headers,
        })
    }

    pub(crate) fn new_state(&self) -> FilterState {
        FilterState {
            conj: self
                .conjunctions
                .iter()
                .map(|&n| Conj {
                    got: vec![false; n],
                    missing: n,
                    events: Vec::with_capacity(n),
                })
                .collect(),
        }
    }

    /// Runs `input` through the tree; what the consumer gets, if anything. The caller clears
    /// `state` after delivering (as TAO's proxy does after each push).
    pub(crate) fn filter(&self, input: &Input<'_>, state: &mut FilterState) -> Option<Output> {
        match eval(&self.root, input, state)? {
            Up::Held => None,
            Up::Single => Some(Output::Single),
            Up::Set(v) => Some(Output::Set(v)),
        }
    }
}

impl FilterState {
    /// Every conjunction starts over.
    pub(crate) fn clear(&mut self) {
        for c in &mut self.conj {
            c.got.iter_mut().for_each(|g| *g = false);
            c.missing = c.got.len();
            c.events.clear();
        }
    }
}

/// TAO's `EC_Type_Filter::can_match`: zero is a wildcard on either side.
fn type_matches(source: i32, ty: i32, h: &EventHeader) -> bool {
    let any = ACE_ES_EVENT_ANY;
    (source == any || h.source == any || source == h.source)
        && (ty == any || h.r#type == any || ty == h.r#type)
}

fn eval(node: &Node, input: &Input<'_>, st: &mut FilterState) -> Option<Up> {
    let h = &input.event.header;
    match node {
        Node::Type { source, ty } => type_matches(*source, *ty, h).then_some(Up::Single),
        Node::Null => Some(Up::Single),
        Node::Timeout { slot } => (input.timer == Some(*slot)).then_some(Up::Single),
        Node::Disjunction(children) => children.iter().find_map(|c| eval(c, input, st)),
        Node::And(children) => {
            // Every child sees the event (a child conjunction records it) before the verdict.
            let mut all = true;
            for c in children {
                all &= eval(c, input, st).is_some();
            }
            all.then_some(Up::Single)
        }
        Node::Negation(child) => match eval(child, input, st) {
            Some(_) => None,
            None => Some(Up::Single),
        },
        Node::Bitmask {
            source_mask,
            type_mask,
            child,
        } => {
            if (h.r#type as u32) & type_mask == 0 || (h.source as u32) & source_mask == 0 {
                return None;
            }
            eval(child, input, st)
        }
        Node::Masked {
            source_mask,
            type_mask,
            source_value,
            type_value,
        } => ((h.r#type as u32) & type_mask == *type_value
            && (h.source as u32) & source_mask == *source_value)
            .then_some(Up::Single),
        Node::Conjunction { slot, children } => {
            let (i, up) = children
                .iter()
                .enumerate()
                .find_map(|(i, c)| eval(c, input, st).map(|u| (i, u)))?;
            let conj = &mut st.conj[*slot];
            // A member that arrives again before the others keeps its first event (TAO).
            if conj.got[i] {
                return Some(Up::Held);
            }
            match up {
                Up::Held => return Some(Up::Held),
                Up::Single => conj.events.push(input.event.clone()),
                Up::Set(v) => conj.events.extend(v),
            }
            conj.got[i] = true;
            conj.missing -= 1;
            if conj.missing > 0 {
                return Some(Up::Held);
            }
            Some(Up::Set(std::mem::take(&mut conj.events)))
        }
    }
}

fn collect_keys(node: &Node, keys: &mut Vec<Key>, headers: &mut Vec<(i32, i32)>) {
    match node {
        Node::Type { source, ty } => {
            headers.push((*source, *ty));
            keys.push(
                match (*source == ACE_ES_EVENT_ANY, *ty == ACE_ES_EVENT_ANY) {
                    (true, true) => Key::All,
                    (true, false) => Key::Type(*ty),
                    (false, true) => Key::Source(*source),
                    (false, false) => Key::Exact {
                        source: *source,
                        ty: *ty,
                    },
                },
            )
        }
        // Which events these pass cannot be told from a (source, type) pair.
        Node::Null | Node::Negation(_) | Node::Masked { .. } => keys.push(Key::All),
        // A bitmask only narrows its child: the child's keys are a superset.
        Node::Bitmask { child, .. } => collect_keys(child, keys, headers),
        Node::Timeout { .. } => {}
        Node::Conjunction { children, .. } | Node::Disjunction(children) | Node::And(children) => {
            for c in children {
                collect_keys(c, keys, headers);
            }
        }
    }
}

struct Builder<'q> {
    deps: &'q [&'q EventHeader],
    mode: FilteringMode,
    pos: usize,
    conjunctions: Vec<usize>,
    timeouts: Vec<TimeoutSpec>,
}

impl Builder<'_> {
    fn take(&mut self, at: usize, needed: usize) -> Result<&EventHeader, QosError> {
        let h = self
            .deps
            .get(self.pos)
            .ok_or(QosError::Truncated { at, needed })?;
        self.pos += 1;
        Ok(h)
    }

    fn node(&mut self, depth: usize) -> Result<Node, QosError> {
        let at = self.pos;
        if depth > MAX_DEPTH {
            return Err(QosError::TooDeep { at });
        }
        let h = self.take(at, 1)?;
        let (ty, source, period) = (h.r#type, h.source, h.creation_time);
        Ok(match ty {
            ACE_ES_CONJUNCTION_DESIGNATOR => {
                let children = self.group(at, source, depth)?;
                self.conjunctions.push(children.len());
                Node::Conjunction {
                    slot: self.conjunctions.len() - 1,
                    children,
                }
            }
            ACE_ES_DISJUNCTION_DESIGNATOR | ACE_ES_GLOBAL_DESIGNATOR => {
                Node::Disjunction(self.group(at, source, depth)?)
            }
            ACE_ES_LOGICAL_AND_DESIGNATOR => Node::And(self.group(at, source, depth)?),
            ACE_ES_NEGATION_DESIGNATOR => Node::Negation(Box::new(self.node(depth + 1)?)),
            ACE_ES_BITMASK_DESIGNATOR => {
                let m = self.take(at, 2)?;
                let (source_mask, type_mask) = (m.source as u32, m.r#type as u32);
                Node::Bitmask {
                    source_mask,
                    type_mask,
                    child: Box::new(self.node(depth + 1)?),
                }
            }
            ACE_ES_MASKED_TYPE_DESIGNATOR => {
                let m = self.take(at, 2)?;
                let (source_mask, type_mask) = (m.source as u32, m.r#type as u32);
                let v = self.take(at, 1)?;
                Node::Masked {
                    source_mask,
                    type_mask,
                    source_value: v.source as u32,
                    type_value: v.r#type as u32,
                }
            }
            ACE_ES_NULL_DESIGNATOR => Node::Null,
            ACE_ES_EVENT_TIMEOUT
            | ACE_ES_EVENT_INTERVAL_TIMEOUT
            | ACE_ES_EVENT_DEADLINE_TIMEOUT => {
                if period == 0 {
                    return Err(QosError::ZeroPeriod { at });
                }
                self.timeouts.push(TimeoutSpec { kind: ty, period });
                Node::Timeout {
                    slot: self.timeouts.len() - 1,
                }
            }
            _ => Node::Type { source, ty },
        })
    }

    /// The children of the group whose designator was at `at` (just consumed).
    fn group(&mut self, at: usize, source: i32, depth: usize) -> Result<Vec<Node>, QosError> {
        let n = match self.mode {
            FilteringMode::Prefix => {
                let left = self.deps.len() - self.pos;
                // Each child takes at least one dependency: more is impossible, and refusing
                // it here keeps a hostile count from sizing anything.
                if source <= 0 || source as usize > left {
                    return Err(QosError::BadCount { at, count: source });
                }
                source as usize
            }
            _ => self.count_children(),
        };
        if n == 0 {
            return Err(QosError::BadCount { at, count: 0 });
        }
        (0..n).map(|_| self.node(depth + 1)).collect()
    }

    /// TAO's basic builder: the children run to the next group designator; bitmasks take one
    /// more entry, masked types two, a negation its operand.
    fn count_children(&self) -> usize {
        let mut i = self.pos;
        let mut n = 0;
        let skip = |t: i32| match t {
            ACE_ES_BITMASK_DESIGNATOR => 1,
            ACE_ES_MASKED_TYPE_DESIGNATOR => 2,
            _ => 0,
        };
        while let Some(h) = self.deps.get(i) {
            match h.r#type {
                ACE_ES_CONJUNCTION_DESIGNATOR
                | ACE_ES_DISJUNCTION_DESIGNATOR
                | ACE_ES_GLOBAL_DESIGNATOR
                | ACE_ES_LOGICAL_AND_DESIGNATOR => break,
                ACE_ES_NEGATION_DESIGNATOR => {
                    i += 1;
                    i += self.deps.get(i).map_or(0, |o| skip(o.r#type));
                }
                t => i += skip(t),
            }
            i += 1;
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtec::ConsumerQosBuilder;

    fn event(source: i32, ty: i32) -> Event {
        crate::rtec::event(source, ty)
    }

    /// How many deliveries `events` make through `qos`'s filter, and their sizes.
    fn run(qos: &ConsumerQos, mode: FilteringMode, events: &[(i32, i32)]) -> Vec<usize> {
        let f = Filter::build(qos, mode).unwrap();
        let mut st = f.new_state();
        let mut out = Vec::new();
        for &(s, t) in events {
            let e = event(s, t);
            let input = Input {
                event: &e,
                timer: None,
            };
            match f.filter(&input, &mut st) {
                Some(Output::Single) => out.push(1),
                Some(Output::Set(v)) => out.push(v.len()),
                None => continue,
            }
            st.clear();
        }
        out
    }

    #[test]
    fn wildcards_work_both_ways() {
        let q = ConsumerQosBuilder::new().insert_type(20, 0).build();
        assert_eq!(
            run(&q, FilteringMode::Prefix, &[(1, 20), (2, 21), (1, 0)]),
            [1, 1]
        );
        let f = Filter::build(&q, FilteringMode::Prefix).unwrap();
        assert_eq!(f.keys, [Key::Type(20)]);
    }

    #[test]
    fn basic_groups_end_at_the_next_group() {
        // [conj, A, B, disj, C]: basic makes conj(A, B) then or-s disj(C) beside it.
        let q = ConsumerQosBuilder::new()
            .start_conjunction_group(0)
            .insert(1, 20, 0)
            .insert(1, 21, 0)
            .start_disjunction_group(0)
            .insert(2, 30, 0)
            .build();
        let got = run(
            &q,
            FilteringMode::Basic,
            &[(1, 20), (2, 30), (1, 21), (1, 20)],
        );
        // (2,30) alone; its delivery clears the tree, so the conjunction needs (1,20) again
        // after (1,21).
        assert_eq!(got, [1, 2]);
        let got = run(&q, FilteringMode::Basic, &[(1, 20), (1, 21), (1, 20)]);
        assert_eq!(got, [2]);
    }

    #[test]
    fn malformed_qos_is_an_error() {
        let empty = ConsumerQos::default();
        assert_eq!(
            Filter::build(&empty, FilteringMode::Prefix).unwrap_err(),
            QosError::Empty
        );
        let q = ConsumerQosBuilder::new()
            .start_conjunction_group(5)
            .insert(1, 20, 0)
            .build();
        assert!(matches!(
            Filter::build(&q, FilteringMode::Prefix),
            Err(QosError::BadCount { at: 0, count: 5 })
        ));
        let q = ConsumerQosBuilder::new().start_bitmask(1, 1).build();
        assert!(matches!(
            Filter::build(&q, FilteringMode::Prefix),
            Err(QosError::Truncated { .. })
        ));
        let mut b = ConsumerQosBuilder::new();
        for _ in 0..100 {
            b = b.start_negation();
        }
        let q = b.insert(1, 20, 0).build();
        assert!(matches!(
            Filter::build(&q, FilteringMode::Prefix),
            Err(QosError::TooDeep { .. })
        ));
    }
}
