//! MCP over Streamable HTTP, as a tower service mounted at `/mcp`.
//!
//! rmcp serves both eras on one endpoint: 2026-07-28 requests statelessly,
//! 2025-11-25 clients with `initialize`, sessions, the GET stream and
//! resumability. Origin and Host validation and the request-size limit are
//! configured here from [`McpHttpConfig`].

use std::sync::Arc;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::McpServer;

/// Security settings of the HTTP endpoint.
#[derive(Debug, Clone)]
pub struct McpHttpConfig {
    /// Browser origins allowed to call (`scheme://host[:port|:*]`); a request
    /// with any other `Origin` gets 403. Requests without `Origin` (native
    /// clients) pass.
    pub allowed_origins: Vec<String>,
    /// `Host` header values accepted (DNS-rebinding protection); empty
    /// accepts any host (only sensible behind a proxy that checks it).
    pub allowed_hosts: Vec<String>,
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_request_bytes: usize,
    /// Cancelled on shutdown: ends every open stream.
    pub shutdown: CancellationToken,
    /// Seals input-required rounds (random by default).
    pub state_key: super::StateKey,
}

impl Default for McpHttpConfig {
    fn default() -> Self {
        Self {
            allowed_origins: default_origins(),
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            max_request_bytes: 4 * 1024 * 1024,
            shutdown: CancellationToken::new(),
            state_key: super::StateKey::random(),
        }
    }
}

/// Pages served from this machine (the web UI in development) may call.
pub fn default_origins() -> Vec<String> {
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
        .into_iter()
        .map(String::from)
        .collect()
}

/// The MCP endpoint as a tower service, to mount with `nest_service("/mcp", ..)`.
pub fn service(
    server: McpServer,
    config: &McpHttpConfig,
) -> StreamableHttpService<McpServer, LocalSessionManager> {
    let mut http = StreamableHttpServerConfig::default()
        .with_allowed_origins(config.allowed_origins.clone())
        .enforce_origin_validation()
        // A plain JSON response when the call sends no notifications first
        // (cheaper than an SSE stream); rmcp falls back to SSE otherwise.
        .with_json_response(true)
        .with_max_request_body_bytes(config.max_request_bytes)
        .with_cancellation_token(config.shutdown.child_token());
    http = if config.allowed_hosts.is_empty() {
        http.disable_allowed_hosts()
    } else {
        http.with_allowed_hosts(config.allowed_hosts.clone())
    };
    StreamableHttpService::new(
        move || Ok(server.session()),
        Arc::new(LocalSessionManager::default()),
        http,
    )
}

impl McpHttpConfig {
    /// The endpoint's settings from the host's [`Settings`](crate::config::Settings).
    pub fn from_settings(settings: &crate::config::Settings, shutdown: CancellationToken) -> Self {
        Self {
            allowed_origins: settings.allowed_origins.clone(),
            allowed_hosts: settings.allowed_hosts.clone(),
            shutdown,
            ..Self::default()
        }
    }
}
