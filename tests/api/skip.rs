//! A test that cannot run here (no PostgreSQL URL, no permission to mount) says so on a line
//! of its own, `SKIPPED: <test> (<why>)`, and passes: libtest has no way to mark a test
//! skipped at run time. The line goes straight to the process's stderr, past libtest's output
//! capture, so plain `cargo test` shows it and `.ci/run` counts it as skipped in its summary.

use std::io::Write as _;

/// Report `test` as skipped because of `why`.
pub fn skipped(test: &str, why: &str) {
    let line = format!("SKIPPED: {test} ({why})\n");
    // One write of the whole line, so parallel tests do not interleave inside it.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// A line for the person running the tests even when the test passes (libtest shows the
/// captured output of failing tests only).
pub fn notice(line: &str) {
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{line}\n").as_bytes());
}
