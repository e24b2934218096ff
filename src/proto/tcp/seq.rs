//! TCP sequence numbers with wrap-around-correct ordering (RFC 9293 §3.4); plain arithmetic
//! only, no state.

use std::cmp::Ordering;
use std::fmt;

/// A 32-bit TCP sequence or acknowledgment number. Ordering is defined on the circle: `a < b`
/// when `b` is less than 2^31 ahead of `a`, so comparisons stay right across the wrap from
/// 2^32 − 1 to 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The signed distance from `other` to `self` (positive when `self` is ahead).
    pub fn diff(self, other: SeqNumber) -> i64 {
        i64::from(self.0.wrapping_sub(other.0) as i32)
    }

    /// `self` moved forward by `n`.
    pub fn wrapping_add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }

    /// The later of two numbers on the circle.
    pub fn max(self, other: SeqNumber) -> SeqNumber {
        if self.diff(other) >= 0 {
            self
        } else {
            other
        }
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.diff(*other).cmp(&0))
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps() {
        let near_end = SeqNumber(u32::MAX - 10);
        let after_wrap = near_end.wrapping_add(20);
        assert_eq!(after_wrap, SeqNumber(9));
        assert!(near_end < after_wrap);
        assert_eq!(after_wrap.diff(near_end), 20);
        assert_eq!(near_end.diff(after_wrap), -20);
        assert_eq!(near_end.max(after_wrap), after_wrap);
    }

    proptest! {
        #[test]
        fn order_is_translation_invariant(a in any::<u32>(), d in 1u32..(1 << 31) - 1, shift in any::<u32>()) {
            let x = SeqNumber(a);
            let y = x.wrapping_add(d);
            prop_assert!(x < y);
            prop_assert_eq!(y.diff(x), i64::from(d));
            let (xs, ys) = (SeqNumber(x.0.wrapping_add(shift)), SeqNumber(y.0.wrapping_add(shift)));
            prop_assert!(xs < ys);
            prop_assert_eq!(ys.diff(xs), i64::from(d));
        }
    }
}
