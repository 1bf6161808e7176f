//! Every byte bgctl writes to stdout or stderr goes through here, so a closed pipe never panics.
//!
//! `print!`/`eprint!` panic when the other end is gone (`bgctl schema | head`, a CI log
//! collector that died, `bgctl switch … 2>&1 | head -2`), and a panic in the middle of a run
//! unwinds past the lock release: the rollout stayed locked until the lock expired. Here a
//! failed write is swallowed and the stream is remembered as closed (later writes to it are
//! skipped).
//!
//! Decision: a closed output is not a request to stop. The run keeps going, without that
//! output, releases its lock and exits with the code it earned (`0` for `schema | head`, `3`
//! for a rolled-back rollout); a person who wants to stop sends SIGINT, which follows
//! `onInterrupt`. Stopping on a closed pipe would turn a harmless `| head` into a rollback.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout and flushes; a failed write marks stdout closed.
pub fn stdout(text: &str) {
    write_to(&mut io::stdout().lock(), &STDOUT_CLOSED, text.as_bytes());
}

/// Writes `text` to stderr; a failed write marks stderr closed.
pub fn stderr(text: &str) {
    write_to(&mut io::stderr().lock(), &STDERR_CLOSED, text.as_bytes());
}

fn write_to(w: &mut impl Write, closed: &AtomicBool, bytes: &[u8]) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    if w.write_all(bytes).and_then(|()| w.flush()).is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

/// stderr as an [`io::Write`] that never fails (for the tracing subscriber:
/// `.with_writer(|| Stderr)`); what cannot be written is dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write_to(&mut io::stderr().lock(), &STDERR_CLOSED, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader is gone.
    struct Closed(usize);

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            self.0 += 1;
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A broken pipe is swallowed, remembered, and later writes are not attempted.
    #[test]
    fn a_broken_pipe_is_remembered_and_not_written_again() {
        let closed = AtomicBool::new(false);
        let mut w = Closed(0);
        write_to(&mut w, &closed, b"one\n");
        assert!(closed.load(Ordering::Relaxed));
        write_to(&mut w, &closed, b"two\n");
        assert_eq!(w.0, 1, "no write after the pipe closed");
    }
}
