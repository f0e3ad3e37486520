//! JSON Schema (draft 2020-12) for WIT types.

use serde_json::{Map, Value, json};
use wit_parser::{Docs, Record, Resolve, Type, TypeDef, TypeDefKind};

use crate::describe::{int_range, wit_type_name};
use crate::{dealias, is_option, snake_case};

/// Which direction the schema describes. They differ only for floats: output
/// turns NaN and infinities into `null`, so output float schemas allow `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Input,
    Output,
}

/// JSON Schema (draft 2020-12) of the JSON form of values of `ty`, as accepted
/// by [`json_to_val`](crate::json_to_val).
///
/// Everything is inlined (WIT types are never recursive), so the schema has no
/// `$ref`s. WIT doc comments become `description`s; named records, variants,
/// enums and flags get their WIT name as `title`. Types with no JSON form
/// (resources, handles, futures, streams, error-context) get the schema
/// `{"not": {}}` (matches nothing) with a `description` saying why.
///
/// The schema of *output* values (see
/// [`ToolSignature::output_schema`](crate::ToolSignature::output_schema))
/// differs only in that `f32`/`f64` also allow `null`.
pub fn type_schema(resolve: &Resolve, ty: &Type) -> Value {
    schema(resolve, ty, Mode::Input)
}

pub(crate) fn schema(resolve: &Resolve, ty: &Type, mode: Mode) -> Value {
    if let Some((min, max)) = int_range(ty) {
        return json!({"type": "integer", "minimum": int(min), "maximum": int(max)});
    }
    match ty {
        Type::Bool => json!({"type": "boolean"}),
        Type::F32 | Type::F64 => match mode {
            Mode::Input => json!({"type": "number"}),
            Mode::Output => json!({"type": ["number", "null"]}),
        },
        Type::Char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
        Type::String => json!({"type": "string"}),
        Type::Id(id) => typedef_schema(resolve, ty, &resolve.types[*id], mode),
        _ => unsupported(resolve, ty),
    }
}

/// An integer bound as a JSON number (bounds always fit `i64` or `u64`).
fn int(n: i128) -> Value {
    if let Ok(n) = i64::try_from(n) {
        n.into()
    } else if let Ok(n) = u64::try_from(n) {
        n.into()
    } else {
        Value::Null
    }
}

fn unsupported(resolve: &Resolve, ty: &Type) -> Value {
    json!({
        "not": {},
        "description": format!(
            "the WIT type `{}` has no JSON form",
            wit_type_name(resolve, ty)
        ),
    })
}

fn typedef_schema(resolve: &Resolve, ty: &Type, def: &TypeDef, mode: Mode) -> Value {
    let sub = |t: &Type| schema(resolve, t, mode);
    let mut extra_docs = None;
    let mut titled = false;
    let mut s = match &def.kind {
        TypeDefKind::Record(r) => {
            titled = true;
            record_schema(resolve, r, mode)
        }
        TypeDefKind::Flags(f) => {
            titled = true;
            extra_docs = case_docs(f.flags.iter().map(|f| (&f.name, &f.docs)));
            if f.flags.is_empty() {
                json!({"type": "array", "maxItems": 0})
            } else {
                let names: Vec<String> = f.flags.iter().map(|f| snake_case(&f.name)).collect();
                json!({
                    "type": "array",
                    "items": {"type": "string", "enum": names},
                    "uniqueItems": true,
                })
            }
        }
        TypeDefKind::Tuple(t) => {
            let n = t.types.len();
            if n == 0 {
                json!({"type": "array", "maxItems": 0})
            } else {
                let items: Vec<Value> = t.types.iter().map(sub).collect();
                json!({
                    "type": "array",
                    "prefixItems": items,
                    "items": false,
                    "minItems": n,
                    "maxItems": n,
                })
            }
        }
        TypeDefKind::Variant(v) => {
            titled = true;
            let cases: Vec<Value> = v
                .cases
                .iter()
                .map(|c| {
                    let name = snake_case(&c.name);
                    let case = match &c.ty {
                        None => json!({"type": "string", "const": name}),
                        Some(t) => single_key_object(&name, sub(t)),
                    };
                    with_docs(case, &c.docs)
                })
                .collect();
            one_of(cases)
        }
        TypeDefKind::Enum(e) => {
            titled = true;
            extra_docs = case_docs(e.cases.iter().map(|c| (&c.name, &c.docs)));
            if e.cases.is_empty() {
                json!({"not": {}})
            } else {
                let names: Vec<String> = e.cases.iter().map(|c| snake_case(&c.name)).collect();
                json!({"type": "string", "enum": names})
            }
        }
        TypeDefKind::Option(t) => json!({"anyOf": [sub(t), {"type": "null"}]}),
        TypeDefKind::Result(r) => {
            let payload =
                |t: &Option<Type>| t.as_ref().map_or_else(|| json!({"type": "null"}), sub);
            one_of(vec![
                single_key_object("ok", payload(&r.ok)),
                single_key_object("err", payload(&r.err)),
            ])
        }
        TypeDefKind::List(t) => json!({"type": "array", "items": sub(t)}),
        TypeDefKind::FixedLengthList(t, n) => {
            json!({"type": "array", "items": sub(t), "minItems": n, "maxItems": n})
        }
        TypeDefKind::Map(k, v) => {
            if dealias(resolve, k) == Type::String {
                json!({"type": "object", "additionalProperties": sub(v)})
            } else {
                json!({
                    "type": "array",
                    "items": {
                        "type": "array",
                        "prefixItems": [sub(k), sub(v)],
                        "items": false,
                        "minItems": 2,
                        "maxItems": 2,
                    },
                })
            }
        }
        TypeDefKind::Type(t) => sub(t),
        TypeDefKind::Resource
        | TypeDefKind::Handle(_)
        | TypeDefKind::Future(_)
        | TypeDefKind::Stream(_)
        | TypeDefKind::Unknown => unsupported(resolve, ty),
    };
    if let (true, Some(name), Value::Object(obj)) = (titled, &def.name, &mut s) {
        obj.insert("title".into(), Value::String(name.clone()));
    }
    if let Some(extra) = extra_docs {
        s = add_description(s, &extra);
    }
    with_docs(s, &def.docs)
}

/// `{"type":"object","properties":{...},"required":[...],"additionalProperties":false}`
/// of a record (or of a function's parameters).
pub(crate) fn object_schema<'a>(
    resolve: &Resolve,
    fields: impl Iterator<Item = (&'a str, &'a Type, Option<&'a Docs>)>,
    mode: Mode,
) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, ty, docs) in fields {
        let name = snake_case(name);
        let mut s = schema(resolve, ty, mode);
        if let Some(docs) = docs {
            s = with_docs(s, docs);
        }
        if !is_option(resolve, ty) {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, s);
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn record_schema(resolve: &Resolve, r: &Record, mode: Mode) -> Value {
    let fields = r
        .fields
        .iter()
        .map(|f| (f.name.as_str(), &f.ty, Some(&f.docs)));
    object_schema(resolve, fields, mode)
}

fn single_key_object(key: &str, value: Value) -> Value {
    json!({
        "type": "object",
        "properties": {key: value},
        "required": [key],
        "additionalProperties": false,
    })
}

fn one_of(cases: Vec<Value>) -> Value {
    if cases.is_empty() {
        json!({"not": {}})
    } else {
        json!({"oneOf": cases})
    }
}

/// The docs of enum cases or flags as a Markdown list, if any has docs.
fn case_docs<'a>(cases: impl Iterator<Item = (&'a String, &'a Docs)>) -> Option<String> {
    let mut out = String::new();
    for (name, docs) in cases {
        if let Some(text) = &docs.contents {
            if !out.is_empty() {
                out.push('\n');
            }
            let text: Vec<&str> = text.split_whitespace().collect();
            out.push_str(&format!("- `{}`: {}", snake_case(name), text.join(" ")));
        }
    }
    (!out.is_empty()).then_some(out)
}

fn with_docs(s: Value, docs: &Docs) -> Value {
    match &docs.contents {
        Some(text) if !text.trim().is_empty() => add_description(s, text.trim()),
        _ => s,
    }
}

/// Puts `text` first in the schema's `description`, keeping what was there.
fn add_description(mut s: Value, text: &str) -> Value {
    if let Value::Object(obj) = &mut s {
        let description = match obj.get("description").and_then(Value::as_str) {
            Some(old) if !old.is_empty() => format!("{text}\n\n{old}"),
            _ => text.to_owned(),
        };
        obj.insert("description".into(), Value::String(description));
    }
    s
}
