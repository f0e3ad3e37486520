//! Fixtures for the official MCP conformance suite: tools, prompts,
//! resources, a URI template, completions and a header parameter with fixed
//! names and fixed results, as the suite's scenarios describe them.

#[cfg(target_arch = "wasm32")]
mod component {
    bioai_sdk::generate!("test:conformance/conformance");

    use bioai::plugin::content::{Block, EmbeddedResource, Media};
    use bioai_sdk::client::{self, InputRequest, InputResponse};
    use exports::bioai::plugin::completions::{self, Reference};
    use exports::bioai::plugin::headers::{self, HeaderParam};
    use exports::bioai::plugin::prompts::{self, Message, Prompt, PromptArgument, Rendered, Role};
    use exports::bioai::plugin::resources::{self, ResourceInfo, Template};
    use exports::bioai::plugin::tool_details::{self, ClientCapability, ToolDetail};
    use exports::test::conformance::fixtures;
    use std::time::Duration;

    /// A 1x1 red PNG.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xfc,
        0xcf, 0xc0, 0x50, 0x0f, 0x00, 0x04, 0x85, 0x01, 0x80, 0x84, 0xa9, 0x8c, 0x21, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    /// A WAV header with no samples (silence).
    const WAV: &[u8] = &[
        0x52, 0x49, 0x46, 0x46, 0x24, 0x00, 0x00, 0x00, 0x57, 0x41, 0x56, 0x45, 0x66, 0x6d, 0x74,
        0x20, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x44, 0xac, 0x00, 0x00, 0x88, 0x58,
        0x01, 0x00, 0x02, 0x00, 0x10, 0x00, 0x64, 0x61, 0x74, 0x61, 0x00, 0x00, 0x00, 0x00,
    ];

    fn image() -> Block {
        Block::Image(Media {
            data: PNG.to_vec(),
            mime_type: "image/png".into(),
        })
    }

    fn text_resource(uri: &str, mime: &str, text: &str) -> Block {
        Block::Resource(EmbeddedResource {
            uri: uri.into(),
            mime_type: Some(mime.into()),
            text: Some(text.into()),
            blob: None,
        })
    }

    struct Fixtures;

    impl fixtures::Guest for Fixtures {
        fn test_simple_text() -> Vec<Block> {
            vec![Block::Text(
                "This is a simple text response for testing.".into(),
            )]
        }

        fn test_image_content() -> Vec<Block> {
            vec![image()]
        }

        fn test_audio_content() -> Vec<Block> {
            vec![Block::Audio(Media {
                data: WAV.to_vec(),
                mime_type: "audio/wav".into(),
            })]
        }

        fn test_embedded_resource() -> Vec<Block> {
            vec![text_resource(
                "test://embedded-resource",
                "text/plain",
                "This is an embedded resource content.",
            )]
        }

        fn test_multiple_content_types() -> Vec<Block> {
            vec![
                Block::Text("Multiple content types test:".into()),
                image(),
                text_resource(
                    "test://mixed-content-resource",
                    "application/json",
                    r#"{"test":"data","value":123}"#,
                ),
            ]
        }

        fn test_error_handling() -> Result<Vec<Block>, String> {
            Err("This tool intentionally returns an error for testing".into())
        }

        fn test_tool_with_progress() -> Vec<Block> {
            for (i, fraction) in [0.0, 0.5, 1.0].into_iter().enumerate() {
                if i > 0 {
                    std::thread::sleep(Duration::from_millis(50));
                }
                bioai_sdk::progress::report(fraction, "");
            }
            vec![Block::Text("Progress test completed".into())]
        }

        fn test_tool_with_logging() -> Vec<Block> {
            for (i, message) in [
                "Tool execution started",
                "Tool processing data",
                "Tool execution completed",
            ]
            .into_iter()
            .enumerate()
            {
                if i > 0 {
                    std::thread::sleep(Duration::from_millis(50));
                }
                bioai_sdk::log!(info, "{message}");
            }
            vec![Block::Text("Logging test completed".into())]
        }

        fn test_logging_tool() -> Vec<Block> {
            bioai_sdk::log!(info, "Logging tool ran");
            vec![Block::Text("Logged one record".into())]
        }

        fn test_header_param(region: String) -> Vec<Block> {
            vec![Block::Text(format!("Region: {region}"))]
        }

        fn test_sampling(prompt: String) -> Result<Vec<Block>, String> {
            let answer = client::sample_text(&prompt, 100)?;
            Ok(vec![Block::Text(format!("LLM response: {answer}"))])
        }

        fn test_elicitation(message: String) -> Result<Vec<Block>, String> {
            let answer = client::elicit(&message, USER_SCHEMA)?;
            Ok(vec![Block::Text(format!(
                "User response: {}",
                elicited(&answer)
            ))])
        }

        fn test_elicitation_sep1034_defaults() -> Result<Vec<Block>, String> {
            let answer = client::elicit(
                "Test client default value handling - please accept with defaults",
                DEFAULTS_SCHEMA,
            )?;
            Ok(vec![Block::Text(format!(
                "Elicitation completed: {}",
                elicited(&answer)
            ))])
        }

        fn test_elicitation_sep1330_enums() -> Result<Vec<Block>, String> {
            let answer = client::elicit("Pick from every kind of enum field", ENUMS_SCHEMA)?;
            Ok(vec![Block::Text(format!(
                "Elicitation completed: {}",
                elicited(&answer)
            ))])
        }

        fn test_list_roots() -> Result<Vec<Block>, String> {
            let roots = client::list_roots()?;
            let lines: Vec<String> = roots.into_iter().map(|r| r.uri).collect();
            Ok(vec![Block::Text(format!("Roots:\n{}", lines.join("\n")))])
        }

        fn test_input_required_result_elicitation() -> Result<Vec<Block>, String> {
            let [name] = ask([("user_name", form("What is your name?", NAME_SCHEMA))])?;
            Ok(text(format!("Hello, {}!", field(&name, "name")?)))
        }

        fn test_input_required_result_sampling() -> Result<Vec<Block>, String> {
            let [answer] = ask([(
                "capital_question",
                sample("What is the capital of France?", 100),
            )])?;
            Ok(text(format!("LLM response: {}", sampled_text(&answer)?)))
        }

        fn test_input_required_result_list_roots() -> Result<Vec<Block>, String> {
            let [roots] = ask([("client_roots", InputRequest::ListRoots)])?;
            Ok(text(format!("Roots: {}", root_uris(&roots)?)))
        }

        fn test_input_required_result_request_state() -> Result<Vec<Block>, String> {
            let [ok] = ask([("confirm", form("Please confirm", CONFIRM_SCHEMA))])?;
            Ok(text(format!("state-ok: confirmed {}", field(&ok, "ok")?)))
        }

        fn test_input_required_result_multiple_inputs() -> Result<Vec<Block>, String> {
            let [name, greeting, roots] = ask([
                ("user_name", form("What is your name?", NAME_SCHEMA)),
                ("greeting", sample("Generate a greeting", 50)),
                ("client_roots", InputRequest::ListRoots),
            ])?;
            Ok(text(format!(
                "name: {}; greeting: {}; roots: {}",
                field(&name, "name")?,
                sampled_text(&greeting)?,
                root_uris(&roots)?
            )))
        }

        fn test_input_required_result_multi_round() -> Result<Vec<Block>, String> {
            let [name] = ask([("step1", form("Step 1: What is your name?", NAME_SCHEMA))])?;
            let [color] = ask([(
                "step2",
                form("Step 2: What is your favorite color?", COLOR_SCHEMA),
            )])?;
            Ok(text(format!(
                "{} likes {}",
                field(&name, "name")?,
                field(&color, "color")?
            )))
        }

        fn test_input_required_result_tampered_state() -> Result<Vec<Block>, String> {
            let [ok] = ask([("confirm", form("Please confirm", CONFIRM_SCHEMA))])?;
            Ok(text(format!("confirmed {}", field(&ok, "ok")?)))
        }

        fn test_missing_capability() -> Result<Vec<Block>, String> {
            let answer = client::sample_text("Say hello", 20)?;
            Ok(text(format!("LLM response: {answer}")))
        }

        fn test_streaming_elicitation() -> Result<Vec<Block>, String> {
            let [name] = ask([("user_name", form("What is your name?", NAME_SCHEMA))])?;
            Ok(text(format!("Hello, {}!", field(&name, "name")?)))
        }

        fn json_schema_tool(
            name: Option<String>,
            address: Option<fixtures::Address>,
            contact_method: Option<String>,
            phone: Option<String>,
            email: Option<String>,
        ) -> Vec<Block> {
            let city = address.and_then(|a| a.city).unwrap_or_default();
            text(format!(
                "{} ({city}) by {}: {}",
                name.unwrap_or_default(),
                contact_method.unwrap_or_default(),
                phone.or(email).unwrap_or_default()
            ))
        }

        fn test_input_required_result_capabilities() -> Result<Vec<Block>, String> {
            let answers = client::request_input(&[
                ("user_name".into(), form("What is your name?", NAME_SCHEMA)),
                (
                    "capital_question".into(),
                    sample("What is the capital of France?", 100),
                ),
            ]);
            let lines: Vec<String> = answers
                .iter()
                .map(|a| match a {
                    InputResponse::Failed(why) => format!("not asked: {why}"),
                    InputResponse::Elicited(e) => format!("form: {}", elicited(e)),
                    InputResponse::Sampled(s) => {
                        format!("model: {}", client::text_of(&s.content).unwrap_or_default())
                    }
                    InputResponse::Roots(r) => format!("{} roots", r.len()),
                })
                .collect();
            Ok(text(lines.join("\n")))
        }
    }

    /// Asks the client for `N` things at once; fails on the first failure.
    fn ask<const N: usize>(
        requests: [(&str, InputRequest); N],
    ) -> Result<[InputResponse; N], String> {
        let requests: Vec<(String, InputRequest)> = requests
            .into_iter()
            .map(|(k, r)| (k.to_string(), r))
            .collect();
        let answers = client::request_input(&requests);
        for (a, (key, _)) in answers.iter().zip(&requests) {
            if let InputResponse::Failed(why) = a {
                return Err(format!("no answer to `{key}`: {why}"));
            }
        }
        answers
            .try_into()
            .map_err(|_| "the host answered a different number of requests".to_string())
    }

    fn form(message: &str, schema: &str) -> InputRequest {
        InputRequest::Elicit(client::Form {
            message: message.into(),
            requested_schema: schema.into(),
        })
    }

    fn sample(prompt: &str, max_tokens: u32) -> InputRequest {
        InputRequest::CreateMessage(client::SamplingRequest {
            messages: vec![client::SamplingMessage {
                role: client::Role::User,
                content: client::Block::Text(prompt.into()),
            }],
            max_tokens,
            system_prompt: None,
            temperature: None,
            stop_sequences: vec![],
        })
    }

    fn text(t: String) -> Vec<Block> {
        vec![Block::Text(t)]
    }

    /// The value of `name` in an accepted form, as JSON text.
    fn field(answer: &InputResponse, name: &str) -> Result<String, String> {
        let InputResponse::Elicited(e) = answer else {
            return Err("expected a form answer".into());
        };
        if e.action != client::ElicitAction::Accept {
            return Err(format!("the user chose {}", client::action_name(e.action)));
        }
        let content = e.content.as_deref().unwrap_or("{}");
        // `"name":"Ada"` -> `Ada`; `"ok":true` -> `true` (flat forms only).
        let key = format!("\"{name}\":");
        let rest = content
            .split_once(&key)
            .map(|(_, r)| r)
            .ok_or_else(|| format!("the form has no `{name}`: {content}"))?;
        let value = rest.split([',', '}']).next().unwrap_or_default().trim();
        Ok(value.trim_matches('"').to_string())
    }

    fn sampled_text(answer: &InputResponse) -> Result<String, String> {
        match answer {
            InputResponse::Sampled(s) => {
                client::text_of(&s.content).ok_or_else(|| "the model answered without text".into())
            }
            _ => Err("expected the model's answer".into()),
        }
    }

    fn root_uris(answer: &InputResponse) -> Result<String, String> {
        match answer {
            InputResponse::Roots(r) => Ok(r
                .iter()
                .map(|r| r.uri.as_str())
                .collect::<Vec<_>>()
                .join(", ")),
            _ => Err("expected the client's roots".into()),
        }
    }

    const NAME_SCHEMA: &str =
        r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#;
    const CONFIRM_SCHEMA: &str =
        r#"{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}"#;
    const COLOR_SCHEMA: &str =
        r#"{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}"#;
    const CONTEXT_SCHEMA: &str =
        r#"{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}"#;

    /// An elicitation answer as `action=..., content=...`.
    fn elicited(answer: &client::Elicited) -> String {
        format!(
            "action={}, content={}",
            client::action_name(answer.action),
            answer.content.as_deref().unwrap_or("{}")
        )
    }

    /// The form of `test_elicitation`.
    const USER_SCHEMA: &str = r#"{
        "type": "object",
        "properties": {
            "username": { "type": "string", "description": "User's response" },
            "email": { "type": "string", "description": "User's email address" }
        },
        "required": ["username", "email"]
    }"#;

    /// The form of `test_elicitation_sep1034_defaults`: a default for every
    /// primitive type.
    const DEFAULTS_SCHEMA: &str = r#"{
        "type": "object",
        "properties": {
            "name": { "type": "string", "description": "User name", "default": "John Doe" },
            "age": { "type": "integer", "description": "User age", "default": 30 },
            "score": { "type": "number", "description": "User score", "default": 95.5 },
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active"
            },
            "verified": { "type": "boolean", "description": "Verification status", "default": true }
        },
        "required": []
    }"#;

    /// The form of `test_elicitation_sep1330_enums`: the five enum variants.
    const ENUMS_SCHEMA: &str = r#"{
        "type": "object",
        "properties": {
            "untitledSingle": {
                "type": "string",
                "description": "Untitled single-select",
                "enum": ["option1", "option2", "option3"]
            },
            "titledSingle": {
                "type": "string",
                "description": "Titled single-select",
                "oneOf": [
                    { "const": "value1", "title": "First Option" },
                    { "const": "value2", "title": "Second Option" },
                    { "const": "value3", "title": "Third Option" }
                ]
            },
            "legacyEnum": {
                "type": "string",
                "description": "Legacy titled enum",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"]
            },
            "untitledMulti": {
                "type": "array",
                "description": "Untitled multi-select",
                "items": { "type": "string", "enum": ["option1", "option2", "option3"] }
            },
            "titledMulti": {
                "type": "array",
                "description": "Titled multi-select",
                "items": {
                    "anyOf": [
                        { "const": "value1", "title": "First Choice" },
                        { "const": "value2", "title": "Second Choice" },
                        { "const": "value3", "title": "Third Choice" }
                    ]
                }
            }
        },
        "required": []
    }"#;

    impl headers::Guest for Fixtures {
        fn header_params() -> Vec<HeaderParam> {
            vec![HeaderParam {
                tool: "test-header-param".into(),
                param: "region".into(),
                header: "Region".into(),
            }]
        }
    }

    fn user(content: Block) -> Message {
        Message {
            role: Role::User,
            content,
        }
    }

    fn argument(name: &str, description: &str) -> PromptArgument {
        PromptArgument {
            name: name.into(),
            title: None,
            description: Some(description.into()),
            required: true,
        }
    }

    fn prompt(name: &str, description: &str, arguments: Vec<PromptArgument>) -> Prompt {
        Prompt {
            name: name.into(),
            title: None,
            description: description.into(),
            arguments,
        }
    }

    /// The value of argument `name`, or an error naming it.
    fn arg<'a>(arguments: &'a [(String, String)], name: &str) -> Result<&'a str, String> {
        arguments
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("missing required argument `{name}`"))
    }

    impl prompts::Guest for Fixtures {
        fn list_prompts() -> Vec<Prompt> {
            vec![
                prompt(
                    "test_simple_prompt",
                    "A simple prompt without arguments",
                    vec![],
                ),
                prompt(
                    "test_prompt_with_arguments",
                    "A prompt with two required arguments",
                    vec![
                        argument("arg1", "First test argument"),
                        argument("arg2", "Second test argument"),
                    ],
                ),
                prompt(
                    "test_prompt_with_embedded_resource",
                    "A prompt embedding a resource",
                    vec![argument("resourceUri", "URI of the resource to embed")],
                ),
                prompt("test_prompt_with_image", "A prompt with an image", vec![]),
                prompt(
                    "test_input_required_result_prompt",
                    "A prompt that asks the user for its context (input-required rounds)",
                    vec![],
                ),
            ]
        }

        fn get_prompt(name: String, arguments: Vec<(String, String)>) -> Result<Rendered, String> {
            let messages = match name.as_str() {
                "test_simple_prompt" => vec![user(Block::Text(
                    "This is a simple prompt for testing.".into(),
                ))],
                "test_prompt_with_arguments" => {
                    let (arg1, arg2) = (arg(&arguments, "arg1")?, arg(&arguments, "arg2")?);
                    vec![user(Block::Text(format!(
                        "Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
                    )))]
                }
                "test_prompt_with_embedded_resource" => vec![
                    user(text_resource(
                        arg(&arguments, "resourceUri")?,
                        "text/plain",
                        "Embedded resource content for testing.",
                    )),
                    user(Block::Text(
                        "Please process the embedded resource above.".into(),
                    )),
                ],
                "test_prompt_with_image" => vec![
                    user(image()),
                    user(Block::Text("Please analyze the image above.".into())),
                ],
                "test_input_required_result_prompt" => {
                    let [context] = ask([(
                        "user_context",
                        form("What context should the prompt use?", CONTEXT_SCHEMA),
                    )])?;
                    vec![user(Block::Text(format!(
                        "Answer with this context in mind: {}",
                        field(&context, "context")?
                    )))]
                }
                other => return Err(format!("no prompt named `{other}`")),
            };
            Ok(Rendered {
                description: None,
                messages,
            })
        }
    }

    fn listed(uri: &str, name: &str, mime: &str) -> ResourceInfo {
        ResourceInfo {
            uri: uri.into(),
            name: name.into(),
            title: None,
            description: Some(format!("Conformance fixture `{name}`")),
            mime_type: Some(mime.into()),
            size: None,
        }
    }

    impl resources::Guest for Fixtures {
        fn list_resources() -> Vec<ResourceInfo> {
            vec![
                listed("test://static-text", "static-text", "text/plain"),
                listed("test://static-binary", "static-binary", "image/png"),
                listed("test://watched-resource", "watched-resource", "text/plain"),
                listed("test://input-required", "input-required", "text/plain"),
            ]
        }

        fn list_templates() -> Vec<Template> {
            vec![Template {
                uri_template: "test://template/{id}/data".into(),
                name: "template-data".into(),
                title: None,
                description: Some("Data for an ID".into()),
                mime_type: Some("application/json".into()),
            }]
        }

        fn read_resource(uri: String) -> Result<Option<Vec<EmbeddedResource>>, String> {
            let text = |mime: &str, text: String| EmbeddedResource {
                uri: uri.clone(),
                mime_type: Some(mime.into()),
                text: Some(text),
                blob: None,
            };
            let contents = match uri.as_str() {
                // Asks the user first (an input-required round on 2026-07-28).
                "test://input-required" => {
                    let [context] = ask([(
                        "user_context",
                        form("What context should the resource use?", CONTEXT_SCHEMA),
                    )])?;
                    text(
                        "text/plain",
                        format!("Context: {}", field(&context, "context")?),
                    )
                }
                "test://static-text" => text(
                    "text/plain",
                    "This is the content of the static text resource.".into(),
                ),
                "test://watched-resource" => {
                    text("text/plain", "This resource is watched for updates.".into())
                }
                "test://static-binary" => EmbeddedResource {
                    uri: uri.clone(),
                    mime_type: Some("image/png".into()),
                    text: None,
                    blob: Some(PNG.to_vec()),
                },
                other => {
                    let id = other
                        .strip_prefix("test://template/")
                        .and_then(|rest| rest.strip_suffix("/data"))
                        .filter(|id| !id.is_empty() && !id.contains('/'));
                    let Some(id) = id else { return Ok(None) };
                    text(
                        "application/json",
                        format!(
                            r#"{{"id":"{id}","templateTest":true,"data":"Data for ID: {id}"}}"#
                        ),
                    )
                }
            };
            Ok(Some(vec![contents]))
        }
    }

    impl completions::Guest for Fixtures {
        fn complete(
            reference: Reference,
            argument: String,
            value: String,
            _context: Vec<(String, String)>,
        ) -> Vec<String> {
            let candidates: &[&str] = match (&reference, argument.as_str()) {
                (Reference::Prompt(p), "arg1" | "arg2") if p == "test_prompt_with_arguments" => {
                    &["paris", "park", "party", "test", "testValue1", "testValue2"]
                }
                (Reference::Template(_), "id") => &["1", "123", "42"],
                _ => &[],
            };
            candidates
                .iter()
                .filter(|c| c.starts_with(value.as_str()))
                .map(|c| c.to_string())
                .collect()
        }
    }

    impl tool_details::Guest for Fixtures {
        fn tool_details() -> Vec<ToolDetail> {
            vec![
                ToolDetail {
                    tool: "test-missing-capability".into(),
                    name: None,
                    input_schema: None,
                    requires: vec![ClientCapability::Sampling],
                    arguments: vec![],
                },
                ToolDetail {
                    tool: "json-schema-tool".into(),
                    name: Some("json_schema_2020_12_tool".into()),
                    input_schema: Some(JSON_SCHEMA_2020_12.into()),
                    requires: vec![],
                    arguments: vec![],
                },
            ]
        }
    }

    /// The input schema of the suite's `json-schema-2020-12` scenario (with
    /// `contact_method` spelt as the WIT parameter).
    const JSON_SCHEMA_2020_12: &str = r##"{
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contact_method": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contact_method": {"const": "phone"}}, "required": ["contact_method"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    }"##;

    export!(Fixtures);
}
