//! Several `serve` processes on one PostgreSQL: one refresh per expired connection however
//! many requests arrive at however many instances, and an instance killed mid-refresh loses
//! nothing.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::service::{API_KEY, Backend, World, expire};
use crate::support::{Endpoint, Fault};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_refresh_an_expired_connection_exactly_once() {
    let Some(backend) =
        Backend::postgres("two_instances_refresh_an_expired_connection_exactly_once").await
    else {
        return;
    };
    let world = World::start(Some(backend)).await;
    let first = world.instance(&[]);
    let second = world.instance(&[]);
    first.connect(&world, "zoho-crm", "busy").await;
    expire(&world, "zoho-crm", "busy").await;
    // A slow provider keeps the refresh in flight while all 200 requests arrive; it also
    // rotates the refresh token, so a second refresh with the old one would fail.
    world.sim.inject(Fault::Slow(Duration::from_millis(500)));
    world.sim.inject(Fault::RotateRefreshToken);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..200 {
        let url = if i % 2 == 0 {
            first.url("/connections/zoho-crm/busy/token")
        } else {
            second.url("/connections/zoho-crm/busy/token")
        };
        let client = client.clone();
        requests.spawn(async move {
            let response = client.get(url).bearer_auth(API_KEY).send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let mut tokens = BTreeSet::new();
    let mut answered = 0;
    while let Some(result) = requests.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!(status, 200, "{body}");
        tokens.insert(body["access_token"].as_str().unwrap().to_owned());
        answered += 1;
    }
    assert_eq!(answered, 200);
    assert_eq!(world.sim.count(Endpoint::Refresh), 1, "exactly one refresh");
    assert_eq!(tokens.len(), 1, "everyone got the same token: {tokens:?}");
    let token = tokens.into_iter().next().unwrap();
    assert!(world.sim.issued_secrets().contains(&token));
    drop((first, second));
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_refresh_loses_nothing() {
    let Some(backend) = Backend::postgres("an_instance_killed_mid_refresh_loses_nothing").await
    else {
        return;
    };
    let world = World::start(Some(backend)).await;
    let mut doomed = world.instance(&[]);
    let survivor = world.instance(&[]);
    doomed.connect(&world, "zoho-crm", "crash").await;
    expire(&world, "zoho-crm", "crash").await;

    // The doomed instance starts a refresh; the provider holds its answer.
    world.sim.inject(Fault::Slow(Duration::from_secs(30)));
    let doomed_request = reqwest::Client::new()
        .get(doomed.url("/connections/zoho-crm/crash/token"))
        .bearer_auth(API_KEY)
        .send();
    let doomed_request = tokio::spawn(doomed_request);
    while world.sim.count(Endpoint::Refresh) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Meanwhile the survivor is asked too: it waits for the row lock the doomed one holds.
    world.sim.clear_faults();
    world.sim.inject(Fault::ErrorWith200);
    let survivor_request = tokio::spawn(
        reqwest::Client::new()
            .get(survivor.url("/connections/zoho-crm/crash/token"))
            .bearer_auth(API_KEY)
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.sim.count(Endpoint::Refresh), 1, "the survivor waits");
    doomed.kill();
    assert!(
        doomed_request.await.unwrap().is_err(),
        "the killed instance never answered"
    );

    // The lock died with the process; the survivor refreshes with the stored refresh token.
    let response = survivor_request.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(world.sim.count(Endpoint::Refresh), 2);
    let (_, connection) = survivor.get("/connections/zoho-crm/crash").await;
    assert_eq!(connection["status"], "active");
    // What was committed is usable: reused while valid, refreshable after.
    let (_, again) = survivor.get("/connections/zoho-crm/crash/token").await;
    assert_eq!(again["access_token"], token.as_str());
    expire(&world, "zoho-crm", "crash").await;
    let (status, refreshed) = survivor.get("/connections/zoho-crm/crash/token").await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(world.sim.count(Endpoint::Refresh), 3);
    drop(survivor);
    world.finish().await;
}
