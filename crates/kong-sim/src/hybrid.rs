//! Hybrid mode: one control plane (Admin API over a store, `role = control_plane`) and N data
//! planes (each a proxy) that receive the control plane's configuration over a simulated
//! cluster connection.
//!
//! * Every Admin API write on the control plane hands the new configuration to each data plane
//!   that is syncing; a data plane applies it after its own propagation delay (Kong pushes over
//!   a websocket; the delay models the push, the export and the reload). Configurations are
//!   applied in order: an older one that arrives late never replaces a newer one.
//! * A data plane's `config_hash` is the md5 of the configuration it applied (Kong hashes its
//!   declarative export); an empty store hashes to 32 zeros, as Kong reports before any config.
//! * Heartbeats: a data plane reports (`last_seen`, `config_hash`) right after applying a
//!   configuration (Kong pings immediately after a reload) and then every `ping_interval`
//!   (Kong: 30 s; shorter here so tests see a silent node age quickly).
//! * `stop_sync` cuts the cluster connection: the data plane keeps proxying its last
//!   configuration, drops configurations still in flight and stops heartbeating, so its
//!   `last_seen` gets old while the control plane keeps listing it. `resume_sync` reconnects:
//!   it pings and then receives the control plane's current configuration after its delay.
//! * `GET /clustering/data-planes` answers as Kong 3.x does (`kong/api/routes/clustering.lua`):
//!   `{"data":[{id, ip, hostname, version, sync_status, config_hash, last_seen, ttl, labels,
//!   cert_details}], "next": null}`. Entries are listed while their ttl (30 days after the
//!   last heartbeat, Kong's default purge delay) has not run out, i.e. always here.
//!
//! Not modelled: data planes' own Admin API (Kong's data planes answer entity writes 405 like
//! DB-less nodes), version/plugin compatibility checks (`sync_status` is always `normal` for a
//! connected data plane), and the control plane's healthy/unhealthy endpoints being absent.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::proxy::{DataPlane, Snapshot};
use crate::store::{now_s, Db};

/// Kong's default `cluster_data_plane_purge_delay`-like ttl (seconds) reported per entry.
const TTL_SECONDS: u64 = 30 * 24 * 3600;

/// A configuration as the control plane exports it.
struct Export {
    generation: u64,
    snapshot: Arc<Snapshot>,
    hash: String,
}

/// One data plane's cluster-side state.
pub(crate) struct HybridPlane {
    pub(crate) id: String,
    pub(crate) hostname: String,
    pub(crate) delay: Duration,
    pub(crate) proxy: Arc<DataPlane>,
    syncing: AtomicBool,
    /// (generation, hash) of the configuration it serves.
    applied: Mutex<(u64, String)>,
    /// What the control plane has from it: (`last_seen` unix seconds, `config_hash`).
    report: Mutex<(u64, String)>,
    /// Bumped on every stop/resume, so deliveries scheduled before a stop are dropped.
    epoch: AtomicU64,
}

impl HybridPlane {
    fn ping(&self) {
        if !self.syncing.load(Ordering::SeqCst) {
            return;
        }
        let hash = self.applied.lock().unwrap().1.clone();
        *self.report.lock().unwrap() = (now_s() as u64, hash);
    }

    /// Applies `export` unless a newer one is already applied, then pings.
    fn apply(&self, export: &Export) {
        {
            let mut applied = self.applied.lock().unwrap();
            if applied.0 >= export.generation {
                return;
            }
            *applied = (export.generation, export.hash.clone());
            self.proxy.publish(export.snapshot.clone());
        }
        self.ping();
    }
}

/// The control plane's view of its cluster.
pub(crate) struct ControlPlane {
    pub(crate) planes: Vec<Arc<HybridPlane>>,
    latest: Mutex<Option<Arc<Export>>>,
    generation: AtomicU64,
    version: String,
}

/// Kong's hash of a configuration: md5 over the exported entities (32 zeros when empty).
fn config_hash(db: &Db) -> String {
    if db.services.is_empty()
        && db.routes.is_empty()
        && db.upstreams.is_empty()
        && db.targets.is_empty()
    {
        return "0".repeat(32);
    }
    let text = json!([db.services, db.routes, db.upstreams, db.targets]).to_string();
    crate::declarative::md5_hex(text.as_bytes())
}

impl ControlPlane {
    /// A control plane with one data plane per delay; each data plane proxies through `proxy`
    /// (already built, delay zero: this module adds the delay).
    pub(crate) fn new(version: &str, planes: Vec<(Duration, Arc<DataPlane>)>) -> ControlPlane {
        let planes = planes
            .into_iter()
            .enumerate()
            .map(|(i, (delay, proxy))| {
                Arc::new(HybridPlane {
                    id: uuid::Uuid::new_v4().to_string(),
                    hostname: format!("kong-dp-{}", i + 1),
                    delay,
                    proxy,
                    syncing: AtomicBool::new(true),
                    applied: Mutex::new((0, "0".repeat(32))),
                    report: Mutex::new((now_s() as u64, "0".repeat(32))),
                    epoch: AtomicU64::new(0),
                })
            })
            .collect();
        ControlPlane {
            planes,
            latest: Mutex::new(None),
            generation: AtomicU64::new(0),
            version: version.to_string(),
        }
    }

    /// A write on the control plane: export the configuration and push it to every data
    /// plane that is connected.
    pub(crate) fn publish(&self, db: &Db) {
        let export = Arc::new(Export {
            generation: self.generation.fetch_add(1, Ordering::SeqCst) + 1,
            snapshot: Arc::new(Snapshot::build(db)),
            hash: config_hash(db),
        });
        *self.latest.lock().unwrap() = Some(export.clone());
        for plane in &self.planes {
            Self::deliver(plane, export.clone());
        }
    }

    fn deliver(plane: &Arc<HybridPlane>, export: Arc<Export>) {
        if !plane.syncing.load(Ordering::SeqCst) {
            return;
        }
        let epoch = plane.epoch.load(Ordering::SeqCst);
        if plane.delay.is_zero() {
            plane.apply(&export);
            return;
        }
        let plane = plane.clone();
        tokio::spawn(async move {
            tokio::time::sleep(plane.delay).await;
            if plane.syncing.load(Ordering::SeqCst) && plane.epoch.load(Ordering::SeqCst) == epoch {
                plane.apply(&export);
            }
        });
    }

    /// Every data plane heartbeats every `interval` while it is connected.
    pub(crate) async fn heartbeat(self: Arc<Self>, interval: Duration) {
        let mut tick = tokio::time::interval(interval.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for plane in &self.planes {
                plane.ping();
            }
        }
    }

    /// Data plane `index` (0-based): stop (`false`) or resume (`true`) syncing. `None` when
    /// there is no such data plane.
    pub(crate) fn set_syncing(&self, index: usize, on: bool) -> Option<()> {
        let plane = self.planes.get(index)?;
        plane.epoch.fetch_add(1, Ordering::SeqCst);
        let was = plane.syncing.swap(on, Ordering::SeqCst);
        if on && !was {
            plane.ping();
            let latest = self.latest.lock().unwrap().clone();
            if let Some(export) = latest {
                Self::deliver(plane, export);
            }
        }
        Some(())
    }

    /// One data plane as `/clustering/data-planes` lists it.
    fn entry(&self, plane: &HybridPlane) -> Value {
        let (last_seen, hash) = plane.report.lock().unwrap().clone();
        json!({
            "id": plane.id,
            "ip": "127.0.0.1",
            "hostname": plane.hostname,
            "version": self.version,
            "sync_status": "normal",
            "config_hash": hash,
            "last_seen": last_seen,
            "ttl": TTL_SECONDS,
            "labels": {},
            "cert_details": {"expiry_timestamp": last_seen + 365 * 24 * 3600},
        })
    }

    /// `GET /clustering/data-planes`.
    pub(crate) fn list(&self) -> Value {
        let data: Vec<Value> = self.planes.iter().map(|p| self.entry(p)).collect();
        json!({"data": data, "next": null})
    }

    /// The control port's view: the list plus whether each data plane syncs.
    pub(crate) fn control_view(&self) -> Value {
        let data: Vec<Value> = self
            .planes
            .iter()
            .map(|p| {
                let mut e = self.entry(p);
                e["syncing"] = json!(p.syncing.load(Ordering::SeqCst));
                e["applied_hash"] = json!(p.applied.lock().unwrap().1);
                e
            })
            .collect();
        json!(data)
    }
}
