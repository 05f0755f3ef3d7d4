//! Fills a PostgreSQL database with connections for the scale benchmark
//! (`benches/service_scale.sh`): COUNT rows as `serve` would have stored them after a callback,
//! each with its own token pair sealed for its own row, written with COPY.
//!
//! The tokens are sealed with the service's public [`Cipher`] in the row format the service
//! reads for OAuth connections made before connections held credentials (the JSON pair of
//! tokens, bound to `tokens\0PROVIDER\0ID`), which it must open for as long as such rows exist;
//! the service's own sealing stays private. Should the two ever differ, the benchmark's token
//! and proxy routes answer 500 and wrk counts every answer as non-2xx.
//!
//! ```sh
//! PROVIDER_FORGE_ENCRYPTION_KEY=$(openssl rand -base64 32) \
//!     cargo run --release --example seed_connections -- postgres://postgres@127.0.0.1/pf_scale 1000000
//! ```
//!
//! The database is migrated first (the store's own migrations). A table that already holds
//! exactly COUNT connections is left alone; any other is emptied and filled again. The rows:
//! connection `c0000000` to `c{COUNT-1}` (seven digits), by the last digit of `zoho-crm` (0 to
//! 4), `bench-api` (5: the proxy benchmarks' provider, `benches/proxy/bench-api.yaml`),
//! `zoho-books` (6, 7) or `gitlab` (8, 9), in the providers' data centers in turn, with their
//! default scopes, the `api_domain` Zoho returns, a Zoho-shaped access and refresh token, an
//! expiry 30 days ahead (so the token route never refreshes), and one in a hundred (the ids
//! ending in 99, all gitlab) marked `reauthorization_required`.

use std::path::Path;
use std::time::Instant;

use provider_forge::catalog;
use provider_forge::definition::AuthMode;
use provider_forge::oauth::unix_now;
use provider_forge::resolve::ResolvedProvider;
use provider_forge::service::store::{self, ConnectionRecord, ConnectionStatus};
use provider_forge::service::{Cipher, EncryptionKey};
use sqlx::Connection;

/// The providers, by the last digit of the connection number.
const PROVIDERS: [&str; 10] = [
    "zoho-crm",
    "zoho-crm",
    "zoho-crm",
    "zoho-crm",
    "zoho-crm",
    "bench-api",
    "zoho-books",
    "zoho-books",
    "gitlab",
    "gitlab",
];

/// The columns written, in the order of each COPY line.
const COLUMNS: &str = "provider, connection_id, data_center, issuer, scopes, granted_scope, \
    token_type, metadata, params, expires_at, status, key_id, sealed, generation, created_at, \
    updated_at, auth_mode, environment";

/// Rows per COPY message.
const BATCH: usize = 10_000;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, count] = args.as_slice() else {
        eprintln!(
            "usage: seed_connections POSTGRES_URL COUNT (key in PROVIDER_FORGE_ENCRYPTION_KEY)"
        );
        std::process::exit(2);
    };
    let count: u64 = count.parse().expect("COUNT is a whole number");
    let key = std::env::var("PROVIDER_FORGE_ENCRYPTION_KEY")
        .expect("PROVIDER_FORGE_ENCRYPTION_KEY is set");
    let cipher = Cipher::new(
        EncryptionKey::from_base64(&key).expect("a valid key"),
        vec![],
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<_> = [
        "providers/zoho-crm.yaml",
        "providers/zoho-books.yaml",
        "providers/gitlab.yaml",
        "benches/proxy/bench-api.yaml",
    ]
    .iter()
    .map(|file| root.join(file))
    .collect();
    let providers: Vec<ResolvedProvider> = catalog::load(&files)
        .expect("the providers load")
        .providers
        .into_iter()
        .map(|p| p.resolved)
        .collect();

    // The store migrates the schema; the rows then go in over a connection of our own.
    drop(store::open(url).await.expect("the database opens"));
    let mut db = sqlx::PgConnection::connect(url).await.expect("connects");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM connections")
        .fetch_one(&mut db)
        .await
        .unwrap();
    if stored == count as i64 {
        println!("seed_connections: {count} connections already stored");
        return;
    }
    sqlx::query("TRUNCATE connections")
        .execute(&mut db)
        .await
        .unwrap();

    let started = Instant::now();
    let now = unix_now();
    let mut copy = db
        .copy_in_raw(&format!("COPY connections ({COLUMNS}) FROM STDIN"))
        .await
        .unwrap();
    let mut buffer = String::new();
    for n in 0..count {
        let provider_id = PROVIDERS[(n % 10) as usize];
        let provider = providers.iter().find(|p| p.id == provider_id).unwrap();
        let record = row(&cipher, provider, n, now);
        push_line(&mut buffer, &record);
        if (n as usize + 1).is_multiple_of(BATCH) {
            copy.send(std::mem::take(&mut buffer).into_bytes())
                .await
                .unwrap();
        }
    }
    if !buffer.is_empty() {
        copy.send(buffer.into_bytes()).await.unwrap();
    }
    let written = copy.finish().await.unwrap();
    let copied = started.elapsed();
    sqlx::query("ANALYZE connections")
        .execute(&mut db)
        .await
        .unwrap();
    println!(
        "seed_connections: {written} connections sealed and copied in {:.1} s, analyzed in {:.1} s",
        copied.as_secs_f64(),
        (started.elapsed() - copied).as_secs_f64()
    );
}

/// Connection number `n`, as the service stores it after a callback.
fn row(cipher: &Cipher, provider: &ResolvedProvider, n: u64, now: u64) -> ConnectionRecord {
    let dc = &provider.data_centers[(n / 10) as usize % provider.data_centers.len()];
    let issuer = dc
        .authorization
        .as_ref()
        .map_or_else(String::new, |a| a.issuer.clone());
    let mut metadata = indexmap::IndexMap::new();
    if provider.id.starts_with("zoho") {
        if let Some(api) = dc.api_base_urls.get("production") {
            metadata.insert(
                "api_domain".to_owned(),
                serde_json::Value::from(api.clone()),
            );
        }
    }
    let zoho_token = || {
        format!(
            "1000.{:032x}.{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        )
    };
    let connection_id = format!("c{n:07}");
    let secret = serde_json::json!({"access_token": zoho_token(), "refresh_token": zoho_token()});
    let context = [
        b"tokens\0".as_slice(),
        provider.id.as_bytes(),
        b"\0",
        connection_id.as_bytes(),
    ]
    .concat();
    let tokens = cipher.seal(&context, secret.to_string().as_bytes());
    let created = (now - 1_000_000 + n % 1_000_000) as i64;
    ConnectionRecord {
        provider: provider.id.clone(),
        connection_id,
        data_center: dc.code.clone(),
        issuer,
        scopes: provider.default_scopes.clone(),
        granted_scope: Some(provider.default_scopes.join(",")),
        token_type: Some("Bearer".to_owned()),
        metadata,
        params: Default::default(),
        expires_at: Some((now + 30 * 24 * 3600) as i64),
        status: if n % 100 == 99 {
            ConnectionStatus::ReauthorizationRequired
        } else {
            ConnectionStatus::Active
        },
        tokens,
        generation: 0,
        created_at: created,
        updated_at: created,
        auth_mode: AuthMode::Oauth2Code,
        environment: Some("production".to_owned()),
    }
}

/// One line of COPY's text format, in [`COLUMNS`] order.
fn push_line(buffer: &mut String, r: &ConnectionRecord) {
    let status = match r.status {
        ConnectionStatus::Active => "active",
        ConnectionStatus::ReauthorizationRequired => "reauthorization_required",
    };
    let hex: String = r.tokens.bytes.iter().map(|b| format!("{b:02x}")).collect();
    let fields = [
        text(&r.provider),
        text(&r.connection_id),
        text(&r.data_center),
        text(&r.issuer),
        text(&json(&r.scopes)),
        r.granted_scope.as_deref().map_or("\\N".into(), text),
        r.token_type.as_deref().map_or("\\N".into(), text),
        text(&json(&r.metadata)),
        text(&json(&r.params)),
        r.expires_at.map_or("\\N".into(), |at| at.to_string()),
        status.to_owned(),
        text(&r.tokens.key_id),
        format!("\\\\x{hex}"),
        r.generation.to_string(),
        r.created_at.to_string(),
        r.updated_at.to_string(),
        r.auth_mode.as_str().to_owned(),
        r.environment.as_deref().map_or("\\N".into(), text),
    ];
    buffer.push_str(&fields.join("\t"));
    buffer.push('\n');
}

/// A value escaped for COPY's text format.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON column's text, as the store writes it.
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("maps and lists of strings serialise")
}
