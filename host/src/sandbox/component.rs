//! The default engine: CPython as a WebAssembly component (componentize-py,
//! pre-initialized with the standard library and the bundled packages
//! imported), run through the host's runtime like every tool, so fuel,
//! memory, time and output limits are the same path.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bioai_policy::{DirGrant, Policy};
use tokio_util::sync::CancellationToken;
use wasmtime::component::{ComponentExportIndex, Val};

use super::SandboxError;
use super::outcome::{EngineKind, ErrorKind, PyException, PyValue, RunError, RunMeters};
use super::request::{GUEST_INPUTS, GUEST_SCRATCH, RunDir};
use crate::runtime::{CallSpec, Failure, Program, Runtime};

/// The interface the component exports (`host/src/sandbox/python/world.wit`).
const RUNNER_EXPORT: &str = "bioai:python/runner@0.1.0";

/// The loaded component and its `run` export.
pub struct ComponentEngine {
    runtime: Arc<Runtime>,
    program: Program,
    run: ComponentExportIndex,
}

/// What the engine reports back to the sandbox (before output files).
pub(super) struct EngineRun {
    pub stdout: String,
    pub stderr: String,
    pub output_truncated: bool,
    pub value: Option<PyValue>,
    pub exception: Option<PyException>,
    pub error: Option<RunError>,
    pub meters: RunMeters,
    pub engine: EngineKind,
}

impl ComponentEngine {
    /// Loads the component (from the compiled cache when present).
    pub fn load(runtime: Arc<Runtime>, path: &Path) -> Result<Self, SandboxError> {
        if !path.is_file() {
            return Err(SandboxError::Setup(format!(
                "the Python sandbox component {} is missing; build it with `cargo xtask build`",
                path.display()
            )));
        }
        let program = runtime
            .load_file(path)
            .map_err(|e| SandboxError::Setup(e.to_string()))?;
        let run = program
            .export_index(Some(RUNNER_EXPORT), "run")
            .ok_or_else(|| {
                SandboxError::Setup(format!(
                    "{} does not export {RUNNER_EXPORT}#run; rebuild it from host/src/sandbox/python with `cargo xtask build`",
                    path.display()
                ))
            })?;
        Ok(Self {
            runtime,
            program,
            run,
        })
    }

    /// Runs `code` with the run's directories mounted: scratch read-write at
    /// [`GUEST_SCRATCH`], inputs read-only at [`GUEST_INPUTS`], plus the
    /// policy's own (read-only unless it says otherwise) directories.
    pub(super) async fn run(
        &self,
        code: &str,
        dir: &RunDir,
        policy: &Policy,
        timeout: Duration,
        cancel: CancellationToken,
    ) -> EngineRun {
        let mut policy = policy.clone();
        policy.limits.timeout = policy.limits.timeout.min(timeout);
        policy.workspace = None;
        // Reference data is read-only in the sandbox, whatever the grant says.
        for d in &mut policy.dirs {
            d.writable = false;
        }
        let canonical = |p: std::path::PathBuf| p.canonicalize().unwrap_or(p);
        policy.dirs.push(DirGrant {
            host: canonical(dir.scratch()),
            guest: GUEST_SCRATCH.into(),
            writable: true,
        });
        policy.dirs.push(DirGrant {
            host: canonical(dir.inputs()),
            guest: GUEST_INPUTS.into(),
            writable: false,
        });
        let env = policy.resolve_env(|k| std::env::var(k).ok());
        let args = [Val::String(code.into()), Val::String(GUEST_SCRATCH.into())];
        let outcome = self
            .runtime
            .call(
                &self.program,
                &self.run,
                &args,
                1,
                CallSpec {
                    policy: &policy,
                    env: &env,
                    workspace: None,
                    cancel,
                    progress: None,
                    log: None,
                    client: None,
                    role: None,
                    label: "sandbox.run_python",
                },
            )
            .await;
        let meters = RunMeters {
            wall_us: u64::try_from(outcome.meters.wall.as_micros()).unwrap_or(u64::MAX),
            fuel: Some(outcome.meters.fuel),
            cpu_us: None,
            peak_memory_bytes: Some(outcome.meters.peak_memory_bytes),
            net_requests: outcome.meters.net_requests,
            output_file_bytes: 0,
        };
        let output_truncated = outcome.stdout.truncated || outcome.stderr.truncated;
        let mut run = EngineRun {
            stdout: outcome.stdout.text,
            stderr: outcome.stderr.text,
            output_truncated,
            value: None,
            exception: None,
            error: None,
            meters,
            engine: EngineKind::Component,
        };
        match outcome.result {
            Ok(values) => match decode(values.first()) {
                Ok((value, exception)) => {
                    // The memory limiter refused a grow and Python raised
                    // MemoryError: that is the memory limit, say so.
                    if exception
                        .as_ref()
                        .is_some_and(|e| e.type_name == "MemoryError")
                    {
                        run.error = Some(classify(
                            &Failure::MemoryLimit {
                                limit_bytes: policy.limits.memory_bytes,
                            },
                            &policy,
                        ));
                    }
                    run.value = value;
                    run.exception = exception;
                }
                Err(message) => {
                    run.error = Some(RunError {
                        kind: ErrorKind::Crashed,
                        message,
                    })
                }
            },
            Err(failure) => run.error = Some(classify(&failure, &policy)),
        }
        if run.error.is_none() && output_truncated {
            run.error = Some(output_limit(policy.limits.max_output_bytes));
        }
        run
    }
}

/// The error for stdout/stderr past the policy's cap.
pub(super) fn output_limit(cap: usize) -> RunError {
    RunError {
        kind: ErrorKind::OutputLimit,
        message: format!(
            "the run printed more than {cap} bytes to stdout or stderr; the rest was dropped (print less, or write large results to out/)"
        ),
    }
}

fn classify(failure: &Failure, policy: &Policy) -> RunError {
    let (kind, message) = match failure {
        Failure::OutOfFuel { limit } => (
            ErrorKind::OutOfFuel,
            format!(
                "the code used up its compute budget of {limit} fuel units and was stopped (the sandbox policy's `limits.fuel`)"
            ),
        ),
        Failure::Deadline { timeout } => (
            ErrorKind::Timeout,
            format!(
                "the code ran past its time limit of {:.1} s and was stopped (lower the work or raise timeout_s, at most the policy's {:.1} s)",
                timeout.as_secs_f64(),
                policy.limits.timeout.as_secs_f64()
            ),
        ),
        Failure::MemoryLimit { limit_bytes } => (
            ErrorKind::MemoryLimit,
            format!(
                "the code needed more than the memory limit of {} MiB and was stopped (the sandbox policy's `limits.memory_mib`)",
                limit_bytes / (1024 * 1024)
            ),
        ),
        Failure::Cancelled => (ErrorKind::Cancelled, "the run was cancelled".to_string()),
        Failure::Denied { what } => (ErrorKind::Denied, format!("denied by policy: {what}")),
        other => (
            ErrorKind::Crashed,
            format!("the Python interpreter stopped abnormally: {other}"),
        ),
    };
    RunError { kind, message }
}

type Decoded = (Option<PyValue>, Option<PyException>);

/// Reads the `outcome` record the component returned.
fn decode(val: Option<&Val>) -> Result<Decoded, String> {
    let Some(Val::Record(fields)) = val else {
        return Err(format!(
            "the sandbox component returned {val:?} instead of an outcome record; rebuild it with `cargo xtask build`"
        ));
    };
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let text = |name: &str| match field(name) {
        Some(Val::Option(Some(v))) => match &**v {
            Val::String(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let value = text("value-repr").map(|repr| PyValue {
        json: text("value-json").and_then(|j| serde_json::from_str(&j).ok()),
        repr,
    });
    let exception = match field("exception") {
        Some(Val::Option(Some(v))) => match &**v {
            Val::Record(ex) => {
                let get = |n: &str| {
                    ex.iter()
                        .find(|(k, _)| k == n)
                        .and_then(|(_, v)| match v {
                            Val::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .unwrap_or_default()
                };
                Some(PyException {
                    type_name: get("type-name"),
                    message: get("message"),
                    traceback: get("traceback"),
                })
            }
            _ => None,
        },
        _ => None,
    };
    Ok((value, exception))
}
