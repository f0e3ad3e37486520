//! What a plugin offers besides tools, through the optional exports of
//! `bioai:plugin` (see `wit/plugin.wit`): prompts (`prompts`), resources and
//! URI templates (`resources`), argument completion (`completions`) and
//! tool parameters mirrored into HTTP headers (`headers`).
//!
//! The registry reads the listings once when it loads a plugin and routes
//! requests to the plugin that listed the prompt, resource or template. The
//! types here are the listings as the plugin returned them, decoded from
//! their JSON form (`bioai-witjson`: snake_case fields, `null` for `none`).
//! This module knows nothing of MCP.

use serde::{Deserialize, Serialize};

/// The export name of the `prompts` interface.
pub(crate) const PROMPTS_INTERFACE: &str = "bioai:plugin/prompts@0.1.0";
/// The export name of the `resources` interface.
pub(crate) const RESOURCES_INTERFACE: &str = "bioai:plugin/resources@0.1.0";
/// The export name of the `completions` interface.
pub(crate) const COMPLETIONS_INTERFACE: &str = "bioai:plugin/completions@0.1.0";
/// The export name of the `headers` interface.
pub(crate) const HEADERS_INTERFACE: &str = "bioai:plugin/headers@0.1.0";
/// The export name of the `tool-details` interface.
pub(crate) const TOOL_DETAILS_INTERFACE: &str = "bioai:plugin/tool-details@0.1.0";

/// Whether `export_name` is one of the optional interfaces handled here
/// (their functions are not tools).
pub(crate) fn is_extra_interface(export_name: &str) -> bool {
    [
        PROMPTS_INTERFACE,
        RESOURCES_INTERFACE,
        COMPLETIONS_INTERFACE,
        HEADERS_INTERFACE,
        TOOL_DETAILS_INTERFACE,
    ]
    .contains(&export_name)
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptArgument {
    /// The argument's name.
    pub name: String,
    /// A human-readable title.
    pub title: Option<String>,
    /// What the argument means.
    pub description: Option<String>,
    /// Whether the prompt needs it.
    pub required: bool,
}

/// A prompt a plugin lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptInfo {
    /// The prompt's name within the plugin (without the namespace).
    pub name: String,
    /// A human-readable title.
    pub title: Option<String>,
    /// What the prompt is for.
    pub description: String,
    /// The arguments it takes.
    pub arguments: Vec<PromptArgument>,
}

/// A fixed resource a plugin lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceInfo {
    /// Its URI.
    pub uri: String,
    /// A short name.
    pub name: String,
    /// A human-readable title.
    pub title: Option<String>,
    /// What it holds.
    pub description: Option<String>,
    /// Its media type, if known.
    pub mime_type: Option<String>,
    /// Its size in bytes, if known.
    pub size: Option<u64>,
}

/// A URI template a plugin serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateInfo {
    /// The URI template (RFC 6570, see [`match_template`]).
    pub uri_template: String,
    /// A short name.
    pub name: String,
    /// A human-readable title.
    pub title: Option<String>,
    /// What the resources hold.
    pub description: Option<String>,
    /// Their media type, if the same for all.
    pub mime_type: Option<String>,
}

/// A tool parameter clients also send as the `Mcp-Param-<header>` HTTP
/// header (MCP `x-mcp-header`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderParam {
    /// The exported function's WIT name.
    pub tool: String,
    /// The parameter's WIT name.
    pub param: String,
    /// The header name after `Mcp-Param-`.
    pub header: String,
}

impl HeaderParam {
    /// Whether `header` is usable in `Mcp-Param-<header>`: ASCII letters,
    /// digits and `-`, not empty.
    pub fn valid_header(&self) -> bool {
        !self.header.is_empty()
            && self
                .header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }
}

/// More about one tool than its WIT signature says (`tool-details`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolDetail {
    /// The exported function's name as written in WIT.
    pub tool: String,
    /// Its name within the namespace, instead of the WIT name's.
    pub name: Option<String>,
    /// A JSON Schema 2020-12 for its arguments, as text.
    pub input_schema: Option<String>,
    /// Client capabilities it cannot work without (`sampling`,
    /// `elicitation`, `roots`).
    pub requires: Vec<String>,
    /// Descriptions and defaults of its arguments. Absent from the
    /// listings of components built before the field existed.
    #[serde(default)]
    pub arguments: Vec<ArgumentDetail>,
}

/// What a tool's input schema says of one argument beyond its type
/// (`tool-details`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgumentDetail {
    /// The parameter's WIT name.
    pub name: String,
    /// What the argument is.
    pub description: Option<String>,
    /// The value the tool uses when the argument is absent, as JSON text.
    pub default_json: Option<String>,
}

/// Everything a plugin listed at load time besides its tools.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PluginExtras {
    /// Its prompts (`prompts.list-prompts`).
    pub prompts: Vec<PromptInfo>,
    /// Its fixed resources (`resources.list-resources`).
    pub resources: Vec<ResourceInfo>,
    /// Its URI templates (`resources.list-templates`).
    pub templates: Vec<TemplateInfo>,
    /// Its tool parameters mirrored into headers (`headers.header-params`).
    pub header_params: Vec<HeaderParam>,
    /// More about its tools (`tool-details.tool-details`).
    pub tool_details: Vec<ToolDetail>,
}

/// What an argument completion is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionRef {
    /// An argument of the prompt with this (full, namespaced) name.
    Prompt(String),
    /// A variable of the resource template with this URI template.
    Template(String),
}

/// Why a prompt, resource or completion request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExtraError {
    /// No plugin offers what was asked for.
    #[error("{0}")]
    NotFound(String),
    /// The plugin refused the request with a message (e.g. a missing
    /// prompt argument): the client's to fix.
    #[error("{0}")]
    Refused(String),
    /// The plugin failed (trapped, ran out of a limit) or returned data the
    /// host cannot use: the plugin's author's to fix.
    #[error("{0}")]
    Failed(String),
}

/// One piece of a parsed URI template.
#[derive(Debug, PartialEq)]
enum Part<'a> {
    Literal(&'a str),
    /// A variable: its name, and whether it may span `/` (`{+name}`,
    /// `{#name}` and the other operators) or not (`{name}`).
    Var(&'a str, bool),
}

fn parse_template(template: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let open = rest.find('{');
        let close = open.and_then(|o| rest[o..].find('}').map(|c| o + c));
        match (open, close) {
            (Some(o), Some(c)) => {
                if o > 0 {
                    parts.push(Part::Literal(&rest[..o]));
                }
                let expr = &rest[o + 1..c];
                let (name, any) = match expr.chars().next() {
                    Some(op @ ('+' | '#' | '.' | '/' | ';' | '?' | '&')) => {
                        (&expr[op.len_utf8()..], true)
                    }
                    _ => (expr, false),
                };
                parts.push(Part::Var(name, any));
                rest = &rest[c + 1..];
            }
            _ => {
                parts.push(Part::Literal(rest));
                break;
            }
        }
    }
    parts
}

fn match_parts(parts: &[Part<'_>], uri: &str) -> Option<Vec<(String, String)>> {
    let Some((first, rest)) = parts.split_first() else {
        return uri.is_empty().then(Vec::new);
    };
    match first {
        Part::Literal(l) => match_parts(rest, uri.strip_prefix(l)?),
        Part::Var(name, any) => {
            let ends = uri
                .char_indices()
                .map(|(i, _)| i)
                .skip(1)
                .chain([uri.len()]);
            for end in ends.filter(|&end| end > 0) {
                let value = &uri[..end];
                if !any && value.contains('/') {
                    break;
                }
                if let Some(mut vars) = match_parts(rest, &uri[end..]) {
                    vars.insert(0, ((*name).to_string(), value.to_string()));
                    return Some(vars);
                }
            }
            None
        }
    }
}

/// Matches `uri` against an RFC 6570 URI template and returns the
/// variables' values, or `None` when it does not match.
///
/// `{name}` matches one or more characters other than `/`; `{+name}` (and
/// the other operators) match one or more of any character. Values are
/// returned as they appear in the URI (not percent-decoded).
pub fn match_template(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
    match_parts(&parse_template(template), uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn templates_match_simple_variables() {
        let t = "test://template/{id}/data";
        assert_eq!(
            match_template(t, "test://template/123/data"),
            vars(&[("id", "123")])
        );
        assert_eq!(match_template(t, "test://template//data"), None);
        assert_eq!(match_template(t, "test://template/1/2/data"), None);
        assert_eq!(match_template(t, "test://template/123/data/x"), None);
        assert_eq!(match_template(t, "other://template/123/data"), None);
    }

    #[test]
    fn templates_match_reserved_variables_and_several() {
        assert_eq!(
            match_template("file:///{+path}", "file:///a/b/c.txt"),
            vars(&[("path", "a/b/c.txt")])
        );
        assert_eq!(
            match_template("db://{table}/{key}", "db://genes/BRCA1"),
            vars(&[("table", "genes"), ("key", "BRCA1")])
        );
        assert_eq!(match_template("fixed://uri", "fixed://uri"), vars(&[]));
        assert_eq!(
            match_template("fixed://{unclosed", "fixed://{unclosed"),
            vars(&[])
        );
    }
}
