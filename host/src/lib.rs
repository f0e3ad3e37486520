//! The BioAiSaaS host: runs MCP tools and agent roles as sandboxed
//! WebAssembly components.
//!
//! The path of one tool call: [`registry::Registry::call`] converts JSON
//! arguments to component values (`bioai-witjson`), [`runtime::Runtime::call`]
//! runs the plugin's export in a fresh store under its policy
//! (`bioai-policy`), and the [`registry::ToolOutcome`] carries the structured
//! result or a classified failure, always with the call's [`runtime::Meters`].

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
    /// The Python sandbox could not be set up.
    #[error("sandbox.run_python: {0}")]
    Sandbox(#[from] sandbox::SandboxError),
}

/// Turns off backtrace capture in library errors (`RUST_LIB_BACKTRACE=0`)
/// unless the environment set `RUST_LIB_BACKTRACE` itself.
///
/// wasmtime creates an error value whenever a store is dropped (it disposes
/// of the store's idle fiber with one), so every tool call makes one; with
/// `RUST_BACKTRACE=1` in the environment each captured a backtrace, about
/// 8% of a trivial call. The host reports errors by message, so library
/// backtraces are never shown; panics keep theirs (`RUST_BACKTRACE`).
///
/// # Safety
///
/// It sets an environment variable: call it before any other thread of the
/// process exists (first thing in `main`).
pub unsafe fn disable_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the caller guarantees that no other thread exists yet.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
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
