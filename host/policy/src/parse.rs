//! The policy file parser: TOML with spans, walked by hand so that every
//! problem in a file is reported at once, each at its line and column.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{LineIndex, PolicyError};
use crate::net::{EnvRate, HostPattern, NetworkGrant, RateLimit, special_range};
use crate::{
    AgentGrant, DirGrant, EnvGrant, EnvValue, Limits, Policy, WorkspaceAccess, WorkspaceGrant,
};

type Value<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<Cow<'i, str>>;

const TOP_KEYS: &[&str] = &[
    "plugin",
    "namespace",
    "limits",
    "dirs",
    "workspace",
    "network",
    "env",
    "agent",
];
const AGENT_KEYS: &[&str] = &["tools", "plan_tools", "llm", "search", "workspace"];
const LIMITS_KEYS: &[&str] = &["fuel", "memory_mib", "timeout_ms", "max_output_bytes"];
const DIR_KEYS: &[&str] = &["host", "guest", "writable"];
const WORKSPACE_KEYS: &[&str] = &["guest"];
const NETWORK_KEYS: &[&str] = &["allow", "allow_private", "rate_limits"];
const RATE_KEYS: &[&str] = &["per_second", "with_env", "with_env_per_second"];
/// The largest `network.rate_limits` rate, requests per second.
const MAX_RATE: u64 = 10_000;
const FROM_HOST_KEYS: &[&str] = &["from_host"];

/// The default guest path of `[workspace]`.
pub(crate) const DEFAULT_WORKSPACE_GUEST: &str = "/workspace";

/// A parsed policy plus where its `plugin` value is, for cross-file errors.
pub(crate) struct Parsed {
    pub(crate) policy: Policy,
    pub(crate) plugin_position: (usize, usize),
}

/// Parses one file's text; see [`crate::parse_policy`].
pub(crate) fn parse(path: &Path, text: &str) -> Result<Parsed, Vec<PolicyError>> {
    let mut cx = Cx {
        file: path,
        lines: LineIndex::new(text),
        text,
        errors: Vec::new(),
    };
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            cx.syntax_error(&e);
        }
        return Err(cx.finish());
    }
    let root = root.into_inner();

    let mut plugin: Option<(String, Range<usize>)> = None;
    let mut namespace = None;
    let mut limits = Limits::default();
    let mut dirs: Vec<(DirGrant, Range<usize>)> = Vec::new();
    let mut workspace: Option<(WorkspaceGrant, Range<usize>)> = None;
    let mut network = NetworkGrant::default();
    let mut env_refs: Vec<EnvRef> = Vec::new();
    let mut env = Vec::new();
    let mut agent = AgentGrant::default();

    for (key, value) in root.iter() {
        let name: &str = key.get_ref();
        match name {
            "plugin" => {
                if let Some(s) = cx.string(value, "plugin", "plugin = \"ncbi\"") {
                    if valid_plugin(s) {
                        plugin = Some((s.to_string(), value.span()));
                    } else {
                        cx.error(
                            value.span(),
                            "plugin",
                            format!(
                                "`{s}` is not a plugin name: use the plugin's file stem (`ncbi` for ncbi.wasm), \
                                 which starts with a lowercase letter and has only lowercase letters, digits, `_` and `-`"
                            ),
                        );
                    }
                }
            }
            "namespace" => {
                if let Some(s) = cx.string(value, "namespace", "namespace = \"ncbi\"") {
                    // "" gives bare tool names (no prefix), e.g. for fixtures
                    // whose tool names are fixed by an outside test suite.
                    if s.is_empty() || valid_namespace(s) {
                        namespace = Some(s.to_string());
                    } else {
                        let fixed = s.to_ascii_lowercase().replace(['-', '.', ' '], "_");
                        let hint = if valid_namespace(&fixed) {
                            format!("; e.g. `{fixed}`")
                        } else {
                            String::new()
                        };
                        cx.error(
                            value.span(),
                            "namespace",
                            format!(
                                "`{s}` is not a tool namespace: write snake_case, a lowercase letter followed by \
                                 lowercase letters, digits and `_`{hint}"
                            ),
                        );
                    }
                }
            }
            "limits" => {
                if let Some(t) = cx.table(value, "limits", "a `[limits]` section") {
                    parse_limits(&mut cx, t, &mut limits);
                }
            }
            "dirs" => match value.get_ref() {
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(d) = parse_dir(&mut cx, path, item, i) {
                            dirs.push(d);
                        }
                    }
                }
                DeValue::Table(_) => cx.error(
                    value.span(),
                    "dirs",
                    "`dirs` is a list of mounts: write each one as its own `[[dirs]]` section (double brackets)",
                ),
                other => cx.type_error(
                    value.span(),
                    "dirs",
                    "a list of `[[dirs]]` sections",
                    other,
                    "write each mount as a `[[dirs]]` section with `host` and `guest`",
                ),
            },
            "workspace" => {
                if let Some(t) = cx.table(value, "workspace", "a `[workspace]` section") {
                    workspace = parse_workspace(&mut cx, t).map(|w| (w, value.span()));
                }
            }
            "network" => {
                if let Some(t) = cx.table(value, "network", "a `[network]` section") {
                    (network, env_refs) = parse_network(&mut cx, t);
                }
            }
            "env" => {
                if let Some(t) = cx.table(value, "env", "an `[env]` section") {
                    env = parse_env(&mut cx, t);
                }
            }
            "agent" => {
                if let Some(t) = cx.table(value, "agent", "an `[agent]` section") {
                    agent = parse_agent(&mut cx, t);
                }
            }
            _ => cx.unknown_key(key, None, TOP_KEYS),
        }
    }

    // `with_env` names a variable this policy gives the plugin.
    for r in env_refs {
        if !env.iter().any(|g: &EnvGrant| g.name == r.var) {
            cx.error(
                r.span,
                r.field,
                format!(
                    "`{}` is not in this policy's [env]: add it there (e.g. `{} = {{ from_host = \"{}\" }}`), \
                     or remove `with_env`",
                    r.var, r.var, r.var
                ),
            );
        }
    }

    // Guest paths are unique among all mounts.
    let mut seen: Vec<(&str, String)> = Vec::new();
    let mounts = dirs
        .iter()
        .enumerate()
        .map(|(i, (d, span))| (d.guest.as_str(), format!("dirs[{i}].guest"), span.clone()))
        .chain(workspace.iter().map(|(w, span)| {
            (
                w.guest.as_str(),
                "workspace.guest".to_string(),
                span.clone(),
            )
        }))
        .collect::<Vec<_>>();
    for (guest, field, span) in mounts {
        if let Some((_, first)) = seen.iter().find(|(g, _)| *g == guest) {
            cx.error(
                span,
                field,
                format!("guest path `{guest}` is already used by {first}: give each mount its own guest path"),
            );
        } else {
            seen.push((guest, field));
        }
    }

    let plugin = match plugin {
        Some(p) => Some(p),
        None => {
            // Not also "missing" when it was given but invalid or misplaced.
            let mentioned = cx.errors.iter().any(|e| {
                e.field
                    .as_deref()
                    .is_some_and(|f| f == "plugin" || f.ends_with(".plugin"))
            });
            if !mentioned {
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .filter(|s| valid_plugin(s))
                    .unwrap_or("ncbi");
                cx.error(
                    0..0,
                    "plugin",
                    format!(
                        "missing required key `plugin`: add `plugin = \"{stem}\"` (the plugin's .wasm file stem) \
                         at the top of the file"
                    ),
                );
            }
            None
        }
    };

    if !cx.errors.is_empty() {
        return Err(cx.finish());
    }
    let (plugin, plugin_span) = plugin.expect("a missing plugin is an error");
    env.sort_by(|a: &EnvGrant, b| a.name.cmp(&b.name));
    Ok(Parsed {
        plugin_position: cx.lines.position(plugin_span.start),
        policy: Policy {
            plugin,
            namespace,
            limits,
            dirs: dirs.into_iter().map(|(d, _)| d).collect(),
            workspace: workspace.map(|(w, _)| w),
            network,
            env,
            agent,
            source: Some(path.to_path_buf()),
        },
    })
}

fn parse_limits(cx: &mut Cx<'_>, table: &DeTable<'_>, limits: &mut Limits) {
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let field = format!("limits.{}", key_text(name));
        match name {
            "fuel" => {
                if let Some(n) = cx.integer(
                    value,
                    &field,
                    1,
                    u64::MAX,
                    "",
                    "e.g. `fuel = 10_000_000_000`",
                ) {
                    limits.fuel = n;
                }
            }
            "memory_mib" => {
                if let Some(n) =
                    cx.integer(value, &field, 1, 4096, " MiB", "e.g. `memory_mib = 256`")
                {
                    limits.memory_bytes = n * 1024 * 1024;
                }
            }
            "timeout_ms" => {
                if let Some(n) = cx.integer(
                    value,
                    &field,
                    1,
                    3_600_000,
                    " ms",
                    "e.g. `timeout_ms = 30_000` for 30 seconds",
                ) {
                    limits.timeout = Duration::from_millis(n);
                }
            }
            "max_output_bytes" => {
                let max = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
                if let Some(n) = cx.integer(
                    value,
                    &field,
                    1024,
                    max,
                    " bytes",
                    "e.g. `max_output_bytes = 1_048_576` for 1 MiB",
                ) {
                    limits.max_output_bytes = usize::try_from(n).unwrap_or(usize::MAX);
                }
            }
            _ => cx.unknown_key(key, Some("limits"), LIMITS_KEYS),
        }
    }
}

fn parse_dir(
    cx: &mut Cx<'_>,
    path: &Path,
    item: &Value<'_>,
    index: usize,
) -> Option<(DirGrant, Range<usize>)> {
    let at = format!("dirs[{index}]");
    let table = cx.table(item, &at, "a `[[dirs]]` section")?;
    let mut host = None;
    let mut guest = None;
    let mut writable = false;
    let mut ok = true;
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let field = format!("{at}.{}", key_text(name));
        match name {
            "host" => match cx.string(value, &field, "host = \"/srv/bioai/genomes\"") {
                Some(h) => match resolve_host_dir(path, h) {
                    Ok(p) => host = Some(p),
                    Err(msg) => {
                        cx.error(value.span(), field, msg);
                        ok = false;
                    }
                },
                None => ok = false,
            },
            "guest" => match cx.guest_path(value, &field, "/data/genomes") {
                Some(g) => guest = Some(g),
                None => ok = false,
            },
            "writable" => match cx.boolean(value, &field, "writable = false") {
                Some(b) => writable = b,
                None => ok = false,
            },
            _ => {
                cx.unknown_key(key, Some(&at), DIR_KEYS);
                ok = false;
            }
        }
    }
    if !table.keys().any(|k| k.get_ref() == "host") {
        cx.error(
            item.span(),
            format!("{at}.host"),
            "this mount has no `host`: add `host = \"/path/on/the/host\"` (absolute, or relative to the policy file's directory)",
        );
    }
    if !table.keys().any(|k| k.get_ref() == "guest") {
        cx.error(
            item.span(),
            format!("{at}.guest"),
            "this mount has no `guest`: add `guest = \"/data/NAME\"`, the absolute path the plugin sees",
        );
    }
    match (ok, host, guest) {
        (true, Some(host), Some(guest)) => Some((
            DirGrant {
                host,
                guest,
                writable,
            },
            item.span(),
        )),
        _ => None,
    }
}

/// Resolves `dirs[].host` against the policy file's directory and checks it
/// is an existing directory; returns the canonical path or the message.
fn resolve_host_dir(policy_file: &Path, host: &str) -> Result<PathBuf, String> {
    if host.is_empty() {
        return Err(
            "the host path is empty: write the directory to mount, e.g. `/srv/bioai/genomes`"
                .into(),
        );
    }
    if host.starts_with('~') {
        return Err(format!(
            "`{host}`: `~` is not expanded in policy files: write the absolute path, e.g. `/home/NAME/...`"
        ));
    }
    if host.contains('\0') {
        return Err("the host path contains a NUL character: remove it".into());
    }
    let base = policy_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let given = Path::new(host);
    let joined = if given.is_absolute() {
        given.to_path_buf()
    } else {
        base.join(given)
    };
    let shown = if given.is_absolute() {
        format!("`{host}`")
    } else {
        format!(
            "`{host}` (resolved against the policy file's directory to `{}`)",
            joined.display()
        )
    };
    match std::fs::canonicalize(&joined) {
        Ok(canonical) if canonical.is_dir() => Ok(canonical),
        Ok(_) => Err(format!(
            "host path {shown} is not a directory: mount a directory, not a file"
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "host directory {shown} does not exist: create it, or fix the path"
        )),
        Err(e) => Err(format!(
            "host directory {shown} cannot be accessed ({e}): fix its permissions or the path"
        )),
    }
}

fn parse_workspace(cx: &mut Cx<'_>, table: &DeTable<'_>) -> Option<WorkspaceGrant> {
    let mut guest = Some(DEFAULT_WORKSPACE_GUEST.to_string());
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match name {
            "guest" => guest = cx.guest_path(value, "workspace.guest", "/workspace"),
            _ => cx.unknown_key(key, Some("workspace"), WORKSPACE_KEYS),
        }
    }
    guest.map(|guest| WorkspaceGrant { guest })
}

fn parse_agent(cx: &mut Cx<'_>, table: &DeTable<'_>) -> AgentGrant {
    let mut grant = AgentGrant::default();
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match name {
            "tools" => grant.tools = parse_tool_list(cx, value, "agent.tools"),
            "plan_tools" => grant.plan_tools = parse_tool_list(cx, value, "agent.plan_tools"),
            "llm" => {
                if let Some(b) = cx.boolean(value, "agent.llm", "llm = true") {
                    grant.llm = b;
                }
            }
            "search" => {
                if let Some(b) = cx.boolean(value, "agent.search", "search = true") {
                    grant.search = b;
                }
            }
            "workspace" => {
                if let Some(s) = cx.string(value, "agent.workspace", "workspace = \"read\"") {
                    match s {
                        "none" => grant.workspace = WorkspaceAccess::None,
                        "read" => grant.workspace = WorkspaceAccess::Read,
                        "read-write" => grant.workspace = WorkspaceAccess::ReadWrite,
                        _ => cx.error(
                            value.span(),
                            "agent.workspace",
                            format!(
                                "`{s}` is not a workspace access: write \"none\", \"read\" or \"read-write\""
                            ),
                        ),
                    }
                }
            }
            _ => cx.unknown_key(key, Some("agent"), AGENT_KEYS),
        }
    }
    grant
}

/// A list of tool names or namespace wildcards (`agent.tools`, `agent.plan_tools`).
fn parse_tool_list(cx: &mut Cx<'_>, value: &Value<'_>, field: &str) -> Vec<String> {
    let mut out = Vec::new();
    match value.get_ref() {
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_field = format!("{field}[{i}]");
                let Some(s) = cx.string(item, &item_field, "\"seq.*\"") else {
                    continue;
                };
                if valid_tool_pattern(s) {
                    out.push(s.to_string());
                } else {
                    cx.error(
                        item.span(),
                        item_field,
                        format!(
                            "`{s}` is not a tool name or pattern: write a full tool name such as \
                             `seq.gc_content`, or `seq.*` for every tool of a namespace"
                        ),
                    );
                }
            }
        }
        other => cx.type_error(
            value.span(),
            field,
            "a list of tool names",
            other,
            "write e.g. `tools = [\"seq.*\", \"sandbox.run_python\"]`",
        ),
    }
    out
}

/// A tool name (`seq.gc_content`, `run`) or a namespace wildcard (`seq.*`).
fn valid_tool_pattern(s: &str) -> bool {
    let name = s.strip_suffix(".*").unwrap_or(s);
    !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// A `with_env` variable to check against `[env]` once the whole file is read.
struct EnvRef {
    var: String,
    span: Range<usize>,
    field: String,
}

fn parse_network(cx: &mut Cx<'_>, table: &DeTable<'_>) -> (NetworkGrant, Vec<EnvRef>) {
    let mut grant = NetworkGrant::default();
    let mut spans = Vec::new();
    let mut rates = None;
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match name {
            // Read after the loop: its keys are checked against `allow`.
            "rate_limits" => rates = Some(value),
            "allow" => match value.get_ref() {
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let field = format!("network.allow[{i}]");
                        let Some(s) = cx.string(item, &field, "\"eutils.ncbi.nlm.nih.gov\"") else {
                            continue;
                        };
                        match s.parse::<HostPattern>() {
                            Ok(p) => {
                                grant.allow.push(p);
                                spans.push((item.span(), field));
                            }
                            Err(e) => cx.error(item.span(), field, e.to_string()),
                        }
                    }
                }
                other => cx.type_error(
                    value.span(),
                    "network.allow",
                    "a list of host patterns",
                    other,
                    "write e.g. `allow = [\"eutils.ncbi.nlm.nih.gov\", \"*.uniprot.org\"]`",
                ),
            },
            "allow_private" => {
                if let Some(b) = cx.boolean(value, "network.allow_private", "allow_private = false")
                {
                    grant.allow_private = b;
                }
            }
            _ => cx.unknown_key(key, Some("network"), NETWORK_KEYS),
        }
    }
    let mut env_refs = Vec::new();
    if let Some(value) = rates
        && let Some(t) = cx.table(
            value,
            "network.rate_limits",
            "a `[network.rate_limits]` section",
        )
    {
        grant.rate_limits = parse_rate_limits(cx, t, &grant.allow, &mut env_refs);
    }
    if !grant.allow_private {
        // Entries that can never work without allow_private are mistakes.
        for (pattern, (span, field)) in grant.allow.iter().zip(spans) {
            let why = match pattern.ip() {
                Some(ip) => special_range(ip).map(|r| format!("a {r} address")),
                None => pattern
                    .host_name()
                    .filter(|h| *h == "localhost" || h.ends_with(".localhost"))
                    .map(|_| "a loopback name".to_string()),
            };
            if let Some(why) = why {
                cx.error(
                    span,
                    field,
                    format!(
                        "`{pattern}` is {why}, which is refused unless `allow_private = true`: set \
                         `allow_private = true` under [network], or remove this entry"
                    ),
                );
            }
        }
    }
    (grant, env_refs)
}

/// `[network.rate_limits]`: `"PATTERN" = N` or `"PATTERN" = { per_second =
/// N, with_env = "VAR", with_env_per_second = M }`, each PATTERN an entry of
/// `allow`.
fn parse_rate_limits(
    cx: &mut Cx<'_>,
    table: &DeTable<'_>,
    allow: &[HostPattern],
    env_refs: &mut Vec<EnvRef>,
) -> Vec<RateLimit> {
    let mut out: Vec<RateLimit> = Vec::new();
    let example = "e.g. `\"eutils.ncbi.nlm.nih.gov\" = 3` for 3 requests per second";
    // In file order: the first matching entry applies to a request.
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (key, value) in entries {
        let name: &str = key.get_ref();
        let field = format!("network.rate_limits.{}", key_text(name));
        let pattern = match name.parse::<HostPattern>() {
            Ok(p) if allow.contains(&p) => Some(p),
            Ok(p) => {
                let listed = allow
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let listed = if listed.is_empty() {
                    "none".to_string()
                } else {
                    listed
                };
                cx.error(
                    key.span(),
                    field.clone(),
                    format!(
                        "`{p}` is not a `network.allow` entry: a rate limit applies to the hosts of one \
                         entry, written the same way (entries here: {listed})"
                    ),
                );
                None
            }
            Err(e) => {
                cx.error(key.span(), field.clone(), e.to_string());
                None
            }
        };
        if let Some(p) = &pattern
            && out.iter().any(|r| r.pattern == *p)
        {
            cx.error(
                key.span(),
                field.clone(),
                format!("`{p}` has a rate limit already: keep one of them"),
            );
            continue;
        }
        let limit = match value.get_ref() {
            DeValue::Table(t) => parse_rate_table(cx, value, t, &field, env_refs),
            DeValue::Integer(_) | DeValue::Float(_) => cx
                .integer(value, &field, 1, MAX_RATE, " requests per second", example)
                .map(|n| (n as u32, None)),
            other => {
                cx.type_error(
                    value.span(),
                    &field,
                    "a number of requests per second or a table",
                    other,
                    &format!(
                        "write `{} = 3`, or `{} = {{ per_second = 3, with_env = \"NCBI_API_KEY\", \
                         with_env_per_second = 10 }}`",
                        key_text(name),
                        key_text(name)
                    ),
                );
                None
            }
        };
        if let (Some(pattern), Some((per_second, with_env))) = (pattern, limit) {
            out.push(RateLimit {
                pattern,
                per_second,
                with_env,
            });
        }
    }
    out
}

/// The table form of a rate limit: its `per_second` and optional env rate.
fn parse_rate_table(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    table: &DeTable<'_>,
    field: &str,
    env_refs: &mut Vec<EnvRef>,
) -> Option<(u32, Option<EnvRate>)> {
    let mut per_second = None;
    let mut var: Option<(String, Range<usize>)> = None;
    let mut alt = None;
    let mut ok = true;
    for (key, v) in table.iter() {
        let name: &str = key.get_ref();
        let f = format!("{field}.{}", key_text(name));
        match name {
            "per_second" => {
                per_second = cx.integer(
                    v,
                    &f,
                    1,
                    MAX_RATE,
                    " requests per second",
                    "e.g. `per_second = 3`",
                );
                ok &= per_second.is_some();
            }
            "with_env_per_second" => {
                alt = cx.integer(
                    v,
                    &f,
                    1,
                    MAX_RATE,
                    " requests per second",
                    "e.g. `with_env_per_second = 10`",
                );
                ok &= alt.is_some();
            }
            "with_env" => match cx.string(v, &f, "with_env = \"NCBI_API_KEY\"") {
                Some(s) if valid_env_name(s) => var = Some((s.to_string(), v.span())),
                Some(s) => {
                    cx.error(
                        v.span(),
                        f,
                        format!(
                            "`{s}` is not an environment variable name: name the `[env]` variable whose \
                             presence selects the other rate, e.g. `NCBI_API_KEY`"
                        ),
                    );
                    ok = false;
                }
                None => ok = false,
            },
            _ => {
                cx.unknown_key(key, Some(field), RATE_KEYS);
                ok = false;
            }
        }
    }
    let has = |k: &str| table.keys().any(|x| x.get_ref() == k);
    if !has("per_second") {
        cx.error(
            value.span(),
            format!("{field}.per_second"),
            "missing `per_second`: add the number of requests per second, e.g. `per_second = 3`",
        );
        ok = false;
    }
    match (has("with_env"), has("with_env_per_second")) {
        (true, false) => {
            cx.error(
                value.span(),
                format!("{field}.with_env_per_second"),
                "`with_env` needs `with_env_per_second`: the rate while the variable is set, e.g. \
                 `with_env_per_second = 10`",
            );
            ok = false;
        }
        (false, true) => {
            cx.error(
                value.span(),
                format!("{field}.with_env"),
                "`with_env_per_second` needs `with_env`: the `[env]` variable that selects it, e.g. \
                 `with_env = \"NCBI_API_KEY\"`",
            );
            ok = false;
        }
        _ => {}
    }
    if !ok {
        return None;
    }
    if let Some((name, span)) = &var {
        env_refs.push(EnvRef {
            var: name.clone(),
            span: span.clone(),
            field: format!("{field}.with_env"),
        });
    }
    let with_env = match (var, alt) {
        (Some((var, _)), Some(n)) => Some(EnvRate {
            var,
            per_second: n as u32,
        }),
        _ => None,
    };
    per_second.map(|n| (n as u32, with_env))
}

fn parse_env(cx: &mut Cx<'_>, table: &DeTable<'_>) -> Vec<EnvGrant> {
    let mut out = Vec::new();
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let field = format!("env.{}", key_text(name));
        let mut ok = true;
        if !valid_env_name(name) {
            cx.error(
                key.span(),
                field.clone(),
                format!(
                    "`{name}` is not an environment variable name: use letters, digits and `_`, not starting \
                     with a digit, e.g. `NCBI_API_KEY`"
                ),
            );
            ok = false;
        }
        let parsed = match value.get_ref() {
            DeValue::String(s) => {
                if s.contains('\0') {
                    cx.error(
                        value.span(),
                        field.clone(),
                        "the value contains a NUL character: remove it",
                    );
                    None
                } else {
                    Some(EnvValue::Literal(s.to_string()))
                }
            }
            DeValue::Table(t) => parse_from_host(cx, value, t, &field),
            other => {
                cx.type_error(
                    value.span(),
                    &field,
                    "a string or `{ from_host = \"VAR\" }`",
                    other,
                    &format!(
                        "write `{} = \"value\"` (quoted) or `{} = {{ from_host = \"VAR\" }}`",
                        key_text(name),
                        key_text(name)
                    ),
                );
                None
            }
        };
        if let (true, Some(value)) = (ok, parsed) {
            out.push(EnvGrant {
                name: name.to_string(),
                value,
            });
        }
    }
    out
}

fn parse_from_host(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    table: &DeTable<'_>,
    field: &str,
) -> Option<EnvValue> {
    let mut from = None;
    let mut ok = true;
    for (key, v) in table.iter() {
        let name: &str = key.get_ref();
        match name {
            "from_host" => {
                let f = format!("{field}.from_host");
                match cx.string(v, &f, "from_host = \"NCBI_API_KEY\"") {
                    Some(s) if valid_env_name(s) => from = Some(s.to_string()),
                    Some(s) => {
                        cx.error(
                            v.span(),
                            f,
                            format!(
                                "`{s}` is not an environment variable name: name the host variable to pass \
                                 through, e.g. `NCBI_API_KEY`"
                            ),
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            _ => {
                cx.unknown_key(key, Some(field), FROM_HOST_KEYS);
                ok = false;
            }
        }
    }
    if from.is_none() && ok {
        cx.error(
            value.span(),
            field.to_string(),
            "missing `from_host`: write `{ from_host = \"VAR\" }` to pass the host's VAR through, or a quoted literal value",
        );
    }
    if ok {
        from.map(EnvValue::FromHost)
    } else {
        None
    }
}

/// `[a-z][a-z0-9_-]*`
pub(crate) fn valid_plugin(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_lowercase())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
}

/// `[a-z][a-z0-9_]*`
fn valid_namespace(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_lowercase())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// `[A-Za-z_][A-Za-z0-9_]*`
fn valid_env_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Checks a guest path: absolute, `/`-separated non-empty components, none
/// of them `.` or `..`, no trailing slash, not `/` itself, no NUL.
fn check_guest_path(g: &str) -> Result<(), &'static str> {
    if !g.starts_with('/') {
        return Err("it must be absolute (start with `/`)");
    }
    if g == "/" {
        return Err(
            "mounting at `/` would hide every other mount: use a subdirectory such as `/data`",
        );
    }
    if g.contains('\0') {
        return Err("it contains a NUL character");
    }
    if g.ends_with('/') {
        return Err("drop the trailing `/`");
    }
    for c in g[1..].split('/') {
        match c {
            "" => {
                return Err(
                    "it has an empty component (`//`): separate components with a single `/`",
                );
            }
            "." | ".." => {
                return Err(
                    "`.` and `..` components are not allowed: write the plain absolute path",
                );
            }
            _ => {}
        }
    }
    Ok(())
}

/// A key as written in a field path: bare when TOML allows it bare, quoted otherwise.
fn key_text(k: &str) -> Cow<'_, str> {
    if !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        Cow::Borrowed(k)
    } else {
        Cow::Owned(format!("{k:?}"))
    }
}

/// "an integer", "a string", ...
fn a(type_str: &str) -> String {
    let article = if type_str.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_str}")
}

/// 10000000000 -> 10_000_000_000 (as TOML allows), small numbers unchanged.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() <= 4 {
        return digits;
    }
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(ch);
    }
    out
}

/// Levenshtein distance, for "did you mean" hints on short keys.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Where a known key belongs, for keys written in the wrong section.
fn home_of(key: &str) -> Option<&'static str> {
    if TOP_KEYS.contains(&key) {
        Some("to the top level, before the first `[section]` header")
    } else if LIMITS_KEYS.contains(&key) {
        Some("into the `[limits]` section")
    } else if key == "guest" {
        Some("into a `[[dirs]]` or the `[workspace]` section")
    } else if DIR_KEYS.contains(&key) {
        Some("into a `[[dirs]]` section")
    } else if NETWORK_KEYS.contains(&key) {
        Some("into the `[network]` section")
    } else if RATE_KEYS.contains(&key) {
        Some("into a `[network.rate_limits]` entry, as `\"HOST\" = { per_second = 3 }`")
    } else if key == "from_host" {
        Some("into an `[env]` value, as `NAME = { from_host = \"VAR\" }`")
    } else {
        None
    }
}

/// Error collection for one file.
struct Cx<'a> {
    file: &'a Path,
    lines: LineIndex<'a>,
    text: &'a str,
    errors: Vec<PolicyError>,
}

impl Cx<'_> {
    fn error(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        self.push(span, Some(field.into()), message.into());
    }

    fn push(&mut self, span: Range<usize>, field: Option<String>, message: String) {
        let (line, column) = self.lines.position(span.start);
        self.errors.push(PolicyError {
            file: self.file.to_path_buf(),
            line,
            column,
            field,
            message,
        });
    }

    fn syntax_error(&mut self, e: &toml::de::Error) {
        let span = e.span().unwrap_or(0..0);
        let raw = e.message().trim_end();
        let message = if raw.contains("duplicate key") {
            let key = self.text.get(span.clone()).unwrap_or("").trim();
            format!("`{key}` is set twice in the same table: keep only one of them")
        } else if raw.contains("duplicate table") || raw.contains("redefinition") {
            format!(
                "invalid TOML: {raw}: each `[section]` may appear only once; merge the two (use `[[dirs]]` for repeated mounts)"
            )
        } else {
            format!(
                "invalid TOML: {raw}: fix the syntax here (strings are in double quotes, one `key = value` per line; \
                 see policies/README.md)"
            )
        };
        self.push(span, None, message);
    }

    fn finish(mut self) -> Vec<PolicyError> {
        self.errors.sort_by_key(|e| (e.line, e.column));
        self.errors.dedup();
        self.errors
    }

    fn type_error(
        &mut self,
        span: Range<usize>,
        field: &str,
        expected: &str,
        found: &DeValue<'_>,
        fix: &str,
    ) {
        self.error(
            span,
            field.to_string(),
            format!("expected {expected}, found {}: {fix}", a(found.type_str())),
        );
    }

    fn string<'v>(&mut self, v: &'v Value<'_>, field: &str, example: &str) -> Option<&'v str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s),
            other => {
                self.type_error(
                    v.span(),
                    field,
                    "a string",
                    other,
                    &format!("write it in double quotes, e.g. `{example}`"),
                );
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value<'_>, field: &str, example: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.type_error(
                    v.span(),
                    field,
                    "`true` or `false`",
                    other,
                    &format!("write it without quotes, e.g. `{example}`"),
                );
                None
            }
        }
    }

    fn table<'v, 'i>(
        &mut self,
        v: &'v Value<'i>,
        field: &str,
        what: &str,
    ) -> Option<&'v DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                let fix = if field.starts_with("dirs[") {
                    "write each mount as a `[[dirs]]` section with `host` and `guest` keys"
                        .to_string()
                } else {
                    format!("write it as a `[{field}]` header followed by its keys")
                };
                self.type_error(v.span(), field, what, other, &fix);
                None
            }
        }
    }

    /// A whole number in `min..=max`; integral floats such as `2e10` count.
    fn integer(
        &mut self,
        v: &Value<'_>,
        field: &str,
        min: u64,
        max: u64,
        unit: &str,
        example: &str,
    ) -> Option<u64> {
        let n: Option<i128> = match v.get_ref() {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
            DeValue::Float(f) => {
                let x: f64 = f.as_str().parse().unwrap_or(f64::NAN);
                if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e30 {
                    Some(x as i128)
                } else {
                    self.error(
                        v.span(),
                        field.to_string(),
                        format!("expected a whole number, found `{}`: {example}", f.as_str()),
                    );
                    return None;
                }
            }
            other => {
                self.type_error(
                    v.span(),
                    field,
                    "a whole number",
                    other,
                    &format!("write it without quotes, {example}"),
                );
                return None;
            }
        };
        match n {
            Some(n) if n >= i128::from(min) && n <= i128::from(max) => Some(n as u64),
            _ => {
                let got = self.text.get(v.span()).unwrap_or("?").trim();
                let range = if max >= i64::MAX as u64 {
                    format!("at least {}{unit}", grouped(min))
                } else {
                    format!("between {} and {}{unit}", grouped(min), grouped(max))
                };
                self.error(
                    v.span(),
                    field.to_string(),
                    format!("must be {range}, got `{got}`: {example}"),
                );
                None
            }
        }
    }

    fn guest_path(&mut self, v: &Value<'_>, field: &str, example: &str) -> Option<String> {
        let g = self.string(v, field, &format!("guest = \"{example}\""))?;
        match check_guest_path(g) {
            Ok(()) => Some(g.to_string()),
            Err(why) => {
                self.error(
                    v.span(),
                    field.to_string(),
                    format!("`{g}` is not a valid guest path: {why}; e.g. `{example}`"),
                );
                None
            }
        }
    }

    /// Reports a key that `table` (a field path, `None` at the top level)
    /// does not have, with a "did you mean" when one is close.
    fn unknown_key(&mut self, key: &Key<'_>, table: Option<&str>, allowed: &[&str]) {
        let name: &str = key.get_ref();
        let field = match table {
            Some(t) => format!("{t}.{}", key_text(name)),
            None => key_text(name).into_owned(),
        };
        let here = match table {
            Some(t) => format!("in `{t}`"),
            None => "at the top level".to_string(),
        };
        let lower = name.to_ascii_lowercase();
        let close = allowed
            .iter()
            .map(|k| (distance(&lower, k), *k))
            .filter(|(d, k)| {
                *d <= 2 || (lower.len() >= 3 && (k.starts_with(&lower) || lower.starts_with(k)))
            })
            .min();
        let list = allowed
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let message = if let Some((_, k)) = close {
            format!("unknown key `{name}` {here}: did you mean `{k}`? (allowed here: {list})")
        } else if let Some(home) = home_of(name) {
            let tip = if table.is_some() && TOP_KEYS.contains(&name) {
                " (in TOML every key after a `[section]` header belongs to that section)"
            } else {
                ""
            };
            format!("`{name}` does not belong {here}: move it {home}{tip}")
        } else {
            format!("unknown key `{name}` {here}: remove it (allowed here: {list})")
        };
        self.error(key.span(), field, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(grouped(10_000_000_000), "10_000_000_000");
        assert_eq!(grouped(1024), "1024");
        assert_eq!(grouped(30_000), "30_000");
        assert_eq!(grouped(123_456), "123_456");
        assert_eq!(distance("memory_mb", "memory_mib"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("fuel", "fuel"), 0);
        assert_eq!(key_text("A_B-1"), "A_B-1");
        assert_eq!(key_text("a b"), "\"a b\"");
        assert!(valid_plugin("ncbi"));
        assert!(valid_plugin("blast-2_x"));
        assert!(!valid_plugin("Ncbi"));
        assert!(!valid_plugin("1ncbi"));
        assert!(!valid_plugin(""));
        assert!(valid_namespace("ncbi_tools"));
        assert!(!valid_namespace("ncbi-tools"));
        assert!(valid_env_name("_X1"));
        assert!(!valid_env_name("1X"));
        assert!(!valid_env_name("A-B"));
        for ok in ["/data", "/data/genomes", "/a.b/c..d/...x"] {
            assert!(check_guest_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "data",
            "/",
            "/data/",
            "//data",
            "/data/../etc",
            "/./data",
            "/data/..",
            "/a\0b",
            "",
        ] {
            assert!(check_guest_path(bad).is_err(), "{bad:?}");
        }
    }
}
