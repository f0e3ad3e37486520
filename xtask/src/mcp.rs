//! The MCP test tools: the official TypeScript clients, the MCP Inspector
//! and the conformance suite from npm (pinned in tests/mcp/package-lock.json,
//! with the Node 24 binary the conformance suite needs), installed into
//! tests/mcp/node_modules.

use std::process::Command;

use anyhow::{Context, Result};

use crate::{root, run};

/// Installs tests/mcp's locked packages unless the installed tree matches
/// the lock file. `npm install` (not `npm ci`): a transitive optional
/// dependency (vite's `napi-windows-process-start-time`) is absent from the
/// registry, which `npm ci` treats as a lock mismatch; `npm install` skips
/// it and still installs exactly the locked versions.
pub fn node_clients() -> Result<()> {
    let dir = root().join("tests/mcp");
    let lock = std::fs::read_to_string(dir.join("package-lock.json"))
        .context("reading tests/mcp/package-lock.json")?;
    let marker = dir.join("node_modules/.bioai-installed-lock");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(lock.as_str())
        && dir.join("node_modules/.bin/node").exists()
    {
        return Ok(());
    }
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir))
    .context("npm (Node.js) is needed to install the MCP test clients")?;
    std::fs::write(&marker, lock)?;
    Ok(())
}
