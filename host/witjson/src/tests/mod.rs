//! Tests: WIT text parsed with `Resolve::push_source`, functions of the
//! `api` interface turned into tool signatures.

mod args;
mod output;
mod schema;

use serde_json::Value;
use wit_parser::{InterfaceId, Resolve, Type};

use crate::ToolSignature;

const WIT: &str = r#"
package test:tools;

interface api {
    /// A DNA sequence, as IUPAC letters.
    type dna = string;

    /// A named part.
    record part {
        /// The part's name.
        name: string,
        /// How many copies.
        count: u32,
        note: option<string>,
    }

    /// The kind of molecule.
    enum molecule {
        /// Deoxyribonucleic acid.
        dna,
        rna,
        protein-seq,
    }

    /// Output options.
    flags opts {
        /// Upper-case the output.
        upper-case,
        strict,
    }

    /// A shape.
    variant shape {
        /// No shape at all.
        nothing,
        /// A circle, by radius.
        circle(f64),
        rect(tuple<f32, f32>),
    }

    /// Sequence statistics.
    record stats {
        /// Fraction of G and C.
        gc-content: f64,
        length: u64,
    }

    record everything {
        b: bool,
        a-u8: u8,
        a-u16: u16,
        a-u32: u32,
        a-u64: u64,
        a-s8: s8,
        a-s16: s16,
        a-s32: s32,
        a-s64: s64,
        float-a: f32,
        float-b: f64,
        c: char,
        s: string,
        l: list<u8>,
        fixed: list<u8, 3>,
        t: tuple<u8, string>,
        e: molecule,
        fl: opts,
        v: shape,
        o: option<u32>,
        r: result<u32, string>,
        r-empty: result,
        oo: option<option<u8>>,
        seq: dna,
        parts: list<part>,
        sm: map<string, u32>,
        im: map<u32, string>,
    }

    enum failure { not-found, too-long }

    variant problem { bad-input(string), other(part), unknown }

    resource blob;

    record holder { inner: list<own<blob>> }

    /// Compute the GC content of a sequence.
    gc-content: func(sequence: dna, window: option<u32>) -> result<stats, string>;
    count-parts: func(parts: list<part>, mol: molecule) -> u32;
    echo: func(x: everything) -> everything;
    nothing: func();
    fails-with-record: func() -> result<string, part>;
    fails-with-enum: func() -> result<u8, failure>;
    fails-with-variant: func() -> result<_, problem>;
    fails-bare: func() -> result<u8>;
    maybe: func(x: option<u8>) -> option<u8>;
    shaped: func(s: shape, fl: opts, t: tuple<u8, char>) -> list<shape>;
    takes-blob: func(h: holder);
    takes-map: func(m: map<string, u32>);
    gives-blob: func() -> blob;
    gives-map: func() -> map<string, u32>;
    gives-stream: func() -> stream<u8>;
    series: func() -> tuple<list<f64>, list<s32>, list<u32>, list<s64>, list<u64>>;
}
"#;

pub(crate) struct Fixture {
    pub resolve: Resolve,
    pub iface: InterfaceId,
}

pub(crate) fn fixture() -> Fixture {
    let mut resolve = Resolve::default();
    let pkg = resolve
        .push_source("test.wit", WIT)
        .expect("test WIT parses");
    let iface = resolve.packages[pkg].interfaces["api"];
    Fixture { resolve, iface }
}

impl Fixture {
    pub fn sig(&self, name: &str) -> ToolSignature<'_> {
        let func = &self.resolve.interfaces[self.iface].functions[name];
        ToolSignature::new(&self.resolve, func)
    }

    /// A named type of the interface.
    pub fn ty(&self, name: &str) -> Type {
        Type::Id(self.resolve.interfaces[self.iface].types[name])
    }

    /// The type of a field of the `everything` record.
    pub fn field_ty(&self, field: &str) -> Type {
        let Type::Id(id) = self.ty("everything") else {
            unreachable!()
        };
        let wit_parser::TypeDefKind::Record(r) = &self.resolve.types[id].kind else {
            unreachable!()
        };
        r.fields
            .iter()
            .find(|f| f.name == field)
            .expect("field exists")
            .ty
    }
}

/// Asserts that `schema` is a valid draft 2020-12 schema and returns a validator.
pub(crate) fn validator(schema: &Value) -> jsonschema::Validator {
    if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
        panic!("invalid schema: {e}\n{schema:#}");
    }
    jsonschema::draft202012::new(schema).expect("schema compiles")
}
