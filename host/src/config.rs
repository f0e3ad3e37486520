//! Settings: command-line flags over `BIOAI_*` environment variables over
//! defaults that suit the embedded single-machine mode.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the host finds its plugins, policies and data, and where it listens.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Directories whose `*.wasm` files are loaded as plugins.
    pub plugin_dirs: Vec<PathBuf>,
    /// Directories whose `*.toml` files are policies.
    pub policy_dirs: Vec<PathBuf>,
    /// Where the host keeps its state (compiled-component cache, embedded database).
    pub data_dir: PathBuf,
    /// The HTTP listen address; loopback by default.
    pub bind: SocketAddr,
    /// `BIOAI_DATABASE_URL` (`postgres://...` or `sqlite://...`); `None`
    /// means the embedded SQLite file in the data directory, see
    /// [`Settings::database_url`].
    pub database_url: Option<String>,
    /// Browser origins allowed to call `/mcp` (`BIOAI_ALLOWED_ORIGINS`,
    /// comma-separated `scheme://host[:port|:*]`); default: pages served
    /// from this machine. Any other `Origin` gets 403.
    pub allowed_origins: Vec<String>,
    /// `Host` header values accepted on `/mcp` (`BIOAI_ALLOWED_HOSTS`,
    /// comma-separated; DNS-rebinding protection); default: loopback names.
    pub allowed_hosts: Vec<String>,
    /// The CPython component behind `sandbox.run_python`
    /// (`BIOAI_SANDBOX_COMPONENT`; default `target/sandbox/python.wasm`,
    /// built by `cargo xtask build`). When the file is missing the tool is
    /// not offered and the host says so at start-up.
    pub sandbox_component: PathBuf,
    /// Where compiled components are cached (`BIOAI_CACHE_DIR`); `None`
    /// means `<data_dir>/cache/components`, see [`Settings::cache_dir`].
    /// Several hosts may share one: entries are keyed by content and engine
    /// settings and written atomically.
    pub compiled_cache: Option<PathBuf>,
    /// The key sealing MCP `requestState` (`BIOAI_MCP_STATE_KEY`, 64 hex
    /// digits), for hosts on several machines behind one load balancer;
    /// `None` means the key file in the data directory, see
    /// [`crate::mcp::StateKey::for_settings`].
    pub mcp_state_key: Option<String>,
}

/// The default listen address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8787";

impl Settings {
    /// Defaults: the plugins `cargo xtask build` produced and the policies in
    /// `policies/` of the source tree (or of the working directory when the
    /// binary runs outside it), data in `.bioai/`; `BIOAI_PLUGIN_DIRS`,
    /// `BIOAI_POLICY_DIRS`, `BIOAI_DATA_DIR` and `BIOAI_BIND` override.
    pub fn from_env() -> Self {
        let root = project_root();
        let data_dir = std::env::var_os("BIOAI_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".bioai"));
        let default_bind: SocketAddr = DEFAULT_BIND.parse().expect("constant address parses");
        let bind = match std::env::var("BIOAI_BIND") {
            Ok(b) => b.parse().unwrap_or_else(|_| {
                tracing::warn!(
                    "BIOAI_BIND={b:?} is not an address like 127.0.0.1:8787; using {DEFAULT_BIND}"
                );
                default_bind
            }),
            Err(_) => default_bind,
        };
        Self {
            plugin_dirs: dirs_from_env("BIOAI_PLUGIN_DIRS")
                .unwrap_or_else(|| vec![root.join("target").join("plugins")]),
            policy_dirs: dirs_from_env("BIOAI_POLICY_DIRS")
                .unwrap_or_else(|| vec![root.join("policies")]),
            data_dir,
            bind,
            database_url: std::env::var("BIOAI_DATABASE_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            allowed_origins: list_from_env("BIOAI_ALLOWED_ORIGINS")
                .unwrap_or_else(crate::mcp::http::default_origins),
            allowed_hosts: list_from_env("BIOAI_ALLOWED_HOSTS")
                .unwrap_or_else(|| vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]),
            sandbox_component: std::env::var_os("BIOAI_SANDBOX_COMPONENT")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target").join("sandbox").join("python.wasm")),
            compiled_cache: std::env::var_os("BIOAI_CACHE_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
            mcp_state_key: std::env::var("BIOAI_MCP_STATE_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
        }
    }

    /// The database to use: `BIOAI_DATABASE_URL`, else
    /// `sqlite://<data_dir>/bioai.db`.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("bioai.db").display()))
    }

    /// The compiled-component cache directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.compiled_cache
            .clone()
            .unwrap_or_else(|| self.data_dir.join("cache").join("components"))
    }
}

/// Directories from the environment (separated like `PATH`), if the
/// variable is set and not empty: they replace the default directories, so
/// an operator can serve from `/etc/bioai/policies` without the source tree's.
fn dirs_from_env(var: &str) -> Option<Vec<PathBuf>> {
    let value = std::env::var_os(var).filter(|v| !v.is_empty())?;
    Some(
        std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
    )
}

/// A comma-separated list from the environment, if the variable is set.
fn list_from_env(var: &str) -> Option<Vec<String>> {
    let value = std::env::var(var).ok()?;
    Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    )
}

/// The source tree this binary was built from if it still exists (so
/// `cargo xtask run` and `target/*/bioai` work from anywhere), else the
/// working directory.
fn project_root() -> PathBuf {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).parent();
    match built_from {
        Some(root) if root.join("policies").is_dir() => root.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
