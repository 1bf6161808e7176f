//! Exit codes: the CI contract, in one documented place (README and `bgctl --help` repeat it).

/// A process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the rollout, switch or rollback completed and was verified.
    Ok,
    /// 1: error before any traffic change (unreachable API, auth, unexpected).
    Error,
    /// 2: usage error or invalid plan; nothing was changed.
    Usage,
    /// 3: the rollout failed and stable is serving (rolled back, or traffic never moved).
    RolledBack,
    /// 4: rollback failed or the state is uncertain; a person must act.
    Uncertain,
    /// 5: another run holds the lock for this rollout.
    Locked,
    /// 6: needs a person (manual gate or confirmation) and is not allowed to wait.
    Paused,
    /// 130: interrupted; what was done about it is printed.
    Interrupted,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Usage => 2,
            Exit::RolledBack => 3,
            Exit::Uncertain => 4,
            Exit::Locked => 5,
            Exit::Paused => 6,
            Exit::Interrupted => 130,
        }
    }
}

/// The table shown in `bgctl --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success: the rollout, switch or rollback completed and was verified
  1    error before any traffic change (unreachable API, auth, unexpected)
  2    usage error or invalid plan; nothing was changed
  3    the rollout failed and stable is serving (rolled back, or traffic never moved)
  4    rollback failed or the state is uncertain; a person must act
  5    another run holds the lock for this rollout
  6    paused at a manual gate or needs confirmation, and may not wait (no terminal, no --yes)
  130  interrupted; what was done about it is printed
A closed stdout or stderr (`| head`) neither stops a run nor changes its exit code.";
