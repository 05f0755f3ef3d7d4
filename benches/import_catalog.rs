//! `validate` + `render` of the whole imported Nango catalog against Nango's own toolchain
//! (js-yaml + Ajv against schema.json, as Nango's scripts/validation/providers/validate.ts runs
//! it) on the same providers, as one ratio from one run.
//!
//! - Ours: `import nango` Nango's providers.yaml into a temp dir (not timed), then, timed:
//!   `catalog::load` of the directory (read, parse, JSON Schema, semantic checks, resolution of
//!   every file) and rendering the whole catalog as the resolved table (JSON) and as Nango
//!   entries.
//! - Nango's: benches/node/peer.mjs parses, with js-yaml, a YAML file holding exactly the
//!   imported entries as Nango's file writes them (their text cut out of providers.yaml), and
//!   validates the parsed object with Ajv against Nango's schema.json.
//!
//! Both sides run `RUNS` (30) times in the same process each and report the median; schema
//! compilation and process start are outside the timings on both sides.
//!
//! Needs PROVIDER_FORGE_NANGO_PROVIDERS, _SCOPES and _SCHEMA (as .ci/run sets them) and, for the
//! Nango side, Node with `npm install` run once in benches/node. Without them it says what was
//! not measured.
//!
//! Run: `(cd benches/node && npm install) && cargo bench --bench import_catalog`

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use provider_forge::catalog;
use provider_forge::nango::{DEFAULT_SCHEMA_REF, ImportOptions, Outcome, import_nango};
use provider_forge::nango::{NangoCatalog, NangoScopes};
use provider_forge::render::{Format, Output, Renderer};

const RUNS: usize = 30;

/// The allocator the `provider-forge` binary uses (src/main.rs), so the library is measured as
/// it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os(name).map(PathBuf::from);
    if path.is_none() {
        println!(
            "SKIPPED: {name} is not set (.ci/run sets it to a file in ../shared/anchors/nango/); nothing measured"
        );
    }
    path
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// The text of the top-level entries `ids` as Nango's file writes them.
fn entries_text(providers: &str, ids: &[String]) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in providers.lines() {
        let starts_entry = line
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && c != '#');
        if starts_entry {
            let key = line.split(':').next().unwrap_or_default();
            keep = ids.iter().any(|id| id == key);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// One run of ours: validate, then render the directory; returns the milliseconds of the
/// validation alone (read, parse, schema, semantic checks, resolution) and of the whole run.
fn ours(dir: &Path, renderer: &Renderer) -> (f64, f64) {
    let start = Instant::now();
    let catalog = catalog::load(&[dir.to_path_buf()]).expect("the imported catalog is readable");
    assert!(catalog.is_valid(), "{:#?}", catalog.diagnostics);
    let validated = start.elapsed().as_secs_f64() * 1000.0;
    let providers: Vec<_> = catalog.providers.into_iter().map(|p| p.resolved).collect();
    let json = renderer
        .catalog(&providers, &Output::Builtin(Format::Json))
        .expect("renders");
    let nango = renderer
        .catalog(&providers, &Output::Builtin(Format::Nango))
        .expect("renders");
    assert!(!json.is_empty() && !nango.is_empty());
    (validated, start.elapsed().as_secs_f64() * 1000.0)
}

/// Nango's side through benches/node/peer.mjs: (median milliseconds, versions), or why not.
fn theirs(schema: &Path, file: &Path) -> Result<(f64, String), String> {
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/node");
    if Command::new("node").arg("--version").output().is_err() {
        return Err("Node is NOT installed (no `node` on PATH): Nango's side (js-yaml + Ajv) was NOT measured".into());
    }
    if !node_dir.join("node_modules").is_dir() {
        return Err(format!(
            "{}/node_modules is missing: run `npm install` there once; Nango's side was NOT measured",
            node_dir.display()
        ));
    }
    let output = Command::new("node")
        .arg(node_dir.join("peer.mjs"))
        .args(["--schema", &schema.display().to_string()])
        .args(["--repeat", &RUNS.to_string()])
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "peer.mjs failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("peer.mjs printed no JSON: {e}"))?;
    let median = &result["median"];
    Ok((
        median["total_ms"].as_f64().unwrap_or(f64::NAN),
        format!(
            "node {}, js-yaml {}, ajv {} ({}); parse {:.1} ms + validate {:.1} ms (medians); schema compile {:.0} ms, not counted",
            result["node"].as_str().unwrap_or("?"),
            result["js_yaml"].as_str().unwrap_or("?"),
            result["ajv"].as_str().unwrap_or("?"),
            result["ajv_class"].as_str().unwrap_or("?"),
            median["parse_ms"].as_f64().unwrap_or(f64::NAN),
            median["validate_ms"].as_f64().unwrap_or(f64::NAN),
            result["compile_ms"].as_f64().unwrap_or(f64::NAN),
        ),
    ))
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let (Some(providers), Some(scopes), Some(schema)) = (
        env_path("PROVIDER_FORGE_NANGO_PROVIDERS"),
        env_path("PROVIDER_FORGE_NANGO_SCOPES"),
        env_path("PROVIDER_FORGE_NANGO_SCHEMA"),
    ) else {
        return;
    };
    let providers_text =
        fs::read_to_string(&providers).expect("Nango's providers.yaml is readable");
    let nango = NangoCatalog::parse(&providers_text).expect("Nango's providers.yaml parses");
    let scopes = NangoScopes::parse(&fs::read_to_string(&scopes).expect("scopes readable"))
        .expect("Nango's providers.scopes.yaml parses");
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().join("imported");
    let report = import_nango(
        &nango,
        Some(&scopes),
        &out,
        &ImportOptions {
            schema_ref: DEFAULT_SCHEMA_REF.to_owned(),
            source: providers.display().to_string(),
            modes: vec!["OAUTH2".to_owned()],
        },
    )
    .expect("the import writes its files");
    let ids: Vec<String> = report
        .entries
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Imported { .. }))
        .map(|e| e.id.clone())
        .collect();
    let subset = dir.path().join("nango-subset.yaml");
    fs::write(&subset, entries_text(&providers_text, &ids)).expect("temp dir is writable");

    let renderer = Renderer::new();
    ours(&out, &renderer); // warm-up: schema compilation, first file-system reads
    let (validate_runs, our_runs): (Vec<f64>, Vec<f64>) =
        (0..RUNS).map(|_| ours(&out, &renderer)).unzip();
    let our_median = median(our_runs.clone());
    let validate_median = median(validate_runs);
    println!(
        "providers: {} imported Nango OAUTH2 entries (of {}), {} runs each",
        ids.len(),
        report.summary.entries,
        RUNS
    );
    println!(
        "ours   validate + render (json + nango): median {our_median:.1} ms ({:.3} ms per provider); runs: {}",
        our_median / ids.len() as f64,
        our_runs
            .iter()
            .map(|ms| format!("{ms:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "ours   of which validate (read, parse, schema, semantic checks, resolution): median {validate_median:.1} ms ({:.3} ms per provider)",
        validate_median / ids.len() as f64
    );
    match theirs(&schema, &subset) {
        Ok((their_median, details)) => {
            println!(
                "nango  js-yaml + Ajv on the same entries: median {their_median:.1} ms ({:.3} ms per provider); {details}",
                their_median / ids.len() as f64
            );
            println!(
                "ratio  ours / nango = {:.2} (below 1: provider-forge is faster)",
                our_median / their_median
            );
            println!(
                "ratio  ours validate only / nango = {:.2}",
                validate_median / their_median
            );
        }
        Err(why) => println!("nango  {why}"),
    }
}
