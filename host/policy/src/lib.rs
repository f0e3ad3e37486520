//! Per-plugin capability policies for the BioAiSaaS host.
//!
//! Every plugin (`NAME.wasm`) runs under a policy: one TOML file per plugin in
//! a policies directory, written by operators. Policies are **default deny**:
//! a plugin without a policy file gets [`Policy::default_for`], which grants
//! no directories, no workspace, no network and no environment, with the
//! default [`Limits`].
//!
//! # Format
//!
//! ```toml
//! # policies/ncbi.toml (an optional first line `#:schema ./policy.schema.json` lets editors check it)
//! plugin = "ncbi"          # required: the plugin's file stem (ncbi.wasm); must match [a-z][a-z0-9_-]*
//! namespace = "ncbi"       # optional: tool namespace override, snake_case [a-z][a-z0-9_]*
//!
//! [limits]                 # all optional; defaults below
//! fuel = 5_000_000_000     # instructions-ish budget per call (default 10_000_000_000), >0
//! memory_mib = 256         # linear memory cap per call (default 256), 1..=4096
//! timeout_ms = 30_000      # wall-clock deadline per call (default 30_000), 1..=3_600_000
//! max_output_bytes = 1_048_576  # cap on captured stdout and on stderr each (default 1 MiB), >=1024
//!
//! [[dirs]]                 # read-only data volumes (repeatable)
//! host = "/srv/bioai/genomes"   # absolute, or relative to the policy file's directory; must exist and be a directory
//! guest = "/data/genomes"       # absolute guest path, no `..`, unique among mounts
//! writable = false              # default false
//!
//! [workspace]              # optional: the per-project writable workspace, host path chosen per call by the host
//! guest = "/workspace"     # default "/workspace"
//!
//! [network]
//! allow = ["eutils.ncbi.nlm.nih.gov", "*.uniprot.org", "rest.ensembl.org:443"]
//! allow_private = false
//!
//! [network.rate_limits]    # optional: requests per second per `allow` entry, shared by all calls
//! "rest.ensembl.org:443" = 15
//! "eutils.ncbi.nlm.nih.gov" = { per_second = 3, with_env = "NCBI_API_KEY", with_env_per_second = 10 }
//!
//! [env]
//! NCBI_API_KEY = { from_host = "NCBI_API_KEY" }   # passed through from the host's environment if set there
//! EMAIL = "ops@example.org"                        # literal value
//!
//! [agent]                  # only for agent roles (components exporting bioai:plugin/role)
//! tools = ["crispr.*", "sandbox.run_python"]  # tools the role may call: exact names or `prefix.*` (default none)
//! plan_tools = ["seq.*"]   # tools the role may see in list-tools but not call (a planner's catalogue)
//! llm = true               # may ask the run's LLM (default false)
//! search = true            # may search the know-how library and the user's documents (default false)
//! workspace = "read-write" # the run's workspace files: "none" (default), "read" or "read-write"
//! ```
//!
//! Rules beyond the comments:
//!
//! - Unknown keys anywhere are errors, and so are values of the wrong type.
//!   Whole numbers may be written as integers (`10_000_000_000`) or as
//!   floats without a fraction (`1e10`).
//! - `network.allow` entries are [`HostPattern`]s: an exact host, a
//!   `*.domain` wildcard (matches subdomains at any depth, not the apex; the
//!   domain needs two labels or more, so `*.com` is refused), or an IP
//!   literal (`192.0.2.1`, `[2001:db8::1]`); each with an optional `:port`
//!   (default: any port). Host names are case-insensitive.
//! - Connections to non-public addresses (private, loopback, link-local,
//!   unique-local, CGNAT, unspecified, multicast, broadcast, documentation:
//!   see [`is_public_ip`]) are refused unless `allow_private = true`, even
//!   when the name is allowed. An allow entry that could never connect
//!   without it (a private IP literal, `localhost`) is an error.
//! - `network.rate_limits` keys are `allow` entries written the same way;
//!   rates are whole requests per second, 1..=10_000. A request over the
//!   rate waits for its turn (see [`RateLimit`]). `with_env` must name an
//!   `[env]` variable and comes with `with_env_per_second`.
//! - Guest paths are absolute, with no empty, `.` or `..` components, no
//!   trailing `/`, not `/` itself, and unique among `[[dirs]]` and
//!   `[workspace]`.
//! - `[env]` names are `[A-Za-z_][A-Za-z0-9_]*`; a `from_host` variable
//!   that is not set on the host is left out (see [`Policy::resolve_env`]).
//! - Each plugin has at most one policy file ([`PolicySet::load`]).
//!
//! Every problem is reported as a [`PolicyError`] with file, line, column,
//! field path and a message that says how to fix it; parsing reports all
//! problems of a file at once. `policies/policy.schema.json` describes the
//! same format as a JSON Schema for editors.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::time::Duration;

mod error;
mod net;
mod parse;
mod set;

pub use error::PolicyError;
pub use net::{EnvRate, HostPattern, HostPatternError, NetworkGrant, RateLimit, is_public_ip};
pub use set::PolicySet;

/// The capabilities and limits one plugin runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The plugin's file stem (`ncbi` for `ncbi.wasm`).
    pub plugin: String,
    /// A tool namespace that overrides the plugin's own, if set. The empty
    /// string means no namespace: tools are named by their function alone.
    pub namespace: Option<String>,
    /// Per-call resource limits.
    pub limits: Limits,
    /// Host directories mounted into the guest, in file order.
    pub dirs: Vec<DirGrant>,
    /// Where the per-project workspace is mounted, if the plugin gets one.
    pub workspace: Option<WorkspaceGrant>,
    /// What the plugin may connect to.
    pub network: NetworkGrant,
    /// Environment variables for the guest, sorted by name.
    pub env: Vec<EnvGrant>,
    /// What an agent role may do through the `bioai:plugin/agent` import.
    pub agent: AgentGrant,
    /// The policy file this came from; `None` for [`Policy::default_for`].
    pub source: Option<PathBuf>,
}

impl Policy {
    /// No capabilities, default limits: what a plugin without a policy gets.
    pub fn default_for(plugin: &str) -> Policy {
        Policy {
            plugin: plugin.to_string(),
            namespace: None,
            limits: Limits::default(),
            dirs: Vec::new(),
            workspace: None,
            network: NetworkGrant::default(),
            env: Vec::new(),
            agent: AgentGrant::default(),
            source: None,
        }
    }

    /// Env vars to give the guest, resolving `from_host` against the given
    /// lookup (so tests need not touch the process env). A `from_host`
    /// variable the lookup does not know is left out. Sorted by name.
    pub fn resolve_env(&self, lookup: impl Fn(&str) -> Option<String>) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter_map(|g| match &g.value {
                EnvValue::Literal(v) => Some((g.name.clone(), v.clone())),
                EnvValue::FromHost(var) => lookup(var).map(|v| (g.name.clone(), v)),
            })
            .collect()
    }
}

/// Per-call resource limits (`[limits]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel (roughly, instructions) per call (`limits.fuel`).
    pub fuel: u64,
    /// Linear memory cap per call, in bytes (`limits.memory_mib` × 1 MiB).
    pub memory_bytes: u64,
    /// Wall-clock deadline per call (`limits.timeout_ms`).
    pub timeout: Duration,
    /// Cap on captured stdout, and separately on stderr, per call
    /// (`limits.max_output_bytes`).
    pub max_output_bytes: usize,
}

impl Limits {
    /// Default `limits.fuel`.
    pub const DEFAULT_FUEL: u64 = 10_000_000_000;
    /// Default `limits.memory_mib`.
    pub const DEFAULT_MEMORY_MIB: u64 = 256;
    /// Default `limits.timeout_ms`.
    pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
    /// Default `limits.max_output_bytes`.
    pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 1024 * 1024;
}

impl Default for Limits {
    /// 10_000_000_000 fuel, 256 MiB, 30 s, 1 MiB of output per stream.
    fn default() -> Self {
        Limits {
            fuel: Self::DEFAULT_FUEL,
            memory_bytes: Self::DEFAULT_MEMORY_MIB * 1024 * 1024,
            timeout: Duration::from_millis(Self::DEFAULT_TIMEOUT_MS),
            max_output_bytes: Self::DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

/// A host directory mounted into the guest (`[[dirs]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The host directory, canonicalized (absolute, symlinks resolved).
    pub host: PathBuf,
    /// The absolute path the guest sees it at.
    pub guest: String,
    /// Whether the guest may write (default `false`: read-only).
    pub writable: bool,
}

/// The per-project writable workspace (`[workspace]`); the host chooses
/// the host directory per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceGrant {
    /// The absolute path the guest sees the workspace at (default `/workspace`).
    pub guest: String,
}

/// What an agent role may do (`[agent]`); default: nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentGrant {
    /// Tools the role may call: exact names (`seq.gc_content`) or
    /// namespace wildcards (`seq.*`), in file order.
    pub tools: Vec<String>,
    /// Tools the role may see (in `list-tools`) but not call, written like
    /// `tools`: the catalogue a planner plans from.
    pub plan_tools: Vec<String>,
    /// Whether the role may ask the run's LLM.
    pub llm: bool,
    /// Whether the role may search the know-how library and the user's
    /// project documents.
    pub search: bool,
    /// What the role may do with the run's workspace files.
    pub workspace: WorkspaceAccess,
}

impl AgentGrant {
    /// Whether the role may call the tool named `name`.
    pub fn allows_tool(&self, name: &str) -> bool {
        self.tools.iter().any(|p| tool_matches(p, name))
    }

    /// Whether the role may see the tool named `name` (call it, or plan
    /// with it).
    pub fn shows_tool(&self, name: &str) -> bool {
        self.allows_tool(name) || self.plan_tools.iter().any(|p| tool_matches(p, name))
    }
}

/// Whether a `tools` pattern (`seq.gc_content` or `seq.*`) matches `name`.
fn tool_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => name
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => pattern == name,
    }
}

/// Access to the run's workspace files (`agent.workspace`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WorkspaceAccess {
    /// No access (the default).
    #[default]
    None,
    /// Read files only.
    Read,
    /// Read and write files.
    ReadWrite,
}

/// One environment variable for the guest (`[env]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvGrant {
    /// The variable's name in the guest.
    pub name: String,
    /// Where its value comes from.
    pub value: EnvValue,
}

/// The value of an [`EnvGrant`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// A literal value written in the policy (`EMAIL = "ops@example.org"`).
    Literal(String),
    /// The value of this host environment variable, if set
    /// (`NCBI_API_KEY = { from_host = "NCBI_API_KEY" }`).
    FromHost(String),
}

/// Parse one file's text (`path` is used for messages and for resolving
/// relative `dirs[].host` paths against its directory); returns ALL errors
/// found, not just the first, sorted by position.
///
/// This touches the file system only to check `[[dirs]]` host directories.
pub fn parse_policy(path: &Path, text: &str) -> Result<Policy, Vec<PolicyError>> {
    parse::parse(path, text).map(|p| p.policy)
}

/// Reads and parses one policy file; see [`parse_policy`].
pub fn load_file(path: &Path) -> Result<Policy, Vec<PolicyError>> {
    load_file_positioned(path).map(|p| p.policy)
}

fn load_file_positioned(path: &Path) -> Result<parse::Parsed, Vec<PolicyError>> {
    let whole_file = |message: String| {
        vec![PolicyError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            field: None,
            message,
        }]
    };
    let bytes = std::fs::read(path).map_err(|e| {
        whole_file(if e.kind() == std::io::ErrorKind::NotFound {
            "the policy file does not exist: check the path".into()
        } else {
            format!("cannot read the policy file ({e}): fix its permissions")
        })
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..good]).into_owned();
        let (line, column) = error::LineIndex::new(&prefix).position(good);
        vec![PolicyError {
            file: path.to_path_buf(),
            line,
            column,
            field: None,
            message: "the file is not valid UTF-8: save it as UTF-8".into(),
        }]
    })?;
    parse::parse(path, &text)
}

#[cfg(test)]
mod tests;
