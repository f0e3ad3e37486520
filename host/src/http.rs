//! The HTTP front: health, the tool list, and MCP at `/mcp`.
//!
//! Layers, outermost first: (authentication goes here with the auth issue:
//! one tower layer in [`app`] in front of every route), then per route:
//! rmcp's Origin/Host validation and request-size limit on `/mcp`.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::mcp::McpServer;
use crate::mcp::http::McpHttpConfig;

/// The axum application serving the tools of `catalog`.
pub fn app(catalog: Arc<Catalog>, mcp: &McpHttpConfig) -> Router {
    let server = McpServer::new(catalog.clone()).with_state_key(&mcp.state_key);
    Router::new()
        .route("/healthz", get(health))
        .route("/tools", get(tools))
        .nest_service("/mcp", crate::mcp::http::service(server, mcp))
        .with_state(catalog)
}

async fn health(State(catalog): State<Arc<Catalog>>) -> Json<Value> {
    let registry = catalog.registry();
    Json(json!({
        "status": "ok",
        "plugins": registry.plugins().count(),
        "tools": registry.tools().count(),
    }))
}

async fn tools(State(catalog): State<Arc<Catalog>>) -> Json<Value> {
    let registry = catalog.registry();
    Json(json!({ "tools": registry.tools().collect::<Vec<_>>() }))
}
