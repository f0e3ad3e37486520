//! Structured logging into the host's log.
//!
//! Each record carries a [`Level`], a message and optional key/value fields;
//! the host tags it with the plugin and the call it belongs to. Use the
//! level functions ([`info`], [`warn`], ...) for a plain message, [`log()`]
//! for fields, or the [`log!`](macro@crate::log) macro for both with
//! formatting.
//!
//! Outside WebAssembly (native unit tests of a plugin's logic) records are
//! printed to stderr instead.
//!
//! ```
//! use bioai_sdk::log;
//!
//! log::info("starting");
//! log::log(log::Level::Debug, "chunk done", &[("index", "3"), ("bytes", "65536")]);
//! ```

/// Severity of a log record (the WIT enum `bioai:plugin/log.level`).
pub use crate::bindings::bioai::plugin::log::Level;

/// Emits one log record with `fields` attached as key/value pairs.
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    #[cfg(target_arch = "wasm32")]
    {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        crate::bindings::bioai::plugin::log::log(level, message, &fields);
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::fmt::Write as _;
        let mut line = format!("[{}] {message}", level_name(level));
        for (k, v) in fields {
            let _ = write!(line, " {k}={v:?}");
        }
        eprintln!("{line}");
    }
}

/// The lower-case name of a level, as in the WIT enum (`info`, `warn`, ...).
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

/// Emits a `trace` record: very detailed diagnostics.
pub fn trace(message: &str) {
    log(Level::Trace, message, &[]);
}

/// Emits a `debug` record: diagnostics useful when investigating a call.
pub fn debug(message: &str) {
    log(Level::Debug, message, &[]);
}

/// Emits an `info` record: a notable step of normal operation.
pub fn info(message: &str) {
    log(Level::Info, message, &[]);
}

/// Emits a `warn` record: something unexpected that the plugin recovered from.
pub fn warn(message: &str) {
    log(Level::Warn, message, &[]);
}

/// Emits an `error` record: a failure (usually also returned as the tool's error).
pub fn error(message: &str) {
    log(Level::Error, message, &[]);
}
