//! The BioAiSaaS host: runs MCP tools and agent roles as sandboxed
//! WebAssembly components.
//!
//! The path of one tool call: [`registry::Registry::call`] converts JSON
//! arguments to component values (`bioai-witjson`), [`runtime::Runtime::call`]
//! runs the plugin's export in a fresh store under its policy
//! (`bioai-policy`), and the [`registry::ToolOutcome`] carries the structured
//! result or a classified failure, always with the call's [`runtime::Meters`].

pub mod agents;
pub mod catalog;
pub mod config;
pub mod extras;
pub mod http;
pub mod mcp;
pub mod registry;
pub mod runtime;
pub mod sandbox;

pub use bioai_policy as policy;
pub use bioai_store as store;
pub use bioai_witjson as witjson;

use std::sync::Arc;

use config::Settings;
use registry::{LoadError, Registry};
use runtime::{Runtime, RuntimeConfig};

/// Errors starting the host.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A policy file is invalid; every problem is listed.
    #[error("invalid policies:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Policies(Vec<policy::PolicyError>),
    /// The runtime could not start.
    #[error(transparent)]
    Runtime(#[from] runtime::RuntimeError),
    /// Plugins failed to load; every failure is listed.
    #[error("plugins failed to load:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Plugins(Vec<LoadError>),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The agent graph file is invalid.
    #[error(transparent)]
    Graph(#[from] agents::graph::GraphError),
    /// The LLM configuration is invalid.
    #[error("BIOAI_LLM_*: {0}")]
    Llm(#[from] agents::llm::LlmError),
    /// Agent runs could not be resumed.
    #[error("resuming agent runs: {0}")]
    Agents(#[from] agents::AgentError),
    /// The Python sandbox could not be set up.
    #[error("sandbox.run_python: {0}")]
    Sandbox(#[from] sandbox::SandboxError),
}

/// Process settings the host runs with, applied at start-up by `bioai` and
/// by the benchmarks (so their figures are the server's):
///
/// - Backtrace capture in library errors is off (`RUST_LIB_BACKTRACE=0`)
///   unless the environment set `RUST_LIB_BACKTRACE` itself. wasmtime
///   creates an error value whenever a store is dropped (it disposes of the
///   store's idle fiber with one), so every tool call makes one; with
///   `RUST_BACKTRACE=1` in the environment each captured a backtrace, about
///   8% of a trivial call. The host reports errors by message, so library
///   backtraces are never shown; panics keep theirs (`RUST_BACKTRACE`).
/// - glibc's allocator keeps freed memory for reuse (see
///   [`retain_freed_memory`]).
///
/// # Safety
///
/// It sets an environment variable: call it before any other thread of the
/// process exists (first thing in `main`).
pub unsafe fn tune_process() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the caller guarantees that no other thread exists yet.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    retain_freed_memory();
}

/// Most free memory glibc keeps at the top of a heap before returning it
/// to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 64 << 20;
/// Allocations up to this size come from the heap rather than their own
/// mapping (glibc's maximum).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 32 << 20;

/// Makes glibc's allocator keep freed memory (up to 64 MiB at the top of
/// each heap, allocations up to 32 MiB served from the heap) instead of
/// handing it back to the kernel. By default a tool call with a large
/// argument or result (a 2 MB sequence list, 100,000 numbers as component
/// values and then as JSON) gets fresh pages for every big buffer and
/// returns them when it ends, so the next call page-faults them in again:
/// on the benchmark machine a third of a `primer.tm_many` call of 100,000
/// primers was page faults. Settings given in the environment
/// (`MALLOC_TRIM_THRESHOLD_`, `MALLOC_MMAP_THRESHOLD_`) win. Does nothing
/// on other C libraries.
fn retain_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    for (param, value, env) in [
        (
            libc::M_TRIM_THRESHOLD,
            TRIM_THRESHOLD,
            "MALLOC_TRIM_THRESHOLD_",
        ),
        (
            libc::M_MMAP_THRESHOLD,
            MMAP_THRESHOLD,
            "MALLOC_MMAP_THRESHOLD_",
        ),
    ] {
        if std::env::var_os(env).is_none() {
            // SAFETY: mallopt only changes allocator parameters (under the
            // allocator's lock). A refused value (result 0) leaves glibc's
            // default, which is correct, only slower; this runs before
            // logging is set up, so there is no one to tell.
            let _ = unsafe { libc::mallopt(param, value) };
        }
    }
}

/// Opens the database of `settings` and applies pending migrations (refusing
/// a schema newer than this binary).
pub async fn open_store(settings: &Settings) -> Result<store::Store, store::StoreError> {
    let db = store::Store::open(&settings.database_url()).await?;
    db.migrate().await?;
    Ok(db)
}

/// Builds the runtime and registry from settings: loads the policies, then
/// every plugin of every plugin directory. Any invalid policy or plugin stops
/// the start, so an operator never runs with a silently missing tool.
///
/// The database is opened and migrated first, and a call recorder is
/// attached: every call through the registry is recorded. A caller that
/// exits cleanly must call [`Registry::shutdown_recorder`] once it stopped
/// taking calls, or the records still queued are lost.
pub async fn start(settings: &Settings) -> Result<Registry, StartError> {
    let db = open_store(settings).await?;
    let policies = policy::PolicySet::load(&settings.policy_dirs).map_err(StartError::Policies)?;
    let runtime = Arc::new(Runtime::new(&RuntimeConfig {
        cache_dir: Some(settings.cache_dir()),
        ..RuntimeConfig::default()
    })?);
    let sandbox_policy = policies.get("python").cloned();
    let mut registry = Registry::new(runtime, policies);
    let mut errors = Vec::new();
    for dir in &settings.plugin_dirs {
        if !dir.is_dir() {
            tracing::warn!(
                dir = %dir.display(),
                "plugin directory does not exist; build the plugins with `cargo xtask build`"
            );
            continue;
        }
        errors.extend(registry.load_dir(dir).await);
    }
    if !errors.is_empty() {
        return Err(StartError::Plugins(errors));
    }
    if let Some(tool) = python_sandbox(settings, sandbox_policy, registry.runtime()).await? {
        registry
            .add_host_tool(tool)
            .map_err(|e| StartError::Plugins(vec![e]))?;
    }
    registry.set_recorder(store::Recorder::spawn(db, store::RecorderConfig::default()));
    Ok(registry)
}

/// Starts the agent swarm over `catalog`: adds `bio_agent.run_task`,
/// `bio_agent.stream_trace` and `billing.get_quote` to it, stores the
/// know-how guides (embedding only new or changed chunks), and, when `resume` is set, resumes the runs a previous host left
/// unfinished.
///
/// The graph is `BIOAI_AGENT_GRAPH` (a file) or the built-in one; the LLM is
/// configured by `BIOAI_LLM_*` (none: built-in templates only); embeddings
/// by `BIOAI_EMBEDDING_*` (default: the local all-MiniLM-L6-v2 model).
pub async fn start_agents(
    settings: &Settings,
    catalog: &Arc<catalog::Catalog>,
    resume: bool,
) -> Result<Arc<agents::Swarm>, StartError> {
    let lookup = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let graph = match lookup("BIOAI_AGENT_GRAPH") {
        Some(path) => agents::Graph::load(std::path::Path::new(&path))?,
        None => agents::Graph::builtin(),
    };
    let llm = agents::llm::LlmConfig::from_env(lookup)?
        .map(agents::llm::Llm::new)
        .transpose()?;
    if llm.is_none() {
        tracing::info!(
            "no LLM configured (BIOAI_LLM_PROVIDER): agent runs use the built-in task templates"
        );
    }
    let recording = catalog.registry().recorder().map(|r| r.store().clone());
    let store = match recording {
        Some(store) => store,
        None => open_store(settings).await?,
    };
    let knowhow = match agents::knowhow::KnowHow::from_env() {
        Ok(k) => Some(Arc::new(k)),
        Err(e) => {
            tracing::warn!("know-how search is not available: {e}");
            None
        }
    };
    if let Some(k) = &knowhow {
        // Before serving, so the first run's retriever finds the guides;
        // only new or changed chunks are embedded (none on later starts).
        match k.ingest_builtin(&store).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(chunks = n, "know-how library updated"),
            Err(e) => tracing::error!("the know-how guides could not be stored: {e}"),
        }
    }
    let rates = agents::cost::Rates::load(&store, lookup).await;
    let swarm = agents::Swarm::new(
        catalog.clone(),
        store,
        agents::SwarmConfig {
            graph,
            llm,
            knowhow,
            workspaces: settings.data_dir.join("workspaces"),
            rates,
        },
    );
    for tool in agents::tools::host_tools(&swarm) {
        catalog
            .add_host_tool(tool)
            .map_err(|e| StartError::Plugins(vec![e]))?;
    }
    if resume {
        swarm.resume_unfinished().await?;
    }
    Ok(swarm)
}

/// `sandbox.run_python`, when its component was built: the sandbox under
/// `policy` (the policy of plugin `python`, `policies/python.toml`), with the native fallback `BIOAI_SANDBOX_FALLBACK`
/// names (default off).
pub async fn python_sandbox(
    settings: &Settings,
    policy: Option<policy::Policy>,
    runtime: &Arc<Runtime>,
) -> Result<Option<Arc<dyn registry::HostTool>>, StartError> {
    let component = &settings.sandbox_component;
    if !component.is_file() {
        tracing::warn!(
            component = %component.display(),
            "sandbox.run_python is not available: its CPython component is missing; build it with `cargo xtask build`"
        );
        return Ok(None);
    }
    let policy = match policy {
        Some(p) => p,
        None => {
            tracing::warn!(
                "no policy for plugin `python` (policies/python.toml): sandbox.run_python runs with the default limits"
            );
            policy::Policy::default_for("python")
        }
    };
    let mut sandbox_settings =
        sandbox::SandboxSettings::new(component.clone(), policy, &settings.data_dir);
    sandbox_settings.fallback = sandbox::Fallback::from_env(|k| std::env::var(k).ok())?;
    let sandbox = sandbox::Sandbox::new(runtime.clone(), sandbox_settings).await?;
    Ok(Some(Arc::new(sandbox::RunPython::new(Arc::new(sandbox)))))
}
