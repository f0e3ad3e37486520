//! Template BioAiSaaS plugin: the tool `hello.greet`.
//!
//! Copy this crate to start a plugin. The tools are the functions of the
//! interfaces exported by the world in `wit/world.wit`; their WIT doc
//! comments become the tool descriptions.

// Bindings for the world `hello` of package `example:hello` (wit/world.wit).
bioai_sdk::generate!("example:hello/hello");

use bioai_sdk::{ToolError, ensure};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::example::hello::greeter;

/// Longest accepted name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// The component: implements every exported interface.
struct Hello;

impl metadata::Guest for Hello {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("hello".into()),
            title: "Hello".into(),
            description: "Friendly greetings (template plugin).".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            tools: vec![ToolInfo {
                name: "greet".into(),
                title: Some("Greet someone".into()),
                annotations: None,
            }],
            pricing: None,
        }
    }
}

impl greeter::Guest for Hello {
    fn greet(name: String) -> Result<String, String> {
        let name = name.trim();
        ensure!(
            !name.is_empty(),
            ToolError::invalid_argument(
                "name",
                "must not be empty; pass who to greet, e.g. \"Ada\""
            )
        );
        let chars = name.chars().count();
        ensure!(
            chars <= MAX_NAME_CHARS,
            ToolError::invalid_argument(
                "name",
                format!("is {chars} characters long; at most {MAX_NAME_CHARS} are allowed")
            )
        );
        bioai_sdk::log!(info, "greeting"; chars = chars);
        Ok(format!("Hello, {name}!"))
    }
}

export!(Hello);
