//! A bitset of literal prefixes, asked before a trie walk begins.
//!
//! Most word starts of real text begin no literal at all, yet a trie walk from each of
//! them costs a few dependent loads, often from cache lines that another word evicted.
//! This filter answers "could a literal start here?" from one 8 KB table, which stays in
//! the L1 cache: it holds a hash of the first four bytes of every literal (all of it when
//! shorter). A word start whose first bytes hash to a clear bit begins no literal, exactly;
//! a set bit only means the walk has to look.

/// Bits in the table: 2^16, i.e. 8 KB.
const BITS: u32 = 16;

/// Prefix filter over the first (up to) four bytes of each literal.
#[derive(Debug)]
pub(super) struct StartFilter {
    bits: Box<[u64]>,
    /// Bit `l` set when some literal is `l` bytes long, for `l` in 1..=3; literals of four
    /// bytes or more are keyed by their first four.
    short_lens: u8,
}

/// The first `len` (1..=4) bytes of `b`, little endian, as a hash key that also says how
/// many bytes it covers.
#[inline(always)]
fn slot(key: u32, len: u32) -> u32 {
    let x = (u64::from(key) | (u64::from(len) << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x >> (64 - BITS)) as u32
}

#[inline(always)]
fn mask(len: u32) -> u32 {
    if len >= 4 {
        u32::MAX
    } else {
        (1u32 << (8 * len)) - 1
    }
}

impl StartFilter {
    /// The filter of `literals` (none of them empty).
    pub(super) fn new<S: AsRef<[u8]>>(literals: &[S]) -> StartFilter {
        let mut f = StartFilter {
            bits: vec![0u64; 1 << (BITS - 6)].into_boxed_slice(),
            short_lens: 0,
        };
        for l in literals {
            let l = l.as_ref();
            let len = l.len().min(4);
            if len == 0 {
                continue;
            }
            let mut b = [0u8; 4];
            b[..len].copy_from_slice(&l[..len]);
            if len < 4 {
                f.short_lens |= 1 << len;
            }
            let s = slot(u32::from_le_bytes(b), len as u32);
            f.bits[(s >> 6) as usize] |= 1 << (s & 63);
        }
        f
    }

    #[inline(always)]
    fn has(&self, key: u32, len: u32) -> bool {
        let s = slot(key & mask(len), len);
        self.bits[(s >> 6) as usize] & (1 << (s & 63)) != 0
    }

    /// `false` when no literal can begin at the start of `hay`.
    #[inline(always)]
    pub(super) fn may_start(&self, hay: &[u8]) -> bool {
        let (key, avail) = match hay.get(..4) {
            Some(b) => (u32::from_le_bytes(b.try_into().expect("four bytes")), 4),
            None => {
                let mut b = [0u8; 4];
                b[..hay.len()].copy_from_slice(hay);
                (u32::from_le_bytes(b), hay.len() as u32)
            }
        };
        self.may_start_key(key, avail)
    }

    /// [`StartFilter::may_start`] of a text whose first `avail` (at most 4) bytes are
    /// `key`, little endian.
    #[inline(always)]
    pub(super) fn may_start_key(&self, key: u32, avail: u32) -> bool {
        if avail == 4 && self.has(key, 4) {
            return true;
        }
        let mut lens = self.short_lens;
        while lens != 0 {
            let len = lens.trailing_zeros();
            if len <= avail && self.has(key, len) {
                return true;
            }
            lens &= lens - 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_every_literal_start_and_rejects_most_others() {
        let lits = ["the ai", "ai", "x", "shutdown", "abc"];
        let f = StartFilter::new(&lits);
        for hay in [
            "the ai said",
            "ai",
            "aim",
            "x",
            "xylophone",
            "shutdown now",
            "abcd",
            "abc",
            "the air",
        ] {
            assert!(f.may_start(hay.as_bytes()), "{hay:?}");
        }
        let rejected = ["then", "tha", "b", "shu", "ab", "zzzz", "", "hello world"]
            .iter()
            .filter(|h| !f.may_start(h.as_bytes()))
            .count();
        // Hash collisions may admit one now and then; a filter admitting most is broken.
        assert!(rejected >= 6, "{rejected}");
    }
}
