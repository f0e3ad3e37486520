//! The WebAssembly runtime: one wasmtime engine, compiled components cached on
//! disk, and calls run each in a fresh store under fuel, deadline and
//! memory limits, with the WASI context a policy grants.
//!
//! This module knows nothing of MCP, JSON or the store; it takes component
//! values in and gives an [`Outcome`] (values or a classified [`Failure`], and
//! always the [`Meters`]) back.

mod agent;
mod cache;
mod call;
mod client;
mod failure;
mod limiter;
mod meters;
mod net;
mod output;
mod ratelimit;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use agent::{
    Completion, CompletionRequest, Message, Origin, Passage, RoleFuture, RoleHandle, RoleHost,
    Source, Speaker, ToolCall, ToolError, ToolSpec, Usage,
};
pub use call::{CallSpec, LogSink, Outcome, ProgressSink};
pub use client::{
    AnswerFuture, AnswersFuture, ClientFuture, ClientHandle, ClientRequests, ClientRole,
    ElicitAction, Elicited, Form, InputRequest, InputResponse, Root, Sampled, SamplingMessage,
    SamplingRequest,
};
pub use failure::Failure;
pub use meters::Meters;
pub use output::Captured;

use call::CallState;

/// Host bindings of our `bioai:plugin` WIT package (imports the host
/// provides, and the types of the optional `metadata` export).
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "bioai:plugin/bioai-host",
        // Client and role requests wait for the MCP client, the LLM, tools
        // or the store; the rest are quick.
        imports: {
            "bioai:plugin/client.create-message": async,
            "bioai:plugin/client.elicit": async,
            "bioai:plugin/client.list-roots": async,
            "bioai:plugin/client.request-input": async,
            "bioai:plugin/agent": async,
        },
    });
}

/// The plugin's self-description, as its `metadata` export returned it.
pub use bindings::exports::bioai::plugin::metadata::{
    Annotations, PluginInfo, PricingHint, ToolInfo,
};

/// How often the engine's epoch advances; the granularity of deadlines and
/// cancellation on an unmetered engine.
const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Fuel between two yields of a metered guest to the executor: about a
/// millisecond of WebAssembly, the granularity of deadlines and
/// cancellation on a metered engine (as [`EPOCH_TICK`] on an unmetered one).
///
/// A metered engine does not also compile epoch checks: fuel already counts
/// at every loop head, and a second counter there cost guest code time
/// (register pressure in tight loops) for what yielding on fuel does too.
pub(crate) const FUEL_YIELD_INTERVAL: u64 = 2_000_000;

/// Errors setting up the runtime or loading a component.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be configured (e.g. the pooling allocator could
    /// not reserve its address space).
    #[error("could not start the WebAssembly engine: {0:#}")]
    Engine(wasmtime::Error),
    /// A component file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not a valid component (or is a core module).
    #[error(
        "{name} is not a valid WebAssembly component: {source:#}\n  (plugins must be WASI 0.2 components, e.g. built with `cargo build --target wasm32-wasip2`)"
    )]
    Compile {
        /// The component's name or path.
        name: String,
        /// What wasmtime said.
        source: wasmtime::Error,
    },
    /// The component imports something the host does not provide.
    #[error(
        "{name} cannot be linked: {source:#}\n  (the host provides WASI 0.2 (cli, clocks, filesystem, random, sockets, http) and bioai:plugin/log and /progress)"
    )]
    Link {
        /// The component's name or path.
        name: String,
        /// What wasmtime said.
        source: wasmtime::Error,
    },
    /// The component's `metadata` export failed.
    #[error("{name}: its bioai:plugin/metadata export failed: {message}")]
    Metadata {
        /// The component's name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// Settings of the runtime; the defaults suit one machine serving many users.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where compiled components are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// How many component instances may run at once (pool slots).
    pub max_concurrent_instances: u32,
    /// The largest linear memory any single instance may reach, in bytes;
    /// policies may only ask for less.
    pub max_memory_bytes: u64,
    /// Whether calls are fuel-metered. Always on in production: fuel is the
    /// billing unit. Off only to measure metering overhead.
    pub metered: bool,
    /// A profiler to tell about compiled wasm code, so that e.g. `perf` can
    /// attribute time to the functions inside components (a diagnostic, as
    /// `wasmtime run --profile`). `PerfMap` writes `/tmp/perf-<pid>.map`;
    /// `JitDump` writes `jit-<pid>.dump` for `perf inject --jit`.
    pub profiler: wasmtime::ProfilingStrategy,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            max_concurrent_instances: 256,
            max_memory_bytes: 4 << 30,
            metered: true,
            profiler: wasmtime::ProfilingStrategy::None,
        }
    }
}

/// A component compiled and pre-linked, ready to be instantiated per call.
#[derive(Clone)]
pub struct Program {
    name: Arc<str>,
    component: Component,
    pre: InstancePre<CallState>,
    digest: Arc<str>,
}

impl Program {
    /// The name the program was loaded under (its file stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compiled component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// The SHA-256 of the component's bytes, hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Finds an exported function: `interface` is the full export name of an
    /// exported interface (`bioai:seq/sequence@0.1.0`), or `None` for a
    /// function exported at the top level.
    pub fn export_index(
        &self,
        interface: Option<&str>,
        function: &str,
    ) -> Option<ComponentExportIndex> {
        let parent = match interface {
            Some(name) => Some(self.component.get_export_index(None, name)?),
            None => None,
        };
        self.component.get_export_index(parent.as_ref(), function)
    }
}

/// The engine, linker and component cache shared by every call.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    cache_dir: Option<PathBuf>,
    metered: bool,
    max_memory_bytes: u64,
    /// Paces rate-limited requests across calls (`network.rate_limits`).
    rate_limiter: Arc<ratelimit::RateLimiter>,
    /// Advances the epoch of an unmetered engine.
    _ticker: Option<EpochTicker>,
}

/// Bytes of each linear memory reset in place (not returned to the kernel)
/// when its slot is freed. 4 MiB covers a call with a few MB of arguments
/// and results (100,000 primers in, their Tms out), whose pages were
/// otherwise faulted in again by every call; the price is up to 4 MiB
/// resident per warm slot (at most 64 slots).
const KEEP_RESIDENT_MEMORY: usize = 4 << 20;
/// The same for each table.
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

impl Runtime {
    /// Builds the engine (pooling allocator with copy-on-write memory images,
    /// fuel when metered, epoch interruption when not) and the linker with WASI 0.2,
    /// wasi:http and our `bioai:plugin` imports.
    pub fn new(config: &RuntimeConfig) -> Result<Self, RuntimeError> {
        let mut pool = PoolingAllocationConfig::default();
        let slots = config.max_concurrent_instances.max(1);
        pool.total_component_instances(slots)
            .total_core_instances(slots * 8)
            .total_memories(slots * 2)
            .total_tables(slots * 8)
            .total_stacks(slots)
            .max_core_instances_per_component(64)
            .max_memories_per_component(8)
            .max_tables_per_component(64)
            .max_tables_per_module(8)
            .max_core_instance_size(8 << 20)
            .max_component_instance_size(8 << 20)
            .table_elements(1_000_000)
            .max_memory_size(usize::try_from(config.max_memory_bytes).unwrap_or(usize::MAX))
            // Keep a few warm slots so back-to-back calls of a plugin reuse
            // its already-initialized copy-on-write image.
            .max_unused_warm_slots(slots.min(64))
            // Reset the pages a call touched with memset (found with the
            // PAGEMAP_SCAN ioctl where the kernel has it) instead of
            // `madvise`: an madvise per call costs a system call plus a TLB
            // shoot-down on every core running one of our threads, which
            // doubled a trivial call's latency while a database thread ran.
            // Memory is still reset to its initial image between calls.
            .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
            .table_keep_resident(KEEP_RESIDENT_TABLE)
            .pagemap_scan(wasmtime::Enabled::Auto);

        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(!config.metered)
            .consume_fuel(config.metered)
            .memory_init_cow(true)
            // Plugins are WASI 0.2 components, called one at a time per
            // store. Without this every call went through the machinery of
            // the component-model async proposal (a task per call, the
            // arguments and results copied into it: a 2 MB argument twice).
            .concurrency_support(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        wasm.profiler(config.profiler);
        let engine = Engine::new(&wasm).map_err(RuntimeError::Engine)?;

        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(RuntimeError::Engine)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(RuntimeError::Engine)?;
        bindings::BioaiHost::add_to_linker::<_, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )
        .map_err(RuntimeError::Engine)?;

        if let Some(dir) = &config.cache_dir {
            cache::prepare_dir(dir).map_err(|source| RuntimeError::Read {
                path: dir.clone(),
                source,
            })?;
        }

        let ticker = (!config.metered).then(|| EpochTicker::start(engine.clone()));
        Ok(Self {
            engine,
            linker,
            cache_dir: config.cache_dir.clone(),
            metered: config.metered,
            max_memory_bytes: config.max_memory_bytes,
            rate_limiter: Arc::default(),
            _ticker: ticker,
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether calls are fuel-metered.
    pub fn is_metered(&self) -> bool {
        self.metered
    }

    /// The largest memory limit a policy may set.
    pub fn max_memory_bytes(&self) -> u64 {
        self.max_memory_bytes
    }

    /// Loads a component file: from the compiled cache when present (tens of
    /// milliseconds even for a large component), otherwise compiled and then
    /// cached.
    pub fn load_file(&self, path: &Path) -> Result<Program, RuntimeError> {
        let (name, bytes) = read_component(path)?;
        self.load_bytes(&name, &bytes)
    }

    /// Loads a component from bytes; see [`Runtime::load_file`].
    pub fn load_bytes(&self, name: &str, bytes: &[u8]) -> Result<Program, RuntimeError> {
        let digest = cache::digest(bytes);
        let component = cache::compile(&self.engine, self.cache_dir.as_deref(), &digest, bytes)
            .map_err(|source| RuntimeError::Compile {
                name: name.to_string(),
                source,
            })?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|source| RuntimeError::Link {
                name: name.to_string(),
                source,
            })?;
        Ok(Program {
            name: name.into(),
            component,
            pre,
            digest: digest.into(),
        })
    }

    /// Runs one call of `func` in a fresh store; see [`CallSpec`] for what the
    /// call may use. Never panics on guest behaviour; every failure is
    /// classified in the [`Outcome`].
    pub async fn call(
        &self,
        program: &Program,
        func: &ComponentExportIndex,
        args: &[wasmtime::component::Val],
        result_count: usize,
        spec: CallSpec<'_>,
    ) -> Outcome {
        call::run(self, program, func, args, result_count, spec).await
    }

    /// Calls the component's `bioai:plugin/metadata` export, if it has one,
    /// with no capabilities and tight limits.
    pub async fn describe(&self, program: &Program) -> Result<Option<PluginInfo>, RuntimeError> {
        call::describe(self, program).await
    }
}

/// Reads a component file; returns its plugin name (the file stem) and bytes.
pub fn read_component(path: &Path) -> Result<(String, Vec<u8>), RuntimeError> {
    let bytes = std::fs::read(path).map_err(|source| RuntimeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok((name, bytes))
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a background thread,
/// which is what lets deadlines and cancellation interrupt running guests.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("bioai-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
        if let Err(e) = spawned {
            // Without the ticker deadlines would only fire in host calls; fuel
            // still bounds CPU. Make it loud.
            tracing::error!("could not start the epoch ticker thread: {e}");
        }
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
