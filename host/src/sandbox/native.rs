//! The fallback engine for code that needs native packages (numpy, pandas,
//! Biopython...): CPython run natively in an OS sandbox. Two drivers share
//! this module's contract: the run's files (`meta/` with the runner, the
//! code and the report; `scratch/`; `inputs/`), the limits, and how a
//! report becomes an outcome.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::SandboxError;
use super::component::{EngineRun, output_limit};
use super::outcome::{ErrorKind, PyException, PyValue, RunError};
use super::packages::Requirement;
use super::request::RunDir;

/// The runner script every native driver executes (`host/src/sandbox/python/`).
pub(super) const RUNNER: &str = include_str!("python/native_runner.py");

/// Where `meta/` is mounted, read-only; the runner's report directory
/// `meta/report` is mounted writable below it.
pub(super) const GUEST_META: &str = "/.bioai";

/// Limits of a native run (the component engine uses fuel and linear memory
/// instead).
#[derive(Debug, Clone)]
pub struct NativeLimits {
    /// CPU time, user + system, of all the run's processes.
    pub cpu_time: Duration,
    /// Address-space limit per process, in bytes (`RLIMIT_AS`; Docker: the
    /// container's memory limit).
    pub memory_bytes: u64,
    /// The most processes (and threads) the run may have at once.
    pub max_processes: u32,
    /// Cap on captured stdout, and on stderr, each.
    pub max_output_bytes: usize,
    /// The largest file the run may write (`RLIMIT_FSIZE`).
    pub max_file_bytes: u64,
}

impl Default for NativeLimits {
    /// 30 s of CPU, 2 GiB of address space, 32 processes, 1 MiB per
    /// stream, 64 MiB files.
    fn default() -> Self {
        Self {
            cpu_time: Duration::from_secs(30),
            memory_bytes: 2 << 30,
            max_processes: 32,
            max_output_bytes: 1 << 20,
            max_file_bytes: 64 << 20,
        }
    }
}

/// One native run's parameters.
pub struct NativeJob<'a> {
    /// The run's directories (code, runner and requirements already in `meta/`).
    pub dir: &'a RunDir,
    /// Read-only data directories: (host, guest).
    pub data_dirs: &'a [(std::path::PathBuf, String)],
    /// The limits.
    pub limits: &'a NativeLimits,
    /// The wall-clock deadline from the start.
    pub timeout: Duration,
    /// The unprivileged uid/gid the run uses, when the host runs as root.
    pub uid: Option<u32>,
    /// Cancelling kills the run.
    pub cancel: CancellationToken,
}

/// What a driver observed of the process; the report is read afterwards.
#[derive(Debug, Default)]
pub struct NativeExit {
    /// Captured stdout (bounded).
    pub stdout: String,
    /// Captured stderr (bounded).
    pub stderr: String,
    /// Whether either stream was cut.
    pub truncated: bool,
    /// Wall time.
    pub wall: Duration,
    /// CPU time, when the driver can measure it.
    pub cpu: Option<Duration>,
    /// Peak resident memory in bytes, when the driver can measure it.
    pub peak_memory_bytes: Option<u64>,
    /// Why the driver stopped the run, if it did.
    pub stopped: Option<RunError>,
    /// The signal that ended the interpreter, if any.
    pub signal: Option<i32>,
    /// The exit code, if it exited.
    pub code: Option<i32>,
}

/// A way to run the native interpreter in an OS sandbox.
#[async_trait::async_trait]
pub trait NativeDriver: Send + Sync {
    /// Which engine this is.
    fn kind(&self) -> super::EngineKind;
    /// Runs the runner script once under the job's limits, and tears the
    /// sandbox (namespace or container) down afterwards.
    async fn run(&self, job: NativeJob<'_>) -> Result<NativeExit, SandboxError>;
}

/// Writes the runner, the code and the requirements' module names to
/// `meta/`, and makes the run's directories usable by `uid`.
pub(super) fn prepare(
    dir: &RunDir,
    code: &str,
    requirements: &[Requirement],
    uid: Option<u32>,
) -> Result<(), SandboxError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |e: std::io::Error| SandboxError::Io(format!("preparing the native run: {e}"));
    let meta = dir.meta();
    std::fs::write(meta.join("runner.py"), RUNNER).map_err(io)?;
    std::fs::write(meta.join("code.py"), code).map_err(io)?;
    let modules: Vec<String> = requirements.iter().map(|r| r.import_name()).collect();
    let modules = serde_json::to_string(&modules).unwrap_or_else(|_| "[]".into());
    std::fs::write(meta.join("requirements.json"), modules).map_err(io)?;
    std::fs::create_dir_all(meta.join("report")).map_err(io)?;
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    // Directories the sandboxed user only reads: traversable and readable.
    for p in [dir.path(), &dir.inputs(), &meta] {
        mode(p, 0o755).map_err(io)?;
    }
    for entry in std::fs::read_dir(dir.inputs()).map_err(io)?.flatten() {
        let p = entry.path();
        let readable = std::fs::metadata(&p)
            .map(|m| m.permissions().mode() & 0o004 != 0)
            .unwrap_or(false);
        if !readable {
            // A hard link to a private workspace file: give the run a
            // readable copy instead of changing the workspace's file.
            let copy = p.with_extension("bioai-copy");
            std::fs::copy(&p, &copy)
                .and_then(|_| std::fs::rename(&copy, &p))
                .and_then(|_| mode(&p, 0o644))
                .map_err(io)?;
        }
    }
    if let Some(uid) = uid {
        for p in [
            dir.scratch(),
            dir.scratch().join("out"),
            meta.join("report"),
        ] {
            std::os::unix::fs::chown(&p, Some(uid), Some(uid)).map_err(io)?;
        }
    } else {
        for p in [
            dir.scratch(),
            dir.scratch().join("out"),
            meta.join("report"),
        ] {
            mode(&p, 0o700).map_err(io)?;
        }
    }
    Ok(())
}

/// The runner's report (`meta/report/report.json`).
#[derive(Debug, Deserialize)]
struct Report {
    #[serde(default)]
    missing: Vec<String>,
    #[serde(default)]
    value_repr: Option<String>,
    #[serde(default)]
    value_json: Option<String>,
    #[serde(default)]
    exception: Option<ReportedException>,
    /// CPU time of the interpreter and its children, as it measured it.
    #[serde(default)]
    cpu_us: Option<u64>,
    /// Peak resident set of the interpreter or a child, in KiB.
    #[serde(default)]
    maxrss_kib: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct ReportedException {
    #[serde(rename = "type")]
    type_name: String,
    message: String,
    #[serde(default)]
    errno: Option<i64>,
    #[serde(default)]
    memory_error: bool,
    traceback: String,
}

/// Turns what the driver saw and the runner reported into the engine's
/// result, classifying limits into clear errors.
pub(super) fn finish(
    exit: NativeExit,
    dir: &RunDir,
    limits: &NativeLimits,
    engine: super::EngineKind,
) -> Result<EngineRun, SandboxError> {
    let report: Option<Report> = std::fs::read(dir.meta().join("report/report.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(r) = &report
        && !r.missing.is_empty()
    {
        return Err(SandboxError::MissingOnFallback {
            engine,
            modules: r.missing.clone(),
        });
    }
    let mut run = EngineRun {
        stdout: exit.stdout,
        stderr: exit.stderr,
        output_truncated: exit.truncated,
        value: None,
        exception: None,
        error: exit.stopped,
        meters: super::RunMeters {
            wall_us: micros(exit.wall),
            cpu_us: exit.cpu.map(micros),
            peak_memory_bytes: exit.peak_memory_bytes,
            ..Default::default()
        },
        engine,
    };
    let cpu_spent = exit
        .cpu
        .is_some_and(|c| c + Duration::from_millis(50) >= limits.cpu_time);
    if let Some(r) = &report {
        // The driver may not see the sandbox's processes' rusage (bubblewrap
        // does not reap the namespace's init): take the larger reading.
        let m = &mut run.meters;
        m.cpu_us = m.cpu_us.max(r.cpu_us);
        m.peak_memory_bytes = m.peak_memory_bytes.max(r.maxrss_kib.map(|k| k * 1024));
    }
    if let Some(r) = report {
        run.value = r.value_repr.map(|repr| PyValue {
            json: r.value_json.and_then(|j| serde_json::from_str(&j).ok()),
            repr,
        });
        if let Some(e) = r.exception {
            if run.error.is_none() {
                run.error = exception_limit(&e, limits);
            }
            run.exception = Some(PyException {
                type_name: e.type_name,
                message: e.message,
                traceback: e.traceback,
            });
        }
    } else if run.error.is_none() {
        let cpu_signal = matches!(exit.signal, Some(libc::SIGXCPU))
            || (matches!(exit.signal, Some(libc::SIGKILL)) && cpu_spent);
        run.error = Some(if cpu_signal {
            cpu_error(limits)
        } else if matches!(exit.signal, Some(libc::SIGKILL) | Some(libc::SIGSEGV))
            && exit
                .peak_memory_bytes
                .is_some_and(|p| p * 10 >= limits.memory_bytes * 9)
        {
            memory_error(limits)
        } else {
            RunError {
                kind: ErrorKind::Crashed,
                message: match (exit.signal, exit.code) {
                    (Some(s), _) => format!(
                        "the Python process was killed by signal {s} before it could report (see stderr)"
                    ),
                    (None, c) => format!(
                        "the Python process exited with status {} before it could report (see stderr)",
                        c.unwrap_or(-1)
                    ),
                },
            }
        });
    }
    if run.error.is_none() && run.output_truncated {
        run.error = Some(output_limit(limits.max_output_bytes));
    }
    if run
        .error
        .as_ref()
        .is_some_and(|e| e.kind == ErrorKind::CpuTime)
    {
        // Killed at the limit before it could report: it used (at least) all of it.
        let limit = micros(limits.cpu_time);
        run.meters.cpu_us = Some(run.meters.cpu_us.unwrap_or(0).max(limit));
    }
    Ok(run)
}

/// Exceptions that mean a limit was reached.
fn exception_limit(e: &ReportedException, limits: &NativeLimits) -> Option<RunError> {
    if e.memory_error {
        return Some(memory_error(limits));
    }
    match e.type_name.as_str() {
        // fork/clone refused with EAGAIN: RLIMIT_NPROC (or the container's
        // pids limit).
        "BlockingIOError" if e.errno == Some(i64::from(libc::EAGAIN)) => Some(RunError {
            kind: ErrorKind::ProcessLimit,
            message: format!(
                "the code tried to run more than {} processes or threads at once and was refused (the sandbox's process limit)",
                limits.max_processes
            ),
        }),
        "RuntimeError" if e.message.contains("can't start new thread") => Some(RunError {
            kind: ErrorKind::ProcessLimit,
            message: format!(
                "the code tried to run more than {} processes or threads at once and was refused (the sandbox's process limit)",
                limits.max_processes
            ),
        }),
        _ => None,
    }
}

pub(super) fn cpu_error(limits: &NativeLimits) -> RunError {
    RunError {
        kind: ErrorKind::CpuTime,
        message: format!(
            "the code used up its CPU-time limit of {:.1} s and was killed",
            limits.cpu_time.as_secs_f64()
        ),
    }
}

pub(super) fn memory_error(limits: &NativeLimits) -> RunError {
    RunError {
        kind: ErrorKind::MemoryLimit,
        message: format!(
            "the code needed more than the memory limit of {} MiB",
            limits.memory_bytes / (1024 * 1024)
        ),
    }
}

pub(super) fn timeout_error(timeout: Duration) -> RunError {
    RunError {
        kind: ErrorKind::Timeout,
        message: format!(
            "the code ran past its time limit of {:.1} s and was killed",
            timeout.as_secs_f64()
        ),
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Unprivileged uids for native runs when the host runs as root: one per
/// concurrent run, so `RLIMIT_NPROC` (counted per uid) limits that run only.
pub(super) struct UidPool {
    base: u32,
    size: u32,
    used: Mutex<Vec<bool>>,
}

impl UidPool {
    /// A pool of `size` uids starting at `base`.
    pub fn new(base: u32, size: u32) -> Self {
        Self {
            base,
            size,
            used: Mutex::new(vec![false; size as usize]),
        }
    }

    /// Takes a free uid, or `None` when the host does not run as root (the
    /// run then keeps the host's uid) or every uid is busy.
    pub fn take(&self) -> Result<Option<UidLease<'_>>, SandboxError> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(None);
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let slot = used.iter().position(|u| !u).ok_or_else(|| {
            SandboxError::Busy(format!(
                "all {} native sandbox slots are in use; retry shortly",
                self.size
            ))
        })?;
        used[slot] = true;
        Ok(Some(UidLease {
            pool: self,
            slot,
            uid: self.base + slot as u32,
        }))
    }
}

/// A uid taken from the pool; returned on drop.
pub(super) struct UidLease<'a> {
    pool: &'a UidPool,
    slot: usize,
    /// The uid (and gid).
    pub uid: u32,
}

impl Drop for UidLease<'_> {
    fn drop(&mut self) {
        let mut used = self.pool.used.lock().unwrap_or_else(|p| p.into_inner());
        used[self.slot] = false;
    }
}
