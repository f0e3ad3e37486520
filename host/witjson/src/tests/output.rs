//! Function results -> tool outputs.

use serde_json::json;
use wasmtime::component::Val;

use super::{fixture, validator};
use crate::{ConvertError, ToolOutput, val_to_json};

fn boxed(v: Val) -> Option<Box<Val>> {
    Some(Box::new(v))
}

fn part(name: &str, count: u32) -> Val {
    Val::Record(vec![
        ("name".into(), Val::String(name.into())),
        ("count".into(), Val::U32(count)),
        ("note".into(), Val::Option(None)),
    ])
}

#[test]
fn record_success_is_the_structured_content() {
    let f = fixture();
    let sig = f.sig("gc-content");
    let stats = Val::Record(vec![
        ("gc-content".into(), Val::Float64(0.5)),
        ("length".into(), Val::U64(12)),
    ]);
    let out = sig
        .results_to_output(&[Val::Result(Ok(boxed(stats)))])
        .expect("converts");
    let expected = json!({"gc_content": 0.5, "length": 12});
    assert_eq!(out, ToolOutput::Success(expected.clone()));
    assert!(validator(&sig.output_schema().expect("has output")).is_valid(&expected));
}

#[test]
fn err_string_is_a_tool_error() {
    let f = fixture();
    let out = f
        .sig("gc-content")
        .results_to_output(&[Val::Result(Err(boxed(Val::String(
            "empty sequence".into(),
        ))))])
        .expect("converts");
    assert_eq!(
        out,
        ToolOutput::ToolError {
            message: "empty sequence".into(),
            detail: json!("empty sequence"),
        }
    );
}

#[test]
fn err_record_enum_variant_messages() {
    let f = fixture();
    let out = f
        .sig("fails-with-record")
        .results_to_output(&[Val::Result(Err(boxed(part("p", 2))))])
        .expect("converts");
    let ToolOutput::ToolError { message, detail } = out else {
        panic!("not a tool error");
    };
    assert_eq!(detail, json!({"name": "p", "count": 2, "note": null}));
    // A compact rendering of the record (key order is serde_json's).
    assert!(
        !message.contains(' ') && !message.contains('\n'),
        "{message}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&message).ok(),
        Some(detail)
    );
    let out = f
        .sig("fails-with-enum")
        .results_to_output(&[Val::Result(Err(boxed(Val::Enum("not-found".into()))))])
        .expect("converts");
    assert_eq!(
        out,
        ToolOutput::ToolError {
            message: "not_found".into(),
            detail: json!("not_found"),
        }
    );
    let sig = f.sig("fails-with-variant");
    let out = sig
        .results_to_output(&[Val::Result(Err(boxed(Val::Variant(
            "bad-input".into(),
            boxed(Val::String("too short".into())),
        ))))])
        .expect("converts");
    assert_eq!(
        out,
        ToolOutput::ToolError {
            message: "bad_input: too short".into(),
            detail: json!({"bad_input": "too short"}),
        }
    );
    let out = sig.results_to_output(&[Val::Result(Err(boxed(Val::Variant(
        "unknown".into(),
        None,
    ))))]);
    assert_eq!(
        out.expect("converts"),
        ToolOutput::ToolError {
            message: "unknown".into(),
            detail: json!("unknown"),
        }
    );
    // result<_, problem>: success carries nothing.
    assert_eq!(
        sig.results_to_output(&[Val::Result(Ok(None))])
            .expect("converts"),
        ToolOutput::Success(json!({}))
    );
    // result<u8>: an error without payload.
    let out = f
        .sig("fails-bare")
        .results_to_output(&[Val::Result(Err(None))]);
    assert_eq!(
        out.expect("converts"),
        ToolOutput::ToolError {
            message: "the tool reported an error".into(),
            detail: json!(null),
        }
    );
}

#[test]
fn non_record_success_is_wrapped() {
    let f = fixture();
    let out = f
        .sig("count-parts")
        .results_to_output(&[Val::U32(7)])
        .expect("converts");
    assert_eq!(out, ToolOutput::Success(json!({"value": 7})));
    let out = f
        .sig("fails-with-enum")
        .results_to_output(&[Val::Result(Ok(boxed(Val::U8(1))))]);
    assert_eq!(
        out.expect("converts"),
        ToolOutput::Success(json!({"value": 1}))
    );
    let sig = f.sig("maybe");
    assert_eq!(
        sig.results_to_output(&[Val::Option(None)])
            .expect("converts"),
        ToolOutput::Success(json!({"value": null}))
    );
    let shapes = Val::List(vec![
        Val::Variant("nothing".into(), None),
        Val::Variant("circle".into(), boxed(Val::Float64(f64::NAN))),
        Val::Variant(
            "rect".into(),
            boxed(Val::Tuple(vec![
                Val::Float32(0.1),
                Val::Float32(f32::INFINITY),
            ])),
        ),
    ]);
    let sig = f.sig("shaped");
    let out = sig.results_to_output(&[shapes]).expect("converts");
    let expected = json!({"value": ["nothing", {"circle": null}, {"rect": [0.1, null]}]});
    assert_eq!(out, ToolOutput::Success(expected.clone()));
    assert!(validator(&sig.output_schema().expect("has output")).is_valid(&expected));
}

#[test]
fn nothing_returns_an_empty_object() {
    let f = fixture();
    let sig = f.sig("nothing");
    assert_eq!(
        sig.results_to_output(&[]).expect("converts"),
        ToolOutput::Success(json!({}))
    );
    assert_eq!(
        sig.results_to_output(&[Val::U8(1)]),
        Err(ConvertError::ResultCount {
            expected: 0,
            found: 1
        })
    );
    assert_eq!(
        f.sig("count-parts").results_to_output(&[]),
        Err(ConvertError::ResultCount {
            expected: 1,
            found: 0
        })
    );
}

#[test]
fn maps_in_results() {
    let f = fixture();
    let map = Val::Map(vec![
        (Val::String("a".into()), Val::U32(1)),
        (Val::String("b".into()), Val::U32(2)),
    ]);
    let out = f
        .sig("gives-map")
        .results_to_output(&[map])
        .expect("converts");
    assert_eq!(out, ToolOutput::Success(json!({"value": {"a": 1, "b": 2}})));
    let im = f.field_ty("im");
    let pairs = Val::Map(vec![(Val::U32(1), Val::String("one".into()))]);
    assert_eq!(
        val_to_json(&f.resolve, &im, &pairs).expect("converts"),
        json!([[1, "one"]])
    );
}

#[test]
fn number_lists_convert_in_bulk_and_name_a_mismatch() {
    let f = fixture();
    let sig = f.sig("series");
    let lists = Val::Tuple(vec![
        Val::List(vec![
            Val::Float64(0.5),
            Val::Float64(f64::NAN),
            Val::Float64(-1e300),
        ]),
        Val::List(vec![Val::S32(-7), Val::S32(i32::MAX)]),
        Val::List(vec![Val::U32(u32::MAX)]),
        Val::List(vec![Val::S64(i64::MIN)]),
        Val::List(vec![Val::U64(u64::MAX)]),
    ]);
    let out = sig.results_to_output(&[lists]).expect("converts");
    let expected = json!({"value": [
        [0.5, null, -1e300],
        [-7, i32::MAX],
        [u32::MAX],
        [i64::MIN],
        [u64::MAX],
    ]});
    assert_eq!(out, ToolOutput::Success(expected.clone()));
    assert!(validator(&sig.output_schema().expect("has output")).is_valid(&expected));
    // An element of the wrong type leaves the bulk path; the general one
    // names it.
    let empty = || Val::List(vec![]);
    let bad = Val::Tuple(vec![
        Val::List(vec![Val::Float64(1.0), Val::U8(1)]),
        empty(),
        empty(),
        empty(),
        empty(),
    ]);
    let err = sig.results_to_output(&[bad]).expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "the returned value at `[0][1]` does not match its WIT type: expected a `f64`, found a u8"
    );
}

#[test]
fn mismatched_values_are_errors() {
    let f = fixture();
    let err = f
        .sig("count-parts")
        .results_to_output(&[Val::String("7".into())]);
    assert_eq!(
        err.expect_err("mismatch").to_string(),
        "the returned value does not match its WIT type: expected a `u32`, found a string"
    );
    let bad = Val::List(vec![
        part("a", 1),
        Val::Record(vec![("name".into(), Val::U8(1))]),
    ]);
    let ty = f.field_ty("parts");
    let err = val_to_json(&f.resolve, &ty, &bad).expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "the returned value at `[1]` does not match its WIT type: expected a record with 3 fields, found a record"
    );
    let bad = Val::List(vec![Val::Record(vec![
        ("name".into(), Val::U8(1)),
        ("count".into(), Val::U32(1)),
        ("note".into(), Val::Option(None)),
    ])]);
    let err = val_to_json(&f.resolve, &ty, &bad).expect_err("mismatch");
    assert_eq!(
        err,
        ConvertError::Mismatch {
            path: "[0].name".into(),
            expected: "a `string`".into(),
            found: "a u8".into(),
        }
    );
    let err = f
        .sig("fails-with-enum")
        .results_to_output(&[Val::Result(Err(boxed(Val::Enum("gone".into()))))]);
    assert_eq!(
        err.expect_err("unknown case").to_string(),
        "the returned value at `err` does not match its WIT type: expected a `failure`, found the enum case `gone`"
    );
}
