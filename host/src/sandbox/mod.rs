//! The Python sandbox behind `sandbox.run_python`: runs agents' and users'
//! Python where it cannot harm anyone.
//!
//! Two engines, one contract ([`RunRequest`] in, [`RunOutcome`] out):
//!
//! - **component** (default): CPython built as a WebAssembly component with
//!   componentize-py (`host/src/sandbox/python/`), pre-initialized with the whole
//!   pure-Python standard library and the bundled packages imported, run
//!   through [`crate::runtime::Runtime`] like every tool (fuel, memory,
//!   deadline, output caps, the policy's network rules);
//! - **native fallback** (opt-in by the operator, [`Fallback`]): the host's
//!   CPython in an OS sandbox, for code needing numpy, pandas, Biopython...:
//!   [`bwrap::BwrapDriver`] (namespaces + seccomp) or
//!   [`docker::DockerDriver`] (Docker Engine API).
//!
//! Every run gets a fresh scratch directory (its working directory; files
//! written to `out/` come back) and its input files read-only at
//! `/inputs`; both are deleted when the run ends, after the output files
//! are copied to the sandbox's output directory.

pub mod bwrap;
mod component;
#[cfg(feature = "docker")]
pub mod docker;
pub mod native;
mod outcome;
pub mod packages;
mod request;
mod schema;
mod tool;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bioai_policy::Policy;

pub use component::ComponentEngine;
pub use native::{NativeDriver, NativeLimits};
pub use outcome::{
    EngineKind, ErrorKind, OutputFile, PyException, PyValue, RunError, RunMeters, RunOutcome,
    media_type,
};
pub use request::{GUEST_INPUTS, GUEST_SCRATCH, InputFile, OUT_DIR, RunContext, RunRequest};
pub use tool::{OUTPUT_SCHEME, RunPython, TOOL_NAME};

use crate::runtime::Runtime;
use native::{NativeJob, UidPool};
use outcome::FileLimits;
use packages::Requirement;
use request::RunDir;

/// Errors that keep a run from starting (the run's own failures and limits
/// are in its [`RunOutcome`]).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The request is malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// An input file cannot be used (outside the workspace, missing...).
    #[error("bad input file: {0}")]
    BadInput(String),
    /// A requirement needs the native fallback, which is not enabled.
    #[error(
        "requirement {requirement:?} cannot run here: {reason}. The native fallback engine is not enabled on this host (the operator can enable it with BIOAI_SANDBOX_FALLBACK=bwrap or docker)"
    )]
    NeedsNative {
        /// The requirement as written.
        requirement: String,
        /// Why the component engine cannot run it.
        reason: String,
    },
    /// The fallback engine's interpreter does not have a required package.
    #[error(
        "the {engine:?} fallback engine's Python cannot import {}; ask the operator to install it there",
        modules.join(", ")
    )]
    MissingOnFallback {
        /// The engine.
        engine: EngineKind,
        /// The modules that could not be found.
        modules: Vec<String>,
    },
    /// Every native sandbox slot is in use.
    #[error("{0}")]
    Busy(String),
    /// The sandbox is not set up correctly (component missing, driver
    /// unusable...).
    #[error("sandbox setup: {0}")]
    Setup(String),
    /// A file-system operation of the host failed.
    #[error("sandbox I/O: {0}")]
    Io(String),
}

/// Which native fallback engine the operator enabled.
#[derive(Debug, Clone, Default)]
pub enum Fallback {
    /// None: code needing native packages is refused with a clear message.
    #[default]
    Off,
    /// Local driver: bubblewrap (Linux namespaces + seccomp).
    Bwrap(bwrap::BwrapConfig),
    /// Docker driver (needs the `docker` cargo feature, on by default).
    #[cfg(feature = "docker")]
    Docker(docker::DockerConfig),
}

impl Fallback {
    /// Reads `BIOAI_SANDBOX_FALLBACK` (`off`, `bwrap`, `docker`; default
    /// `off`) with `BIOAI_SANDBOX_PYTHON`, `BIOAI_SANDBOX_BWRAP` and
    /// `BIOAI_SANDBOX_DOCKER_IMAGE` through `lookup`.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Fallback, SandboxError> {
        let choice = lookup("BIOAI_SANDBOX_FALLBACK").unwrap_or_default();
        match choice.trim().to_ascii_lowercase().as_str() {
            "" | "off" | "none" => Ok(Fallback::Off),
            "bwrap" | "bubblewrap" | "local" => {
                let mut c = bwrap::BwrapConfig::default();
                if let Some(p) = lookup("BIOAI_SANDBOX_PYTHON") {
                    c.python = p.into();
                }
                if let Some(b) = lookup("BIOAI_SANDBOX_BWRAP") {
                    c.bwrap = b.into();
                }
                Ok(Fallback::Bwrap(c))
            }
            #[cfg(feature = "docker")]
            "docker" => {
                let mut c = docker::DockerConfig::default();
                if let Some(i) = lookup("BIOAI_SANDBOX_DOCKER_IMAGE") {
                    c.image = i;
                }
                Ok(Fallback::Docker(c))
            }
            other => Err(SandboxError::Setup(format!(
                "BIOAI_SANDBOX_FALLBACK={other:?} is not one of off, bwrap, docker{}",
                if cfg!(feature = "docker") {
                    ""
                } else {
                    " (docker needs the `docker` cargo feature)"
                }
            ))),
        }
    }
}

/// How the sandbox is set up.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// The CPython component (`target/plugins/python.wasm`).
    pub component: PathBuf,
    /// The sandbox's policy (`policies/python.toml`): fuel, memory,
    /// timeout, output caps, data directories, network.
    pub policy: Policy,
    /// The native fallback, if enabled.
    pub fallback: Fallback,
    /// Limits of native runs.
    pub native: NativeLimits,
    /// Where per-run directories are made (deleted after each run).
    pub scratch_dir: PathBuf,
    /// Where output files are kept after a run, one directory per run.
    pub output_dir: PathBuf,
    /// Output files up to this size that are UTF-8 text come back inline.
    pub inline_text_bytes: u64,
    /// The most output files kept per run.
    pub max_output_files: usize,
    /// The most bytes of output files kept per run.
    pub max_output_file_bytes: u64,
    /// First of the unprivileged uids native runs use when the host is root.
    pub uid_base: u32,
    /// How many native runs may run at once (one uid each).
    pub native_slots: u32,
}

impl SandboxSettings {
    /// Defaults: the component and policy given, no fallback, native limits
    /// taken from the policy (CPU time = timeout, address space = memory,
    /// output caps), run and output directories under `data_dir`.
    pub fn new(component: PathBuf, policy: Policy, data_dir: &Path) -> Self {
        let native = NativeLimits {
            cpu_time: policy.limits.timeout,
            memory_bytes: policy.limits.memory_bytes,
            max_output_bytes: policy.limits.max_output_bytes,
            ..NativeLimits::default()
        };
        Self {
            component,
            policy,
            fallback: Fallback::Off,
            native,
            scratch_dir: data_dir.join("sandbox").join("runs"),
            output_dir: data_dir.join("sandbox").join("outputs"),
            inline_text_bytes: 64 * 1024,
            max_output_files: 100,
            max_output_file_bytes: 64 << 20,
            uid_base: 200_000,
            native_slots: 64,
        }
    }
}

/// The sandbox: the loaded component engine and the fallback driver.
pub struct Sandbox {
    component: ComponentEngine,
    native: Option<Box<dyn NativeDriver>>,
    uids: UidPool,
    settings: SandboxSettings,
}

impl Sandbox {
    /// Loads the component and sets up the fallback driver the settings ask
    /// for (checking that it works on this host).
    pub async fn new(
        runtime: Arc<Runtime>,
        settings: SandboxSettings,
    ) -> Result<Self, SandboxError> {
        let component = ComponentEngine::load(runtime, &settings.component)?;
        let native: Option<Box<dyn NativeDriver>> = match &settings.fallback {
            Fallback::Off => None,
            Fallback::Bwrap(c) => Some(Box::new(bwrap::BwrapDriver::new(c.clone())?)),
            #[cfg(feature = "docker")]
            Fallback::Docker(c) => Some(Box::new(docker::DockerDriver::connect(c.clone()).await?)),
        };
        for dir in [&settings.scratch_dir, &settings.output_dir] {
            std::fs::create_dir_all(dir).map_err(|e| {
                SandboxError::Setup(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        // Native runs as an unprivileged uid must be able to reach their
        // run directories (traverse only, no listing).
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(
            &settings.scratch_dir,
            std::fs::Permissions::from_mode(0o711),
        );
        Ok(Self {
            component,
            native,
            uids: UidPool::new(settings.uid_base, settings.native_slots.max(1)),
            settings,
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &SandboxSettings {
        &self.settings
    }

    /// The fallback engine, if one is enabled.
    pub fn fallback(&self) -> Option<EngineKind> {
        self.native.as_ref().map(|d| d.kind())
    }

    /// JSON Schema of the tool's arguments ([`RunRequest`]).
    pub fn input_schema() -> serde_json::Value {
        schema::input()
    }

    /// JSON Schema of the tool's result ([`RunOutcome`]).
    pub fn output_schema() -> serde_json::Value {
        schema::output()
    }

    /// Where a kept output file is on the host, from its run id and name (as
    /// in [`OutputFile::uri`]); `None` if there is no such file.
    pub fn output_path(&self, run_id: &str, name: &str) -> Option<PathBuf> {
        let safe = |s: &str| {
            !s.is_empty()
                && Path::new(s)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
        };
        if !safe(run_id) || run_id.contains('/') || !safe(name) {
            return None;
        }
        let path = self.settings.output_dir.join(run_id).join(name);
        std::fs::symlink_metadata(&path)
            .ok()
            .filter(|m| m.is_file())
            .map(|_| path)
    }

    /// Runs one request. `Err` only when the run could not start (bad
    /// request, unusable input, a package no enabled engine has); limits,
    /// exceptions and crashes come back in the [`RunOutcome`].
    pub async fn run(
        &self,
        req: &RunRequest,
        ctx: &RunContext,
    ) -> Result<RunOutcome, SandboxError> {
        let timeout = req.timeout()?.min(self.settings.policy.limits.timeout);
        let requirements = req
            .requirements
            .iter()
            .map(|r| Requirement::parse(r).map_err(SandboxError::BadRequest))
            .collect::<Result<Vec<_>, _>>()?;
        let native = match packages::check(&requirements) {
            Ok(()) => None,
            Err(nb) => match &self.native {
                Some(driver) => Some(driver),
                None => {
                    return Err(SandboxError::NeedsNative {
                        requirement: nb.requirement,
                        reason: nb.reason,
                    });
                }
            },
        };
        let dir = RunDir::create(&self.settings.scratch_dir)?;
        dir.stage_inputs(&req.input_files, ctx.workspace.as_deref())?;
        let run = match native {
            None => {
                self.component
                    .run(
                        &req.code,
                        &dir,
                        &self.settings.policy,
                        timeout,
                        ctx.cancel.clone(),
                    )
                    .await
            }
            Some(driver) => {
                let lease = self.uids.take()?;
                let uid = lease.as_ref().map(|l| l.uid);
                native::prepare(&dir, &req.code, &requirements, uid)?;
                let data_dirs: Vec<(PathBuf, String)> = self
                    .settings
                    .policy
                    .dirs
                    .iter()
                    .map(|d| (d.host.clone(), d.guest.clone()))
                    .collect();
                let mut limits = self.settings.native.clone();
                limits.cpu_time = limits.cpu_time.min(timeout.max(Duration::from_secs(1)));
                let exit = driver
                    .run(NativeJob {
                        dir: &dir,
                        data_dirs: &data_dirs,
                        limits: &limits,
                        timeout,
                        uid,
                        cancel: ctx.cancel.clone(),
                    })
                    .await?;
                native::finish(exit, &dir, &limits, driver.kind())?
            }
        };
        let (files, file_error) = outcome::collect_files(
            &dir.scratch().join(OUT_DIR),
            &self.settings.output_dir.join(&dir.id),
            &dir.id,
            FileLimits {
                inline_text_bytes: self.settings.inline_text_bytes,
                max_total_bytes: self.settings.max_output_file_bytes,
                max_files: self.settings.max_output_files,
            },
        );
        // The scratch and input directories go now, outputs already copied.
        drop(dir);
        let mut meters = run.meters;
        meters.output_file_bytes = files.iter().map(|f| f.size).sum();
        Ok(RunOutcome {
            engine: run.engine,
            stdout: run.stdout,
            stderr: run.stderr,
            output_truncated: run.output_truncated,
            value: run.value,
            exception: run.exception,
            error: run.error.or(file_error),
            files,
            meters,
        })
    }
}
