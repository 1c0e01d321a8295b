//! A program's loops, each on its own thread, and the program's watch over them: the programs
//! (`ovpn-server`, `ovpn-client`) start a loop per server or client interface, also while they
//! run (the console's `add`), and stop them all on a signal or when one has failed.

use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use super::Control;

/// How often the program looks at its loops and its signals.
const LOOK: Duration = Duration::from_millis(100);

/// A loop's name and its thread.
type Thread = (String, JoinHandle<Result<(), String>>);

/// The running loops: a name and a thread each.
#[derive(Debug, Default)]
pub struct Loops {
    threads: Mutex<Vec<Thread>>,
}

impl Loops {
    /// Runs `run` as the loop called `name` on a thread of its own.
    pub fn spawn(
        &self,
        name: &str,
        run: impl FnOnce() -> Result<(), String> + Send + 'static,
    ) -> Result<(), String> {
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(run)
            .map_err(|e| format!("starting {name}: {e}"))?;
        if let Ok(mut t) = self.threads.lock() {
            t.push((name.to_owned(), handle));
        }
        Ok(())
    }

    /// Joins the loops that have ended (all of them with `all`), logging each failure as
    /// `program: NAME: why`; returns how many still run and how many failed.
    fn join(&self, program: &str, all: bool) -> (usize, usize) {
        let (done, running) = {
            let Ok(mut t) = self.threads.lock() else {
                return (0, 0);
            };
            let (done, running): (Vec<_>, Vec<_>) =
                t.drain(..).partition(|(_, h)| all || h.is_finished());
            let n = running.len();
            *t = running;
            (done, n)
        };
        let mut failed = 0;
        for (name, h) in done {
            if let Err(e) = h.join().unwrap_or_else(|_| Err("it panicked".into())) {
                tracing::error!(target: "ovpn", "{program}: {name}: {e}");
                failed += 1;
            }
        }
        (running, failed)
    }

    /// Watches the loops until `stop` is set (a signal) or `give_up(running, failed)` says
    /// so, asking every loop in `controls()` for its status on SIGUSR1; then stops them all,
    /// joins them, and says whether any failed.
    pub fn watch(
        &self,
        program: &str,
        stop: &Control,
        controls: &dyn Fn() -> Vec<Control>,
        give_up: impl Fn(usize, usize) -> bool,
    ) -> bool {
        let mut failed = 0;
        loop {
            let (running, f) = self.join(program, false);
            failed += f;
            if stop.is_stopped() || give_up(running, failed) {
                break;
            }
            if stop.take_status_request() {
                controls().iter().for_each(Control::request_status);
            }
            std::thread::sleep(LOOK);
        }
        controls().iter().for_each(Control::stop);
        stop.stop();
        failed += self.join(program, true).1;
        failed > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_loop_is_reported_and_the_others_are_stopped() {
        let loops = Loops::default();
        let program = Control::standalone().unwrap();
        let worker = Control::standalone().unwrap();
        // One loop runs until stopped, one fails at once.
        let w = worker.clone();
        loops
            .spawn("runs", move || {
                while !w.is_stopped() {
                    std::thread::yield_now();
                }
                Ok(())
            })
            .unwrap();
        loops.spawn("fails", || Err("broken".into())).unwrap();
        let failed = loops.watch("test", &program, &|| vec![worker.clone()], |_, f| f > 0);
        assert!(failed);
        assert!(worker.is_stopped() && program.is_stopped());
        assert_eq!(loops.join("test", true), (0, 0), "every loop was joined");
        // A signal (the stop flag) ends a watch where nothing failed.
        let loops = Loops::default();
        let stop = Control::standalone().unwrap();
        loops.spawn("done", || Ok(())).unwrap();
        stop.stop();
        assert!(!loops.watch("test", &stop, &Vec::new, |_, f| f > 0));
    }
}
