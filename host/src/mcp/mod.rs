//! MCP: the only module that knows `rmcp`.
//!
//! [`McpServer`] adapts the live [`Catalog`] of plugin tools to rmcp's
//! `ServerHandler`: tools are listed and called dynamically; plugin WIT and
//! policies are resources, besides the resources, URI templates, prompts and
//! completions plugins offer through their optional exports
//! ([`crate::extras`]); list changes (and updates of subscribed resources on
//! reload) reach clients through `subscriptions/listen` (2026-07-28) or the
//! session's notification stream (2025-11-25). rmcp speaks both protocol eras; [`http`] mounts it at `/mcp`
//! and [`stdio`] serves stdin/stdout. An rmcp upgrade touches this module only.

// MCP logging is deprecated by SEP-2577 but still what 2025-11-25 clients use.
#![allow(deprecated)]

mod client;
mod convert;
pub mod http;
mod resources;
mod rounds;
pub mod stdio;

pub use rounds::{StateKey, StateKeyError};

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, CompleteRequestParams,
    CompleteResult, CompletionInfo, CreateTaskResult, ErrorCode, GetPromptRequestParams,
    GetPromptResponse, GetTaskParams, GetTaskResult, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    LoggingMessageNotificationParam, PaginatedRequestParams, ProgressNotificationParam,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    Reference, ResourceUpdatedNotificationParam, ServerCapabilities, ServerConfig,
    SetLevelRequestParams, SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams,
    UpdateTaskParams,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::task_manager::{TaskExit, TaskManager, TaskOptions};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;

use crate::catalog::Catalog;
use crate::extras::{CompletionRef, ExtraError};
use crate::registry::{CallContext, Registry, ToolOutcome};
use crate::runtime::{ClientHandle, LogSink, ProgressSink};

/// The `_meta` key under which every tool result carries its meters.
pub const METERS_META_KEY: &str = "io.bioaisaas/meters";

/// Calls whose policy deadline is longer than this run as tasks when the
/// client supports the tasks extension: they may outlive an HTTP request.
const TASK_THRESHOLD_MS: u64 = 30_000;

/// How long a finished task's result stays available, beyond its deadline.
const TASK_RETENTION_MS: u64 = 10 * 60 * 1000;

/// The MCP server: one per connection or request (cheap to clone).
#[derive(Clone)]
pub struct McpServer {
    catalog: Arc<Catalog>,
    tasks: Arc<TaskManager>,
    /// The level a 2025-11-25 session asked for with `logging/setLevel`.
    log_level: Arc<parking_lot::Mutex<Option<LoggingLevel>>>,
    /// The resource URIs a 2025-11-25 session subscribed to
    /// (`resources/subscribe`).
    subscriptions: Arc<parking_lot::Mutex<BTreeSet<String>>>,
    /// MCP tool definitions of the registry snapshot they were made from
    /// (shared by every session).
    tool_cache: Arc<parking_lot::Mutex<Option<ToolCache>>>,
    /// Seals the state of 2026-07-28 input-required rounds.
    rounds: Arc<rounds::Rounds>,
}

/// A registry snapshot and its tools as MCP definitions, by name.
type ToolCache = (Arc<Registry>, Arc<BTreeMap<String, rmcp::model::Tool>>);

impl McpServer {
    /// A server over `catalog`, with a fresh task table and a random
    /// [`StateKey`] (see [`McpServer::with_state_key`]).
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self {
            catalog,
            tasks: Arc::new(TaskManager::new()),
            log_level: Arc::default(),
            subscriptions: Arc::default(),
            tool_cache: Arc::default(),
            rounds: Arc::new(rounds::Rounds::new(&StateKey::random())),
        }
    }

    /// Seals input-required rounds under `key`: servers with the same key
    /// accept each other's `requestState`.
    pub fn with_state_key(mut self, key: &StateKey) -> Self {
        self.rounds = Arc::new(rounds::Rounds::new(key));
        self
    }

    /// The tools as MCP definitions, converted once per registry snapshot
    /// rather than on every request.
    fn mcp_tools(&self) -> Arc<BTreeMap<String, rmcp::model::Tool>> {
        let registry = self.catalog.registry();
        let mut cache = self.tool_cache.lock();
        if let Some((of, tools)) = &*cache
            && Arc::ptr_eq(of, &registry)
        {
            return tools.clone();
        }
        let tools: Arc<BTreeMap<_, _>> = Arc::new(
            registry
                .tools()
                .map(|t| (t.name.clone(), convert::tool(t)))
                .collect(),
        );
        *cache = Some((registry, tools.clone()));
        tools
    }

    /// The server for a new session or stateless request: the same tools
    /// and tasks, its own log level and resource subscriptions.
    pub fn session(&self) -> Self {
        Self {
            log_level: Arc::default(),
            subscriptions: Arc::default(),
            ..self.clone()
        }
    }
}

impl McpServer {
    /// For a stateless (2026-07-28) request: the client of this round of
    /// it, with the answers so far (`binding` names the request, see
    /// [`rounds::binding`]); `None` for a request of a session, whose client
    /// is asked directly.
    fn round(
        &self,
        context: &RequestContext<RoleServer>,
        binding: impl FnOnce() -> Vec<u8>,
        state: Option<&str>,
        responses: Option<rmcp::model::InputResponses>,
        stop: &tokio_util::sync::CancellationToken,
    ) -> Result<Option<Arc<rounds::RoundClient>>, ErrorData> {
        if context
            .protocol_version()
            .is_some_and(|v| v.has_initialize())
        {
            return Ok(None);
        }
        self.rounds
            .client(
                binding,
                state,
                responses,
                context.client_capabilities().unwrap_or_default(),
                stop.clone(),
            )
            .map(Some)
    }

    /// The call context of a resources/read or prompts/get: a cancel token
    /// of its own and the client the plugin's requests go to, with the
    /// request's input-required round when it is stateless.
    fn extra_context(
        &self,
        context: &RequestContext<RoleServer>,
        binding: impl FnOnce() -> Vec<u8>,
        state: Option<&str>,
        responses: Option<rmcp::model::InputResponses>,
    ) -> Result<(CallContext, Option<Arc<rounds::RoundClient>>), ErrorData> {
        let cancel = context.ct.child_token();
        let round = self.round(context, binding, state, responses, &cancel)?;
        let ctx = CallContext {
            cancel,
            client: Some(self.client_for(context, round.as_ref())),
            ..CallContext::default()
        };
        Ok((ctx, round))
    }

    /// The client a plugin's requests go to: the round's, for a stateless
    /// request; otherwise the session's.
    fn client_for(
        &self,
        context: &RequestContext<RoleServer>,
        round: Option<&Arc<rounds::RoundClient>>,
    ) -> ClientHandle {
        match round {
            Some(c) => c.clone(),
            None => client::bridge(
                &context.peer,
                context.protocol_version(),
                context.client_capabilities(),
            ),
        }
    }
}

/// A failed prompt, resource or completion request as a JSON-RPC error.
fn extra_error(e: ExtraError, uri: Option<&str>) -> ErrorData {
    let data = uri.map(|uri| serde_json::json!({ "uri": uri }));
    match e {
        ExtraError::NotFound(m) if uri.is_some() => ErrorData::resource_not_found(m, data),
        ExtraError::NotFound(m) | ExtraError::Refused(m) => ErrorData::invalid_params(m, data),
        ExtraError::Failed(m) => ErrorData::internal_error(m, data),
    }
}

/// `(name, value)` pairs of a JSON object of arguments; values that are not
/// strings are passed as their JSON text.
fn string_pairs<'a>(
    args: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> Vec<(String, String)> {
    args.into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Runs one tool call, forwarding progress to `progress` when the client
/// asked for it and the plugin's client requests to `client`; cancellation
/// of `ct` interrupts the component.
async fn run_call(
    registry: Arc<Registry>,
    name: String,
    args: Arc<Value>,
    ct: tokio_util::sync::CancellationToken,
    progress: Option<ProgressSink>,
    log: Option<LogSink>,
    client: Option<ClientHandle>,
) -> Option<ToolOutcome> {
    let ctx = CallContext {
        cancel: ct,
        progress,
        log,
        client,
        ..CallContext::default()
    };
    registry.call(&name, &args, ctx).await.ok()
}

/// What a call tells the client while it runs.
enum Notice {
    Progress(f64, String),
    Log(LoggingLevel, Value),
}

/// Sinks that turn a plugin's progress reports and log records into
/// `notifications/progress` and `notifications/message`. The runtime calls
/// them synchronously from the component's thread, so they only queue; one
/// task sends in order. [`Notices::flush`] after the call (the sinks are
/// dropped with the call's store) so every notice precedes the result.
struct Notices {
    progress: Option<ProgressSink>,
    log: Option<LogSink>,
    sender: Option<tokio::task::JoinHandle<()>>,
}

impl Notices {
    fn new(
        peer: &rmcp::Peer<RoleServer>,
        progress_token: Option<rmcp::model::ProgressToken>,
        log_threshold: Option<LoggingLevel>,
        logger: &str,
    ) -> Self {
        if progress_token.is_none() && log_threshold.is_none() {
            return Self {
                progress: None,
                log: None,
                sender: None,
            };
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Notice>();
        let peer = peer.clone();
        let logger = logger.to_string();
        let token = progress_token.clone();
        let sender = tokio::spawn(async move {
            while let Some(notice) = rx.recv().await {
                let sent = match notice {
                    Notice::Progress(fraction, message) => {
                        let Some(token) = token.clone() else { continue };
                        let mut param =
                            ProgressNotificationParam::new(token, fraction).with_total(1.0);
                        if !message.is_empty() {
                            param = param.with_message(message);
                        }
                        peer.notify_progress(param).await
                    }
                    Notice::Log(level, data) => {
                        peer.notify_logging_message(
                            LoggingMessageNotificationParam::new(level, data)
                                .with_logger(logger.clone()),
                        )
                        .await
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        });
        let progress = progress_token.map(|_| {
            let tx = tx.clone();
            Arc::new(move |fraction, message| {
                let _ = tx.send(Notice::Progress(fraction, message));
            }) as ProgressSink
        });
        let log = log_threshold.map(|threshold| {
            Arc::new(
                move |level: tracing::Level, message: &str, fields: &[(String, String)]| {
                    let level = mcp_level(level);
                    if rank(level) < rank(threshold) {
                        return;
                    }
                    let data = if fields.is_empty() {
                        Value::String(message.to_string())
                    } else {
                        let fields: serde_json::Map<String, Value> = fields
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect();
                        serde_json::json!({ "message": message, "fields": fields })
                    };
                    let _ = tx.send(Notice::Log(level, data));
                },
            ) as LogSink
        });
        Self {
            progress,
            log,
            sender: Some(sender),
        }
    }

    /// Waits (briefly) until every queued notice has been sent.
    async fn flush(sender: Option<tokio::task::JoinHandle<()>>) {
        if let Some(sender) = sender {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), sender).await;
        }
    }
}

fn mcp_level(level: tracing::Level) -> LoggingLevel {
    match level {
        tracing::Level::TRACE | tracing::Level::DEBUG => LoggingLevel::Debug,
        tracing::Level::INFO => LoggingLevel::Info,
        tracing::Level::WARN => LoggingLevel::Warning,
        tracing::Level::ERROR => LoggingLevel::Error,
    }
}

/// Severity order of MCP log levels (RFC 5424, lowest first).
fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl ServerHandler for McpServer {
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_resources()
                .enable_resources_list_changed()
                .enable_resources_subscribe()
                .enable_prompts()
                .enable_prompts_list_changed()
                .enable_completions()
                .enable_tasks()
                .enable_logging()
                .build(),
        )
        .with_server_info(
            Implementation::new("bioai", env!("CARGO_PKG_VERSION"))
                .with_title("BioAiSaaS")
                .with_description("Biomedical tools as sandboxed WebAssembly components"),
        )
        .with_instructions(
            "Biomedical tools (sequence analysis, CRISPR design, primers, alignment, \
             restriction digests, codon optimization, ...) running as sandboxed WebAssembly \
             components. Every result carries its resource meters (fuel, peak memory, wall \
             time) in _meta[\"io.bioaisaas/meters\"]. Positions are 0-based, half-open.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.mcp_tools().values().cloned().collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        // rmcp asks on every tools/call (header validation): served from the cache.
        self.mcp_tools().get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let registry = self.catalog.registry();
        let name = request.name.to_string();
        let Some(tool) = registry.tool(&name) else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{name}`; list the tools with tools/list"),
                None,
            ));
        };
        // A tool that cannot work without a capability the client did not
        // declare is refused before it runs.
        let declared = context.client_capabilities().unwrap_or_default();
        let missing: Vec<&str> = tool
            .requires
            .iter()
            .map(String::as_str)
            .filter(|c| !client::declares(&declared, c))
            .collect();
        if !missing.is_empty() {
            let required = missing
                .iter()
                .map(|c| (c.to_string(), Value::Object(Default::default())))
                .collect();
            let required = serde_json::from_value(Value::Object(required)).unwrap_or_default();
            let mut e = ErrorData::missing_required_client_capability(required);
            e.message = format!(
                "`{name}` needs client capabilities the client did not declare ({}); \
                 declare them to use it",
                missing.join(", ")
            )
            .into();
            return Err(e);
        }
        let returns_content = tool.returns_content;
        let (state, responses) = (request.request_state, request.input_responses);
        // Shared with the call, and kept for the state's binding.
        let args = Arc::new(Value::Object(request.arguments.unwrap_or_default()));
        // 2026-07-28 requests opt in to log messages per request; 2025-11-25
        // sessions with logging/setLevel.
        let log_threshold = context.meta.log_level().or(*self.log_level.lock());
        let Notices {
            progress,
            log,
            sender: notices_sent,
        } = Notices::new(
            &context.peer,
            context.meta.get_progress_token(),
            log_threshold,
            &tool.plugin,
        );
        let deadline = registry
            .policy_of(&name)
            .map(|p| p.limits.timeout)
            .unwrap_or_default();
        let long = deadline.as_millis() > u128::from(TASK_THRESHOLD_MS);
        let client_tasks = context
            .client_capabilities()
            .is_some_and(|caps| caps.supports_tasks());
        if long && client_tasks {
            // Keep the task (and its result) for the call's whole deadline
            // plus ten minutes for the client to fetch the result.
            let ttl_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX);
            let options = TaskOptions::new().with_ttl_ms(ttl_ms.saturating_add(TASK_RETENTION_MS));
            // A task cannot stop for input-required rounds: only a session's
            // client can be asked.
            let client = Some(client::bridge(
                &context.peer,
                context.protocol_version(),
                context.client_capabilities(),
            ));
            let task = self.tasks.spawn(options, move |task| {
                Box::pin(async move {
                    let ct = tokio_util::sync::CancellationToken::new();
                    let call = run_call(registry, name, args, ct.clone(), progress, log, client);
                    tokio::pin!(call);
                    let outcome = tokio::select! {
                        outcome = &mut call => outcome,
                        () = task.cancelled() => {
                            // Interrupt the component; its meters are still recorded.
                            ct.cancel();
                            let _ = call.await;
                            return Err(TaskExit::Cancelled);
                        }
                    };
                    Notices::flush(notices_sent).await;
                    outcome
                        .map(|o| convert::result(&o, returns_content))
                        .ok_or(TaskExit::Error(ErrorData::internal_error(
                            "the tool disappeared while the task started",
                            None,
                        )))
                })
            });
            return Ok(CallToolResponse::Task(CreateTaskResult::new(task)));
        }

        // The call runs in its own task: if rmcp drops this handler (the
        // client closed the connection), the guard cancels the call, which
        // then stops promptly and is still recorded with its meters.
        let ct = context.ct.child_token();
        // A stateless request asks its client in input-required rounds.
        let binding = || rounds::binding("tools/call", &name, &args);
        let round = self.round(&context, binding, state.as_deref(), responses, &ct)?;
        let client = Some(self.client_for(&context, round.as_ref()));
        let guard = ct.clone().drop_guard();
        let call = tokio::spawn(run_call(
            registry,
            name.clone(),
            args.clone(),
            ct,
            progress,
            log,
            client,
        ));
        let outcome = call.await.ok().flatten();
        guard.disarm();
        Notices::flush(notices_sent).await;
        if let Some(c) = &round
            && let Some(input) = self.rounds.outcome(c, binding)
        {
            return input.map(CallToolResponse::InputRequired);
        }
        let outcome = outcome
            .ok_or_else(|| ErrorData::invalid_params(format!("unknown tool `{name}`"), None))?;
        Ok(CallToolResponse::Complete(convert::result(
            &outcome,
            returns_content,
        )))
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        *self.log_level.lock() = Some(request.level);
        Ok(())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list(
            &self.catalog.registry(),
        )))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(&self.catalog.registry()),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let registry = self.catalog.registry();
        let uri = request.uri;
        let host = match resources::read(&registry, &uri) {
            Err(e) if e.code == ErrorCode::RESOURCE_NOT_FOUND => e,
            read => return read.map(ReadResourceResponse::Complete),
        };
        let binding = || rounds::binding("resources/read", &uri, &Value::Null);
        let (ctx, round) = self.extra_context(
            &context,
            binding,
            request.request_state.as_deref(),
            request.input_responses,
        )?;
        let read = registry.read_resource(&uri, ctx).await;
        if let Some(c) = &round
            && let Some(input) = self.rounds.outcome(c, binding)
        {
            return input.map(ReadResourceResponse::InputRequired);
        }
        let Some(read) = read else {
            return Err(host);
        };
        let contents = read.map_err(|e| extra_error(e, Some(&uri)))?;
        let contents = convert::resource_contents(&contents).map_err(|e| {
            ErrorData::internal_error(
                format!("the plugin serving `{uri}` returned malformed contents: {e}"),
                Some(serde_json::json!({ "uri": uri })),
            )
        })?;
        Ok(ReadResourceResponse::Complete(ReadResourceResult::new(
            contents,
        )))
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if !resources::exists(&self.catalog.registry(), &request.uri) {
            return Err(ErrorData::resource_not_found(
                format!(
                    "no resource `{}` to subscribe to; see resources/list and resources/templates/list",
                    request.uri
                ),
                Some(serde_json::json!({ "uri": request.uri })),
            ));
        }
        self.subscriptions.lock().insert(request.uri);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions.lock().remove(&request.uri);
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let registry = self.catalog.registry();
        Ok(ListPromptsResult::with_all_items(
            registry
                .prompts()
                .map(|(name, _, p)| convert::prompt(name, p))
                .collect(),
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let registry = self.catalog.registry();
        let arguments = string_pairs(request.arguments.iter().flatten());
        let binding = || {
            let args = Value::Object(request.arguments.clone().unwrap_or_default());
            rounds::binding("prompts/get", &request.name, &args)
        };
        let (ctx, round) = self.extra_context(
            &context,
            binding,
            request.request_state.as_deref(),
            request.input_responses,
        )?;
        let rendered = registry.get_prompt(&request.name, &arguments, ctx).await;
        if let Some(c) = &round
            && let Some(input) = self.rounds.outcome(c, binding)
        {
            return input.map(GetPromptResponse::InputRequired);
        }
        let rendered = rendered.map_err(|e| extra_error(e, None))?;
        convert::rendered_prompt(&rendered)
            .map(GetPromptResponse::Complete)
            .map_err(|e| {
                ErrorData::internal_error(
                    format!(
                        "the plugin offering prompt `{}` returned a malformed prompt: {e}",
                        request.name
                    ),
                    None,
                )
            })
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let registry = self.catalog.registry();
        let reference = match &request.r#ref {
            Reference::Prompt(p) => CompletionRef::Prompt(p.name.clone()),
            Reference::Resource(r) => CompletionRef::Template(r.uri.clone()),
            _ => {
                return Err(ErrorData::invalid_params(
                    "completion is offered for ref/prompt and ref/resource only",
                    None,
                ));
            }
        };
        let context_args = request
            .context
            .as_ref()
            .and_then(|c| c.arguments.as_ref())
            .map(|args| {
                let mut pairs: Vec<(String, String)> =
                    args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                pairs.sort();
                pairs
            })
            .unwrap_or_default();
        let ctx = CallContext {
            cancel: context.ct.child_token(),
            ..CallContext::default()
        };
        let mut values = registry
            .complete(
                &reference,
                &request.argument.name,
                &request.argument.value,
                &context_args,
                ctx,
            )
            .await
            .map_err(|e| extra_error(e, None))?;
        let total = u32::try_from(values.len()).unwrap_or(u32::MAX);
        let has_more = values.len() > CompletionInfo::MAX_VALUES;
        values.truncate(CompletionInfo::MAX_VALUES);
        let completion = CompletionInfo::with_pagination(values, Some(total), has_more)
            .map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(CompleteResult::new(completion))
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.supported_by(&self.get_info().capabilities))
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let mut changes = self.catalog.changes();
        changes.mark_unchanged();
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    let sink = context.sink();
                    // The sink drops what the subscriber did not ask for.
                    let _ = sink.notify_tool_list_changed().await;
                    let _ = sink.notify_prompt_list_changed().await;
                    let _ = sink.notify_resource_list_changed().await;
                    // A reload may have changed any resource.
                    for uri in context.accepted().resource_subscriptions.iter().flatten() {
                        let _ = sink.notify_resource_updated(uri.clone()).await;
                    }
                }
            }
        }
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        // 2025-11-25 sessions: push list changes on the session's stream.
        let mut changes = self.catalog.changes();
        changes.mark_unchanged();
        let peer = context.peer.clone();
        let subscriptions = self.subscriptions.clone();
        tokio::spawn(async move {
            // Also wake now and then to notice a session that has ended.
            let mut check = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                tokio::select! {
                    changed = changes.changed() => {
                        if changed.is_err() || peer.notify_tool_list_changed().await.is_err() {
                            break;
                        }
                        let _ = peer.notify_prompt_list_changed().await;
                        let _ = peer.notify_resource_list_changed().await;
                        // A reload may have changed any resource.
                        let subscribed: Vec<String> =
                            subscriptions.lock().iter().cloned().collect();
                        for uri in subscribed {
                            let _ = peer
                                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                                .await;
                        }
                    }
                    _ = check.tick() => {
                        if peer.is_transport_closed() {
                            break;
                        }
                    }
                }
            }
        });
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        Ok(GetTaskResult::new(self.tasks.get_task(&request.task_id)?))
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.tasks
            .update_task(&request.task_id, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.tasks.cancel_task(&request.task_id)
    }
}
