//! Finding types with no JSON form inside a parameter or result type.

use wit_parser::{Resolve, Type, TypeDefKind};

use crate::describe::wit_type_name;
use crate::path::Path;
use crate::snake_case;

/// The first type inside `ty` that has no JSON form, as (path, WIT type).
/// `map<K, V>` counts as unsupported unless `allow_map`.
pub(crate) fn find_unsupported(
    resolve: &Resolve,
    ty: &Type,
    allow_map: bool,
    path: &Path<'_>,
) -> Option<(String, String)> {
    let here = || Some((path.to_string(), wit_type_name(resolve, ty)));
    let id = match ty {
        Type::ErrorContext => return here(),
        Type::Id(id) => *id,
        _ => return None,
    };
    let find = |t: &Type, p: &Path<'_>| find_unsupported(resolve, t, allow_map, p);
    match &resolve.types[id].kind {
        TypeDefKind::Record(r) => r
            .fields
            .iter()
            .find_map(|f| find(&f.ty, &Path::Field(path, &snake_case(&f.name)))),
        TypeDefKind::Tuple(t) => t
            .types
            .iter()
            .enumerate()
            .find_map(|(i, t)| find(t, &Path::Index(path, i))),
        TypeDefKind::Variant(v) => v.cases.iter().find_map(|c| {
            let t = c.ty.as_ref()?;
            find(t, &Path::Field(path, &snake_case(&c.name)))
        }),
        TypeDefKind::Result(r) => {
            let ok =
                r.ok.as_ref()
                    .and_then(|t| find(t, &Path::Field(path, "ok")));
            ok.or_else(|| {
                r.err
                    .as_ref()
                    .and_then(|t| find(t, &Path::Field(path, "err")))
            })
        }
        TypeDefKind::Option(t) | TypeDefKind::Type(t) => find(t, path),
        TypeDefKind::List(t) | TypeDefKind::FixedLengthList(t, _) => find(t, &Path::Index(path, 0)),
        TypeDefKind::Map(k, v) if allow_map => {
            find(k, &Path::Index(path, 0)).or_else(|| find(v, &Path::Index(path, 1)))
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
