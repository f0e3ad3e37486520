//! Requests to the MCP client on whose behalf the current tool call runs:
//! an LLM completion ([`create_message`], [`sample_text`]: MCP sampling),
//! input from the client's user ([`elicit`]: MCP form elicitation) and the
//! client's roots ([`list_roots`]).
//!
//! Every request may fail, with a message to pass on: the client did not
//! declare the capability (`"the client does not support sampling: ..."`),
//! the call does not come from a client that can be asked (`bioai call`, an
//! agent run), the client or its user refused, or the call's deadline
//! passed. On MCP 2026-07-28 a request the client has not answered yet stops
//! the call, which runs again once the client has answered (see
//! [`request_input`]). A tool using these should say so in its result
//! rather than fail silently.
//!
//! Outside WebAssembly (native unit tests of a plugin's logic) every
//! request fails.
//!
//! ```no_run
//! use bioai_sdk::client;
//!
//! fn summarize(abstract_text: &str) -> Result<String, String> {
//!     let prompt = format!("Summarize in one sentence:\n\n{abstract_text}");
//!     client::sample_text(&prompt, 200)
//!         .map_err(|e| format!("could not ask the client's model: {e}"))
//! }
//!
//! fn confirm(target: &str) -> Result<bool, String> {
//!     let schema = r#"{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}"#;
//!     let answer = client::elicit(&format!("Design guides against {target}?"), schema)?;
//!     Ok(answer.action == client::ElicitAction::Accept
//!         && answer.content.is_some_and(|c| c.contains("\"ok\":true")))
//! }
//! ```

/// The types of `bioai:plugin/client` (requests, answers, content blocks).
pub use crate::bindings::bioai::plugin::client::{
    Block, ElicitAction, Elicited, Form, InputRequest, InputResponse, Role, Root, Sampled,
    SamplingMessage, SamplingRequest,
};
/// Binary media in a [`Block`].
pub use crate::bindings::bioai::plugin::content::Media;

#[cfg(not(target_arch = "wasm32"))]
const NATIVE: &str = "there is no MCP client outside WebAssembly";

/// Asks the client to sample its LLM with `request` (MCP
/// `sampling/createMessage`) and returns what the model answered.
pub fn create_message(request: &SamplingRequest) -> Result<Sampled, String> {
    #[cfg(target_arch = "wasm32")]
    return crate::bindings::bioai::plugin::client::create_message(request);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = request;
        Err(NATIVE.into())
    }
}

/// Asks the client's LLM to answer `prompt` (one user message, at most
/// `max_tokens` tokens) and returns the text of its answer (text blocks
/// joined; an answer without text is an error).
pub fn sample_text(prompt: &str, max_tokens: u32) -> Result<String, String> {
    let sampled = create_message(&SamplingRequest {
        messages: vec![SamplingMessage {
            role: Role::User,
            content: Block::Text(prompt.to_owned()),
        }],
        max_tokens,
        system_prompt: None,
        temperature: None,
        stop_sequences: Vec::new(),
    })?;
    text_of(&sampled.content).ok_or_else(|| {
        format!(
            "the client's model ({}) answered without text",
            sampled.model
        )
    })
}

/// Asks the client's user to fill in a form (MCP `elicitation/create`):
/// `message` says what is asked and why, `requested_schema` is the form as a
/// JSON Schema object with flat properties (string, number, integer,
/// boolean, enum), e.g.
/// `{"type":"object","properties":{"email":{"type":"string"}},"required":["email"]}`.
///
/// On [`ElicitAction::Accept`] the answer's `content` holds the submitted
/// values as a JSON object; the user may also decline or cancel.
pub fn elicit(message: &str, requested_schema: &str) -> Result<Elicited, String> {
    #[cfg(target_arch = "wasm32")]
    return crate::bindings::bioai::plugin::client::elicit(message, requested_schema);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (message, requested_schema);
        Err(NATIVE.into())
    }
}

/// The client's roots (MCP `roots/list`): the directories or other
/// locations its user wants the tools to work in.
pub fn list_roots() -> Result<Vec<Root>, String> {
    #[cfg(target_arch = "wasm32")]
    return crate::bindings::bioai::plugin::client::list_roots();
    #[cfg(not(target_arch = "wasm32"))]
    Err(NATIVE.into())
}

/// Asks the client several things at once, each under a key of your
/// choosing (unique within the call); the answers come in the order of the
/// requests, each an answer or [`InputResponse::Failed`] with the reason.
///
/// Prefer this to several single requests when a tool needs more than one
/// answer: on MCP 2026-07-28 every request the client has not answered yet
/// ends the call with an input-required result, and the call runs again
/// from the start with the answers, so one batch costs one extra round.
/// Do nothing before asking that must not happen twice.
///
/// ```no_run
/// use bioai_sdk::client::{self, Form, InputRequest, InputResponse};
///
/// let schema = r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#;
/// let answers = client::request_input(&[
///     ("user_name".into(), InputRequest::Elicit(Form {
///         message: "What is your name?".into(),
///         requested_schema: schema.into(),
///     })),
///     ("client_roots".into(), InputRequest::ListRoots),
/// ]);
/// if let InputResponse::Failed(why) = &answers[0] {
///     eprintln!("no name: {why}");
/// }
/// ```
pub fn request_input(requests: &[(String, InputRequest)]) -> Vec<InputResponse> {
    #[cfg(target_arch = "wasm32")]
    return crate::bindings::bioai::plugin::client::request_input(requests);
    #[cfg(not(target_arch = "wasm32"))]
    requests
        .iter()
        .map(|_| InputResponse::Failed(NATIVE.into()))
        .collect()
}

/// The text of an answer's blocks, joined by newlines (`None` without text).
pub fn text_of(blocks: &[Block]) -> Option<String> {
    let texts: Vec<&str> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// The lowercase name of an elicitation action (`accept`, `decline`,
/// `cancel`), as MCP spells it.
pub fn action_name(action: ElicitAction) -> &'static str {
    match action {
        ElicitAction::Accept => "accept",
        ElicitAction::Decline => "decline",
        ElicitAction::Cancel => "cancel",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_fail_outside_webassembly() {
        assert!(sample_text("hi", 10).is_err());
        assert!(elicit("m", "{}").is_err());
        assert!(list_roots().is_err());
        let answers = request_input(&[("r".into(), InputRequest::ListRoots)]);
        assert!(matches!(answers[..], [InputResponse::Failed(_)]));
        assert_eq!(action_name(ElicitAction::Decline), "decline");
    }
}
