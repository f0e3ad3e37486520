//! Registry types to MCP types: tool definitions and call results, plugin
//! prompts and resource contents.

use std::sync::Arc;

use rmcp::model::{
    CallToolResult, ContentBlock, JsonObject, MetaObject, ResourceContents, ToolAnnotations,
};
use serde_json::{Value, json};

use super::METERS_META_KEY;
use crate::extras::{PromptInfo, ResourceInfo, TemplateInfo};
use crate::registry::{CallFailure, Tool, ToolOutcome};

/// A registry tool as an MCP tool definition.
pub(super) fn tool(t: &Tool) -> rmcp::model::Tool {
    let input = match &t.input_schema {
        Value::Object(o) => o.clone(),
        _ => JsonObject::new(),
    };
    let mut annotations = ToolAnnotations::new()
        .read_only(t.annotations.read_only_hint)
        .destructive(t.annotations.destructive_hint)
        .idempotent(t.annotations.idempotent_hint)
        .open_world(t.annotations.open_world_hint);
    if let Some(title) = &t.title {
        annotations.title = Some(title.clone());
    }
    let mut out = rmcp::model::Tool::new(t.name.clone(), t.description.clone(), Arc::new(input))
        .with_annotations(annotations);
    if let Some(title) = &t.title {
        out = out.with_title(title.clone());
    }
    if let Some(Value::Object(o)) = &t.output_schema {
        out = out.with_raw_output_schema(Arc::new(o.clone()));
    }
    out
}

/// A call's outcome as an MCP result: `structuredContent` plus a text
/// rendering on success, `isError` with the reason otherwise; the meters in
/// `_meta` either way.
pub(super) fn result(outcome: &ToolOutcome, returns_content: bool) -> CallToolResult {
    let mut meta = MetaObject::default();
    meta.0.insert(
        METERS_META_KEY.to_string(),
        serde_json::to_value(outcome.meters).unwrap_or(Value::Null),
    );
    let result = match &outcome.result {
        Ok(value) if returns_content => {
            let blocks = value.get("value").unwrap_or(value);
            match content_blocks(blocks) {
                Ok(content) => CallToolResult::success(content),
                Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
                    "the plugin returned malformed content: {e}"
                ))]),
            }
        }
        Ok(value) => {
            let text = serde_json::to_string_pretty(value).unwrap_or_default();
            let mut r = CallToolResult::structured(value.clone());
            r.content = vec![ContentBlock::text(text)];
            r
        }
        Err(failure) => {
            let message = error_text(failure);
            let mut r = CallToolResult::error(vec![ContentBlock::text(message)]);
            // Details that conform to the output schema go along (the
            // sandbox's traceback, stdout and files); clients do not
            // validate error results, but may show them.
            r.structured_content = match failure {
                CallFailure::ToolError {
                    partial: Some(v), ..
                } => Some(v.clone()),
                _ => None,
            };
            meta.0.insert(
                "io.bioaisaas/error".to_string(),
                json!({ "class": failure.class() }),
            );
            r
        }
    };
    result.with_meta(Some(meta))
}

fn error_text(failure: &CallFailure) -> String {
    match failure {
        CallFailure::ToolError { message, .. } => message.clone(),
        CallFailure::Failure(f) => f.to_string(),
    }
}

/// `list<block>` of `bioai:plugin/content`, as JSON from the component (see
/// `bioai-witjson`: `{"case": payload}`, bytes as arrays of numbers), to MCP
/// content blocks.
fn content_blocks(value: &Value) -> Result<Vec<ContentBlock>, String> {
    let items = value.as_array().ok_or("expected a list of blocks")?;
    items.iter().map(content_block).collect()
}

fn content_block(block: &Value) -> Result<ContentBlock, String> {
    let (case, payload) = block
        .as_object()
        .and_then(|o| o.iter().next())
        .ok_or("expected a block such as {\"text\": ...}")?;
    let str_field = |name: &str| payload.get(name).and_then(Value::as_str).map(String::from);
    Ok(match case.as_str() {
        "text" => ContentBlock::text(payload.as_str().ok_or("text must be a string")?),
        "image" | "audio" => {
            let data = base64_bytes(payload.get("data").ok_or("media without data")?)?;
            let mime = str_field("mime_type").ok_or("media without mime_type")?;
            if case == "image" {
                ContentBlock::image(data, mime)
            } else {
                ContentBlock::audio(data, mime)
            }
        }
        "resource" => {
            let uri = str_field("uri").ok_or("resource without uri")?;
            let mut contents = match (str_field("text"), payload.get("blob")) {
                (Some(text), _) => ResourceContents::text(text, uri),
                (None, Some(blob)) if !blob.is_null() => {
                    ResourceContents::blob(base64_bytes(blob)?, uri)
                }
                _ => return Err("resource with neither text nor blob".into()),
            };
            if let Some(mime) = str_field("mime_type") {
                contents = contents.with_mime_type(mime);
            }
            ContentBlock::resource(contents)
        }
        other => return Err(format!("unknown block `{other}`")),
    })
}

/// A JSON array of byte values, base64-encoded.
fn base64_bytes(value: &Value) -> Result<String, String> {
    use base64::Engine;
    let items = value.as_array().ok_or("bytes must be an array")?;
    let bytes = items
        .iter()
        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or("bytes must be numbers 0-255")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A plugin prompt as an MCP prompt definition, under its full name.
pub(super) fn prompt(name: &str, p: &PromptInfo) -> rmcp::model::Prompt {
    let arguments = p
        .arguments
        .iter()
        .map(|a| {
            let mut arg =
                rmcp::model::PromptArgument::new(a.name.clone()).with_required(a.required);
            if let Some(title) = &a.title {
                arg = arg.with_title(title.clone());
            }
            if let Some(description) = &a.description {
                arg = arg.with_description(description.clone());
            }
            arg
        })
        .collect::<Vec<_>>();
    let arguments = (!arguments.is_empty()).then_some(arguments);
    let mut out = rmcp::model::Prompt::new(name, Some(p.description.clone()), arguments);
    if let Some(title) = &p.title {
        out = out.with_title(title.clone());
    }
    out
}

/// The `rendered` record of `bioai:plugin/prompts` (as JSON) as an MCP
/// prompt result.
pub(super) fn rendered_prompt(value: &Value) -> Result<rmcp::model::GetPromptResult, String> {
    let messages = value
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("a rendered prompt without messages")?
        .iter()
        .map(|m| {
            let role = match m.get("role").and_then(Value::as_str) {
                Some("user") => rmcp::model::Role::User,
                Some("assistant") => rmcp::model::Role::Assistant,
                other => return Err(format!("unknown message role {other:?}")),
            };
            let content = content_block(m.get("content").unwrap_or(&Value::Null))?;
            Ok(rmcp::model::PromptMessage::new(role, content))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut result = rmcp::model::GetPromptResult::new(messages);
    result.description = value
        .get("description")
        .and_then(Value::as_str)
        .map(String::from);
    Ok(result)
}

/// A plugin resource as an MCP resource listing entry.
pub(super) fn resource(r: &ResourceInfo) -> rmcp::model::Resource {
    let mut out = rmcp::model::Resource::new(r.uri.clone(), r.name.clone());
    if let Some(title) = &r.title {
        out = out.with_title(title.clone());
    }
    if let Some(description) = &r.description {
        out = out.with_description(description.clone());
    }
    if let Some(mime) = &r.mime_type {
        out = out.with_mime_type(mime.clone());
    }
    if let Some(size) = r.size {
        out = out.with_size(size);
    }
    out
}

/// A plugin URI template as an MCP resource template.
pub(super) fn template(t: &TemplateInfo) -> rmcp::model::ResourceTemplate {
    let mut out = rmcp::model::ResourceTemplate::new(t.uri_template.clone(), t.name.clone());
    if let Some(title) = &t.title {
        out = out.with_title(title.clone());
    }
    if let Some(description) = &t.description {
        out = out.with_description(description.clone());
    }
    if let Some(mime) = &t.mime_type {
        out = out.with_mime_type(mime.clone());
    }
    out
}

/// A list of `embedded-resource` records (as JSON) as MCP resource contents.
pub(super) fn resource_contents(value: &Value) -> Result<Vec<ResourceContents>, String> {
    let items = value.as_array().ok_or("expected a list of contents")?;
    if items.is_empty() {
        return Err("the plugin returned no contents".into());
    }
    items
        .iter()
        .map(|item| match content_block(&json!({ "resource": item }))? {
            ContentBlock::Resource(r) => Ok(r.resource),
            _ => Err("expected resource contents".to_string()),
        })
        .collect()
}
