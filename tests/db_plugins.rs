//! The public-database plugins (`ncbi`, `uniprot`, `ensembl`) against a
//! local stand-in server that answers like the real services (responses
//! shaped as in their API documentation) and checks that requests are
//! shaped as the services expect. The policies here point the plugins at it
//! through their base-URL variables and allow it; a policy without it must
//! refuse the call as "denied by policy". The host's rate limits are checked
//! by timing (lower bounds only).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bioai::registry::{CallContext, CallFailure, Registry, ToolOutcome};
use bioai_e2e::{assert_schema_defaults, component, defaults_are_what_the_tool_uses, registry};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------
// The stand-in server.

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
}

/// What the stand-in answers: status, content type, body.
type Answer = (u16, &'static str, String);

/// A real HTTP/1.1 server on loopback, answering like the three services.
struct StandIn {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl StandIn {
    async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut head = Vec::new();
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let Some(req) = parse_request(&String::from_utf8_lossy(&head)) else {
                        return;
                    };
                    let (status, ctype, body) = answer(&req);
                    log.lock().unwrap().push(req);
                    let reason = match status {
                        200 => "OK",
                        400 => "Bad Request",
                        404 => "Not Found",
                        _ => "Error",
                    };
                    let response = format!(
                        "HTTP/1.1 {status} {reason}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(response.as_bytes()).await;
                });
            }
        });
        StandIn { port, seen }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests received so far.
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// A policy for `plugin` that allows the stand-in and points the
    /// plugin's base URL at it; `extra` is appended (more `[env]` lines).
    fn policy(&self, plugin: &str, network_extra: &str, env_extra: &str) -> String {
        let (var, path) = match plugin {
            "ncbi" => ("NCBI_BASE_URL", "/entrez/eutils"),
            "uniprot" => ("UNIPROT_BASE_URL", ""),
            _ => ("ENSEMBL_BASE_URL", ""),
        };
        format!(
            "plugin = \"{plugin}\"\n[limits]\ntimeout_ms = 30_000\n\
             [network]\nallow = [\"127.0.0.1:{port}\"]\nallow_private = true\n{network_extra}\n\
             [env]\n{var} = \"{base}{path}\"\n{env_extra}\n",
            port = self.port,
            base = self.base(),
        )
    }
}

fn parse_request(head: &str) -> Option<Seen> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?, first.next()?);
    assert_eq!(method, "GET", "the plugins only GET");
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    let query = q
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Seen {
        path: decode(path),
        query,
        headers,
    })
}

/// Percent-decoding (and `+` as space, as CGI servers such as NCBI's read it).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// Responses shaped as the services document them.

/// ESearch JSON (retmode=json), as in the E-utilities documentation.
fn esearch_json(retmax: usize) -> String {
    let ids: Vec<String> = ["7157", "22059", "24842", "403869", "100009262"]
        .iter()
        .take(retmax)
        .map(|s| format!("\"{s}\""))
        .collect();
    format!(
        r#"{{"header":{{"type":"esearch","version":"0.3"}},"esearchresult":{{"count":"5","retmax":"{}","retstart":"0","idlist":[{}],"translationset":[{{"from":"human[Organism]","to":"\"Homo sapiens\"[Organism]"}}],"translationstack":[{{"term":"TP53[Gene Name]","field":"Gene Name","count":"1306","explode":"N"}},{{"term":"\"Homo sapiens\"[Organism]","field":"Organism","count":"1468306","explode":"Y"}},"AND"],"querytranslation":"TP53[Gene Name] AND \"Homo sapiens\"[Organism]","warninglist":{{"phrasesignored":[],"quotedphrasesnotfound":[],"outputmessages":[]}}}}}}"#,
        ids.len(),
        ids.join(",")
    )
}

const HBA: &str = "MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR";
const HBB: &str = "MVHLTPEEKSAVTALWGKVNVDEVGGEALGRLLVVYPWTQRFFESFGDLSTPDAVMGNPKVKAHGKKVLGAFSDGLAHLDNLKGTFATLSELHCDKLHVDPENFRLLGNVLVCVLAHHFGKEFTPPVQAAYQKVVAGVANALAHKYH";

/// EFetch FASTA: 70 letters a line, a blank line after each record.
fn efetch_fasta() -> String {
    let mut out = String::new();
    for (header, seq) in [
        ("NP_000549.1 hemoglobin subunit alpha [Homo sapiens]", HBA),
        ("NP_000509.1 hemoglobin subunit beta [Homo sapiens]", HBB),
    ] {
        out.push('>');
        out.push_str(header);
        out.push('\n');
        for chunk in seq.as_bytes().chunks(70) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// A UniProtKB REST entry (`/uniprotkb/P69905.json`), trimmed of the
/// features, references and most cross-references but otherwise as served.
fn uniprot_p69905() -> String {
    json!({
        "entryType": "UniProtKB reviewed (Swiss-Prot)",
        "primaryAccession": "P69905",
        "secondaryAccessions": ["P01922", "Q1HDT5", "Q3MIF5", "Q53F97", "Q96KF1", "Q9NYR7", "Q9UCM0"],
        "uniProtkbId": "HBA_HUMAN",
        "entryAudit": {
            "firstPublicDate": "1986-07-21",
            "lastAnnotationUpdateDate": "2024-07-24",
            "lastSequenceUpdateDate": "2007-01-23",
            "entryVersion": 219,
            "sequenceVersion": 2
        },
        "annotationScore": 5.0,
        "organism": {
            "scientificName": "Homo sapiens",
            "commonName": "Human",
            "taxonId": 9606,
            "lineage": ["Eukaryota", "Metazoa", "Chordata", "Craniata", "Vertebrata", "Euteleostomi",
                        "Mammalia", "Eutheria", "Euarchontoglires", "Primates", "Haplorrhini",
                        "Catarrhini", "Hominidae", "Homo"]
        },
        "proteinExistence": "1: Evidence at protein level",
        "proteinDescription": {
            "recommendedName": {"fullName": {"value": "Hemoglobin subunit alpha"}},
            "alternativeNames": [
                {"fullName": {"value": "Alpha-globin"}},
                {"fullName": {"value": "Hemoglobin alpha chain"}}
            ],
            "contains": [{"recommendedName": {"fullName": {"value": "Hemopressin"}}}]
        },
        "genes": [
            {"geneName": {"evidences": [{"evidenceCode": "ECO:0000312", "source": "HGNC", "id": "HGNC:4823"}], "value": "HBA1"}},
            {"geneName": {"evidences": [{"evidenceCode": "ECO:0000312", "source": "HGNC", "id": "HGNC:4824"}], "value": "HBA2"}}
        ],
        "comments": [
            {"texts": [{"value": "Involved in oxygen transport from the lung to the various peripheral tissues"}], "commentType": "FUNCTION"},
            {"molecule": "Hemopressin", "texts": [{"evidences": [{"evidenceCode": "ECO:0000250", "source": "UniProtKB", "id": "P01946"}], "value": "Hemopressin acts as an antagonist peptide of the cannabinoid receptor CNR1"}], "commentType": "FUNCTION"},
            {"texts": [{"value": "Heterotetramer of two alpha chains and two beta chains in adult hemoglobin A (HbA)"}], "commentType": "SUBUNIT"}
        ],
        "uniProtKBCrossReferences": [
            {"database": "EMBL", "id": "V00488", "properties": [{"key": "ProteinId", "value": "CAA23748.1"}, {"key": "Status", "value": "-"}, {"key": "MoleculeType", "value": "Genomic_DNA"}]},
            {"database": "RefSeq", "id": "NP_000549.1", "properties": [{"key": "NucleotideSequenceId", "value": "NM_000558.5"}]},
            {"database": "RefSeq", "id": "NP_000508.1", "properties": [{"key": "NucleotideSequenceId", "value": "NM_000517.6"}]},
            {"database": "PDB", "id": "1A00", "properties": [{"key": "Method", "value": "X-ray"}, {"key": "Resolution", "value": "2.00 A"}, {"key": "Chains", "value": "A/C=2-142"}]},
            {"database": "AlphaFoldDB", "id": "P69905", "properties": [{"key": "Description", "value": "-"}]},
            {"database": "Ensembl", "id": "ENST00000251595.11", "properties": [{"key": "ProteinId", "value": "ENSP00000251595.6"}, {"key": "GeneId", "value": "ENSG00000206172.8"}]},
            {"database": "GeneID", "id": "3039", "properties": [{"key": "GeneName", "value": "-"}]},
            {"database": "GeneID", "id": "3040", "properties": [{"key": "GeneName", "value": "-"}]},
            {"database": "HGNC", "id": "HGNC:4823", "properties": [{"key": "GeneName", "value": "HBA1"}]},
            {"database": "GO", "id": "GO:0005833", "properties": [{"key": "GoTerm", "value": "C:hemoglobin complex"}]},
            {"database": "InterPro", "id": "IPR000971", "properties": [{"key": "EntryName", "value": "Globin"}]},
            {"database": "Pfam", "id": "PF00042", "properties": [{"key": "EntryName", "value": "Globin"}, {"key": "MatchStatus", "value": "1"}]}
        ],
        "keywords": [{"id": "KW-0561", "category": "Molecular function", "name": "Oxygen transport"}],
        "sequence": {"value": HBA, "length": 142, "molWeight": 15258, "crc64": "15E13666573BBBAE", "md5": "9A5B4D1E2E0B1D4D8F4BD0F6B4A6C3D1"},
        "extraAttributes": {"countByCommentType": {"FUNCTION": 2, "SUBUNIT": 1}, "uniParcId": "UPI0000000046"}
    })
    .to_string()
}

/// Ensembl `lookup/symbol/homo_sapiens/BRAF` JSON, as in Ensembl's REST
/// course and endpoint documentation.
fn ensembl_braf() -> String {
    bioai_e2e::gene_standin::ensembl_braf().to_string()
}

/// Routes a request to the matching documented answer.
fn answer(req: &Seen) -> Answer {
    const JSON: &str = "application/json";
    let path = req.path.as_str();
    if path == "/entrez/eutils/esearch.fcgi" {
        let retmax = req
            .query
            .get("retmax")
            .and_then(|r| r.parse().ok())
            .unwrap_or(20);
        return (200, JSON, esearch_json(retmax));
    }
    if path == "/entrez/eutils/efetch.fcgi" {
        return (200, "text/plain", efetch_fasta());
    }
    if let Some(acc) = path
        .strip_prefix("/uniprotkb/")
        .and_then(|p| p.strip_suffix(".json"))
    {
        return if acc == "P69905" {
            (200, JSON, uniprot_p69905())
        } else {
            (
                404,
                JSON,
                json!({"url": format!("http://rest.uniprot.org/uniprotkb/{acc}.json"), "messages": ["Resource not found"]}).to_string(),
            )
        };
    }
    if let Some(rest) = path.strip_prefix("/lookup/symbol/") {
        return if rest.eq_ignore_ascii_case("homo_sapiens/BRAF") {
            (200, JSON, ensembl_braf())
        } else {
            let symbol = rest.rsplit('/').next().unwrap_or("");
            (
                400,
                JSON,
                json!({"error": format!("No valid lookup found for symbol {symbol}")}).to_string(),
            )
        };
    }
    (404, "text/plain", "no such endpoint".into())
}

// ---------------------------------------------------------------------------
// Helpers.

fn plugin(name: &str) -> PathBuf {
    component("plugins", name)
}

async fn call(reg: &Registry, tool: &str, args: Value) -> ToolOutcome {
    reg.call(tool, &args, CallContext::default())
        .await
        .expect("tool exists")
}

#[track_caller]
fn ok(out: &ToolOutcome) -> &Value {
    match &out.result {
        Ok(v) => v,
        Err(e) => panic!("{} failed: {e:?}", out.tool),
    }
}

#[track_caller]
fn tool_error(out: &ToolOutcome) -> (&str, &'static str) {
    match &out.result {
        Err(CallFailure::ToolError { message, class, .. }) => (message, class),
        other => panic!("expected a tool error from {}, got {other:?}", out.tool),
    }
}

// ---------------------------------------------------------------------------
// NCBI.

#[tokio::test]
async fn esearch_returns_a_structured_search() {
    let s = StandIn::start().await;
    let (reg, _d) = registry(&[("ncbi", &s.policy("ncbi", "", ""))], &[plugin("ncbi")]).await;
    let out = call(
        &reg,
        "ncbi.esearch",
        json!({"db": "gene", "term": "TP53[Gene Name] AND human[Organism]"}),
    )
    .await;
    let v = ok(&out);
    assert_eq!(v["db"], "gene");
    assert_eq!(v["count"], 5);
    assert_eq!(v["retmax"], 5);
    assert_eq!(v["retstart"], 0);
    assert_eq!(
        v["ids"],
        json!(["7157", "22059", "24842", "403869", "100009262"])
    );
    assert_eq!(
        v["query_translation"],
        "TP53[Gene Name] AND \"Homo sapiens\"[Organism]"
    );
    assert_eq!(
        v["translations"],
        json!([{"from": "human[Organism]", "to": "\"Homo sapiens\"[Organism]"}])
    );
    assert_eq!(v["warnings"], json!([]));
    assert_eq!(out.meters.net_requests, 1);
    assert!(out.meters.net_bytes_in > 500, "{:?}", out.meters);

    // The request, as E-utilities expects it: defaults, JSON, etiquette.
    let seen = s.seen();
    assert_eq!(seen.len(), 1);
    let q = &seen[0].query;
    assert_eq!(seen[0].path, "/entrez/eutils/esearch.fcgi");
    assert_eq!(q["db"], "gene");
    assert_eq!(q["term"], "TP53[Gene Name] AND human[Organism]");
    assert_eq!(q["retmax"], "20", "the default retmax");
    assert_eq!(q["retmode"], "json");
    assert_eq!(q["tool"], "bioai");
    assert!(
        !q.contains_key("api_key") && !q.contains_key("email"),
        "{q:?}"
    );
    assert_eq!(seen[0].headers["host"], format!("127.0.0.1:{}", s.port));
    assert_eq!(seen[0].headers["user-agent"], "bioai-sdk/0.1.0 (ncbi)");
    assert_eq!(seen[0].headers["accept"], "application/json");

    // retmax is passed through.
    let out = call(
        &reg,
        "ncbi.esearch",
        json!({"db": "pubmed", "term": "p53", "retmax": 2}),
    )
    .await;
    assert_eq!(ok(&out)["ids"], json!(["7157", "22059"]));
    assert_eq!(s.seen()[1].query["retmax"], "2");
}

#[tokio::test]
async fn efetch_parses_fasta_and_keeps_the_raw_text() {
    let s = StandIn::start().await;
    let (reg, _d) = registry(&[("ncbi", &s.policy("ncbi", "", ""))], &[plugin("ncbi")]).await;
    let out = call(
        &reg,
        "ncbi.efetch",
        json!({"db": "protein", "ids": ["NP_000549.1", "NP_000509.1"]}),
    )
    .await;
    let v = ok(&out);
    assert_eq!(v["db"], "protein");
    assert_eq!(v["rettype"], "fasta");
    assert_eq!(v["raw"], efetch_fasta());
    assert_eq!(
        v["records"],
        json!([
            {"id": "NP_000549.1", "description": "hemoglobin subunit alpha [Homo sapiens]", "sequence": HBA, "length": 142},
            {"id": "NP_000509.1", "description": "hemoglobin subunit beta [Homo sapiens]", "sequence": HBB, "length": 147},
        ])
    );
    let seen = s.seen();
    let q = &seen[0].query;
    assert_eq!(seen[0].path, "/entrez/eutils/efetch.fcgi");
    assert_eq!(q["db"], "protein");
    assert_eq!(q["id"], "NP_000549.1,NP_000509.1");
    assert_eq!(q["rettype"], "fasta");
    assert_eq!(q["retmode"], "text");
    assert_eq!(q["tool"], "bioai");
}

#[tokio::test]
async fn ncbi_sends_the_api_key_and_email_when_configured() {
    let s = StandIn::start().await;
    let policy = s.policy(
        "ncbi",
        "",
        "NCBI_API_KEY = \"0123456789abcdef\"\nNCBI_EMAIL = \"ops@example.org\"",
    );
    let (reg, _d) = registry(&[("ncbi", &policy)], &[plugin("ncbi")]).await;
    ok(&call(&reg, "ncbi.esearch", json!({"db": "gene", "term": "BRCA1"})).await);
    ok(&call(
        &reg,
        "ncbi.efetch",
        json!({"db": "nuccore", "ids": ["NM_000546.6"]}),
    )
    .await);
    for req in s.seen() {
        assert_eq!(req.query["api_key"], "0123456789abcdef", "{req:?}");
        assert_eq!(req.query["email"], "ops@example.org");
        assert_eq!(req.query["tool"], "bioai");
    }
}

// ---------------------------------------------------------------------------
// UniProt and Ensembl.

#[tokio::test]
async fn uniprot_entry_is_a_structured_record() {
    let s = StandIn::start().await;
    let (reg, _d) = registry(
        &[("uniprot", &s.policy("uniprot", "", ""))],
        &[plugin("uniprot")],
    )
    .await;
    let out = call(&reg, "uniprot.entry", json!({"accession": "p69905"})).await;
    let v = ok(&out);
    assert_eq!(v["accession"], "P69905");
    assert_eq!(v["id"], "HBA_HUMAN");
    assert_eq!(v["reviewed"], true);
    assert_eq!(v["protein_name"], "Hemoglobin subunit alpha");
    assert_eq!(v["gene_names"], json!(["HBA1", "HBA2"]));
    assert_eq!(
        v["organism"],
        json!({"scientific_name": "Homo sapiens", "common_name": "Human", "taxon_id": 9606})
    );
    assert_eq!(v["sequence"], HBA);
    assert_eq!(v["length"], 142);
    assert_eq!(v["protein_existence"], "1: Evidence at protein level");
    assert_eq!(v["secondary_accessions"][0], "P01922");
    let function = v["function"].as_str().unwrap();
    assert!(
        function.starts_with("Involved in oxygen transport"),
        "{function}"
    );
    assert!(
        function.contains("\n\nHemopressin acts as an antagonist"),
        "{function}"
    );
    let xrefs: Vec<String> = v["cross_references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{}:{}",
                x["database"].as_str().unwrap(),
                x["id"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        xrefs,
        [
            "RefSeq:NP_000549.1",
            "RefSeq:NP_000508.1",
            "PDB:1A00",
            "AlphaFoldDB:P69905",
            "Ensembl:ENST00000251595.11",
            "GeneID:3039",
            "GeneID:3040",
            "HGNC:HGNC:4823",
            "InterPro:IPR000971",
            "Pfam:PF00042",
        ],
        "key databases only (no EMBL, GO), in UniProt's order"
    );
    let seen = s.seen();
    assert_eq!(seen[0].path, "/uniprotkb/P69905.json");
    assert_eq!(seen[0].headers["accept"], "application/json");

    // An accession UniProt does not have: the service's 404, said plainly.
    let out = call(&reg, "uniprot.entry", json!({"accession": "Q00000"})).await;
    let (message, class) = tool_error(&out);
    assert_eq!(class, "tool_error");
    assert_eq!(
        message,
        "not found: UniProtKB has no entry Q00000 (Resource not found)"
    );
}

#[tokio::test]
async fn ensembl_lookup_is_a_structured_record() {
    let s = StandIn::start().await;
    let (reg, _d) = registry(
        &[("ensembl", &s.policy("ensembl", "", ""))],
        &[plugin("ensembl")],
    )
    .await;
    let out = call(&reg, "ensembl.lookup", json!({"symbol": "BRAF"})).await;
    assert_eq!(
        *ok(&out),
        json!({
            "id": "ENSG00000157764",
            "version": 14,
            "display_name": "BRAF",
            "object_type": "Gene",
            "biotype": "protein_coding",
            "species": "homo_sapiens",
            "assembly": "GRCh38",
            "seq_region": "7",
            "start": 140719327,
            "end": 140924929,
            "strand": -1,
            "description": "B-Raf proto-oncogene, serine/threonine kinase [Source:HGNC Symbol;Acc:HGNC:1097]",
            "canonical_transcript": "ENST00000646891.2",
            "source": "ensembl_havana"
        })
    );
    let seen = s.seen();
    assert_eq!(seen[0].path, "/lookup/symbol/homo_sapiens/BRAF");
    assert_eq!(seen[0].query["content-type"], "application/json");

    // An unknown symbol: Ensembl's 400 "No valid lookup found" is a not-found.
    let out = call(
        &reg,
        "ensembl.lookup",
        json!({"symbol": "NOTAGENE1", "species": "mus_musculus"}),
    )
    .await;
    let (message, _) = tool_error(&out);
    assert!(
        message.starts_with("not found: Ensembl has no gene `NOTAGENE1` in mus_musculus"),
        "{message}"
    );
    assert_eq!(s.seen()[1].path, "/lookup/symbol/mus_musculus/NOTAGENE1");
}

// ---------------------------------------------------------------------------
// Validation, policy, rate limits.

#[tokio::test]
async fn bad_input_names_the_argument_and_sends_nothing() {
    let s = StandIn::start().await;
    let (reg, _d) = registry(
        &[
            ("ncbi", &s.policy("ncbi", "", "")),
            ("uniprot", &s.policy("uniprot", "", "")),
            ("ensembl", &s.policy("ensembl", "", "")),
        ],
        &[plugin("ncbi"), plugin("uniprot"), plugin("ensembl")],
    )
    .await;
    let cases = [
        (
            "ncbi.esearch",
            json!({"db": "genbank", "term": "x"}),
            "invalid argument `db`",
        ),
        (
            "ncbi.esearch",
            json!({"db": "gene", "term": "  "}),
            "invalid argument `term`",
        ),
        (
            "ncbi.esearch",
            json!({"db": "gene", "term": "x", "retmax": 10_001}),
            "invalid argument `retmax`",
        ),
        (
            "ncbi.efetch",
            json!({"db": "pubmed", "ids": ["1"]}),
            "invalid argument `db`",
        ),
        (
            "ncbi.efetch",
            json!({"db": "nuccore", "ids": []}),
            "invalid argument `ids`",
        ),
        (
            "ncbi.efetch",
            json!({"db": "nuccore", "ids": ["NM_1", "a;b"]}),
            "invalid argument `ids[1]`",
        ),
        (
            "ncbi.efetch",
            json!({"db": "protein", "ids": ["1"], "rettype": "gb"}),
            "invalid argument `rettype`",
        ),
        (
            "uniprot.entry",
            json!({"accession": "HBA_HUMAN"}),
            "invalid argument `accession`",
        ),
        (
            "uniprot.entry",
            json!({"accession": "P69905-2"}),
            "invalid argument `accession`",
        ),
        (
            "ensembl.lookup",
            json!({"symbol": "BRAF KRAS"}),
            "invalid argument `symbol`",
        ),
        (
            "ensembl.lookup",
            json!({"symbol": "BRAF", "species": "Homo sapiens"}),
            "invalid argument `species`",
        ),
    ];
    for (tool, args, expected) in cases {
        let out = call(&reg, tool, args.clone()).await;
        let (message, class) = tool_error(&out);
        assert!(message.starts_with(expected), "{tool} {args}: {message}");
        assert_eq!(class, "tool_error");
        assert_eq!(out.meters.net_requests, 0, "{tool} {args}");
    }
    assert!(
        s.seen().is_empty(),
        "no request for bad input: {:?}",
        s.seen()
    );
}

#[tokio::test]
async fn a_policy_without_the_host_denies_the_call() {
    let s = StandIn::start().await;
    // The shipped allow-lists (the real services), with the base URLs
    // pointing elsewhere: the host must refuse.
    let policy = |plugin: &str, real: &str, var: &str| {
        format!(
            "plugin = \"{plugin}\"\n[network]\nallow = [\"{real}:443\"]\n[env]\n{var} = \"{}\"\n",
            s.base()
        )
    };
    let (reg, _d) = registry(
        &[
            (
                "ncbi",
                &policy("ncbi", "eutils.ncbi.nlm.nih.gov", "NCBI_BASE_URL"),
            ),
            (
                "uniprot",
                &policy("uniprot", "rest.uniprot.org", "UNIPROT_BASE_URL"),
            ),
            (
                "ensembl",
                &policy("ensembl", "rest.ensembl.org", "ENSEMBL_BASE_URL"),
            ),
        ],
        &[plugin("ncbi"), plugin("uniprot"), plugin("ensembl")],
    )
    .await;
    for (tool, args, name) in [
        (
            "ncbi.esearch",
            json!({"db": "gene", "term": "TP53"}),
            "ncbi",
        ),
        ("uniprot.entry", json!({"accession": "P69905"}), "uniprot"),
        ("ensembl.lookup", json!({"symbol": "BRAF"}), "ensembl"),
    ] {
        let out = call(&reg, tool, args).await;
        let (message, class) = tool_error(&out);
        assert_eq!(class, "denied", "{message}");
        assert!(
            message.starts_with(&format!(
                "denied by policy: 127.0.0.1 is not in this plugin's network allow-list (policies/{name}.toml [network] allow)"
            )),
            "{message}"
        );
        assert_eq!(out.meters.net_requests, 0);
    }
    assert!(s.seen().is_empty());
}

#[tokio::test]
async fn rate_limits_hold_across_calls() {
    let s = StandIn::start().await;
    let port = s.port;

    // 4 requests per second: 9 calls, each its own instance, need at least
    // 8 intervals of 250 ms.
    let policy = s.policy(
        "ncbi",
        &format!("[network.rate_limits]\n\"127.0.0.1:{port}\" = 4"),
        "",
    );
    let (reg, _d) = registry(&[("ncbi", &policy)], &[plugin("ncbi")]).await;
    let t = Instant::now();
    for _ in 0..9 {
        ok(&call(&reg, "ncbi.esearch", json!({"db": "gene", "term": "TP53"})).await);
    }
    let elapsed = t.elapsed();
    println!("9 sequential calls at 4 requests/s: {elapsed:?} (lower bound 2 s)");
    assert!(
        elapsed >= Duration::from_millis(2000),
        "9 requests at 4/s took only {elapsed:?}"
    );
    assert_eq!(s.seen().len(), 9);
}

#[tokio::test]
async fn rate_limits_hold_for_concurrent_calls_and_follow_the_api_key() {
    let s = StandIn::start().await;
    let port = s.port;
    // The shipped NCBI shape: 3/s, or 10/s with an API key. With the key
    // set, 11 concurrent calls need at least 10 intervals of 100 ms.
    let policy = s.policy(
        "ncbi",
        &format!(
            "[network.rate_limits]\n\"127.0.0.1:{port}\" = {{ per_second = 3, with_env = \"NCBI_API_KEY\", with_env_per_second = 10 }}"
        ),
        "NCBI_API_KEY = \"k\"",
    );
    let (reg, _d) = registry(&[("ncbi", &policy)], &[plugin("ncbi")]).await;
    let reg = Arc::new(reg);
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..11 {
        let reg = reg.clone();
        tasks.spawn(async move {
            call(
                &reg,
                "ncbi.esearch",
                json!({"db": "gene", "term": format!("q{i}")}),
            )
            .await
        });
    }
    while let Some(out) = tasks.join_next().await {
        ok(&out.expect("task"));
    }
    let elapsed = t.elapsed();
    println!("11 concurrent calls at 10 requests/s (API key set): {elapsed:?} (lower bound 1 s)");
    assert!(
        elapsed >= Duration::from_millis(1000),
        "11 requests at 10/s took only {elapsed:?}"
    );
    assert_eq!(s.seen().len(), 11);
    assert!(s.seen().iter().all(|r| r.query["api_key"] == "k"));

    // Without the key the same policy paces at 3/s: 4 calls need 1 s.
    let policy = s.policy(
        "ncbi",
        &format!(
            "[network.rate_limits]\n\"127.0.0.1:{port}\" = {{ per_second = 3, with_env = \"NCBI_API_KEY\", with_env_per_second = 10 }}\n"
        ),
        "NCBI_API_KEY = { from_host = \"BIOAI_TEST_UNSET_VARIABLE\" }",
    );
    let (reg, _d2) = registry(&[("ncbi", &policy)], &[plugin("ncbi")]).await;
    let t = Instant::now();
    for _ in 0..4 {
        ok(&call(&reg, "ncbi.esearch", json!({"db": "gene", "term": "TP53"})).await);
    }
    let elapsed = t.elapsed();
    println!("4 sequential calls at 3 requests/s (no API key): {elapsed:?} (lower bound 1 s)");
    // Three intervals of 1/3 s (rounded down to the nanosecond).
    assert!(
        elapsed >= Duration::from_millis(990),
        "4 requests at 3/s took only {elapsed:?}"
    );
}

#[tokio::test]
async fn the_schema_defaults_are_what_the_tools_use() {
    let s = StandIn::start().await;
    let (reg, _d) = registry(
        &[
            ("ncbi", &s.policy("ncbi", "", "")),
            ("ensembl", &s.policy("ensembl", "", "")),
        ],
        &[plugin("ncbi"), plugin("ensembl")],
    )
    .await;
    for (tool, args) in [
        (
            "ncbi.esearch",
            json!({"db": "gene", "term": "TP53[Gene Name]"}),
        ),
        (
            "ncbi.efetch",
            json!({"db": "protein", "ids": ["NP_000549.1"]}),
        ),
        ("ensembl.lookup", json!({"symbol": "BRAF"})),
    ] {
        let before = s.seen().len();
        defaults_are_what_the_tool_uses(&reg, tool, args).await;
        // And the service was asked the same twice.
        let seen = s.seen();
        assert_eq!(seen.len(), before + 2, "{tool}");
        assert_eq!(seen[before].path, seen[before + 1].path, "{tool}");
        assert_eq!(seen[before].query, seen[before + 1].query, "{tool}");
    }
    // The issue's public defaults.
    assert_schema_defaults(&reg, "ncbi.esearch", &[("retmax", json!(20))]);
    assert_schema_defaults(&reg, "ncbi.efetch", &[("rettype", json!("fasta"))]);
    assert_schema_defaults(
        &reg,
        "ensembl.lookup",
        &[("species", json!("homo_sapiens"))],
    );
}
