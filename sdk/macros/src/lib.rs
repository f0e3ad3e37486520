//! Procedural macros of `bioai-sdk`. Use them through `bioai-sdk`
//! (`bioai_sdk::generate!`); this crate is an implementation detail.

use proc_macro::TokenStream;
use proc_macro2::{Literal, Span};
use quote::quote;
use std::path::{Path, PathBuf};
use wit_parser::Resolve;

/// Name of the custom section holding the plugin's WIT package, binary
/// encoded with its documentation (see `bioai_sdk::generate!`).
const WIT_SECTION: &str = "bioai-plugin-wit";

/// See `bioai_sdk::generate!`.
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    let world = syn::parse_macro_input!(input as syn::LitStr);
    match expand(&world) {
        Ok(tokens) => tokens.into(),
        Err(e) => syn::Error::new(world.span(), format!("{e:#}"))
            .to_compile_error()
            .into(),
    }
}

/// The `bioai:plugin` WIT directory, found relative to this crate's source
/// (`sdk/macros/../../wit`) when the macro crate was compiled.
fn sdk_wit_dir() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
    dir.canonicalize().map_err(|e| {
        format!(
            "bioai-sdk: cannot find the bioai:plugin WIT package at {}: {e}",
            dir.display()
        )
    })
}

fn expand(world: &syn::LitStr) -> Result<proc_macro2::TokenStream, String> {
    let sdk_wit = sdk_wit_dir()?;
    let sdk_wit_str = sdk_wit
        .to_str()
        .ok_or("bioai-sdk: the path of the bioai:plugin WIT package is not UTF-8")?
        .to_string();
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| "CARGO_MANIFEST_DIR is not set (build with cargo)")?;
    let crate_wit = Path::new(&crate_dir).join("wit");

    // Same inputs as the `wit_bindgen::generate!` call below: load them here
    // to embed the world's package, with its doc comments, in the component.
    let mut resolve = Resolve::default();
    let (sdk_pkg, _) = resolve.push_path(&sdk_wit).map_err(|e| format!("{e:#}"))?;
    let (own_pkg, _) = resolve.push_path(&crate_wit).map_err(|e| {
        format!(
            "{e:#}\n(bioai_sdk::generate! reads your WIT from {}; it loads bioai:plugin itself, \
             so keep no copy of it in wit/deps)",
            crate_wit.display()
        )
    })?;
    let world_id = resolve
        .select_world(&[sdk_pkg, own_pkg], Some(&world.value()))
        .map_err(|e| {
            format!("{e:#}\n(give the world's full name, e.g. \"example:hello/hello\")")
        })?;
    let pkg = resolve.worlds[world_id]
        .package
        .ok_or("the world does not belong to a package")?;
    let encoded = wit_component::encode(&resolve, pkg).map_err(|e| format!("{e:#}"))?;
    let len = encoded.len();
    let bytes = Literal::byte_string(&encoded);
    let section = Literal::string(WIT_SECTION);
    let sdk_wit_lit = Literal::string(&sdk_wit_str);
    let static_name = syn::Ident::new("__BIOAI_PLUGIN_WIT", Span::call_site());

    Ok(quote! {
        bioai_sdk::__private::wit_bindgen::generate!({
            path: [#sdk_wit_lit, "wit"],
            world: #world,
            with: {
                "bioai:plugin/log@0.1.0": bioai_sdk::bindings::bioai::plugin::log,
                "bioai:plugin/progress@0.1.0": bioai_sdk::bindings::bioai::plugin::progress,
            },
            generate_all,
            runtime_path: "bioai_sdk::__private::wit_bindgen::rt",
        });

        /// The plugin's WIT package with its docs (binary WIT encoding), for
        /// the host's tool descriptions.
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[used]
        #[unsafe(link_section = #section)]
        static #static_name: [u8; #len] = *#bytes;
    })
}
