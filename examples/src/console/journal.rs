//! The journal of console changes: each change that succeeded, as its command line, kept in
//! `console.rsc` in the state directory (written atomically: a temporary file, fsync, rename;
//! 0600) and replayed after the configuration script at the next start. A journal that cannot be
//! read or no longer applies stops the start with its path, line and reason; it is never
//! replaced in silence.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The journal's file name in the state directory.
pub const JOURNAL: &str = "console.rsc";

/// The console's changes so far, and where they are kept.
#[derive(Debug, Default)]
pub struct Journal {
    lines: Mutex<Vec<String>>,
    file: Option<PathBuf>,
    /// Replaying: changes are collected, the file is left as it is.
    replaying: AtomicBool,
}

/// Writes `lines` to `path` atomically (a temporary file, fsync, rename), 0600.
fn write_atomically(path: &Path, lines: &[String]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent().filter(|d| !d.exists()) {
        crate::script::private_dir(dir)?;
    }
    let tmp = path.with_extension("rsc.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(b"# changes made from the console, applied after the script at start\n")?;
    for l in lines {
        f.write_all(l.as_bytes())?;
        f.write_all(b"\n")?;
    }
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl Journal {
    /// The journal of `state_dir` (None: changes are not kept).
    pub fn new(state_dir: Option<&Path>) -> Self {
        Self {
            file: state_dir.map(|d| d.join(JOURNAL)),
            ..Self::default()
        }
    }

    /// Keeps a change (the whole journal is written again).
    pub fn keep(&self, line: &str) -> Result<(), String> {
        let Ok(mut lines) = self.lines.lock() else {
            return Err("the journal is unusable".into());
        };
        lines.push(line.to_owned());
        let replaying = self.replaying.load(Ordering::SeqCst);
        if let Some(path) = self.file.as_ref().filter(|_| !replaying) {
            write_atomically(path, &lines).map_err(|e| {
                format!(
                    "{}: {e}: the change applies now but is not kept",
                    path.display()
                )
            })?;
        }
        Ok(())
    }

    /// Replays the journal of an earlier run through `run`: every line must apply, or the
    /// start is refused with the file's path, the line and why. Returns the lines applied.
    pub fn replay(&self, run: impl Fn(&str) -> Result<String, String>) -> Result<usize, String> {
        let Some(path) = &self.file else {
            return Ok(0);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        self.replaying.store(true, Ordering::SeqCst);
        let mut n = 0;
        let mut result = Ok(());
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Err(e) = run(line) {
                result = Err(format!("{}:{}: {e}", path.display(), i + 1));
                break;
            }
            n += 1;
        }
        self.replaying.store(false, Ordering::SeqCst);
        result.map(|()| n)
    }
}
