//! The swarm graph: which roles a run goes through, as data.
//!
//! ```toml
//! name = "default"           # shown in traces and stored with each run
//! entry = "planner"          # the first role
//! max_steps = 24             # a run fails after this many steps (default 24)
//! step_timeout_ms = 300_000  # one role step, tool calls included (default 300 s)
//! run_timeout_ms = 1_800_000 # the whole run (default 30 min)
//!
//! [[roles]]
//! name = "reporter"          # the role's name in edges and traces
//! plugin = "reporter"        # the component (plugins/NAME.wasm); default: the name
//! final = true               # may finish the run with a report (default false)
//!
//! [[edges]]
//! from = "evaluator"         # when this role hands off...
//! on = "reject"              # ...with this outcome...
//! to = "coder"               # ...the run goes on here
//! templates = ["crispr_knockout"]  # only for tasks of these templates (default: all)
//! max = 2                    # at most this many times per run (default: unlimited)
//! exhausted = "reporter"     # then go here instead (default: the run fails)
//! ```
//!
//! An edge with `templates` wins over one without for the same (from, on).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// A graph file is invalid.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The file cannot be read.
    #[error("cannot read the agent graph {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("the agent graph {path} is invalid: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// What the parser said.
        message: String,
    },
    /// The graph does not hold together (unknown roles, no final role...).
    #[error("the agent graph {path} is invalid: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphFile {
    name: String,
    entry: String,
    #[serde(default = "default_max_steps")]
    max_steps: u32,
    #[serde(default = "default_step_timeout_ms")]
    step_timeout_ms: u64,
    #[serde(default = "default_run_timeout_ms")]
    run_timeout_ms: u64,
    roles: Vec<RoleFile>,
    #[serde(default)]
    edges: Vec<Edge>,
}

fn default_max_steps() -> u32 {
    24
}
fn default_step_timeout_ms() -> u64 {
    300_000
}
fn default_run_timeout_ms() -> u64 {
    1_800_000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    name: String,
    plugin: Option<String>,
    #[serde(default, rename = "final")]
    is_final: bool,
}

/// One role of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleNode {
    /// The role's name.
    pub name: String,
    /// The component that plays it (`plugins/<plugin>.wasm`).
    pub plugin: String,
    /// Whether it may finish the run.
    pub is_final: bool,
}

/// A handoff rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// The role handing off.
    pub from: String,
    /// The outcome it reported.
    pub on: String,
    /// The next role.
    pub to: String,
    /// Only for tasks of these templates; empty: every task.
    #[serde(default)]
    pub templates: Vec<String>,
    /// How many times per run the edge may be taken.
    pub max: Option<u32>,
    /// Where the run goes once `max` is used up; `None`: it fails.
    pub exhausted: Option<String>,
}

impl Edge {
    /// The edge's key in a run's traversal counts.
    pub fn key(&self) -> String {
        format!("{}:{}->{}", self.from, self.on, self.to)
    }
}

/// A validated swarm graph.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Its name.
    pub name: String,
    /// The first role.
    pub entry: String,
    /// The most steps a run may take.
    pub max_steps: u32,
    /// The deadline of one step.
    pub step_timeout: Duration,
    /// The deadline of a whole run.
    pub run_timeout: Duration,
    roles: BTreeMap<String, RoleNode>,
    edges: Vec<Edge>,
}

/// The text of the built-in default graph.
pub const DEFAULT_GRAPH: &str = include_str!("default-graph.toml");

impl Graph {
    /// The built-in graph: planner -> retriever -> coder -> evaluator -> reporter.
    pub fn builtin() -> Self {
        Self::parse("default-graph.toml", DEFAULT_GRAPH).expect("the built-in graph is valid")
    }

    /// Reads a graph file.
    pub fn load(path: &std::path::Path) -> Result<Self, GraphError> {
        let text = std::fs::read_to_string(path).map_err(|source| GraphError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses and validates a graph; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Self, GraphError> {
        let file: GraphFile = toml::from_str(text).map_err(|e| GraphError::Syntax {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |message: String| GraphError::Invalid {
            path: path.to_string(),
            message,
        };
        let mut roles = BTreeMap::new();
        for r in file.roles {
            let plugin = r.plugin.unwrap_or_else(|| r.name.clone());
            let node = RoleNode {
                name: r.name.clone(),
                plugin,
                is_final: r.is_final,
            };
            if roles.insert(r.name.clone(), node).is_some() {
                return Err(invalid(format!(
                    "role `{}` is defined twice: give each [[roles]] entry its own name",
                    r.name
                )));
            }
        }
        let known = |name: &str| roles.contains_key(name);
        let names = || roles.keys().cloned().collect::<Vec<_>>().join(", ");
        if !known(&file.entry) {
            return Err(invalid(format!(
                "entry `{}` is not a role: use one of {}",
                file.entry,
                names()
            )));
        }
        if !roles.values().any(|r| r.is_final) {
            return Err(invalid(
                "no role is final, so no run could finish: mark the reporting role `final = true`"
                    .into(),
            ));
        }
        for (i, e) in file.edges.iter().enumerate() {
            for (field, role) in [("from", &e.from), ("to", &e.to)]
                .into_iter()
                .chain(e.exhausted.as_ref().map(|x| ("exhausted", x)))
            {
                if !known(role) {
                    return Err(invalid(format!(
                        "edges[{i}].{field}: `{role}` is not a role: use one of {}",
                        names()
                    )));
                }
            }
            if e.max == Some(0) {
                return Err(invalid(format!(
                    "edges[{i}].max is 0, so the edge could never be taken: remove the edge or raise max"
                )));
            }
            let duplicate = file.edges[..i]
                .iter()
                .any(|o| o.from == e.from && o.on == e.on && o.templates == e.templates);
            if duplicate {
                return Err(invalid(format!(
                    "edges[{i}]: `{}` with outcome `{}` already has an edge for the same templates: \
                     keep one",
                    e.from, e.on
                )));
            }
        }
        if file.max_steps == 0 || file.step_timeout_ms == 0 || file.run_timeout_ms == 0 {
            return Err(invalid(
                "max_steps, step_timeout_ms and run_timeout_ms must be positive".into(),
            ));
        }
        Ok(Graph {
            name: file.name,
            entry: file.entry,
            max_steps: file.max_steps,
            step_timeout: Duration::from_millis(file.step_timeout_ms),
            run_timeout: Duration::from_millis(file.run_timeout_ms),
            roles,
            edges: file.edges,
        })
    }

    /// The role called `name`.
    pub fn role(&self, name: &str) -> Option<&RoleNode> {
        self.roles.get(name)
    }

    /// Every role.
    pub fn roles(&self) -> impl Iterator<Item = &RoleNode> {
        self.roles.values()
    }

    /// The edge a handoff from `from` with `outcome` takes, for a task of
    /// `template`: a template-specific edge first, else the general one.
    pub fn edge(&self, from: &str, outcome: &str, template: Option<&str>) -> Option<&Edge> {
        let matching = || {
            self.edges
                .iter()
                .filter(move |e| e.from == from && e.on == outcome)
        };
        template
            .and_then(|t| matching().find(|e| e.templates.iter().any(|x| x == t)))
            .or_else(|| matching().find(|e| e.templates.is_empty()))
    }

    /// The outcomes `role` may report, for error messages.
    pub fn outcomes_of(&self, role: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .edges
            .iter()
            .filter(|e| e.from == role)
            .map(|e| e.on.clone())
            .collect();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_graph_is_the_five_role_swarm() {
        let g = Graph::builtin();
        assert_eq!(g.entry, "planner");
        assert_eq!(g.roles().count(), 5);
        assert!(g.role("reporter").unwrap().is_final);
        let reject = g
            .edge("evaluator", "reject", Some("crispr_knockout"))
            .unwrap();
        assert_eq!((reject.to.as_str(), reject.max), ("coder", Some(2)));
        assert_eq!(reject.exhausted.as_deref(), Some("reporter"));
        assert_eq!(g.edge("planner", "done", None).unwrap().to, "retriever");
        assert!(g.edge("planner", "nonsense", None).is_none());
    }

    #[test]
    fn template_specific_edges_win() {
        let g = Graph::parse(
            "t.toml",
            r#"name = "t"
entry = "a"
[[roles]]
name = "a"
[[roles]]
name = "b"
final = true
[[roles]]
name = "c"
[[edges]]
from = "a"
on = "done"
to = "b"
[[edges]]
from = "a"
on = "done"
to = "c"
templates = ["x"]
"#,
        )
        .unwrap();
        assert_eq!(g.edge("a", "done", Some("x")).unwrap().to, "c");
        assert_eq!(g.edge("a", "done", Some("y")).unwrap().to, "b");
        assert_eq!(g.edge("a", "done", None).unwrap().to, "b");
    }

    #[test]
    fn invalid_graphs_say_what_to_fix() {
        let err = |text: &str| Graph::parse("g.toml", text).unwrap_err().to_string();
        let base = "name = \"g\"\nentry = \"a\"\n[[roles]]\nname = \"a\"\nfinal = true\n";
        assert!(
            err("name = \"g\"\nentry = \"zz\"\n[[roles]]\nname = \"a\"\nfinal = true\n")
                .contains("entry `zz` is not a role: use one of a")
        );
        assert!(
            err("name = \"g\"\nentry = \"a\"\n[[roles]]\nname = \"a\"\n")
                .contains("no role is final")
        );
        assert!(
            err(&format!(
                "{base}[[edges]]\nfrom = \"a\"\non = \"x\"\nto = \"b\"\n"
            ))
            .contains("edges[0].to: `b` is not a role")
        );
        assert!(
            err(&format!(
                "{base}[[edges]]\nfrom = \"a\"\non = \"x\"\nto = \"a\"\nmax = 0\n"
            ))
            .contains("max is 0")
        );
        assert!(err(&format!("{base}colour = 1\n")).contains("unknown field `colour`"));
    }
}
