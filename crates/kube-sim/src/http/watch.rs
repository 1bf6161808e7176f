//! Watch streams: the initial events (or a `410 Gone` for a too-old resourceVersion), then live
//! events filtered by namespace and selectors, with bookmarks and the stream's timeout.

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::Query;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{Store, Target};
use crate::Inner;

/// What a watch stream needs once the handler has returned.
struct WatchState {
    pending: std::collections::VecDeque<Value>,
    rx: tokio::sync::broadcast::Receiver<crate::store::Event>,
    stop: tokio::sync::watch::Receiver<bool>,
    deadline: Option<tokio::time::Instant>,
    t: Target,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl WatchState {
    fn wants(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    fn event(&self, kind: &str, obj: &Value) -> Value {
        json!({"type": kind, "object": Store::render(self.t.r, &self.t.version, obj)})
    }

    fn in_scope(&self, e: &crate::store::Event) -> bool {
        let (g, p, ns, _) = &e.key;
        g == self.t.r.group && p == self.t.r.plural && (self.t.ns.is_empty() || *ns == self.t.ns)
    }
}

/// `GET …?watch=true`: newline-delimited `{"type","object"}` events. `sendInitialEvents=true`
/// (client-go's watch-list) or no/zero resourceVersion start with ADDED events for the current
/// state; a resourceVersion replays what happened since, or ends in a 410 `Expired` ERROR event
/// when that is no longer in the history.
pub(super) fn watch(
    store: &mut Store,
    inner: &Inner,
    t: &Target,
    q: &Query,
) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))?;
    let rv_param = q.get("resourceVersion").unwrap_or("");
    let send_initial = q.get("sendInitialEvents") == Some("true");
    let since: u64 = rv_param.parse().unwrap_or(0);
    let (replay, rx) = store.subscribe(since);
    let deadline = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(|s| tokio::time::Instant::now() + std::time::Duration::from_secs(s));
    let mut st = WatchState {
        pending: std::collections::VecDeque::new(),
        rx,
        stop: inner.shutdown.subscribe(),
        deadline,
        t: t.clone(),
        labels,
        fields,
    };
    if send_initial || since == 0 {
        let initial: Vec<Value> = store
            .list(t)
            .into_iter()
            .filter(|o| st.wants(o))
            .map(|o| st.event("ADDED", o))
            .collect();
        st.pending.extend(initial);
        if send_initial {
            st.pending.push_back(json!({"type": "BOOKMARK", "object": {
                "kind": t.r.kind,
                "apiVersion": t.r.api_version(&t.version),
                "metadata": {
                    "resourceVersion": store.resource_version().to_string(),
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
            }}));
        }
    } else if let Some(events) = replay {
        let lines: Vec<Value> = events
            .iter()
            .filter(|e| st.in_scope(e) && st.wants(&e.object))
            .map(|e| st.event(e.kind, &e.object))
            .collect();
        st.pending.extend(lines);
    } else {
        let expired = ApiError::from_code(
            410,
            format!(
                "too old resource version: {since} ({})",
                store.resource_version()
            ),
        );
        st.pending
            .push_back(json!({"type": "ERROR", "object": expired.body()}));
        st.deadline = Some(tokio::time::Instant::now());
    }
    let stream = futures_util::stream::unfold(st, |mut st| async move {
        if let Some(line) = st.pending.pop_front() {
            return Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(format!("{line}\n"))),
                st,
            ));
        }
        loop {
            let deadline = st.deadline;
            let timeout = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            let ev = tokio::select! {
                ev = st.rx.recv() => ev,
                _ = st.stop.wait_for(|s| *s) => return None,
                () = timeout => return None,
            };
            match ev {
                Ok(e) => {
                    if st.in_scope(&e) && st.wants(&e.object) {
                        let line = st.event(e.kind, &e.object);
                        return Some((Ok(Bytes::from(format!("{line}\n"))), st));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
