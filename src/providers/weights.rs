//! Canary weight math, one algorithm for every weighted backend.
//!
//! This module owns one job: turning "send `p` percent of traffic to the canary" into the
//! integer weights a backend balances by `weight / total weight`. Backends differ only in their
//! parameters, a [`Scale`]: the largest weight a target may carry (Kong 65535, HAProxy 256,
//! Traefik per mille) and the [`Granularity`] of the result (Kong's weights are fine enough that
//! the largest scale is always close; HAProxy's 256 is coarse, so a few scales are tried; a
//! Traefik weighted service is written in per mille, so the weights always sum to 1000). It
//! lives apart from the providers so the math can be tested exhaustively (including with
//! property tests) without a gateway.
//!
//! # How a split is chosen
//!
//! Each side (stable, canary) comes with *base* weights, whose internal ratios
//! the operator chose (e.g. stable targets `100/50` mean "2:1") and which must
//! survive the mix. For `0 < p < 100` the algorithm, in priority order:
//!
//! 1. keeps every weight `<= max`, keeps targets whose base weight is 0 at 0,
//!    and gives every other target a weight of at least 1 (a 0 would drain it);
//! 2. picks the *limiting* side — the one that would exceed `max` first if both
//!    sides were scaled up together at the requested share — and gives it the
//!    largest **integer** multiple of its gcd-reduced base weights that fits
//!    (`k * base / gcd`, `k = floor(max / max(base / gcd))`), so its ratios
//!    are kept exactly and its total `L` is as large as possible
//!    ([`Granularity::Coarse`]: every `k` from that down to half of it is tried, and the
//!    one whose achieved share lands closest wins, ties to the larger);
//! 3. picks the other side's total `t` (the integer on either side of the ideal
//!    `L * share_other / share_limiting`, whichever lands the achieved share
//!    closer to the request, clamped to `[targets with base > 0, its own cap]`);
//! 4. apportions `t` over the other side's targets by least squares around the
//!    ideal real weights `t * base_i / sum(base)`, subject to `weight >= 1`.
//!
//! With [`Granularity::Total`] steps 2–3 are replaced by a fixed sum `N`: the canary side's
//! total is `round(p * N / 100)` (kept within `[its live targets, N - the stable side's]`),
//! the stable side gets the rest, and step 4 apportions both.
//!
//! Because step 4 preserves the total exactly, the achieved share depends only
//! on the two totals, and the internal ratios only on the apportionment.
//!
//! # Bounds (Kong's 65535; with another `max` replace 32768 by `ceil(max / 2)`)
//!
//! * The limiting side's total `L` is at least 32768: with `m` its largest
//!   reduced base weight and `k = floor(65535 / m)`, `L >= k * m`, and
//!   `k * m >= 32768` (if `m >= 32768` then `k = 1`; otherwise
//!   `k * m > 65535 - m >= 32768`).
//! * Share error when the other side is not clamped to its target count: the
//!   achieved share is `f(t)` with `f(u) = u / (L + u)` (or `L / (L + u)`),
//!   `|f'(u)| <= L / (L + u)^2 <= 1 / L`, and `|t - ideal| <= 0.5`, so the error
//!   is at most `0.5 / L <= 0.5 / 32768`, i.e. **<= 0.00153 percentage points**.
//!   This always holds for `0.1 <= p <= 99.9` and pools of up to 32 targets.
//! * Share error when the other side is clamped (tiny `p`, or `p` near 100, so
//!   that fewer weight units than targets would be ideal): the share can be no
//!   closer than `n / (L + n)` to the edge, `n` being the clamped side's number
//!   of active targets; the error is at most `100 * n / (32768 + n)` points.
//! * Ratios: the limiting side is exact. On the other side, with `x_i` the
//!   ideal real weight, `|w_i - x_i| < 1 + z` where `z` is the number of its
//!   targets whose `x_i < 1` (those forced up to 1 take units from others);
//!   normally `z = 0` and the error is below one weight unit.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

/// Largest weight Kong accepts for an upstream target.
pub const MAX_WEIGHT: u32 = 65_535;

/// How fine a backend's weights are, which decides how the limiting side is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// The largest scale is always within 0.0016 points of the request (Kong's 65535): use it.
    Fine,
    /// Few weight units (HAProxy's 256): try every scale of the limiting side from the largest
    /// down to half of it and keep the one whose share lands closest (ties to the larger).
    Coarse,
    /// The weights always sum to exactly this (Traefik's weighted service: per mille).
    Total(u32),
}

/// A backend's weight limits: the parameters of [`Scale::split`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// The backend's name, for error messages (`Kong`, `HAProxy`, `Traefik`).
    pub backend: &'static str,
    /// Largest weight one target may carry.
    pub max_weight: u32,
    /// How the result is scaled.
    pub granularity: Granularity,
}

impl Scale {
    /// Kong upstream targets: integers `0..=65535`.
    pub const KONG: Scale = Scale {
        backend: "Kong",
        max_weight: MAX_WEIGHT,
        granularity: Granularity::Fine,
    };
    /// HAProxy servers: integers `0..=256`.
    pub const HAPROXY: Scale = Scale {
        backend: "HAProxy",
        max_weight: 256,
        granularity: Granularity::Coarse,
    };
    /// Traefik weighted services, written in per mille of the whole.
    pub const PER_MILLE: Scale = Scale {
        backend: "Traefik",
        max_weight: 1000,
        granularity: Granularity::Total(1000),
    };
}

/// Which side of a canary release a pool of targets belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The currently released version.
    Stable,
    /// The version being rolled out.
    Canary,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Stable => "stable",
            Side::Canary => "canary",
        })
    }
}

/// Target weights for one weighted object, in the same order as the base
/// weights passed to [`Scale::split`].
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Weights for the stable targets.
    pub stable: Vec<u32>,
    /// Weights for the canary targets.
    pub canary: Vec<u32>,
    /// The canary share that was asked for, in percent.
    pub requested_percent: f64,
    /// `100 * sum(canary) / (sum(stable) + sum(canary))`: the share the backend will
    /// actually route to the canary.
    pub achieved_percent: f64,
}

/// Why a split cannot be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WeightError {
    /// The requested percent is NaN or outside `0..=100`.
    #[error("canary percent must be a number between 0 and 100, got {0}")]
    InvalidPercent(f64),
    /// Every target of a side has base weight 0 (or the side has no target),
    /// so that side cannot receive or keep any traffic.
    #[error("the {0} side has no target with a weight above 0")]
    NoActiveTarget(Side),
    /// A base weight exceeds the backend's maximum.
    #[error(
        "{side} target at index {index} has weight {weight}, above {backend}'s maximum of {max}"
    )]
    WeightTooLarge {
        /// Side the target belongs to.
        side: Side,
        /// Position of the target in the slice passed to [`Scale::split`].
        index: usize,
        /// The offending weight.
        weight: u32,
        /// The backend ([`Scale::backend`]).
        backend: &'static str,
        /// Its maximum ([`Scale::max_weight`]).
        max: u32,
    },
}

/// Kong's split ([`Scale::KONG`]): kept as a function because Kong was its first user.
pub fn split(stable: &[u32], canary: &[u32], canary_percent: f64) -> Result<Split, WeightError> {
    Scale::KONG.split(stable, canary, canary_percent)
}

impl Scale {
    /// Computes the weights that route `canary_percent` percent of the traffic of one weighted
    /// object to the canary targets while keeping each side's internal ratios (see the module
    /// docs for the algorithm and its error bounds).
    ///
    /// At `0` the stable targets keep their base weights and every canary weight is 0; at
    /// `100` it is the other way round ([`Granularity::Total`]: the live side's base weights
    /// scaled to the total). Both sides must have at least one target with a weight above 0
    /// whatever the percent, so a broken canary pool is reported before the rollout starts
    /// rather than at its first step.
    pub fn split(
        &self,
        stable: &[u32],
        canary: &[u32],
        canary_percent: f64,
    ) -> Result<Split, WeightError> {
        if !(0.0..=100.0).contains(&canary_percent) {
            return Err(WeightError::InvalidPercent(canary_percent));
        }
        let stable_pool = Pool::new(self, Side::Stable, stable)?;
        let canary_pool = Pool::new(self, Side::Canary, canary)?;

        let (stable_weights, canary_weights) = if let Granularity::Total(n) = self.granularity {
            let n = u64::from(n);
            let c = if canary_percent <= 0.0 {
                0
            } else if canary_percent >= 100.0 {
                n
            } else {
                ((canary_percent * n as f64 / 100.0).round() as u64)
                    .max(canary_pool.active)
                    .min(n.saturating_sub(stable_pool.active))
            };
            let weights = |base: &[u32], total: u64| {
                if total == 0 {
                    vec![0; base.len()]
                } else {
                    apportion(base, total)
                }
            };
            (weights(stable, n - c), weights(canary, c))
        } else if canary_percent <= 0.0 {
            (stable.to_vec(), vec![0; canary.len()])
        } else if canary_percent >= 100.0 {
            (vec![0; stable.len()], canary.to_vec())
        } else {
            let canary_share = canary_percent / 100.0;
            let stable_share = (100.0 - canary_percent) / 100.0;
            // Scaling both sides together at the requested share, the stable side
            // hits its cap first iff cap_s / stable_share <= cap_c / canary_share.
            let stable_limits =
                stable_pool.cap as f64 * canary_share <= canary_pool.cap as f64 * stable_share;
            if stable_limits {
                let (k, total) =
                    self.limiting_scale(&stable_pool, stable_share, canary_share, &canary_pool);
                (stable_pool.scaled(k), apportion(canary, total))
            } else {
                let (k, total) =
                    self.limiting_scale(&canary_pool, canary_share, stable_share, &stable_pool);
                (apportion(stable, total), canary_pool.scaled(k))
            }
        };

        let canary_sum: u64 = canary_weights.iter().map(|&w| u64::from(w)).sum();
        let stable_sum: u64 = stable_weights.iter().map(|&w| u64::from(w)).sum();
        let achieved_percent = 100.0 * canary_sum as f64 / (canary_sum + stable_sum) as f64;
        Ok(Split {
            stable: stable_weights,
            canary: canary_weights,
            requested_percent: canary_percent,
            achieved_percent,
        })
    }

    /// The limiting side's scale `k` and the other side's total: the largest `k`, or
    /// ([`Granularity::Coarse`]) the `k` down to half of it whose share lands closest.
    fn limiting_scale(
        &self,
        limit: &Pool<'_>,
        limit_share: f64,
        other_share: f64,
        other: &Pool<'_>,
    ) -> (u32, u64) {
        let at = |k: u32| {
            let total = u64::from(k) * limit.reduced_sum;
            let t = other_total(total, limit_share, other_share, other);
            let error = (t as f64 / (total + t) as f64 - other_share).abs();
            (k, t, error)
        };
        let (k, t, _) = match self.granularity {
            Granularity::Coarse => (limit.factor.div_ceil(2).max(1)..=limit.factor)
                .rev()
                .map(at)
                .fold(None, |best: Option<(u32, u64, f64)>, cur| match best {
                    Some(b) if b.2 <= cur.2 + 1e-15 => Some(b),
                    _ => Some(cur),
                })
                .expect("factor >= 1"),
            Granularity::Fine | Granularity::Total(_) => at(limit.factor),
        };
        (k, t)
    }
}

/// One line for humans, e.g. `requested 10%, achieved 10.000%`.
pub fn describe(split: &Split) -> String {
    format!(
        "requested {}%, achieved {:.3}%",
        split.requested_percent, split.achieved_percent
    )
}

/// A validated side, with what the algorithm needs to know about it.
struct Pool<'a> {
    base: &'a [u32],
    /// gcd of the base weights above 0.
    gcd: u32,
    /// Largest `k` such that `k * max(base / gcd) <= max_weight`.
    factor: u32,
    /// `sum(base / gcd)`.
    reduced_sum: u64,
    /// `factor * sum(base / gcd)`: the largest total with exact ratios.
    cap: u64,
    /// Number of targets whose base weight is above 0.
    active: u64,
}

impl<'a> Pool<'a> {
    fn new(scale: &Scale, side: Side, base: &'a [u32]) -> Result<Self, WeightError> {
        let max = scale.max_weight;
        if let Some((index, &weight)) = base.iter().enumerate().find(|(_, &w)| w > max) {
            return Err(WeightError::WeightTooLarge {
                side,
                index,
                weight,
                backend: scale.backend,
                max,
            });
        }
        let gcd = base.iter().fold(0, |g, &w| gcd(g, w));
        if gcd == 0 {
            return Err(WeightError::NoActiveTarget(side));
        }
        let max_reduced = base.iter().map(|&w| w / gcd).max().unwrap_or(1);
        let factor = max / max_reduced;
        let reduced_sum: u64 = base.iter().map(|&w| u64::from(w / gcd)).sum();
        Ok(Pool {
            base,
            gcd,
            factor,
            reduced_sum,
            cap: u64::from(factor) * reduced_sum,
            active: base.iter().filter(|&&w| w > 0).count() as u64,
        })
    }

    /// The reduced base weights times `k`, ratios exact.
    fn scaled(&self, k: u32) -> Vec<u32> {
        self.base.iter().map(|&w| w / self.gcd * k).collect()
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Total weight for the non-limiting side `other`, given the limiting side's
/// total and both shares (fractions summing to 1): the integer just below or
/// just above the ideal `limit_total * other_share / limit_share`, whichever
/// gives an achieved share closer to `other_share`, kept within
/// `[other.active, other.cap]` so every active target can get at least 1 and
/// none exceeds the maximum.
fn other_total(limit_total: u64, limit_share: f64, other_share: f64, other: &Pool<'_>) -> u64 {
    let ideal = limit_total as f64 * other_share / limit_share;
    let clamp = |t: f64| (t.max(0.0) as u64).clamp(other.active, other.cap);
    let share_error = |t: u64| (t as f64 / (limit_total + t) as f64 - other_share).abs();
    let below = clamp(ideal.floor());
    let above = clamp(ideal.ceil());
    if share_error(above) < share_error(below) {
        above
    } else {
        below
    }
}

/// Splits `total` over the targets in proportion to `base`, as close as
/// possible in the least-squares sense to the ideal real weights
/// `x_i = total * base_i / sum(base)` under the constraints "integer",
/// "weight 0 iff base 0" and "sum == total". Requires `total` to be at least
/// the number of targets with base above 0.
///
/// Starting from `max(1, floor(x_i))`, units are added one at a time where
/// `x_i - w_i` is largest, or removed (only from weights of 2 or more) where
/// `w_i - x_i` is largest; for a separable convex objective these greedy unit
/// moves are optimal. All comparisons use exact integer arithmetic on
/// `total * base_i - w_i * sum(base)`, ties going to the lower index.
fn apportion(base: &[u32], total: u64) -> Vec<u32> {
    let sum: i128 = base.iter().map(|&w| i128::from(w)).sum();
    let total = i128::from(total);
    let ideal = |i: usize| total * i128::from(base[i]);
    let mut weights: Vec<i128> = base
        .iter()
        .enumerate()
        .map(|(i, &w)| if w == 0 { 0 } else { (ideal(i) / sum).max(1) })
        .collect();
    let assigned: i128 = weights.iter().sum();

    if assigned < total {
        // Heap of (x_i - w_i) * sum: the largest deficit gets the next unit.
        let mut heap: BinaryHeap<(i128, Reverse<usize>)> = (0..base.len())
            .filter(|&i| base[i] > 0)
            .map(|i| (ideal(i) - weights[i] * sum, Reverse(i)))
            .collect();
        for _ in 0..(total - assigned) {
            let (deficit, Reverse(i)) = heap.pop().expect("active targets exist");
            weights[i] += 1;
            heap.push((deficit - sum, Reverse(i)));
        }
    } else if assigned > total {
        // Heap of (w_i - x_i) * sum over weights that can still give a unit.
        let mut heap: BinaryHeap<(i128, Reverse<usize>)> = (0..base.len())
            .filter(|&i| weights[i] >= 2)
            .map(|i| (weights[i] * sum - ideal(i), Reverse(i)))
            .collect();
        for _ in 0..(assigned - total) {
            let (surplus, Reverse(i)) = heap
                .pop()
                .expect("total >= number of active targets, so some weight is >= 2");
            weights[i] -= 1;
            if weights[i] >= 2 {
                heap.push((surplus - sum, Reverse(i)));
            }
        }
    }
    weights.into_iter().map(|w| w as u32).collect()
}

#[cfg(test)]
mod tests;
