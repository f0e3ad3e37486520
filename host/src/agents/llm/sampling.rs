//! The connected MCP client's own model, through MCP sampling
//! (`sampling/createMessage`, via [`crate::runtime::ClientRequests`]).
//!
//! Sampling has no tools and reports no token usage: a request with tools
//! (or tool turns) is refused, and usage is estimated at about 4 bytes a
//! token.

use super::{
    ChatRequest, Completion, LlmError, OnText, Speaker, TokenUsage, estimate_input, estimate_tokens,
};
use crate::runtime::bindings::bioai::plugin::content::Block;
use crate::runtime::{ClientHandle, ClientRole, Sampled, SamplingMessage, SamplingRequest};

/// `request` as an MCP sampling request: system messages become the system
/// prompt, the rest user and assistant turns of text.
pub(super) fn to_sampling(request: &ChatRequest) -> Result<SamplingRequest, LlmError> {
    if !request.tools.is_empty() {
        return Err(LlmError::InvalidRequest(format!(
            "{} tool(s) were offered, but the MCP client's model (sampling) cannot call tools: \
             configure an HTTP provider (BIOAI_LLM_PROVIDER) for roles that use tools, or send \
             the request without tools",
            request.tools.len()
        )));
    }
    let mut system: Vec<&str> = Vec::new();
    let mut messages = Vec::new();
    for m in &request.messages {
        let role = match m.speaker {
            Speaker::System => {
                system.push(&m.content);
                continue;
            }
            Speaker::User => ClientRole::User,
            Speaker::Assistant if m.tool_calls.is_empty() => ClientRole::Assistant,
            Speaker::Assistant | Speaker::Tool => {
                return Err(LlmError::InvalidRequest(
                    "the conversation holds tool calls or tool results, which the MCP client's \
                     model (sampling) cannot take: use an HTTP provider (BIOAI_LLM_PROVIDER) for \
                     conversations with tools"
                        .to_string(),
                ));
            }
        };
        messages.push(SamplingMessage {
            role,
            content: Block::Text(m.content.clone()),
        });
    }
    Ok(SamplingRequest {
        messages,
        max_tokens: request.max_tokens,
        system_prompt: (!system.is_empty()).then(|| system.join("\n\n")),
        temperature: request.temperature,
        stop_sequences: Vec::new(),
    })
}

/// The client's answer as a completion, with estimated usage.
pub(super) fn from_sampled(sampled: Sampled, input_estimate: u64) -> Result<Completion, LlmError> {
    let text: String = sampled
        .content
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("");
    if text.is_empty() && !sampled.content.is_empty() {
        return Err(LlmError::Sampling(
            "the client's model answered without text (only images, audio or resources), which \
             an agent role cannot use"
                .to_string(),
        ));
    }
    let output_tokens = estimate_tokens(text.len());
    Ok(Completion {
        text,
        tool_calls: Vec::new(),
        stop_reason: sampled.stop_reason.unwrap_or_default(),
        model: sampled.model,
        usage: TokenUsage {
            input_tokens: input_estimate,
            output_tokens,
            estimated: true,
        },
    })
}

/// Asks the client's model.
pub(super) async fn complete(
    client: &ClientHandle,
    request: &ChatRequest,
    on_text: OnText<'_>,
) -> Result<Completion, LlmError> {
    let sampling = to_sampling(request)?;
    let sampled = client
        .create_message(sampling)
        .await
        .map_err(LlmError::Sampling)?;
    let completion = from_sampled(sampled, estimate_input(request))?;
    if let Some(f) = on_text
        && !completion.text.is_empty()
    {
        f(&completion.text);
    }
    Ok(completion)
}

#[cfg(test)]
mod tests {
    use super::super::{ChatMessage, Llm, ToolCall, ToolSpec};
    use super::*;
    use crate::runtime::{ClientFuture, ClientRequests, Elicited, Root};
    use std::sync::{Arc, Mutex};

    fn request(messages: Vec<ChatMessage>) -> ChatRequest {
        ChatRequest {
            messages,
            tools: vec![],
            max_tokens: 50,
            temperature: Some(0.2),
        }
    }

    #[test]
    fn maps_a_conversation() {
        let s = to_sampling(&request(vec![
            ChatMessage::system("be brief"),
            ChatMessage::user("hi"),
            ChatMessage::assistant("hello"),
            ChatMessage::user("GC of ACGT?"),
        ]))
        .unwrap();
        assert_eq!(s.system_prompt.as_deref(), Some("be brief"));
        assert_eq!(s.max_tokens, 50);
        assert_eq!(s.temperature, Some(0.2));
        assert_eq!(s.messages.len(), 3);
        assert!(matches!(s.messages[1].role, ClientRole::Assistant));
        assert!(matches!(&s.messages[2].content, Block::Text(t) if t == "GC of ACGT?"));
    }

    #[test]
    fn tools_are_refused_with_a_reason() {
        let mut r = request(vec![ChatMessage::user("hi")]);
        r.tools.push(ToolSpec {
            name: "gc".into(),
            description: "GC".into(),
            parameters: serde_json::json!({"type": "object"}),
        });
        let e = to_sampling(&r).unwrap_err().to_string();
        assert!(e.contains("cannot call tools"), "{e}");
        let r = request(vec![ChatMessage {
            speaker: Speaker::Assistant,
            content: String::new(),
            tool_call_id: None,
            tool_calls: vec![ToolCall {
                id: "1".into(),
                name: "gc".into(),
                arguments: "{}".into(),
            }],
        }]);
        assert!(matches!(to_sampling(&r), Err(LlmError::InvalidRequest(_))));
        let r = request(vec![ChatMessage::tool_result("1", "0.5")]);
        assert!(matches!(to_sampling(&r), Err(LlmError::InvalidRequest(_))));
    }

    /// A client whose model answers from a script.
    struct Client {
        answer: Result<Sampled, String>,
        asked: Mutex<Vec<SamplingRequest>>,
    }

    impl ClientRequests for Client {
        fn create_message(&self, request: SamplingRequest) -> ClientFuture<Sampled> {
            self.asked.lock().unwrap().push(request);
            let answer = self.answer.clone();
            Box::pin(async move { answer })
        }
        fn elicit(&self, _: String, _: String) -> ClientFuture<Elicited> {
            Box::pin(async { Err("no".to_string()) })
        }
        fn list_roots(&self) -> ClientFuture<Vec<Root>> {
            Box::pin(async { Err("no".to_string()) })
        }
    }

    #[tokio::test]
    async fn completes_through_the_client_with_estimated_usage() {
        let client = Arc::new(Client {
            answer: Ok(Sampled {
                role: ClientRole::Assistant,
                content: vec![Block::Text("0.5, ".into()), Block::Text("done".into())],
                model: "client-model".into(),
                stop_reason: Some("endTurn".into()),
            }),
            asked: Mutex::new(Vec::new()),
        });
        let llm = Llm::sampling(client.clone());
        let seen = Mutex::new(String::new());
        let on_text = |t: &str| seen.lock().unwrap().push_str(t);
        let req = request(vec![ChatMessage::user("GC of ACGTACGT?")]);
        let c = llm.complete(&req, Some(&on_text)).await.unwrap();
        assert_eq!(c.text, "0.5, done");
        assert_eq!(*seen.lock().unwrap(), "0.5, done");
        assert_eq!(c.model, "client-model");
        assert_eq!(c.stop_reason, "endTurn");
        assert_eq!(
            c.usage,
            TokenUsage {
                input_tokens: 4,
                output_tokens: 3,
                estimated: true
            }
        );
        assert_eq!(client.asked.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_refusal_is_a_sampling_error() {
        let llm = Llm::sampling(Arc::new(Client {
            answer: Err("the user declined".into()),
            asked: Mutex::new(Vec::new()),
        }));
        let e = llm
            .complete(&request(vec![ChatMessage::user("hi")]), None)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, LlmError::Sampling(m) if m.contains("declined")),
            "{e}"
        );
        assert!(e.usage().is_none());
    }
}
