//! A bucket's total: numerator, denominator and samples, each sum exact.

use crate::exact::ExactSum;

/// numerator, denominator, samples: each sum exact (see [`ExactSum`]), so a total
/// never depends on the order or grouping of its terms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Agg {
    /// Sum of numerators.
    pub num: ExactSum,
    /// Sum of denominators.
    pub den: ExactSum,
    /// Samples (what the minimum-sample rule counts).
    pub samples: u64,
}

impl Agg {
    /// One term of each sum.
    pub fn term(num: f64, den: f64, samples: u64) -> Agg {
        Agg {
            num: ExactSum::of(num),
            den: ExactSum::of(den),
            samples,
        }
    }

    /// Adds another total, exactly.
    pub fn add(&mut self, other: &Agg) {
        self.num.add_sum(&other.num);
        self.den.add_sum(&other.den);
        self.samples += other.samples;
    }

    /// Takes away a total added before, exactly.
    pub fn sub(&mut self, other: &Agg) {
        self.num.sub_sum(&other.num);
        self.den.sub_sum(&other.den);
        self.samples = self.samples.saturating_sub(other.samples);
    }

    /// The numerator, correctly rounded.
    pub fn numerator(&self) -> f64 {
        self.num.value()
    }

    /// The denominator, correctly rounded.
    pub fn denominator(&self) -> f64 {
        self.den.value()
    }

    /// No samples and both sums zero.
    pub fn is_empty(&self) -> bool {
        self.samples == 0 && self.num.is_zero() && self.den.is_zero()
    }
}
