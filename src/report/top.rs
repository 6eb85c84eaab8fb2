//! The best documents of a run for the examples, kept in a bounded heap while the document
//! tables stream past.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A document's figures, kept while it may be among the examples.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub doc_id: String,
    pub source: String,
    pub bytes: u64,
    pub score: f64,
    pub counter_score: f64,
    /// Category scores, in category order.
    pub cats: Vec<f64>,
    pub n_spans: u64,
}

/// A document ranked by a score; greater is better: higher score, then earlier shard and
/// row, so ties break the same way on every run.
#[derive(Debug)]
pub(crate) struct Ranked {
    /// The score ranked by (document score, or counter score).
    pub key: f64,
    /// Index of the shard in the run's shard order.
    pub shard: usize,
    pub row: u64,
    pub doc: Candidate,
}

fn rank_cmp(a: (f64, usize, u64), b: (f64, usize, u64)) -> Ordering {
    a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2))
}

impl Ord for Ranked {
    fn cmp(&self, o: &Ranked) -> Ordering {
        rank_cmp((self.key, self.shard, self.row), (o.key, o.shard, o.row))
    }
}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Ranked) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl PartialEq for Ranked {
    fn eq(&self, o: &Ranked) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Ranked {}

/// The `k` best documents seen so far; the worst sits on top of the heap.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> TopK {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    /// Whether a document with this rank would enter (checked before building it).
    pub(crate) fn wants(&self, key: f64, shard: usize, row: u64) -> bool {
        if self.k == 0 {
            return false;
        }
        if self.heap.len() < self.k {
            return true;
        }
        let worst = &self.heap.peek().expect("k > 0 and the heap is full").0;
        rank_cmp((key, shard, row), (worst.key, worst.shard, worst.row)) == Ordering::Greater
    }

    pub(crate) fn push(&mut self, r: Ranked) {
        self.heap.push(Reverse(r));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }

    /// Best first.
    pub(crate) fn into_sorted(self) -> Vec<Ranked> {
        let mut v: Vec<Ranked> = self.heap.into_iter().map(|r| r.0).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand() -> Candidate {
        Candidate {
            doc_id: String::new(),
            source: String::new(),
            bytes: 0,
            score: 0.0,
            counter_score: 0.0,
            cats: vec![],
            n_spans: 0,
        }
    }

    #[test]
    fn top_k_keeps_the_best_and_breaks_ties_by_position() {
        let mut t = TopK::new(2);
        for (key, shard, row) in [
            (0.5, 0, 3),
            (0.9, 1, 0),
            (0.5, 0, 1),
            (0.7, 2, 0),
            (0.1, 0, 0),
        ] {
            if t.wants(key, shard, row) {
                t.push(Ranked {
                    key,
                    shard,
                    row,
                    doc: cand(),
                });
            }
        }
        let got: Vec<(f64, usize, u64)> = t
            .into_sorted()
            .iter()
            .map(|r| (r.key, r.shard, r.row))
            .collect();
        assert_eq!(got, vec![(0.9, 1, 0), (0.7, 2, 0)]);
        let mut t = TopK::new(2);
        for (key, shard, row) in [(0.5, 0, 3), (0.5, 0, 1), (0.5, 1, 0), (0.5, 0, 2)] {
            if t.wants(key, shard, row) {
                t.push(Ranked {
                    key,
                    shard,
                    row,
                    doc: cand(),
                });
            }
        }
        let got: Vec<(usize, u64)> = t.into_sorted().iter().map(|r| (r.shard, r.row)).collect();
        assert_eq!(got, vec![(0, 1), (0, 2)]);
    }
}
