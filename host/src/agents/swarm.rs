//! The swarm engine: runs a task as a state machine over role components.
//!
//! A run starts in the graph's entry role. Each step calls the role's
//! `step` export (through the registry, so it is metered and recorded like
//! any call) with the run's state; the role hands off with an outcome, which
//! the graph maps to the next role, or finishes, or fails. After every step
//! the new state and the transition are persisted in one transaction, so a
//! host restarted mid-run resumes from the last finished step
//! ([`Swarm::resume_unfinished`]). Every trace event is stored as it
//! happens and broadcast to live followers ([`Swarm::follow`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bioai_store::{NewRun, NewRunEvent, Run, RunEvent, RunStatus, Store, UserId, Utc, Uuid};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::biosafety;
use super::cost::Rates;
use super::graph::Graph;
use super::journal::{self, StepJournal};
use super::knowhow::KnowHow;
use super::llm::Llm;
use super::state::{Persisted, RunState, StepResult};
use super::step::StepHost;
use crate::catalog::Catalog;
use crate::registry::{CallContext, Recording, call_record};

/// The most bytes of task text a run accepts.
pub const MAX_TASK_BYTES: usize = 16 * 1024;
/// The most bytes of JSON inputs a run accepts.
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;

/// Errors starting or reading runs. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The biosafety screen refused the task.
    #[error("{0}")]
    Refused(String),
    /// No such run for this user.
    #[error("no agent run {0} for this user: check the run id (bio_agent.run_task returns it)")]
    NoSuchRun(Uuid),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] bioai_store::StoreError),
}

/// A task to run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// The task as the user wrote it.
    pub task: String,
    /// The user's project, if any.
    pub project_id: Option<Uuid>,
    /// A built-in task template, if the user chose one.
    pub template: Option<String>,
    /// The task's inputs: a JSON object.
    pub inputs: Value,
    /// The most the run may cost, in fen.
    pub budget_fen: Option<i64>,
}

/// What the swarm needs besides the catalog and the store.
pub struct SwarmConfig {
    /// The graph runs follow.
    pub graph: Graph,
    /// The configured LLM, if any.
    pub llm: Option<Llm>,
    /// The know-how library, if its embedding model is available.
    pub knowhow: Option<Arc<KnowHow>>,
    /// Where run workspaces live: `<dir>/<user>/<project or "default">/runs/<run>/`.
    pub workspaces: PathBuf,
    /// Prices of tokens and fuel.
    pub rates: Rates,
}

/// A run being driven by this host.
struct Live {
    cancel: CancellationToken,
    events: broadcast::Sender<RunEvent>,
    finished: watch::Sender<bool>,
}

/// Runs agent tasks. Cheap to share (`Arc`).
pub struct Swarm {
    pub(super) catalog: Arc<Catalog>,
    pub(super) store: Store,
    pub(super) graph: Arc<Graph>,
    pub(super) llm: Option<Llm>,
    pub(super) knowhow: Option<Arc<KnowHow>>,
    pub(super) workspaces: PathBuf,
    pub(super) rates: Rates,
    live: Mutex<HashMap<Uuid, Arc<Live>>>,
}

/// The identity of a run inside the engine.
#[derive(Debug, Clone)]
pub(super) struct RunKey {
    pub(super) tenant: UserId,
    pub(super) id: Uuid,
    pub(super) project: Option<Uuid>,
    pub(super) budget_fen: Option<i64>,
}

impl Swarm {
    /// A swarm over the catalog's roles and tools.
    pub fn new(catalog: Arc<Catalog>, store: Store, config: SwarmConfig) -> Arc<Self> {
        Arc::new(Swarm {
            catalog,
            store,
            graph: Arc::new(config.graph),
            llm: config.llm,
            knowhow: config.knowhow,
            workspaces: config.workspaces,
            rates: config.rates,
            live: Mutex::new(HashMap::new()),
        })
    }

    /// The graph runs follow.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The store runs are persisted in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The token and fuel prices.
    pub fn rates(&self) -> Rates {
        self.rates
    }

    /// Whether an LLM is configured.
    pub fn has_llm(&self) -> bool {
        self.llm.is_some()
    }

    /// Checks and screens a task, persists the new run and starts driving
    /// it in the background; returns its id at once. `client_llm` is the
    /// MCP client's model (sampling), used when no LLM is configured.
    pub async fn start(
        self: &Arc<Self>,
        tenant: UserId,
        request: RunRequest,
        client_llm: Option<Llm>,
    ) -> Result<Uuid, AgentError> {
        let task = request.task.trim();
        if task.is_empty() {
            return Err(AgentError::BadRequest(
                "`task` is empty: describe what the run should do".into(),
            ));
        }
        if task.len() > MAX_TASK_BYTES {
            return Err(AgentError::BadRequest(format!(
                "`task` is {} bytes; at most {MAX_TASK_BYTES} are accepted: put long data into `inputs`",
                task.len()
            )));
        }
        let inputs = match request.inputs {
            Value::Null => json!({}),
            v @ Value::Object(_) => v,
            other => {
                return Err(AgentError::BadRequest(format!(
                    "`inputs` must be a JSON object, not {}",
                    json_kind(&other)
                )));
            }
        };
        let input_bytes = inputs.to_string().len();
        if input_bytes > MAX_INPUT_BYTES {
            return Err(AgentError::BadRequest(format!(
                "`inputs` is {input_bytes} bytes; at most {MAX_INPUT_BYTES} are accepted"
            )));
        }
        if request.budget_fen.is_some_and(|b| b < 0) {
            return Err(AgentError::BadRequest(
                "`budget_fen` must not be negative".into(),
            ));
        }
        if let Some(refusal) = biosafety::screen(task, &inputs) {
            let explanation = refusal.explanation();
            let detail = json!({
                "task": task,
                "aim": refusal.aim,
                "agent": refusal.agent,
            });
            if let Err(e) = self
                .store
                .audit(tenant, "refuse_task", "agent_runs", "-", &detail)
                .await
            {
                tracing::error!("could not log a refused task in the audit log: {e}");
            }
            tracing::warn!(%tenant, aim = refusal.aim, "task refused by the biosafety screen");
            return Err(AgentError::Refused(explanation));
        }

        let id = Uuid::now_v7();
        let state = Persisted {
            run: RunState::initial(&id.to_string(), task, request.template.as_deref(), &inputs),
            edges: Default::default(),
        };
        let new = NewRun {
            id: Some(id),
            project_id: request.project_id,
            task: task.to_string(),
            template: request.template.clone(),
            inputs: inputs.clone(),
            graph: self.graph.name.clone(),
            budget_fen: request.budget_fen,
            state: serde_json::to_value(&state).unwrap_or(Value::Null),
            next_role: self.graph.entry.clone(),
        };
        self.store.create_run(tenant, &new).await?;
        let key = RunKey {
            tenant,
            id,
            project: request.project_id,
            budget_fen: request.budget_fen,
        };
        let live = self.register(id);
        self.emit(
            &key,
            "task",
            None,
            json!({
                "task": task,
                "template": request.template,
                "inputs": super::step::traced(&inputs),
                "budget_fen": request.budget_fen,
                "graph": self.graph.name,
            }),
        )
        .await;
        let swarm = self.clone();
        tokio::spawn(async move { swarm.drive(key, live, client_llm).await });
        Ok(id)
    }

    /// Resumes every run a previous host left unfinished, from its last
    /// persisted step. Returns how many were resumed.
    pub async fn resume_unfinished(self: &Arc<Self>) -> Result<usize, AgentError> {
        let unfinished = self.store.unfinished_runs().await?;
        let mut n = 0;
        for (tenant, id) in unfinished {
            if self.live.lock().contains_key(&id) {
                continue;
            }
            let Some(run) = self.store.run(tenant, id).await? else {
                continue;
            };
            let key = RunKey {
                tenant,
                id,
                project: run.project_id,
                budget_fen: run.budget_fen,
            };
            let live = self.register(id);
            self.emit(
                &key,
                "resumed",
                run.next_role.as_deref(),
                json!({"after_steps": run.steps, "next_role": run.next_role}),
            )
            .await;
            let swarm = self.clone();
            tokio::spawn(async move { swarm.drive(key, live, None).await });
            n += 1;
        }
        if n > 0 {
            tracing::info!(runs = n, "resumed unfinished agent runs");
        }
        Ok(n)
    }

    /// Cancels a run this host is driving. Returns whether it was running.
    pub async fn cancel(&self, tenant: UserId, run: Uuid) -> Result<bool, AgentError> {
        self.run(tenant, run).await?;
        let live = self.live.lock().get(&run).cloned();
        Ok(match live {
            Some(l) => {
                l.cancel.cancel();
                true
            }
            None => false,
        })
    }

    /// The tenant's run.
    pub async fn run(&self, tenant: UserId, run: Uuid) -> Result<Run, AgentError> {
        self.store
            .run(tenant, run)
            .await?
            .ok_or(AgentError::NoSuchRun(run))
    }

    /// Waits until the run is finished (or `cancel` fires) and returns it.
    pub async fn wait(
        &self,
        tenant: UserId,
        run: Uuid,
        cancel: &CancellationToken,
    ) -> Result<Run, AgentError> {
        let finished = self.live.lock().get(&run).map(|l| l.finished.subscribe());
        if let Some(mut finished) = finished {
            tokio::select! {
                _ = finished.wait_for(|f| *f) => {}
                () = cancel.cancelled() => {}
            }
        }
        self.run(tenant, run).await
    }

    /// The run's trace after `after_seq`, then (unless the run is finished
    /// or `stop` fires) every new event as it happens, each given to `each`.
    /// Returns the events seen.
    pub async fn follow(
        &self,
        tenant: UserId,
        run: Uuid,
        after_seq: i64,
        stop: &CancellationToken,
        mut each: impl FnMut(&RunEvent),
    ) -> Result<Vec<RunEvent>, AgentError> {
        self.run(tenant, run).await?;
        // Subscribe before reading the stored events, so none falls between.
        // Only the receiver is kept: when the run ends and the swarm drops its
        // `Live`, the channel closes and a follower cannot wait forever.
        let mut rx = self.live.lock().get(&run).map(|l| l.events.subscribe());
        let mut seen = Vec::new();
        let mut last = after_seq;
        self.drain(tenant, run, &mut last, &mut seen, &mut each)
            .await?;
        // The run may have finished between subscribing and reading: its
        // `finished` event is then among the stored ones, not to come.
        let finished = |seen: &[RunEvent]| seen.last().is_some_and(|e| e.kind == "finished");
        if finished(&seen) {
            return Ok(seen);
        }
        let Some(rx) = rx.as_mut() else {
            return Ok(seen);
        };
        loop {
            let received = tokio::select! {
                r = rx.recv() => r,
                () = stop.cancelled() => return Ok(seen),
            };
            match received {
                Ok(e) if e.seq > last => {
                    last = e.seq;
                    let done = e.kind == "finished";
                    each(&e);
                    seen.push(e);
                    if done {
                        return Ok(seen);
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.drain(tenant, run, &mut last, &mut seen, &mut each)
                        .await?;
                    if finished(&seen) {
                        return Ok(seen);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => {
                    self.drain(tenant, run, &mut last, &mut seen, &mut each)
                        .await?;
                    return Ok(seen);
                }
            }
        }
    }

    /// Reads the stored events after `last` into `seen`, calling `each`.
    async fn drain(
        &self,
        tenant: UserId,
        run: Uuid,
        last: &mut i64,
        seen: &mut Vec<RunEvent>,
        each: &mut impl FnMut(&RunEvent),
    ) -> Result<(), AgentError> {
        loop {
            let batch = self.store.run_events(tenant, run, *last, 1000).await?;
            if batch.is_empty() {
                return Ok(());
            }
            for e in batch {
                *last = e.seq;
                each(&e);
                seen.push(e);
            }
        }
    }

    fn register(&self, id: Uuid) -> Arc<Live> {
        let live = Arc::new(Live {
            cancel: CancellationToken::new(),
            events: broadcast::channel(1024).0,
            finished: watch::channel(false).0,
        });
        self.live.lock().insert(id, live.clone());
        live
    }

    /// Stores one trace event and tells live followers.
    pub(super) async fn emit_event(&self, key: &RunKey, event: NewRunEvent) {
        let live = self.live.lock().get(&key.id).cloned();
        match self
            .store
            .append_run_events(key.tenant, key.id, std::slice::from_ref(&event))
            .await
        {
            Ok(seqs) => {
                if let (Some(live), Some(seq)) = (live, seqs.first()) {
                    let _ = live.events.send(stored(key.id, *seq, event));
                }
            }
            Err(e) => {
                tracing::error!(run = %key.id, kind = %event.kind, "trace event not stored: {e}")
            }
        }
    }

    /// Sends events the store has numbered `seqs` to the run's live followers.
    pub(super) fn publish(&self, key: &RunKey, seqs: &[i64], events: Vec<NewRunEvent>) {
        let Some(live) = self.live.lock().get(&key.id).cloned() else {
            return;
        };
        for (seq, e) in seqs.iter().zip(events) {
            let _ = live.events.send(stored(key.id, *seq, e));
        }
    }

    async fn emit(&self, key: &RunKey, kind: &str, role: Option<&str>, payload: Value) {
        self.emit_event(key, event(kind, role, payload)).await;
    }

    /// The workspace directory of a run (created on first use).
    pub fn workspace_of(&self, tenant: UserId, project: Option<Uuid>, run: Uuid) -> PathBuf {
        let project = project.map_or_else(|| "default".to_string(), |p| p.to_string());
        self.workspaces
            .join(tenant.to_string())
            .join(project)
            .join("runs")
            .join(run.to_string())
    }

    /// Drives a run to its end. Never panics on role behaviour; every way
    /// a run ends is persisted with the reason.
    async fn drive(self: Arc<Self>, key: RunKey, live: Arc<Live>, client_llm: Option<Llm>) {
        let ended = self.drive_steps(&key, &live, client_llm).await;
        let (status, report, error) = match ended {
            Ok(End::Done(report)) => (RunStatus::Succeeded, Some(report), None),
            Ok(End::Failed(message)) => (RunStatus::Failed, None, Some(message)),
            Ok(End::Cancelled) => (
                RunStatus::Cancelled,
                None,
                Some("the run was cancelled".to_string()),
            ),
            Err(e) => (
                RunStatus::Failed,
                None,
                Some(format!("the run could not be persisted: {e}")),
            ),
        };
        let totals = self.totals(&key).await;
        let report = report.map(|mut r| {
            if let Value::Object(m) = &mut r {
                m.insert("meters".into(), totals.clone());
            }
            r
        });
        let finished = event(
            "finished",
            None,
            json!({"status": status.as_str(), "error": error, "meters": totals}),
        );
        match self
            .store
            .end_run(
                key.tenant,
                key.id,
                status,
                report.as_ref(),
                error.as_deref(),
                std::slice::from_ref(&finished),
            )
            .await
        {
            Ok(seqs) => {
                if let Some(seq) = seqs.first() {
                    let _ = live.events.send(stored(key.id, *seq, finished));
                }
            }
            Err(e) => tracing::error!(run = %key.id, "could not end the run: {e}"),
        }
        tracing::info!(run = %key.id, status = status.as_str(), "agent run finished");
        let _ = live.finished.send(true);
        self.live.lock().remove(&key.id);
    }

    async fn drive_steps(
        self: &Arc<Self>,
        key: &RunKey,
        live: &Arc<Live>,
        client_llm: Option<Llm>,
    ) -> Result<End, AgentError> {
        let started = Instant::now();
        let workspace = self.workspace_of(key.tenant, key.project, key.id);
        loop {
            let run = self.run(key.tenant, key.id).await?;
            if run.status != RunStatus::Running {
                return Ok(End::Failed(format!(
                    "the run is already {}",
                    run.status.as_str()
                )));
            }
            let Some(role_name) = run.next_role.clone() else {
                return Ok(End::Failed("the run has no next role".into()));
            };
            let mut persisted: Persisted =
                match run.state.clone().map(serde_json::from_value).transpose() {
                    Ok(Some(p)) => p,
                    Ok(None) => return Ok(End::Failed("the run has no state".into())),
                    Err(e) => {
                        return Ok(End::Failed(format!("the run's state is unreadable: {e}")));
                    }
                };
            if live.cancel.is_cancelled() {
                return Ok(End::Cancelled);
            }
            if run.steps >= i64::from(self.graph.max_steps) {
                let message = format!(
                    "the step budget is exhausted: {} steps taken, the graph allows {} (max_steps)",
                    run.steps, self.graph.max_steps
                );
                self.emit(
                    key,
                    "budget",
                    None,
                    json!({"kind": "steps", "message": message}),
                )
                .await;
                return Ok(End::Failed(message));
            }
            if let Some(budget) = key.budget_fen
                && run.cost_fen >= budget
            {
                let message = format!(
                    "the cost budget is exhausted: the run has cost {} fen of its {budget} fen budget",
                    run.cost_fen
                );
                self.emit(
                    key,
                    "budget",
                    None,
                    json!({"kind": "cost", "message": message}),
                )
                .await;
                return Ok(End::Failed(message));
            }
            let elapsed = started.elapsed();
            if elapsed >= self.graph.run_timeout {
                return Ok(End::Failed(format!(
                    "the run took longer than its {} s limit (run_timeout_ms)",
                    self.graph.run_timeout.as_secs()
                )));
            }
            let Some(node) = self.graph.role(&role_name).cloned() else {
                return Ok(End::Failed(format!(
                    "the graph `{}` has no role `{role_name}`",
                    self.graph.name
                )));
            };
            let registry = self.catalog.registry();
            if !registry.has_role(&node.plugin) {
                return Ok(End::Failed(format!(
                    "role `{}` needs the agent-role component `{}` (plugins/{}.wasm), which is not \
                     loaded: build it with `cargo xtask build` or fix the graph",
                    node.name, node.plugin, node.plugin
                )));
            }
            let Some(policy) = registry.plugin(&node.plugin).map(|p| p.policy.clone()) else {
                return Ok(End::Failed(format!("role `{}` vanished", node.name)));
            };

            // A step the host stopped in the middle of left a journal: its
            // re-run replays it (see `journal`).
            let step_no = i32::try_from(run.steps + 1).unwrap_or(i32::MAX);
            let journal = self.store.step_journal(key.tenant, key.id, step_no).await?;
            let mut payload = json!({"step": step_no, "attempt": persisted.run.attempt});
            if !journal.is_empty() {
                // How many of the step's calls it replays rather than makes.
                payload["replaying"] = json!(journal.len());
            }
            self.emit(key, "step", Some(&node.name), payload).await;
            let step_cancel = live.cancel.child_token();
            let host = Arc::new(StepHost::new(
                self.clone(),
                key.clone(),
                node.name.clone(),
                policy.agent.clone(),
                workspace.clone(),
                step_cancel.clone(),
                self.llm.clone().or_else(|| client_llm.clone()),
                StepJournal::new(step_no, journal),
                run.cost_fen,
            ));
            let ctx = CallContext {
                workspace: Some(workspace.clone()),
                cancel: step_cancel.clone(),
                user_id: Some(key.tenant),
                project_id: key.project,
                run_id: Some(key.id),
                role: Some(host.clone()),
                recording: Recording::Caller,
                ..CallContext::default()
            };
            let args = json!({"state": persisted.run});
            let remaining = self.graph.run_timeout.saturating_sub(elapsed);
            let deadline = self.graph.step_timeout.min(remaining);
            let step_started = Utc::now();
            let call = registry.call_role(&node.plugin, &args, ctx);
            let outcome = match tokio::time::timeout(deadline, call).await {
                Ok(Some(o)) => o,
                Ok(None) => return Ok(End::Failed(format!("role `{}` vanished", node.name))),
                Err(_) => {
                    step_cancel.cancel();
                    let message = format!(
                        "role `{}` did not finish its step within {} s (step_timeout_ms)",
                        node.name,
                        deadline.as_secs()
                    );
                    self.emit(key, "error", Some(&node.name), json!({"message": message}))
                        .await;
                    return Ok(End::Failed(message));
                }
            };
            // Recorded with the role's charge in the step's journal.
            let record = call_record(
                &outcome,
                journal::call_id(key.id, step_no, None),
                (Some(key.tenant), key.project, Some(key.id)),
                step_started,
            );
            host.charge_role(self.rates.fuel(outcome.meters.fuel), record)
                .await?;
            let meters = serde_json::to_value(outcome.meters).unwrap_or(Value::Null);
            let result = match outcome.result {
                Ok(v) => v,
                Err(failure) => {
                    if live.cancel.is_cancelled() {
                        return Ok(End::Cancelled);
                    }
                    let message = format!(
                        "role `{}` failed ({}): {failure}",
                        node.name,
                        failure.class()
                    );
                    self.emit(
                        key,
                        "error",
                        Some(&node.name),
                        json!({"message": message, "class": failure.class(), "meters": meters}),
                    )
                    .await;
                    return Ok(End::Failed(message));
                }
            };
            // The registry wraps results that are not records as `{"value": ...}`.
            let result = match result {
                Value::Object(mut m) if m.len() == 1 && m.contains_key("value") => {
                    m.remove("value").unwrap_or(Value::Null)
                }
                other => other,
            };
            let step: StepResult = match serde_json::from_value(result) {
                Ok(s) => s,
                Err(e) => {
                    return Ok(End::Failed(format!(
                        "role `{}` returned a step the host cannot read: {e}",
                        node.name
                    )));
                }
            };
            match step {
                StepResult::Fail(message) => {
                    self.emit(
                        key,
                        "error",
                        Some(&node.name),
                        json!({"message": message, "meters": meters}),
                    )
                    .await;
                    return Ok(End::Failed(format!("{}: {message}", node.name)));
                }
                StepResult::Final(report) => {
                    if !node.is_final {
                        return Ok(End::Failed(format!(
                            "role `{}` tried to finish the run, but the graph does not mark it final",
                            node.name
                        )));
                    }
                    let report = json!({
                        "markdown": report.markdown,
                        "findings": parse_or_text(&report.findings),
                        "artifacts": report.artifacts,
                        "sources": report.sources,
                    });
                    self.emit(
                        key,
                        "report",
                        Some(&node.name),
                        json!({"meters": meters, "artifacts": report["artifacts"]}),
                    )
                    .await;
                    return Ok(End::Done(report));
                }
                StepResult::Handoff(handoff) => {
                    let template = handoff
                        .state
                        .template
                        .clone()
                        .or(persisted.run.template.clone());
                    let Some(edge) = self
                        .graph
                        .edge(&node.name, &handoff.outcome, template.as_deref())
                        .cloned()
                    else {
                        return Ok(End::Failed(format!(
                            "role `{}` handed off with outcome `{}`, which the graph `{}` does not \
                             route (it knows: {})",
                            node.name,
                            handoff.outcome,
                            self.graph.name,
                            self.graph.outcomes_of(&node.name).join(", ")
                        )));
                    };
                    let mut next = edge.to.clone();
                    let mut attempt = 0;
                    let mut feedback = handoff.reason.clone();
                    let mut exhausted = false;
                    if let Some(max) = edge.max {
                        let count = persisted.edges.entry(edge.key()).or_insert(0);
                        *count += 1;
                        attempt = *count;
                        if *count > max {
                            exhausted = true;
                            match &edge.exhausted {
                                Some(to) => {
                                    next = to.clone();
                                    attempt = 0;
                                    feedback = format!(
                                        "{} gave up after {max} retries of `{}`; last reason: {}",
                                        node.name, edge.to, handoff.reason
                                    );
                                }
                                None => {
                                    return Ok(End::Failed(format!(
                                        "{} still reported `{}` after {max} retries: {}",
                                        node.name, handoff.outcome, handoff.reason
                                    )));
                                }
                            }
                        }
                    }
                    let mut state = handoff.state;
                    // The engine owns these fields; a role cannot rewrite them.
                    state.run_id = persisted.run.run_id.clone();
                    state.task = persisted.run.task.clone();
                    state.template = template;
                    state.attempt = attempt;
                    state.feedback = Some(feedback);
                    state.history.push(format!(
                        "{}: {} ({})",
                        node.name, handoff.outcome, handoff.reason
                    ));
                    persisted.run = state;
                    let transition = event(
                        "handoff",
                        Some(&node.name),
                        json!({
                            "from": node.name,
                            "to": next,
                            "outcome": handoff.outcome,
                            "reason": handoff.reason,
                            "retry": edge.max.map(|_| attempt),
                            "exhausted": exhausted,
                            "meters": meters,
                        }),
                    );
                    let state_json = serde_json::to_value(&persisted).unwrap_or(Value::Null);
                    let seqs = self
                        .store
                        .save_step(
                            key.tenant,
                            key.id,
                            &state_json,
                            Some(&next),
                            std::slice::from_ref(&transition),
                        )
                        .await?;
                    if let Some(seq) = seqs.first() {
                        let _ = live.events.send(stored(key.id, *seq, transition));
                    }
                }
            }
        }
    }

    /// The run's meters: the sum over its tool calls and role steps.
    async fn totals(&self, key: &RunKey) -> Value {
        let mut fuel = 0u64;
        let mut wall_us = 0u64;
        let mut peak = 0u64;
        let mut tool_calls = 0u64;
        let mut steps = 0u64;
        let mut last = 0;
        loop {
            let Ok(batch) = self.store.run_events(key.tenant, key.id, last, 1000).await else {
                break;
            };
            if batch.is_empty() {
                break;
            }
            for e in &batch {
                last = e.seq;
                let m = &e.payload["meters"];
                if m.is_object() {
                    fuel += m["fuel"].as_u64().unwrap_or(0);
                    wall_us += m["wall_us"].as_u64().unwrap_or(0);
                    peak = peak.max(m["peak_memory_bytes"].as_u64().unwrap_or(0));
                    match e.kind.as_str() {
                        "tool_call" => tool_calls += 1,
                        "handoff" | "report" | "error" => steps += 1,
                        _ => {}
                    }
                }
            }
        }
        let run = self.store.run(key.tenant, key.id).await.ok().flatten();
        json!({
            "fuel": fuel,
            "wall_us": wall_us,
            "peak_memory_bytes": peak,
            "tool_calls": tool_calls,
            "role_steps": steps,
            "input_tokens": run.as_ref().map_or(0, |r| r.input_tokens),
            "output_tokens": run.as_ref().map_or(0, |r| r.output_tokens),
            "cost_fen": run.as_ref().map_or(0, |r| r.cost_fen),
        })
    }
}

/// How a run's steps ended.
enum End {
    Done(Value),
    Failed(String),
    Cancelled,
}

pub(super) fn event(kind: &str, role: Option<&str>, payload: Value) -> NewRunEvent {
    NewRunEvent {
        kind: kind.to_string(),
        role: role.map(str::to_string),
        payload,
        at: Utc::now(),
    }
}

fn stored(run: Uuid, seq: i64, e: NewRunEvent) -> RunEvent {
    RunEvent {
        run_id: run,
        seq,
        kind: e.kind,
        role: e.role,
        payload: e.payload,
        at: e.at,
    }
}

fn parse_or_text(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
