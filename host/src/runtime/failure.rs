//! Why a call failed, classified so that clients, billing and operators can
//! tell a plugin bug from a limit from a policy denial.

use std::time::Duration;

use serde::Serialize;

/// A contained, classified failure of one call. The host keeps serving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum Failure {
    /// The guest trapped (panic, unreachable, out-of-bounds access, stack overflow...).
    #[error("the plugin crashed: {message}")]
    Trap {
        /// The trap and the guest backtrace, as wasmtime reports them.
        message: String,
    },
    /// The call used up its fuel budget.
    #[error(
        "the call ran out of fuel after {limit} units; raise `limits.fuel` in the plugin's policy if this input legitimately needs more"
    )]
    OutOfFuel {
        /// The budget that was exhausted.
        limit: u64,
    },
    /// The call hit its wall-clock deadline.
    #[error(
        "the call exceeded its {}-ms time limit; raise `limits.timeout_ms` in the plugin's policy if this input legitimately needs more",
        timeout.as_millis()
    )]
    Deadline {
        /// The deadline that passed.
        #[serde(serialize_with = "ms")]
        timeout: Duration,
    },
    /// The guest tried to grow its memory past the policy's limit.
    #[error(
        "the call exceeded its memory limit of {} MiB; raise `limits.memory_mib` in the plugin's policy if this input legitimately needs more",
        limit_bytes / (1024 * 1024)
    )]
    MemoryLimit {
        /// The limit in bytes.
        limit_bytes: u64,
    },
    /// The guest tried to use a capability its policy does not grant, and
    /// failed because of it.
    #[error("denied by policy: {what}")]
    Denied {
        /// What was refused, e.g. `HTTP to example.org:443: host not in network.allow`.
        what: String,
    },
    /// The arguments did not match the tool's input schema.
    #[error("bad arguments: {message}")]
    BadArguments {
        /// Which field is wrong and what was expected.
        message: String,
    },
    /// The caller cancelled the call.
    #[error("the call was cancelled")]
    Cancelled,
    /// The call stopped to ask the client for input it has not given yet
    /// (a 2026-07-28 input-required result); it runs again when the client
    /// retries with its answers.
    #[error("the call stopped to ask the client for input; it runs again with the answers")]
    InputRequired,
    /// The component could not be instantiated for this call (for example the
    /// instance pool is exhausted or the policy's directories vanished).
    #[error("the plugin could not be started: {message}")]
    Instantiation {
        /// What went wrong.
        message: String,
    },
}

impl Failure {
    /// The stable snake_case name of the class, for logs, metrics and the store.
    pub fn class(&self) -> &'static str {
        match self {
            Failure::Trap { .. } => "trap",
            Failure::OutOfFuel { .. } => "out_of_fuel",
            Failure::Deadline { .. } => "deadline",
            Failure::MemoryLimit { .. } => "memory_limit",
            Failure::Denied { .. } => "denied",
            Failure::BadArguments { .. } => "bad_arguments",
            Failure::Cancelled => "cancelled",
            Failure::InputRequired => "input_required",
            Failure::Instantiation { .. } => "instantiation",
        }
    }
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
