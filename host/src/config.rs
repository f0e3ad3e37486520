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
}

/// The default listen address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8787";

impl Settings {
    /// Defaults: the plugins `cargo xtask build` produced and the policies in
    /// `policies/` of the source tree (or of the working directory when the
    /// binary runs outside it), data in `.bioai/`; `BIOAI_DATA_DIR` and
    /// `BIOAI_BIND` override.
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
            plugin_dirs: vec![root.join("target").join("plugins")],
            policy_dirs: vec![root.join("policies")],
            data_dir,
            bind,
        }
    }

    /// The compiled-component cache directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache").join("components")
    }
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
