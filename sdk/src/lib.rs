//! # bioai-sdk: write BioAiSaaS plugins in Rust
//!
//! A BioAiSaaS plugin is a WASI 0.2 WebAssembly component. Every function it
//! exports becomes an MCP tool named `<namespace>.<function>` (kebab-case WIT
//! names become snake_case: `gc-content` in namespace `seq` is the tool
//! `seq.gc_content`). The doc comments of your WIT become the tool
//! descriptions, so document every function and parameter there.
//!
//! This SDK gives you:
//!
//! - [`generate!`]: `wit_bindgen::generate!` preconfigured for a world that
//!   includes `bioai:plugin/plugin@0.1.0`, which also embeds your WIT docs
//!   (the tool descriptions) in the component;
//! - [`log`](mod@crate::log) and the [`log!`](macro@crate::log) macro:
//!   structured logging into the host's log;
//! - [`progress`]: progress reports that the host forwards to the MCP client;
//! - [`client`]: requests to the MCP client during a tool call (sampling its
//!   LLM, eliciting input from its user, listing its roots);
//! - [`ToolError`], [`bail!`] and [`ensure!`]: consistent error strings for
//!   `result<T, string>` returns;
//! - [`http`]: blocking outgoing HTTP `GET` over `wasi:http`, with a response
//!   size cap and errors that say when the plugin's policy refused a host;
//! - [`bindings`]: the raw import bindings of `bioai:plugin/log` and
//!   `bioai:plugin/progress`, if you need them.
//!
//! None of these is required: any component loads as a plugin. `log` and
//! `progress` calls made *outside* WebAssembly (in native unit tests of your
//! pure logic) print to stderr / do nothing instead of failing.
//!
//! ## A complete minimal plugin
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "hello"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! # A path into a checkout of the BioAiSaaS repository, or a git dependency
//! # on it (the SDK reads `wit/plugin.wit` from the repository).
//! bioai-sdk = { path = "../bioai/sdk" }
//! ```
//!
//! `wit/world.wit` (only your own package: the SDK supplies `bioai:plugin`,
//! so do not add a `wit/deps/` copy of it):
//!
//! ```wit
//! package example:hello@0.1.0;
//!
//! /// Friendly greetings.
//! interface greeter {
//!     /// Greets `name`. Fails when `name` is empty.
//!     greet: func(name: string) -> result<string, string>;
//! }
//!
//! world hello {
//!     include bioai:plugin/plugin@0.1.0;
//!     export greeter;
//! }
//! ```
//!
//! `src/lib.rs`:
//!
//! ```ignore
//! bioai_sdk::generate!("example:hello/hello");
//!
//! use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo};
//! use exports::example::hello::greeter;
//!
//! struct Hello;
//!
//! impl metadata::Guest for Hello {
//!     fn describe() -> PluginInfo {
//!         PluginInfo {
//!             namespace: Some("hello".into()),
//!             title: "Hello".into(),
//!             description: "Friendly greetings.".into(),
//!             version: env!("CARGO_PKG_VERSION").into(),
//!             annotations: Annotations {
//!                 read_only: true,
//!                 destructive: false,
//!                 idempotent: true,
//!                 open_world: false,
//!             },
//!             tools: Vec::new(),
//!             pricing: None,
//!         }
//!     }
//! }
//!
//! impl greeter::Guest for Hello {
//!     fn greet(name: String) -> Result<String, String> {
//!         bioai_sdk::ensure!(
//!             !name.is_empty(),
//!             bioai_sdk::ToolError::invalid_argument("name", "must not be empty")
//!         );
//!         bioai_sdk::log!(info, "greeting"; name = name);
//!         Ok(format!("Hello, {name}!"))
//!     }
//! }
//!
//! export!(Hello);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`: the
//! `cdylib` in `target/wasm32-wasip2/release/hello.wasm` is already a
//! component (check with `wasm-tools component wit hello.wasm`).
//!
//! ## Prompts, resources, completions and header parameters
//!
//! Besides tools, a plugin may offer MCP prompts, resources and argument
//! completions, and name tool parameters that clients mirror into HTTP
//! headers, by exporting the optional interfaces of `bioai:plugin`
//! (`wit/plugin.wit` documents every type). Add the ones you want to your
//! world and implement their `Guest` traits like your own interfaces':
//!
//! ```wit
//! world hello {
//!     include bioai:plugin/plugin@0.1.0;
//!     export greeter;
//!     export bioai:plugin/prompts@0.1.0;      // list-prompts, get-prompt
//!     export bioai:plugin/resources@0.1.0;    // list-resources, list-templates, read-resource
//!     export bioai:plugin/completions@0.1.0;  // complete
//!     export bioai:plugin/headers@0.1.0;      // header-params
//! }
//! ```
//!
//! ```ignore
//! use exports::bioai::plugin::prompts::{self, Message, Prompt, Rendered, Role};
//! use bioai::plugin::content::Block;
//!
//! impl prompts::Guest for Hello {
//!     fn list_prompts() -> Vec<Prompt> {
//!         vec![Prompt {
//!             name: "welcome".into(),
//!             title: None,
//!             description: "Welcomes a new user".into(),
//!             arguments: Vec::new(),
//!         }]
//!     }
//!     fn get_prompt(name: String, _arguments: Vec<(String, String)>) -> Result<Rendered, String> {
//!         bioai_sdk::ensure!(name == "welcome", "no prompt named `{name}`");
//!         Ok(Rendered {
//!             description: None,
//!             messages: vec![Message { role: Role::User, content: Block::Text("Hello!".into()) }],
//!         })
//!     }
//! }
//! ```
//!
//! The host calls `list-prompts`, `list-resources`, `list-templates` and
//! `header-params` once when it loads the plugin (keep them cheap); prompt names get the plugin's
//! namespace like tools (`hello.welcome`). `read-resource` receives every
//! URI you list and every URI matching one of your templates (`{name}`
//! matches one path segment, `{+name}` anything) and returns `Ok(None)` for
//! one that does not exist. Every call runs under the plugin's policy, like
//! a tool call.
//!
//! ## Without the `generate!` macro
//!
//! [`generate!`] is shorthand; the long form, with `wit-bindgen` as a direct
//! dependency of your crate and `bioai:plugin` copied (or symlinked) to
//! `wit/deps/bioai-plugin/plugin.wit`, is:
//!
//! ```ignore
//! wit_bindgen::generate!({
//!     world: "hello",
//!     with: {
//!         "bioai:plugin/log@0.1.0": bioai_sdk::bindings::bioai::plugin::log,
//!         "bioai:plugin/progress@0.1.0": bioai_sdk::bindings::bioai::plugin::progress,
//!     },
//!     generate_all,
//! });
//! ```
//!
//! The `with` entries make your bindings reuse the SDK's imports, so the
//! [`log`](mod@crate::log) and [`progress`] helpers talk to the same imports
//! as your world. What the long form does *not* do is embed your WIT's doc
//! comments (see [`generate!`]): `wit-bindgen` and `wasm-component-ld` drop
//! them, so the host would have no tool descriptions.

#![warn(missing_docs)]

/// Raw bindings of the `bioai:plugin/imports` world (the `log`,
/// `progress` and `client` imports), generated by `wit-bindgen`.
///
/// Plugins map their own bindings of these interfaces here with
/// `with: { "bioai:plugin/log@0.1.0": bioai_sdk::bindings::bioai::plugin::log, ... }`
/// (which [`generate!`] does for you). Prefer the [`log`](mod@crate::log) and
/// [`progress`] helpers over calling these directly.
pub mod bindings {
    #![allow(missing_docs)]
    wit_bindgen::generate!({
        path: "../wit",
        world: "bioai:plugin/imports",
    });
}

pub mod agent;
pub mod client;
pub mod http;
pub mod log;
pub mod progress;

mod error;
pub use error::{ErrorKind, ToolError};

/// Generates the bindings of a plugin world that includes
/// `bioai:plugin/plugin@0.1.0`, and embeds the world's WIT package (with its
/// doc comments) in the component.
///
/// The single argument is the **fully qualified** name of your world, such as
/// `"example:hello/hello"` (the version may be omitted). Invoke it once per
/// crate, usually at the crate root. It expands to `wit_bindgen::generate!`
/// with:
///
/// - `path`: this SDK's `bioai:plugin` WIT package followed by your crate's
///   `wit/` directory. Your `wit/` holds only your own package (plus any
///   other dependencies in `wit/deps/`), and must *not* contain a copy of
///   `bioai:plugin`: a package may be loaded only once;
/// - `with`: the `log` and `progress` imports mapped to [`bindings`], so the
///   [`log`](mod@crate::log) and [`progress`] helpers are what your plugin
///   calls;
/// - `generate_all`: anything else your world uses (for example WASI
///   interfaces) is generated in your crate;
/// - `runtime_path` pointing at the SDK's re-export of `wit-bindgen`, so your
///   crate does not need `wit-bindgen` as a dependency. The generated code
///   names the SDK `bioai_sdk`, so do not rename the dependency.
///
/// It defines, where it is invoked, what `wit_bindgen::generate!` would:
/// the `exports::...` modules with the `Guest` traits to implement (for
/// example `exports::bioai::plugin::metadata::Guest`) and the `export!`
/// macro.
///
/// WIT doc comments do not survive into a component built by `wit-bindgen`
/// and `wasm-component-ld`. So that the host can still use them as tool
/// descriptions, the macro also adds a custom section named
/// `bioai-plugin-wit` to the core module, holding your world's package in
/// the binary WIT format (as `wasm-tools component wit --wasm` writes it,
/// docs included).
///
/// ```ignore
/// bioai_sdk::generate!("example:hello/hello");
///
/// struct Hello;
/// // impl exports::bioai::plugin::metadata::Guest for Hello { ... }
/// // impl exports::example::hello::greeter::Guest for Hello { ... }
/// export!(Hello);
/// ```
pub use bioai_sdk_macros::generate;

/// Implementation details of the SDK's macros. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

/// Returns early from a tool function with an error.
///
/// With a format string, the error is a plain message; with any other
/// expression (usually a [`ToolError`]), that value is the error. Either is
/// converted with [`From`] into the function's error type, so it works in
/// functions returning `Result<T, String>` (what a WIT `result<T, string>`
/// maps to) as well as `Result<T, ToolError>`.
///
/// ```
/// use bioai_sdk::{bail, ToolError};
///
/// fn codon(table: u8) -> Result<&'static str, String> {
///     if table == 7 {
///         bail!(ToolError::unsupported(format!("genetic code {table} was merged into 4")));
///     }
///     if table > 33 {
///         bail!("genetic code {table} does not exist");
///     }
///     Ok("ATG")
/// }
///
/// assert_eq!(codon(40).unwrap_err(), "genetic code 40 does not exist");
/// assert_eq!(codon(7).unwrap_err(), "unsupported: genetic code 7 was merged into 4");
/// ```
#[macro_export]
macro_rules! bail {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {
        return ::core::result::Result::Err(::core::convert::From::from(
            $crate::ToolError::message(::std::format!($fmt $(, $arg)*)),
        ))
    };
    ($err:expr $(,)?) => {
        return ::core::result::Result::Err(::core::convert::From::from($err))
    };
}

/// The `tool-details` listing of argument descriptions and defaults, in the
/// types `generate!` made for your world (which must export
/// `bioai:plugin/tool-details@0.1.0`). Each tool is its WIT name and its
/// arguments: WIT name, a one-line description, and the default the tool
/// uses when the argument is absent, as JSON text (`Some("0.4".into())`,
/// `Some("\"NGG\"".into())`, or `None` for a required argument or one
/// without a default). The host serves them in the tool's input schema as
/// each property's `description` and `default`, and refuses the plugin when
/// a default is not a value of the parameter's type.
///
/// ```ignore
/// impl exports::bioai::plugin::tool_details::Guest for Hello {
///     fn tool_details() -> Vec<exports::bioai::plugin::tool_details::ToolDetail> {
///         bioai_sdk::argument_details! {
///             "greet" => [
///                 ("name", "who to greet", None),
///                 ("times", "how often, 1 to 10", Some(DEFAULT_TIMES.to_string())),
///             ],
///         }
///     }
/// }
/// ```
///
/// Keep the defaults next to the code that applies them (one constant for
/// both), and test that a call giving every default explicitly returns what
/// a call leaving them out returns.
#[macro_export]
macro_rules! argument_details {
    ($($tool:literal => [$(($arg:literal, $description:expr, $default:expr)),* $(,)?]),* $(,)?) => {
        ::std::vec![$(
            exports::bioai::plugin::tool_details::ToolDetail {
                tool: ::std::string::String::from($tool),
                name: ::core::option::Option::None,
                input_schema: ::core::option::Option::None,
                requires: ::std::vec::Vec::new(),
                arguments: ::std::vec![$(
                    exports::bioai::plugin::tool_details::ArgumentDetail {
                        name: ::std::string::String::from($arg),
                        description: ::core::option::Option::Some(
                            ::std::string::String::from($description),
                        ),
                        default_json: $default,
                    }
                ),*],
            }
        ),*]
    };
}

/// Returns early with an error unless a condition holds.
///
/// `ensure!(cond, ...)` is `if !cond { bail!(...) }`; the error takes the
/// same forms as in [`bail!`].
///
/// ```
/// use bioai_sdk::{ensure, ToolError};
///
/// fn window(size: u32) -> Result<u32, String> {
///     ensure!(size > 0, ToolError::invalid_argument("size", "must be at least 1"));
///     ensure!(size <= 10_000, "window of {size} is too large (at most 10000)");
///     Ok(size)
/// }
///
/// assert_eq!(window(0).unwrap_err(), "invalid argument `size`: must be at least 1");
/// assert!(window(20_000).is_err());
/// ```
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($err:tt)+) => {
        if !$cond {
            $crate::bail!($($err)+);
        }
    };
}

/// Emits a structured log record through the host's log.
///
/// `log!(level, "format string", args...; key = value, ...)` where `level`
/// is one of `trace`, `debug`, `info`, `warn`, `error`; the message is built
/// with [`format!`]; each field value is formatted with its
/// [`Display`](core::fmt::Display) implementation and its key is the
/// identifier's name. Fields are optional.
///
/// ```
/// let records = 3;
/// let path = "reads.fasta";
/// bioai_sdk::log!(info, "parsed {records} records");
/// bioai_sdk::log!(debug, "parsed {} records", records; records = records, source = path);
/// bioai_sdk::log!(warn, "partial codon ignored"; length = 10);
/// ```
#[macro_export]
macro_rules! log {
    ($level:ident, $fmt:literal $(, $arg:expr)* $(,)? $(; $($key:ident = $value:expr),* $(,)?)?) => {
        $crate::log::log(
            $crate::__log_level!($level),
            &::std::format!($fmt $(, $arg)*),
            &[$($((::core::stringify!($key), ::std::string::ToString::to_string(&$value).as_str())),*)?],
        )
    };
}

/// Maps a level name to [`log::Level`]. Used by [`log!`](macro@crate::log).
#[doc(hidden)]
#[macro_export]
macro_rules! __log_level {
    (trace) => {
        $crate::log::Level::Trace
    };
    (debug) => {
        $crate::log::Level::Debug
    };
    (info) => {
        $crate::log::Level::Info
    };
    (warn) => {
        $crate::log::Level::Warn
    };
    (error) => {
        $crate::log::Level::Error
    };
}
