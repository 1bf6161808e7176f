//! The record and the weights are separate runtime API writes (HAProxy has no transaction), so
//! a traffic change is a small protocol that a crash at any point leaves readable:
//!
//! 1. an **intent**: the record variable gets the change's own record with phase
//!    `progressing`, plus what the change is for (`pending`: every plan server's target weight
//!    and the record to hold once they are live);
//! 2. the weights (raises before lowers), read back;
//! 3. the final record, without `pending`.
//!
//! Reading ([`Haproxy::resolve`]): with no `pending`, the record is as written. With one whose
//! weights are live, the change is complete and only step 3 was lost: the record *is* the one
//! it names (so `status`, `rollback` and a re-apply see a finished change, and a re-apply has
//! nothing to write). Otherwise the change is in flight: the record is the intent's
//! `progressing` one, whose `previous` side is what `rollback` restores and whose
//! stable/canary orient a half-way split. Older bgctl versions read the stored document as a
//! plain record (serde ignores the `pending` key).

use serde::{Deserialize, Serialize};

use super::{Haproxy, LiveServer};
use crate::providers::{Phase, Record};

/// What the record variable holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Stored {
    /// The record (the intent's, while `pending` is set).
    #[serde(flatten)]
    pub record: Record,
    /// The change in flight, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// A traffic change that was announced and may not have finished.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Pending {
    /// Target weight of every plan server.
    pub weights: Vec<(String, u32)>,
    /// The record once those weights are live.
    pub then: Box<Record>,
}

impl Stored {
    /// The final form: `record`, nothing pending.
    pub fn done(record: &Record) -> Stored {
        Stored {
            record: record.clone(),
            pending: None,
        }
    }

    /// The intent for a change to `weights` that ends with `record`.
    pub fn intent(weights: &[(String, u32)], record: &Record) -> Stored {
        let mut now = record.clone();
        now.phase = Phase::Progressing;
        now.waiting = None;
        Stored {
            record: now,
            pending: Some(Pending {
                weights: weights.to_vec(),
                then: Box::new(record.clone()),
            }),
        }
    }
}

impl Haproxy {
    /// The record a stored document means given the live servers (module docs).
    pub(super) fn resolve(stored: Stored, live: &[LiveServer]) -> Record {
        match stored.pending {
            Some(p) if Haproxy::weights_live(live, &p.weights) => *p.then,
            _ => stored.record,
        }
    }

    /// Whether every server has its target weight (and serves, where that weight is above 0).
    pub(super) fn weights_live(live: &[LiveServer], weights: &[(String, u32)]) -> bool {
        weights.iter().all(|(name, want)| {
            live.iter()
                .find(|l| &l.name == name)
                .map_or(*want == 0, |l| {
                    l.weight == *want && (*want == 0 || l.ready())
                })
        })
    }
}
