//! Schema shapes, descriptions, and validity as JSON Schema 2020-12.

use serde_json::json;

use super::{fixture, validator};
use crate::{snake_case, type_schema};

#[test]
fn snake_case_names() {
    assert_eq!(snake_case("gc-content"), "gc_content");
    assert_eq!(snake_case("a"), "a");
    assert_eq!(snake_case("%type"), "type");
    assert_eq!(snake_case("get-URL"), "get_URL");
}

#[test]
fn input_schema_of_gc_content() {
    let f = fixture();
    let sig = f.sig("gc-content");
    assert_eq!(
        sig.description(),
        Some("Compute the GC content of a sequence.")
    );
    let schema = sig.input_schema();
    assert_eq!(
        schema,
        json!({
            "type": "object",
            "properties": {
                "sequence": {"type": "string", "description": "A DNA sequence, as IUPAC letters."},
                "window": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 4294967295u32}, {"type": "null"}]},
            },
            "required": ["sequence"],
            "additionalProperties": false,
        })
    );
    let v = validator(&schema);
    assert!(v.is_valid(&json!({"sequence": "ACGT"})));
    assert!(v.is_valid(&json!({"sequence": "ACGT", "window": null})));
    assert!(v.is_valid(&json!({"sequence": "ACGT", "window": 10})));
    assert!(!v.is_valid(&json!({"window": 10})));
    assert!(!v.is_valid(&json!({"sequence": "ACGT", "extra": 1})));
    assert!(!v.is_valid(&json!({"sequence": "ACGT", "window": -1})));
}

#[test]
fn output_schema_of_record_result() {
    let f = fixture();
    let schema = f.sig("gc-content").output_schema().expect("has output");
    assert_eq!(
        schema,
        json!({
            "title": "stats",
            "description": "Sequence statistics.",
            "type": "object",
            "properties": {
                "gc_content": {"type": ["number", "null"], "description": "Fraction of G and C."},
                "length": {"type": "integer", "minimum": 0, "maximum": u64::MAX},
            },
            "required": ["gc_content", "length"],
            "additionalProperties": false,
        })
    );
    validator(&schema);
}

#[test]
fn output_schema_wraps_non_records() {
    let f = fixture();
    let schema = f.sig("count-parts").output_schema().expect("has output");
    assert_eq!(
        schema,
        json!({
            "type": "object",
            "properties": {"value": {"type": "integer", "minimum": 0, "maximum": 4294967295u32}},
            "required": ["value"],
            "additionalProperties": false,
        })
    );
    let maybe = f.sig("maybe").output_schema().expect("has output");
    assert_eq!(
        maybe["properties"]["value"],
        json!({"anyOf": [{"type": "integer", "minimum": 0, "maximum": 255}, {"type": "null"}]})
    );
    // result<string, part>: the success type is string.
    let s = f
        .sig("fails-with-record")
        .output_schema()
        .expect("has output");
    assert_eq!(s["properties"]["value"], json!({"type": "string"}));
    // No success value: no output schema.
    assert_eq!(f.sig("nothing").output_schema(), None);
    assert_eq!(f.sig("fails-with-variant").output_schema(), None);
}

#[test]
fn schema_of_every_kind() {
    let f = fixture();
    let s = |field: &str| type_schema(&f.resolve, &f.field_ty(field));
    assert_eq!(s("b"), json!({"type": "boolean"}));
    assert_eq!(
        s("a-u8"),
        json!({"type": "integer", "minimum": 0, "maximum": 255})
    );
    assert_eq!(
        s("a-u16"),
        json!({"type": "integer", "minimum": 0, "maximum": 65535})
    );
    assert_eq!(
        s("a-s8"),
        json!({"type": "integer", "minimum": -128, "maximum": 127})
    );
    assert_eq!(
        s("a-s16"),
        json!({"type": "integer", "minimum": -32768, "maximum": 32767})
    );
    assert_eq!(
        s("a-s32"),
        json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX})
    );
    assert_eq!(
        s("a-s64"),
        json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
    );
    assert_eq!(
        s("a-u64"),
        json!({"type": "integer", "minimum": 0, "maximum": u64::MAX})
    );
    assert_eq!(s("float-a"), json!({"type": "number"}));
    assert_eq!(s("float-b"), json!({"type": "number"}));
    assert_eq!(
        s("c"),
        json!({"type": "string", "minLength": 1, "maxLength": 1})
    );
    assert_eq!(s("s"), json!({"type": "string"}));
    let u8s = json!({"type": "integer", "minimum": 0, "maximum": 255});
    assert_eq!(s("l"), json!({"type": "array", "items": u8s}));
    assert_eq!(
        s("fixed"),
        json!({"type": "array", "items": u8s, "minItems": 3, "maxItems": 3})
    );
    assert_eq!(
        s("t"),
        json!({
            "type": "array",
            "prefixItems": [u8s, {"type": "string"}],
            "items": false,
            "minItems": 2,
            "maxItems": 2,
        })
    );
    assert_eq!(
        s("e"),
        json!({
            "title": "molecule",
            "type": "string",
            "enum": ["dna", "rna", "protein_seq"],
            "description": "The kind of molecule.\n\n- `dna`: Deoxyribonucleic acid.",
        })
    );
    assert_eq!(
        s("fl"),
        json!({
            "title": "opts",
            "type": "array",
            "items": {"type": "string", "enum": ["upper_case", "strict"]},
            "uniqueItems": true,
            "description": "Output options.\n\n- `upper_case`: Upper-case the output.",
        })
    );
    assert_eq!(
        s("v"),
        json!({
            "title": "shape",
            "description": "A shape.",
            "oneOf": [
                {"type": "string", "const": "nothing", "description": "No shape at all."},
                {
                    "type": "object",
                    "properties": {"circle": {"type": "number"}},
                    "required": ["circle"],
                    "additionalProperties": false,
                    "description": "A circle, by radius.",
                },
                {
                    "type": "object",
                    "properties": {"rect": {
                        "type": "array",
                        "prefixItems": [{"type": "number"}, {"type": "number"}],
                        "items": false,
                        "minItems": 2,
                        "maxItems": 2,
                    }},
                    "required": ["rect"],
                    "additionalProperties": false,
                },
            ],
        })
    );
    let u32s = json!({"type": "integer", "minimum": 0, "maximum": 4294967295u32});
    assert_eq!(s("o"), json!({"anyOf": [u32s, {"type": "null"}]}));
    let case = |k: &str, v: serde_json::Value| json!({"type": "object", "properties": {k: v}, "required": [k], "additionalProperties": false});
    assert_eq!(
        s("r"),
        json!({"oneOf": [case("ok", u32s.clone()), case("err", json!({"type": "string"}))]})
    );
    assert_eq!(
        s("r-empty"),
        json!({"oneOf": [case("ok", json!({"type": "null"})), case("err", json!({"type": "null"}))]})
    );
    assert_eq!(
        s("oo"),
        json!({"anyOf": [{"anyOf": [u8s, {"type": "null"}]}, {"type": "null"}]})
    );
    assert_eq!(
        s("seq"),
        json!({"type": "string", "description": "A DNA sequence, as IUPAC letters."})
    );
    assert_eq!(
        s("sm"),
        json!({"type": "object", "additionalProperties": u32s})
    );
    assert_eq!(
        s("im"),
        json!({"type": "array", "items": {
            "type": "array",
            "prefixItems": [u32s, {"type": "string"}],
            "items": false,
            "minItems": 2,
            "maxItems": 2,
        }})
    );
}

#[test]
fn record_schema_with_field_docs_and_optional_fields() {
    let f = fixture();
    let schema = type_schema(&f.resolve, &f.ty("part"));
    assert_eq!(
        schema,
        json!({
            "title": "part",
            "description": "A named part.",
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "The part's name."},
                "count": {
                    "type": "integer", "minimum": 0, "maximum": 4294967295u32,
                    "description": "How many copies.",
                },
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "required": ["name", "count"],
            "additionalProperties": false,
        })
    );
}

#[test]
fn unsupported_types_match_nothing() {
    let f = fixture();
    let schema = type_schema(&f.resolve, &f.ty("holder"));
    let inner = &schema["properties"]["inner"]["items"];
    assert_eq!(inner["not"], json!({}));
    assert_eq!(
        inner["description"],
        "the WIT type `own<blob>` has no JSON form"
    );
    validator(&schema);
}

/// Every input and output schema of the fixture is valid 2020-12.
#[test]
fn all_schemas_are_valid_json_schema() {
    let f = fixture();
    for (name, func) in &f.resolve.interfaces[f.iface].functions {
        let sig = crate::ToolSignature::new(&f.resolve, func);
        let input = sig.input_schema();
        if let Err(e) = jsonschema::draft202012::meta::validate(&input) {
            panic!("input schema of {name}: {e}");
        }
        if let Some(output) = sig.output_schema() {
            assert_eq!(output["type"], "object", "output of {name} is an object");
            if let Err(e) = jsonschema::draft202012::meta::validate(&output) {
                panic!("output schema of {name}: {e}");
            }
        }
    }
}
