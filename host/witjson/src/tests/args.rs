//! JSON arguments -> component values: conversions, round trips and errors.

use serde_json::{Value, json};
use wasmtime::component::Val;

use super::{fixture, validator};
use crate::{ArgError, ArgErrorKind, ToolOutput, json_to_val, val_to_json};

/// A full `everything` record, every field set.
fn everything() -> Value {
    json!({
        "b": true,
        "a_u8": 255,
        "a_u16": 65535,
        "a_u32": 4294967295u32,
        "a_u64": u64::MAX,
        "a_s8": -128,
        "a_s16": -32768,
        "a_s32": i32::MIN,
        "a_s64": i64::MIN,
        "float_a": 0.1,
        "float_b": -2.5e300,
        "c": "🧬",
        "s": "héllo\n",
        "l": [1, 2, 3],
        "fixed": [7, 8, 9],
        "t": [1, "one"],
        "e": "protein_seq",
        "fl": ["upper_case", "strict"],
        "v": {"rect": [1.5, 2.0]},
        "o": 42,
        "r": {"err": "bad"},
        "r_empty": {"ok": null},
        "oo": 3,
        "seq": "ACGT",
        "parts": [{"name": "a", "count": 1, "note": "n"}, {"name": "b", "count": 2, "note": null}],
        "sm": {"x": 1, "y": 2},
        "im": [[1, "one"], [2, "two"]],
    })
}

/// Converts `{"x": value}` through `echo` and back.
fn echo(value: &Value) -> Value {
    let f = fixture();
    let sig = f.sig("echo");
    let args = json!({ "x": value });
    validator(&sig.input_schema())
        .validate(&args)
        .expect("args match the input schema");
    let vals = sig.args_to_vals(&args).expect("args convert");
    let ToolOutput::Success(out) = sig.results_to_output(&vals).expect("output converts") else {
        panic!("not a success");
    };
    validator(&sig.output_schema().expect("has output"))
        .validate(&out)
        .expect("output matches");
    out
}

#[test]
fn everything_round_trips() {
    let value = everything();
    assert_eq!(echo(&value), value);
}

#[test]
fn each_kind_round_trips() {
    let f = fixture();
    let cases: &[(&str, Value)] = &[
        ("b", json!(false)),
        ("a-u8", json!(0)),
        ("a-u64", json!(9007199254740993u64)),
        ("a-s64", json!(i64::MAX)),
        ("a-s32", json!(-7)),
        ("float-a", json!(1.25)),
        ("float-a", json!(3.4e38)),
        ("float-b", json!(0.1)),
        ("c", json!("x")),
        ("s", json!("")),
        ("l", json!([])),
        ("t", json!([0, ""])),
        ("e", json!("dna")),
        ("fl", json!([])),
        ("fl", json!(["strict"])),
        ("v", json!("nothing")),
        ("v", json!({"circle": 2.5})),
        ("o", json!(null)),
        ("o", json!(0)),
        ("r", json!({"ok": 5})),
        ("r", json!({"err": "no"})),
        ("r-empty", json!({"err": null})),
        ("oo", json!(null)),
        ("parts", json!([{"name": "p", "count": 0, "note": null}])),
        ("sm", json!({})),
        ("im", json!([[3, "three"]])),
    ];
    for (field, value) in cases {
        let ty = f.field_ty(field);
        let schema = crate::type_schema(&f.resolve, &ty);
        assert!(
            validator(&schema).is_valid(value),
            "{field}: {value} matches its schema"
        );
        let val =
            json_to_val(&f.resolve, &ty, value, field).unwrap_or_else(|e| panic!("{field}: {e}"));
        let back = val_to_json(&f.resolve, &ty, &val).unwrap_or_else(|e| panic!("{field}: {e}"));
        assert_eq!(&back, value, "{field} round-trips");
    }
}

#[test]
fn values_are_built_with_wit_names() {
    let f = fixture();
    let vals = f
        .sig("count-parts")
        .args_to_vals(&json!({"parts": [{"name": "a", "count": 2}], "mol": "protein_seq"}))
        .expect("valid");
    assert_eq!(
        vals,
        vec![
            Val::List(vec![Val::Record(vec![
                ("name".into(), Val::String("a".into())),
                ("count".into(), Val::U32(2)),
                ("note".into(), Val::Option(None)),
            ])]),
            Val::Enum("protein-seq".into()),
        ]
    );
    let vals = f
        .sig("shaped")
        .args_to_vals(&json!({"s": {"circle": 1}, "fl": ["upper_case"], "t": [1, "x"]}))
        .expect("valid");
    assert_eq!(
        vals,
        vec![
            Val::Variant("circle".into(), Some(Box::new(Val::Float64(1.0)))),
            Val::Flags(vec!["upper-case".into()]),
            Val::Tuple(vec![Val::U8(1), Val::Char('x')]),
        ]
    );
}

#[test]
fn integral_floats_are_integers() {
    let f = fixture();
    let val = json_to_val(&f.resolve, &wit_parser::Type::U8, &json!(3.0), "n")
        .expect("3.0 is an integer");
    assert_eq!(val, Val::U8(3));
}

#[test]
fn option_missing_or_null_is_none() {
    let f = fixture();
    let sig = f.sig("gc-content");
    let none = vec![Val::String("AC".into()), Val::Option(None)];
    assert_eq!(
        sig.args_to_vals(&json!({"sequence": "AC"})).expect("valid"),
        none
    );
    assert_eq!(
        sig.args_to_vals(&json!({"sequence": "AC", "window": null}))
            .expect("valid"),
        none
    );
    assert_eq!(
        sig.args_to_vals(&json!({"sequence": "AC", "window": 5}))
            .expect("valid"),
        vec![
            Val::String("AC".into()),
            Val::Option(Some(Box::new(Val::U32(5))))
        ]
    );
    // No arguments at all: fine when everything is optional.
    assert_eq!(
        f.sig("maybe").args_to_vals(&Value::Null).expect("valid"),
        vec![Val::Option(None)]
    );
    assert_eq!(
        f.sig("nothing").args_to_vals(&json!({})).expect("valid"),
        vec![]
    );
}

/// Converts `args` for `func`, expecting an error, and checks that the input
/// schema rejects the same arguments.
fn arg_error(func: &str, args: Value) -> ArgError {
    let f = fixture();
    let sig = f.sig(func);
    assert!(
        !validator(&sig.input_schema()).is_valid(&args),
        "schema rejects {args}"
    );
    sig.args_to_vals(&args).expect_err("conversion fails")
}

#[test]
fn wrong_type_deep_in_a_list_of_records() {
    let e = arg_error(
        "count-parts",
        json!({"parts": [{"name": "a", "count": 1}, {"name": 3, "count": 2}], "mol": "dna"}),
    );
    assert_eq!(e.path, "parts[1].name");
    assert_eq!(e.expected, "a string");
    assert_eq!(e.found, "the number 3");
    assert_eq!(e.kind, ArgErrorKind::Invalid);
    assert_eq!(
        e.to_string(),
        "argument `parts[1].name`: expected a string, found the number 3"
    );

    let e = arg_error(
        "echo",
        json!({"x": {"parts": [{"name": "a", "count": 1.5}]}}),
    );
    // Unknown/missing fields of `x` come first.
    assert_eq!(e.path, "x.b");
    let mut x = everything();
    x["parts"][0]["count"] = json!(1.5);
    let e = arg_error("echo", json!({ "x": x }));
    assert_eq!(
        e.to_string(),
        "argument `x.parts[0].count`: expected an integer from 0 to 4294967295, found the number 1.5"
    );
}

#[test]
fn missing_required() {
    let e = arg_error(
        "count-parts",
        json!({"parts": [{"count": 1}], "mol": "dna"}),
    );
    assert_eq!(e.kind, ArgErrorKind::Missing);
    assert_eq!(e.path, "parts[0].name");
    assert_eq!(
        e.to_string(),
        "missing required argument `parts[0].name` (expected a string)"
    );
    let e = arg_error("gc-content", json!({"window": 3}));
    assert_eq!(
        e.to_string(),
        "missing required argument `sequence` (expected a string)"
    );
}

#[test]
fn unknown_argument_lists_accepted_names() {
    let e = arg_error("gc-content", json!({"sequence": "A", "windw": 3}));
    assert_eq!(
        e.kind,
        ArgErrorKind::Unknown {
            accepted: vec!["sequence".into(), "window".into()]
        }
    );
    assert_eq!(
        e.to_string(),
        "unknown argument `windw`; accepted: `sequence`, `window`"
    );
    let e = arg_error(
        "count-parts",
        json!({"parts": [{"name": "a", "count": 1, "colour": "red"}], "mol": "dna"}),
    );
    assert_eq!(
        e.to_string(),
        "unknown argument `parts[0].colour`; accepted: `name`, `count`, `note`"
    );
    let e = arg_error("nothing", json!({"x": 1}));
    assert_eq!(
        e.to_string(),
        "unknown argument `x`: nothing is accepted here"
    );
}

#[test]
fn arguments_not_an_object() {
    let e = arg_error("gc-content", json!(["ACGT"]));
    assert_eq!(e.kind, ArgErrorKind::NotAnObject);
    assert_eq!(
        e.to_string(),
        "the arguments must be a JSON object, found an array of 1 item"
    );
}

#[test]
fn integers_out_of_range() {
    let f = fixture();
    let bad = |field: &str, value: Value| {
        let ty = f.field_ty(field);
        if field != "float-a" {
            assert!(!validator(&crate::type_schema(&f.resolve, &ty)).is_valid(&value));
        }
        json_to_val(&f.resolve, &ty, &value, field)
            .expect_err("out of range")
            .to_string()
    };
    assert_eq!(
        bad("a-u8", json!(300)),
        "argument `a-u8`: expected an integer from 0 to 255, found the number 300"
    );
    assert_eq!(
        bad("a-u32", json!(-1)),
        "argument `a-u32`: expected an integer from 0 to 4294967295, found the number -1"
    );
    assert_eq!(
        bad("a-s8", json!(-129)),
        "argument `a-s8`: expected an integer from -128 to 127, found the number -129"
    );
    assert_eq!(
        bad("a-u64", json!(-1)),
        "argument `a-u64`: expected an integer from 0 to 18446744073709551615, found the number -1"
    );
    assert_eq!(
        bad("a-s64", json!(u64::MAX)),
        "argument `a-s64`: expected an integer from -9223372036854775808 to 9223372036854775807, \
         found the number 18446744073709551615"
    );
    assert_eq!(
        bad("a-u8", json!("7")),
        "argument `a-u8`: expected an integer from 0 to 255, found the string \"7\""
    );
    assert_eq!(
        bad("float-a", json!(1e300)),
        "argument `float-a`: expected a number within the range of a 32-bit float, found the number 1e+300"
    );
    assert_eq!(
        bad("c", json!("ab")),
        "argument `c`: expected a string of exactly one character, found the string \"ab\""
    );
}

#[test]
fn float_a_range_is_not_in_the_schema() {
    // JSON Schema cannot say "fits in f32"; the conversion is stricter here.
    let f = fixture();
    let ty = f.field_ty("float-a");
    assert!(validator(&crate::type_schema(&f.resolve, &ty)).is_valid(&json!(1e300)));
}

#[test]
fn wrong_variant_enum_flags_result() {
    let e = arg_error(
        "shaped",
        json!({"s": {"square": 1}, "fl": [], "t": [1, "x"]}),
    );
    assert_eq!(
        e.to_string(),
        "argument `s`: expected one of \"nothing\", {\"circle\": ...}, {\"rect\": ...}, \
         found an object with the key \"square\""
    );
    let e = arg_error("shaped", json!({"s": "circle", "fl": [], "t": [1, "x"]}));
    assert_eq!(
        e.to_string(),
        "argument `s`: expected {\"circle\": ...} (the case \"circle\" carries a value), found the string \"circle\""
    );
    let e = arg_error(
        "shaped",
        json!({"s": {"nothing": null}, "fl": [], "t": [1, "x"]}),
    );
    assert_eq!(
        e.to_string(),
        "argument `s`: expected the string \"nothing\" (the case \"nothing\" carries no value), \
         found an object with the key \"nothing\""
    );
    let e = arg_error(
        "shaped",
        json!({"s": {"circle": "big"}, "fl": [], "t": [1, "x"]}),
    );
    assert_eq!(
        e.to_string(),
        "argument `s.circle`: expected a number, found the string \"big\""
    );
    let e = arg_error(
        "shaped",
        json!({"s": {"rect": [1, 2, 3]}, "fl": [], "t": [1, "x"]}),
    );
    assert_eq!(
        e.to_string(),
        "argument `s.rect`: expected an array of exactly 2 items, found an array of 3 items"
    );
    let e = arg_error(
        "shaped",
        json!({"s": "nothing", "fl": ["strict", "loud"], "t": [1, "x"]}),
    );
    assert_eq!(
        e.to_string(),
        "argument `fl[1]`: expected one of \"upper_case\", \"strict\", found the string \"loud\""
    );
    let e = arg_error(
        "shaped",
        json!({"s": "nothing", "fl": ["strict", "strict"], "t": [1, "x"]}),
    );
    assert_eq!(
        e.to_string(),
        "argument `fl[1]`: expected a flag name not listed before, found the string \"strict\" again"
    );
    let e = arg_error("shaped", json!({"s": "nothing", "fl": [], "t": [1, "xy"]}));
    assert_eq!(e.path, "t[1]");
    let e = arg_error("count-parts", json!({"parts": [], "mol": "DNA"}));
    assert_eq!(
        e.to_string(),
        "argument `mol`: expected one of \"dna\", \"rna\", \"protein_seq\", found the string \"DNA\""
    );
    let mut x = everything();
    x["r"] = json!({"ok": 1, "err": "x"});
    let e = arg_error("echo", json!({ "x": x }));
    assert_eq!(e.path, "x.r");
    assert_eq!(
        e.expected,
        "an object with exactly one key, \"ok\" or \"err\""
    );
    assert!(
        e.found.starts_with("an object with the keys "),
        "{}",
        e.found
    );
    x["r"] = json!({"err": 5});
    let e = arg_error("echo", json!({ "x": x }));
    assert_eq!(
        e.to_string(),
        "argument `x.r.err`: expected a string, found the number 5"
    );
    x["r"] = json!({"ok": 1});
    x["r_empty"] = json!({"ok": 1});
    let e = arg_error("echo", json!({ "x": x }));
    assert_eq!(
        e.to_string(),
        "argument `x.r_empty.ok`: expected null, found the number 1"
    );
}

#[test]
fn null_for_a_required_value() {
    let e = arg_error("gc-content", json!({"sequence": null}));
    assert_eq!(
        e.to_string(),
        "argument `sequence`: expected a string, found null"
    );
}

#[test]
fn nested_option_limitation() {
    // option<option<u8>>: null is the outer none; some(none) cannot be written.
    let f = fixture();
    let ty = f.field_ty("oo");
    assert_eq!(
        json_to_val(&f.resolve, &ty, &json!(null), "oo").expect("valid"),
        Val::Option(None)
    );
    let some_none = Val::Option(Some(Box::new(Val::Option(None))));
    assert_eq!(
        val_to_json(&f.resolve, &ty, &some_none).expect("converts"),
        json!(null)
    );
}

#[test]
fn unsupported_argument_types() {
    let f = fixture();
    let e = f
        .sig("takes-blob")
        .check_supported()
        .expect_err("resource handle");
    assert_eq!(e.param.as_deref(), Some("h"));
    assert_eq!(e.path, "h.inner[0]");
    assert_eq!(e.wit_type, "own<blob>");
    assert_eq!(
        e.to_string(),
        "function `takes-blob` cannot be a tool: parameter `h` uses the WIT type `own<blob>` \
         (at `h.inner[0]`); resources, handles, futures, streams, error-context and maps \
         cannot be tool arguments"
    );
    let e = f
        .sig("takes-map")
        .check_supported()
        .expect_err("map argument");
    assert_eq!(
        e.to_string(),
        "function `takes-map` cannot be a tool: parameter `m` uses the WIT type `map<string, u32>`; \
         resources, handles, futures, streams, error-context and maps cannot be tool arguments"
    );
    let e = f
        .sig("gives-blob")
        .check_supported()
        .expect_err("resource result");
    assert_eq!(e.param, None);
    assert_eq!(e.wit_type, "own<blob>");
    assert!(
        e.to_string()
            .starts_with("function `gives-blob` cannot be a tool: its result uses")
    );
    let e = f
        .sig("gives-stream")
        .check_supported()
        .expect_err("stream result");
    assert_eq!(e.wit_type, "stream<u8>");
    let e = f
        .sig("echo")
        .check_supported()
        .expect_err("map inside a record argument");
    assert_eq!(
        (e.path.as_str(), e.wit_type.as_str()),
        ("x.sm", "map<string, u32>")
    );
    for ok in [
        "gc-content",
        "count-parts",
        "nothing",
        "shaped",
        "gives-map",
        "fails-with-variant",
    ] {
        f.sig(ok)
            .check_supported()
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    // Converting anyway is an error, not a panic.
    let e = f
        .sig("takes-blob")
        .args_to_vals(&json!({"h": {"inner": [1]}}))
        .expect_err("unsupported");
    assert_eq!(
        e.kind,
        ArgErrorKind::Unsupported {
            wit_type: "own<blob>".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "argument `h.inner[0]` has the WIT type `own<blob>`, which cannot be passed as JSON"
    );
}
