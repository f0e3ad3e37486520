//! Loaded plugins and the tool index `namespace.function -> (plugin, export)`.
//!
//! A plugin is any WASI 0.2 component. Every function it exports, at the top
//! level or in an exported interface (except WASI's own and our metadata,
//! prompts, resources and completions interfaces), becomes a tool named
//! `<namespace>.<function_in_snake_case>`. What a plugin offers through those
//! optional interfaces (see [`crate::extras`]) is listed at load time and
//! indexed here too.
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

use crate::extras::{
    ArgumentDetail, COMPLETIONS_INTERFACE, CompletionRef, ExtraError, HEADERS_INTERFACE,
    PROMPTS_INTERFACE, PluginExtras, PromptInfo, RESOURCES_INTERFACE, ResourceInfo,
    TOOL_DETAILS_INTERFACE, TemplateInfo, is_extra_interface, match_template,
};
use crate::runtime::{
    CallSpec, Captured, ClientHandle, Failure, LogSink, Meters, PluginInfo, Program, ProgressSink,
    Runtime, RuntimeError,
};

/// The export name of our metadata interface, which is not a tool.
const METADATA_INTERFACE: &str = "bioai:plugin/metadata@0.1.0";
/// The export of an agent role: its `step` function is not a tool.
pub const ROLE_INTERFACE: &str = "bioai:plugin/role@0.1.0";

/// The component files of a plugin directory (`*.wasm`), sorted by name:
/// what [`Registry::load_dir`] loads.
pub fn component_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

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
    /// The file is not a WebAssembly component at all (another file, or a
    /// core module).
    #[error(
        "{path}: {what}; plugins are WASI 0.2 components (e.g. `cargo build --target wasm32-wasip2`)"
    )]
    NotAComponent {
        /// The plugin file.
        path: PathBuf,
        /// What the file is instead.
        what: &'static str,
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
    /// The plugin's `tool-details` for a tool are unusable.
    #[error("{path}: the tool-details of `{tool}` are wrong: {message}")]
    ToolDetails {
        /// The plugin file.
        path: PathBuf,
        /// The function the details are for.
        tool: String,
        /// What is wrong.
        message: String,
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
    /// Client capabilities the tool cannot work without (`sampling`,
    /// `elicitation`, `roots`), from the plugin's `tool-details`.
    pub requires: Vec<String>,
    #[serde(skip)]
    export_ref: Option<(Function, ComponentExportIndex)>,
    /// The plugin's own input schema, compiled: every call's arguments are
    /// checked against it (the derived schema is enforced by the WIT types).
    #[serde(skip)]
    input_check: Option<Arc<jsonschema::Validator>>,
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
            requires: Vec::new(),
            export_ref: None,
            input_check: None,
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

/// What a tool name resolves to, with the names its calls are recorded
/// under.
#[derive(Clone)]
enum Entry {
    /// An export of a plugin component.
    Plugin(Arc<Plugin>, Box<Tool>, RecordNames),
    /// A tool of the host.
    Host(Arc<dyn HostTool>, RecordNames),
}

/// A tool's plugin and tool names as a call record holds them: made once
/// per tool, so recording a call allocates no strings (two allocations per
/// call, freed on the recorder's thread, were about a quarter of what
/// recording added to a trivial call).
#[derive(Clone)]
struct RecordNames {
    plugin: Arc<str>,
    tool: Arc<str>,
}

impl RecordNames {
    fn of(tool: &Tool) -> Self {
        RecordNames {
            plugin: tool.plugin.as_str().into(),
            tool: tool.name.as_str().into(),
        }
    }

    /// These names where the outcome reports the same ones (always, for
    /// our tools), else the outcome's.
    fn for_outcome(&self, outcome: &ToolOutcome) -> (Arc<str>, Arc<str>) {
        let pick = |kept: &Arc<str>, reported: &str| {
            if &**kept == reported {
                kept.clone()
            } else {
                reported.into()
            }
        };
        (
            pick(&self.plugin, &outcome.plugin),
            pick(&self.tool, &outcome.tool),
        )
    }
}

impl Entry {
    fn plugin(plugin: Arc<Plugin>, tool: Tool) -> Self {
        let names = RecordNames::of(&tool);
        Entry::Plugin(plugin, Box::new(tool), names)
    }

    fn host(tool: Arc<dyn HostTool>) -> Self {
        let names = RecordNames::of(tool.definition());
        Entry::Host(tool, names)
    }

    fn tool(&self) -> &Tool {
        match self {
            Entry::Plugin(_, t, _) => t,
            Entry::Host(h, _) => h.definition(),
        }
    }

    fn names(&self) -> &RecordNames {
        match self {
            Entry::Plugin(_, _, n) | Entry::Host(_, n) => n,
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
    /// Its prompts, resources and URI templates, as listed when it loaded.
    pub extras: PluginExtras,
    /// The functions of its optional `prompts`, `resources` and
    /// `completions` exports, by `interface#function`.
    extra_exports: BTreeMap<String, (Function, ComponentExportIndex)>,
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
    /// Carries the plugin's requests to the MCP client that made the call
    /// (sampling, elicitation, roots); `None` when there is none to ask.
    pub client: Option<ClientHandle>,
    /// The tenant the call is billed to; `None` for an operator's own call.
    pub user_id: Option<bioai_store::Uuid>,
    /// The tenant's project, if any.
    pub project_id: Option<bioai_store::Uuid>,
    /// The agent run the call belongs to; `None` for a direct tools/call.
    pub run_id: Option<bioai_store::Uuid>,
    /// For an agent role's step: serves its `bioai:plugin/agent` requests.
    pub role: Option<crate::runtime::RoleHandle>,
    /// Who writes the call's `tool_calls` row and usage events.
    pub recording: Recording,
}

/// Who records a call (its `tool_calls` row and usage events).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Recording {
    /// The registry queues it on its recorder (batched, off the hot path).
    #[default]
    Recorder,
    /// The caller records it itself, with [`call_record`]: an agent run
    /// writes the record in the transaction that journals the call, with an
    /// id derived from the run, step and call, so that a call is recorded
    /// once even when its step re-runs after a restart.
    Caller,
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

impl ToolOutcome {
    /// A call of `tool` that failed before it ran (nothing consumed).
    fn failed(tool: &str, plugin: &str, failure: Failure) -> Self {
        ToolOutcome {
            tool: tool.to_string(),
            plugin: plugin.to_string(),
            result: Err(failure.into()),
            meters: Meters::default(),
            stdout: Captured::default(),
            stderr: Captured::default(),
        }
    }
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
    /// Full prompt name -> the plugin and the prompt's index in its listing.
    prompts: BTreeMap<String, (Arc<Plugin>, usize)>,
    /// Agent roles by plugin name, with their `step` export.
    roles: BTreeMap<String, Entry>,
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
            prompts: BTreeMap::new(),
            roles: BTreeMap::new(),
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
        let files = match component_files(dir) {
            Ok(files) => files,
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
        let (plugin, tools, role) = plugin.into_parts();
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
            self.tools
                .insert(tool.name.clone(), Entry::plugin(plugin.clone(), tool));
        }
        if let Some(step) = role {
            tracing::info!(plugin = %plugin.name, "plugin is an agent role");
            self.roles
                .insert(plugin.name.clone(), Entry::plugin(plugin.clone(), step));
        }
        for (i, prompt) in plugin.extras.prompts.iter().enumerate() {
            let name = qualified(&plugin.namespace, &prompt.name);
            if let Some((other, _)) = self.prompts.get(&name) {
                tracing::warn!(
                    plugin = %plugin.name,
                    "prompt `{name}` is already provided by plugin `{}`; this one is not offered \
                     (give one of the plugins another namespace in its policy)",
                    other.name
                );
                continue;
            }
            self.prompts.insert(name, (plugin.clone(), i));
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
        self.tools.insert(name, Entry::host(tool));
        Ok(())
    }

    /// The host's own tools, for carrying them over to a reloaded registry.
    pub fn host_tools(&self) -> impl Iterator<Item = &Arc<dyn HostTool>> {
        self.tools.values().filter_map(|e| match e {
            Entry::Host(h, _) => Some(h),
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
            Entry::Plugin(p, _, _) => Some(&p.policy),
            Entry::Host(h, _) => Some(h.policy()),
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
        Ok(self.call_entry(entry, args, ctx).await)
    }

    /// Whether plugin `name` is a loaded agent role.
    pub fn has_role(&self, name: &str) -> bool {
        self.roles.contains_key(name)
    }

    /// The loaded agent roles' plugin names.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Runs one step of the agent role of plugin `name`: `args` is
    /// `{"state": <run-state>}`, and `ctx.role` serves the role's requests.
    /// Recorded and metered like a tool call. `None` if no such role.
    pub async fn call_role(
        &self,
        name: &str,
        args: &Value,
        ctx: CallContext,
    ) -> Option<ToolOutcome> {
        let entry = self.roles.get(name)?;
        Some(self.call_entry(entry, args, ctx).await)
    }

    async fn call_entry(&self, entry: &Entry, args: &Value, ctx: CallContext) -> ToolOutcome {
        let run = async |ctx: CallContext| match entry {
            Entry::Plugin(plugin, tool, _) => {
                call_tool(&self.runtime, plugin, tool, args, ctx).await
            }
            Entry::Host(host, _) => host.call(args, ctx).await,
        };
        let Some(recorder) = self
            .recorder
            .as_ref()
            .filter(|_| ctx.recording == Recording::Recorder)
        else {
            return run(ctx).await;
        };
        let ids = (ctx.user_id, ctx.project_id, ctx.run_id);
        // One clock reading for the id and the start: `Uuid::now_v7` and
        // `Utc::now` read the clock again and take a process-wide lock,
        // together about 1% of a trivial call.
        let started = std::time::SystemTime::now();
        let outcome = run(ctx).await;
        let names = entry.names().for_outcome(&outcome);
        let call_id = bioai_store::CallRecord::id_at(started);
        // Queued, not written: the recorder batches writes in the background.
        if let Err(e) = recorder
            .record(named_call_record(
                &outcome,
                names,
                call_id,
                ids,
                started.into(),
            ))
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
        outcome
    }

    /// Every plugin prompt, by full name (`<namespace>.<name>`), with the
    /// plugin offering it.
    pub fn prompts(&self) -> impl Iterator<Item = (&str, &Arc<Plugin>, &PromptInfo)> {
        self.prompts.iter().filter_map(|(name, (plugin, i))| {
            Some((name.as_str(), plugin, plugin.extras.prompts.get(*i)?))
        })
    }

    /// Renders the prompt called `name` (its full name) with `arguments`:
    /// the `rendered` record of `bioai:plugin/prompts` as JSON.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: &[(String, String)],
        ctx: CallContext,
    ) -> Result<Value, ExtraError> {
        let (plugin, prompt) = self.prompt(name)?;
        let args = serde_json::json!({ "name": prompt.name, "arguments": arguments });
        call_extra(
            &self.runtime,
            plugin,
            PROMPTS_INTERFACE,
            "get-prompt",
            &args,
            ctx,
        )
        .await
    }

    fn prompt(&self, name: &str) -> Result<(&Arc<Plugin>, &PromptInfo), ExtraError> {
        self.prompts
            .get(name)
            .and_then(|(plugin, i)| Some((plugin, plugin.extras.prompts.get(*i)?)))
            .ok_or_else(|| {
                ExtraError::NotFound(format!(
                    "no prompt named `{name}`; list the prompts with prompts/list"
                ))
            })
    }

    /// Every fixed resource plugins list, with the plugin offering it.
    pub fn plugin_resources(&self) -> impl Iterator<Item = (&Arc<Plugin>, &ResourceInfo)> {
        self.plugins
            .values()
            .flat_map(|p| p.extras.resources.iter().map(move |r| (p, r)))
    }

    /// Every URI template plugins serve, with the plugin serving it.
    pub fn plugin_templates(&self) -> impl Iterator<Item = (&Arc<Plugin>, &TemplateInfo)> {
        self.plugins
            .values()
            .flat_map(|p| p.extras.templates.iter().map(move |t| (p, t)))
    }

    /// The plugin that serves `uri`: the first (by plugin name) that lists
    /// it, else the first with a template it matches.
    pub fn resource_owner(&self, uri: &str) -> Option<&Arc<Plugin>> {
        self.plugin_resources()
            .find(|(_, r)| r.uri == uri)
            .map(|(p, _)| p)
            .or_else(|| {
                self.plugin_templates()
                    .find(|(_, t)| match_template(&t.uri_template, uri).is_some())
                    .map(|(p, _)| p)
            })
    }

    /// Reads a plugin resource: `None` when no plugin serves `uri`,
    /// otherwise the contents (a JSON list of `embedded-resource` records)
    /// or why there are none.
    pub async fn read_resource(
        &self,
        uri: &str,
        ctx: CallContext,
    ) -> Option<Result<Value, ExtraError>> {
        let plugin = self.resource_owner(uri)?;
        let args = serde_json::json!({ "uri": uri });
        let read = call_extra(
            &self.runtime,
            plugin,
            RESOURCES_INTERFACE,
            "read-resource",
            &args,
            ctx,
        )
        .await
        .and_then(|v| match v.get("value") {
            Some(Value::Null) | None => Err(ExtraError::NotFound(format!(
                "plugin `{}` has no resource `{uri}`",
                plugin.name
            ))),
            Some(contents) => Ok(contents.clone()),
        });
        Some(read)
    }

    /// Suggests values for `argument` of a prompt or resource template.
    /// Plugins without a `completions` export suggest nothing.
    pub async fn complete(
        &self,
        reference: &CompletionRef,
        argument: &str,
        value: &str,
        context: &[(String, String)],
        ctx: CallContext,
    ) -> Result<Vec<String>, ExtraError> {
        let (plugin, wit_ref) = match reference {
            CompletionRef::Prompt(name) => {
                let (plugin, prompt) = self.prompt(name)?;
                (plugin, serde_json::json!({ "prompt": prompt.name }))
            }
            CompletionRef::Template(template) => {
                let plugin = self
                    .plugin_templates()
                    .find(|(_, t)| t.uri_template == *template)
                    .map(|(p, _)| p)
                    .ok_or_else(|| {
                        ExtraError::NotFound(format!(
                            "no resource template `{template}`; list them with resources/templates/list"
                        ))
                    })?;
                (plugin, serde_json::json!({ "template": template }))
            }
        };
        if !plugin
            .extra_exports
            .contains_key(&format!("{COMPLETIONS_INTERFACE}#complete"))
        {
            return Ok(Vec::new());
        }
        let args = serde_json::json!({
            "reference": wit_ref,
            "argument": argument,
            "value": value,
            "context": context,
        });
        let out = call_extra(
            &self.runtime,
            plugin,
            COMPLETIONS_INTERFACE,
            "complete",
            &args,
            ctx,
        )
        .await?;
        serde_json::from_value(out.get("value").cloned().unwrap_or_default()).map_err(|e| {
            ExtraError::Failed(format!(
                "plugin `{}` returned completions the host cannot read: {e}",
                plugin.name
            ))
        })
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

/// The record of a finished call, `id`, of the given (tenant, project,
/// run): its `tool_calls` row and usage events.
pub fn call_record(
    outcome: &ToolOutcome,
    id: bioai_store::Uuid,
    ids: (
        Option<bioai_store::Uuid>,
        Option<bioai_store::Uuid>,
        Option<bioai_store::Uuid>,
    ),
    started_at: bioai_store::DateTime<bioai_store::Utc>,
) -> bioai_store::CallRecord {
    let names = (outcome.plugin.as_str().into(), outcome.tool.as_str().into());
    named_call_record(outcome, names, id, ids, started_at)
}

/// [`call_record`] with the (plugin, tool) names already made.
fn named_call_record(
    outcome: &ToolOutcome,
    (plugin, tool): (Arc<str>, Arc<str>),
    id: bioai_store::Uuid,
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
        // Stopped before the end, by the caller or for the client's input.
        Err(f) if matches!(f.class(), "cancelled" | "input_required") => {
            (CallStatus::Cancelled, Some(f.class().to_string()))
        }
        Err(f) => (CallStatus::Failed, Some(f.class().to_string())),
    };
    let m = &outcome.meters;
    bioai_store::CallRecord {
        id,
        run_id,
        user_id,
        project_id,
        plugin,
        tool,
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

/// `<namespace>.<name>`, or just `name` with an empty namespace.
fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
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
    let Some((function, index)) = &tool.export_ref else {
        let message = format!(
            "`{}` is not an export of plugin `{}`",
            tool.name, plugin.name
        );
        return ToolOutcome::failed(&tool.name, &plugin.name, Failure::Trap { message });
    };
    if let Err(f) = check_input(tool, args) {
        return ToolOutcome::failed(&tool.name, &plugin.name, f);
    }
    call_function(runtime, plugin, &tool.name, function, index, args, ctx).await
}

/// Calls a function of one of a plugin's optional interfaces
/// (`prompts`, `resources`, `completions`) under the plugin's policy.
async fn call_extra(
    runtime: &Runtime,
    plugin: &Plugin,
    interface: &str,
    function: &str,
    args: &Value,
    ctx: CallContext,
) -> Result<Value, ExtraError> {
    let key = format!("{interface}#{function}");
    let Some((func, index)) = plugin.extra_exports.get(&key) else {
        return Err(ExtraError::Failed(format!(
            "plugin `{}` does not export `{key}`",
            plugin.name
        )));
    };
    let label = format!("{}:{function}", plugin.name);
    let outcome = call_function(runtime, plugin, &label, func, index, args, ctx).await;
    match outcome.result {
        Ok(value) => Ok(value),
        Err(CallFailure::ToolError { message, .. }) => Err(ExtraError::Refused(message)),
        Err(CallFailure::Failure(f)) => Err(ExtraError::Failed(format!(
            "plugin `{}` failed in `{function}`: {f}",
            plugin.name
        ))),
    }
}

/// Calls an exported function of a plugin: JSON to values, the runtime
/// call, values to JSON. `label` names the call in logs and the outcome.
async fn call_function(
    runtime: &Runtime,
    plugin: &Plugin,
    label: &str,
    function: &Function,
    index: &ComponentExportIndex,
    args: &Value,
    ctx: CallContext,
) -> ToolOutcome {
    let mut outcome = ToolOutcome::failed(label, &plugin.name, Failure::Cancelled);
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
        client: ctx.client,
        role: ctx.role,
        label,
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
    /// The plugin, its tools, and its role step if it is an agent role.
    fn into_parts(self) -> (Arc<Plugin>, Vec<Tool>, Option<Tool>) {
        let plugin = Arc::new(self.plugin);
        let (roles, tools): (Vec<Tool>, Vec<Tool>) = self
            .tools
            .into_iter()
            .partition(|t| t.export.starts_with(ROLE_INTERFACE));
        (plugin, tools, roles.into_iter().next())
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
    // The decoder's error for these prints both headers as byte arrays.
    let not_a_component = |what| LoadError::NotAComponent {
        path: path.to_path_buf(),
        what,
    };
    match bytes.get(..8) {
        // Version 1, layer 0: a core module (a component is 0x0d, layer 1).
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => {
            return Err(not_a_component(
                "a core WebAssembly module, not a component (wrap it with `wasm-tools component new`)",
            ));
        }
        Some([0, b'a', b's', b'm', ..]) => {}
        _ => return Err(not_a_component("not a WebAssembly file")),
    }
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
    let mut extra_exports = BTreeMap::new();
    for (key, item) in &resolve.worlds[world].exports {
        let export_name = resolve.name_world_key(key);
        let funcs: Vec<(Option<&str>, &Function)> = match item {
            WorldItem::Function(f) => vec![(None, f)],
            WorldItem::Interface { id, .. } => {
                if export_name == METADATA_INTERFACE || export_name.starts_with("wasi:") {
                    continue;
                }
                if is_extra_interface(&export_name) {
                    for func in resolve.interfaces[*id].functions.values() {
                        match program.export_index(Some(&export_name), &func.name) {
                            Some(index) => {
                                extra_exports.insert(
                                    format!("{export_name}#{}", func.name),
                                    (func.clone(), index),
                                );
                            }
                            None => skipped.push(format!(
                                "{export_name}#{}: not found in the component's exports",
                                func.name
                            )),
                        }
                    }
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
                requires: Vec::new(),
                export_ref: Some((func.clone(), index)),
                input_check: None,
            });
        }
    }
    for s in &skipped {
        tracing::warn!(plugin = %name, "export is not a tool: {s}");
    }

    let env = policy.resolve_env(|k| std::env::var(k).ok());
    let wit = print_wit(&resolve, world);
    let mut plugin = Plugin {
        name,
        path: path.to_path_buf(),
        namespace,
        info,
        policy: Arc::new(policy),
        has_policy_file,
        wit,
        skipped,
        extras: PluginExtras::default(),
        extra_exports,
        env,
        program,
        resolve: Arc::new(resolve),
    };
    plugin.extras = list_extras(runtime, &plugin).await;
    apply_tool_details(&plugin, &mut tools)?;
    mark_header_params(&plugin, &mut tools);
    Ok(Prepared { plugin, tools })
}

/// The client capabilities a plugin's tool may require.
const CAPABILITIES: [&str; 3] = ["sampling", "elicitation", "roots"];

/// Applies the plugin's `tool-details`: its own input schemas (checked to
/// be JSON Schema 2020-12 object schemas over the function's parameters, and
/// compiled for checking calls) and required client capabilities. A detail
/// that is wrong refuses the plugin, saying which tool and why: serving a
/// schema that differs from what the host enforces would mislead clients.
fn apply_tool_details(plugin: &Plugin, tools: &mut [Tool]) -> Result<(), LoadError> {
    let bad = |tool: &str, message: String| LoadError::ToolDetails {
        path: plugin.path.clone(),
        tool: tool.to_string(),
        message,
    };
    let mut renamed = Vec::new();
    for detail in &plugin.extras.tool_details {
        let tool = tools
            .iter_mut()
            .find(|t| {
                t.export_ref
                    .as_ref()
                    .is_some_and(|(f, _)| f.name == detail.tool)
            })
            .ok_or_else(|| bad(&detail.tool, "the plugin exports no such tool".into()))?;
        for c in &detail.requires {
            if !CAPABILITIES.contains(&c.as_str()) {
                return Err(bad(
                    &detail.tool,
                    format!("unknown client capability `{c}`"),
                ));
            }
        }
        tool.requires = detail.requires.clone();
        if !detail.arguments.is_empty() {
            if detail.input_schema.is_some() {
                return Err(bad(
                    &detail.tool,
                    "describe the arguments in the input schema itself, not as `arguments` \
                     next to it"
                        .into(),
                ));
            }
            describe_arguments(&mut tool.input_schema, &detail.arguments)
                .map_err(|m| bad(&detail.tool, m))?;
        }
        if let Some(name) = &detail.name {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if !valid {
                return Err(bad(
                    &detail.tool,
                    format!(
                        "`{name}` is not a tool name: use 1 to 64 ASCII letters, digits, `_`, `-` and `.`"
                    ),
                ));
            }
            let full = qualified(&plugin.namespace, name);
            renamed.push((tool.name.clone(), full.clone()));
            tool.name = full;
        }
        let Some(text) = &detail.input_schema else {
            continue;
        };
        let schema: Value = serde_json::from_str(text)
            .map_err(|e| bad(&detail.tool, format!("the input schema is not JSON: {e}")))?;
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(bad(
                &detail.tool,
                "the input schema must be an object schema (`\"type\": \"object\"`)".into(),
            ));
        }
        let params = tool
            .input_schema
            .get("properties")
            .and_then(Value::as_object);
        for name in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.keys())
        {
            if !params.is_some_and(|p| p.contains_key(name)) {
                return Err(bad(
                    &detail.tool,
                    format!(
                        "the input schema has a property `{name}` the function has no parameter for"
                    ),
                ));
            }
        }
        jsonschema::draft202012::meta::validate(&schema).map_err(|e| {
            bad(
                &detail.tool,
                format!("the input schema is not valid JSON Schema 2020-12: {e}"),
            )
        })?;
        let check = jsonschema::draft202012::new(&schema).map_err(|e| {
            bad(
                &detail.tool,
                format!("the input schema cannot be used (only local `$ref`s resolve): {e}"),
            )
        })?;
        tool.input_schema = schema;
        tool.input_check = Some(Arc::new(check));
    }
    for (from, to) in renamed {
        if tools.iter().filter(|t| t.name == to).count() > 1 {
            return Err(bad(
                &from,
                format!("the name `{to}` is taken by another of its tools"),
            ));
        }
    }
    Ok(())
}

/// Adds the plugin's argument descriptions and defaults to a derived input
/// schema, as each property's `description` and `default`. A default must
/// be JSON of the parameter's type, and only an optional parameter has one:
/// a schema that promised a value the tool cannot take would mislead the
/// forms and models that fill it in.
fn describe_arguments(schema: &mut Value, arguments: &[ArgumentDetail]) -> Result<(), String> {
    let defs = schema.get("$defs").cloned();
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return Err("the function takes no arguments to describe".into());
    };
    let mut seen = std::collections::HashSet::new();
    for arg in arguments {
        let key = snake_case(&arg.name);
        if !seen.insert(key.clone()) {
            return Err(format!("the argument `{}` is described twice", arg.name));
        }
        let Some(Value::Object(property)) = properties.get_mut(&key) else {
            return Err(format!(
                "the function has no parameter `{}` (give WIT names, e.g. `min-gc`)",
                arg.name
            ));
        };
        if let Some(description) = &arg.description {
            if description.trim().is_empty() {
                return Err(format!(
                    "the description of `{}` is empty; leave it out instead",
                    arg.name
                ));
            }
            property.insert("description".into(), Value::String(description.clone()));
        }
        let Some(text) = &arg.default_json else {
            continue;
        };
        if required.contains(&key) {
            return Err(format!(
                "`{}` is required, so it has no default (only an `option<_>` parameter can)",
                arg.name
            ));
        }
        let default: Value = serde_json::from_str(text)
            .map_err(|e| format!("the default of `{}` is not JSON ({e}): {text}", arg.name))?;
        if default.is_null() {
            return Err(format!(
                "the default of `{}` is null, which says nothing; leave `default-json` out",
                arg.name
            ));
        }
        let mut check = Value::Object(property.clone());
        if let (Some(defs), Some(c)) = (&defs, check.as_object_mut()) {
            c.insert("$defs".into(), defs.clone());
        }
        let fits = jsonschema::draft202012::new(&check).map(|v| v.is_valid(&default));
        if !matches!(fits, Ok(true)) {
            return Err(format!(
                "the default of `{}`, {default}, is not a value of its type (schema {})",
                arg.name,
                Value::Object(property.clone())
            ));
        }
        property.insert("default".into(), default);
    }
    Ok(())
}

/// Why `args` do not satisfy the plugin's own input schema of `tool`.
fn check_input(tool: &Tool, args: &Value) -> Result<(), Failure> {
    let Some(check) = &tool.input_check else {
        return Ok(());
    };
    let problems: Vec<String> = check
        .iter_errors(args)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::BadArguments {
        message: format!(
            "the arguments do not match the tool's input schema: {}",
            problems.join("; ")
        ),
    })
}

/// Marks the parameters the plugin mirrors into headers with `x-mcp-header`
/// in its tools' input schemas. Declarations that name no tool or
/// parameter, a parameter that is not a string, number or boolean, or an
/// unusable header name are logged and ignored.
fn mark_header_params(plugin: &Plugin, tools: &mut [Tool]) {
    for hp in &plugin.extras.header_params {
        let problem = if !hp.valid_header() {
            Some("the header name must be ASCII letters, digits and `-`".to_string())
        } else {
            let tool = tools.iter_mut().find(|t| {
                t.export_ref
                    .as_ref()
                    .is_some_and(|(f, _)| f.name == hp.tool)
            });
            match tool {
                None => Some(format!("the plugin exports no tool `{}`", hp.tool)),
                Some(tool) => {
                    let property = tool
                        .input_schema
                        .get_mut("properties")
                        .and_then(|p| p.get_mut(snake_case(&hp.param)));
                    match property {
                        Some(Value::Object(property))
                            if matches!(
                                property.get("type").and_then(Value::as_str),
                                Some("string" | "integer" | "number" | "boolean")
                            ) =>
                        {
                            property
                                .insert("x-mcp-header".into(), Value::String(hp.header.clone()));
                            None
                        }
                        Some(_) => Some(format!(
                            "parameter `{}` is not a string, number or boolean",
                            hp.param
                        )),
                        None => Some(format!("`{}` has no parameter `{}`", hp.tool, hp.param)),
                    }
                }
            }
        };
        if let Some(problem) = problem {
            tracing::warn!(
                plugin = %plugin.name,
                "header parameter {}.{} -> Mcp-Param-{} ignored: {problem}",
                hp.tool,
                hp.param,
                hp.header
            );
        }
    }
}

/// Asks a plugin for its prompts, resources and URI templates, if it
/// exports the interfaces. A listing that fails is logged and left empty:
/// the plugin's tools still load.
async fn list_extras(runtime: &Runtime, plugin: &Plugin) -> PluginExtras {
    async fn list<T: serde::de::DeserializeOwned>(
        runtime: &Runtime,
        plugin: &Plugin,
        interface: &str,
        function: &str,
    ) -> Vec<T> {
        if !plugin
            .extra_exports
            .contains_key(&format!("{interface}#{function}"))
        {
            return Vec::new();
        }
        let listed = call_extra(
            runtime,
            plugin,
            interface,
            function,
            &Value::Null,
            CallContext::default(),
        )
        .await
        .and_then(|v| {
            serde_json::from_value(v.get("value").cloned().unwrap_or_default())
                .map_err(|e| ExtraError::Failed(format!("unexpected listing: {e}")))
        });
        listed.unwrap_or_else(|e| {
            tracing::error!(
                plugin = %plugin.name,
                "`{interface}#{function}` failed, so the plugin offers none of these: {e}"
            );
            Vec::new()
        })
    }
    PluginExtras {
        prompts: list(runtime, plugin, PROMPTS_INTERFACE, "list-prompts").await,
        resources: list(runtime, plugin, RESOURCES_INTERFACE, "list-resources").await,
        templates: list(runtime, plugin, RESOURCES_INTERFACE, "list-templates").await,
        header_params: list(runtime, plugin, HEADERS_INTERFACE, "header-params").await,
        tool_details: list(runtime, plugin, TOOL_DETAILS_INTERFACE, "tool-details").await,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The schema the host derives for `f(sequence: string, min-gc:
    /// option<f64>, pam: option<string>)`.
    fn derived() -> Value {
        json!({
            "type": "object",
            "properties": {
                "sequence": {"type": "string"},
                "min_gc": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                "pam": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "required": ["sequence"],
            "additionalProperties": false,
        })
    }

    fn arg(name: &str, description: Option<&str>, default: Option<&str>) -> ArgumentDetail {
        ArgumentDetail {
            name: name.into(),
            description: description.map(str::to_string),
            default_json: default.map(str::to_string),
        }
    }

    #[test]
    fn descriptions_and_defaults_go_into_the_properties() {
        let mut schema = derived();
        describe_arguments(
            &mut schema,
            &[
                arg("sequence", Some("DNA, 5'->3'"), None),
                arg("min-gc", Some("lowest GC fraction"), Some("0.4")),
                arg("pam", None, Some("\"NGG\"")),
            ],
        )
        .unwrap();
        let p = &schema["properties"];
        assert_eq!(p["sequence"]["description"], "DNA, 5'->3'");
        assert!(p["sequence"].get("default").is_none());
        assert_eq!(p["min_gc"]["default"], json!(0.4));
        assert_eq!(p["min_gc"]["description"], "lowest GC fraction");
        assert_eq!(p["pam"]["default"], "NGG");
        assert!(p["pam"].get("description").is_none());
        // The rest of the schema is untouched.
        assert_eq!(schema["required"], json!(["sequence"]));
        assert_eq!(
            p["min_gc"]["anyOf"],
            derived()["properties"]["min_gc"]["anyOf"]
        );
    }

    #[test]
    fn wrong_details_are_refused_saying_why() {
        let cases = [
            (arg("gc", None, Some("1")), "has no parameter `gc`"),
            (
                arg("sequence", None, Some("\"ACGT\"")),
                "`sequence` is required",
            ),
            (
                arg("min-gc", None, Some("\"0.4\"")),
                "is not a value of its type",
            ),
            (arg("min-gc", None, Some("0.4.1")), "is not JSON"),
            (arg("pam", None, Some("null")), "is null"),
            (arg("pam", Some("  "), None), "is empty"),
        ];
        for (detail, expected) in cases {
            let mut schema = derived();
            let e = describe_arguments(&mut schema, std::slice::from_ref(&detail)).unwrap_err();
            assert!(e.contains(expected), "{detail:?}: {e}");
            assert_eq!(
                schema,
                derived(),
                "a refused detail changes nothing it checked"
            );
        }
        let twice = [arg("pam", None, None), arg("pam", None, None)];
        let e = describe_arguments(&mut derived(), &twice).unwrap_err();
        assert!(e.contains("described twice"), "{e}");
    }
}
