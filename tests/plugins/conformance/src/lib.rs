//! Fixture tools for the official MCP conformance suite: fixed names and
//! fixed results, as the suite's scenarios describe them.

#[cfg(target_arch = "wasm32")]
mod component {
    bioai_sdk::generate!("test:conformance/conformance");

    use bioai::plugin::content::{Block, EmbeddedResource, Media};
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
    }

    export!(Fixtures);
}
