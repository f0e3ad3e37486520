//! Loaded plugins and the tool index `namespace.function -> (plugin, export)`.
//!
//! A plugin is any WASI 0.2 component. Every function it exports, at the top
//! level or in an exported interface (except WASI's own and our metadata
//! interface), becomes a tool named `<namespace>.<function_in_snake_case>`.
//! Schemas and descriptions come from the component's WIT, decoded from the
//! component itself, so components built with any toolchain work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bioai_policy::{Policy, PolicySet};
use bioai_witjson::{ToolOutput, ToolSignature, snake_case};
use serde::Serialize;
use serde_json::Value;
pub use tokio_util::sync::CancellationToken;
use wasmtime::component::ComponentExportIndex;
use wit_parser::{Function, Resolve, WorldItem};

use crate::runtime::{
    CallSpec, Captured, Failure, LogSink, Meters, PluginInfo, Program, ProgressSink, Runtime,
    RuntimeError,
};

/// The export name of our metadata interface, which is not a tool.
const METADATA_INTERFACE: &str = "bioai:plugin/metadata@0.1.0";

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The runtime refused the component.
    #[error("{path}: {source}")]
    Runtime {
        /// The plugin file.
        path: PathBuf,
        /// What the runtime said.
        source: RuntimeError,
    },
    /// The component's WIT could not be decoded.
    #[error("{path}: cannot read the component's WIT: {message}")]
    Wit {
        /// The plugin file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Two plugins would export the same tool name.
    #[error(
        "{path}: tool `{tool}` is already provided by plugin `{other}`; give one of them another namespace in its policy (`namespace = \"...\"`)"
    )]
    ToolClash {
        /// The plugin being loaded.
        path: PathBuf,
        /// The clashing tool name.
        tool: String,
        /// The plugin that already has it.
        other: String,
    },
    /// A plugin of the same name is already loaded.
    #[error(
        "{path}: a plugin named `{name}` is already loaded from {other}; rename one of the files"
    )]
    NameClash {
        /// The plugin being loaded.
        path: PathBuf,
        /// The plugin name.
        name: String,
        /// Where the loaded one came from.
        other: PathBuf,
    },
    /// The namespace is not a valid tool-name prefix.
    #[error(
        "{path}: namespace `{namespace}` is not valid: use lowercase letters, digits and `_`, starting with a letter"
    )]
    BadNamespace {
        /// The plugin file.
        path: PathBuf,
        /// The namespace.
        namespace: String,
    },
    /// The policy asks for more memory than the host allows any instance.
    #[error(
        "{path}: its policy allows {asked} bytes of memory but the host's maximum is {max}; lower `limits.memory_mib`"
    )]
    MemoryAboveHostMax {
        /// The plugin file.
        path: PathBuf,
        /// What the policy asks.
        asked: u64,
        /// The host's maximum.
        max: u64,
    },
}

/// MCP-style hints about a tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// The tool does not modify its environment.
    pub read_only_hint: bool,
    /// The tool may perform destructive updates.
    pub destructive_hint: bool,
    /// Repeated calls with the same arguments have no additional effect.
    pub idempotent_hint: bool,
    /// The tool interacts with external entities.
    pub open_world_hint: bool,
}

impl From<&crate::runtime::Annotations> for ToolAnnotations {
    fn from(a: &crate::runtime::Annotations) -> Self {
        Self {
            read_only_hint: a.read_only,
            destructive_hint: a.destructive,
            idempotent_hint: a.idempotent,
            open_world_hint: a.open_world,
        }
    }
}

/// One tool: an exported function of a plugin.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// `namespace.function`, e.g. `seq.gc_content`.
    pub name: String,
    /// Human-readable title, from the plugin's metadata.
    pub title: Option<String>,
    /// From the function's WIT doc comment.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_schema: Value,
    /// JSON Schema of the structured result; `None` for tools that return
    /// rich content or nothing.
    pub output_schema: Option<Value>,
    /// The tool returns `list<block>` of `bioai:plugin/content`: its result
    /// is content for the client to render (text, images, audio, embedded
    /// resources), not structured data.
    pub returns_content: bool,
    /// Behaviour hints.
    pub annotations: ToolAnnotations,
    /// The plugin providing it.
    pub plugin: String,
    /// The WIT export it calls, e.g. `bioai:seq/sequence@0.1.0#gc-content`;
    /// `host` for a tool the host implements itself.
    pub export: String,
    #[serde(skip)]
    export_ref: Option<(Function, ComponentExportIndex)>,
}

impl Tool {
    /// The definition of a tool the host implements itself ([`HostTool`]):
    /// `provider` stands where a plugin name would (e.g. `sandbox`).
    pub fn host(
        name: impl Into<String>,
        provider: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
        output_schema: Option<Value>,
    ) -> Self {
        Self {
            name: name.into(),
            title: None,
            description: description.into(),
            input_schema,
            output_schema,
            returns_content: false,
            annotations: ToolAnnotations::default(),
            plugin: provider.into(),
            export: "host".to_string(),
            export_ref: None,
        }
    }
}

/// A tool implemented by the host rather than by a plugin component (e.g.
/// `sandbox.run_python`, whose per-run mounts and native fallback a plain
/// component call cannot express). It is listed and called like every
/// other tool, and its calls are recorded the same way.
pub trait HostTool: Send + Sync + 'static {
    /// The tool's definition; its `name` must be unique in the registry.
    fn definition(&self) -> &Tool;
    /// The policy its calls run under (the MCP layer reads the deadline).
    fn policy(&self) -> &Arc<Policy>;
    /// Runs one call. Bad arguments, limits and failures come back in the
    /// outcome's `result`, with the meters of what ran.
    fn call<'a>(
        &'a self,
        args: &'a Value,
        ctx: CallContext,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ToolOutcome> + Send + 'a>>;
    /// A file the tool's results link to (e.g. a sandbox output file), with
    /// its media type, if `uri` is one of the tool's and exists.
    fn resource_file(&self, _uri: &str) -> Option<(PathBuf, String)> {
        None
    }
}

/// What a tool name resolves to.
#[derive(Clone)]
enum Entry {
    /// An export of a plugin component.
    Plugin(Arc<Plugin>, Box<Tool>),
    /// A tool of the host.
    Host(Arc<dyn HostTool>),
}

impl Entry {
    fn tool(&self) -> &Tool {
        match self {
            Entry::Plugin(_, t) => t,
            Entry::Host(h) => h.definition(),
        }
    }

    fn provider(&self) -> &str {
        &self.tool().plugin
    }
}

/// A loaded plugin.
pub struct Plugin {
    /// The plugin's name: its file stem.
    pub name: String,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// The tool namespace in force.
    pub namespace: String,
    /// What its metadata export said, if it has one.
    pub info: Option<PluginInfo>,
    /// The policy applied to its calls (the default-deny one if none was written).
    pub policy: Arc<Policy>,
    /// Whether `policy` came from a file.
    pub has_policy_file: bool,
    /// The component's WIT, printed.
    pub wit: String,
    /// Exported functions that could not become tools, with the reason.
    pub skipped: Vec<String>,
    env: Vec<(String, String)>,
    program: Program,
    resolve: Arc<Resolve>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// What the caller provides for one tool call beyond the arguments.
#[derive(Clone, Default)]
pub struct CallContext {
    /// The project's workspace directory on the host, if the call has a project.
    pub workspace: Option<PathBuf>,
    /// Cancelling interrupts the call; its meters are still reported.
    pub cancel: CancellationToken,
    /// Receives progress reports.
    pub progress: Option<ProgressSink>,
    /// Receives the plugin's log records (they go to the host log anyway).
    pub log: Option<LogSink>,
    /// The tenant the call is billed to; `None` for an operator's own call.
    pub user_id: Option<bioai_store::Uuid>,
    /// The tenant's project, if any.
    pub project_id: Option<bioai_store::Uuid>,
    /// The agent run the call belongs to; `None` for a direct tools/call.
    pub run_id: Option<bioai_store::Uuid>,
}

/// The result of a tool call.
#[derive(Debug)]
pub struct ToolOutcome {
    /// The tool that ran.
    pub tool: String,
    /// The plugin that provided it.
    pub plugin: String,
    /// The structured result, or why there is none.
    pub result: Result<Value, CallFailure>,
    /// What the call consumed.
    pub meters: Meters,
    /// The guest's stdout.
    pub stdout: Captured,
    /// The guest's stderr.
    pub stderr: Captured,
}

/// Why a tool call produced no result.
#[derive(Debug, Clone, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum CallFailure {
    /// The tool ran and returned its own error (`result::err`).
    #[error("{message}")]
    ToolError {
        /// Human-readable message.
        message: String,
        /// The error value as JSON.
        detail: Value,
        /// `denied` when the tool failed after its policy refused a capability.
        class: &'static str,
        /// A result conforming to the tool's output schema that goes with
        /// the error (e.g. the sandbox's stdout, traceback and meters when
        /// the Python code raised), for clients that want the details.
        partial: Option<Value>,
    },
    /// The call failed in the host's hands (limits, trap, bad arguments...).
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl CallFailure {
    /// A stable class name: `tool_error`, `denied`, or the [`Failure`] class.
    pub fn class(&self) -> &'static str {
        match self {
            CallFailure::ToolError { class, .. } => class,
            CallFailure::Failure(f) => f.class(),
        }
    }
}

/// Calling a tool that does not exist.
#[derive(Debug, thiserror::Error)]
#[error("no tool named `{name}`{hint}")]
pub struct UnknownTool {
    /// The requested name.
    pub name: String,
    hint: String,
}

/// The loaded plugins and their tools.
pub struct Registry {
    runtime: Arc<Runtime>,
    policies: PolicySet,
    plugins: BTreeMap<String, Arc<Plugin>>,
    tools: BTreeMap<String, Entry>,
    recorder: Option<bioai_store::Recorder>,
}

impl Registry {
    /// An empty registry applying `policies` to the plugins it loads.
    pub fn new(runtime: Arc<Runtime>, policies: PolicySet) -> Self {
        Self {
            runtime,
            policies,
            plugins: BTreeMap::new(),
            tools: BTreeMap::new(),
            recorder: None,
        }
    }

    /// Records every call from now on (`tool_calls` row and usage events),
    /// successful, failed or cancelled, through `recorder`.
    pub fn set_recorder(&mut self, recorder: bioai_store::Recorder) {
        self.recorder = Some(recorder);
    }

    /// The call recorder, if one is attached.
    pub fn recorder(&self) -> Option<&bioai_store::Recorder> {
        self.recorder.as_ref()
    }

    /// Writes every call record queued so far and stops recording. A server
    /// must call this on a clean shutdown, after it stopped taking calls, or
    /// the records still queued are lost with the process.
    pub async fn shutdown_recorder(&self) -> Result<(), bioai_store::RecorderError> {
        match &self.recorder {
            Some(r) => r.shutdown().await,
            None => Ok(()),
        }
    }

    /// The runtime calls run on.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Loads every `*.wasm` file of `dir` (sorted by name). Returns the
    /// errors of the plugins that failed; the others stay loaded.
    pub async fn load_dir(&mut self, dir: &Path) -> Vec<LoadError> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
                .collect(),
            Err(source) => {
                return vec![LoadError::Runtime {
                    path: dir.to_path_buf(),
                    source: RuntimeError::Read {
                        path: dir.to_path_buf(),
                        source,
                    },
                }];
            }
        };
        files.sort();
        let mut errors = Vec::new();
        for file in files {
            if let Err(e) = self.load_file(&file).await {
                errors.push(e);
            }
        }
        errors
    }

    /// Loads one component file as a plugin and indexes its tools.
    pub async fn load_file(&mut self, path: &Path) -> Result<Arc<Plugin>, LoadError> {
        let plugin = prepare(&self.runtime, &self.policies, path).await?;
        if let Some(other) = self.plugins.get(&plugin.plugin.name) {
            return Err(LoadError::NameClash {
                path: path.to_path_buf(),
                name: plugin.plugin.name.clone(),
                other: other.path.clone(),
            });
        }
        let (plugin, tools) = plugin.into_parts();
        for tool in &tools {
            if let Some(other) = self.tools.get(&tool.name) {
                return Err(LoadError::ToolClash {
                    path: path.to_path_buf(),
                    tool: tool.name.clone(),
                    other: other.provider().to_string(),
                });
            }
        }
        tracing::info!(
            plugin = %plugin.name,
            tools = tools.len(),
            policy = plugin.has_policy_file,
            "loaded plugin"
        );
        for tool in tools {
            self.tools.insert(
                tool.name.clone(),
                Entry::Plugin(plugin.clone(), Box::new(tool)),
            );
        }
        self.plugins.insert(plugin.name.clone(), plugin.clone());
        Ok(plugin)
    }

    /// The loaded plugins, by name.
    pub fn plugins(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.values()
    }

    /// Adds a tool the host implements. Fails if a tool of that name exists.
    pub fn add_host_tool(&mut self, tool: Arc<dyn HostTool>) -> Result<(), LoadError> {
        let name = tool.definition().name.clone();
        if let Some(other) = self.tools.get(&name) {
            return Err(LoadError::ToolClash {
                path: PathBuf::from(format!("host tool {name}")),
                tool: name,
                other: other.provider().to_string(),
            });
        }
        tracing::info!(tool = %name, "host tool available");
        self.tools.insert(name, Entry::Host(tool));
        Ok(())
    }

    /// The host's own tools, for carrying them over to a reloaded registry.
    pub fn host_tools(&self) -> impl Iterator<Item = &Arc<dyn HostTool>> {
        self.tools.values().filter_map(|e| match e {
            Entry::Host(h) => Some(h),
            Entry::Plugin(..) => None,
        })
    }

    /// Every tool, sorted by name.
    pub fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.tools.values().map(Entry::tool)
    }

    /// The policy the tool called `name` runs under.
    pub fn policy_of(&self, name: &str) -> Option<&Arc<Policy>> {
        match self.tools.get(name)? {
            Entry::Plugin(p, _) => Some(&p.policy),
            Entry::Host(h) => Some(h.policy()),
        }
    }

    /// A loaded plugin by name.
    pub fn plugin(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.plugins.get(name)
    }

    /// The tool called `name`, if loaded.
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools.get(name).map(Entry::tool)
    }

    /// Calls a tool with JSON arguments.
    pub async fn call(
        &self,
        name: &str,
        args: &Value,
        ctx: CallContext,
    ) -> Result<ToolOutcome, UnknownTool> {
        let Some(entry) = self.tools.get(name) else {
            return Err(self.unknown(name));
        };
        let run = async |ctx: CallContext| match entry {
            Entry::Plugin(plugin, tool) => call_tool(&self.runtime, plugin, tool, args, ctx).await,
            Entry::Host(host) => host.call(args, ctx).await,
        };
        let Some(recorder) = &self.recorder else {
            return Ok(run(ctx).await);
        };
        let ids = (ctx.user_id, ctx.project_id, ctx.run_id);
        let started_at = bioai_store::Utc::now();
        let outcome = run(ctx).await;
        // Queued, not written: the recorder batches writes in the background.
        if let Err(e) = recorder
            .record(call_record(&outcome, ids, started_at))
            .await
        {
            let record = match &e {
                bioai_store::RecorderError::Closed(r) => {
                    serde_json::to_string(r).unwrap_or_default()
                }
                _ => String::new(),
            };
            tracing::error!(%record, "tool call not recorded: {e}");
        }
        Ok(outcome)
    }

    fn unknown(&self, name: &str) -> UnknownTool {
        let ns = name.split('.').next().unwrap_or(name);
        let similar: Vec<&str> = self
            .tools
            .keys()
            .filter(|t| t.starts_with(&format!("{ns}.")))
            .map(String::as_str)
            .take(10)
            .collect();
        let hint = if similar.is_empty() {
            "; list the available tools with `bioai plugin list`".to_string()
        } else {
            format!("; tools in `{ns}`: {}", similar.join(", "))
        };
        UnknownTool {
            name: name.to_string(),
            hint,
        }
    }
}

/// The record of a finished call: its `tool_calls` row and usage events.
fn call_record(
    outcome: &ToolOutcome,
    (user_id, project_id, run_id): (
        Option<bioai_store::Uuid>,
        Option<bioai_store::Uuid>,
        Option<bioai_store::Uuid>,
    ),
    started_at: bioai_store::DateTime<bioai_store::Utc>,
) -> bioai_store::CallRecord {
    use bioai_store::CallStatus;
    let (status, error_class) = match &outcome.result {
        Ok(_) => (CallStatus::Ok, None),
        Err(f) if f.class() == "cancelled" => (CallStatus::Cancelled, Some(f.class().to_string())),
        Err(f) => (CallStatus::Failed, Some(f.class().to_string())),
    };
    let m = &outcome.meters;
    bioai_store::CallRecord {
        id: bioai_store::Uuid::now_v7(),
        run_id,
        user_id,
        project_id,
        plugin: outcome.plugin.clone(),
        tool: outcome.tool.clone(),
        status,
        error_class,
        fuel: m.fuel,
        peak_memory_bytes: m.peak_memory_bytes,
        wall_us: u64::try_from(m.wall.as_micros()).unwrap_or(u64::MAX),
        net_requests: m.net_requests,
        net_bytes_out: m.net_bytes_out,
        net_bytes_in: m.net_bytes_in,
        started_at,
        finished_at: bioai_store::Utc::now(),
    }
}

/// Calls one tool of one plugin: JSON to values, the runtime call, values to JSON.
async fn call_tool(
    runtime: &Runtime,
    plugin: &Plugin,
    tool: &Tool,
    args: &Value,
    ctx: CallContext,
) -> ToolOutcome {
    let mut outcome = ToolOutcome {
        tool: tool.name.clone(),
        plugin: plugin.name.clone(),
        result: Err(CallFailure::Failure(Failure::Cancelled)),
        meters: Meters::default(),
        stdout: Captured::default(),
        stderr: Captured::default(),
    };
    let Some((function, index)) = &tool.export_ref else {
        outcome.result = Err(Failure::Trap {
            message: format!(
                "`{}` is not an export of plugin `{}`",
                tool.name, plugin.name
            ),
        }
        .into());
        return outcome;
    };
    let sig = ToolSignature {
        resolve: &plugin.resolve,
        func: function,
    };
    let vals = match sig.args_to_vals(args) {
        Ok(v) => v,
        Err(e) => {
            outcome.result = Err(Failure::BadArguments {
                message: e.to_string(),
            }
            .into());
            return outcome;
        }
    };
    let spec = CallSpec {
        policy: &plugin.policy,
        env: &plugin.env,
        workspace: ctx.workspace.as_deref(),
        cancel: ctx.cancel,
        progress: ctx.progress,
        log: ctx.log,
        label: &tool.name,
    };
    let result_count = usize::from(function.result.is_some());
    let ran = runtime
        .call(&plugin.program, index, &vals, result_count, spec)
        .await;
    outcome.meters = ran.meters;
    outcome.stdout = ran.stdout;
    outcome.stderr = ran.stderr;
    outcome.result = match ran.result {
        Err(f) => Err(f.into()),
        Ok(results) => match sig.results_to_output(&results) {
            Ok(ToolOutput::Success(v)) => Ok(v),
            Ok(ToolOutput::ToolError { message, detail }) => {
                let class = if ran.denials.is_empty() {
                    "tool_error"
                } else {
                    "denied"
                };
                let message = if ran.denials.is_empty() {
                    message
                } else {
                    format!("{message} (denied by policy: {})", ran.denials.join("; "))
                };
                Err(CallFailure::ToolError {
                    message,
                    detail,
                    class,
                    partial: None,
                })
            }
            Err(e) => Err(Failure::Trap {
                message: format!("the plugin returned a value the host cannot convert: {e}"),
            }
            .into()),
        },
    };
    outcome
}

/// A plugin read and checked, not yet indexed.
struct Prepared {
    plugin: Plugin,
    tools: Vec<Tool>,
}

impl Prepared {
    fn into_parts(self) -> (Arc<Plugin>, Vec<Tool>) {
        let plugin = Arc::new(self.plugin);
        (plugin, self.tools)
    }
}

async fn prepare(
    runtime: &Runtime,
    policies: &PolicySet,
    path: &Path,
) -> Result<Prepared, LoadError> {
    let runtime_err = |source| LoadError::Runtime {
        path: path.to_path_buf(),
        source,
    };
    let (name, bytes) = crate::runtime::read_component(path).map_err(runtime_err)?;
    let wit_err = |message: String| LoadError::Wit {
        path: path.to_path_buf(),
        message,
    };
    let decoded = wit_component::decode(&bytes).map_err(|e| wit_err(format!("{e:#}")))?;
    let (resolve, world) = match decoded {
        wit_component::DecodedWasm::Component(resolve, world) => (resolve, world),
        wit_component::DecodedWasm::WitPackage(..) => {
            return Err(wit_err(
                "this file is a WIT package, not a component".to_string(),
            ));
        }
    };
    let embedded = embedded_wit(&bytes);
    let program = runtime.load_bytes(&name, &bytes).map_err(runtime_err)?;
    let info = runtime.describe(&program).await.map_err(runtime_err)?;

    let (policy, has_policy_file) = match policies.get(&name) {
        Some(p) => (p.clone(), true),
        None => (Policy::default_for(&name), false),
    };
    if policy.limits.memory_bytes > runtime.max_memory_bytes() {
        return Err(LoadError::MemoryAboveHostMax {
            path: path.to_path_buf(),
            asked: policy.limits.memory_bytes,
            max: runtime.max_memory_bytes(),
        });
    }
    let namespace = policy
        .namespace
        .clone()
        .or_else(|| info.as_ref().and_then(|i| i.namespace.clone()))
        .unwrap_or_else(|| snake_case(&name));
    if !namespace.is_empty() && !valid_namespace(&namespace) {
        return Err(LoadError::BadNamespace {
            path: path.to_path_buf(),
            namespace,
        });
    }

    let mut tools = Vec::new();
    let mut skipped = Vec::new();
    for (key, item) in &resolve.worlds[world].exports {
        let export_name = resolve.name_world_key(key);
        let funcs: Vec<(Option<&str>, &Function)> = match item {
            WorldItem::Function(f) => vec![(None, f)],
            WorldItem::Interface { id, .. } => {
                if export_name == METADATA_INTERFACE || export_name.starts_with("wasi:") {
                    continue;
                }
                resolve.interfaces[*id]
                    .functions
                    .values()
                    .map(|f| (Some(export_name.as_str()), f))
                    .collect()
            }
            WorldItem::Type { .. } => continue,
        };
        for (interface, func) in funcs {
            let export = match interface {
                Some(i) => format!("{i}#{}", func.name),
                None => func.name.clone(),
            };
            let sig = ToolSignature {
                resolve: &resolve,
                func,
            };
            if let Err(e) = sig.check_supported() {
                skipped.push(format!("{export}: {e}"));
                continue;
            }
            let Some(index) = program.export_index(interface, &func.name) else {
                skipped.push(format!("{export}: not found in the component's exports"));
                continue;
            };
            let returns_content = returns_content(&resolve, func);
            let tool_info = info
                .as_ref()
                .and_then(|i| i.tools.iter().find(|t| t.name == func.name));
            let annotations = tool_info
                .and_then(|t| t.annotations.as_ref())
                .or(info.as_ref().map(|i| &i.annotations))
                .map(ToolAnnotations::from)
                .unwrap_or_default();
            let tool_name = if namespace.is_empty() {
                snake_case(&func.name)
            } else {
                format!("{namespace}.{}", snake_case(&func.name))
            };
            if tools.iter().any(|t: &Tool| t.name == tool_name) {
                return Err(LoadError::ToolClash {
                    path: path.to_path_buf(),
                    tool: tool_name,
                    other: name.clone(),
                });
            }
            let docs = func
                .docs
                .contents
                .clone()
                .or_else(|| embedded_docs(embedded.as_ref(), interface, &func.name));
            tools.push(Tool {
                description: docs
                    .unwrap_or_else(|| format!("`{}` from plugin `{name}`.", func.name)),
                title: tool_info.and_then(|t| t.title.clone()),
                input_schema: sig.input_schema(),
                output_schema: if returns_content {
                    None
                } else {
                    sig.output_schema()
                },
                returns_content,
                annotations,
                plugin: name.clone(),
                export,
                name: tool_name,
                export_ref: Some((func.clone(), index)),
            });
        }
    }
    for s in &skipped {
        tracing::warn!(plugin = %name, "export is not a tool: {s}");
    }

    let env = policy.resolve_env(|k| std::env::var(k).ok());
    let wit = print_wit(&resolve, world);
    Ok(Prepared {
        plugin: Plugin {
            name,
            path: path.to_path_buf(),
            namespace,
            info,
            policy: Arc::new(policy),
            has_policy_file,
            wit,
            skipped,
            env,
            program,
            resolve: Arc::new(resolve),
        },
        tools,
    })
}

/// Whether `func` returns `list<block>` (or `result<list<block>, E>`) with
/// `block` from our `bioai:plugin/content` interface.
fn returns_content(resolve: &Resolve, func: &Function) -> bool {
    use wit_parser::{Type, TypeDefKind, TypeOwner};
    let is_block_list = |ty: &Type| -> bool {
        let Type::Id(id) = ty else { return false };
        let TypeDefKind::List(Type::Id(item)) = &resolve.types[*id].kind else {
            return false;
        };
        // Follow `use`d aliases to the defining interface.
        let mut item = *item;
        while let TypeDefKind::Type(Type::Id(next)) = &resolve.types[item].kind {
            item = *next;
        }
        let def = &resolve.types[item];
        let TypeOwner::Interface(owner) = def.owner else {
            return false;
        };
        let iface = &resolve.interfaces[owner];
        let in_package = iface.package.is_some_and(|p| {
            let name = &resolve.packages[p].name;
            name.namespace == "bioai" && name.name == "plugin"
        });
        def.name.as_deref() == Some("block")
            && iface.name.as_deref() == Some("content")
            && in_package
    };
    match &func.result {
        Some(ty) if is_block_list(ty) => true,
        Some(Type::Id(id)) => match &resolve.types[*id].kind {
            TypeDefKind::Result(r) => r.ok.as_ref().is_some_and(is_block_list),
            _ => false,
        },
        _ => false,
    }
}

fn valid_namespace(ns: &str) -> bool {
    let mut chars = ns.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The component's WIT as `wasm-tools component wit` would print it.
fn print_wit(resolve: &Resolve, world: wit_parser::WorldId) -> String {
    let Some(main) = resolve.worlds[world].package else {
        return String::new();
    };
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = wit_component::WitPrinter::default();
    match printer.print(resolve, main, &nested) {
        Ok(()) => printer.output.to_string(),
        Err(e) => format!("// the WIT could not be printed: {e:#}"),
    }
}

/// The name of the custom section in which `bioai-sdk` embeds the plugin's
/// own WIT package with its doc comments (the component model's type
/// information carries no docs).
const EMBEDDED_WIT_SECTION: &str = "bioai-plugin-wit";

/// The WIT package a plugin built with our SDK embedded, if any.
fn embedded_wit(bytes: &[u8]) -> Option<Resolve> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::CustomSection(s)) = payload
            && s.name() == EMBEDDED_WIT_SECTION
        {
            return match wit_component::decode(s.data()) {
                Ok(wit_component::DecodedWasm::WitPackage(resolve, _)) => Some(resolve),
                _ => None,
            };
        }
    }
    None
}

/// The doc comment of `function` in the embedded WIT: in the interface whose
/// full name is `interface`, or among the world's top-level functions.
fn embedded_docs(
    embedded: Option<&Resolve>,
    interface: Option<&str>,
    function: &str,
) -> Option<String> {
    let resolve = embedded?;
    match interface {
        Some(name) => resolve.interfaces.iter().find_map(|(id, iface)| {
            (resolve.id_of(id).as_deref() == Some(name))
                .then(|| iface.functions.get(function)?.docs.contents.clone())
                .flatten()
        }),
        None => resolve.worlds.iter().find_map(|(_, world)| {
            world.exports.values().find_map(|item| match item {
                WorldItem::Function(f) if f.name == function => f.docs.contents.clone(),
                _ => None,
            })
        }),
    }
}
