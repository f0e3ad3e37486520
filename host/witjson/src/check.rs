//! Finding types with no JSON form inside a parameter or result type.

use wit_parser::{Resolve, Type, TypeDefKind};

use crate::describe::wit_type_name;
use crate::snake_case;
use crate::to_val::{field_path, index_path};

/// The first type inside `ty` that has no JSON form, as (path, WIT type).
/// `map<K, V>` counts as unsupported unless `allow_map`.
pub(crate) fn find_unsupported(
    resolve: &Resolve,
    ty: &Type,
    allow_map: bool,
    path: &str,
) -> Option<(String, String)> {
    let here = || Some((path.to_owned(), wit_type_name(resolve, ty)));
    let id = match ty {
        Type::ErrorContext => return here(),
        Type::Id(id) => *id,
        _ => return None,
    };
    let find = |t: &Type, p: &str| find_unsupported(resolve, t, allow_map, p);
    match &resolve.types[id].kind {
        TypeDefKind::Record(r) => r
            .fields
            .iter()
            .find_map(|f| find(&f.ty, &field_path(path, &snake_case(&f.name)))),
        TypeDefKind::Tuple(t) => t
            .types
            .iter()
            .enumerate()
            .find_map(|(i, t)| find(t, &index_path(path, i))),
        TypeDefKind::Variant(v) => v.cases.iter().find_map(|c| {
            let t = c.ty.as_ref()?;
            find(t, &field_path(path, &snake_case(&c.name)))
        }),
        TypeDefKind::Result(r) => {
            let ok = r.ok.as_ref().and_then(|t| find(t, &field_path(path, "ok")));
            ok.or_else(|| {
                r.err
                    .as_ref()
                    .and_then(|t| find(t, &field_path(path, "err")))
            })
        }
        TypeDefKind::Option(t) | TypeDefKind::Type(t) => find(t, path),
        TypeDefKind::List(t) | TypeDefKind::FixedLengthList(t, _) => find(t, &index_path(path, 0)),
        TypeDefKind::Map(k, v) if allow_map => {
            find(k, &index_path(path, 0)).or_else(|| find(v, &index_path(path, 1)))
        }
        TypeDefKind::Flags(_) | TypeDefKind::Enum(_) => None,
        TypeDefKind::Map(..)
        | TypeDefKind::Resource
        | TypeDefKind::Handle(_)
        | TypeDefKind::Future(_)
        | TypeDefKind::Stream(_)
        | TypeDefKind::Unknown => here(),
    }
}
