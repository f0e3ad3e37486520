//! Read-only resources: each plugin's WIT contract and the policy it runs
//! under, so a client (or an operator) can see exactly what a tool may do.
//!
//! URIs: `bioai://plugins/{plugin}/wit` and `bioai://plugins/{plugin}/policy`;
//! files that host tools' results link to (the Python sandbox's output files,
//! `bioai-sandbox://{run}/{name}`) are readable too. The resources and URI
//! templates plugins offer themselves (`bioai:plugin/resources`) are listed
//! after these; reading them is the registry's (see `McpServer::read_resource`).

use rmcp::ErrorData;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};

use super::convert;
use crate::registry::{Plugin, Registry};

const PREFIX: &str = "bioai://plugins/";

/// Every plugin's two resources, then the resources plugins offer.
pub(super) fn list(registry: &Registry) -> Vec<Resource> {
    let mut out = Vec::new();
    for plugin in registry.plugins() {
        let name = &plugin.name;
        out.push(
            Resource::new(format!("{PREFIX}{name}/wit"), format!("{name}.wit"))
                .with_title(format!("WIT contract of the `{name}` plugin"))
                .with_description("The component's imports and exports, printed as WIT.")
                .with_mime_type("text/x-wit")
                .with_size(plugin.wit.len() as u64),
        );
        out.push(
            Resource::new(format!("{PREFIX}{name}/policy"), format!("{name}.policy"))
                .with_title(format!("Capability policy of the `{name}` plugin"))
                .with_description(
                    "Directories, network hosts, environment and limits the plugin runs with.",
                )
                .with_mime_type("application/toml"),
        );
    }
    out.extend(
        registry
            .plugin_resources()
            .map(|(_, r)| convert::resource(r)),
    );
    out
}

/// The URI templates behind [`list`], then the templates plugins serve.
pub(super) fn templates(registry: &Registry) -> Vec<ResourceTemplate> {
    let mut out = vec![
        ResourceTemplate::new(format!("{PREFIX}{{plugin}}/wit"), "plugin-wit")
            .with_title("A plugin's WIT contract")
            .with_mime_type("text/x-wit"),
        ResourceTemplate::new(format!("{PREFIX}{{plugin}}/policy"), "plugin-policy")
            .with_title("A plugin's capability policy")
            .with_mime_type("application/toml"),
        ResourceTemplate::new(
            format!("{}{{run}}/{{name}}", crate::sandbox::OUTPUT_SCHEME),
            "sandbox-output",
        )
        .with_title("A file a sandbox.run_python run wrote to out/")
        .with_description("Linked from the run's result (files[].uri); kept after the run."),
    ];
    out.extend(
        registry
            .plugin_templates()
            .map(|(_, t)| convert::template(t)),
    );
    out
}

/// Whether `uri` names a resource: one of ours, a linked file, or one a
/// plugin lists or serves through a template.
pub(super) fn exists(registry: &Registry, uri: &str) -> bool {
    let ours = uri
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(name, what)| {
            registry.plugin(name).is_some() && matches!(what, "wit" | "policy")
        });
    ours || registry
        .host_tools()
        .any(|t| t.resource_file(uri).is_some())
        || registry.resource_owner(uri).is_some()
}

/// The largest linked file served through resources/read.
const MAX_LINKED_FILE: u64 = 64 << 20;

/// Reads a file a host tool's result linked to, if `uri` is one.
fn read_linked(registry: &Registry, uri: &str) -> Option<Result<ReadResourceResult, ErrorData>> {
    let (path, media_type) = registry.host_tools().find_map(|t| t.resource_file(uri))?;
    let read = || -> Result<ReadResourceResult, String> {
        let size = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        if size > MAX_LINKED_FILE {
            return Err(format!(
                "the file is {size} bytes, more than the {MAX_LINKED_FILE} bytes served over MCP"
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        let contents = match String::from_utf8(bytes) {
            Ok(text) => ResourceContents::text(text, uri),
            Err(e) => {
                use base64::Engine as _;
                let blob = base64::engine::general_purpose::STANDARD.encode(e.into_bytes());
                ResourceContents::blob(blob, uri)
            }
        };
        Ok(ReadResourceResult::new(vec![
            contents.with_mime_type(media_type),
        ]))
    };
    Some(read().map_err(|e| {
        ErrorData::internal_error(
            format!("cannot read `{uri}`: {e}"),
            Some(serde_json::json!({ "uri": uri })),
        )
    }))
}

/// Reads one resource.
pub(super) fn read(registry: &Registry, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let not_found = || {
        ErrorData::resource_not_found(
            format!(
                "no resource `{uri}`; see resources/list and resources/templates/list for what there is"
            ),
            Some(serde_json::json!({ "uri": uri })),
        )
    };
    if let Some(linked) = read_linked(registry, uri) {
        return linked;
    }
    let rest = uri.strip_prefix(PREFIX).ok_or_else(not_found)?;
    let (name, what) = rest.split_once('/').ok_or_else(not_found)?;
    let plugin = registry
        .plugins()
        .find(|p| p.name == name)
        .ok_or_else(not_found)?;
    let contents = match what {
        "wit" => ResourceContents::text(plugin.wit.clone(), uri).with_mime_type("text/x-wit"),
        "policy" => {
            ResourceContents::text(policy_text(plugin), uri).with_mime_type("application/toml")
        }
        _ => return Err(not_found()),
    };
    Ok(ReadResourceResult::new(vec![contents]))
}

/// The policy file as written, or a description of the default-deny policy.
fn policy_text(plugin: &Plugin) -> String {
    if let Some(path) = &plugin.policy.source
        && let Ok(text) = std::fs::read_to_string(path)
    {
        return text;
    }
    let l = &plugin.policy.limits;
    format!(
        "# No policy file for `{name}`: default deny (no directories, no workspace,\n\
         # no network, no environment) with the default limits.\n\
         plugin = \"{name}\"\n\n[limits]\nfuel = {fuel}\nmemory_mib = {mem}\ntimeout_ms = {timeout}\n",
        name = plugin.name,
        fuel = l.fuel,
        mem = l.memory_bytes / (1024 * 1024),
        timeout = l.timeout.as_millis(),
    )
}
