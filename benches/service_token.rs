//! Load generator for the service's token route: `GET /connections/{provider}/{id}/token` on
//! a fresh connection (a valid token: one database read and one decryption, no refresh), at
//! 1, 16 and 64 concurrent clients, on SQLite and on PostgreSQL.
//!
//! The service runs in-process exactly as `serve` builds it (store, router, axum), the
//! connection is made through the project's simulator, and the clients are plain HTTP/1.1
//! keep-alive reqwest clients, each sending its next request when the previous one answered.
//!
//! `cargo bench --bench service_token` (PostgreSQL at 127.0.0.1:5432, user postgres, is used
//! when reachable; a scratch database is created and dropped). `SERVICE_BENCH_SECS` sets the
//! seconds per measurement (default 5).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use provider_forge::catalog;
use provider_forge::oauth::{ClientSecret, Credentials};
use provider_forge::service::{
    self, ApiKey, Cipher, EncryptionKey, ProviderClient, Service, SessionRequest, store,
};
use provider_forge::simulate::{Setup, Simulator};
use sqlx::Connection;

const API_KEY: &str = "bench-api-key-0123456789";
const REDIRECT_URI: &str = "https://forge.bench.test/oauth/callback";
const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs: u64 = std::env::var("SERVICE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    println!("| backend | clients | requests/s | p50 (ms) | p99 (ms) |");
    println!("|---|---|---|---|---|");
    run_backend("SQLite", &sqlite, secs).await;
    match sqlx::PgConnection::connect(POSTGRES_ADMIN).await {
        Ok(mut admin) => {
            let name = format!("pf_bench_{}", rand::random::<u32>());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
            run_backend("PostgreSQL", &url, secs).await;
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
        Err(error) => eprintln!("SKIPPED PostgreSQL: {error}"),
    }
}

async fn run_backend(label: &str, database: &str, secs: u64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers/zoho-crm.yaml");
    let provider = catalog::load(&[root]).unwrap().providers.remove(0).resolved;
    let credentials = Credentials::shared("bench-client", ClientSecret::new("bench-secret"));
    let sim = Simulator::start(Setup {
        redirect_uris: vec![REDIRECT_URI.into()],
        ..Setup::new(vec![provider.clone()], credentials.clone())
    })
    .await
    .unwrap();
    let options = sim.http_options(Duration::from_secs(10));
    let http = provider_forge::oauth::http_client(&options).unwrap();
    let service = Service::new(
        store::open(database).await.unwrap(),
        Cipher::new(EncryptionKey::from_bytes([5; 32]), vec![]),
        [provider],
        BTreeMap::from([(
            "zoho-crm".to_owned(),
            ProviderClient {
                credentials,
                redirect_uri: REDIRECT_URI.into(),
            },
        )]),
        &options,
    )
    .unwrap();
    let service = Arc::new(service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = service::router(service.clone(), ApiKey::new(API_KEY).unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // A fresh connection, made through the whole flow.
    let session = service
        .start_session(SessionRequest {
            provider: "zoho-crm".into(),
            connection_id: "bench".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut url = session
        .authorization_url
        .expect("an OAuth session with every value has an authorization URL");
    while !url.starts_with(REDIRECT_URI) {
        let response = http.get(&url).send().await.unwrap();
        url = response.headers()["location"].to_str().unwrap().to_owned();
    }
    let query = url::Url::parse(&url).unwrap().query().unwrap().to_owned();
    service.complete_callback(&query).await.unwrap();

    let route = format!("{base}/connections/zoho-crm/bench/token");
    for clients in [1usize, 16, 64] {
        let (count, mut latencies) = load(&route, clients, Duration::from_secs(secs)).await;
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)]
                .as_secs_f64()
                * 1000.0
        };
        println!(
            "| {label} | {clients} | {:.0} | {:.2} | {:.2} |",
            count as f64 / secs as f64,
            pct(0.50),
            pct(0.99)
        );
    }
    drop(sim);
}

/// `clients` tasks, each sending requests back to back for `duration`; returns the count and
/// every latency.
async fn load(route: &str, clients: usize, duration: Duration) -> (usize, Vec<Duration>) {
    let deadline = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let route = route.to_owned();
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let start = Instant::now();
                let response = client
                    .get(&route)
                    .bearer_auth(API_KEY)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
                latencies.push(start.elapsed());
            }
            latencies
        });
    }
    let mut all = Vec::new();
    while let Some(latencies) = tasks.join_next().await {
        all.extend(latencies.unwrap());
    }
    (all.len(), all)
}
