//! Embedding the OAuth engine in a platform, without the `serve` command: load a definition,
//! start an authorization, keep the pending request server-side (it is serde-serialisable),
//! complete it from the callback, and refresh later.
//!
//! ```sh
//! export PROVIDER_FORGE_CLIENT_SECRET=...        # your OAuth client's secret
//! cargo run --example embed_engine -- providers/zoho-crm.yaml 1000.YOURCLIENTID
//! # open the printed URL, consent, then paste the URL the browser was redirected to
//! ```
//!
//! It prints what it stored, never a token.

use std::io::BufRead;
use std::path::PathBuf;

use provider_forge::catalog;
use provider_forge::oauth::{
    self, AuthorizationOptions, ClientSecret, Credentials, PendingAuthorization, RetryPolicy,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(client_id)) = (args.next(), args.next()) else {
        eprintln!("usage: embed_engine PROVIDER.yaml CLIENT_ID");
        std::process::exit(2);
    };

    // 1. The provider, validated and resolved (the same table `render` prints).
    let catalog = catalog::load(&[PathBuf::from(path)])?;
    if !catalog.is_valid() {
        for diagnostic in &catalog.diagnostics {
            eprintln!("{diagnostic}");
        }
        std::process::exit(1);
    }
    let provider = catalog
        .providers
        .into_iter()
        .next()
        .ok_or("no provider")?
        .resolved;
    let secret = std::env::var("PROVIDER_FORGE_CLIENT_SECRET")?;
    let credentials = Credentials::shared(client_id.clone(), ClientSecret::new(secret));
    let http = oauth::http_client(&oauth::HttpOptions::default())?;

    // 2. Start: the URL for the user's browser, and the pending request to keep until the
    //    callback. A platform stores it server-side (encrypted: it holds the PKCE verifier),
    //    keyed by its `state`.
    let pending =
        oauth::authorization_request(&provider, &client_id, &AuthorizationOptions::default())?;
    let stored: String = serde_json::to_string(&pending)?;
    println!("Open: {}", pending.url);

    // 3. The callback arrives (here: pasted), possibly at another instance: restore the
    //    pending request and complete it. State, error, data center and issuer are checked
    //    before the code is exchanged.
    println!("Paste the URL the browser landed on:");
    let mut callback = String::new();
    std::io::stdin().lock().read_line(&mut callback)?;
    let pending: PendingAuthorization = serde_json::from_str(&stored)?;
    let tokens =
        oauth::complete_authorization(&http, &provider, &credentials, &pending, &callback).await?;
    println!(
        "Connected at data center {} (issuer {}); expires_at {:?}",
        tokens.data_center, tokens.issuer, tokens.expires_at
    );

    // 4. Later: refresh (transient failures retried within bounds). A platform with several
    //    processes coordinates this through its database, as `provider-forge serve` does.
    let refreshed = oauth::refresh_tokens(
        &http,
        &provider,
        &credentials,
        &tokens,
        &RetryPolicy::default(),
    )
    .await?;
    println!("Refreshed; new expiry {:?}", refreshed.expires_at);
    Ok(())
}
