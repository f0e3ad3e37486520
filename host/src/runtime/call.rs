//! One call: a fresh store with the policy's limits and WASI context, the
//! guest function run under them, and the outcome classified and metered.

use std::path::Path;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bioai_policy::Policy;
use tokio_util::sync::CancellationToken;
use wasmtime::component::{ComponentExportIndex, ResourceTable, Val};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::agent::RoleHandle;
use super::bindings::bioai::plugin::{content, log, progress};
use super::client::ClientHandle;
use super::failure::Failure;
use super::limiter::MemoryMeter;
use super::meters::{Meters, NetCounters};
use super::net::NetAccess;
use super::output::{Captured, CapturedOutput};
use super::{PluginInfo, Program, Runtime, RuntimeError};

/// Receives a call's progress reports: (fraction 0..=1, message).
pub type ProgressSink = Arc<dyn Fn(f64, String) + Send + Sync>;

/// Receives the guest's log records (level, message, fields), besides the
/// host's own log: e.g. to forward them to an MCP client.
pub type LogSink = Arc<dyn Fn(tracing::Level, &str, &[(String, String)]) + Send + Sync>;

/// What a call may use, beyond its arguments.
pub struct CallSpec<'a> {
    /// The plugin's policy: limits, directories, network, env.
    pub policy: &'a Policy,
    /// Environment variables to give the guest (the policy's grants, resolved).
    pub env: &'a [(String, String)],
    /// The project's workspace directory on the host, mounted at the policy's
    /// `workspace.guest` path when the policy grants a workspace.
    pub workspace: Option<&'a Path>,
    /// Cancelling this interrupts the call promptly; its meters are kept.
    pub cancel: CancellationToken,
    /// Where the guest's progress reports go, if anyone listens.
    pub progress: Option<ProgressSink>,
    /// Where the guest's log records go besides the host log, if anywhere.
    pub log: Option<LogSink>,
    /// The client the guest's `bioai:plugin/client` requests go to; without
    /// one they fail with a message.
    pub client: Option<ClientHandle>,
    /// The run an agent role's step belongs to: where its
    /// `bioai:plugin/agent` requests go. `None` for tool calls, whose
    /// requests then fail with a message.
    pub role: Option<RoleHandle>,
    /// A label for the call in logs (e.g. the tool name).
    pub label: &'a str,
}

/// Everything a call produced.
#[derive(Debug)]
pub struct Outcome {
    /// The function's results, or why there are none.
    pub result: Result<Vec<Val>, Failure>,
    /// What the call consumed; present for failed and cancelled calls too.
    pub meters: Meters,
    /// The guest's stdout, bounded by the policy.
    pub stdout: Captured,
    /// The guest's stderr, bounded by the policy.
    pub stderr: Captured,
    /// Capabilities the policy refused during the call (even if the guest
    /// coped with the refusal).
    pub denials: Vec<String>,
}

/// The data of one call's store.
pub struct CallState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    net: NetAccess,
    table: ResourceTable,
    memory: MemoryMeter,
    progress: Option<ProgressSink>,
    log: Option<LogSink>,
    pub(super) client: Option<ClientHandle>,
    pub(super) role: Option<RoleHandle>,
    label: Arc<str>,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.net,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}

/// `content` has only types; nothing to provide.
impl content::Host for CallState {}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        // Bound what a guest can push into the host log per record.
        let message: String = message.chars().take(4096).collect();
        let fields: Vec<_> = fields.into_iter().take(32).collect();
        let plugin = &*self.label;
        match level {
            log::Level::Trace => tracing::trace!(target: "plugin", plugin, ?fields, "{message}"),
            log::Level::Debug => tracing::debug!(target: "plugin", plugin, ?fields, "{message}"),
            log::Level::Info => tracing::info!(target: "plugin", plugin, ?fields, "{message}"),
            log::Level::Warn => tracing::warn!(target: "plugin", plugin, ?fields, "{message}"),
            log::Level::Error => tracing::error!(target: "plugin", plugin, ?fields, "{message}"),
        }
        if let Some(sink) = &self.log {
            let level = match level {
                log::Level::Trace => tracing::Level::TRACE,
                log::Level::Debug => tracing::Level::DEBUG,
                log::Level::Info => tracing::Level::INFO,
                log::Level::Warn => tracing::Level::WARN,
                log::Level::Error => tracing::Level::ERROR,
            };
            sink(level, &message, &fields);
        }
    }
}

impl progress::Host for CallState {
    fn report(&mut self, fraction: f64, message: String) {
        if let Some(sink) = &self.progress {
            let fraction = if fraction.is_nan() {
                0.0
            } else {
                fraction.clamp(0.0, 1.0)
            };
            sink(fraction, message.chars().take(1024).collect());
        }
    }
}

/// Why the epoch callback stopped the guest.
#[derive(Debug, thiserror::Error)]
enum Interrupt {
    #[error("deadline exceeded")]
    Deadline,
    #[error("cancelled")]
    Cancelled,
}

/// Builds the WASI context a policy grants: captured stdio, granted env,
/// granted directories (through cap-std, so `..` and symlinks cannot escape),
/// and network only as the policy's allow-list permits.
fn wasi_ctx(
    spec: &CallSpec<'_>,
    stdout: &CapturedOutput,
    stderr: &CapturedOutput,
    net: &NetAccess,
) -> Result<WasiCtx, String> {
    let mut b = WasiCtxBuilder::new();
    b.stdout(stdout.clone()).stderr(stderr.clone());
    b.envs(spec.env);
    b.arg(spec.label);
    for dir in &spec.policy.dirs {
        let perms = if dir.writable {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        b.preopened_dir(&dir.host, &dir.guest, perms).map_err(|e| {
            format!(
                "cannot open granted directory {} (policy dirs, guest path {}): {e:#}",
                dir.host.display(),
                dir.guest
            )
        })?;
    }
    if let (Some(grant), Some(host)) = (&spec.policy.workspace, spec.workspace) {
        b.preopened_dir(host, &grant.guest, FsPerms::ReadWrite)
            .map_err(|e| format!("cannot open workspace {}: {e:#}", host.display()))?;
    }
    let networked = !spec.policy.network.is_empty();
    b.allow_tcp(networked)
        .allow_udp(networked)
        .allow_ip_name_lookup(networked);
    let check = net.clone();
    b.socket_addr_check(move |addr, usage| {
        let allowed = check.socket_check(addr, usage);
        Box::pin(async move { allowed })
    });
    Ok(b.build())
}

/// A fresh store for one call: WASI context from the policy, memory meter,
/// fuel budget, and an epoch callback enforcing the deadline and cancellation.
fn new_store(
    rt: &Runtime,
    spec: &CallSpec<'_>,
    stdout: &CapturedOutput,
    stderr: &CapturedOutput,
    net: &NetAccess,
    deadline: Instant,
) -> Result<Store<CallState>, String> {
    let limits = &spec.policy.limits;
    let wasi = wasi_ctx(spec, stdout, stderr, net)?;
    let mut store = Store::new(
        &rt.engine,
        CallState {
            wasi,
            http: WasiHttpCtx::new(),
            net: net.clone(),
            table: ResourceTable::new(),
            memory: MemoryMeter::new(limits.memory_bytes),
            progress: spec.progress.clone(),
            log: spec.log.clone(),
            client: spec.client.clone(),
            role: spec.role.clone(),
            label: spec.label.into(),
        },
    );
    store.limiter(|s| &mut s.memory);
    if rt.metered {
        // Both only fail when fuel is not enabled, which `metered` rules
        // out. Yielding every so often hands the executor back to `run`,
        // whose `select!` stops the call at its deadline or on cancellation
        // (and lets other calls on this executor thread run).
        let _ = store.set_fuel(limits.fuel);
        let _ = store.fuel_async_yield_interval(Some(super::FUEL_YIELD_INTERVAL));
        return Ok(store);
    }
    store.set_epoch_deadline(1);
    let cancel = spec.cancel.clone();
    store.epoch_deadline_callback(move |_| {
        if cancel.is_cancelled() {
            return Err(Interrupt::Cancelled.into());
        }
        if Instant::now() >= deadline {
            return Err(Interrupt::Deadline.into());
        }
        // Yield each tick so a CPU-bound guest never starves other calls
        // sharing this executor thread.
        Ok(UpdateDeadline::Yield(1))
    });
    Ok(store)
}

pub(super) async fn run(
    rt: &Runtime,
    program: &Program,
    func: &ComponentExportIndex,
    args: &[Val],
    result_count: usize,
    spec: CallSpec<'_>,
) -> Outcome {
    let start = Instant::now();
    let limits = &spec.policy.limits;
    let deadline = start + limits.timeout;
    let counters = Arc::new(NetCounters::default());
    let net = NetAccess::new(Arc::new(spec.policy.network.clone()), counters.clone()).paced(
        rt.rate_limiter.clone(),
        &spec.policy.plugin,
        spec.env,
        deadline,
    );
    let stdout = CapturedOutput::new(limits.max_output_bytes);
    let stderr = CapturedOutput::new(limits.max_output_bytes);
    let finish = |result, meters, denials| Outcome {
        result,
        meters,
        stdout: stdout.finish(),
        stderr: stderr.finish(),
        denials,
    };

    let mut store = match new_store(rt, &spec, &stdout, &stderr, &net, deadline) {
        Ok(s) => s,
        Err(message) => {
            let meters = Meters {
                wall: start.elapsed(),
                ..Meters::default()
            };
            return finish(Err(Failure::Instantiation { message }), meters, vec![]);
        }
    };

    let mut instantiated = false;
    let raced = {
        let store = &mut store;
        let instantiated = &mut instantiated;
        let work = async move {
            let instance = program.pre.instantiate_async(&mut *store).await?;
            *instantiated = true;
            let f = instance.get_func(&mut *store, func).ok_or_else(|| {
                wasmtime::format_err!("the component has no such exported function")
            })?;
            let mut results = vec![Val::Bool(false); result_count];
            f.call_async(&mut *store, args, &mut results).await?;
            Ok::<_, wasmtime::Error>(results)
        };
        // A guest that computes is stopped where it yields: the epoch
        // callback checks on an unmetered engine; on a metered one the guest
        // yields on fuel and this check runs at each yield, without waiting
        // for the executor to fire the timer below.
        let cancel = &spec.cancel;
        let mut work = std::pin::pin!(work);
        // No clock reading on the first poll (the deadline is ahead of a
        // call's start): most calls finish in it.
        let mut polled = false;
        let work = std::future::poll_fn(|cx| {
            if cancel.is_cancelled() {
                return Poll::Ready(Err(Stop::Cancelled));
            }
            if std::mem::replace(&mut polled, true) && Instant::now() >= deadline {
                return Poll::Ready(Err(Stop::Deadline));
            }
            work.as_mut().poll(cx).map(|r| r.map_err(Stop::Error))
        });
        // These stop a guest that waits in a host call (sleep, network).
        tokio::select! {
            biased;
            r = work => r,
            _ = spec.cancel.cancelled() => Err(Stop::Cancelled),
            _ = tokio::time::sleep_until(deadline.into()) => Err(Stop::Deadline),
        }
    };

    let mut meters = Meters {
        wall: start.elapsed(),
        peak_memory_bytes: store.data().memory.peak(),
        ..Meters::default()
    };
    if rt.metered {
        meters.fuel = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
    }
    counters.fill(&mut meters);
    let denials = net.denials();
    let result = raced.map_err(|stop| {
        classify(
            stop,
            instantiated,
            &store.data().memory,
            limits.fuel,
            limits.timeout,
            &denials,
        )
    });
    // A call its client stopped for input was not cancelled by anyone.
    let result = match result {
        Err(Failure::Cancelled) if spec.client.as_ref().is_some_and(|c| c.awaiting_input()) => {
            Err(Failure::InputRequired)
        }
        other => other,
    };
    if let Err(f) = &result {
        tracing::debug!(call = spec.label, class = f.class(), "call failed: {f}");
    }
    finish(result, meters, denials)
}

enum Stop {
    Error(wasmtime::Error),
    Cancelled,
    Deadline,
}

fn classify(
    stop: Stop,
    instantiated: bool,
    memory: &MemoryMeter,
    fuel: u64,
    timeout: Duration,
    denials: &[String],
) -> Failure {
    let err = match stop {
        Stop::Cancelled => return Failure::Cancelled,
        Stop::Deadline => return Failure::Deadline { timeout },
        Stop::Error(e) => e,
    };
    if let Some(i) = err.downcast_ref::<Interrupt>() {
        return match i {
            Interrupt::Deadline => Failure::Deadline { timeout },
            Interrupt::Cancelled => Failure::Cancelled,
        };
    }
    if let Some(Trap::OutOfFuel) = err.downcast_ref::<Trap>() {
        return Failure::OutOfFuel { limit: fuel };
    }
    if memory.hit_limit() {
        return Failure::MemoryLimit {
            limit_bytes: memory.limit(),
        };
    }
    if !denials.is_empty() {
        return Failure::Denied {
            what: denials.join("; "),
        };
    }
    if !instantiated {
        return Failure::Instantiation {
            message: format!("{err:#}"),
        };
    }
    Failure::Trap {
        message: format!("{err:?}"),
    }
}

/// The export name of our metadata interface.
const METADATA_EXPORT: &str = "bioai:plugin/metadata@0.1.0";

pub(super) async fn describe(
    rt: &Runtime,
    program: &Program,
) -> Result<Option<PluginInfo>, RuntimeError> {
    let Some(func) = program.export_index(Some(METADATA_EXPORT), "describe") else {
        return Ok(None);
    };
    let err = |message: String| RuntimeError::Metadata {
        name: program.name().to_string(),
        message,
    };
    let mut policy = Policy::default_for(program.name());
    policy.limits.timeout = Duration::from_secs(5);
    policy.limits.fuel = policy.limits.fuel.min(1_000_000_000);
    let stdout = CapturedOutput::new(4096);
    let stderr = CapturedOutput::new(4096);
    let spec = CallSpec {
        policy: &policy,
        env: &[],
        workspace: None,
        cancel: CancellationToken::new(),
        progress: None,
        log: None,
        client: None,
        role: None,
        label: program.name(),
    };
    let net = NetAccess::new(Arc::new(policy.network.clone()), Arc::default());
    let deadline = Instant::now() + policy.limits.timeout;
    let mut store = new_store(rt, &spec, &stdout, &stderr, &net, deadline).map_err(err)?;
    let instance = program
        .pre
        .instantiate_async(&mut store)
        .await
        .map_err(|e| err(format!("{e:#}")))?;
    let typed = instance
        .get_typed_func::<(), (PluginInfo,)>(&mut store, &func)
        .map_err(|e| err(format!("it does not match bioai:plugin@0.1.0: {e:#}")))?;
    let (info,) = typed
        .call_async(&mut store, ())
        .await
        .map_err(|e| err(format!("{e:#}")))?;
    Ok(Some(info))
}
