//! The Admin API request log that tests read.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// One Admin API request as it arrived, with the status that was answered.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoggedRequest {
    /// Request method, e.g. `PATCH`.
    pub method: String,
    /// Path plus `?query` when there was one, exactly as sent.
    pub path: String,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body (lossy UTF-8).
    pub body: String,
    /// Status answered; `0` when no response was sent (a `hang` or `reset` fault).
    pub status: u16,
    /// Request headers in arrival order (names lower-cased).
    pub headers: Vec<(String, String)>,
}

impl LoggedRequest {
    /// True for POST, PUT, PATCH and DELETE.
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }
}

#[derive(Clone, Default)]
pub(crate) struct RequestLog {
    entries: Arc<Mutex<Vec<LoggedRequest>>>,
    // Index of entry 0 in the global arrival sequence, so slots survive a clear.
    base: Arc<Mutex<usize>>,
}

impl RequestLog {
    /// Record an arrival; returns its sequence number for `finish`.
    pub(crate) fn start(&self, entry: LoggedRequest) -> usize {
        let base = self.base.lock().unwrap();
        let mut entries = self.entries.lock().unwrap();
        entries.push(entry);
        *base + entries.len() - 1
    }

    pub(crate) fn finish(&self, seq: usize, status: u16) {
        let base = self.base.lock().unwrap();
        let mut entries = self.entries.lock().unwrap();
        if let Some(index) = seq.checked_sub(*base) {
            if let Some(entry) = entries.get_mut(index) {
                entry.status = status;
            }
        }
    }

    pub(crate) fn all(&self) -> Vec<LoggedRequest> {
        self.entries.lock().unwrap().clone()
    }

    pub(crate) fn clear(&self) {
        let mut base = self.base.lock().unwrap();
        let mut entries = self.entries.lock().unwrap();
        *base += entries.len();
        entries.clear();
    }
}
