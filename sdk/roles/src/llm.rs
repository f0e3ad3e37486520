//! Small helpers for talking to the run's LLM.

use crate::host::Host;
use bioai_sdk::agent::{CompletionRequest, Speaker, ToolSpec, message};
use serde_json::Value;

/// Asks the LLM with a system prompt and one user message; returns its text.
pub fn ask(
    host: &mut dyn Host,
    system: &str,
    user: &str,
    max_tokens: u32,
) -> Result<String, String> {
    let request = CompletionRequest {
        messages: vec![
            message(Speaker::System, system),
            message(Speaker::User, user),
        ],
        tools: Vec::<ToolSpec>::new(),
        max_tokens,
        temperature: Some(0.0),
    };
    host.complete(&request).map(|c| c.text)
}

/// The first JSON object in a model's answer: the whole text, a fenced
/// code block, or the span from the first `{` to its matching `}`.
pub fn extract_json_object(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    let bytes = trimmed.as_bytes();
    let mut start = 0;
    while let Some(off) = trimmed[start..].find('{') {
        let open = start + off;
        let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
        for (i, &b) in bytes.iter().enumerate().skip(open) {
            if in_str {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(v @ Value::Object(_)) = serde_json::from_str(&trimmed[open..=i]) {
                            return Some(v);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
        start = open + 1;
    }
    None
}

/// `text` cut to at most `max` bytes (at a character boundary), with a note
/// when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... [{} more bytes]", &text[..end], text.len() - end)
}
