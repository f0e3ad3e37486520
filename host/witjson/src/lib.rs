//! Exported component functions as MCP tools: JSON Schema for WIT types, and
//! conversion between JSON and component values ([`Val`]).
//!
//! A [`ToolSignature`] pairs a [`wit_parser::Function`] with the
//! [`Resolve`] that defines its types (as produced by decoding a component).
//! It gives the tool's `inputSchema` ([`ToolSignature::input_schema`]) and
//! `outputSchema` ([`ToolSignature::output_schema`]), turns a `tools/call`
//! arguments object into the function's parameters
//! ([`ToolSignature::args_to_vals`]) and the function's result into the
//! tool result ([`ToolSignature::results_to_output`]). Call
//! [`ToolSignature::check_supported`] when loading a component, to refuse
//! functions whose types have no JSON form.
//!
//! # The JSON mapping
//!
//! This is the contract tool clients see. Schemas are JSON Schema draft
//! 2020-12 (no `$schema` keyword is emitted; 2020-12 is MCP's default).
//! Names (parameters, record fields, enum/variant cases, flags) are the WIT
//! names in snake_case: `gc-content` becomes `gc_content` (see
//! [`snake_case`]; only `-` changes, so the mapping is one-to-one).
//!
//! | WIT | JSON | Schema |
//! |-----|------|--------|
//! | `bool` | `true` / `false` | `{"type":"boolean"}` |
//! | `u8` ... `u64`, `s8` ... `s64` | number | `{"type":"integer","minimum":..,"maximum":..}` with the type's range |
//! | `f32`, `f64` | number | `{"type":"number"}` |
//! | `char` | string of exactly one Unicode scalar value | `{"type":"string","minLength":1,"maxLength":1}` |
//! | `string` | string | `{"type":"string"}` |
//! | `list<T>` | array | `{"type":"array","items":T}` |
//! | `list<T, N>` | array of exactly N items | `items`, `minItems` = `maxItems` = N |
//! | `tuple<A, B>` | array `[a, b]` | `prefixItems`, `"items":false`, `minItems` = `maxItems` |
//! | `record` | object, every field present except that `option` fields may be left out | `properties`, `required`, `"additionalProperties":false` |
//! | `enum` | the case name as a string | `{"type":"string","enum":[..]}` |
//! | `flags` | array of the names of the set flags, no repeats | `{"type":"array","items":{"enum":[..]},"uniqueItems":true}` |
//! | `variant` | a case without payload: `"case"`; with payload: `{"case": payload}` | `oneOf` of the cases |
//! | `option<T>` | `null` for `none`, the value itself for `some` | `{"anyOf":[T,{"type":"null"}]}` |
//! | `result<T, E>` (inside another value) | `{"ok": t}` or `{"err": e}`; `null` for a missing payload | `oneOf` of the two |
//! | `map<string, V>` | object | `{"type":"object","additionalProperties":V}` |
//! | `map<K, V>`, `K` not `string` | array of `[key, value]` pairs | array of 2-item arrays |
//! | type alias (`type a = b`) | as its target | as its target, plus the alias's docs |
//!
//! Details:
//!
//! - Integers are range-checked on input. `u64`/`s64` values beyond 2^53 are
//!   accepted as long as the JSON parser kept them exact (serde_json holds
//!   them as `u64`/`i64`). A number with a zero fraction (`3.0`) counts as an
//!   integer, as in JSON Schema.
//! - Floats accept any JSON number (integers included); an `f32` argument
//!   out of `f32` range is an error. On output NaN and infinities become
//!   `null`, which is why output schemas give floats `"type":["number","null"]`.
//!   `f32` results are written in their shortest decimal form (`0.1`, not
//!   `0.10000000149011612`).
//! - `option<T>`: a record field or parameter of option type is not
//!   `required`; leaving it out and passing `null` both mean `none`. On
//!   output, `none` fields are written as `null` (never left out).
//!   *Limitation:* `option<option<T>>` cannot tell `none` from `some(none)`:
//!   both are written as `null`, and `null` is read as the outer `none`.
//! - WIT doc comments become `description`s: record fields (on the
//!   property), variant cases (on the `oneOf` branch), enum cases and flags
//!   (as a `` - `name`: doc `` list appended to the type's description), and
//!   type docs (on the type's schema, also through aliases). Named records,
//!   variants, enums and flags carry their WIT name as `title`. Everything is
//!   inlined: no `$ref`/`$defs`.
//! - Resources, handles (`own`/`borrow`), `future`, `stream`,
//!   `error-context` have no JSON form; `map` is not accepted as a tool
//!   argument either (JSON objects would silently reorder or merge keys), but
//!   is fine in results. [`ToolSignature::check_supported`] reports them.
//!
//! # Tool arguments and results
//!
//! - The arguments are one object, keyed by the parameters' snake_case names,
//!   with the same rules as a record. A missing `arguments` (JSON `null`)
//!   counts as `{}`.
//! - The function's result becomes MCP `structuredContent`, which must be an
//!   object: a record result is that record's object; anything else is
//!   wrapped as `{"value": ...}`. If the result type is `result<T, E>`, `T`
//!   is the success value (wrapped by the same rule) and `err(e)` becomes
//!   [`ToolOutput::ToolError`] (an MCP tool error, `isError: true`).
//!   A function without a success value (no result, or `result<_, E>`)
//!   has no output schema ([`ToolSignature::output_schema`] is `None`) and
//!   succeeds with `{}`.

#![warn(missing_docs)]

mod check;
mod describe;
mod error;
mod path;
mod schema;
mod to_json;
mod to_val;

use serde_json::{Value, json};
use wasmtime::component::Val;
use wit_parser::{Function, Resolve, Type, TypeDefKind};

pub use error::{ArgError, ArgErrorKind, ConvertError, UnsupportedTypeError};
pub use schema::type_schema;
pub use to_json::val_to_json;
pub use to_val::json_to_val;

use schema::Mode;

/// Converts a WIT name (kebab-case) to the JSON/tool form (snake_case):
/// `gc-content` -> `gc_content`.
///
/// Only `-` is replaced (a leading `%` keyword escape is dropped), so
/// distinct WIT names stay distinct.
pub fn snake_case(wit_name: &str) -> String {
    wit_name.trim_start_matches('%').replace('-', "_")
}

/// Whether `json_name` is `snake_case(wit_name)`, without allocating (the
/// conversions compare names once per value of large lists).
pub(crate) fn is_json_name(wit_name: &str, json_name: &str) -> bool {
    let wit = wit_name.trim_start_matches('%');
    wit.len() == json_name.len()
        && wit
            .bytes()
            .zip(json_name.bytes())
            .all(|(w, j)| if w == b'-' { j == b'_' } else { w == j })
}

/// `snake_case(wit_name)`, borrowed when no `-` has to change.
pub(crate) fn json_name(wit_name: &str) -> std::borrow::Cow<'_, str> {
    let wit = wit_name.trim_start_matches('%');
    if wit.contains('-') {
        std::borrow::Cow::Owned(wit.replace('-', "_"))
    } else {
        std::borrow::Cow::Borrowed(wit)
    }
}

/// Follows type aliases (`type a = b;`, and `use`d types) to the type they name.
pub(crate) fn dealias(resolve: &Resolve, ty: &Type) -> Type {
    let mut ty = *ty;
    while let Type::Id(id) = ty
        && let TypeDefKind::Type(target) = &resolve.types[id].kind
    {
        ty = *target;
    }
    ty
}

/// Whether `ty` is (an alias of) `option<T>`.
pub(crate) fn is_option(resolve: &Resolve, ty: &Type) -> bool {
    matches!(dealias(resolve, ty), Type::Id(id) if matches!(resolve.types[id].kind, TypeDefKind::Option(_)))
}

/// Whether `ty` is (an alias of) a record.
fn is_record(resolve: &Resolve, ty: &Type) -> bool {
    matches!(dealias(resolve, ty), Type::Id(id) if matches!(resolve.types[id].kind, TypeDefKind::Record(_)))
}

/// The outcome of a tool call, from the function's result.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    /// Success: the structured content, an object matching
    /// [`ToolSignature::output_schema`] (`{}` when there is no output schema).
    Success(Value),
    /// The function returned `result::err(e)`.
    ToolError {
        /// A human-readable message: the error itself if it is a string (or
        /// an enum / payload-less variant case); `name: text` for a
        /// one-key object whose value is a string (e.g. a variant case with
        /// a string payload); otherwise the compact JSON of the error.
        message: String,
        /// The error `e` as JSON (`null` when the error type is absent).
        detail: Value,
    },
}

/// One exported function viewed as a tool signature.
#[derive(Debug, Clone, Copy)]
pub struct ToolSignature<'a> {
    /// The resolve that defines the function's types.
    pub resolve: &'a Resolve,
    /// The function.
    pub func: &'a Function,
}

impl<'a> ToolSignature<'a> {
    /// Pairs a function with the resolve its types live in.
    pub fn new(resolve: &'a Resolve, func: &'a Function) -> Self {
        ToolSignature { resolve, func }
    }

    /// The function's WIT doc comment, if any: the natural tool description.
    pub fn description(&self) -> Option<&'a str> {
        self.func.docs.contents.as_deref()
    }

    /// Checks that every parameter and the result can be written as JSON.
    ///
    /// The error names the first offending parameter (or the result) and the
    /// WIT type: resources, handles, `future`, `stream`, `error-context`
    /// anywhere, and `map` in parameters.
    pub fn check_supported(&self) -> Result<(), UnsupportedTypeError> {
        let error =
            |param: Option<&str>, (path, wit_type): (String, String)| UnsupportedTypeError {
                function: self.func.name.clone(),
                param: param.map(str::to_owned),
                path,
                wit_type,
            };
        for param in &self.func.params {
            let path = snake_case(&param.name);
            if let Some(found) =
                check::find_unsupported(self.resolve, &param.ty, false, &path::Path::Root(&path))
            {
                return Err(error(Some(&param.name), found));
            }
        }
        if let Some(ty) = &self.func.result
            && let Some(found) = check::find_unsupported(self.resolve, ty, true, &path::Path::TOP)
        {
            return Err(error(None, found));
        }
        Ok(())
    }

    /// JSON Schema (draft 2020-12) of the arguments object:
    /// `{"type":"object","properties":{...},"required":[...],"additionalProperties":false}`.
    ///
    /// Property names are the parameters' snake_case names; a parameter of
    /// type `option<T>` is not required (missing or `null` -> `none`).
    /// Descriptions come from WIT doc comments where present (record fields,
    /// enum/variant cases, type docs); WIT has no docs on parameters.
    pub fn input_schema(&self) -> Value {
        let params = self
            .func
            .params
            .iter()
            .map(|p| (p.name.as_str(), &p.ty, None));
        schema::object_schema(self.resolve, params, Mode::Input)
    }

    /// The success type: the result type, or `T` of `result<T, E>`; `None`
    /// when the function returns nothing or `result<_, E>`.
    fn success_type(&self) -> Option<&'a Type> {
        let ty = self.func.result.as_ref()?;
        match dealias(self.resolve, ty) {
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::Result(r) => r.ok.as_ref(),
                _ => Some(ty),
            },
            _ => Some(ty),
        }
    }

    /// JSON Schema of the structured output, always an object (MCP requires
    /// `structuredContent` to be one).
    ///
    /// If the success type is a record, that record's object schema;
    /// otherwise `{"type":"object","properties":{"value":<schema>},"required":["value"],"additionalProperties":false}`.
    /// For `result<T, E>` the success type is `T` (`E` is the tool-error
    /// case). `None` when there is no success value (no result, or
    /// `result<_, E>`): the output is then always `{}`.
    pub fn output_schema(&self) -> Option<Value> {
        let ty = self.success_type()?;
        let s = schema::schema(self.resolve, ty, Mode::Output);
        Some(if is_record(self.resolve, ty) {
            s
        } else {
            json!({
                "type": "object",
                "properties": {"value": s},
                "required": ["value"],
                "additionalProperties": false,
            })
        })
    }

    /// Converts a JSON arguments object to the component values of the
    /// parameters, in order. `null` counts as `{}`.
    pub fn args_to_vals(&self, args: &Value) -> Result<Vec<Val>, ArgError> {
        let empty = Value::Object(Default::default());
        let args = if args.is_null() { &empty } else { args };
        if !args.is_object() {
            return Err(ArgError {
                path: String::new(),
                expected: "a JSON object".into(),
                found: describe::found(args),
                kind: ArgErrorKind::NotAnObject,
            });
        }
        let params = self.func.params.iter().map(|p| (p.name.as_str(), &p.ty));
        let vals = to_val::object_to_vals(self.resolve, params, args, &path::Path::TOP)?;
        Ok(vals.into_iter().map(|(_, val)| val).collect())
    }

    /// Converts the function's results (0 or 1 value) to the tool outcome.
    pub fn results_to_output(&self, results: &[Val]) -> Result<ToolOutput, ConvertError> {
        let count = |expected| ConvertError::ResultCount {
            expected,
            found: results.len(),
        };
        let Some(ty) = &self.func.result else {
            return if results.is_empty() {
                Ok(ToolOutput::Success(json!({})))
            } else {
                Err(count(0))
            };
        };
        let [val] = results else {
            return Err(count(1));
        };
        if let Type::Id(id) = dealias(self.resolve, ty)
            && let TypeDefKind::Result(r) = &self.resolve.types[id].kind
        {
            return match val {
                Val::Result(Ok(payload)) => match (&r.ok, payload) {
                    (Some(ok), Some(payload)) => {
                        let json = to_json::to_json(self.resolve, ok, payload, &path::Path::TOP)?;
                        Ok(ToolOutput::Success(self.wrap(ok, json)))
                    }
                    _ => {
                        to_json::payload_to_json(
                            self.resolve,
                            &r.ok,
                            payload.as_deref(),
                            &path::Path::Root("ok"),
                        )?;
                        Ok(ToolOutput::Success(json!({})))
                    }
                },
                Val::Result(Err(payload)) => {
                    let detail = to_json::payload_to_json(
                        self.resolve,
                        &r.err,
                        payload.as_deref(),
                        &path::Path::Root("err"),
                    )?;
                    Ok(ToolOutput::ToolError {
                        message: error_message(&detail),
                        detail,
                    })
                }
                other => Err(ConvertError::Mismatch {
                    path: String::new(),
                    expected: format!("a `{}`", describe::wit_type_name(self.resolve, ty)),
                    found: describe::val_kind(other),
                }),
            };
        }
        let json = to_json::to_json(self.resolve, ty, val, &path::Path::TOP)?;
        Ok(ToolOutput::Success(self.wrap(ty, json)))
    }

    /// Records are the structured content as is; anything else is `{"value": json}`.
    fn wrap(&self, ty: &Type, json: Value) -> Value {
        if is_record(self.resolve, ty) {
            json
        } else {
            to_json::single("value", json)
        }
    }
}

/// The human-readable message of a tool error (see [`ToolOutput::ToolError`]).
fn error_message(detail: &Value) -> String {
    match detail {
        Value::Null => "the tool reported an error".into(),
        Value::String(s) => s.clone(),
        Value::Object(obj) if obj.len() == 1 => match obj.iter().next() {
            Some((key, Value::String(text))) => format!("{key}: {text}"),
            _ => detail.to_string(),
        },
        _ => detail.to_string(),
    }
}

/// Collects `len` fallible conversions into a vector allocated once:
/// `collect::<Result<Vec<_>, _>>()` cannot know the length and grows by
/// doubling, which for a list of 100,000 values copied it many times over
/// and touched twice the memory.
pub(crate) fn collect_exact<T, E>(
    len: usize,
    items: impl Iterator<Item = Result<T, E>>,
) -> Result<Vec<T>, E> {
    let mut out = Vec::with_capacity(len);
    for item in items {
        out.push(item?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
