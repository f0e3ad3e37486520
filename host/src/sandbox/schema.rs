//! JSON Schemas of `sandbox.run_python`'s arguments and result, for the MCP
//! tool listing. Kept beside the types; a unit test checks that real
//! requests and outcomes match them.

use serde_json::{Value, json};

/// The arguments ([`super::RunRequest`]).
pub fn input() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["code"],
        "properties": {
            "code": {
                "type": "string",
                "description": "Python 3 source, run as __main__ in a fresh sandbox. The value of a final expression statement is returned. The working directory is /scratch (writable, deleted after the run); files written to out/ are returned. Input files are read-only under /inputs."
            },
            "requirements": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Packages the code needs, e.g. [\"uncertainties\"] or [\"numpy\"]. Bundled pure-Python packages run in the WebAssembly engine; packages with native code (numpy, pandas, scipy, biopython...) need the native fallback engine, if the operator enabled it. Nothing is downloaded."
            },
            "input_files": {
                "type": "array",
                "default": [],
                "description": "Files mounted read-only at /inputs/<name>: a path relative to the project's workspace, or inline text.",
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["path"],
                            "properties": {
                                "path": {"type": "string", "description": "Relative path in the workspace (no .., not absolute)."},
                                "name": {"type": "string", "description": "File name under /inputs (default: the path's file name)."}
                            }
                        },
                        {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["name", "content"],
                            "properties": {
                                "name": {"type": "string", "description": "File name under /inputs."},
                                "content": {"type": "string", "description": "The file's text."}
                            }
                        }
                    ]
                }
            },
            "timeout_s": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": 30,
                "description": "Wall-clock limit in seconds; capped at the sandbox policy's timeout."
            }
        }
    })
}

/// The result ([`super::RunOutcome`]).
pub fn output() -> Value {
    let nullable_int = json!({"type": ["integer", "null"], "minimum": 0});
    json!({
        "type": "object",
        "required": ["engine", "stdout", "stderr", "output_truncated", "value", "exception", "error", "files", "meters"],
        "properties": {
            "engine": {"enum": ["component", "bwrap", "docker"], "description": "Which engine ran the code."},
            "stdout": {"type": "string"},
            "stderr": {"type": "string"},
            "output_truncated": {"type": "boolean", "description": "stdout or stderr passed the output limit and was cut."},
            "value": {
                "description": "The final expression's value, if any.",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["repr", "json"],
                        "properties": {
                            "repr": {"type": "string"},
                            "json": {"description": "The value as JSON, or null if it is not JSON-serializable."}
                        }
                    }
                ]
            },
            "exception": {
                "description": "The exception the code raised, if any.",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["type", "message", "traceback"],
                        "properties": {
                            "type": {"type": "string"},
                            "message": {"type": "string"},
                            "traceback": {"type": "string"}
                        }
                    }
                ]
            },
            "error": {
                "description": "The limit or sandbox failure that stopped the run, if any.",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["kind", "message"],
                        "properties": {
                            "kind": {"enum": ["out_of_fuel", "cpu_time", "memory_limit", "timeout", "output_limit", "process_limit", "cancelled", "denied", "crashed"]},
                            "message": {"type": "string"}
                        }
                    }
                ]
            },
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "size", "media_type", "text", "uri"],
                    "properties": {
                        "name": {"type": "string", "description": "Path relative to out/."},
                        "size": {"type": "integer", "minimum": 0},
                        "media_type": {"type": "string"},
                        "text": {"type": ["string", "null"], "description": "Content of small UTF-8 text files."},
                        "uri": {"type": "string", "description": "Resource link (bioai-sandbox://<run>/<name>)."}
                    }
                }
            },
            "meters": {
                "type": "object",
                "required": ["wall_us", "fuel", "cpu_us", "peak_memory_bytes", "net_requests", "output_file_bytes"],
                "properties": {
                    "wall_us": {"type": "integer", "minimum": 0},
                    "fuel": nullable_int,
                    "cpu_us": nullable_int,
                    "peak_memory_bytes": nullable_int,
                    "net_requests": {"type": "integer", "minimum": 0},
                    "output_file_bytes": {"type": "integer", "minimum": 0}
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::{
        EngineKind, ErrorKind, OutputFile, PyException, PyValue, RunError, RunMeters, RunOutcome,
        RunRequest,
    };

    /// Checks `value` against the subset of JSON Schema these schemas use
    /// (type, enum, required, properties, additionalProperties, oneOf, items).
    fn conforms(schema: &serde_json::Value, value: &serde_json::Value) -> Result<(), String> {
        use serde_json::Value as V;
        if let Some(options) = schema.get("oneOf").and_then(V::as_array) {
            let ok = options
                .iter()
                .filter(|s| conforms(s, value).is_ok())
                .count();
            return if ok == 1 {
                Ok(())
            } else {
                Err(format!("{value} matches {ok} of oneOf"))
            };
        }
        if let Some(e) = schema.get("enum").and_then(V::as_array)
            && !e.contains(value)
        {
            return Err(format!("{value} not in {e:?}"));
        }
        if let Some(t) = schema.get("type") {
            let types: Vec<&str> = match t {
                V::String(s) => vec![s.as_str()],
                V::Array(a) => a.iter().filter_map(V::as_str).collect(),
                _ => vec![],
            };
            let is = |t: &str| match t {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_u64() || value.is_i64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                _ => false,
            };
            if !types.iter().any(|t| is(t)) {
                return Err(format!("{value} is not {types:?}"));
            }
        }
        if let Some(obj) = value.as_object() {
            for r in schema
                .get("required")
                .and_then(V::as_array)
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap_or_default();
                if !obj.contains_key(r) {
                    return Err(format!("missing {r}"));
                }
            }
            let props = schema.get("properties").and_then(V::as_object);
            for (k, v) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => conforms(s, v).map_err(|e| format!("{k}: {e}"))?,
                    None if schema.get("additionalProperties") == Some(&V::Bool(false)) => {
                        return Err(format!("unexpected {k}"));
                    }
                    None => {}
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
            for v in arr {
                conforms(items, v)?;
            }
        }
        Ok(())
    }

    #[test]
    fn outcomes_match_the_output_schema() {
        let full = RunOutcome {
            engine: EngineKind::Bwrap,
            stdout: "hi\n".into(),
            stderr: String::new(),
            output_truncated: false,
            value: Some(PyValue {
                repr: "{'a': 1}".into(),
                json: Some(serde_json::json!({"a": 1})),
            }),
            exception: Some(PyException {
                type_name: "ValueError".into(),
                message: "x".into(),
                traceback: "Traceback...".into(),
            }),
            error: Some(RunError {
                kind: ErrorKind::ProcessLimit,
                message: "m".into(),
            }),
            files: vec![OutputFile {
                name: "a.csv".into(),
                size: 3,
                media_type: "text/csv".into(),
                text: Some("a,b".into()),
                uri: "bioai-sandbox://r/a.csv".into(),
            }],
            meters: RunMeters {
                wall_us: 5,
                cpu_us: Some(3),
                ..RunMeters::default()
            },
        };
        let empty = RunOutcome {
            value: None,
            exception: None,
            error: None,
            files: vec![],
            ..full.clone()
        };
        for o in [full, empty] {
            let v = serde_json::to_value(&o).expect("serializes");
            conforms(&super::output(), &v).unwrap_or_else(|e| panic!("{e}: {v}"));
        }
    }

    #[test]
    fn requests_match_the_input_schema() {
        let args = serde_json::json!({
            "code": "1 + 1",
            "requirements": ["uncertainties"],
            "input_files": [{"path": "a/b.csv"}, {"name": "x.txt", "content": "hello"}],
            "timeout_s": 5
        });
        conforms(&super::input(), &args).expect("conforms");
        let req: RunRequest = serde_json::from_value(args).expect("deserializes");
        assert_eq!(req.input_files.len(), 2);
        let bad = serde_json::json!({"code": "1", "extra": true});
        assert!(conforms(&super::input(), &bad).is_err());
        assert!(serde_json::from_value::<RunRequest>(bad).is_err());
    }
}
