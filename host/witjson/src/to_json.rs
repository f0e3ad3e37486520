//! Component values -> JSON (tool results).

use serde_json::{Map, Number, Value, json};
use wasmtime::component::Val;
use wit_parser::{Resolve, Type, TypeDefKind};

use crate::describe::{val_kind, wit_type_name};
use crate::error::ConvertError;
use crate::path::Path;
use crate::snake_case;
use crate::{collect_exact, dealias};

/// Converts a component value of WIT type `ty` to its JSON form (the mapping
/// in the crate docs). Needs no wasmtime type information: the value's shape
/// is checked against `ty` as it is walked.
pub fn val_to_json(resolve: &Resolve, ty: &Type, val: &Val) -> Result<Value, ConvertError> {
    to_json(resolve, ty, val, &Path::TOP)
}

fn mismatch(resolve: &Resolve, ty: &Type, val: &Val, path: &Path<'_>) -> ConvertError {
    ConvertError::Mismatch {
        path: path.to_string(),
        expected: format!("a `{}`", wit_type_name(resolve, ty)),
        found: val_kind(val),
    }
}

/// `{key: value}`, moving `value` (`json!` would copy it through
/// `to_value`, which for a long list cost more than converting it).
pub(crate) fn single(key: impl Into<String>, value: Value) -> Value {
    let mut map = Map::with_capacity(1);
    map.insert(key.into(), value);
    Value::Object(map)
}

fn float(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A `list<f64>`, `list<s32>`, `list<u32>`, `list<s64>` or `list<u64>` in
/// one tight loop, without the per-element dispatch and path of
/// [`to_json`]: tools return such lists with 100,000 numbers, where that
/// dispatch cost more than the conversion. `None` for other element types,
/// or when an element does not match (the general path then names it).
fn number_list(ty: &Type, items: &[Val]) -> Option<Vec<Value>> {
    // One arm per number type: the element's variant and its conversion.
    macro_rules! numbers {
        ($variant:ident, $convert:expr) => {
            collect_exact(
                items.len(),
                items.iter().map(|v| match v {
                    Val::$variant(x) => Ok($convert(*x)),
                    _ => Err(()),
                }),
            )
            .ok()
        };
    }
    match ty {
        Type::F64 => numbers!(Float64, float),
        Type::S32 => numbers!(S32, Value::from),
        Type::U32 => numbers!(U32, Value::from),
        Type::S64 => numbers!(S64, Value::from),
        Type::U64 => numbers!(U64, Value::from),
        _ => None,
    }
}

pub(crate) fn to_json(
    resolve: &Resolve,
    ty: &Type,
    val: &Val,
    path: &Path<'_>,
) -> Result<Value, ConvertError> {
    Ok(match (ty, val) {
        (Type::Bool, Val::Bool(b)) => Value::Bool(*b),
        (Type::U8, Val::U8(n)) => json!(n),
        (Type::U16, Val::U16(n)) => json!(n),
        (Type::U32, Val::U32(n)) => json!(n),
        (Type::U64, Val::U64(n)) => json!(n),
        (Type::S8, Val::S8(n)) => json!(n),
        (Type::S16, Val::S16(n)) => json!(n),
        (Type::S32, Val::S32(n)) => json!(n),
        (Type::S64, Val::S64(n)) => json!(n),
        // Through the shortest decimal form, so 0.1f32 becomes 0.1, not 0.10000000149011612.
        (Type::F32, Val::Float32(x)) => float(x.to_string().parse().unwrap_or(f64::from(*x))),
        (Type::F64, Val::Float64(x)) => float(*x),
        (Type::Char, Val::Char(c)) => Value::String(c.to_string()),
        (Type::String, Val::String(s)) => Value::String(s.clone()),
        (Type::Id(id), _) => typedef_to_json(resolve, ty, &resolve.types[*id].kind, val, path)?,
        (Type::ErrorContext, _) => {
            return Err(ConvertError::Unsupported {
                path: path.to_string(),
                wit_type: "error-context".into(),
            });
        }
        _ => return Err(mismatch(resolve, ty, val, path)),
    })
}

fn typedef_to_json(
    resolve: &Resolve,
    ty: &Type,
    kind: &TypeDefKind,
    val: &Val,
    path: &Path<'_>,
) -> Result<Value, ConvertError> {
    let mismatch = || mismatch(resolve, ty, val, path);
    let missing = |what: String| ConvertError::Mismatch {
        path: path.to_string(),
        expected: what,
        found: val_kind(val),
    };
    Ok(match (kind, val) {
        (TypeDefKind::Record(r), Val::Record(fields)) => {
            if fields.len() != r.fields.len() {
                return Err(missing(format!("a record with {} fields", r.fields.len())));
            }
            let mut obj = Map::new();
            for (i, field) in r.fields.iter().enumerate() {
                // Values lifted by wasmtime are in declaration order; fall
                // back to a search by name for hand-built ones.
                let value = match fields.get(i) {
                    Some((name, value)) if *name == field.name => value,
                    _ => fields
                        .iter()
                        .find(|(name, _)| *name == field.name)
                        .map(|(_, value)| value)
                        .ok_or_else(|| {
                            missing(format!("a record with the field `{}`", field.name))
                        })?,
                };
                let key = snake_case(&field.name);
                let json = to_json(resolve, &field.ty, value, &Path::Field(path, &key))?;
                obj.insert(key, json);
            }
            Value::Object(obj)
        }
        (TypeDefKind::Flags(f), Val::Flags(names)) => {
            if let Some(bad) = names
                .iter()
                .find(|n| !f.flags.iter().any(|f| f.name == **n))
            {
                return Err(missing(format!("flags without the unknown flag `{bad}`")));
            }
            let set: Vec<Value> = f
                .flags
                .iter()
                .filter(|f| names.contains(&f.name))
                .map(|f| Value::String(snake_case(&f.name)))
                .collect();
            Value::Array(set)
        }
        (TypeDefKind::Tuple(t), Val::Tuple(items)) => {
            if items.len() != t.types.len() {
                return Err(mismatch());
            }
            let items = items
                .iter()
                .zip(&t.types)
                .enumerate()
                .map(|(i, (item, ty))| to_json(resolve, ty, item, &Path::Index(path, i)))
                .collect::<Result<_, _>>()?;
            Value::Array(items)
        }
        (TypeDefKind::Variant(v), Val::Variant(name, payload)) => {
            let case = v
                .cases
                .iter()
                .find(|c| c.name == *name)
                .ok_or_else(mismatch)?;
            let key = snake_case(&case.name);
            match (&case.ty, payload) {
                (None, None) => Value::String(key),
                (Some(t), Some(payload)) => {
                    let json = to_json(resolve, t, payload, &Path::Field(path, &key))?;
                    single(key, json)
                }
                (None, Some(_)) => {
                    return Err(missing(format!("the case `{name}` without a payload")));
                }
                (Some(_), None) => {
                    return Err(missing(format!("the case `{name}` with a payload")));
                }
            }
        }
        (TypeDefKind::Enum(e), Val::Enum(name)) => {
            let case = e
                .cases
                .iter()
                .find(|c| c.name == *name)
                .ok_or_else(mismatch)?;
            Value::String(snake_case(&case.name))
        }
        (TypeDefKind::Option(_), Val::Option(None)) => Value::Null,
        (TypeDefKind::Option(t), Val::Option(Some(inner))) => to_json(resolve, t, inner, path)?,
        (TypeDefKind::Result(r), Val::Result(result)) => {
            let (key, payload_ty, payload) = match result {
                Ok(payload) => ("ok", &r.ok, payload),
                Err(payload) => ("err", &r.err, payload),
            };
            let json = payload_to_json(
                resolve,
                payload_ty,
                payload.as_deref(),
                &Path::Field(path, key),
            )?;
            single(key, json)
        }
        (TypeDefKind::List(t), Val::List(items))
        | (TypeDefKind::FixedLengthList(t, _), Val::FixedLengthList(items) | Val::List(items)) => {
            if let Some(numbers) = number_list(t, items) {
                return Ok(Value::Array(numbers));
            }
            Value::Array(collect_exact(
                items.len(),
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| to_json(resolve, t, item, &Path::Index(path, i))),
            )?)
        }
        (TypeDefKind::Map(k, v), Val::Map(pairs)) => map_to_json(resolve, k, v, pairs, path)?,
        (TypeDefKind::Type(t), _) => to_json(resolve, t, val, path)?,
        (
            TypeDefKind::Resource
            | TypeDefKind::Handle(_)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Unknown,
            _,
        ) => {
            return Err(ConvertError::Unsupported {
                path: path.to_string(),
                wit_type: wit_type_name(resolve, ty),
            });
        }
        _ => return Err(mismatch()),
    })
}

/// The JSON of an optional payload (of a result case): `null` when the type
/// has none.
pub(crate) fn payload_to_json(
    resolve: &Resolve,
    ty: &Option<Type>,
    payload: Option<&Val>,
    path: &Path<'_>,
) -> Result<Value, ConvertError> {
    match (ty, payload) {
        (None, None) => Ok(Value::Null),
        (Some(t), Some(v)) => to_json(resolve, t, v, path),
        (None, Some(v)) => Err(ConvertError::Mismatch {
            path: path.to_string(),
            expected: "no payload".into(),
            found: val_kind(v),
        }),
        (Some(t), None) => Err(ConvertError::Mismatch {
            path: path.to_string(),
            expected: format!("a `{}`", wit_type_name(resolve, t)),
            found: "no payload".into(),
        }),
    }
}

/// String-keyed maps become objects (a repeated key: the last value wins);
/// others become arrays of `[key, value]` pairs.
fn map_to_json(
    resolve: &Resolve,
    k: &Type,
    v: &Type,
    pairs: &[(Val, Val)],
    path: &Path<'_>,
) -> Result<Value, ConvertError> {
    if dealias(resolve, k) == Type::String {
        let mut obj = Map::new();
        for (i, (key, value)) in pairs.iter().enumerate() {
            let Val::String(key) = key else {
                return Err(mismatch(resolve, k, key, &Path::Index(path, i)));
            };
            let json = to_json(resolve, v, value, &Path::Field(path, key))?;
            obj.insert(key.clone(), json);
        }
        return Ok(Value::Object(obj));
    }
    let items = pairs
        .iter()
        .enumerate()
        .map(|(i, (key, value))| {
            let item_path = Path::Index(path, i);
            let key = to_json(resolve, k, key, &Path::Index(&item_path, 0))?;
            let value = to_json(resolve, v, value, &Path::Index(&item_path, 1))?;
            Ok(json!([key, value]))
        })
        .collect::<Result<_, _>>()?;
    Ok(Value::Array(items))
}
