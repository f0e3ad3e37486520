//! The HTTP front: health and the tool list. The MCP endpoint mounts here.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::registry::Registry;

/// The axum application serving `registry`.
pub fn app(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/tools", get(tools))
        .with_state(registry)
}

async fn health(State(registry): State<Arc<Registry>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "plugins": registry.plugins().count(),
        "tools": registry.tools().count(),
    }))
}

async fn tools(State(registry): State<Arc<Registry>>) -> Json<Value> {
    Json(json!({ "tools": registry.tools().collect::<Vec<_>>() }))
}
