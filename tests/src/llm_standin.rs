//! A stand-in for LLM provider APIs, for tests only: an HTTP server on
//! loopback answering like the documented OpenAI Chat Completions
//! (`POST /v1/chat/completions`) and Anthropic Messages (`POST
//! /v1/messages`) APIs, streamed (Server-Sent Events) or not, as each
//! request asks.
//!
//! Each test scripts the replies in order ([`Reply`]: text, tool calls and
//! usage; an error status, with `Retry-After`; an answer whose connection
//! drops after some chunks) and reads back the requests the server received
//! ([`Recorded`]: path, headers, JSON body). A request with no scripted
//! reply left gets a 500 saying so.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A successful answer.
    Answer(Answer),
    /// An error status with the provider's error body.
    Status {
        /// The HTTP status, e.g. 429, 400, 500.
        status: u16,
        /// The error message in the body.
        message: String,
        /// A `Retry-After` header to send.
        retry_after: Option<String>,
    },
}

/// A successful answer.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The text; streamed word by word (each piece keeps its leading space).
    pub text: String,
    /// Tool calls: (id, name, arguments as JSON text).
    pub tool_calls: Vec<(String, String, String)>,
    /// The input tokens to report.
    pub input_tokens: u64,
    /// The output tokens to report.
    pub output_tokens: u64,
    /// Drop the connection after this many SSE events (streamed) or half
    /// the body (not streamed).
    pub drop_after: Option<usize>,
    /// Wait this long before the body (the status and headers go at once),
    /// like a slow model; a test can stop the host meanwhile.
    pub delay: Option<Duration>,
}

impl Reply {
    /// A text answer with the given usage.
    pub fn text(text: &str, input_tokens: u64, output_tokens: u64) -> Reply {
        Reply::Answer(Answer {
            text: text.to_string(),
            input_tokens,
            output_tokens,
            ..Answer::default()
        })
    }

    /// An answer calling tools: `(id, name, arguments)`, after `text`.
    pub fn tool_calls(
        text: &str,
        calls: &[(&str, &str, &str)],
        input_tokens: u64,
        output_tokens: u64,
    ) -> Reply {
        Reply::Answer(Answer {
            text: text.to_string(),
            tool_calls: calls
                .iter()
                .map(|(i, n, a)| (i.to_string(), n.to_string(), a.to_string()))
                .collect(),
            input_tokens,
            output_tokens,
            ..Answer::default()
        })
    }

    /// An error status with `message` in the provider's error body.
    pub fn status(status: u16, message: &str) -> Reply {
        Reply::Status {
            status,
            message: message.to_string(),
            retry_after: None,
        }
    }

    /// The same error status, with a `Retry-After` header.
    pub fn retry_after(self, value: &str) -> Reply {
        match self {
            Reply::Status {
                status, message, ..
            } => Reply::Status {
                status,
                message,
                retry_after: Some(value.to_string()),
            },
            other => other,
        }
    }

    /// The same answer, its body sent only after `delay`.
    pub fn delay(self, delay: Duration) -> Reply {
        match self {
            Reply::Answer(a) => Reply::Answer(Answer {
                delay: Some(delay),
                ..a
            }),
            other => other,
        }
    }

    /// The same answer, its connection dropped after `events` SSE events.
    pub fn drop_after(self, events: usize) -> Reply {
        match self {
            Reply::Answer(a) => Reply::Answer(Answer {
                drop_after: Some(events),
                ..a
            }),
            other => other,
        }
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The path, e.g. `/v1/messages`.
    pub path: String,
    /// The headers, names lowercase.
    pub headers: BTreeMap<String, String>,
    /// The JSON body.
    pub body: Value,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    requests: Vec<Recorded>,
}

type Shared = Arc<Mutex<Script>>;

/// The running stand-in; it runs until the test's runtime ends.
pub struct LlmStandIn {
    addr: std::net::SocketAddr,
    script: Shared,
}

#[derive(Clone, Copy, PartialEq)]
enum Api {
    OpenAi,
    Anthropic,
}

impl LlmStandIn {
    /// Starts a server on `127.0.0.1:0`.
    pub async fn start() -> LlmStandIn {
        let script: Shared = Arc::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LlmStandIn { addr, script }
    }

    /// The base URL for an OpenAI-compatible client (`http://.../v1`).
    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The base URL for an Anthropic client (`http://...`).
    pub fn anthropic_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues the next reply.
    pub fn push(&self, reply: Reply) {
        self.script.lock().unwrap().replies.push_back(reply);
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.script.lock().unwrap().requests.clone()
    }

    /// How many scripted replies are left.
    pub fn pending(&self) -> usize {
        self.script.lock().unwrap().replies.len()
    }
}

async fn openai(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    handle(Api::OpenAi, "/v1/chat/completions", s, headers, body)
}

async fn anthropic(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    handle(Api::Anthropic, "/v1/messages", s, headers, body)
}

fn handle(api: Api, path: &str, s: Shared, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(api, 400, "the body is not valid JSON", None);
    };
    let recorded = Recorded {
        path: path.to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        body: body.clone(),
    };
    let reply = {
        let mut script = s.lock().unwrap();
        script.requests.push(recorded);
        script.replies.pop_front()
    };
    // What the real APIs check first.
    if body["model"].as_str().is_none() {
        return error(api, 400, "model: Field required", None);
    }
    if !body["messages"].is_array() {
        return error(api, 400, "messages: Field required", None);
    }
    if api == Api::Anthropic {
        if !headers.contains_key("anthropic-version") {
            return error(api, 400, "anthropic-version: header is required", None);
        }
        if body["max_tokens"].as_u64().is_none() {
            return error(api, 400, "max_tokens: Field required", None);
        }
    }
    let Some(reply) = reply else {
        return error(api, 500, "stand-in: no scripted reply left", None);
    };
    match reply {
        Reply::Status {
            status,
            message,
            retry_after,
        } => error(api, status, &message, retry_after),
        Reply::Answer(a) => {
            let model = body["model"].as_str().unwrap_or_default().to_string();
            if body["stream"].as_bool() == Some(true) {
                let frames = match api {
                    Api::OpenAi => {
                        let usage = body["stream_options"]["include_usage"].as_bool() == Some(true);
                        openai_frames(&a, &model, usage)
                    }
                    Api::Anthropic => anthropic_frames(&a, &model),
                };
                respond("text/event-stream", frames, a.drop_after, a.delay)
            } else {
                let v = match api {
                    Api::OpenAi => openai_message(&a, &model),
                    Api::Anthropic => anthropic_message(&a, &model),
                };
                let text = v.to_string();
                match a.drop_after {
                    None => respond("application/json", vec![text], None, a.delay),
                    Some(_) => {
                        let half = text.len() / 2;
                        respond(
                            "application/json",
                            vec![text[..half].to_string()],
                            Some(1),
                            a.delay,
                        )
                    }
                }
            }
        }
    }
}

/// A response whose body is `frames`, sent one by one (the first after
/// `delay`); with `drop_after`, the connection is cut after that many frames.
fn respond(
    content_type: &str,
    frames: Vec<String>,
    drop_after: Option<usize>,
    delay: Option<Duration>,
) -> Response {
    let mut items: Vec<Result<Bytes, std::io::Error>> = frames
        .into_iter()
        .take(drop_after.unwrap_or(usize::MAX))
        .map(|f| Ok(Bytes::from(f)))
        .collect();
    if drop_after.is_some() {
        items.push(Err(std::io::Error::other("stand-in: connection dropped")));
    }
    // A pause before each frame lets the server flush what came before (and
    // the client see the stream arrive in pieces).
    let first = delay.unwrap_or_default();
    let stream = futures_util::stream::iter(items.into_iter().enumerate()).then(
        move |(i, item)| async move {
            let pause = Duration::from_millis(5) + if i == 0 { first } else { Duration::ZERO };
            tokio::time::sleep(pause).await;
            item
        },
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

/// An error answer in the provider's shape.
fn error(api: Api, status: u16, message: &str, retry_after: Option<String>) -> Response {
    let kind = match status {
        400 | 404 | 413 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    let body = match api {
        Api::OpenAi => {
            json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
        }
        Api::Anthropic => json!({"type": "error", "error": {"type": kind, "message": message}}),
    };
    let mut r = Response::builder()
        .status(StatusCode::from_u16(status).expect("a valid status"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(v) = retry_after {
        r = r.header(header::RETRY_AFTER, v);
    }
    r.body(Body::from(body.to_string()))
        .expect("a valid response")
}

/// `text` in stream pieces: words, each with its leading space.
pub fn pieces(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in text.chars() {
        match out.last_mut() {
            Some(last) if c != ' ' => last.push(c),
            _ => out.push(c.to_string()),
        }
    }
    out
}

/// The arguments in two halves (on a character boundary), as streamed.
fn halves(args: &str) -> [&str; 2] {
    let mut mid = args.len() / 2;
    while !args.is_char_boundary(mid) {
        mid += 1;
    }
    [&args[..mid], &args[mid..]]
}

fn openai_message(a: &Answer, model: &str) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": if a.text.is_empty() && !a.tool_calls.is_empty() { Value::Null } else { json!(a.text) },
        "refusal": null,
    });
    if !a.tool_calls.is_empty() {
        message["tool_calls"] = a
            .tool_calls
            .iter()
            .map(|(id, name, args)| {
                json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}})
            })
            .collect();
    }
    json!({
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": if a.tool_calls.is_empty() { "stop" } else { "tool_calls" },
        }],
        "usage": {
            "prompt_tokens": a.input_tokens,
            "completion_tokens": a.output_tokens,
            "total_tokens": a.input_tokens + a.output_tokens,
        },
        "system_fingerprint": null,
    })
}

fn openai_frames(a: &Answer, model: &str, include_usage: bool) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        let mut c = json!({
            "id": "chatcmpl-standin",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": model,
            "system_fingerprint": null,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if include_usage {
            c["usage"] = Value::Null;
        }
        format!("data: {c}\n\n")
    };
    let mut frames = vec![chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    )];
    for p in pieces(&a.text) {
        frames.push(chunk(json!({"content": p}), Value::Null));
    }
    for (i, (id, name, args)) in a.tool_calls.iter().enumerate() {
        frames.push(chunk(
            json!({"tool_calls": [{"index": i, "id": id, "type": "function",
                "function": {"name": name, "arguments": ""}}]}),
            Value::Null,
        ));
        for h in halves(args) {
            frames.push(chunk(
                json!({"tool_calls": [{"index": i, "function": {"arguments": h}}]}),
                Value::Null,
            ));
        }
    }
    let finish = if a.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    frames.push(chunk(json!({}), json!(finish)));
    if include_usage {
        let c = json!({
            "id": "chatcmpl-standin",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": model,
            "system_fingerprint": null,
            "choices": [],
            "usage": {
                "prompt_tokens": a.input_tokens,
                "completion_tokens": a.output_tokens,
                "total_tokens": a.input_tokens + a.output_tokens,
            },
        });
        frames.push(format!("data: {c}\n\n"));
    }
    frames.push("data: [DONE]\n\n".to_string());
    frames
}

fn anthropic_message(a: &Answer, model: &str) -> Value {
    let mut content = Vec::new();
    if !a.text.is_empty() {
        content.push(json!({"type": "text", "text": a.text}));
    }
    for (id, name, args) in &a.tool_calls {
        let input: Value = serde_json::from_str(args).expect("scripted arguments are JSON");
        content.push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
    }
    json!({
        "id": "msg_standin",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": if a.tool_calls.is_empty() { "end_turn" } else { "tool_use" },
        "stop_sequence": null,
        "usage": {"input_tokens": a.input_tokens, "output_tokens": a.output_tokens},
    })
}

fn anthropic_frames(a: &Answer, model: &str) -> Vec<String> {
    let event = |v: Value| format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap());
    let mut frames = vec![event(json!({
        "type": "message_start",
        "message": {
            "id": "msg_standin", "type": "message", "role": "assistant", "content": [],
            "model": model, "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": a.input_tokens, "output_tokens": 1},
        },
    }))];
    let mut index = 0;
    if !a.text.is_empty() {
        frames.push(event(json!({"type": "content_block_start", "index": index,
            "content_block": {"type": "text", "text": ""}})));
        frames.push(event(json!({"type": "ping"})));
        for p in pieces(&a.text) {
            frames.push(event(json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "text_delta", "text": p}})));
        }
        frames.push(event(json!({"type": "content_block_stop", "index": index})));
        index += 1;
    }
    for (id, name, args) in &a.tool_calls {
        frames.push(event(json!({"type": "content_block_start", "index": index,
            "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}})));
        for part in [""].into_iter().chain(halves(args)) {
            frames.push(event(json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": part}})));
        }
        frames.push(event(json!({"type": "content_block_stop", "index": index})));
        index += 1;
    }
    frames.push(event(json!({
        "type": "message_delta",
        "delta": {
            "stop_reason": if a.tool_calls.is_empty() { "end_turn" } else { "tool_use" },
            "stop_sequence": null,
        },
        "usage": {"output_tokens": a.output_tokens},
    })));
    frames.push(event(json!({"type": "message_stop"})));
    frames
}
