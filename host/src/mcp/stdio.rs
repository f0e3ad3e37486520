//! MCP over stdin/stdout. Nothing but protocol messages goes to stdout; logs
//! go to stderr (the binary configures that before calling [`serve`]).

use rmcp::ServiceExt;

use super::McpServer;

/// Why serving MCP over stdio stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// The transport could not start (stdin/stdout unusable).
    #[error("MCP over stdio could not start: {0}")]
    Start(String),
    /// The session ended with an error.
    #[error("the MCP stdio session ended abnormally: {0}")]
    Session(String),
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub async fn serve(server: McpServer) -> Result<(), StdioError> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| StdioError::Start(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| StdioError::Session(e.to_string()))?;
    Ok(())
}
