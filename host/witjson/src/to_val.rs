//! JSON -> component values (tool arguments).

use serde_json::Value;
use wasmtime::component::Val;
use wit_parser::{Resolve, Type, TypeDefKind, Variant};

use crate::describe::{expected, found, int_range, items_phrase, variant_expected, wit_type_name};
use crate::error::{ArgError, ArgErrorKind};
use crate::path::Path;
use crate::{collect_exact, dealias, is_json_name, is_option, json_name, snake_case};

/// Converts the JSON form of a value of WIT type `ty` into a component value.
///
/// `path` names the value in errors (for a tool argument, its JSON name);
/// deeper positions are appended as `.field`, `[i]`, `.case`, `.ok`/`.err`.
/// The accepted JSON is exactly what [`type_schema`](crate::type_schema)
/// describes (see the crate docs for the mapping); anything else is an
/// [`ArgError`] naming the deepest offending position.
pub fn json_to_val(
    resolve: &Resolve,
    ty: &Type,
    json: &Value,
    path: &str,
) -> Result<Val, ArgError> {
    to_val(resolve, ty, json, &Path::Root(path))
}

/// [`json_to_val`] at a position.
pub(crate) fn to_val(
    resolve: &Resolve,
    ty: &Type,
    json: &Value,
    path: &Path<'_>,
) -> Result<Val, ArgError> {
    if let Some((min, max)) = int_range(ty) {
        let n = integer(json, path, min, max)?;
        let out_of_range =
            || ArgError::invalid(path, format!("an integer from {min} to {max}"), found(json));
        return Ok(match ty {
            Type::U8 => Val::U8(n.try_into().map_err(|_| out_of_range())?),
            Type::U16 => Val::U16(n.try_into().map_err(|_| out_of_range())?),
            Type::U32 => Val::U32(n.try_into().map_err(|_| out_of_range())?),
            Type::U64 => Val::U64(n.try_into().map_err(|_| out_of_range())?),
            Type::S8 => Val::S8(n.try_into().map_err(|_| out_of_range())?),
            Type::S16 => Val::S16(n.try_into().map_err(|_| out_of_range())?),
            Type::S32 => Val::S32(n.try_into().map_err(|_| out_of_range())?),
            _ => Val::S64(n.try_into().map_err(|_| out_of_range())?),
        });
    }
    let mismatch = || ArgError::invalid(path, expected(resolve, ty), found(json));
    match ty {
        Type::Bool => json.as_bool().map(Val::Bool).ok_or_else(mismatch),
        Type::F64 => json.as_f64().map(Val::Float64).ok_or_else(mismatch),
        Type::F32 => {
            let x = json.as_f64().ok_or_else(mismatch)?;
            // Rounding to the nearest f32 is intended.
            let y = x as f32;
            if y.is_finite() {
                Ok(Val::Float32(y))
            } else {
                Err(ArgError::invalid(
                    path,
                    "a number within the range of a 32-bit float",
                    found(json),
                ))
            }
        }
        Type::Char => {
            let s = json.as_str().ok_or_else(mismatch)?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Val::Char(c)),
                _ => Err(mismatch()),
            }
        }
        Type::String => json
            .as_str()
            .map(|s| Val::String(s.to_owned()))
            .ok_or_else(mismatch),
        Type::Id(id) => typedef_to_val(resolve, ty, &resolve.types[*id].kind, json, path),
        _ => Err(unsupported(resolve, ty, path)),
    }
}

fn unsupported(resolve: &Resolve, ty: &Type, path: &Path<'_>) -> ArgError {
    let wit_type = wit_type_name(resolve, ty);
    ArgError {
        path: path.to_string(),
        expected: format!("a value of type `{wit_type}`"),
        found: "a value that cannot be converted".into(),
        kind: ArgErrorKind::Unsupported { wit_type },
    }
}

/// The integer in `json`, range-checked. Integral floats (`3.0`) count as
/// integers, as in JSON Schema.
fn integer(json: &Value, path: &Path<'_>, min: i128, max: i128) -> Result<i128, ArgError> {
    let err = || ArgError::invalid(path, format!("an integer from {min} to {max}"), found(json));
    let Value::Number(n) = json else {
        return Err(err());
    };
    let n = if let Some(n) = n.as_u64() {
        i128::from(n)
    } else if let Some(n) = n.as_i64() {
        i128::from(n)
    } else {
        match n.as_f64() {
            // Outside this range no integer type fits anyway; the bound keeps
            // the cast below exact.
            Some(x) if x.fract() == 0.0 && x.abs() < 1e30 => x as i128,
            _ => return Err(err()),
        }
    };
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(err())
    }
}

fn typedef_to_val(
    resolve: &Resolve,
    ty: &Type,
    kind: &TypeDefKind,
    json: &Value,
    path: &Path<'_>,
) -> Result<Val, ArgError> {
    let mismatch = || ArgError::invalid(path, expected(resolve, ty), found(json));
    match kind {
        TypeDefKind::Record(r) => {
            let fields = r.fields.iter().map(|f| (f.name.as_str(), &f.ty));
            object_to_vals(resolve, fields, json, path).map(Val::Record)
        }
        TypeDefKind::Flags(f) => {
            let items = json.as_array().ok_or_else(mismatch)?;
            let mut names: Vec<String> = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let item_path = Path::Index(path, i);
                let flag = item
                    .as_str()
                    .and_then(|s| f.flags.iter().find(|f| is_json_name(&f.name, s)))
                    .ok_or_else(|| {
                        let names = crate::describe::quoted_list(f.flags.iter().map(|f| &f.name));
                        ArgError::invalid(&item_path, format!("one of {names}"), found(item))
                    })?;
                if names.contains(&flag.name) {
                    return Err(ArgError::invalid(
                        &item_path,
                        "a flag name not listed before",
                        format!("{} again", found(item)),
                    ));
                }
                names.push(flag.name.clone());
            }
            Ok(Val::Flags(names))
        }
        TypeDefKind::Tuple(t) => {
            let items = json.as_array().ok_or_else(mismatch)?;
            if items.len() != t.types.len() {
                return Err(mismatch());
            }
            let vals = items
                .iter()
                .zip(&t.types)
                .enumerate()
                .map(|(i, (item, ty))| to_val(resolve, ty, item, &Path::Index(path, i)))
                .collect::<Result<_, _>>()?;
            Ok(Val::Tuple(vals))
        }
        TypeDefKind::Variant(v) => variant_to_val(resolve, v, json, path),
        TypeDefKind::Enum(e) => json
            .as_str()
            .and_then(|s| e.cases.iter().find(|c| is_json_name(&c.name, s)))
            .map(|c| Val::Enum(c.name.clone()))
            .ok_or_else(mismatch),
        TypeDefKind::Option(t) => match json {
            Value::Null => Ok(Val::Option(None)),
            _ => Ok(Val::Option(Some(Box::new(to_val(resolve, t, json, path)?)))),
        },
        TypeDefKind::Result(r) => {
            let (key, payload) = single_entry(json).ok_or_else(mismatch)?;
            let payload_ty = match key {
                "ok" => &r.ok,
                "err" => &r.err,
                _ => return Err(mismatch()),
            };
            let payload_path = Path::Field(path, key);
            let payload = match payload_ty {
                Some(t) => Some(Box::new(to_val(resolve, t, payload, &payload_path)?)),
                None if payload.is_null() => None,
                None => return Err(ArgError::invalid(&payload_path, "null", found(payload))),
            };
            Ok(Val::Result(if key == "ok" {
                Ok(payload)
            } else {
                Err(payload)
            }))
        }
        TypeDefKind::List(t) => {
            let items = json.as_array().ok_or_else(mismatch)?;
            list_to_vals(resolve, t, items, path).map(Val::List)
        }
        TypeDefKind::FixedLengthList(t, n) => {
            let items = json.as_array().ok_or_else(mismatch)?;
            if items.len() != *n as usize {
                return Err(ArgError::invalid(
                    path,
                    items_phrase(*n as usize),
                    found(json),
                ));
            }
            list_to_vals(resolve, t, items, path).map(Val::FixedLengthList)
        }
        TypeDefKind::Map(k, v) => map_to_val(resolve, k, v, json, path),
        TypeDefKind::Type(t) => to_val(resolve, t, json, path),
        TypeDefKind::Resource
        | TypeDefKind::Handle(_)
        | TypeDefKind::Future(_)
        | TypeDefKind::Stream(_)
        | TypeDefKind::Unknown => Err(unsupported(resolve, ty, path)),
    }
}

fn list_to_vals(
    resolve: &Resolve,
    ty: &Type,
    items: &[Value],
    path: &Path<'_>,
) -> Result<Vec<Val>, ArgError> {
    collect_exact(
        items.len(),
        items
            .iter()
            .enumerate()
            .map(|(i, item)| to_val(resolve, ty, item, &Path::Index(path, i))),
    )
}

fn variant_to_val(
    resolve: &Resolve,
    v: &Variant,
    json: &Value,
    path: &Path<'_>,
) -> Result<Val, ArgError> {
    let mismatch = || ArgError::invalid(path, variant_expected(v), found(json));
    let case_named = |s: &str| v.cases.iter().find(|c| is_json_name(&c.name, s));
    match json {
        Value::String(s) => {
            let case = case_named(s).ok_or_else(mismatch)?;
            match case.ty {
                None => Ok(Val::Variant(case.name.clone(), None)),
                Some(_) => Err(ArgError::invalid(
                    path,
                    format!("{{\"{s}\": ...}} (the case \"{s}\" carries a value)"),
                    found(json),
                )),
            }
        }
        Value::Object(_) => {
            let (key, payload) = single_entry(json).ok_or_else(mismatch)?;
            let case = case_named(key).ok_or_else(mismatch)?;
            match &case.ty {
                Some(t) => {
                    let val = to_val(resolve, t, payload, &Path::Field(path, key))?;
                    Ok(Val::Variant(case.name.clone(), Some(Box::new(val))))
                }
                None => Err(ArgError::invalid(
                    path,
                    format!("the string \"{key}\" (the case \"{key}\" carries no value)"),
                    found(json),
                )),
            }
        }
        _ => Err(mismatch()),
    }
}

fn map_to_val(
    resolve: &Resolve,
    k: &Type,
    v: &Type,
    json: &Value,
    path: &Path<'_>,
) -> Result<Val, ArgError> {
    if dealias(resolve, k) == Type::String {
        let obj = json
            .as_object()
            .ok_or_else(|| ArgError::invalid(path, "an object", found(json)))?;
        let pairs = obj
            .iter()
            .map(|(key, value)| {
                let value = to_val(resolve, v, value, &Path::Field(path, key))?;
                Ok((Val::String(key.clone()), value))
            })
            .collect::<Result<_, _>>()?;
        return Ok(Val::Map(pairs));
    }
    let items = json
        .as_array()
        .ok_or_else(|| ArgError::invalid(path, "an array of [key, value] pairs", found(json)))?;
    let mut pairs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = Path::Index(path, i);
        let [key, value] = item.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(ArgError::invalid(
                &item_path,
                "a [key, value] pair",
                found(item),
            ));
        };
        let key = to_val(resolve, k, key, &Path::Index(&item_path, 0))?;
        let value = to_val(resolve, v, value, &Path::Index(&item_path, 1))?;
        pairs.push((key, value));
    }
    Ok(Val::Map(pairs))
}

/// Converts a JSON object to named component values, in the order of
/// `fields` (WIT names): the arguments object, or a record. Unknown keys are
/// reported first (a misspelt name is then not also reported as missing);
/// absent or `null` `option<T>` fields become `none`.
pub(crate) fn object_to_vals<'a>(
    resolve: &Resolve,
    fields: impl Iterator<Item = (&'a str, &'a Type)> + Clone,
    json: &Value,
    path: &Path<'_>,
) -> Result<Vec<(String, Val)>, ArgError> {
    let obj = json
        .as_object()
        .ok_or_else(|| ArgError::invalid(path, "an object", found(json)))?;
    for key in obj.keys() {
        if !fields.clone().any(|(name, _)| is_json_name(name, key)) {
            return Err(ArgError {
                path: Path::Field(path, key).to_string(),
                expected: "a known name".into(),
                found: format!("the unknown name {key:?}"),
                kind: ArgErrorKind::Unknown {
                    accepted: fields.clone().map(|(name, _)| snake_case(name)).collect(),
                },
            });
        }
    }
    let mut vals = Vec::new();
    for (name, ty) in fields {
        let owned = json_name(name);
        let field: &str = &owned;
        let field_path = Path::Field(path, field);
        let val = match obj.get(field) {
            Some(value) => to_val(resolve, ty, value, &field_path)?,
            None if is_option(resolve, ty) => Val::Option(None),
            None => {
                return Err(ArgError {
                    path: field_path.to_string(),
                    expected: expected(resolve, ty),
                    found: "nothing".into(),
                    kind: ArgErrorKind::Missing,
                });
            }
        };
        vals.push((name.to_owned(), val));
    }
    Ok(vals)
}

/// The only entry of a one-key object.
fn single_entry(json: &Value) -> Option<(&str, &Value)> {
    let obj = json.as_object()?;
    let mut entries = obj.iter();
    match (entries.next(), entries.next()) {
        (Some((k, v)), None) => Some((k.as_str(), v)),
        _ => None,
    }
}
