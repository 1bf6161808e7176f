//! Unit and property tests of the weight split (Kong numbers pinned, HAProxy and per-mille parameters).
use super::*;
use proptest::prelude::*;

fn sum(w: &[u32]) -> u64 {
    w.iter().map(|&x| u64::from(x)).sum()
}

/// `w` is exactly proportional to `base`.
fn exact_ratio(w: &[u32], base: &[u32]) -> bool {
    let (tw, tb) = (sum(w), sum(base));
    w.iter()
        .zip(base)
        .all(|(&w, &b)| u64::from(w) * tb == tw * u64::from(b))
}

#[test]
fn seed_case_at_10_percent() {
    let s = split(&[100, 50], &[100, 100], 10.0).unwrap();
    // Stable limits: 2:1 scaled by 32767; canary ideal 10922.33 -> 10922.
    assert_eq!(s.stable, vec![65_534, 32_767]);
    assert_eq!(s.canary, vec![5_461, 5_461]);
    assert!((s.achieved_percent - 10.0).abs() < 0.001, "{s:?}");
    assert_eq!(describe(&s), "requested 10%, achieved 10.000%");
}

#[test]
fn seed_case_at_50_percent() {
    let s = split(&[100, 50], &[100, 100], 50.0).unwrap();
    assert_eq!(s.stable, vec![65_534, 32_767]);
    // 98301 canary units cannot split evenly in two; the share wins.
    assert_eq!(s.canary, vec![49_151, 49_150]);
    assert!((s.achieved_percent - 50.0).abs() < 1e-12);
}

#[test]
fn seed_case_at_90_percent() {
    let s = split(&[100, 50], &[100, 100], 90.0).unwrap();
    // Canary limits now; stable gets 14563 units split ~2:1.
    assert_eq!(s.canary, vec![65_535, 65_535]);
    assert_eq!(s.stable, vec![9_709, 4_854]);
    assert!((s.achieved_percent - 90.0).abs() < 0.001, "{s:?}");
    assert_eq!(describe(&s), "requested 90%, achieved 90.000%");
}

#[test]
fn single_targets() {
    let s = split(&[1], &[1], 10.0).unwrap();
    assert_eq!(s.stable, vec![65_535]);
    assert_eq!(s.canary, vec![7_282]);
    assert!((s.achieved_percent - 10.0).abs() < 0.001);
    let s = split(&[7], &[3], 25.0).unwrap();
    assert_eq!(s.stable, vec![65_535]);
    assert_eq!(s.canary, vec![21_845]);
    assert!((s.achieved_percent - 25.0).abs() < 1e-12);
}

#[test]
fn zero_percent_keeps_base_weights() {
    let s = split(&[100, 50, 0], &[10, 20], 0.0).unwrap();
    assert_eq!(s.stable, vec![100, 50, 0]);
    assert_eq!(s.canary, vec![0, 0]);
    assert!(s.achieved_percent.abs() < f64::EPSILON);
    assert_eq!(describe(&s), "requested 0%, achieved 0.000%");
}

#[test]
fn hundred_percent_drains_stable() {
    let s = split(&[100, 50], &[10, 0, 20], 100.0).unwrap();
    assert_eq!(s.stable, vec![0, 0]);
    assert_eq!(s.canary, vec![10, 0, 20]);
    assert!((s.achieved_percent - 100.0).abs() < f64::EPSILON);
    assert_eq!(describe(&s), "requested 100%, achieved 100.000%");
}

#[test]
fn zero_base_weights_stay_zero() {
    let s = split(&[0, 100, 0, 50], &[0, 5], 33.3).unwrap();
    assert_eq!(s.stable[0], 0);
    assert_eq!(s.stable[2], 0);
    assert_eq!(s.canary[0], 0);
    assert!(s.canary[1] > 0);
}

#[test]
fn tiny_percent_keeps_every_target_alive() {
    // The ideal canary total is ~0.001 units; each canary target still
    // gets 1, which is as close as integers allow with 3 live targets.
    let s = split(&[1], &[5, 1, 1], 1e-6).unwrap();
    assert_eq!(s.stable, vec![65_535]);
    assert_eq!(s.canary, vec![1, 1, 1]);
    assert!((s.achieved_percent - 100.0 * 3.0 / 65_538.0).abs() < 1e-12);
}

#[test]
fn rounding_remainders_go_to_the_largest_fraction() {
    assert_eq!(apportion(&[1, 1, 1], 10), vec![4, 3, 3]);
    assert_eq!(apportion(&[3, 1], 6), vec![5, 1]);
    // x = [0.1 x 4, 4.6]: the tiny ones are raised to 1, the big one pays.
    assert_eq!(apportion(&[1, 1, 1, 1, 46], 5), vec![1, 1, 1, 1, 1]);
    assert_eq!(apportion(&[1, 0, 46], 10), vec![1, 0, 9]);
}

#[test]
fn errors() {
    assert!(matches!(
        split(&[1], &[1], f64::NAN),
        Err(WeightError::InvalidPercent(p)) if p.is_nan()
    ));
    assert_eq!(
        split(&[1], &[1], 100.5),
        Err(WeightError::InvalidPercent(100.5))
    );
    assert_eq!(
        split(&[1], &[1], -1.0),
        Err(WeightError::InvalidPercent(-1.0))
    );
    assert_eq!(
        split(&[0, 0], &[1], 5.0),
        Err(WeightError::NoActiveTarget(Side::Stable))
    );
    let err = split(&[1], &[], 0.0).unwrap_err();
    assert_eq!(err, WeightError::NoActiveTarget(Side::Canary));
    assert_eq!(
        err.to_string(),
        "the canary side has no target with a weight above 0"
    );
    let err = split(&[1, 70_000], &[1], 5.0).unwrap_err();
    assert_eq!(
        err,
        WeightError::WeightTooLarge {
            side: Side::Stable,
            index: 1,
            weight: 70_000,
            backend: "Kong",
            max: MAX_WEIGHT,
        }
    );
    assert_eq!(
        err.to_string(),
        "stable target at index 1 has weight 70000, above Kong's maximum of 65535"
    );
    assert_eq!(
        split(&[1], &[1], 101.0).unwrap_err().to_string(),
        "canary percent must be a number between 0 and 100, got 101"
    );
}

/// 1..=20 targets with weights in 0..=65535, at least one above 0.
fn pool() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(
        prop_oneof![Just(0u32), 1u32..=10, 0u32..=MAX_WEIGHT, Just(MAX_WEIGHT)],
        1..=20,
    )
    .prop_filter("a side needs a weight above 0", |w| {
        w.iter().any(|&x| x > 0)
    })
}

fn percent() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(100.0),
        0.0f64..=100.0,
        0.0f64..=0.01,
        99.99f64..=100.0
    ]
}

/// Checks the ratio bound from the module docs for one side:
/// `|w_i - x_i| < 1 + z`, `x_i = sum(w) * base_i / sum(base)`, `z` the
/// number of targets with `x_i < 1`.
fn assert_ratio_bound(w: &[u32], base: &[u32]) -> Result<(), TestCaseError> {
    let (tw, tb) = (sum(w) as f64, sum(base) as f64);
    let ideal: Vec<f64> = base.iter().map(|&b| tw * f64::from(b) / tb).collect();
    let tiny = ideal
        .iter()
        .zip(base)
        .filter(|(&x, &b)| b > 0 && x < 1.0)
        .count();
    for (&wi, &xi) in w.iter().zip(&ideal) {
        prop_assert!(
            (f64::from(wi) - xi).abs() < 1.0 + tiny as f64 + 1e-9,
            "weight {} vs ideal {} (tiny = {}) in {:?} for {:?}",
            wi,
            xi,
            tiny,
            w,
            base
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn split_properties(stable in pool(), canary in pool(), p in percent()) {
        let s = split(&stable, &canary, p).unwrap();
        prop_assert_eq!(s.stable.len(), stable.len());
        prop_assert_eq!(s.canary.len(), canary.len());
        let all = s.stable.iter().chain(&s.canary);
        prop_assert!(all.clone().all(|&w| w <= MAX_WEIGHT));
        prop_assert!(all.map(|&w| u64::from(w)).sum::<u64>() > 0);
        let expected = 100.0 * sum(&s.canary) as f64
            / (sum(&s.canary) + sum(&s.stable)) as f64;
        prop_assert!((s.achieved_percent - expected).abs() < 1e-9);
        let err = (s.achieved_percent - p).abs();

        // Targets with base 0 stay 0.
        for (w, b) in s.stable.iter().zip(&stable).chain(s.canary.iter().zip(&canary)) {
            if *b == 0 { prop_assert_eq!(*w, 0); }
        }

        if p <= 0.0 || p >= 100.0 {
            prop_assert!(err <= 0.0);
            let (live, live_base, dead) = if p <= 0.0 {
                (&s.stable, &stable, &s.canary)
            } else {
                (&s.canary, &canary, &s.stable)
            };
            prop_assert_eq!(live, live_base);
            prop_assert!(dead.iter().all(|&w| w == 0));
            return Ok(());
        }

        // Every live target keeps at least 1.
        for (w, b) in s.stable.iter().zip(&stable).chain(s.canary.iter().zip(&canary)) {
            if *b > 0 { prop_assert!(*w >= 1); }
        }

        // Share bound (module docs): the limiting total L is >= 32768, so
        // the error is <= 50 / 32768 points unless the other side had to be
        // clamped up to one unit per live target, and that can only happen
        // when the ideal other total, >= share ratio * 32768, is below its
        // target count; then the error is <= 100 * n / (32768 + n).
        let q = p / 100.0;
        let n_stable = stable.iter().filter(|&&b| b > 0).count() as f64;
        let n_canary = canary.iter().filter(|&&b| b > 0).count() as f64;
        let unclamped = q / (1.0 - q) * 32_768.0 >= n_canary
            && (1.0 - q) / q * 32_768.0 >= n_stable;
        let bound = if unclamped {
            50.0 / 32_768.0
        } else {
            let n = n_stable.max(n_canary);
            100.0 * n / (32_768.0 + n)
        };
        prop_assert!(err <= bound + 1e-9, "error {} > bound {} for {:?}", err, bound, s);
        if (0.1..=99.9).contains(&p) {
            // Typical pools: far below 0.01 percentage points.
            prop_assert!(err < 0.0016, "error {} for {:?}", err, s);
        }

        // Ratios: one side (the limiting one) exact at the largest integer
        // scale, both sides within the apportionment bound.
        let exact_at_max_scale = |w: &[u32], base: &[u32]| {
            let g = base.iter().fold(0, |g, &b| gcd(g, b));
            let max_reduced = base.iter().map(|&b| b / g).max().unwrap();
            let k = w.iter().max().unwrap() / max_reduced;
            exact_ratio(w, base) && (k + 1) * max_reduced > MAX_WEIGHT
        };
        prop_assert!(
            exact_at_max_scale(&s.stable, &stable) || exact_at_max_scale(&s.canary, &canary),
            "no side at exact max scale: {:?}", s
        );
        assert_ratio_bound(&s.stable, &stable)?;
        assert_ratio_bound(&s.canary, &canary)?;
    }

    #[test]
    fn apportion_keeps_the_total(base in pool(), extra in 0u64..200_000) {
        let active = base.iter().filter(|&&b| b > 0).count() as u64;
        let cap = {
            let g = base.iter().fold(0, |g, &b| gcd(g, b));
            let m = base.iter().map(|&b| b / g).max().unwrap();
            u64::from(MAX_WEIGHT / m) * base.iter().map(|&b| u64::from(b / g)).sum::<u64>()
        };
        let total = (active + extra).min(cap);
        let w = apportion(&base, total);
        prop_assert_eq!(sum(&w), total);
        prop_assert!(w.iter().all(|&x| x <= MAX_WEIGHT));
        for (&wi, &bi) in w.iter().zip(&base) {
            prop_assert_eq!(wi == 0, bi == 0);
        }
        assert_ratio_bound(&w, &base)?;
    }
}

#[test]
fn haproxy_scale_is_coarse_and_finds_the_closest_share() {
    let h = Scale::HAPROXY;
    // 252/28 is exactly 10%: the largest scale (256/28 = 9.86%) is not the closest.
    let s = h.split(&[100], &[100], 10.0).unwrap();
    assert_eq!((s.stable.clone(), s.canary.clone()), (vec![252], vec![28]));
    assert!((s.achieved_percent - 10.0).abs() < 1e-12);
    // Ties go to the larger scale.
    let s = h.split(&[100], &[100], 50.0).unwrap();
    assert_eq!((s.stable, s.canary), (vec![256], vec![256]));
    // The smallest share HAProxy can express with one server per side.
    let s = h.split(&[1], &[1], 0.1).unwrap();
    assert_eq!((s.stable, s.canary.clone()), (vec![256], vec![1]));
    assert!((s.achieved_percent - 100.0 / 257.0).abs() < 1e-12);
    // The same algorithm as Kong's, with HAProxy's limit in the error.
    assert_eq!(
        h.split(&[300], &[1], 5.0).unwrap_err().to_string(),
        "stable target at index 0 has weight 300, above HAProxy's maximum of 256"
    );
    assert_eq!(
        h.split(&[100, 50], &[7], 0.0).unwrap().stable,
        vec![100, 50],
        "at 0% the stable side keeps its base weights"
    );
}

#[test]
fn per_mille_always_sums_to_a_thousand() {
    let t = Scale::PER_MILLE;
    let pm = |p: f64| {
        let s = t.split(&[1], &[1], p).unwrap();
        (s.stable[0], s.canary[0])
    };
    assert_eq!(pm(0.0), (1000, 0));
    assert_eq!(pm(10.0), (900, 100));
    assert_eq!(pm(12.5), (875, 125));
    assert_eq!(pm(0.01), (999, 1));
    assert_eq!(pm(99.99), (1, 999));
    assert_eq!(pm(100.0), (0, 1000));
    // Several targets per side share their side's per mille by their ratios.
    let s = t.split(&[2, 1], &[1], 40.0).unwrap();
    assert_eq!((s.stable, s.canary), (vec![400, 200], vec![400]));
}

/// 1..=8 HAProxy servers with weights in 0..=256, at least one above 0.
fn haproxy_pool() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(prop_oneof![Just(0u32), 1u32..=10, 0u32..=256], 1..=8)
        .prop_filter("a side needs a weight above 0", |w| {
            w.iter().any(|&x| x > 0)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn coarse_split_properties(stable in haproxy_pool(), canary in haproxy_pool(), p in percent()) {
        let h = Scale::HAPROXY;
        let s = h.split(&stable, &canary, p).unwrap();
        prop_assert!(s.stable.iter().chain(&s.canary).all(|&w| w <= 256));
        for (w, b) in s.stable.iter().zip(&stable).chain(s.canary.iter().zip(&canary)) {
            if *b == 0 { prop_assert_eq!(*w, 0); }
            if *b > 0 && p > 0.0 && p < 100.0 { prop_assert!(*w >= 1); }
        }
        if p > 0.0 && p < 100.0 {
            // Never further from the request than the largest scale alone.
            let fine = Scale { granularity: Granularity::Fine, ..h }
                .split(&stable, &canary, p)
                .unwrap();
            prop_assert!(
                (s.achieved_percent - p).abs() <= (fine.achieved_percent - p).abs() + 1e-9,
                "coarse {:?} vs fine {:?}", s, fine
            );
            prop_assert!(exact_ratio(&s.stable, &stable) || exact_ratio(&s.canary, &canary));
            assert_ratio_bound(&s.stable, &stable)?;
            assert_ratio_bound(&s.canary, &canary)?;
        }
    }

    #[test]
    fn per_mille_split_properties(stable in haproxy_pool(), canary in haproxy_pool(), p in percent()) {
        let s = Scale::PER_MILLE.split(&stable, &canary, p).unwrap();
        prop_assert_eq!(sum(&s.stable) + sum(&s.canary), 1000);
        let n = stable.iter().chain(&canary).filter(|&&b| b > 0).count() as f64;
        // Within half a unit of the request, unless every live target needed its 1.
        prop_assert!((s.achieved_percent - p).abs() <= 0.05 + n * 0.1 + 1e-9, "{:?}", s);
        for (w, b) in s.stable.iter().zip(&stable).chain(s.canary.iter().zip(&canary)) {
            if *b == 0 { prop_assert_eq!(*w, 0); }
        }
    }
}
