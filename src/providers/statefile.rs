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

use super::lock::{self, Claim, LockJson, LockStore, Stored};
use super::record;
use super::write::Written;
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
            Ok(bytes) => {
                record::from_json(&bytes).map_err(|e| self.err("cannot parse the state file", &e))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
            Err(e) => Err(self.err("cannot read the state file", &e)),
        }
    }

    /// Replaces the record atomically.
    pub fn write_record(&self, record: &Record) -> Result<(), ProviderError> {
        self.prepare_dir()?;
        self.replace_file(&self.path, &record::to_json(record))
    }

    /// Replaces `path` atomically: a temporary file with a random name, created with `O_EXCL`
    /// in the same folder, renamed over it (a rename replaces a link, never writes through it).
    fn replace_file(&self, path: &Path, body: &[u8]) -> Result<(), ProviderError> {
        let dir = self.dir().unwrap_or(Path::new("."));
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| self.err("cannot create a temporary file next to", &e))?;
        tmp.write_all(body)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| self.err("cannot write the state file", &e))?;
        tmp.persist(path)
            .map(drop)
            .map_err(|e| self.err("cannot replace the state file", &e.error))
    }

    /// The current lock, if any.
    pub fn read_lock(&self) -> Result<Option<LockInfo>, ProviderError> {
        Ok(self.read_stored()?.map(|s| s.info))
    }

    /// The lock with its lifetime and the file's modification time.
    fn read_stored(&self) -> Result<Option<Stored<Vec<u8>>>, ProviderError> {
        self.check_safe()?;
        let path = self.lock_path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.err("cannot read the lock of", &e)),
        };
        let written = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        let (info, ttl) = match serde_json::from_slice::<LockJson>(&bytes) {
            Ok(j) => (j.info.clone(), j.ttl()),
            Err(_) => (
                super::unknown_lock("unreadable or half-written lock file", UNKNOWN_TTL),
                UNKNOWN_TTL,
            ),
        };
        Ok(Some(Stored {
            info,
            ttl,
            written,
            version: bytes,
        }))
    }

    /// Creates the lock file exclusively (`O_EXCL`: never through a link).
    fn create_lock(&self, claim: &Claim) -> Result<Written, ProviderError> {
        let body = serde_json::to_vec(&LockJson::of(claim)).unwrap_or_default();
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.lock_path())
        {
            Ok(mut f) => {
                f.write_all(&body)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| self.err("cannot write the lock of", &e))?;
                Ok(Written::Done)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Written::Conflict),
            Err(e) => Err(self.err("cannot create the lock of", &e)),
        }
    }

    /// Takes the lock ([`lock::take`]); `force` (or expiry) breaks someone else's.
    pub async fn lock(&self, me: &LockInfo, force: bool) -> Result<(), LockError> {
        self.prepare_dir()?;
        lock::take(self, me, lock::Take::forced(force)).await
    }

    /// Releases the lock if `me` holds it.
    pub async fn unlock(&self, me: &LockInfo) -> Result<(), ProviderError> {
        lock::release(self, me).await
    }
}

/// How long a lock whose file cannot be parsed counts as held.
const UNKNOWN_TTL: u64 = 15 * 60;

/// The lock file: its modification time is the target's timestamp, this machine's clock the
/// target's clock ([`lock`] module docs). Replace and delete compare the file's content first.
impl LockStore for StateFile {
    type Version = Vec<u8>;

    async fn read(&self) -> Result<Option<Stored<Vec<u8>>>, ProviderError> {
        self.read_stored()
    }

    async fn now(&self) -> Result<u64, ProviderError> {
        Ok(lock::unix_now())
    }

    async fn create(&self, claim: &Claim) -> Result<Written, ProviderError> {
        self.create_lock(claim)
    }

    async fn replace(&self, version: &Vec<u8>, claim: &Claim) -> Result<Written, ProviderError> {
        let path = self.lock_path();
        match std::fs::read(&path) {
            Ok(cur) if &cur == version => {}
            Ok(_) => return Ok(Written::Conflict),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Written::Conflict),
            Err(e) => return Err(self.err("cannot read the lock of", &e)),
        }
        let renewal = serde_json::from_slice::<LockJson>(version)
            .is_ok_and(|j| j.info.run_id == claim.info.run_id);
        if renewal {
            // Our own lock: replaced in one rename, so no other run can slip in.
            let body = serde_json::to_vec(&LockJson::of(claim)).unwrap_or_default();
            self.replace_file(&path, &body)?;
            return Ok(Written::Done);
        }
        // Someone else's: removed, then created exclusively, so of two runs breaking it at
        // once only one gets it.
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.err("cannot break the lock of", &e)),
        }
        self.create_lock(claim)
    }

    async fn delete(&self, version: &Vec<u8>) -> Result<Written, ProviderError> {
        let path = self.lock_path();
        match std::fs::read(&path) {
            Ok(cur) if &cur == version => match std::fs::remove_file(&path) {
                Ok(()) => Ok(Written::Done),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Written::Done),
                Err(e) => Err(self.err("cannot remove the lock of", &e)),
            },
            Ok(_) => Ok(Written::Conflict),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Written::Done),
            Err(e) => Err(self.err("cannot read the lock of", &e)),
        }
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

    #[tokio::test]
    async fn record_round_trips_and_lock_is_exclusive() {
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
        f.lock(&me("a", 100), false).await.unwrap();
        f.lock(&me("a", 100), false).await.unwrap();
        assert!(matches!(
            f.lock(&me("b", 120), false).await,
            Err(LockError::Held(_))
        ));
        // Expired by the file's own time (its mtime plus the lifetime): b may break it.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(61);
        std::fs::File::options()
            .write(true)
            .open(f.lock_path())
            .unwrap()
            .set_modified(old)
            .unwrap();
        f.lock(&me("b", 200), false).await.unwrap();
        f.unlock(&me("a", 0)).await.unwrap();
        assert_eq!(f.read_lock().unwrap().unwrap().run_id, "b");
        // b's heartbeat keeps it: a fresh modification time.
        lock::renew(&f, &me("b", 200)).await.unwrap();
        assert!(lock::holds(&f, &me("b", 200)).await.unwrap());
        f.unlock(&me("b", 0)).await.unwrap();
        assert!(f.read_lock().unwrap().is_none());
    }

    /// Regression (security issue item 7): with links planted in a shared folder, the state
    /// file and its `.tmp<pid>` were written through them and a victim file was overwritten.
    #[cfg(unix)]
    #[tokio::test]
    async fn planted_symlinks_are_refused_and_the_victim_is_untouched() {
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
        let err = f.lock(&me("a", 100), false).await.unwrap_err().to_string();
        assert!(err.contains("r.json.lock` is a symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");

        // Without the links the same file works, and the planted temp name was not used.
        std::fs::remove_file(shared.join("r.json.lock")).unwrap();
        f.write_record(&Record::default()).unwrap();
        f.lock(&me("a", 100), false).await.unwrap();
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
