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
    if errors.is_empty() {
        registry.set_recorder(store::Recorder::spawn(db, store::RecorderConfig::default()));
        Ok(registry)
    } else {
        Err(StartError::Plugins(errors))
    }
}
