//! The Docker driver: the native interpreter in a fresh container, through
//! the Docker Engine API (bollard), for production hosts that run an engine.
//! No network, read-only root file system and data mounts, one writable
//! scratch bind, memory/pids/CPU-time/file-size limits, no capabilities,
//! `no-new-privileges`; killed at the deadline and always removed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig, ResourcesUlimits};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, LogsOptions, RemoveContainerOptions,
    StartContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;

use super::native::{GUEST_META, NativeDriver, NativeExit, NativeJob, memory_error, timeout_error};
use super::outcome::{ErrorKind, RunError};
use super::request::{GUEST_INPUTS, GUEST_SCRATCH};
use super::{EngineKind, SandboxError};

/// The Docker driver's configuration.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    /// The image to run (it must have `python3` with the packages users
    /// need, e.g. an image built from `python:3.12-slim` plus numpy, pandas,
    /// scipy, biopython).
    pub image: String,
}

impl Default for DockerConfig {
    fn default() -> Self {
        Self {
            image: "python:3.12-slim".into(),
        }
    }
}

/// Runs the native interpreter in Docker containers.
pub struct DockerDriver {
    docker: Docker,
    config: DockerConfig,
}

impl DockerDriver {
    /// Connects to the local engine (`DOCKER_HOST` or the default socket)
    /// and checks that it answers.
    pub async fn connect(config: DockerConfig) -> Result<Self, SandboxError> {
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| SandboxError::Setup(format!("cannot reach the Docker engine: {e}")))?;
        docker.ping().await.map_err(|e| {
            SandboxError::Setup(format!(
                "the Docker fallback is enabled but no Docker engine answers ({e}); start one, set DOCKER_HOST, or set BIOAI_SANDBOX_FALLBACK=bwrap|off"
            ))
        })?;
        Ok(Self { docker, config })
    }

    fn body(&self, job: &NativeJob<'_>) -> ContainerCreateBody {
        let dir = job.dir;
        let limits = job.limits;
        let mut binds = vec![
            format!("{}:{GUEST_SCRATCH}:rw", dir.scratch().display()),
            format!("{}:{GUEST_INPUTS}:ro", dir.inputs().display()),
            format!("{}:{GUEST_META}:ro", dir.meta().display()),
            format!(
                "{}:{GUEST_META}/report:rw",
                dir.meta().join("report").display()
            ),
        ];
        for (host, guest) in job.data_dirs {
            binds.push(format!("{}:{guest}:ro", host.display()));
        }
        let cpu = i64::try_from(limits.cpu_time.as_secs().max(1)).unwrap_or(i64::MAX);
        let fsize = i64::try_from(limits.max_file_bytes).unwrap_or(i64::MAX);
        let ulimit = |name: &str, soft: i64, hard: i64| ResourcesUlimits {
            name: Some(name.into()),
            soft: Some(soft),
            hard: Some(hard),
        };
        let memory = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = job.uid.unwrap_or_else(|| unsafe { libc::getuid() });
        ContainerCreateBody {
            image: Some(self.config.image.clone()),
            cmd: Some(vec![
                "python3".into(),
                "-I".into(),
                format!("{GUEST_META}/runner.py"),
            ]),
            working_dir: Some(GUEST_SCRATCH.into()),
            user: Some(format!("{uid}:{uid}")),
            env: Some(vec![
                format!("HOME={GUEST_SCRATCH}"),
                "PYTHONDONTWRITEBYTECODE=1".into(),
                "PYTHONUNBUFFERED=1".into(),
                "MPLBACKEND=Agg".into(),
                "OPENBLAS_NUM_THREADS=1".into(),
                "OMP_NUM_THREADS=1".into(),
            ]),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                binds: Some(binds),
                network_mode: Some("none".into()),
                readonly_rootfs: Some(true),
                memory: Some(memory),
                memory_swap: Some(memory),
                pids_limit: Some(i64::from(limits.max_processes)),
                ulimits: Some(vec![
                    ulimit("cpu", cpu, cpu + 1),
                    ulimit("fsize", fsize, fsize),
                    ulimit("core", 0, 0),
                ]),
                cap_drop: Some(vec!["ALL".into()]),
                security_opt: Some(vec!["no-new-privileges".into()]),
                tmpfs: Some(HashMap::from([(
                    "/tmp".to_string(),
                    "rw,noexec,nosuid,size=64m".to_string(),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn remove(&self, name: &str) {
        let removed = self
            .docker
            .remove_container(
                name,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                }),
            )
            .await;
        if let Err(e) = removed {
            tracing::error!(
                container = name,
                "could not remove a sandbox container: {e}"
            );
        }
    }

    async fn run_created(
        &self,
        name: &str,
        job: &NativeJob<'_>,
        start: Instant,
    ) -> Result<NativeExit, SandboxError> {
        let api = |e: bollard::errors::Error| SandboxError::Io(format!("Docker Engine API: {e}"));
        self.docker
            .start_container(name, None::<StartContainerOptions>)
            .await
            .map_err(api)?;
        let mut stopped = None;
        let mut wait = self
            .docker
            .wait_container(name, None::<WaitContainerOptions>);
        let status = tokio::select! {
            r = wait.next() => r,
            _ = tokio::time::sleep(job.timeout) => {
                stopped = Some(timeout_error(job.timeout));
                None
            }
            _ = job.cancel.cancelled() => {
                stopped = Some(RunError { kind: ErrorKind::Cancelled, message: "the run was cancelled".into() });
                None
            }
        };
        if stopped.is_some() {
            let _ = self
                .docker
                .kill_container(
                    name,
                    Some(KillContainerOptions {
                        signal: "SIGKILL".into(),
                    }),
                )
                .await;
        }
        let wall = start.elapsed();
        let code = match status {
            Some(Ok(r)) => Some(r.status_code),
            // A non-zero exit is reported as an error carrying the code.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Some(code),
            Some(Err(e)) => return Err(api(e)),
            None => None,
        };
        let cap = job.limits.max_output_bytes;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut truncated = false;
        let mut logs = self.docker.logs(
            name,
            Some(LogsOptions {
                stdout: true,
                stderr: true,
                ..Default::default()
            }),
        );
        while let Some(Ok(chunk)) = logs.next().await {
            let (buf, bytes) = match chunk {
                LogOutput::StdOut { message } => (&mut stdout, message),
                LogOutput::StdErr { message } => (&mut stderr, message),
                _ => continue,
            };
            let room = cap.saturating_sub(buf.len());
            truncated |= bytes.len() > room;
            buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
        let state = self
            .docker
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .ok()
            .and_then(|i| i.state);
        if stopped.is_none() && state.as_ref().and_then(|s| s.oom_killed) == Some(true) {
            stopped = Some(memory_error(job.limits));
        }
        let code = code.and_then(|c| i32::try_from(c).ok());
        Ok(NativeExit {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            truncated,
            wall,
            cpu: None,
            peak_memory_bytes: None,
            stopped,
            // Docker reports a signalled process as exit 128 + signal.
            signal: code.filter(|c| (129..160).contains(c)).map(|c| c - 128),
            code,
        })
    }
}

#[async_trait::async_trait]
impl NativeDriver for DockerDriver {
    fn kind(&self) -> EngineKind {
        EngineKind::Docker
    }

    async fn run(&self, job: NativeJob<'_>) -> Result<NativeExit, SandboxError> {
        let start = Instant::now();
        let name = format!("bioai-sandbox-{}", job.dir.id);
        self.docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                self.body(&job),
            )
            .await
            .map_err(|e| {
                SandboxError::Setup(format!(
                    "could not create a container from image {} ({e}); pull or build it first",
                    self.config.image
                ))
            })?;
        let result = self.run_created(&name, &job, start).await;
        // The container goes in every case, also when the run failed.
        self.remove(&name).await;
        result
    }
}

/// Whether a Docker engine answers within `timeout` (for tests and
/// diagnostics).
pub async fn engine_reachable(timeout: Duration) -> bool {
    let Ok(docker) = Docker::connect_with_local_defaults() else {
        return false;
    };
    matches!(
        tokio::time::timeout(timeout, docker.ping()).await,
        Ok(Ok(_))
    )
}
