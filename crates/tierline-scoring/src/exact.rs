//! Exact sums of binary64 terms (docs/scoring.md, "Rules common to every page": every sum
//! is the correctly rounded value of the exact sum of its terms, as Python's
//! `math.fsum`).
//!
//! An [`ExactSum`] holds Shewchuk's non-overlapping partials: their sum is exactly the
//! sum of every term added, so adding, merging and subtracting sums never rounds, and
//! [`ExactSum::value`] rounds once, correctly (CPython's final step, half-even across
//! partials). The result depends neither on the order of the terms nor on how they are
//! grouped (into entities, days or windows). Written here rather than taken from the
//! `fsum` crate because windows need to merge and subtract whole sums, which that
//! crate's accumulator does not expose.

use smallvec::SmallVec;

/// The exact sum of the binary64 terms added to it (see the module docs). Two sums are
/// equal when their exact values are.
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    /// Non-overlapping, increasing in magnitude, no zeros. Most sums need one or two.
    parts: SmallVec<[f64; 2]>,
}

impl ExactSum {
    /// The sum of one term.
    pub fn of(x: f64) -> ExactSum {
        let mut s = ExactSum::default();
        s.add(x);
        s
    }

    /// Adds a term, exactly.
    pub fn add(&mut self, mut x: f64) {
        let parts = self.parts.as_mut_slice();
        let mut i = 0;
        for j in 0..parts.len() {
            let mut y = parts[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            // Two-sum: hi + lo is exactly x + y.
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                parts[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.parts.truncate(i);
        if x != 0.0 {
            self.parts.push(x);
        }
    }

    /// Adds another exact sum, exactly.
    pub fn add_sum(&mut self, other: &ExactSum) {
        for p in &other.parts {
            self.add(*p);
        }
    }

    /// Subtracts another exact sum, exactly (negation is exact).
    pub fn sub_sum(&mut self, other: &ExactSum) {
        for p in &other.parts {
            self.add(-*p);
        }
    }

    /// Whether the exact sum is zero.
    pub fn is_zero(&self) -> bool {
        self.parts.is_empty()
    }

    /// The partials, smallest first: their exact sum is this sum (for persisting it).
    pub fn parts(&self) -> &[f64] {
        &self.parts
    }

    /// The partials of the one canonical expansion of this value, smallest first: the
    /// correctly rounded value, then that of the exact remainder, and so on. Two sums of
    /// equal value give equal canonical partials (the partials [`parts`](Self::parts)
    /// returns depend on the order terms came in), so what is persisted is
    /// deterministic.
    pub fn canonical_parts(&self) -> SmallVec<[f64; 2]> {
        let mut rest = self.clone();
        let mut out = SmallVec::new();
        // Each step peels off the leading 53 bits; the remainder is exact.
        while !rest.is_zero() {
            let top = rest.value();
            out.push(top);
            rest.add(-top);
        }
        out.reverse();
        out
    }

    /// A sum from persisted partials (any terms: they are added one by one).
    pub fn from_parts(parts: &[f64]) -> ExactSum {
        let mut s = ExactSum::default();
        for p in parts {
            s.add(*p);
        }
        s
    }

    /// The exact sum rounded to the nearest binary64, ties to even (as `math.fsum`).
    pub fn value(&self) -> f64 {
        let p = &self.parts;
        let Some(mut n) = p.len().checked_sub(1) else {
            return 0.0;
        };
        let mut hi = p[n];
        let mut lo = 0.0;
        // Sum from the top until the sum becomes inexact.
        while n > 0 {
            n -= 1;
            let x = hi;
            let y = p[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        // Half-even rounding across several partials: a remainder below that points the
        // same way as `lo` makes the half-way case round away.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

impl PartialEq for ExactSum {
    fn eq(&self, other: &ExactSum) -> bool {
        // Partials are not unique (several expansions make one value): compare exactly.
        if self.parts == other.parts {
            return true;
        }
        let mut difference = self.clone();
        difference.sub_sum(other);
        difference.is_zero()
    }
}

impl FromIterator<f64> for ExactSum {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        let mut s = ExactSum::default();
        for x in iter {
            s.add(x);
        }
        s
    }
}

/// The correctly rounded sum of `terms` (Python's `math.fsum`).
pub fn fsum(terms: impl IntoIterator<Item = f64>) -> f64 {
    terms.into_iter().collect::<ExactSum>().value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact_and_correctly_rounded_like_math_fsum() {
        // Values from CPython's test_math.testFsum.
        assert_eq!(
            fsum([1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50]),
            1e-100
        );
        assert_eq!(fsum([0.1; 10]), 1.0);
        assert_eq!(fsum([1e-16, 1.0, 1e16]), 1.000_000_000_000_000_2e16);
        assert_eq!(
            fsum([2.0f64.powi(53), -0.5, -(2.0f64.powi(-54))]),
            2.0f64.powi(53) - 1.0
        );
        assert_eq!(
            fsum([2.0f64.powi(53), 1.0, 2.0f64.powi(-100)]),
            2.0f64.powi(53) + 2.0
        );
        assert_eq!(fsum([]), 0.0);
        assert_eq!(fsum([0.35, 0.10, 0.05]), 0.5);
    }

    #[test]
    fn subtracting_a_sum_leaves_exactly_the_rest() {
        let a: ExactSum = [0.6, 0.3, 1.7].into_iter().collect();
        let b: ExactSum = [0.4, 0.7].into_iter().collect();
        let mut all = a.clone();
        all.add_sum(&b);
        assert_eq!(all.value(), fsum([0.6, 0.3, 1.7, 0.4, 0.7]));
        all.sub_sum(&a);
        assert_eq!(all.value(), b.value());
        all.sub_sum(&b);
        assert!(all.is_zero());
        assert_eq!(ExactSum::from_parts(a.parts()), a);
    }

    #[test]
    fn equal_sums_have_equal_canonical_parts_whatever_their_history() {
        let terms = [
            80.975,
            1e-16,
            3.3,
            -7.1e-15,
            0.1,
            2.0f64.powi(60),
            -(2.0f64.powi(60)),
        ];
        let forward: ExactSum = terms.iter().copied().collect();
        let backward: ExactSum = terms.iter().rev().copied().collect();
        let mut detour = backward.clone();
        detour.add(1e300);
        detour.add(-1e300);
        detour.add(0.3);
        detour.add(-0.3);
        assert_eq!(forward, detour);
        let canonical = forward.canonical_parts();
        assert_eq!(canonical, backward.canonical_parts());
        assert_eq!(canonical, detour.canonical_parts());
        assert_eq!(canonical.last().copied(), Some(forward.value()));
        assert_eq!(ExactSum::from_parts(&canonical), forward);
        assert!(ExactSum::default().canonical_parts().is_empty());
    }
}
