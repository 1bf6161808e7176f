//! Rollout record and lock in a file on the runner, for backends that cannot hold them.
//!
//! Traefik's REST provider drops every field it does not know and offers no conditional write,
//! so neither the record nor an atomic lock can live in Traefik itself. This module keeps them
//! next to each other on the machine that runs bgctl:
//!
//! * the record is `<path>` (JSON), replaced atomically (write a temporary file, then rename);
//! * the lock is `<path>.lock`, created with `O_EXCL` (`create_new`), so two runs on the same
//!   machine cannot both take it; its content is the holder's [`LockInfo`].
//!
//! The limitation is explicit: another machine does not see this state. Runs that share a
//! rollout must share the file (same runner, or a shared volume), which README documents.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{LockError, LockInfo, ProviderError, Record};

/// The state file of one rollout.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// `configured`, else `$XDG_STATE_HOME/bgctl/<rollout>.json`, else
    /// `$HOME/.local/state/bgctl/<rollout>.json`.
    pub fn resolve(configured: Option<&str>, rollout: &str) -> Result<StateFile, String> {
        if let Some(p) = configured {
            return Ok(StateFile {
                path: PathBuf::from(p),
            });
        }
        let base = std::env::var_os("XDG_STATE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".local/state"))
            })
            .ok_or("neither `XDG_STATE_HOME` nor `HOME` is set")?;
        Ok(StateFile {
            path: base.join("bgctl").join(format!("{rollout}.json")),
        })
    }

    /// The record file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    fn err(&self, what: &str, e: &dyn std::fmt::Display) -> ProviderError {
        ProviderError::State(format!("{what} `{}`: {e}", self.path.display()))
    }

    /// The recorded state (default when the file does not exist yet).
    pub fn read_record(&self) -> Result<Record, ProviderError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| self.err("cannot parse the state file", &e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
            Err(e) => Err(self.err("cannot read the state file", &e)),
        }
    }

    /// Replaces the record atomically.
    pub fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| self.err("cannot create the directory of", &e))?;
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(format!(".tmp{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let body = serde_json::to_vec_pretty(record).unwrap_or_default();
        std::fs::write(&tmp, body).map_err(|e| self.err("cannot write the state file", &e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.err("cannot replace the state file", &e))
    }

    /// The current lock, if any.
    pub fn read_lock(&self) -> Result<Option<LockInfo>, ProviderError> {
        match std::fs::read(self.lock_path()) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                super::unknown_lock("unreadable or half-written lock file", 15 * 60)
            }))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err("cannot read the lock of", &e)),
        }
    }

    /// Takes the lock with an exclusive create; `force` (or expiry) breaks someone else's.
    pub fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| LockError::Provider(self.err("cannot create the directory of", &e)))?;
        }
        let path = self.lock_path();
        for _ in 0..3 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let body = serde_json::to_vec(me).unwrap_or_default();
                    f.write_all(&body)
                        .and_then(|()| f.sync_all())
                        .map_err(|e| {
                            LockError::Provider(self.err("cannot write the lock of", &e))
                        })?;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let Some(held) = self.read_lock()? else {
                        continue;
                    };
                    if held.run_id == me.run_id {
                        return Ok(());
                    }
                    if !force && held.expires > me.since {
                        return Err(LockError::Held(held));
                    }
                    tracing::warn!(holder = %held.holder, "breaking a {} lock", if force { "held" } else { "stale" });
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(LockError::Provider(
                                self.err("cannot break the lock of", &e),
                            ))
                        }
                    }
                }
                Err(e) => {
                    return Err(LockError::Provider(
                        self.err("cannot create the lock of", &e),
                    ))
                }
            }
        }
        Err(LockError::Provider(ProviderError::State(
            "the lock kept changing hands; try again".into(),
        )))
    }

    /// Releases the lock if `me` holds it.
    pub fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        if self.read_lock()?.is_some_and(|l| l.run_id == me.run_id) {
            std::fs::remove_file(self.lock_path())
                .map_err(|e| self.err("cannot remove the lock of", &e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(run: &str, since: u64) -> LockInfo {
        LockInfo {
            holder: format!("t pid 1 run {run}"),
            run_id: run.into(),
            since,
            expires: since + 60,
        }
    }

    #[test]
    fn record_round_trips_and_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let f =
            StateFile::resolve(Some(dir.path().join("a/r.json").to_str().unwrap()), "r").unwrap();
        assert_eq!(f.read_record().unwrap(), Record::default());
        let rec = Record {
            previous: Some("blue".into()),
            phase: super::super::Phase::Completed,
            ..Record::default()
        };
        f.write_record(&rec).unwrap();
        assert_eq!(f.read_record().unwrap(), rec);
        f.lock(&me("a", 100), false).unwrap();
        f.lock(&me("a", 100), false).unwrap();
        assert!(matches!(
            f.lock(&me("b", 120), false),
            Err(LockError::Held(_))
        ));
        // Expired: b may break it.
        f.lock(&me("b", 200), false).unwrap();
        f.unlock(&me("a", 0)).unwrap();
        assert_eq!(f.read_lock().unwrap().unwrap().run_id, "b");
        f.unlock(&me("b", 0)).unwrap();
        assert!(f.read_lock().unwrap().is_none());
    }
}
