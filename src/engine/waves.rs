//! Making a list of setup writes ([`Step::Ensure`](super::step::Step::Ensure)): in list order,
//! with the writes a provider marks independent ([`Change::wave`]) several at a time.
//!
//! * Consecutive changes with the same `Some(wave)` form one wave; everything else is a wave
//!   of one. Waves run one after another, so what a wave depends on (an upstream before its
//!   targets, raises before lowers) is done before it starts.
//! * Within a wave at most [`Options::parallelism`](super::Options::parallelism) writes are
//!   in flight (decK's default of 10). Writes *start* in list order and each start is the
//!   [`Event::Write`] it always was, so progress stays per write and `--output json` lists
//!   the writes in the order `plan diff` printed them; they may *finish* in any order.
//! * The first failure stops the wave from starting more writes; the writes already in
//!   flight are awaited (not abandoned half-sent), later failures among them are logged, and
//!   the first one is returned. A run killed mid-wave leaves any subset of that wave made —
//!   as a crash between two sequential writes leaves a prefix — and every write is a
//!   read-compare-write of its own entity, so the next `plan apply` reads what landed and
//!   makes only the rest (admin calls stay: changed entities plus the reads).

use futures::stream::{FuturesUnordered, StreamExt as _};

use super::events::Event;
use super::{Engine, EngineError};
use crate::providers::{Change, Provider};

/// Splits `changes` into waves: runs of equal `Some(wave)`, and single `None` changes.
pub(crate) fn waves(changes: &[Change]) -> Vec<&[Change]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=changes.len() {
        let ends = i == changes.len()
            || changes[i].wave.is_none()
            || changes[i].wave != changes[start].wave;
        if ends {
            out.push(&changes[start..i]);
            start = i;
        }
    }
    out
}

/// Makes `changes` wave by wave (see the module docs), calling `start` for each change as it
/// starts, in list order, with at most `limit` of a wave in flight. Shared by the engine's
/// setup writes and a provider's multi-write traffic change (Kong's canary targets).
pub(crate) async fn run<'c, F, Fut, E>(
    changes: &'c [Change],
    limit: usize,
    mut start: F,
) -> Result<(), E>
where
    F: FnMut(&'c Change) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let limit = limit.max(1);
    for wave in waves(changes) {
        let mut next = wave.iter();
        let mut running = FuturesUnordered::new();
        let mut failed = None;
        loop {
            while failed.is_none() && running.len() < limit {
                let Some(change) = next.next() else { break };
                running.push(start(change));
            }
            match running.next().await {
                None => break,
                Some(Ok(())) => {}
                Some(Err(e)) if failed.is_none() => failed = Some(e),
                Some(Err(e)) => tracing::warn!("another write of the wave failed too: {e}"),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
    }
    Ok(())
}

impl<P: Provider> Engine<'_, P> {
    /// Makes the setup writes, wave by wave (see the module docs).
    pub(crate) async fn ensure(&self, changes: &[Change]) -> Result<(), EngineError> {
        run(changes, self.opts.parallelism, |change| {
            self.emit(Event::Write {
                change: change.clone(),
            });
            self.provider.apply(change)
        })
        .await
        .map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Call;

    fn change(name: &str, wave: Option<u32>) -> Change {
        Change {
            action: "create",
            entity: "target",
            name: name.into(),
            detail: String::new(),
            call: Call {
                method: "POST".into(),
                path: "/".into(),
                body: None,
                idempotent: false,
            },
            wave,
        }
    }

    #[test]
    fn runs_of_one_wave_go_together_and_unmarked_writes_stand_alone() {
        let list = [
            change("up", None),
            change("a", Some(1)),
            change("b", Some(1)),
            change("c", Some(2)),
            change("d", Some(2)),
            change("svc", None),
            change("route", None),
            change("e", Some(1)),
        ];
        let names: Vec<Vec<&str>> = waves(&list)
            .iter()
            .map(|w| w.iter().map(|c| c.name.as_str()).collect())
            .collect();
        assert_eq!(
            names,
            [
                vec!["up"],
                vec!["a", "b"],
                vec!["c", "d"],
                vec!["svc"],
                vec!["route"],
                vec!["e"]
            ]
        );
        assert!(waves(&[]).is_empty());
    }
}
