//! Progress of the current call, forwarded by the host to the MCP client
//! (when the client asked for progress notifications).
//!
//! Outside WebAssembly (native unit tests of a plugin's logic) reports are
//! discarded.
//!
//! ```
//! use bioai_sdk::progress;
//!
//! let total = 4;
//! for done in 1..=total {
//!     progress::report_steps(done, total, &format!("chunk {done} of {total}"));
//! }
//! progress::report(1.0, "done");
//! ```

/// Reports that `fraction` of the work is done, with a human-readable message.
///
/// `fraction` is clamped to `0.0..=1.0`; a NaN fraction is not reported at
/// all. Reports are cheap but not free (each one crosses into the host), so
/// for tight loops report every few percent rather than every iteration.
pub fn report(fraction: f64, message: &str) {
    if fraction.is_nan() {
        return;
    }
    let fraction = fraction.clamp(0.0, 1.0);
    #[cfg(target_arch = "wasm32")]
    crate::bindings::bioai::plugin::progress::report(fraction, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (fraction, message);
}

/// Reports that `done` of `total` steps are complete (`done / total`).
///
/// A `total` of zero reports completion (`1.0`).
pub fn report_steps(done: u64, total: u64, message: &str) {
    let fraction = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    report(fraction, message);
}
