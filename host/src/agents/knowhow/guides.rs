//! Our own guides (`host/knowhow/*.md`), compiled into the binary, and their
//! chunking into sections for retrieval.
//!
//! A guide is Markdown with a small front matter:
//!
//! ```text
//! ---
//! title: PCR primer design
//! licence: CC-BY-4.0
//! attribution: BioAiSaaS
//! source: bioai-knowhow://pcr-primer-design
//! ---
//! ```
//!
//! Chunks follow the sections (`##` headings): consecutive paragraphs of a
//! section are merged up to [`CHUNK_CHARS`], so that a chunk fits the
//! embedding model's 256 tokens, and every chunk starts with
//! `<guide title> > <section heading>` so it is understandable (and
//! findable by its heading) on its own.

use sha2::{Digest, Sha256};

use super::KnowHowError;

/// The URI scheme of our guides' sources.
pub const SCHEME: &str = "bioai-knowhow://";

/// Target size of a chunk's text in characters (about 200 tokens of
/// English: all-MiniLM-L6-v2 reads at most 256).
pub const CHUNK_CHARS: usize = 900;

/// The guides compiled into the binary: (file stem, Markdown). A test
/// checks that this list and `host/knowhow/*.md` agree.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "sgrna-design",
        include_str!("../../../knowhow/sgrna-design.md"),
    ),
    (
        "pcr-primer-design",
        include_str!("../../../knowhow/pcr-primer-design.md"),
    ),
    (
        "golden-gate-cloning",
        include_str!("../../../knowhow/golden-gate-cloning.md"),
    ),
    (
        "fasta-sequence-qc",
        include_str!("../../../knowhow/fasta-sequence-qc.md"),
    ),
];

/// A parsed guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guide {
    /// The slug, e.g. `pcr-primer-design`.
    pub slug: String,
    /// Title.
    pub title: String,
    /// SPDX licence id.
    pub licence: String,
    /// Attribution text.
    pub attribution: String,
    /// Canonical URI, `bioai-knowhow://<slug>`.
    pub source: String,
    /// The Markdown after the front matter.
    pub body: String,
}

/// A section chunk of a guide, ready to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The guide's slug.
    pub slug: String,
    /// The guide's title.
    pub title: String,
    /// The section heading.
    pub heading: String,
    /// `<title> > <heading>`, a blank line, then the section's text.
    pub content: String,
    /// SPDX licence id.
    pub licence: String,
    /// Attribution text.
    pub attribution: String,
    /// Canonical URI of the guide.
    pub url: String,
}

impl Chunk {
    /// The chunk's `source` in `know_how_index`:
    /// `bioai-knowhow://<slug>#<16 hex digits of sha256(model, content)>`.
    /// Including the embedding model means a change of provider re-embeds
    /// the guides instead of mixing vectors of two models.
    pub fn stored_source(&self, model_id: &str) -> String {
        let mut h = Sha256::new();
        h.update(model_id.as_bytes());
        h.update([0u8]);
        h.update(self.content.as_bytes());
        let digest = hex::encode(h.finalize());
        format!("{}#{}", self.url, &digest[..16])
    }
}

/// Parses one guide file; `slug` is its file stem.
pub fn parse(slug: &str, text: &str) -> Result<Guide, KnowHowError> {
    let bad = |what: String| KnowHowError::Guide {
        slug: slug.to_string(),
        message: what,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
        .ok_or_else(|| bad("must start with a `---` front matter".to_string()))?;
    let end = rest
        .find("\n---")
        .ok_or_else(|| bad("the front matter is not closed by `---`".to_string()))?;
    let (front, after) = rest.split_at(end);
    let body = after["\n---".len()..]
        .trim_start_matches(['\r', '\n'])
        .to_string();
    let (mut title, mut licence, mut attribution, mut source) = (None, None, None, None);
    for line in front.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("front matter line `{line}` is not `key: value`")))?;
        let value = value.trim().trim_matches('"').to_string();
        match key.trim() {
            "title" => title = Some(value),
            "licence" | "license" => licence = Some(value),
            "attribution" => attribution = Some(value),
            "source" => source = Some(value),
            other => return Err(bad(format!("unknown front matter key `{other}`"))),
        }
    }
    let need = |v: Option<String>, key: &str| {
        v.filter(|v| !v.is_empty())
            .ok_or_else(|| bad(format!("the front matter needs `{key}`")))
    };
    let guide = Guide {
        slug: slug.to_string(),
        title: need(title, "title")?,
        licence: need(licence, "licence")?,
        attribution: need(attribution, "attribution")?,
        source: need(source, "source")?,
        body,
    };
    if guide.source != format!("{SCHEME}{slug}") {
        return Err(bad(format!(
            "source is `{}`, expected `{SCHEME}{slug}`",
            guide.source
        )));
    }
    Ok(guide)
}

/// The built-in guides, parsed.
pub fn builtin() -> Result<Vec<Guide>, KnowHowError> {
    BUILTIN
        .iter()
        .map(|(slug, text)| parse(slug, text))
        .collect()
}

/// Splits a guide into section chunks, in document order.
pub fn chunks(guide: &Guide) -> Vec<Chunk> {
    let mut out = Vec::new();
    // (heading, paragraphs) of the current section; text before the first
    // `##` belongs to a section named after the guide.
    let mut heading = guide.title.clone();
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_code = false;

    let flush_paragraph = |current: &mut String, paragraphs: &mut Vec<String>| {
        let p = current.trim_end().to_string();
        if !p.trim().is_empty() {
            paragraphs.push(p);
        }
        current.clear();
    };

    for line in guide.body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_code = !in_code;
        }
        let is_heading = !in_code && trimmed.starts_with('#');
        if is_heading {
            flush_paragraph(&mut current, &mut paragraphs);
            let level = trimmed.chars().take_while(|c| *c == '#').count();
            let text = trimmed[level..].trim().to_string();
            if level <= 2 {
                section_chunks(guide, &heading, &paragraphs, &mut out);
                paragraphs.clear();
                heading = if level == 1 {
                    guide.title.clone()
                } else {
                    text
                };
            } else {
                // A sub-heading stays in its section as a paragraph of its own.
                paragraphs.push(text);
            }
        } else if line.trim().is_empty() && !in_code {
            flush_paragraph(&mut current, &mut paragraphs);
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    flush_paragraph(&mut current, &mut paragraphs);
    section_chunks(guide, &heading, &paragraphs, &mut out);
    out
}

/// Packs a section's paragraphs into chunks of about [`CHUNK_CHARS`].
fn section_chunks(guide: &Guide, heading: &str, paragraphs: &[String], out: &mut Vec<Chunk>) {
    let mut text = String::new();
    let mut emit = |text: &mut String| {
        if text.trim().is_empty() {
            return;
        }
        out.push(Chunk {
            slug: guide.slug.clone(),
            title: guide.title.clone(),
            heading: heading.to_string(),
            content: format!("{} > {}\n\n{}", guide.title, heading, text.trim_end()),
            licence: guide.licence.clone(),
            attribution: guide.attribution.clone(),
            url: guide.source.clone(),
        });
        text.clear();
    };
    for p in paragraphs {
        if !text.is_empty() && text.len() + p.len() + 2 > CHUNK_CHARS {
            emit(&mut text);
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(p);
    }
    emit(&mut text);
}

/// Every chunk of every built-in guide.
pub fn builtin_chunks() -> Result<Vec<Chunk>, KnowHowError> {
    Ok(builtin()?.iter().flat_map(chunks).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_list_matches_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowhow");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension()? == "md")
                    .then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
            })
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = BUILTIN.iter().map(|(s, _)| s.to_string()).collect();
        listed.sort();
        assert_eq!(
            on_disk, listed,
            "host/knowhow/*.md and guides::BUILTIN must list the same guides"
        );
    }

    #[test]
    fn builtin_guides_parse_with_licence_and_attribution() {
        let guides = builtin().unwrap();
        assert_eq!(guides.len(), BUILTIN.len());
        for g in &guides {
            assert_eq!(g.licence, "CC-BY-4.0", "{}", g.slug);
            assert_eq!(g.attribution, "BioAiSaaS", "{}", g.slug);
            assert_eq!(g.source, format!("bioai-knowhow://{}", g.slug));
            assert!(
                g.body.contains("## References"),
                "{} cites its sources",
                g.slug
            );
            let words = g.body.split_whitespace().count();
            assert!((400..=1200).contains(&words), "{}: {words} words", g.slug);
        }
    }

    #[test]
    fn chunks_keep_headings_and_fit_the_model() {
        for g in builtin().unwrap() {
            let chunks = chunks(&g);
            assert!(chunks.len() >= 4, "{}: {} chunks", g.slug, chunks.len());
            for c in &chunks {
                assert!(
                    c.content
                        .starts_with(&format!("{} > {}\n\n", g.title, c.heading)),
                    "{:?}",
                    c.content
                );
                // One over-long paragraph may exceed the target; none of ours does much.
                assert!(c.content.len() < 2 * CHUNK_CHARS, "{}", c.content);
                assert!(!c.heading.starts_with('#'));
            }
            // Every non-blank body line ends up in some chunk.
            let all: String = chunks.iter().map(|c| c.content.as_str()).collect();
            for line in g.body.lines().filter(|l| !l.trim().is_empty()) {
                let text = line.trim_start_matches('#').trim();
                assert!(all.contains(text), "{}: lost line {line:?}", g.slug);
            }
        }
    }

    #[test]
    fn stored_source_is_stable_and_model_specific() {
        let c = &builtin_chunks().unwrap()[0];
        let a = c.stored_source("local:all-MiniLM-L6-v2");
        assert_eq!(a, c.stored_source("local:all-MiniLM-L6-v2"));
        assert_ne!(a, c.stored_source("openai:text-embedding-3-small"));
        assert!(a.starts_with(&format!("{}#", c.url)));
        assert_eq!(a.len(), c.url.len() + 17);
    }

    #[test]
    fn front_matter_errors_are_explained() {
        let err = parse("x", "# no front matter").unwrap_err();
        assert!(err.to_string().contains("front matter"), "{err}");
        let err = parse("x", "---\ntitle: T\n---\nbody").unwrap_err();
        assert!(err.to_string().contains("licence"), "{err}");
        let ok = "---\ntitle: T\nlicence: CC-BY-4.0\nattribution: A\nsource: bioai-knowhow://x\n---\n\n# T\n\nIntro.\n\n## S\n\nText.\n";
        let g = parse("x", ok).unwrap();
        let c = chunks(&g);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].content, "T > T\n\nIntro.");
        assert_eq!(c[1].content, "T > S\n\nText.");
        let err = parse("y", ok).unwrap_err();
        assert!(err.to_string().contains("bioai-knowhow://y"), "{err}");
    }
}
