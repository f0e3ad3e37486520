//! The Anthropic Messages protocol (`POST {base}/v1/messages`).

use serde_json::{Value, json};

use super::sse::SseEvent;
use super::{
    Assembly, ChatRequest, Completion, LlmConfig, LlmError, OnText, Speaker, StreamEvents,
    TokenUsage,
};

/// The `anthropic-version` header sent.
pub(super) const VERSION: &str = "2023-06-01";

/// The request body for `request`: system messages become the `system`
/// prompt; tool results go as `tool_result` blocks of a user turn; turns of
/// the same role in a row are merged (parallel tool results must share one
/// user turn).
pub(super) fn request_body(config: &LlmConfig, request: &ChatRequest) -> Result<Value, LlmError> {
    let mut system: Vec<&str> = Vec::new();
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for m in &request.messages {
        let (role, blocks) = match m.speaker {
            Speaker::System => {
                system.push(&m.content);
                continue;
            }
            Speaker::User => ("user", vec![json!({ "type": "text", "text": m.content })]),
            Speaker::Assistant => {
                let mut blocks = Vec::new();
                if !m.content.is_empty() {
                    blocks.push(json!({ "type": "text", "text": m.content }));
                }
                for c in &m.tool_calls {
                    let input: Value = if c.arguments.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&c.arguments).map_err(|e| {
                            LlmError::InvalidRequest(format!(
                                "the arguments of tool call `{}` ({}) are not JSON ({e}): pass \
                                 the arguments the model produced, as a JSON object",
                                c.id, c.name
                            ))
                        })?
                    };
                    blocks.push(json!({
                        "type": "tool_use", "id": c.id, "name": c.name, "input": input,
                    }));
                }
                if blocks.is_empty() {
                    // Anthropic refuses empty text blocks; an empty turn says nothing.
                    continue;
                }
                ("assistant", blocks)
            }
            Speaker::Tool => {
                let id = m.tool_call_id.as_deref().ok_or_else(|| {
                    LlmError::InvalidRequest(
                        "a tool message has no tool_call_id: set it to the id of the call it \
                         answers"
                            .to_string(),
                    )
                })?;
                (
                    "user",
                    vec![json!({ "type": "tool_result", "tool_use_id": id, "content": m.content })],
                )
            }
        };
        match turns.last_mut() {
            Some((last, b)) if *last == role => b.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    let mut body = json!({
        "model": config.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
    });
    if !system.is_empty() {
        body["system"] = json!(system.join("\n\n"));
    }
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "description": t.description,
                    "input_schema": t.parameters,
                })
            })
            .collect();
    }
    if config.stream {
        body["stream"] = json!(true);
    }
    Ok(body)
}

/// Input tokens of a usage object: uncached, cache writes and cache reads.
fn input_tokens(u: &Value) -> Option<u64> {
    let base = u["input_tokens"].as_u64()?;
    Some(
        base + u["cache_creation_input_tokens"].as_u64().unwrap_or(0)
            + u["cache_read_input_tokens"].as_u64().unwrap_or(0),
    )
}

/// A non-streamed answer (a `message` object); usage the server did not
/// report is estimated. The error carries the usage if it was readable.
pub(super) fn parse_response(
    v: &Value,
    input_estimate: u64,
) -> Result<Completion, (String, Option<TokenUsage>)> {
    let reported_in = input_tokens(&v["usage"]);
    let reported_out = v["usage"]["output_tokens"].as_u64();
    let Some(content) = v["content"].as_array() else {
        let usage = reported_in.zip(reported_out).map(|(i, o)| TokenUsage {
            input_tokens: i,
            output_tokens: o,
            estimated: false,
        });
        return Err(("the answer has no `content` array".to_string(), usage));
    };
    let mut asm = Assembly {
        model: v["model"].as_str().unwrap_or_default().to_string(),
        stop_reason: v["stop_reason"].as_str().map(str::to_string),
        input_tokens: reported_in,
        output_tokens: reported_out,
        ..Assembly::default()
    };
    for (i, block) in content.iter().enumerate() {
        match block["type"].as_str() {
            Some("text") => asm
                .text
                .push_str(block["text"].as_str().unwrap_or_default()),
            Some("tool_use") => {
                let call = asm.call(i as u64);
                call.id = block["id"].as_str().unwrap_or_default().to_string();
                call.name = block["name"].as_str().unwrap_or_default().to_string();
                call.arguments = block["input"].to_string();
            }
            // Thinking and other blocks are not part of the answer's text.
            _ => {}
        }
    }
    Ok(asm.completion(input_estimate))
}

/// A streamed answer: `message_start`, content blocks (`content_block_start`,
/// `content_block_delta`, `content_block_stop`), `message_delta` and
/// `message_stop`, with `ping`s and possibly an `error` event.
#[derive(Debug, Default)]
pub(super) struct StreamState {
    asm: Assembly,
}

impl StreamEvents for StreamState {
    fn event(&mut self, event: &SseEvent, on_text: OnText<'_>) -> Result<bool, String> {
        if event.data.trim().is_empty() {
            return Ok(false);
        }
        let v: Value = serde_json::from_str(&event.data)
            .map_err(|e| format!("a streamed event is not JSON ({e})"))?;
        let kind = v["type"].as_str().or(event.event.as_deref()).unwrap_or("");
        match kind {
            "message_start" => {
                let m = &v["message"];
                if let Some(model) = m["model"].as_str() {
                    self.asm.model = model.to_string();
                }
                if let Some(i) = input_tokens(&m["usage"]) {
                    self.asm.input_tokens = Some(i);
                }
                // The output count here is provisional: message_delta's
                // replaces it, and only it counts as the provider's total.
            }
            "content_block_start" => {
                let index = v["index"].as_u64().unwrap_or(0);
                let block = &v["content_block"];
                match block["type"].as_str() {
                    Some("tool_use") => {
                        let call = self.asm.call(index);
                        call.id = block["id"].as_str().unwrap_or_default().to_string();
                        call.name = block["name"].as_str().unwrap_or_default().to_string();
                        // `input` is `{}` here; the arguments arrive as
                        // input_json_delta.
                    }
                    Some("text") => {
                        let text = block["text"].as_str().unwrap_or_default();
                        if !text.is_empty() {
                            self.asm.text.push_str(text);
                            if let Some(f) = on_text {
                                f(text);
                            }
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let index = v["index"].as_u64().unwrap_or(0);
                let delta = &v["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => {
                        let text = delta["text"].as_str().unwrap_or_default();
                        self.asm.text.push_str(text);
                        if let Some(f) = on_text
                            && !text.is_empty()
                        {
                            f(text);
                        }
                    }
                    Some("input_json_delta") => {
                        let part = delta["partial_json"].as_str().unwrap_or_default();
                        self.asm.call(index).arguments.push_str(part);
                    }
                    // Thinking, signatures, citations: not the answer's text.
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(r) = v["delta"]["stop_reason"].as_str() {
                    self.asm.stop_reason = Some(r.to_string());
                }
                // Counts here are cumulative totals.
                let u = &v["usage"];
                if let Some(o) = u["output_tokens"].as_u64() {
                    self.asm.output_tokens = Some(o);
                }
                if let Some(i) = input_tokens(u)
                    && i > 0
                {
                    self.asm.input_tokens = Some(i);
                }
            }
            "message_stop" => return Ok(true),
            "error" => {
                let e = &v["error"];
                return Err(format!(
                    "the provider reported an error mid-stream: {} ({})",
                    e["message"].as_str().unwrap_or_default(),
                    e["type"].as_str().unwrap_or("error")
                ));
            }
            // ping, content_block_stop and events added later.
            _ => {}
        }
        Ok(false)
    }

    fn complete_without_marker(&self) -> bool {
        false
    }

    fn assembly(&self) -> &Assembly {
        &self.asm
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ChatMessage, ProviderKind, ToolCall, ToolSpec};
    use super::*;
    use std::sync::Mutex;

    fn config(stream: bool) -> LlmConfig {
        LlmConfig {
            stream,
            ..LlmConfig::new(ProviderKind::Anthropic, "claude-test")
        }
    }

    #[test]
    fn maps_system_tool_use_and_merged_tool_results() {
        let req = ChatRequest {
            messages: vec![
                ChatMessage::system("be brief"),
                ChatMessage::system("use tools"),
                ChatMessage::user("GC and Tm?"),
                ChatMessage {
                    speaker: Speaker::Assistant,
                    content: "Checking.".into(),
                    tool_call_id: None,
                    tool_calls: vec![
                        ToolCall {
                            id: "toolu_1".into(),
                            name: "gc".into(),
                            arguments: "{\"seq\":\"ACGT\"}".into(),
                        },
                        ToolCall {
                            id: "toolu_2".into(),
                            name: "tm".into(),
                            arguments: String::new(),
                        },
                    ],
                },
                ChatMessage::tool_result("toolu_1", "0.5"),
                ChatMessage::tool_result("toolu_2", "12.0"),
            ],
            tools: vec![ToolSpec {
                name: "gc".into(),
                description: "GC content".into(),
                parameters: json!({"type": "object"}),
            }],
            max_tokens: 100,
            temperature: None,
        };
        let body = request_body(&config(true), &req).unwrap();
        assert_eq!(
            body,
            json!({
                "model": "claude-test",
                "max_tokens": 100,
                "stream": true,
                "system": "be brief\n\nuse tools",
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "GC and Tm?"}]},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Checking."},
                        {"type": "tool_use", "id": "toolu_1", "name": "gc", "input": {"seq": "ACGT"}},
                        {"type": "tool_use", "id": "toolu_2", "name": "tm", "input": {}},
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "0.5"},
                        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "12.0"},
                    ]},
                ],
                "tools": [{"name": "gc", "description": "GC content", "input_schema": {"type": "object"}}],
            })
        );
    }

    #[test]
    fn bad_tool_arguments_are_refused_before_sending() {
        let req = ChatRequest {
            messages: vec![ChatMessage {
                speaker: Speaker::Assistant,
                content: String::new(),
                tool_call_id: None,
                tool_calls: vec![ToolCall {
                    id: "t".into(),
                    name: "gc".into(),
                    arguments: "{oops".into(),
                }],
            }],
            tools: vec![],
            max_tokens: 1,
            temperature: None,
        };
        let e = request_body(&config(false), &req).unwrap_err().to_string();
        assert!(e.contains("not JSON"), "{e}");
    }

    #[test]
    fn parses_a_non_streamed_message() {
        let v = json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test-1",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_9", "name": "gc", "input": {"seq": "GG"}},
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 40, "output_tokens": 22,
                      "cache_read_input_tokens": 2, "cache_creation_input_tokens": 0}
        });
        let c = parse_response(&v, 0).unwrap();
        assert_eq!(c.text, "Let me check.");
        assert_eq!(c.stop_reason, "tool_use");
        assert_eq!(c.model, "claude-test-1");
        assert_eq!(
            c.tool_calls,
            vec![ToolCall {
                id: "toolu_9".into(),
                name: "gc".into(),
                arguments: "{\"seq\":\"GG\"}".into()
            }]
        );
        assert_eq!(
            c.usage,
            TokenUsage {
                input_tokens: 42,
                output_tokens: 22,
                estimated: false
            }
        );
    }

    fn ev(v: Value) -> SseEvent {
        SseEvent {
            event: v["type"].as_str().map(str::to_string),
            data: v.to_string(),
        }
    }

    #[test]
    fn assembles_streamed_text_tool_use_and_usage() {
        let seen = Mutex::new(String::new());
        let on_text = |t: &str| seen.lock().unwrap().push_str(t);
        let mut s = StreamState::default();
        let events = [
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                "role": "assistant", "content": [], "model": "claude-test-1", "stop_reason": null,
                "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
            json!({"type": "ping"}),
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": "Let me "}}),
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": "check."}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "content_block_start", "index": 1,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "gc", "input": {}}}),
            json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": ""}}),
            json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": "{\"seq\": \"A"}}),
            json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": "C\"}"}}),
            json!({"type": "content_block_stop", "index": 1}),
        ];
        for e in &events {
            assert!(!s.event(&ev(e.clone()), Some(&on_text)).unwrap());
        }
        // Cut here: input exact, output estimated.
        let partial = s.assembly().completion(999);
        assert_eq!(partial.usage.input_tokens, 25);
        assert!(partial.usage.estimated);
        let delta = json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": 31}});
        assert!(!s.event(&ev(delta), None).unwrap());
        assert!(s.event(&ev(json!({"type": "message_stop"})), None).unwrap());
        let c = s.assembly().completion(999);
        assert_eq!(*seen.lock().unwrap(), "Let me check.");
        assert_eq!(c.text, "Let me check.");
        assert_eq!(c.model, "claude-test-1");
        assert_eq!(c.stop_reason, "tool_use");
        assert_eq!(
            c.tool_calls,
            vec![ToolCall {
                id: "toolu_1".into(),
                name: "gc".into(),
                arguments: "{\"seq\": \"AC\"}".into()
            }]
        );
        assert_eq!(
            c.usage,
            TokenUsage {
                input_tokens: 25,
                output_tokens: 31,
                estimated: false
            }
        );
    }

    #[test]
    fn an_error_event_is_reported() {
        let mut s = StreamState::default();
        let e = s
            .event(
                &ev(json!({"type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"}})),
                None,
            )
            .unwrap_err();
        assert!(
            e.contains("Overloaded") && e.contains("overloaded_error"),
            "{e}"
        );
    }
}
