//! Request URLs, with NCBI's etiquette parameters.

use bioai_sdk::http::query;

/// The E-utilities base URL, unless `NCBI_BASE_URL` overrides it.
pub const DEFAULT_BASE_URL: &str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils";

/// Who is asking, sent with every request as NCBI asks: `tool=bioai`, the
/// operator's contact e-mail and API key when configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Etiquette {
    /// `NCBI_EMAIL`: a contact address NCBI can write to about heavy use.
    pub email: Option<String>,
    /// `NCBI_API_KEY`: raises NCBI's limit from 3 to 10 requests per second.
    pub api_key: Option<String>,
}

impl Etiquette {
    /// From the plugin's environment (the policy's `[env]`); empty values
    /// count as unset.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            email: var("NCBI_EMAIL"),
            api_key: var("NCBI_API_KEY"),
        }
    }

    fn append<'a>(&'a self, params: &mut Vec<(&'a str, &'a str)>) {
        params.push(("tool", "bioai"));
        if let Some(email) = &self.email {
            params.push(("email", email.trim()));
        }
        if let Some(key) = &self.api_key {
            params.push(("api_key", key.trim()));
        }
    }
}

/// `esearch.fcgi` with JSON output.
pub fn esearch_url(base: &str, db: &str, term: &str, retmax: u32, who: &Etiquette) -> String {
    let retmax = retmax.to_string();
    let mut params = vec![
        ("db", db),
        ("term", term),
        ("retmax", retmax.as_str()),
        ("retmode", "json"),
    ];
    who.append(&mut params);
    format!("{base}/esearch.fcgi?{}", query(&params))
}

/// `efetch.fcgi` with text output; ids comma-separated.
pub fn efetch_url(base: &str, db: &str, ids: &[&str], rettype: &str, who: &Etiquette) -> String {
    let ids = ids.join(",");
    let mut params = vec![
        ("db", db),
        ("id", ids.as_str()),
        ("rettype", rettype),
        ("retmode", "text"),
    ];
    who.append(&mut params);
    format!("{base}/efetch.fcgi?{}", query(&params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_the_etiquette() {
        let none = Etiquette::default();
        assert_eq!(
            esearch_url(
                DEFAULT_BASE_URL,
                "gene",
                "TP53[sym] AND human[orgn]",
                5,
                &none
            ),
            "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi?db=gene&term=TP53%5Bsym%5D%20AND%20human%5Borgn%5D&retmax=5&retmode=json&tool=bioai"
        );
        let who = Etiquette {
            email: Some("ops@example.org".into()),
            api_key: Some("k3y".into()),
        };
        assert_eq!(
            efetch_url(
                "http://127.0.0.1:1",
                "nuccore",
                &["NM_000546.6", "1"],
                "fasta",
                &who
            ),
            "http://127.0.0.1:1/efetch.fcgi?db=nuccore&id=NM_000546.6%2C1&rettype=fasta&retmode=text&tool=bioai&email=ops%40example.org&api_key=k3y"
        );
    }
}
