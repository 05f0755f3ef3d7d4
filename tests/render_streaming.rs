//! `validate` and `render` work through a catalog in parallel, one provider at a time: what
//! they print must not depend on the number of threads, and must be exactly what rendering the
//! whole catalog at once gives (the insta snapshots cover the bundled providers one by one; this
//! covers catalogs of many files, their order and their joins).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use provider_forge::catalog;
use provider_forge::render::{Format, Output as RenderOutput, Renderer};
use provider_forge::resolve::ResolvedProvider;

use crate::support::cli::BIN;

/// 80 files: several chunks of work on one and on two threads (32 files per thread at a time).
const COPIES: usize = 40;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A catalog of `COPIES` zoho-crm copies and as many gitlab copies, interleaved by name, with
/// the Zoho set beside them; `break_some` spoils a few files in different ways.
fn generated_catalog(break_some: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog");
    fs::create_dir_all(catalog.join("data-centers")).unwrap();
    let providers = root().join("providers");
    fs::copy(
        providers.join("data-centers/zoho.yaml"),
        catalog.join("data-centers/zoho.yaml"),
    )
    .unwrap();
    let zoho = fs::read_to_string(providers.join("zoho-crm.yaml")).unwrap();
    let gitlab = fs::read_to_string(providers.join("gitlab.yaml")).unwrap();
    for index in 0..COPIES {
        let mut zoho_copy =
            zoho.replace("\nid: zoho-crm\n", &format!("\nid: zoho-crm-{index:03}\n"));
        let gitlab_copy = gitlab.replace("\nid: gitlab\n", &format!("\nid: gitlab-{index:03}\n"));
        if break_some {
            match index {
                7 => zoho_copy.push_str("oops: [\n"),
                31 => zoho_copy = zoho_copy.replace("\n  set: zoho\n", "\n  set: nowhere\n"),
                38 => zoho_copy.push_str("unknown_field: 1\n"),
                _ => {}
            }
        }
        fs::write(catalog.join(format!("c{index:03}-zoho.yaml")), zoho_copy).unwrap();
        fs::write(
            catalog.join(format!("c{index:03}-gitlab.yaml")),
            gitlab_copy,
        )
        .unwrap();
    }
    (dir, catalog)
}

fn run(threads: usize, args: &[&str]) -> Output {
    Command::new(BIN)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .args(args)
        .output()
        .expect("the binary runs")
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// Every command users run over a catalog, with the arguments that change its output.
fn commands(catalog: &Path) -> Vec<Vec<String>> {
    let dir = path_arg(catalog).to_owned();
    let mut commands = vec![
        vec!["validate".into(), dir.clone()],
        vec![
            "validate".into(),
            dir.clone(),
            "--format".into(),
            "json".into(),
        ],
    ];
    for format in Format::ALL {
        commands.push(vec![
            "render".into(),
            dir.clone(),
            "--format".into(),
            format.name().into(),
        ]);
    }
    commands.push(vec!["render".into(), dir, "--dc".into(), "eu".into()]);
    commands
}

fn assert_same_for_any_thread_count(catalog: &Path, expected_code: i32) {
    for command in commands(catalog) {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let one = run(1, &args);
        assert_eq!(
            one.status.code(),
            Some(expected_code),
            "{args:?}: {}",
            String::from_utf8_lossy(&one.stderr)
        );
        for threads in [2, 5] {
            let many = run(threads, &args);
            assert_eq!(
                many.status.code(),
                one.status.code(),
                "{args:?} on {threads}"
            );
            assert!(
                many.stdout == one.stdout,
                "{args:?}: stdout differs on {threads} threads"
            );
            assert!(
                many.stderr == one.stderr,
                "{args:?}: stderr differs on {threads} threads"
            );
        }
    }
}

#[test]
fn a_valid_catalog_prints_the_same_bytes_on_one_thread_and_on_many() {
    let (_dir, catalog) = generated_catalog(false);
    assert_same_for_any_thread_count(&catalog, 0);
}

#[test]
fn diagnostics_come_in_the_same_order_on_one_thread_and_on_many() {
    let (_dir, catalog) = generated_catalog(true);
    assert_same_for_any_thread_count(&catalog, 1);
    let validated = run(4, &["validate", path_arg(&catalog)]);
    let text = String::from_utf8_lossy(&validated.stderr);
    let files: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with(' ') && line.contains(": error: "))
        .map(|line| line.split(':').next().unwrap())
        .collect();
    let broken: Vec<String> = ["c007-zoho.yaml", "c031-zoho.yaml", "c038-zoho.yaml"]
        .iter()
        .map(|name| catalog.join(name).display().to_string())
        .collect();
    let mut expected: Vec<&str> = files.clone();
    expected.dedup();
    assert_eq!(
        expected, broken,
        "one group per broken file, in file order:\n{text}"
    );
}

/// Renders the catalog the way `render` did before it streamed: load everything, then render
/// the whole list in one call (serde on the full array for JSON, every provider's one-item
/// sequence in turn for YAML, every provider's text joined by a newline for the templates).
fn rendered_whole(providers: &[ResolvedProvider], format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(providers).unwrap() + "\n",
        Format::Yaml if providers.is_empty() => "[]\n".to_owned(),
        Format::Yaml => {
            let renderer = Renderer::new();
            providers
                .iter()
                .map(|provider| {
                    renderer
                        .provider(provider, &RenderOutput::Builtin(format))
                        .unwrap()
                })
                .collect()
        }
        _ => {
            let renderer = Renderer::new();
            let output = RenderOutput::Builtin(format);
            providers
                .iter()
                .map(|provider| renderer.provider(provider, &output).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

#[test]
fn a_streamed_catalog_renders_exactly_like_the_whole_catalog_at_once() {
    let (_dir, catalog) = generated_catalog(false);
    for dir in [catalog.as_path(), &root().join("providers")] {
        let loaded = catalog::load(&[dir.to_path_buf()]).unwrap();
        assert!(loaded.is_valid(), "{:#?}", loaded.diagnostics);
        let providers: Vec<ResolvedProvider> =
            loaded.providers.into_iter().map(|p| p.resolved).collect();
        for format in Format::ALL {
            // The Nango export writes `oauth2_code` providers only, for now.
            let other_modes = providers
                .iter()
                .any(|p| p.auth_mode != provider_forge::definition::AuthMode::Oauth2Code);
            if format == Format::Nango && other_modes {
                continue;
            }
            let printed = run(3, &["render", path_arg(dir), "--format", format.name()]);
            assert_eq!(printed.status.code(), Some(0), "{}", format.name());
            assert!(
                printed.stdout == rendered_whole(&providers, format).as_bytes(),
                "{} of {}",
                format.name(),
                dir.display()
            );
        }
    }
}

#[test]
fn an_empty_selection_of_providers_prints_an_empty_array() {
    // gitlab alone has no `eu`: the selection is known, and leaves nothing to print.
    let gitlab = root().join("providers/gitlab.yaml");
    let zoho = root().join("providers/zoho-crm.yaml");
    for format in [Format::Json, Format::Yaml] {
        let printed = run(
            2,
            &[
                "render",
                path_arg(&gitlab),
                path_arg(&zoho),
                "--dc",
                "default",
                "--env",
                "sandbox",
                "--format",
                format.name(),
            ],
        );
        assert_eq!(printed.status.code(), Some(0), "{}", format.name());
        assert_eq!(
            printed.stdout,
            rendered_whole(&[], format).as_bytes(),
            "{}",
            format.name()
        );
    }
}

#[test]
fn out_writes_every_file_of_a_large_catalog_and_check_then_finds_them_fresh() {
    let (dir, catalog) = generated_catalog(false);
    let out = dir.path().join("out");
    let args = |check: bool| -> Vec<&str> {
        let mut args = vec![
            "render",
            path_arg(&catalog),
            "--format",
            "json",
            "--format",
            "env",
            "--out",
            path_arg(&out),
        ];
        if check {
            args.push("--check");
        }
        args
    };
    let missing = run(2, &args(true));
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains(&format!(
            "{} of {} file(s)",
            4 * COPIES,
            4 * COPIES
        )),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let written = run(2, &args(false));
    assert_eq!(written.status.code(), Some(0));
    let loaded = catalog::load(std::slice::from_ref(&catalog)).unwrap();
    let renderer = Renderer::new();
    for provider in &loaded.providers {
        let json = fs::read_to_string(out.join(format!("{}.resolved.json", provider.resolved.id)))
            .unwrap();
        assert_eq!(
            json,
            serde_json::to_string_pretty(&[&provider.resolved]).unwrap() + "\n"
        );
        let env = fs::read_to_string(out.join(format!("{}.env", provider.resolved.id))).unwrap();
        let expected = renderer
            .provider(&provider.resolved, &RenderOutput::Builtin(Format::Env))
            .unwrap();
        assert_eq!(env, expected);
    }
    assert_eq!(fs::read_dir(&out).unwrap().count(), 4 * COPIES);
    let fresh = run(2, &args(true));
    assert_eq!(fresh.status.code(), Some(0));
    assert!(fresh.stdout.is_empty());
}

#[test]
fn a_late_invalid_file_means_nothing_is_printed_or_written() {
    let (dir, catalog) = generated_catalog(false);
    // The last file in order: everything before it has already been rendered by then.
    fs::write(catalog.join("zz-broken.yaml"), "id: [\n").unwrap();
    let printed = run(2, &["render", path_arg(&catalog)]);
    assert_eq!(printed.status.code(), Some(1));
    assert!(printed.stdout.is_empty());
    let out = dir.path().join("out");
    let written = run(2, &["render", path_arg(&catalog), "--out", path_arg(&out)]);
    assert_eq!(written.status.code(), Some(1));
    assert!(!out.exists(), "nothing written");
}
