//! The OpenAI Chat Completions protocol (`POST {base}/chat/completions`),
//! as OpenAI documents it and compatible servers (DeepSeek, Qwen, Moonshot,
//! vLLM, Ollama, the llama.cpp server) implement it.

use serde_json::{Value, json};

use super::sse::SseEvent;
use super::{
    Assembly, ChatRequest, Completion, LlmConfig, LlmError, OnText, Speaker, StreamEvents,
    TokenUsage, ToolCall,
};

/// The request body for `request`.
pub(super) fn request_body(config: &LlmConfig, request: &ChatRequest) -> Result<Value, LlmError> {
    let messages = request
        .messages
        .iter()
        .map(|m| match m.speaker {
            Speaker::System => Ok(json!({ "role": "system", "content": m.content })),
            Speaker::User => Ok(json!({ "role": "user", "content": m.content })),
            Speaker::Assistant => {
                let mut msg = json!({ "role": "assistant", "content": m.content });
                if !m.tool_calls.is_empty() {
                    if m.content.is_empty() {
                        msg["content"] = Value::Null;
                    }
                    msg["tool_calls"] = m
                        .tool_calls
                        .iter()
                        .map(|c| {
                            json!({
                                "id": c.id,
                                "type": "function",
                                "function": { "name": c.name, "arguments": c.arguments },
                            })
                        })
                        .collect();
                }
                Ok(msg)
            }
            Speaker::Tool => {
                let id = m.tool_call_id.as_deref().ok_or_else(|| {
                    LlmError::InvalidRequest(
                        "a tool message has no tool_call_id: set it to the id of the call it \
                         answers"
                            .to_string(),
                    )
                })?;
                Ok(json!({ "role": "tool", "tool_call_id": id, "content": m.content }))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut body = json!({
        "model": config.model,
        "messages": messages,
        "max_tokens": request.max_tokens,
    });
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                })
            })
            .collect();
    }
    if config.stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({ "include_usage": true });
    }
    Ok(body)
}

/// The usage object's counts, if it has them.
fn usage(v: &Value) -> Option<TokenUsage> {
    Some(TokenUsage {
        input_tokens: v["prompt_tokens"].as_u64()?,
        output_tokens: v["completion_tokens"].as_u64()?,
        estimated: false,
    })
}

/// A non-streamed answer; usage the server did not report is estimated
/// (`input_estimate` for the prompt). The error carries the usage if it was
/// readable.
pub(super) fn parse_response(
    v: &Value,
    input_estimate: u64,
) -> Result<Completion, (String, Option<TokenUsage>)> {
    let usage = usage(&v["usage"]);
    let Some(choice) = v["choices"].get(0) else {
        return Err(("the answer has no `choices`".to_string(), usage));
    };
    let message = &choice["message"];
    let mut tool_calls = Vec::new();
    if let Some(calls) = message["tool_calls"].as_array() {
        for c in calls {
            let f = &c["function"];
            let arguments = match &f["arguments"] {
                Value::String(s) => s.clone(),
                Value::Null => "{}".to_string(),
                // Some servers send the arguments as an object.
                other => other.to_string(),
            };
            tool_calls.push(ToolCall {
                id: c["id"].as_str().unwrap_or_default().to_string(),
                name: f["name"].as_str().unwrap_or_default().to_string(),
                arguments,
            });
        }
    }
    let text = message["content"].as_str().unwrap_or_default().to_string();
    let usage = usage.unwrap_or_else(|| {
        let out: usize = text.len()
            + tool_calls
                .iter()
                .map(|c| c.name.len() + c.arguments.len())
                .sum::<usize>();
        TokenUsage {
            input_tokens: input_estimate,
            output_tokens: super::estimate_tokens(out),
            estimated: true,
        }
    });
    Ok(Completion {
        text,
        tool_calls,
        stop_reason: choice["finish_reason"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        model: v["model"].as_str().unwrap_or_default().to_string(),
        usage,
    })
}

/// A streamed answer: `chat.completion.chunk` events, the usage in a last
/// chunk with empty `choices`, then `[DONE]`.
#[derive(Debug, Default)]
pub(super) struct StreamState {
    asm: Assembly,
}

impl StreamEvents for StreamState {
    fn event(&mut self, event: &SseEvent, on_text: OnText<'_>) -> Result<bool, String> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| format!("a streamed chunk is not JSON ({e})"))?;
        if !v["error"].is_null() {
            let e = &v["error"];
            let message = e["message"].as_str().or_else(|| e.as_str()).unwrap_or("");
            return Err(format!(
                "the provider reported an error mid-stream: {message}"
            ));
        }
        if let Some(m) = v["model"].as_str()
            && self.asm.model.is_empty()
        {
            self.asm.model = m.to_string();
        }
        if let Some(u) = usage(&v["usage"]) {
            self.asm.input_tokens = Some(u.input_tokens);
            self.asm.output_tokens = Some(u.output_tokens);
        }
        let Some(choices) = v["choices"].as_array() else {
            return Ok(false);
        };
        // One completion is asked for (`n` = 1): choice 0.
        for choice in choices
            .iter()
            .filter(|c| c["index"].as_u64().unwrap_or(0) == 0)
        {
            let delta = &choice["delta"];
            if let Some(text) = delta["content"].as_str()
                && !text.is_empty()
            {
                self.asm.text.push_str(text);
                if let Some(f) = on_text {
                    f(text);
                }
            }
            if let Some(calls) = delta["tool_calls"].as_array() {
                for (pos, c) in calls.iter().enumerate() {
                    let index = c["index"].as_u64().unwrap_or(pos as u64);
                    let call = self.asm.call(index);
                    if let Some(id) = c["id"].as_str()
                        && !id.is_empty()
                    {
                        call.id = id.to_string();
                    }
                    let f = &c["function"];
                    if let Some(name) = f["name"].as_str() {
                        call.name.push_str(name);
                    }
                    match &f["arguments"] {
                        Value::String(s) => call.arguments.push_str(s),
                        Value::Null => {}
                        other => call.arguments.push_str(&other.to_string()),
                    }
                }
            }
            if let Some(r) = choice["finish_reason"].as_str() {
                self.asm.stop_reason = Some(r.to_string());
            }
        }
        Ok(false)
    }

    fn complete_without_marker(&self) -> bool {
        self.asm.stop_reason.is_some()
    }

    fn assembly(&self) -> &Assembly {
        &self.asm
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ChatMessage, ProviderKind, ToolSpec};
    use super::*;
    use std::sync::Mutex;

    fn config(stream: bool) -> LlmConfig {
        LlmConfig {
            stream,
            ..LlmConfig::new(ProviderKind::OpenAi, "gpt-test")
        }
    }

    fn tool_round_trip() -> ChatRequest {
        ChatRequest {
            messages: vec![
                ChatMessage::system("be brief"),
                ChatMessage::user("GC of ACGT?"),
                ChatMessage {
                    speaker: Speaker::Assistant,
                    content: String::new(),
                    tool_call_id: None,
                    tool_calls: vec![ToolCall {
                        id: "call_1".into(),
                        name: "gc".into(),
                        arguments: "{\"seq\":\"ACGT\"}".into(),
                    }],
                },
                ChatMessage::tool_result("call_1", "0.5"),
            ],
            tools: vec![ToolSpec {
                name: "gc".into(),
                description: "GC content".into(),
                parameters: json!({"type":"object","properties":{"seq":{"type":"string"}}}),
            }],
            max_tokens: 64,
            temperature: Some(0.5),
        }
    }

    #[test]
    fn maps_messages_tools_and_streaming() {
        let body = request_body(&config(true), &tool_round_trip()).unwrap();
        assert_eq!(
            body,
            json!({
                "model": "gpt-test",
                "max_tokens": 64,
                "temperature": 0.5,
                "stream": true,
                "stream_options": {"include_usage": true},
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "GC of ACGT?"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_1", "type": "function",
                         "function": {"name": "gc", "arguments": "{\"seq\":\"ACGT\"}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "0.5"},
                ],
                "tools": [{"type": "function", "function": {
                    "name": "gc", "description": "GC content",
                    "parameters": {"type":"object","properties":{"seq":{"type":"string"}}}
                }}],
            })
        );
        let plain = request_body(
            &config(false),
            &ChatRequest {
                messages: vec![ChatMessage::user("hi")],
                tools: vec![],
                max_tokens: 5,
                temperature: None,
            },
        )
        .unwrap();
        assert_eq!(
            plain,
            json!({"model": "gpt-test", "max_tokens": 5,
                   "messages": [{"role": "user", "content": "hi"}]})
        );
    }

    #[test]
    fn a_tool_message_needs_its_call_id() {
        let mut req = tool_round_trip();
        req.messages[3].tool_call_id = None;
        let e = request_body(&config(false), &req).unwrap_err().to_string();
        assert!(e.contains("tool_call_id"), "{e}");
    }

    #[test]
    fn parses_a_non_streamed_answer() {
        let v = json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-test-2024",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [{"id": "call_9", "type": "function",
                                "function": {"name": "gc", "arguments": "{\"seq\":\"GG\"}"}}]
            }}],
            "usage": {"prompt_tokens": 31, "completion_tokens": 9, "total_tokens": 40}
        });
        let c = parse_response(&v, 0).unwrap();
        assert_eq!(c.text, "");
        assert_eq!(c.stop_reason, "tool_calls");
        assert_eq!(c.model, "gpt-test-2024");
        assert_eq!(
            c.tool_calls,
            vec![ToolCall {
                id: "call_9".into(),
                name: "gc".into(),
                arguments: "{\"seq\":\"GG\"}".into()
            }]
        );
        assert_eq!(
            c.usage,
            TokenUsage {
                input_tokens: 31,
                output_tokens: 9,
                estimated: false
            }
        );
        let (msg, usage) = parse_response(
            &json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 0}}),
            0,
        )
        .unwrap_err();
        assert!(msg.contains("choices"));
        assert_eq!(usage.unwrap().input_tokens, 3);
        // A server that reports no usage: estimated.
        let c = parse_response(
            &json!({"choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "12345"}}]}),
            7,
        )
        .unwrap();
        assert_eq!(
            c.usage,
            TokenUsage {
                input_tokens: 7,
                output_tokens: 2,
                estimated: true
            }
        );
    }

    fn data(v: Value) -> SseEvent {
        SseEvent {
            event: None,
            data: v.to_string(),
        }
    }

    #[test]
    fn assembles_streamed_text_tool_call_deltas_and_usage() {
        let seen = Mutex::new(String::new());
        let on_text = |t: &str| seen.lock().unwrap().push_str(t);
        let mut s = StreamState::default();
        let chunk = |delta: Value, finish: Value| {
            data(
                json!({"id": "c", "object": "chat.completion.chunk", "model": "m-1",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": null}),
            )
        };
        let events = [
            chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(json!({"content": "Let me "}), Value::Null),
            chunk(json!({"content": "check."}), Value::Null),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                    "function": {"name": "gc", "arguments": ""}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                    "function": {"name": "tm", "arguments": "{\"p\":"}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"seq\":"}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"AC\"}"}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "function": {"arguments": "\"GG\"}"}}]}),
                Value::Null,
            ),
            chunk(json!({}), json!("tool_calls")),
        ];
        for e in &events {
            assert!(!s.event(e, Some(&on_text)).unwrap());
        }
        assert!(s.complete_without_marker());
        let usage = data(
            json!({"id": "c", "object": "chat.completion.chunk", "model": "m-1",
            "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 12, "total_tokens": 32}}),
        );
        assert!(!s.event(&usage, None).unwrap());
        let done = SseEvent {
            event: None,
            data: "[DONE]".into(),
        };
        assert!(s.event(&done, None).unwrap());
        let c = s.assembly().completion(999);
        assert_eq!(*seen.lock().unwrap(), "Let me check.");
        assert_eq!(c.text, "Let me check.");
        assert_eq!(c.model, "m-1");
        assert_eq!(c.stop_reason, "tool_calls");
        assert_eq!(
            c.tool_calls,
            vec![
                ToolCall {
                    id: "call_a".into(),
                    name: "gc".into(),
                    arguments: "{\"seq\":\"AC\"}".into()
                },
                ToolCall {
                    id: "call_b".into(),
                    name: "tm".into(),
                    arguments: "{\"p\":\"GG\"}".into()
                },
            ]
        );
        assert_eq!(
            c.usage,
            TokenUsage {
                input_tokens: 20,
                output_tokens: 12,
                estimated: false
            }
        );
    }

    #[test]
    fn a_mid_stream_error_is_reported() {
        let mut s = StreamState::default();
        let e = s
            .event(
                &data(json!({"error": {"message": "server overloaded", "type": "server_error"}})),
                None,
            )
            .unwrap_err();
        assert!(e.contains("server overloaded"), "{e}");
        let e = s
            .event(
                &SseEvent {
                    event: None,
                    data: "{not json".into(),
                },
                None,
            )
            .unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
    }
}
