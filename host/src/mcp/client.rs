//! Plugin requests to the MCP client ([`crate::runtime::ClientRequests`])
//! carried over the requesting session's rmcp peer: `sampling/createMessage`,
//! `elicitation/create` (form mode) and `roots/list`.
//!
//! Only 2025-11-25 sessions (and older) get a bridge: 2026-07-28 forbids
//! server-to-client requests (it has multi-round-trip results instead), so
//! there the plugin's requests fail with a message, as they do for each
//! capability the client did not declare.

use std::sync::Arc;

use base64::Engine;
use rmcp::model::{
    CancelledNotification, CancelledNotificationParam, ClientCapabilities, ClientResult,
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ElicitationAction, ListRootsResult, Request, RequestId, SamplingMessage, ServerRequest,
};
use rmcp::service::PeerRequestOptions;
use rmcp::{Peer, RoleServer};
use serde_json::{Value, json};

use crate::runtime::{
    ClientFuture, ClientHandle, ClientRequests, ClientRole, ElicitAction, Elicited, Root, Sampled,
    SamplingRequest,
};

/// The content blocks a plugin exchanges with the client.
type Block = crate::runtime::bindings::bioai::plugin::content::Block;
type Media = crate::runtime::bindings::bioai::plugin::content::Media;

/// The bridge for a request from `peer`: over the session for protocol
/// versions with `initialize`; for stateless (2026-07-28) requests, one
/// whose requests fail saying why.
pub(super) fn bridge(
    peer: &Peer<RoleServer>,
    version: Option<rmcp::model::ProtocolVersion>,
    capabilities: Option<ClientCapabilities>,
) -> ClientHandle {
    match version {
        Some(v) if v.has_initialize() => Arc::new(PeerClient {
            peer: peer.clone(),
            capabilities: capabilities.unwrap_or_default(),
        }),
        v => Arc::new(Stateless(v.map_or_else(
            || "this request".to_string(),
            |v| format!("requests of protocol {}", v.as_str()),
        ))),
    }
}

/// The client of a stateless request, which cannot be sent requests; holds
/// what to call the request in messages.
struct Stateless(String);

impl Stateless {
    fn refuse<T: Send + 'static>(&self, what: &str) -> ClientFuture<T> {
        let message = format!(
            "the client cannot be asked for {what} here: {} running as tasks cannot \
             stop for input-required rounds; call the tool without a task, or connect with \
             protocol 2025-11-25, to use {what}",
            self.0
        );
        Box::pin(async move { Err(message) })
    }
}

impl ClientRequests for Stateless {
    fn can_sample(&self) -> bool {
        false
    }

    fn create_message(&self, _request: SamplingRequest) -> ClientFuture<Sampled> {
        self.refuse("sampling")
    }

    fn elicit(&self, _message: String, _requested_schema: String) -> ClientFuture<Elicited> {
        self.refuse("elicitation")
    }

    fn list_roots(&self) -> ClientFuture<Vec<Root>> {
        self.refuse("roots")
    }
}

/// A session's client, with the capabilities it declared.
struct PeerClient {
    peer: Peer<RoleServer>,
    capabilities: ClientCapabilities,
}

pub(super) fn unsupported<T: Send + 'static>(what: &str, capability: &str) -> ClientFuture<T> {
    let message = unsupported_message(what, capability);
    Box::pin(async move { Err(message) })
}

/// Why a request the client has no capability for fails.
pub(super) fn unsupported_message(what: &str, capability: &str) -> String {
    format!("the client does not support {what}: it did not declare the `{capability}` capability")
}

/// Why a request to the client failed, for the plugin.
fn failed(what: &str, e: rmcp::ServiceError) -> String {
    match e {
        rmcp::ServiceError::McpError(e) => {
            format!("the client refused the {what} request: {}", e.message)
        }
        rmcp::ServiceError::TransportClosed => {
            format!("the client disconnected before answering the {what} request")
        }
        other => format!("the {what} request to the client failed: {other}"),
    }
}

impl ClientRequests for PeerClient {
    fn can_sample(&self) -> bool {
        self.capabilities.sampling.is_some()
    }

    fn create_message(&self, request: SamplingRequest) -> ClientFuture<Sampled> {
        if self.capabilities.sampling.is_none() {
            return unsupported("sampling", "sampling");
        }
        let params = match sampling_params(request) {
            Ok(p) => p,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        if let Err(e) = params.validate() {
            let message = format!("the sampling request is malformed: {e}");
            return Box::pin(async move { Err(message) });
        }
        let peer = self.peer.clone();
        Box::pin(async move {
            let request = ServerRequest::CreateMessageRequest(Request::new(params));
            match ask(&peer, request, "sampling").await? {
                ClientResult::CreateMessageResult(result) => sampled(*result),
                _ => Err("the client answered the sampling request with something else".into()),
            }
        })
    }

    fn elicit(&self, message: String, requested_schema: String) -> ClientFuture<Elicited> {
        if !form_elicitation(&self.capabilities) {
            return unsupported("form elicitation", "elicitation");
        }
        let params = match elicit_params(&message, &requested_schema) {
            Ok(p) => p,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let peer = self.peer.clone();
        Box::pin(async move {
            let request = ServerRequest::ElicitRequest(Request::new(params));
            let ClientResult::ElicitResult(result) = ask(&peer, request, "elicitation").await?
            else {
                return Err(
                    "the client answered the elicitation request with something else".into(),
                );
            };
            Ok(elicited(result))
        })
    }

    fn list_roots(&self) -> ClientFuture<Vec<Root>> {
        if self.capabilities.roots.is_none() {
            return unsupported("roots", "roots");
        }
        let peer = self.peer.clone();
        Box::pin(async move {
            let request = ServerRequest::ListRootsRequest(Default::default());
            match ask(&peer, request, "roots").await? {
                ClientResult::ListRootsResult(result) => Ok(roots(result)),
                _ => Err("the client answered the roots request with something else".into()),
            }
        })
    }
}

/// Whether the client declared form elicitation (an empty `elicitation`
/// capability means form mode).
fn form_elicitation(capabilities: &ClientCapabilities) -> bool {
    capabilities
        .elicitation
        .as_ref()
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// Sends `request` to the client and waits for its answer. When the wait
/// is abandoned (the call was cancelled or hit its deadline), the client is
/// told with `notifications/cancelled`, so that it can close its form or
/// stop its model rather than answer into the void.
async fn ask(
    peer: &Peer<RoleServer>,
    request: ServerRequest,
    what: &str,
) -> Result<ClientResult, String> {
    let handle = peer
        .send_request_with_option(request, PeerRequestOptions::no_options())
        .await
        .map_err(|e| failed(what, e))?;
    let mut abandoned = Abandoned {
        peer: peer.clone(),
        id: Some(handle.id.clone()),
    };
    let answer = handle.await_response().await;
    abandoned.id = None;
    answer.map_err(|e| failed(what, e))
}

/// Tells the client that the request `id` is no longer wanted, if it is
/// dropped while still set.
struct Abandoned {
    peer: Peer<RoleServer>,
    id: Option<RequestId>,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let peer = self.peer.clone();
        runtime.spawn(async move {
            let notice = CancelledNotification::new(CancelledNotificationParam::new(
                Some(id),
                Some("the tool call that asked was cancelled or timed out".into()),
            ));
            let _ = peer.send_notification(notice.into()).await;
        });
    }
}

/// Whether the client declared `capability` (`sampling`, `elicitation`,
/// `roots`; form elicitation for `elicitation`).
pub(super) fn declares(capabilities: &ClientCapabilities, capability: &str) -> bool {
    match capability {
        "sampling" => capabilities.sampling.is_some(),
        "elicitation" => form_elicitation(capabilities),
        "roots" => capabilities.roots.is_some(),
        _ => false,
    }
}

/// A plugin's form as MCP elicitation parameters.
pub(super) fn elicit_params(
    message: &str,
    requested_schema: &str,
) -> Result<ElicitRequestParams, String> {
    serde_json::from_str::<Value>(requested_schema)
        .map_err(|e| e.to_string())
        .and_then(|schema| {
            serde_json::from_value::<ElicitRequestParams>(
                json!({ "message": message, "requestedSchema": schema }),
            )
            .map_err(|e| e.to_string())
        })
        .map_err(|e| {
            format!(
                "the requested schema is not an MCP elicitation schema (a JSON object \
                 schema of flat string, number, integer, boolean and enum properties): {e}"
            )
        })
}

/// The user's answer to a form, for the plugin.
pub(super) fn elicited(result: ElicitResult) -> Elicited {
    let action = match result.action {
        ElicitationAction::Accept => ElicitAction::Accept,
        ElicitationAction::Decline => ElicitAction::Decline,
        // Cancel, and whatever later revisions add: no answer.
        _ => ElicitAction::Cancel,
    };
    Elicited {
        action,
        content: result.content.map(|c| c.to_string()),
    }
}

/// The client's model's answer, for the plugin.
pub(super) fn sampled(result: CreateMessageResult) -> Result<Sampled, String> {
    let role = match result.message.role {
        rmcp::model::Role::User => ClientRole::User,
        rmcp::model::Role::Assistant => ClientRole::Assistant,
    };
    let content = result
        .message
        .content
        .into_vec()
        .iter()
        .map(|c| serde_json::to_value(c).map_err(|e| e.to_string()))
        .map(|v| v.and_then(|v| block_from_mcp(&v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the client's sampling result is malformed: {e}"))?;
    Ok(Sampled {
        role,
        content,
        model: result.model,
        stop_reason: result.stop_reason,
    })
}

/// The client's roots, for the plugin.
pub(super) fn roots(result: ListRootsResult) -> Vec<Root> {
    result
        .roots
        .into_iter()
        .map(|r| Root {
            uri: r.uri,
            name: r.name,
        })
        .collect()
}

/// A plugin's sampling request as MCP parameters.
pub(super) fn sampling_params(
    request: SamplingRequest,
) -> Result<CreateMessageRequestParams, String> {
    let messages = request
        .messages
        .into_iter()
        .map(|m| {
            let role = match m.role {
                ClientRole::User => "user",
                ClientRole::Assistant => "assistant",
            };
            let content = block_to_mcp(&m.content)?;
            serde_json::from_value::<SamplingMessage>(json!({ "role": role, "content": content }))
                .map_err(|e| format!("a sampling message is malformed: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut params = CreateMessageRequestParams::new(messages, request.max_tokens);
    params.system_prompt = request.system_prompt;
    params.temperature = request.temperature;
    if !request.stop_sequences.is_empty() {
        params.stop_sequences = Some(request.stop_sequences);
    }
    Ok(params)
}

/// A plugin's block as MCP sampling content (text, image or audio).
fn block_to_mcp(block: &Block) -> Result<Value, String> {
    let b64 = |m: &Media| base64::engine::general_purpose::STANDARD.encode(&m.data);
    Ok(match block {
        Block::Text(text) => json!({ "type": "text", "text": text }),
        Block::Image(m) => json!({ "type": "image", "data": b64(m), "mimeType": m.mime_type }),
        Block::Audio(m) => json!({ "type": "audio", "data": b64(m), "mimeType": m.mime_type }),
        Block::Resource(_) => {
            return Err(
                "sampling messages may hold text, images or audio, not embedded resources".into(),
            );
        }
    })
}

/// MCP sampling content (as JSON) as a plugin's block.
fn block_from_mcp(content: &Value) -> Result<Block, String> {
    let field = |name: &str| content.get(name).and_then(Value::as_str);
    let media = || -> Result<Media, String> {
        let data = base64::engine::general_purpose::STANDARD
            .decode(field("data").ok_or("media without data")?)
            .map_err(|e| format!("media data is not base64: {e}"))?;
        Ok(Media {
            data,
            mime_type: field("mimeType").unwrap_or_default().to_string(),
        })
    };
    match field("type") {
        Some("text") => Ok(Block::Text(
            field("text").ok_or("text without text")?.to_string(),
        )),
        Some("image") => Ok(Block::Image(media()?)),
        Some("audio") => Ok(Block::Audio(media()?)),
        other => Err(format!(
            "content of type {} cannot be passed to a plugin",
            other.unwrap_or("(none)")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elicitation_schemas_survive_the_round_trip() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "description": "User name", "default": "John Doe" },
                "age": { "type": "integer", "default": 30 },
                "score": { "type": "number", "default": 95.5 },
                "status": { "type": "string", "enum": ["active", "inactive"], "default": "active" },
                "verified": { "type": "boolean", "default": true },
                "titled": { "type": "string", "oneOf": [{ "const": "a", "title": "A" }] },
                "legacy": { "type": "string", "enum": ["x"], "enumNames": ["X"] },
                "multi": { "type": "array", "items": { "type": "string", "enum": ["p", "q"] } },
                "titledMulti": { "type": "array", "items": { "anyOf": [{ "const": "v", "title": "V" }] } }
            },
            "required": ["name"]
        });
        let params: ElicitRequestParams =
            serde_json::from_value(json!({ "message": "m", "requestedSchema": schema })).unwrap();
        let sent = serde_json::to_value(&params).unwrap();
        assert_eq!(sent["requestedSchema"], schema);
    }

    #[test]
    fn sampling_blocks_convert_both_ways() {
        let block = Block::Image(Media {
            data: vec![1, 2, 3],
            mime_type: "image/png".into(),
        });
        let mcp = block_to_mcp(&block).unwrap();
        assert!(matches!(block_from_mcp(&mcp), Ok(Block::Image(m)) if m.data == [1, 2, 3]));
        assert!(block_from_mcp(&json!({ "type": "tool_use" })).is_err());
    }
}
