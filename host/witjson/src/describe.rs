//! Human-readable phrases for error messages: WIT type names, what a type
//! expects as JSON, what a JSON value or a component value is.

use serde_json::Value;
use wasmtime::component::Val;
use wit_parser::{Handle, Resolve, Type, TypeDefKind, Variant};

use crate::{dealias, snake_case};

/// At most this many names are listed in an "expected one of ..." phrase.
const MAX_LISTED: usize = 12;

/// The WIT spelling of a type: `u8`, `list<part>`, `own<blob>`, `part`.
pub(crate) fn wit_type_name(resolve: &Resolve, ty: &Type) -> String {
    let id = match ty {
        Type::Bool => return "bool".into(),
        Type::U8 => return "u8".into(),
        Type::U16 => return "u16".into(),
        Type::U32 => return "u32".into(),
        Type::U64 => return "u64".into(),
        Type::S8 => return "s8".into(),
        Type::S16 => return "s16".into(),
        Type::S32 => return "s32".into(),
        Type::S64 => return "s64".into(),
        Type::F32 => return "f32".into(),
        Type::F64 => return "f64".into(),
        Type::Char => return "char".into(),
        Type::String => return "string".into(),
        Type::ErrorContext => return "error-context".into(),
        Type::Id(id) => *id,
    };
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    let name = |t: &Type| wit_type_name(resolve, t);
    let opt = |t: &Option<Type>| t.as_ref().map_or_else(|| "_".to_owned(), name);
    match &def.kind {
        TypeDefKind::Record(_) => "record".into(),
        TypeDefKind::Resource => "resource".into(),
        TypeDefKind::Handle(Handle::Own(r)) => format!("own<{}>", name(&Type::Id(*r))),
        TypeDefKind::Handle(Handle::Borrow(r)) => format!("borrow<{}>", name(&Type::Id(*r))),
        TypeDefKind::Flags(_) => "flags".into(),
        TypeDefKind::Tuple(t) => {
            let items: Vec<String> = t.types.iter().map(name).collect();
            format!("tuple<{}>", items.join(", "))
        }
        TypeDefKind::Variant(_) => "variant".into(),
        TypeDefKind::Enum(_) => "enum".into(),
        TypeDefKind::Option(t) => format!("option<{}>", name(t)),
        TypeDefKind::Result(r) => match (&r.ok, &r.err) {
            (None, None) => "result".into(),
            (ok, None) => format!("result<{}>", opt(ok)),
            (ok, err) => format!("result<{}, {}>", opt(ok), opt(err)),
        },
        TypeDefKind::List(t) => format!("list<{}>", name(t)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", name(k), name(v)),
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", name(t)),
        TypeDefKind::Future(t) => format!("future<{}>", opt(t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", opt(t)),
        TypeDefKind::Type(t) => name(t),
        TypeDefKind::Unknown => "unknown".into(),
    }
}

/// The range of an integer type, or `None` for other types.
pub(crate) fn int_range(ty: &Type) -> Option<(i128, i128)> {
    Some(match ty {
        Type::U8 => (0, u8::MAX.into()),
        Type::U16 => (0, u16::MAX.into()),
        Type::U32 => (0, u32::MAX.into()),
        Type::U64 => (0, u64::MAX.into()),
        Type::S8 => (i8::MIN.into(), i8::MAX.into()),
        Type::S16 => (i16::MIN.into(), i16::MAX.into()),
        Type::S32 => (i32::MIN.into(), i32::MAX.into()),
        Type::S64 => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    })
}

/// What JSON a type expects, as a phrase: `a string`, `an integer from 0 to 255`.
pub(crate) fn expected(resolve: &Resolve, ty: &Type) -> String {
    let ty = dealias(resolve, ty);
    if let Some((min, max)) = int_range(&ty) {
        return format!("an integer from {min} to {max}");
    }
    let id = match ty {
        Type::Bool => return "a boolean".into(),
        Type::F32 | Type::F64 => return "a number".into(),
        Type::Char => return "a string of exactly one character".into(),
        Type::String => return "a string".into(),
        Type::Id(id) => id,
        _ => return format!("a value of type `{}`", wit_type_name(resolve, &ty)),
    };
    match &resolve.types[id].kind {
        TypeDefKind::Record(_) => "an object".into(),
        TypeDefKind::Flags(f) => format!(
            "an array of distinct flag names from {}",
            quoted_list(f.flags.iter().map(|f| &f.name))
        ),
        TypeDefKind::Tuple(t) => items_phrase(t.types.len()),
        TypeDefKind::Variant(v) => variant_expected(v),
        TypeDefKind::Enum(e) => format!("one of {}", quoted_list(e.cases.iter().map(|c| &c.name))),
        TypeDefKind::Option(t) => format!("{} or null", expected(resolve, t)),
        TypeDefKind::Result(_) => "an object with exactly one key, \"ok\" or \"err\"".into(),
        TypeDefKind::List(_) => "an array".into(),
        TypeDefKind::FixedLengthList(_, n) => items_phrase(*n as usize),
        TypeDefKind::Map(k, _) if dealias(resolve, k) == Type::String => "an object".into(),
        TypeDefKind::Map(..) => "an array of [key, value] pairs".into(),
        _ => format!("a value of type `{}`", wit_type_name(resolve, &ty)),
    }
}

/// `an array of exactly 3 items`.
pub(crate) fn items_phrase(n: usize) -> String {
    match n {
        1 => "an array of exactly 1 item".into(),
        n => format!("an array of exactly {n} items"),
    }
}

/// `one of "none", {"circle": ...}, {"rect": ...}`.
pub(crate) fn variant_expected(v: &Variant) -> String {
    let cases: Vec<String> = v
        .cases
        .iter()
        .map(|c| match c.ty {
            None => format!("\"{}\"", snake_case(&c.name)),
            Some(_) => format!("{{\"{}\": ...}}", snake_case(&c.name)),
        })
        .collect();
    format!("one of {}", capped(cases))
}

/// `"a", "b", "c"` from WIT names (converted to JSON names).
pub(crate) fn quoted_list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    capped(names.map(|n| format!("\"{}\"", snake_case(n))).collect())
}

fn capped(mut items: Vec<String>) -> String {
    if items.len() > MAX_LISTED {
        items.truncate(MAX_LISTED);
        items.push("...".into());
    }
    items.join(", ")
}

/// What a JSON value is, as a phrase: `the number 3`, `an array of 2 items`.
pub(crate) fn found(json: &Value) -> String {
    match json {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            const MAX: usize = 40;
            if s.chars().count() > MAX {
                let head: String = s.chars().take(MAX).collect();
                format!(
                    "the string {:?}... ({} characters)",
                    head,
                    s.chars().count()
                )
            } else {
                format!("the string {s:?}")
            }
        }
        Value::Array(a) if a.len() == 1 => "an array of 1 item".into(),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(o) if o.is_empty() => "an empty object".into(),
        Value::Object(o) if o.len() == 1 => {
            format!(
                "an object with the key {}",
                capped(o.keys().map(|k| format!("{k:?}")).collect())
            )
        }
        Value::Object(o) => format!(
            "an object with the keys {}",
            capped(o.keys().map(|k| format!("{k:?}")).collect())
        ),
    }
}

/// What a component value is, as a phrase: `a u8`, `a record`, `the case "foo"`.
pub(crate) fn val_kind(val: &Val) -> String {
    match val {
        Val::Bool(_) => "a bool".into(),
        Val::S8(_) => "an s8".into(),
        Val::U8(_) => "a u8".into(),
        Val::S16(_) => "an s16".into(),
        Val::U16(_) => "a u16".into(),
        Val::S32(_) => "an s32".into(),
        Val::U32(_) => "a u32".into(),
        Val::S64(_) => "an s64".into(),
        Val::U64(_) => "a u64".into(),
        Val::Float32(_) => "an f32".into(),
        Val::Float64(_) => "an f64".into(),
        Val::Char(_) => "a char".into(),
        Val::String(_) => "a string".into(),
        Val::List(_) => "a list".into(),
        Val::Map(_) => "a map".into(),
        Val::Record(_) => "a record".into(),
        Val::Tuple(_) => "a tuple".into(),
        Val::Variant(name, _) => format!("the variant case `{name}`"),
        Val::Enum(name) => format!("the enum case `{name}`"),
        Val::Option(_) => "an option".into(),
        Val::Result(_) => "a result".into(),
        Val::Flags(_) => "flags".into(),
        Val::Resource(_) => "a resource".into(),
        Val::Future(_) => "a future".into(),
        Val::Stream(_) => "a stream".into(),
        Val::ErrorContext(_) => "an error-context".into(),
        Val::FixedLengthList(_) => "a fixed-length list".into(),
    }
}
