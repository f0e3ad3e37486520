//! A stand-in for the public gene databases the `gene_lookup` template
//! queries, for tests only: Ensembl REST `lookup/symbol` and NCBI ESearch on
//! loopback, answering BRAF the way their documentation shows, and the
//! shipped policies with `ensembl` and `ncbi` pointed at it.

use std::path::Path;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use crate::root;

/// Ensembl `lookup/symbol/homo_sapiens/BRAF`, as documented.
pub fn ensembl_braf() -> Value {
    json!({
        "source": "ensembl_havana",
        "object_type": "Gene",
        "logic_name": "ensembl_havana_gene_homo_sapiens",
        "version": 14,
        "species": "homo_sapiens",
        "description": "B-Raf proto-oncogene, serine/threonine kinase [Source:HGNC Symbol;Acc:HGNC:1097]",
        "display_name": "BRAF",
        "assembly_name": "GRCh38",
        "biotype": "protein_coding",
        "end": 140924929,
        "seq_region_name": "7",
        "db_type": "core",
        "strand": -1,
        "id": "ENSG00000157764",
        "start": 140719327,
        "canonical_transcript": "ENST00000646891.2"
    })
}

/// ESearch JSON (retmode=json) for `BRAF[sym] AND Homo sapiens[orgn]`.
pub fn esearch_braf() -> Value {
    json!({
        "header": {"type": "esearch", "version": "0.3"},
        "esearchresult": {
            "count": "1", "retmax": "1", "retstart": "0", "idlist": ["673"],
            "translationset": [],
            "querytranslation": "BRAF[sym] AND \"Homo sapiens\"[Organism]"
        }
    })
}

/// Starts the stand-in on `127.0.0.1:0` (on the current runtime); returns its port.
pub async fn stand_in() -> u16 {
    let app = Router::new()
        .route(
            "/lookup/symbol/{species}/{symbol}",
            get(
                |UrlPath((species, symbol)): UrlPath<(String, String)>| async move {
                    if species == "homo_sapiens" && symbol == "BRAF" {
                        (StatusCode::OK, axum::Json(ensembl_braf())).into_response()
                    } else {
                        let body =
                            json!({"error": format!("No valid lookup found for symbol {symbol}")});
                        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
                    }
                },
            ),
        )
        .route(
            "/entrez/eutils/esearch.fcgi",
            get(|| async { axum::Json(esearch_braf()) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// The shipped policies, with `ensembl` and `ncbi` pointed at the stand-in.
pub fn policies(dir: &Path, port: u16) {
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".toml") && name != "ensembl.toml" && name != "ncbi.toml" {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    for (plugin, var, path) in [
        ("ensembl", "ENSEMBL_BASE_URL", ""),
        ("ncbi", "NCBI_BASE_URL", "/entrez/eutils"),
    ] {
        std::fs::write(
            dir.join(format!("{plugin}.toml")),
            format!(
                "plugin = \"{plugin}\"\n[network]\nallow = [\"127.0.0.1:{port}\"]\n\
                 allow_private = true\n[env]\n{var} = \"http://127.0.0.1:{port}{path}\"\n"
            ),
        )
        .unwrap();
    }
}
