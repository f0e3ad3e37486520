//! The `bioai` command line: parse arguments, build the host, run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use bioai::catalog::Catalog;
use bioai::config::Settings;
use bioai::mcp::http::McpHttpConfig;
use bioai::mcp::{McpServer, StateKey};
use bioai::policy::{Policy, PolicySet};
use bioai::registry::{CallContext, Registry};
use bioai::runtime::{Runtime, RuntimeConfig};
use clap::{Args, Parser, Subcommand};
use serde_json::json;

/// BioAiSaaS host: biomedical tools and agents as sandboxed WebAssembly components.
#[derive(Parser)]
#[command(name = "bioai", version, about)]
struct Cli {
    #[command(flatten)]
    dirs: Dirs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Dirs {
    /// Also load the plugins (*.wasm) of this directory (repeatable).
    #[arg(long = "plugins", value_name = "DIR", global = true)]
    plugins: Vec<PathBuf>,
    /// Also load the policies (*.toml) of this directory (repeatable).
    #[arg(long = "policies", value_name = "DIR", global = true)]
    policies: Vec<PathBuf>,
    /// Where the host keeps its state [env: BIOAI_DATA_DIR] [default: .bioai].
    #[arg(long = "data-dir", value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Where compiled components are cached; hosts may share one
    /// [env: BIOAI_CACHE_DIR] [default: <data-dir>/cache/components].
    #[arg(long = "cache-dir", value_name = "DIR", global = true)]
    cache_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve over HTTP (loopback by default).
    Serve {
        /// Listen address [env: BIOAI_BIND] [default: 127.0.0.1:8787].
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
    },
    /// Speak MCP over stdin/stdout (for desktop clients that start the server
    /// themselves); logs go to stderr.
    Stdio,
    /// Call one tool and print its result and meters as JSON.
    Call {
        /// The tool, e.g. `seq.gc_content`.
        tool: String,
        /// The arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
    },
    /// Plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The database [env: BIOAI_DATABASE_URL] [default: sqlite://<data-dir>/bioai.db].
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Subcommand)]
enum DbCommand {
    /// Apply pending migrations (the host also does this at start-up).
    Migrate,
    /// Print the applied and pending migrations and the row counts.
    Status,
}

#[derive(Subcommand)]
enum PluginCommand {
    /// List the loaded plugins and their tools.
    List,
    /// Print a component's tools, their JSON schemas and the policy that would apply.
    Inspect {
        /// The component file, or the name of a plugin in the plugin
        /// directories (e.g. `crispr` for `<dir>/crispr.wasm`).
        plugin: PathBuf,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate the policy files of directories; prints every error with file and line.
    Check {
        /// Directories to check.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    // SAFETY: the first statement of `main`; no other thread exists yet.
    unsafe { bioai::tune_process() };
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// `e` and its causes joined by ": ", leaving out a cause whose text is
/// already in the message: many of our errors say what their source said
/// (so they read well on their own, e.g. in a log line) and also expose it
/// as their source, and `{:#}` repeated it once per level.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BIOAI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn settings(dirs: &Dirs) -> Settings {
    let mut s = Settings::from_env();
    s.plugin_dirs.extend(dirs.plugins.iter().cloned());
    s.policy_dirs.extend(dirs.policies.iter().cloned());
    if let Some(d) = &dirs.data_dir {
        s.data_dir = d.clone();
    }
    if let Some(d) = &dirs.cache_dir {
        s.compiled_cache = Some(d.clone());
    }
    s
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let settings = settings(&cli.dirs);
    match cli.command {
        Command::Serve { bind } => serve(settings, bind).await,
        Command::Stdio => stdio(settings).await,
        Command::Call { tool, args } => call(settings, &tool, &args).await,
        Command::Plugin(PluginCommand::List) => list(settings).await,
        Command::Plugin(PluginCommand::Inspect { plugin }) => {
            let file = component_file(&plugin, &settings.plugin_dirs)?;
            inspect(settings, &file).await
        }
        Command::Policy(PolicyCommand::Check { dirs }) => Ok(check_policies(&dirs)),
        Command::Db(command) => db(settings, command).await,
    }
}

async fn serve(settings: Settings, bind: Option<std::net::SocketAddr>) -> Result<ExitCode> {
    let state_key = StateKey::for_settings(&settings)?;
    let catalog = Catalog::new(bioai::start(&settings).await?, &settings);
    let _swarm = bioai::start_agents(&settings, &catalog, true).await?;
    let addr = bind.unwrap_or(settings.bind);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen on {addr} (is another server running there? choose another with --bind)"
        )
    })?;
    let addr = listener.local_addr().unwrap_or(addr);
    let registry = catalog.registry();
    tracing::info!(
        %addr,
        plugins = registry.plugins().count(),
        tools = registry.tools().count(),
        "serving MCP at http://{addr}/mcp; GET /healthz, GET /tools; \
         plugins reload on change or on SIGHUP"
    );
    drop(registry);
    let watcher = tokio::spawn(catalog.clone().watch(WATCH_INTERVAL));
    let reloader = tokio::spawn(reload_on_hangup(catalog.clone()));
    let recorder = catalog.registry().recorder().cloned();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut mcp = McpHttpConfig::from_settings(&settings, shutdown.clone());
    mcp.state_key = state_key;
    let stop = shutdown.clone();
    // No Nagle delay: MCP responses are small and latency-bound.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
    });
    axum::serve(listener, bioai::http::app(catalog, &mcp))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Ends open SSE streams so the graceful shutdown can finish.
            stop.cancel();
        })
        .await
        .context("the HTTP server failed")?;
    watcher.abort();
    reloader.abort();
    // No more calls: write every queued call record before exiting.
    if let Some(recorder) = recorder {
        recorder.shutdown().await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How often the plugin and policy directories are checked for changes.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Reloads the plugins on SIGHUP: the operator's explicit reload command.
async fn reload_on_hangup(catalog: Arc<Catalog>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match catalog.reload().await {
                Ok(tools) => tracing::info!(tools, "reloaded on SIGHUP"),
                Err(e) => {
                    tracing::error!("reload on SIGHUP failed; keeping the previous plugins: {e}")
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = catalog;
    }
}

async fn stdio(settings: Settings) -> Result<ExitCode> {
    let state_key = StateKey::for_settings(&settings)?;
    let catalog = Catalog::new(bioai::start(&settings).await?, &settings);
    let _swarm = bioai::start_agents(&settings, &catalog, true).await?;
    let watcher = tokio::spawn(catalog.clone().watch(WATCH_INTERVAL));
    bioai::mcp::stdio::serve(McpServer::new(catalog.clone()).with_state_key(&state_key)).await?;
    watcher.abort();
    catalog.registry().shutdown_recorder().await?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn call(settings: Settings, tool: &str, args: &str) -> Result<ExitCode> {
    let args: serde_json::Value = serde_json::from_str(args)
        .with_context(|| format!("the arguments are not valid JSON: {args}"))?;
    let catalog = Catalog::new(bioai::start(&settings).await?, &settings);
    // Runs left unfinished by a server are the server's to resume, not this call's.
    let _swarm = bioai::start_agents(&settings, &catalog, false).await?;
    let registry = catalog.registry();
    let outcome = registry.call(tool, &args, CallContext::default()).await?;
    registry.shutdown_recorder().await?;
    let ok = outcome.result.is_ok();
    let report = json!({
        "tool": outcome.tool,
        "result": outcome.result.as_ref().ok(),
        "error": outcome.result.as_ref().err().map(|e| json!({"class": e.class(), "message": e.to_string()})),
        "meters": outcome.meters,
        "stdout": outcome.stdout.text,
        "stderr": outcome.stderr.text,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn db(settings: Settings, command: DbCommand) -> Result<ExitCode> {
    let url = settings.database_url();
    let db = bioai::store::Store::open(&url).await?;
    if let DbCommand::Migrate = command {
        db.migrate().await?;
    }
    let status = db.status().await?;
    let counts = if status.unknown.is_empty() && status.pending.is_empty() {
        Some(db.counts().await?)
    } else {
        None
    };
    let report = json!({
        "database": bioai::store::redact(&url),
        "backend": status.backend,
        "up_to_date": status.up_to_date(),
        "applied": status.applied,
        "pending": status.pending,
        "unknown_newer": status.unknown,
        "counts": counts,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    db.close().await;
    Ok(if status.unknown.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "error: the database has migrations {:?} that this bioai does not know; run a newer bioai",
            status.unknown
        );
        ExitCode::from(1)
    })
}

async fn list(settings: Settings) -> Result<ExitCode> {
    let registry = bioai::start(&settings).await?;
    print_registry(&registry);
    Ok(ExitCode::SUCCESS)
}

fn print_registry(registry: &Registry) {
    for plugin in registry.plugins() {
        let title = plugin
            .info
            .as_ref()
            .map(|i| format!(" — {}", i.title))
            .unwrap_or_default();
        let policy = match &plugin.policy.source {
            Some(p) if plugin.has_policy_file => p.display().to_string(),
            _ => "none (default deny)".to_string(),
        };
        println!("{}{title}", plugin.name);
        println!("  file:   {}", plugin.path.display());
        println!("  policy: {policy}");
        for tool in registry.tools().filter(|t| t.plugin == plugin.name) {
            let first_line = tool.description.lines().next().unwrap_or_default();
            println!("  {:<32} {first_line}", tool.name);
        }
        if registry.has_role(&plugin.name) {
            println!(
                "  agent role (bioai:plugin/role); {}",
                grant_summary(&plugin.policy.agent)
            );
        }
        for s in &plugin.skipped {
            println!("  (not a tool) {s}");
        }
    }
    for host_tool in registry.host_tools() {
        let tool = host_tool.definition();
        let policy = match &host_tool.policy().source {
            Some(p) => p.display().to_string(),
            None => "none (default limits)".to_string(),
        };
        println!("{} (host)", tool.plugin);
        println!("  policy: {policy}");
        let first_line = tool.description.lines().next().unwrap_or_default();
        let first_sentence = first_line.split(". ").next().unwrap_or(first_line);
        println!("  {:<32} {first_sentence}", tool.name);
    }
}

/// A role's `[agent]` grant in one line.
fn grant_summary(grant: &bioai_policy::AgentGrant) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "may call: {}; may plan with: {}; llm: {}; search: {}; workspace: {}",
        list(&grant.tools),
        list(&grant.plan_tools),
        if grant.llm { "yes" } else { "no" },
        if grant.search { "yes" } else { "no" },
        workspace_access(grant.workspace),
    )
}

fn workspace_access(access: bioai_policy::WorkspaceAccess) -> &'static str {
    match access {
        bioai_policy::WorkspaceAccess::None => "none",
        bioai_policy::WorkspaceAccess::Read => "read",
        bioai_policy::WorkspaceAccess::ReadWrite => "read-write",
    }
}

/// `plugin` if it is a file, else the component of that name in one of
/// `dirs` (the first that has it, as when the host loads them).
fn component_file(plugin: &Path, dirs: &[PathBuf]) -> Result<PathBuf> {
    if plugin.is_file() {
        return Ok(plugin.to_path_buf());
    }
    let is_name = plugin.components().count() == 1 && plugin.extension().is_none();
    if is_name
        && let Some(found) = dirs
            .iter()
            .map(|d| d.join(plugin).with_extension("wasm"))
            .find(|f| f.is_file())
    {
        return Ok(found);
    }
    let mut names: Vec<String> = dirs
        .iter()
        .filter_map(|d| bioai::registry::component_files(d).ok())
        .flatten()
        .filter_map(|f| Some(f.file_stem()?.to_str()?.to_string()))
        .collect();
    names.sort();
    names.dedup();
    let dirs = dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    anyhow::bail!(
        "{} is neither a component file nor a plugin in the plugin directories ({dirs}); \
         give a .wasm path or one of: {}",
        plugin.display(),
        if names.is_empty() {
            "(none found)".to_string()
        } else {
            names.join(", ")
        }
    )
}

async fn inspect(settings: Settings, file: &Path) -> Result<ExitCode> {
    let policies = PolicySet::load(&settings.policy_dirs).map_err(|errors| {
        anyhow::anyhow!(
            "invalid policies:\n{}",
            errors
                .iter()
                .map(|e| format!("  {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let runtime = Arc::new(Runtime::new(&RuntimeConfig {
        cache_dir: Some(settings.cache_dir()),
        max_concurrent_instances: 4,
        ..RuntimeConfig::default()
    })?);
    let mut registry = Registry::new(runtime, policies);
    let plugin = registry.load_file(file).await?;
    let tools: Vec<_> = registry.tools().collect();
    let policy: &Policy = &plugin.policy;
    let report = json!({
        "plugin": plugin.name,
        "namespace": plugin.namespace,
        "metadata": plugin.info.as_ref().map(|i| json!({
            "title": i.title, "description": i.description, "version": i.version,
        })),
        "tools": tools,
        "agent_role": registry.has_role(&plugin.name).then(|| {
            let g = &policy.agent;
            json!({
                "tools": g.tools, "plan_tools": g.plan_tools, "llm": g.llm,
                "search": g.search, "workspace": workspace_access(g.workspace),
            })
        }),
        "not_tools": plugin.skipped,
        "policy": {
            "file": policy.source.as_ref().filter(|_| plugin.has_policy_file).map(|p| p.display().to_string()),
            "limits": {
                "fuel": policy.limits.fuel,
                "memory_bytes": policy.limits.memory_bytes,
                "timeout_ms": policy.limits.timeout.as_millis() as u64,
                "max_output_bytes": policy.limits.max_output_bytes,
            },
            "dirs": policy.dirs.iter().map(|d| json!({"host": d.host, "guest": d.guest, "writable": d.writable})).collect::<Vec<_>>(),
            "workspace": policy.workspace.as_ref().map(|w| w.guest.clone()),
            "network_allow": policy.network.allow.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            "network_allow_private": policy.network.allow_private,
            "env": policy.env.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

fn check_policies(dirs: &[PathBuf]) -> ExitCode {
    let mut bad = false;
    for dir in dirs {
        if !dir.is_dir() {
            eprintln!("{}: not a directory", dir.display());
            bad = true;
        }
    }
    if bad {
        return ExitCode::from(2);
    }
    match PolicySet::load(dirs) {
        Ok(set) => {
            println!("{} policies OK", set.len());
            for p in set.iter() {
                if let Some(src) = &p.source {
                    println!("  {} ({})", p.plugin, src.display());
                }
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{} error(s)", errors.len());
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{component_file, error_text};
    use std::path::Path;

    #[derive(Debug, thiserror::Error)]
    #[error("could not read {path}: {source}")]
    struct Read {
        path: String,
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Load {
        path: String,
        source: Read,
    }

    #[test]
    fn inspect_takes_a_file_or_the_name_of_a_plugin() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(a.path().join("seq.wasm"), b"").unwrap();
        std::fs::write(b.path().join("seq.wasm"), b"").unwrap();
        std::fs::write(b.path().join("crispr.wasm"), b"").unwrap();
        let dirs = [a.path().to_path_buf(), b.path().to_path_buf()];
        let file = b.path().join("crispr.wasm");
        assert_eq!(component_file(&file, &dirs).unwrap(), file);
        // A name: the first directory that has it, as the host loads them.
        assert_eq!(
            component_file(Path::new("seq"), &dirs).unwrap(),
            a.path().join("seq.wasm")
        );
        assert_eq!(component_file(Path::new("crispr"), &dirs).unwrap(), file);
        let e = component_file(Path::new("primer"), &dirs).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("give a .wasm path or one of: crispr, seq"),
            "{e}"
        );
        // A path that is not there is not looked up as a name.
        assert!(component_file(Path::new("x/seq"), &dirs).is_err());
    }

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let nested = Load {
            path: "crispr".into(),
            source: Read {
                path: "crispr".into(),
                source: io(),
            },
        };
        assert_eq!(
            error_text(&nested.into()),
            "crispr: could not read crispr: No such file"
        );
        // Context whose message does not repeat its cause keeps the cause.
        let e = anyhow::Error::new(io()).context("reading the policy");
        assert_eq!(error_text(&e), "reading the policy: No such file");
    }
}
