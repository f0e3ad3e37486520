//! The `bioai:plugin/client` import: requests a plugin makes to the MCP
//! client on whose behalf its tool call runs (sampling, elicitation, roots).
//!
//! The runtime knows nothing of MCP: whoever starts a call may hand it a
//! [`ClientHandle`] that carries these requests to the client (the MCP
//! adapter does, for sessions whose client declared the capabilities).
//! Without one every request fails at once with a message for the plugin.
//! A request in flight ends with its call: the call's deadline and
//! cancellation drop it like any other host call.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::bindings::bioai::plugin::client;
use super::call::CallState;

pub use client::{
    ElicitAction, Elicited, Form, InputRequest, InputResponse, Role as ClientRole, Root, Sampled,
    SamplingMessage, SamplingRequest,
};

/// The answer to one client request: the result, or a message saying why
/// there is none (for the plugin to report).
pub type ClientFuture<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// Carries a plugin's requests to the client that made the call.
pub trait ClientRequests: Send + Sync {
    /// Whether the client declared that it can be sampled (so that
    /// [`ClientRequests::create_message`] may succeed).
    fn can_sample(&self) -> bool {
        true
    }

    /// Asks the client to sample its LLM (MCP `sampling/createMessage`).
    fn create_message(&self, request: SamplingRequest) -> ClientFuture<Sampled>;

    /// Asks the client's user to fill in a form (MCP `elicitation/create`);
    /// `requested_schema` is the form's JSON Schema as text.
    fn elicit(&self, message: String, requested_schema: String) -> ClientFuture<Elicited>;

    /// Asks the client for its roots (MCP `roots/list`).
    fn list_roots(&self) -> ClientFuture<Vec<Root>>;

    /// Asks the client several things at once, each under the plugin's key;
    /// the answers come in the order of the requests. By default the
    /// requests go one after another through the single-request methods.
    fn request_input(&self, requests: Vec<(String, InputRequest)>) -> AnswersFuture {
        let asks: Vec<AnswerFuture> = requests
            .into_iter()
            .map(|(_, request)| match request {
                InputRequest::Elicit(form) => answer(
                    self.elicit(form.message, form.requested_schema),
                    InputResponse::Elicited,
                ),
                InputRequest::CreateMessage(r) => {
                    answer(self.create_message(r), InputResponse::Sampled)
                }
                InputRequest::ListRoots => answer(self.list_roots(), InputResponse::Roots),
            })
            .collect();
        Box::pin(async move {
            let mut answers = Vec::with_capacity(asks.len());
            for ask in asks {
                answers.push(ask.await);
            }
            answers
        })
    }

    /// Whether the client stopped the call to ask for input it does not
    /// have yet (a 2026-07-28 input-required round): the call then ends as
    /// [`super::Failure::InputRequired`] rather than as cancelled.
    fn awaiting_input(&self) -> bool {
        false
    }
}

/// The answer to one of several requests (failures included).
pub type AnswerFuture = Pin<Box<dyn Future<Output = InputResponse> + Send>>;

/// The answers to several requests, in order.
pub type AnswersFuture = Pin<Box<dyn Future<Output = Vec<InputResponse>> + Send>>;

/// One request's answer as an [`InputResponse`].
fn answer<T: Send + 'static>(ask: ClientFuture<T>, wrap: fn(T) -> InputResponse) -> AnswerFuture {
    Box::pin(async move { ask.await.map_or_else(InputResponse::Failed, wrap) })
}

/// At most this many requests in one `request-input`.
const MAX_REQUESTS: usize = 16;

/// Why a `request-input` batch is malformed, if it is.
fn check_requests(requests: &[(String, InputRequest)]) -> Result<(), String> {
    if requests.len() > MAX_REQUESTS {
        return Err(format!(
            "{} requests at once; at most {MAX_REQUESTS} may be sent to the client",
            requests.len()
        ));
    }
    let mut keys = std::collections::HashSet::new();
    for (key, request) in requests {
        if key.is_empty() || key.len() > 256 {
            return Err("each request needs a key of 1 to 256 bytes".into());
        }
        if !keys.insert(key.as_str()) {
            return Err(format!(
                "the key `{key}` is used twice; keys must be unique"
            ));
        }
        if let InputRequest::Elicit(form) = request {
            check_len("elicitation message", form.message.len())?;
            check_len("requested schema", form.requested_schema.len())?;
        }
    }
    Ok(())
}

/// A call's way to its client, shared by the call's host imports.
pub type ClientHandle = Arc<dyn ClientRequests>;

/// The error of a request made without a client to ask.
fn no_client(what: &str) -> String {
    format!(
        "the client does not support {what}: this call has no MCP client to ask (it does not \
         come from an MCP client, e.g. `bioai call` or an agent run)"
    )
}

/// Upper bounds on what a plugin may send the client, per request.
const MAX_TEXT_BYTES: usize = 1 << 20;

fn check_len(what: &str, len: usize) -> Result<(), String> {
    if len > MAX_TEXT_BYTES {
        return Err(format!(
            "the {what} is {len} bytes; at most {MAX_TEXT_BYTES} may be sent to the client"
        ));
    }
    Ok(())
}

impl client::Host for CallState {
    async fn create_message(&mut self, request: SamplingRequest) -> Result<Sampled, String> {
        let Some(client) = self.client.clone() else {
            return Err(no_client("sampling"));
        };
        client.create_message(request).await
    }

    async fn elicit(
        &mut self,
        message: String,
        requested_schema: String,
    ) -> Result<Elicited, String> {
        let Some(client) = self.client.clone() else {
            return Err(no_client("elicitation"));
        };
        check_len("elicitation message", message.len())?;
        check_len("requested schema", requested_schema.len())?;
        client.elicit(message, requested_schema).await
    }

    async fn list_roots(&mut self) -> Result<Vec<Root>, String> {
        let Some(client) = self.client.clone() else {
            return Err(no_client("roots"));
        };
        client.list_roots().await
    }

    async fn request_input(&mut self, requests: Vec<(String, InputRequest)>) -> Vec<InputResponse> {
        let n = requests.len();
        let failed = |message: String| vec![InputResponse::Failed(message); n];
        if let Err(e) = check_requests(&requests) {
            return failed(e);
        }
        let Some(client) = self.client.clone() else {
            return failed(no_client("input requests"));
        };
        let mut answers = client.request_input(requests).await;
        // A client handle must answer each request; pad rather than trust it.
        answers.resize_with(n, || {
            InputResponse::Failed("the client gave no answer to this request".into())
        });
        answers
    }
}
