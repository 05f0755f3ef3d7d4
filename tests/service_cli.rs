//! `provider-forge serve` refuses to start half-configured: missing keys, an invalid
//! definition or a bad clients file stop it with a clear message and the documented exit code.

use crate::support;
use crate::support::cli::stderr;
use crate::support::service::World;

#[tokio::test]
async fn missing_keys_stop_the_start_naming_each_variable() {
    let world = World::start(None).await;
    let output = world
        .serve_command(&[])
        .env_remove("PROVIDER_FORGE_SECRET_KEY")
        .env_remove("PROVIDER_FORGE_ENCRYPTION_KEY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("PROVIDER_FORGE_SECRET_KEY is not set"),
        "{text}"
    );
    assert!(
        text.contains("PROVIDER_FORGE_ENCRYPTION_KEY is not set"),
        "{text}"
    );

    let output = world
        .serve_command(&[])
        .env("PROVIDER_FORGE_ENCRYPTION_KEY", "c2hvcnQ=")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("decodes to 5 bytes, not 32"), "{text}");
    assert!(!text.contains("c2hvcnQ="), "the key is not echoed: {text}");
    world.finish().await;
}

#[tokio::test]
async fn an_invalid_definition_stops_the_start_with_its_diagnostics() {
    let world = World::start(None).await;
    let providers = world.dir.path().join("providers");
    std::fs::create_dir(&providers).unwrap();
    let text = std::fs::read_to_string(support::repo_path("providers/gitlab.yaml")).unwrap();
    std::fs::write(
        providers.join("gitlab.yaml"),
        text.replace("auth_method: client_secret_post", "auth_method: telepathy"),
    )
    .unwrap();
    let output = world
        .serve_command_from(&providers, &world.clients_file, &[])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("gitlab.yaml:"), "{text}");
    assert!(text.contains("telepathy"), "{text}");
    world.finish().await;
}

#[tokio::test]
async fn a_clients_file_for_an_unknown_provider_is_refused() {
    let world = World::start(None).await;
    let clients = world.dir.path().join("other-clients.yaml");
    std::fs::write(&clients, "nope:\n  client_id: x\n  client_secret_env: X\n").unwrap();
    let output = world
        .serve_command_from(&support::repo_path("providers"), &clients, &[])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`nope` is not a provider"),
        "{}",
        stderr(&output)
    );
    world.finish().await;
}
