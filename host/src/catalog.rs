//! The live set of tools: the current [`Registry`] and its hot reload.
//!
//! A call takes a snapshot (`Arc<Registry>`) and runs against it, so a reload
//! never disturbs calls in flight: they finish on the plugins they started
//! with, and the next call sees the new set. Reloading rebuilds the registry
//! from the plugin and policy directories; compiled components come from the
//! on-disk cache, so a reload costs milliseconds per unchanged plugin.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use crate::StartError;
use crate::config::Settings;
use crate::registry::Registry;
use crate::runtime::Runtime;

/// The current registry, replaceable at run time.
pub struct Catalog {
    current: RwLock<Arc<Registry>>,
    runtime: Arc<Runtime>,
    plugin_dirs: Vec<PathBuf>,
    policy_dirs: Vec<PathBuf>,
    /// Bumped on every change of the tool list; subscribers wake on it.
    generation: watch::Sender<u64>,
    /// Serializes reloads.
    reloading: tokio::sync::Mutex<()>,
    /// What the directories looked like at the last (re)load.
    fingerprint: Mutex<Vec<(PathBuf, SystemTime, u64)>>,
}

impl Catalog {
    /// Wraps a registry loaded from `settings`' directories.
    pub fn new(registry: Registry, settings: &Settings) -> Arc<Self> {
        let runtime = registry.runtime().clone();
        let catalog = Self {
            current: RwLock::new(Arc::new(registry)),
            runtime,
            plugin_dirs: settings.plugin_dirs.clone(),
            policy_dirs: settings.policy_dirs.clone(),
            generation: watch::channel(0).0,
            reloading: tokio::sync::Mutex::new(()),
            fingerprint: Mutex::new(Vec::new()),
        };
        *catalog.fingerprint.lock() = catalog.scan();
        Arc::new(catalog)
    }

    /// The registry to run the next call against.
    pub fn registry(&self) -> Arc<Registry> {
        self.current.read().clone()
    }

    /// Changes whenever the set of tools (or resources) changes.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Replaces the registry (e.g. one built by a test) and tells subscribers.
    pub fn replace(&self, registry: Registry) {
        *self.current.write() = Arc::new(registry);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Adds a host tool to the current registry. Only possible while no
    /// call holds the registry (at start-up, before serving); reloads keep
    /// it like every host tool.
    pub fn add_host_tool(
        &self,
        tool: Arc<dyn crate::registry::HostTool>,
    ) -> Result<(), crate::registry::LoadError> {
        let mut current = self.current.write();
        let name = tool.definition().name.clone();
        match Arc::get_mut(&mut current) {
            Some(registry) => registry.add_host_tool(tool)?,
            None => {
                return Err(crate::registry::LoadError::ToolClash {
                    path: PathBuf::from(format!("host tool {name}")),
                    tool: name,
                    other: "a registry in use (add host tools before serving)".into(),
                });
            }
        }
        drop(current);
        self.generation.send_modify(|g| *g += 1);
        Ok(())
    }

    /// Reloads every plugin and policy from disk. On any error the current
    /// set stays in force and the errors are returned, so a half-written
    /// plugin file never takes tools away.
    pub async fn reload(&self) -> Result<usize, StartError> {
        let _guard = self.reloading.lock().await;
        let fingerprint = self.scan();
        let policies =
            crate::policy::PolicySet::load(&self.policy_dirs).map_err(StartError::Policies)?;
        let mut registry = Registry::new(self.runtime.clone(), policies);
        // The host's own tools stay; plugins cannot take their names.
        for tool in self.registry().host_tools() {
            if let Err(e) = registry.add_host_tool(tool.clone()) {
                return Err(StartError::Plugins(vec![e]));
            }
        }
        let mut errors = Vec::new();
        for dir in self.plugin_dirs.iter().filter(|d| d.is_dir()) {
            errors.extend(registry.load_dir(dir).await);
        }
        if !errors.is_empty() {
            return Err(StartError::Plugins(errors));
        }
        // Calls keep being recorded after a reload.
        if let Some(recorder) = self.registry().recorder() {
            registry.set_recorder(recorder.clone());
        }
        let count = registry.tools().count();
        *self.fingerprint.lock() = fingerprint;
        self.replace(registry);
        tracing::info!(tools = count, "plugins reloaded");
        Ok(count)
    }

    /// Polls the plugin and policy directories every `interval` and reloads
    /// when a file was added, removed or modified. Runs until dropped.
    pub async fn watch(self: Arc<Self>, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = self.scan();
            if now == *self.fingerprint.lock() {
                continue;
            }
            // Let a file being copied in settle before loading it.
            tokio::time::sleep(Duration::from_millis(200)).await;
            if self.scan() != now {
                continue;
            }
            if let Err(e) = self.reload().await {
                // Remember the broken state so the error is logged once.
                *self.fingerprint.lock() = now;
                tracing::error!("plugin reload failed; keeping the previous plugins: {e}");
            }
        }
    }

    /// (path, modified, size) of every plugin and policy file, sorted.
    fn scan(&self) -> Vec<(PathBuf, SystemTime, u64)> {
        let mut files = Vec::new();
        for dir in self.plugin_dirs.iter().chain(&self.policy_dirs) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let relevant = matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("wasm" | "toml")
                );
                if !relevant {
                    continue;
                }
                if let Ok(meta) = entry.metadata() {
                    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    files.push((path, modified, meta.len()));
                }
            }
        }
        files.sort();
        files
    }
}
