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
//!
//! **Never through a link.** The file may sit in a folder other users can write to, where they
//! can plant symbolic links named like the state, its lock or a temporary file, so that bgctl
//! overwrites a file of theirs choosing. Therefore: the temporary file has a random name and is
//! created with `O_EXCL` in the target's folder (`tempfile`), then renamed over the state
//! (a rename replaces a link, it never writes through it); the lock is created with `O_EXCL`,
//! which does not follow a link either; and every operation first refuses a state or lock path
//! that is a symbolic link, and a folder that other users can write to without the sticky bit
//! (there they could swap the file between check and use). Folders bgctl creates are `0700`.

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

    /// Refuses a state or lock path that is a symbolic link, and a folder other users may write
    /// to without the sticky bit (module docs).
    fn check_safe(&self) -> Result<(), ProviderError> {
        for p in [self.path.clone(), self.lock_path()] {
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(ProviderError::State(format!(
                        "refusing the state file: `{}` is a symbolic link (bgctl never writes through one); remove it or set `provider.traefik.stateFile` to a path in a private folder",
                        p.display()
                    )))
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.err("cannot inspect the state file", &e)),
            }
        }
        #[cfg(unix)]
        if let Some(dir) = self.dir() {
            use std::os::unix::fs::PermissionsExt as _;
            match std::fs::metadata(dir) {
                Ok(m) => {
                    let mode = m.permissions().mode();
                    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
                        return Err(ProviderError::State(format!(
                            "refusing the state file `{}`: its folder is writable by other users (mode {:o}) and has no sticky bit, so they could replace the file; use a private folder (`chmod go-w`) or set `provider.traefik.stateFile` elsewhere",
                            self.path.display(),
                            mode & 0o7777
                        )));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.err("cannot inspect the folder of", &e)),
            }
        }
        Ok(())
    }

    /// The folder of the state file, unless it is the current one.
    fn dir(&self) -> Option<&Path> {
        self.path.parent().filter(|d| !d.as_os_str().is_empty())
    }

    /// Creates the folder (private, `0700`, where bgctl creates it) and checks it is safe.
    fn prepare_dir(&self) -> Result<(), ProviderError> {
        if let Some(dir) = self.dir() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir)
                .map_err(|e| self.err("cannot create the directory of", &e))?;
        }
        self.check_safe()
    }

    /// The recorded state (default when the file does not exist yet).
    pub fn read_record(&self) -> Result<Record, ProviderError> {
        self.check_safe()?;
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| self.err("cannot parse the state file", &e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
            Err(e) => Err(self.err("cannot read the state file", &e)),
        }
    }

    /// Replaces the record atomically.
    pub fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        self.prepare_dir()?;
        let dir = self.dir().unwrap_or(Path::new("."));
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| self.err("cannot create a temporary file next to", &e))?;
        let body = serde_json::to_vec_pretty(record).unwrap_or_default();
        tmp.write_all(&body)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| self.err("cannot write the state file", &e))?;
        tmp.persist(&self.path)
            .map(drop)
            .map_err(|e| self.err("cannot replace the state file", &e.error))
    }

    /// The current lock, if any.
    pub fn read_lock(&self) -> Result<Option<LockInfo>, ProviderError> {
        self.check_safe()?;
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
        self.prepare_dir()?;
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

    /// Regression (security issue item 7): with links planted in a shared folder, the state
    /// file and its `.tmp<pid>` were written through them and a victim file was overwritten.
    #[cfg(unix)]
    #[test]
    fn planted_symlinks_are_refused_and_the_victim_is_untouched() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        let path = shared.join("r.json");
        let f = StateFile::resolve(Some(path.to_str().unwrap()), "r").unwrap();

        // The state file itself is a link.
        symlink(&victim, &path).unwrap();
        symlink(
            &victim,
            shared.join(format!("r.json.tmp{}", std::process::id())),
        )
        .unwrap();
        let err = f.write_record(&Record::default()).unwrap_err().to_string();
        assert!(err.contains("is a symbolic link"), "{err}");
        assert!(err.contains("r.json"), "{err}");
        assert!(f.read_record().is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");

        // The lock is a link: not followed, not taken.
        std::fs::remove_file(&path).unwrap();
        symlink(&victim, shared.join("r.json.lock")).unwrap();
        let err = f.lock(&me("a", 100), false).unwrap_err().to_string();
        assert!(err.contains("r.json.lock` is a symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");

        // Without the links the same file works, and the planted temp name was not used.
        std::fs::remove_file(shared.join("r.json.lock")).unwrap();
        f.write_record(&Record::default()).unwrap();
        f.lock(&me("a", 100), false).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_others_can_write_needs_the_sticky_bit() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        let f = StateFile::resolve(Some(shared.join("r.json").to_str().unwrap()), "r").unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = f.write_record(&Record::default()).unwrap_err().to_string();
        assert!(err.contains("writable by other users (mode 777)"), "{err}");
        assert!(!shared.join("r.json").exists());
        // Like /tmp: others may create files but not replace ours.
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        f.write_record(&Record::default()).unwrap();
        // A folder bgctl creates is private.
        let g =
            StateFile::resolve(Some(dir.path().join("new/r.json").to_str().unwrap()), "r").unwrap();
        g.write_record(&Record::default()).unwrap();
        let mode = std::fs::metadata(dir.path().join("new"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
