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
    ElicitAction, Elicited, Role as ClientRole, Root, Sampled, SamplingMessage, SamplingRequest,
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
}
