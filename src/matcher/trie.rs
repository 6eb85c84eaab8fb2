//! A double-array trie of literals, walked from word starts.
//!
//! The matcher walks this trie from every word start of a document until the walk dies,
//! which on real text takes two or three steps. What makes that fast is that those steps
//! stay in cache: a dense automaton spends a row of a few hundred bytes per state, so the
//! few thousand states of the first three levels of a lexicon of thousands of phrases
//! already overflow the L1 and L2 caches, while a double array spends eight bytes per
//! state and packs the shallow levels first.
//!
//! Layout: a transition from state `s` on byte class `c` lands in cell `t = base(s) + c`,
//! which belongs to `s` exactly when its `check` names `s`. Each cell holds its own `base`
//! (for the next step) and its `check`, so a step reads one 8-byte cell.

/// A byte's class: 0 for bytes that occur in no literal (a walk dies on them), else 1..=K.
type Class = u8;

/// Marks a cell whose state ends a literal.
const FINAL: u32 = 1 << 31;
/// `check` of a free cell; never equals a state index.
const FREE: u32 = !FINAL;

#[derive(Debug, Clone, Copy)]
struct Cell {
    base: u32,
    /// The parent state's index, with [`FINAL`] set when this state ends a literal.
    check: u32,
}

/// A trie over byte strings, for anchored walks.
#[derive(Debug)]
pub(super) struct Trie {
    classes: [Class; 256],
    cells: Vec<Cell>,
    /// The literal each final state ends (indexed by state; `u32::MAX` elsewhere).
    literal: Vec<u32>,
}

/// The root's cell index.
const ROOT: u32 = 0;

/// A trie under construction: plain nodes with sorted children.
struct Node {
    children: Vec<(Class, usize)>,
    literal: Option<u32>,
}

impl Trie {
    /// Builds the trie of `literals`, each reported by its position in the slice.
    ///
    /// # Panics
    /// When the trie would need more than 2^31 cells (far beyond any lexicon).
    pub(super) fn new<S: AsRef<[u8]>>(literals: &[S]) -> Trie {
        let mut classes = [0 as Class; 256];
        let mut used = [false; 256];
        for l in literals {
            for &b in l.as_ref() {
                used[b as usize] = true;
            }
        }
        let mut k: Class = 0;
        for (b, u) in used.iter().enumerate() {
            if *u {
                k += 1;
                classes[b] = k;
            }
        }
        let mut nodes = vec![Node {
            children: Vec::new(),
            literal: None,
        }];
        for (i, l) in literals.iter().enumerate() {
            let mut n = 0;
            for &b in l.as_ref() {
                let c = classes[b as usize];
                n = match nodes[n].children.binary_search_by_key(&c, |&(c, _)| c) {
                    Ok(p) => nodes[n].children[p].1,
                    Err(p) => {
                        nodes.push(Node {
                            children: Vec::new(),
                            literal: None,
                        });
                        let id = nodes.len() - 1;
                        nodes[n].children.insert(p, (c, id));
                        id
                    }
                };
            }
            // Duplicate literals keep the first index, as the matcher never passes any.
            nodes[n].literal.get_or_insert(i as u32);
        }
        let mut trie = Trie {
            classes,
            cells: vec![
                Cell {
                    base: 0,
                    check: FREE,
                };
                256
            ],
            literal: Vec::new(),
        };
        trie.place(&nodes, usize::from(k));
        trie
    }

    /// Gives every node a cell, breadth first so the shallow, busy states share cache
    /// lines near the start of the array.
    fn place(&mut self, nodes: &[Node], k: usize) {
        let mut cell_of = vec![0u32; nodes.len()];
        cell_of[0] = ROOT;
        self.cells[ROOT as usize].check = FREE - 1;
        // The lowest cell that may still be free; cells below it are all taken.
        let mut first_free = 1usize;
        // One past the highest cell taken.
        let mut used_end = 1usize;
        let mut queue = std::collections::VecDeque::from([0usize]);
        while let Some(n) = queue.pop_front() {
            let node = &nodes[n];
            let s = cell_of[n] as usize;
            if node.children.is_empty() {
                continue;
            }
            while first_free < self.cells.len() && self.cells[first_free].check != FREE {
                first_free += 1;
            }
            let lo = node.children[0].0 as usize;
            // First fit, giving up after a bounded search so building stays linear: a
            // node that does not fit early goes to the end of the array.
            let mut base = first_free.saturating_sub(lo).max(1);
            let mut tries = 0;
            loop {
                self.grow(base + k + 1);
                let fits = node
                    .children
                    .iter()
                    .all(|&(c, _)| self.cells[base + c as usize].check == FREE);
                if fits {
                    break;
                }
                tries += 1;
                base = if tries < 256 { base + 1 } else { used_end };
            }
            let base32 = u32::try_from(base).expect("trie smaller than 2^31 cells");
            assert!(base32 < FREE - 1, "trie smaller than 2^31 cells");
            self.cells[s].base = base32;
            for &(c, child) in &node.children {
                let t = base + c as usize;
                let fin = if nodes[child].literal.is_some() {
                    FINAL
                } else {
                    0
                };
                self.cells[t].check = s as u32 | fin;
                used_end = used_end.max(t + 1);
                cell_of[child] = t as u32;
                queue.push_back(child);
            }
        }
        // Every transition must land inside the array (a leaf's base of 0 plus any class
        // is a cell whose check is not the leaf); nothing beyond that is needed.
        let last_used = self
            .cells
            .iter()
            .rposition(|c| c.check != FREE)
            .unwrap_or(0);
        let max_base = self
            .cells
            .iter()
            .map(|c| c.base as usize)
            .max()
            .unwrap_or(0);
        let len = last_used.max(max_base + k) + 1;
        self.cells.resize(
            len,
            Cell {
                base: 0,
                check: FREE,
            },
        );
        self.literal = vec![u32::MAX; self.cells.len()];
        for (n, node) in nodes.iter().enumerate() {
            if let Some(l) = node.literal {
                self.literal[cell_of[n] as usize] = l;
            }
        }
    }

    fn grow(&mut self, len: usize) {
        if self.cells.len() < len {
            self.cells.resize(
                len,
                Cell {
                    base: 0,
                    check: FREE,
                },
            );
        }
    }

    /// Walks from the root over `hay`, calling `found(end, literal)` for every literal that
    /// is a prefix of `hay` (`end` is its length), shortest first.
    #[inline]
    pub(super) fn walk(&self, hay: &[u8], mut found: impl FnMut(usize, u32)) {
        let mut s = ROOT;
        let mut base = self.cells[ROOT as usize].base;
        for (j, &b) in hay.iter().enumerate() {
            let c = self.classes[b as usize];
            if c == 0 {
                return;
            }
            let t = base + u32::from(c);
            let cell = self.cells[t as usize];
            if cell.check & !FINAL != s {
                return;
            }
            if cell.check & FINAL != 0 {
                found(j + 1, self.literal[t as usize]);
            }
            s = t;
            base = cell.base;
        }
    }

    /// Bytes of memory the trie holds.
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.cells.len() * std::mem::size_of::<Cell>() + self.literal.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes(t: &Trie, hay: &str) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        t.walk(hay.as_bytes(), |e, l| out.push((e, l)));
        out
    }

    #[test]
    fn reports_every_literal_that_prefixes_the_text() {
        let t = Trie::new(&["the ai", "the", "th", "ai", "the ai's", "x"]);
        assert_eq!(
            prefixes(&t, "the ai's plan"),
            vec![(2, 2), (3, 1), (6, 0), (8, 4)]
        );
        assert_eq!(prefixes(&t, "the a"), vec![(2, 2), (3, 1)]);
        assert_eq!(prefixes(&t, "ai"), vec![(2, 3)]);
        assert_eq!(prefixes(&t, "zzz"), vec![]);
        assert_eq!(prefixes(&t, ""), vec![]);
        // A byte in no literal at all ends the walk.
        assert_eq!(prefixes(&t, "t\u{e9}"), vec![]);
    }

    #[test]
    fn every_literal_of_a_large_set_is_found_and_nothing_else() {
        // Many literals sharing prefixes, of all lengths, as in a real lexicon.
        let words = ["a", "ab", "b", "ba", "abc", "c", "ca", "cab", " ", "'", "é"];
        let mut lits: Vec<String> = Vec::new();
        for w1 in words {
            for w2 in words {
                for w3 in words {
                    lits.push(format!("{w1}{w2}{w3}"));
                }
            }
        }
        lits.sort();
        lits.dedup();
        let t = Trie::new(&lits);
        for (i, l) in lits.iter().enumerate() {
            let got = prefixes(&t, l);
            let want: Vec<(usize, u32)> = lits
                .iter()
                .enumerate()
                .filter(|(_, p)| l.starts_with(p.as_str()))
                .map(|(j, p)| (p.len(), j as u32))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            assert_eq!(got, want, "literal {i} {l:?}");
        }
        // Compact: a few cells per state, not a row per state.
        let states: usize = lits.iter().map(String::len).sum();
        assert!(t.heap_bytes() < states * 40, "{} bytes", t.heap_bytes());
    }
}
