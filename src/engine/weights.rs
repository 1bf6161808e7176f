//! Placeholder until the weight math lands.
/// Kong's largest weight.
pub const MAX_WEIGHT: u32 = 65_535;
/// A computed split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub stable: Vec<u32>,
    pub canary: Vec<u32>,
    pub requested_percent: f64,
    pub achieved_percent: f64,
}
/// Split error.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("bad split")]
pub struct WeightError;
/// Computes a split.
pub fn split(stable: &[u32], canary: &[u32], p: f64) -> Result<Split, WeightError> {
    let s: Vec<u32> = stable
        .iter()
        .map(|w| ((f64::from(*w)) * (100.0 - p)).round() as u32)
        .collect();
    let c: Vec<u32> = canary
        .iter()
        .map(|w| ((f64::from(*w)) * p).round() as u32)
        .collect();
    Ok(Split {
        stable: s,
        canary: c,
        requested_percent: p,
        achieved_percent: p,
    })
}
