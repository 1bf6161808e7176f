//! Progress without a terminal. A spinner only makes sense on a terminal; in a CI log a long
//! wait (a Deployment rolling out, a timed pause, a slow verification) would otherwise print
//! nothing for minutes, and a person reading the log cannot tell a wait from a hang. So while a
//! command runs, a small thread watches for silence: when nothing was printed for
//! [`EVERY`] and something is in progress, it prints one line naming the activity and how long
//! it has lasted, then stays quiet for another [`EVERY`].
//!
//! Only text output to stderr gets these lines (`-o json` consumers have the events, `-q` asked
//! for silence). The thread ends within [`TICK`] once the [`Ui`](super::Ui) is dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Silence after which a progress line is printed.
pub const EVERY: Duration = Duration::from_secs(10);
/// How often the thread looks.
const TICK: Duration = Duration::from_millis(250);

#[derive(Debug)]
struct State {
    /// What is in progress, and since when.
    activity: Option<(String, Instant)>,
    /// When anything was last written to stderr.
    last_output: Instant,
}

/// The silence watcher of one command.
#[derive(Debug)]
pub struct Ticker {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Ticker {
    /// Starts watching; `print` writes one line to stderr.
    pub fn start(every: Duration, print: fn(&str)) -> Ticker {
        let state = Arc::new(Mutex::new(State {
            activity: None,
            last_output: Instant::now(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                let Ok(mut state) = s.lock() else { return };
                let line = match &state.activity {
                    Some((what, since)) if state.last_output.elapsed() >= every => {
                        Some(line(what, since.elapsed()))
                    }
                    _ => None,
                };
                if let Some(line) = line {
                    if st.load(Ordering::Relaxed) {
                        return;
                    }
                    print(&line);
                    state.last_output = Instant::now();
                }
            }
        });
        Ticker { state, stop }
    }

    /// Something started (or goes on under a new description).
    pub fn activity(&self, what: &str) {
        if let Ok(mut s) = self.state.lock() {
            match &mut s.activity {
                Some((current, _)) if current == what => {}
                slot => *slot = Some((what.to_string(), Instant::now())),
            }
        }
    }

    /// A line was printed: the silence starts again, and a new line means a new activity.
    pub fn output(&self, line: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.last_output = Instant::now();
            s.activity = Some((line.trim().to_string(), Instant::now()));
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The progress line for an activity that has lasted `elapsed`.
fn line(what: &str, elapsed: Duration) -> String {
    let what: String = what.chars().take(120).collect();
    format!("  … still in progress after {}s: {what}", elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    static PRINTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn record(line: &str) {
        PRINTED.lock().unwrap().push(line.to_string());
    }

    #[test]
    fn silence_during_an_activity_prints_a_line_and_output_resets_it() {
        let every = Duration::from_millis(600);
        let t = Ticker::start(every, record);
        // Nothing in progress: silence prints nothing.
        std::thread::sleep(every * 2);
        assert!(PRINTED.lock().unwrap().is_empty());
        t.activity("waiting for green to be ready");
        // Wait (bounded) for the line rather than sleeping a fixed time.
        let start = Instant::now();
        while PRINTED.lock().unwrap().is_empty() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let first = PRINTED.lock().unwrap().first().cloned().unwrap_or_default();
        assert!(
            first.starts_with("  … still in progress after ")
                && first.ends_with(": waiting for green to be ready"),
            "{first:?}"
        );
        drop(t);
        let n = PRINTED.lock().unwrap().len();
        std::thread::sleep(every * 2);
        assert_eq!(
            PRINTED.lock().unwrap().len(),
            n,
            "nothing after the command ended"
        );
    }

    #[test]
    fn the_line_is_bounded_and_counts_seconds() {
        let l = line(&"x".repeat(500), Duration::from_millis(23_400));
        assert!(l.contains("after 23s: "), "{l}");
        assert!(l.len() < 200, "{}", l.len());
    }
}
