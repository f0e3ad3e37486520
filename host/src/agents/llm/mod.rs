//! LLM providers for agent roles.
//!
//! Roles ask the host for completions; the host answers through one [`Llm`]:
//!
//! - [`ProviderKind::OpenAi`]: any OpenAI-compatible Chat Completions
//!   endpoint (OpenAI, DeepSeek, Qwen, Moonshot, vLLM, Ollama, the llama.cpp
//!   server, ...): `POST {base_url}/chat/completions`.
//! - [`ProviderKind::Anthropic`]: the Anthropic Messages API,
//!   `POST {base_url}/v1/messages`.
//! - [`Llm::sampling`]: the connected MCP client's own model, through MCP
//!   sampling (no tools; token usage estimated).
//!
//! Answers stream by default (Server-Sent Events), text reaching the
//! caller's `on_text` as it arrives. Rate limits (429), server errors (5xx)
//! and failed connections are retried with exponential backoff, honouring
//! `Retry-After`; other 4xx fail at once with the provider's message. A
//! stream cut short ends in [`LlmError::Interrupted`] carrying what arrived
//! and the tokens it cost, so the caller can bill it; [`LlmError::usage`]
//! gives the tokens any error consumed.

mod anthropic;
mod openai;
mod retry;
mod sampling;
mod sse;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::runtime::ClientHandle;
use sse::{SseEvent, SseParser};

/// Who speaks in a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// Instructions for the model (sent as the system prompt).
    System,
    /// The user (or the orchestrating role).
    User,
    /// The model.
    Assistant,
    /// The result of a tool call the model asked for (`tool_call_id` names
    /// the call).
    Tool,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub speaker: Speaker,
    /// What is said (for [`Speaker::Tool`], the tool's result).
    pub content: String,
    /// For [`Speaker::Tool`]: the id of the [`ToolCall`] this answers.
    pub tool_call_id: Option<String>,
    /// For [`Speaker::Assistant`]: the tool calls the model made.
    pub tool_calls: Vec<ToolCall>,
}

impl ChatMessage {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::plain(Speaker::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::plain(Speaker::User, content)
    }

    /// An assistant message (text only).
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::plain(Speaker::Assistant, content)
    }

    /// The assistant turn of a completion: its text and tool calls, to send
    /// back in the next request.
    pub fn from_completion(completion: &Completion) -> Self {
        ChatMessage {
            speaker: Speaker::Assistant,
            content: completion.text.clone(),
            tool_call_id: None,
            tool_calls: completion.tool_calls.clone(),
        }
    }

    /// The result of the tool call `tool_call_id`.
    pub fn tool_result(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage {
            speaker: Speaker::Tool,
            content: content.into(),
            tool_call_id: Some(tool_call_id.into()),
            tool_calls: Vec::new(),
        }
    }

    fn plain(speaker: Speaker, content: impl Into<String>) -> Self {
        ChatMessage {
            speaker,
            content: content.into(),
            tool_call_id: None,
            tool_calls: Vec::new(),
        }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Its name (providers allow `[a-zA-Z0-9_-]`, up to 64 characters).
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// Its arguments as a JSON Schema object.
    pub parameters: serde_json::Value,
}

/// A call of a tool, as the model asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id of the call; a [`Speaker::Tool`] message answers it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as JSON text (an object), as the model wrote them.
    pub arguments: String,
}

/// What to complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// The tools the model may call (none: a plain completion).
    pub tools: Vec<ToolSpec>,
    /// The most tokens the model may generate.
    pub max_tokens: u32,
    /// Sampling temperature, or the provider's default.
    pub temperature: Option<f32>,
}

/// The tokens a completion cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens read (the prompt; for Anthropic including cache reads and
    /// writes).
    pub input_tokens: u64,
    /// Tokens generated.
    pub output_tokens: u64,
    /// True when (some of) the counts are estimates (about 4 bytes a token),
    /// not the provider's: MCP sampling, or a stream cut before the
    /// provider's usage arrived.
    pub estimated: bool,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The generated text (may be empty when the model only calls tools).
    pub text: String,
    /// The tools the model asked to call, in order.
    pub tool_calls: Vec<ToolCall>,
    /// Why generation stopped, in the provider's words (`stop`,
    /// `tool_calls`, `length`; `end_turn`, `tool_use`, `max_tokens`;
    /// `endTurn`, ...); empty when it never said.
    pub stop_reason: String,
    /// The model that answered, as the provider names it.
    pub model: String,
    /// What it cost.
    pub usage: TokenUsage,
}

/// Which protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible Chat Completions (OpenAI, DeepSeek, Qwen, Moonshot,
    /// vLLM, Ollama, the llama.cpp server, ...).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
}

impl ProviderKind {
    /// The base URL used when none is configured.
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProviderKind::OpenAi => "the OpenAI-compatible API",
            ProviderKind::Anthropic => "the Anthropic API",
        })
    }
}

/// How to reach an HTTP provider.
#[derive(Clone, PartialEq, Eq)]
pub struct LlmConfig {
    /// The protocol.
    pub kind: ProviderKind,
    /// The API's base URL: for OpenAI-compatible APIs up to and including
    /// the version (`https://api.openai.com/v1`, `http://localhost:11434/v1`),
    /// for Anthropic the host (`https://api.anthropic.com`).
    pub base_url: String,
    /// The API key (`Authorization: Bearer` or `x-api-key`); none for local
    /// servers that need none.
    pub api_key: Option<String>,
    /// The model to ask.
    pub model: String,
    /// Whether to stream answers (text reaches `on_text` as it arrives).
    pub stream: bool,
    /// How often to retry a rate-limited, failing or unreachable provider.
    pub max_retries: u32,
    /// The longest wait for the provider: to connect, for the answer to
    /// start, between two streamed chunks, and for a whole non-streamed
    /// answer.
    pub timeout: Duration,
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("stream", &self.stream)
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The default number of retries.
const DEFAULT_MAX_RETRIES: u32 = 3;
/// The default timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

impl LlmConfig {
    /// A configuration for `model` at the provider's default base URL,
    /// without a key, streaming, with 3 retries and a 120 s timeout.
    pub fn new(kind: ProviderKind, model: impl Into<String>) -> Self {
        LlmConfig {
            kind,
            base_url: kind.default_base_url().to_string(),
            api_key: None,
            model: model.into(),
            stream: true,
            max_retries: DEFAULT_MAX_RETRIES,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The configuration the environment describes (`lookup` reads a
    /// variable, e.g. `|k| std::env::var(k).ok()`), or `None` when
    /// `BIOAI_LLM_PROVIDER` is unset or empty.
    ///
    /// - `BIOAI_LLM_PROVIDER`: `openai` (any OpenAI-compatible Chat
    ///   Completions endpoint) or `anthropic`;
    /// - `BIOAI_LLM_MODEL`: required with a provider;
    /// - `BIOAI_LLM_BASE_URL`: default `https://api.openai.com/v1` or
    ///   `https://api.anthropic.com`;
    /// - `BIOAI_LLM_API_KEY`: optional;
    /// - `BIOAI_LLM_STREAM`: `true` (default) or `false`;
    /// - `BIOAI_LLM_MAX_RETRIES`: default 3;
    /// - `BIOAI_LLM_TIMEOUT_SECS`: default 120.
    pub fn from_env(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<LlmConfig>, LlmError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let Some(provider) = get("BIOAI_LLM_PROVIDER") else {
            return Ok(None);
        };
        let kind = match provider.to_ascii_lowercase().as_str() {
            "openai" => ProviderKind::OpenAi,
            "anthropic" => ProviderKind::Anthropic,
            _ => {
                return Err(LlmError::Config(format!(
                    "BIOAI_LLM_PROVIDER is `{provider}`: set it to `openai` (any OpenAI-compatible \
                     Chat Completions endpoint: OpenAI, DeepSeek, Qwen, Moonshot, vLLM, Ollama, \
                     llama.cpp) or `anthropic`, or unset it to run without an LLM"
                )));
            }
        };
        let model = get("BIOAI_LLM_MODEL").ok_or_else(|| {
            LlmError::Config(
                "BIOAI_LLM_MODEL is not set: name the model to use with BIOAI_LLM_PROVIDER, e.g. \
                 `gpt-4o-mini` or `claude-sonnet-4-5`"
                    .to_string(),
            )
        })?;
        let mut config = LlmConfig::new(kind, model);
        if let Some(url) = get("BIOAI_LLM_BASE_URL") {
            config.base_url = url;
        }
        config.api_key = get("BIOAI_LLM_API_KEY");
        if let Some(v) = get("BIOAI_LLM_STREAM") {
            config.stream = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(LlmError::Config(format!(
                        "BIOAI_LLM_STREAM is `{v}`: set it to `true` or `false`"
                    )));
                }
            };
        }
        if let Some(v) = get("BIOAI_LLM_MAX_RETRIES") {
            config.max_retries = v.parse().map_err(|_| {
                LlmError::Config(format!(
                    "BIOAI_LLM_MAX_RETRIES is `{v}`: set it to a whole number such as 3"
                ))
            })?;
        }
        if let Some(v) = get("BIOAI_LLM_TIMEOUT_SECS") {
            config.timeout = match v.parse::<u64>() {
                Ok(s) if s > 0 => Duration::from_secs(s),
                _ => {
                    return Err(LlmError::Config(format!(
                        "BIOAI_LLM_TIMEOUT_SECS is `{v}`: set it to a positive number of seconds"
                    )));
                }
            };
        }
        config.validate()?;
        Ok(Some(config))
    }

    /// Checks what can be checked without asking the provider.
    fn validate(&self) -> Result<(), LlmError> {
        let url = self.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(LlmError::Config(format!(
                "the base URL `{url}` is not an http:// or https:// URL: set BIOAI_LLM_BASE_URL to \
                 e.g. `{}`",
                self.kind.default_base_url()
            )));
        }
        if reqwest::Url::parse(url).is_err() {
            return Err(LlmError::Config(format!(
                "the base URL `{url}` is not a valid URL: set BIOAI_LLM_BASE_URL to e.g. `{}`",
                self.kind.default_base_url()
            )));
        }
        if self.model.trim().is_empty() {
            return Err(LlmError::Config(
                "no model is configured: set BIOAI_LLM_MODEL".to_string(),
            ));
        }
        if self.timeout.is_zero() {
            return Err(LlmError::Config(
                "the timeout is zero: give the provider some time to answer".to_string(),
            ));
        }
        Ok(())
    }

    /// The endpoint requests go to.
    fn endpoint(&self) -> String {
        let base = self.base_url.trim().trim_end_matches('/');
        match self.kind {
            ProviderKind::OpenAi => format!("{base}/chat/completions"),
            ProviderKind::Anthropic => format!("{base}/v1/messages"),
        }
    }
}

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The configuration is unusable.
    #[error("LLM configuration: {0}")]
    Config(String),
    /// The request cannot be expressed for this provider.
    #[error("the chat request cannot be sent: {0}")]
    InvalidRequest(String),
    /// The provider refused the request (a 4xx other than 429); retrying
    /// the same request will not help.
    #[error(
        "{provider} rejected the request with HTTP {status}: {message} (not retried: check the \
         request, the model name, the API key and the base URL)"
    )]
    Rejected {
        /// Who refused.
        provider: ProviderKind,
        /// The HTTP status.
        status: u16,
        /// The provider's error message.
        message: String,
    },
    /// The provider kept failing (429, 5xx or no connection) through every
    /// retry.
    #[error(
        "{provider} failed {attempts} time(s) in a row, giving up (last: {last}); check the base \
         URL and the provider's status, try again later or allow more retries"
    )]
    Unavailable {
        /// Who failed.
        provider: ProviderKind,
        /// How many requests were made.
        attempts: u32,
        /// What the last one got.
        last: String,
    },
    /// A streamed answer stopped before its end (the connection dropped,
    /// went quiet past the timeout, or the provider reported an error
    /// mid-stream). `partial` holds what arrived and what it cost (the
    /// provider's count if it came, else an estimate); not retried, since
    /// its text already reached the caller.
    #[error(
        "the streamed answer was interrupted ({reason}) after {} bytes of text; the partial \
         answer's tokens were billed, retry the request for a complete one",
        partial.text.len()
    )]
    Interrupted {
        /// What arrived before the interruption (boxed: errors stay small).
        partial: Box<Completion>,
        /// What happened.
        reason: String,
    },
    /// The provider answered something this client cannot read.
    #[error(
        "{provider} answered in a form this client cannot read: {message}; check that the base \
         URL points at an API of that kind"
    )]
    Protocol {
        /// Who answered.
        provider: ProviderKind,
        /// What was wrong.
        message: String,
        /// The tokens the answer reported, if it did.
        usage: Option<TokenUsage>,
    },
    /// The MCP client's model could not be asked, or refused.
    #[error("sampling the MCP client's model failed: {0}")]
    Sampling(String),
}

impl LlmError {
    /// The tokens consumed before the failure, to bill: for an interrupted
    /// stream, what the partial answer cost; for an unreadable answer, what
    /// it reported. `None` when nothing is known to have been consumed.
    pub fn usage(&self) -> Option<TokenUsage> {
        match self {
            LlmError::Interrupted { partial, .. } => Some(partial.usage),
            LlmError::Protocol { usage, .. } => *usage,
            _ => None,
        }
    }
}

/// Receives streamed text as it arrives.
pub type OnText<'a> = Option<&'a (dyn Fn(&str) + Send + Sync)>;

/// A way to get completions; cheap to clone and shared between tasks.
#[derive(Clone)]
pub struct Llm {
    inner: Arc<Inner>,
}

enum Inner {
    Http {
        config: LlmConfig,
        client: reqwest::Client,
    },
    Sampling(ClientHandle),
}

impl fmt::Debug for Llm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Inner::Http { config, .. } => f.debug_tuple("Llm").field(config).finish(),
            Inner::Sampling(_) => f.write_str("Llm(MCP sampling)"),
        }
    }
}

impl Llm {
    /// A provider reached over HTTP as `config` says.
    pub fn new(config: LlmConfig) -> Result<Llm, LlmError> {
        config.validate()?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .user_agent(concat!("bioai/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Config(format!("the HTTP client cannot be set up: {e}")))?;
        Ok(Llm {
            inner: Arc::new(Inner::Http { config, client }),
        })
    }

    /// The connected MCP client's own model, asked through MCP sampling
    /// (`sampling/createMessage`). Tools are not available this way, and
    /// token usage is estimated.
    pub fn sampling(client: ClientHandle) -> Llm {
        Llm {
            inner: Arc::new(Inner::Sampling(client)),
        }
    }

    /// The configuration of an HTTP provider (`None` for MCP sampling).
    pub fn config(&self) -> Option<&LlmConfig> {
        match &*self.inner {
            Inner::Http { config, .. } => Some(config),
            Inner::Sampling(_) => None,
        }
    }

    /// Completes `request`; streamed text goes to `on_text` as it arrives
    /// (without streaming, or through sampling, the whole text once).
    pub async fn complete(
        &self,
        request: &ChatRequest,
        on_text: OnText<'_>,
    ) -> Result<Completion, LlmError> {
        match &*self.inner {
            Inner::Http { config, client } => http_complete(config, client, request, on_text).await,
            Inner::Sampling(client) => sampling::complete(client, request, on_text).await,
        }
    }
}

/// Tokens estimated from bytes (about 4 bytes a token for English text and
/// JSON).
fn estimate_tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4)
}

/// An estimate of the input tokens of `request`.
fn estimate_input(request: &ChatRequest) -> u64 {
    let messages: usize = request
        .messages
        .iter()
        .map(|m| {
            m.content.len()
                + m.tool_calls
                    .iter()
                    .map(|c| c.name.len() + c.arguments.len())
                    .sum::<usize>()
        })
        .sum();
    let tools: usize = request
        .tools
        .iter()
        .map(|t| t.name.len() + t.description.len() + t.parameters.to_string().len())
        .sum();
    estimate_tokens(messages + tools)
}

/// A tool call being assembled from a stream.
#[derive(Debug, Default)]
struct PartialCall {
    /// The provider's index of the call (OpenAI) or content block
    /// (Anthropic).
    index: u64,
    id: String,
    name: String,
    arguments: String,
}

/// A completion being assembled from streamed events.
#[derive(Debug, Default)]
struct Assembly {
    text: String,
    calls: Vec<PartialCall>,
    stop_reason: Option<String>,
    model: String,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

impl Assembly {
    /// The call at `index`, created when new.
    fn call(&mut self, index: u64) -> &mut PartialCall {
        let pos = match self.calls.iter().position(|c| c.index == index) {
            Some(p) => p,
            None => {
                self.calls.push(PartialCall {
                    index,
                    ..PartialCall::default()
                });
                self.calls.len() - 1
            }
        };
        &mut self.calls[pos]
    }

    /// What was assembled so far; counts the provider did not report are
    /// estimated (`input_estimate` for the prompt, the bytes received for
    /// the output).
    fn completion(&self, input_estimate: u64) -> Completion {
        let mut calls: Vec<&PartialCall> = self.calls.iter().collect();
        calls.sort_by_key(|c| c.index);
        let tool_calls: Vec<ToolCall> = calls
            .into_iter()
            .map(|c| ToolCall {
                id: c.id.clone(),
                name: c.name.clone(),
                arguments: if c.arguments.trim().is_empty() {
                    "{}".to_string()
                } else {
                    c.arguments.clone()
                },
            })
            .collect();
        let out_bytes = self.text.len()
            + self
                .calls
                .iter()
                .map(|c| c.name.len() + c.arguments.len())
                .sum::<usize>();
        let estimated_out = estimate_tokens(out_bytes);
        let usage = TokenUsage {
            input_tokens: self.input_tokens.unwrap_or(input_estimate),
            output_tokens: self.output_tokens.unwrap_or(estimated_out),
            estimated: self.input_tokens.is_none() || self.output_tokens.is_none(),
        };
        Completion {
            text: self.text.clone(),
            tool_calls,
            stop_reason: self.stop_reason.clone().unwrap_or_default(),
            model: self.model.clone(),
            usage,
        }
    }
}

/// What a provider module does with the events of one streamed answer.
trait StreamEvents: Send {
    /// Handles one event: `Ok(true)` when it ends the answer, `Err(reason)`
    /// when the provider reported an error or sent something unreadable.
    fn event(&mut self, event: &SseEvent, on_text: OnText<'_>) -> Result<bool, String>;

    /// Whether the answer may count as complete at the end of the body
    /// without the provider's end marker (some OpenAI-compatible servers
    /// omit `[DONE]`).
    fn complete_without_marker(&self) -> bool;

    /// What was assembled.
    fn assembly(&self) -> &Assembly;
}

/// The message of an error answer: `error.message` (OpenAI, Anthropic),
/// `error` as a string (Ollama and others), else the start of the body.
fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let e = &v["error"];
        if let Some(m) = e["message"].as_str().or_else(|| e.as_str()) {
            return m.to_string();
        }
        if let Some(m) = v["message"].as_str().or_else(|| v["detail"].as_str()) {
            return m.to_string();
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    let cut: String = text.chars().take(500).collect();
    if cut.len() < text.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

/// One request to an HTTP provider, with retries.
async fn http_complete(
    config: &LlmConfig,
    client: &reqwest::Client,
    request: &ChatRequest,
    on_text: OnText<'_>,
) -> Result<Completion, LlmError> {
    let body = match config.kind {
        ProviderKind::OpenAi => openai::request_body(config, request)?,
        ProviderKind::Anthropic => anthropic::request_body(config, request)?,
    };
    let body = serde_json::to_vec(&body)
        .map_err(|e| LlmError::InvalidRequest(format!("it cannot be serialized: {e}")))?;
    let url = config.endpoint();
    let provider = config.kind;
    let mut attempt: u32 = 0;
    let response = loop {
        attempt += 1;
        let mut builder = client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        builder = match config.kind {
            ProviderKind::OpenAi => match &config.api_key {
                Some(key) => builder.bearer_auth(key),
                None => builder,
            },
            ProviderKind::Anthropic => {
                let b = builder.header("anthropic-version", anthropic::VERSION);
                match &config.api_key {
                    Some(key) => b.header("x-api-key", key),
                    None => b,
                }
            }
        };
        if config.stream {
            builder = builder.header(reqwest::header::ACCEPT, "text/event-stream");
        }
        let (failure, retry_after) =
            match tokio::time::timeout(config.timeout, builder.send()).await {
                Err(_) => (format!("no answer within {:?}", config.timeout), None),
                Ok(Err(e)) => (format!("the request failed: {}", error_chain(&e)), None),
                Ok(Ok(resp)) if resp.status().is_success() => break resp,
                Ok(Ok(resp)) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let body = match tokio::time::timeout(config.timeout, resp.bytes()).await {
                        Ok(Ok(b)) => b.to_vec(),
                        _ => Vec::new(),
                    };
                    let message = error_message(&body);
                    if !retry::retryable_status(status) {
                        return Err(LlmError::Rejected {
                            provider,
                            status,
                            message,
                        });
                    }
                    (format!("HTTP {status}: {message}"), retry_after)
                }
            };
        if attempt > config.max_retries {
            return Err(LlmError::Unavailable {
                provider,
                attempts: attempt,
                last: failure,
            });
        }
        let wait = retry::delay(attempt - 1, retry_after.as_deref());
        tracing::warn!(
            provider = %provider,
            attempt,
            wait_ms = wait.as_millis() as u64,
            "LLM request failed, retrying: {failure}"
        );
        tokio::time::sleep(wait).await;
    };

    let is_stream = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
    if !is_stream {
        // Non-streamed (also when a server ignored `stream: true`).
        let bytes = match tokio::time::timeout(config.timeout, response.bytes()).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                return Err(LlmError::Protocol {
                    provider,
                    message: format!("the answer's body could not be read: {}", error_chain(&e)),
                    usage: None,
                });
            }
            Err(_) => {
                return Err(LlmError::Protocol {
                    provider,
                    message: format!(
                        "the answer's body did not arrive within {:?}",
                        config.timeout
                    ),
                    usage: None,
                });
            }
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| LlmError::Protocol {
                provider,
                message: format!("the answer is not JSON ({e}): {}", error_message(&bytes)),
                usage: None,
            })?;
        let completion = match config.kind {
            ProviderKind::OpenAi => openai::parse_response(&value, estimate_input(request)),
            ProviderKind::Anthropic => anthropic::parse_response(&value, estimate_input(request)),
        }
        .map_err(|(message, usage)| LlmError::Protocol {
            provider,
            message,
            usage,
        })?;
        if let Some(f) = on_text
            && !completion.text.is_empty()
        {
            f(&completion.text);
        }
        return Ok(completion);
    }

    let mut events: Box<dyn StreamEvents> = match config.kind {
        ProviderKind::OpenAi => Box::new(openai::StreamState::default()),
        ProviderKind::Anthropic => Box::new(anthropic::StreamState::default()),
    };
    let input_estimate = estimate_input(request);
    let interrupted = |events: &dyn StreamEvents, reason: String| LlmError::Interrupted {
        partial: Box::new(events.assembly().completion(input_estimate)),
        reason,
    };
    let mut parser = SseParser::new();
    let mut response = response;
    loop {
        let chunk = match tokio::time::timeout(config.timeout, response.chunk()).await {
            Err(_) => {
                return Err(interrupted(
                    &*events,
                    format!("{provider} sent nothing for {:?}", config.timeout),
                ));
            }
            Ok(Err(e)) => {
                return Err(interrupted(
                    &*events,
                    format!("the connection to {provider} failed: {}", error_chain(&e)),
                ));
            }
            Ok(Ok(None)) => {
                if !parser.has_partial() && events.complete_without_marker() {
                    return Ok(events.assembly().completion(input_estimate));
                }
                return Err(interrupted(
                    &*events,
                    format!("{provider} closed the stream before its end"),
                ));
            }
            Ok(Ok(Some(chunk))) => chunk,
        };
        for event in parser.feed(&chunk) {
            match events.event(&event, on_text) {
                Ok(false) => {}
                Ok(true) => return Ok(events.assembly().completion(input_estimate)),
                Err(reason) => return Err(interrupted(&*events, reason)),
            }
        }
    }
}

/// An error with its sources (reqwest's own message hides the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn from_env_without_a_provider_is_none() {
        assert!(LlmConfig::from_env(env(&[])).unwrap().is_none());
        assert!(
            LlmConfig::from_env(env(&[
                ("BIOAI_LLM_PROVIDER", " "),
                ("BIOAI_LLM_MODEL", "m")
            ]))
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn from_env_defaults() {
        let c = LlmConfig::from_env(env(&[
            ("BIOAI_LLM_PROVIDER", "openai"),
            ("BIOAI_LLM_MODEL", "gpt-4o-mini"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.kind, ProviderKind::OpenAi);
        assert_eq!(c.base_url, "https://api.openai.com/v1");
        assert_eq!(c.api_key, None);
        assert!(c.stream);
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.endpoint(), "https://api.openai.com/v1/chat/completions");

        let c = LlmConfig::from_env(env(&[
            ("BIOAI_LLM_PROVIDER", "Anthropic"),
            ("BIOAI_LLM_MODEL", "claude-sonnet-4-5"),
            ("BIOAI_LLM_API_KEY", "sk-ant"),
            ("BIOAI_LLM_STREAM", "false"),
            ("BIOAI_LLM_MAX_RETRIES", "0"),
            ("BIOAI_LLM_TIMEOUT_SECS", "5"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.kind, ProviderKind::Anthropic);
        assert_eq!(c.endpoint(), "https://api.anthropic.com/v1/messages");
        assert_eq!(c.api_key.as_deref(), Some("sk-ant"));
        assert!(!c.stream);
        assert_eq!(c.max_retries, 0);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert!(!format!("{c:?}").contains("sk-ant"), "the key is redacted");

        let c = LlmConfig::from_env(env(&[
            ("BIOAI_LLM_PROVIDER", "openai"),
            ("BIOAI_LLM_MODEL", "qwen2.5"),
            ("BIOAI_LLM_BASE_URL", "http://localhost:11434/v1/"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint(), "http://localhost:11434/v1/chat/completions");
    }

    #[test]
    fn from_env_bad_values_say_what_to_do() {
        let err = |pairs: &[(&str, &str)]| LlmConfig::from_env(env(pairs)).unwrap_err().to_string();
        let e = err(&[("BIOAI_LLM_PROVIDER", "gemini"), ("BIOAI_LLM_MODEL", "m")]);
        assert!(e.contains("`gemini`") && e.contains("`openai`"), "{e}");
        let e = err(&[("BIOAI_LLM_PROVIDER", "openai")]);
        assert!(e.contains("BIOAI_LLM_MODEL"), "{e}");
        let e = err(&[
            ("BIOAI_LLM_PROVIDER", "openai"),
            ("BIOAI_LLM_MODEL", "m"),
            ("BIOAI_LLM_STREAM", "maybe"),
        ]);
        assert!(
            e.contains("BIOAI_LLM_STREAM") && e.contains("`maybe`"),
            "{e}"
        );
        let e = err(&[
            ("BIOAI_LLM_PROVIDER", "anthropic"),
            ("BIOAI_LLM_MODEL", "m"),
            ("BIOAI_LLM_BASE_URL", "api.anthropic.com"),
        ]);
        assert!(e.contains("BIOAI_LLM_BASE_URL"), "{e}");
        let e = err(&[
            ("BIOAI_LLM_PROVIDER", "openai"),
            ("BIOAI_LLM_MODEL", "m"),
            ("BIOAI_LLM_TIMEOUT_SECS", "0"),
        ]);
        assert!(e.contains("BIOAI_LLM_TIMEOUT_SECS"), "{e}");
    }

    #[test]
    fn error_messages_are_extracted() {
        assert_eq!(
            error_message(br#"{"error":{"message":"bad model","type":"invalid_request_error"}}"#),
            "bad model"
        );
        assert_eq!(
            error_message(br#"{"type":"error","error":{"type":"x","message":"too long"}}"#),
            "too long"
        );
        assert_eq!(
            error_message(br#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message(b"Bad Gateway"), "Bad Gateway");
        assert_eq!(error_message(b""), "(empty body)");
    }

    #[test]
    fn assembly_estimates_what_the_provider_did_not_report() {
        let mut a = Assembly {
            text: "12345678".into(),
            ..Assembly::default()
        };
        let c = a.completion(10);
        assert_eq!(
            c.usage,
            TokenUsage {
                input_tokens: 10,
                output_tokens: 2,
                estimated: true
            }
        );
        a.input_tokens = Some(7);
        a.output_tokens = Some(3);
        assert_eq!(
            a.completion(10).usage,
            TokenUsage {
                input_tokens: 7,
                output_tokens: 3,
                estimated: false
            }
        );
        // Calls come out by index, with empty arguments as `{}`.
        a.call(2).name = "b".into();
        a.call(0).name = "a".into();
        a.call(2).arguments.push_str("{\"x\":1}");
        let c = a.completion(0);
        assert_eq!(c.tool_calls[0].name, "a");
        assert_eq!(c.tool_calls[0].arguments, "{}");
        assert_eq!(c.tool_calls[1].arguments, "{\"x\":1}");
    }

    #[test]
    fn llm_is_send_sync_and_its_future_is_send() {
        fn send_sync<T: Send + Sync + Clone>() {}
        send_sync::<Llm>();
        fn send<T: Send>(_: &T) {}
        let llm = Llm::new(LlmConfig::new(ProviderKind::OpenAi, "m")).unwrap();
        let req = ChatRequest {
            messages: vec![ChatMessage::user("hi")],
            tools: vec![],
            max_tokens: 1,
            temperature: None,
        };
        let fut = llm.complete(&req, None);
        send(&fut);
    }
}
