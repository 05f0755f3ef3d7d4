//! Validate + render of a whole catalog, against the floor of merely parsing the same YAML.
//!
//! The catalog is 250, 500 and 1,000 providers shaped exactly like providers/zoho-crm.yaml
//! (nine data centers, three environments, 63 scopes), each in its own file in a temp dir,
//! so work should grow linearly with the number of files. Results: BENCHMARKS.md.
//!
//! Run: `cargo bench --bench render_catalog`

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use provider_forge::catalog;
use provider_forge::render::{Format, Output, Renderer};

const SIZES: [usize; 3] = [250, 500, 1000];

/// Writes `count` copies of zoho-crm.yaml, each with its own id, into `dir`, with the shared
/// Zoho data-center set they all use beside them; returns every file written.
fn generate(dir: &Path, count: usize) -> Vec<PathBuf> {
    let providers = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
    let template = fs::read_to_string(providers.join("zoho-crm.yaml"))
        .expect("providers/zoho-crm.yaml is readable");
    assert!(template.contains("\nid: zoho-crm\n"));
    let sets = dir.join("data-centers");
    fs::create_dir_all(&sets).expect("temp dir is writable");
    let set = sets.join("zoho.yaml");
    fs::copy(providers.join("data-centers/zoho.yaml"), &set).expect("the Zoho set is readable");
    let copies: Vec<PathBuf> = (0..count)
        .map(|index| {
            let path = dir.join(format!("zoho-crm-{index:04}.yaml"));
            let text =
                template.replace("\nid: zoho-crm\n", &format!("\nid: zoho-crm-{index:04}\n"));
            fs::write(&path, text).expect("temp dir is writable");
            path
        })
        .collect();
    std::iter::once(set).chain(copies).collect()
}

/// The whole main job: read, parse, schema-check, resolve every file, then render every
/// provider as the resolved table (JSON) and as a Nango entry.
fn validate_and_render(dir: &Path, renderer: &Renderer) -> usize {
    let catalog = catalog::load(&[dir.to_path_buf()]).expect("readable");
    assert!(catalog.is_valid(), "{:#?}", catalog.diagnostics);
    let providers: Vec<_> = catalog.providers.into_iter().map(|p| p.resolved).collect();
    let json = renderer
        .catalog(&providers, &Output::Builtin(Format::Json))
        .expect("renders");
    let nango = renderer
        .catalog(&providers, &Output::Builtin(Format::Nango))
        .expect("renders");
    json.len() + nango.len()
}

/// Validation and resolution alone (no output), to split the cost of the main job.
fn validate_only(dir: &Path) -> usize {
    let catalog = catalog::load(&[dir.to_path_buf()]).expect("readable");
    assert!(catalog.is_valid(), "{:#?}", catalog.diagnostics);
    catalog.providers.len()
}

/// The floor: read and parse the same files as plain YAML, nothing else.
fn parse_only(files: &[PathBuf]) -> usize {
    files
        .iter()
        .map(|file| {
            let text = fs::read_to_string(file).expect("readable");
            yaml_rust2::YamlLoader::load_from_str(&text)
                .expect("valid YAML")
                .len()
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let renderer = Renderer::new();
    let mut group = c.benchmark_group("catalog");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for size in SIZES {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = generate(dir.path(), size);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(
            BenchmarkId::new("yaml_parse_floor", size),
            &files,
            |b, files| b.iter(|| parse_only(files)),
        );
        group.bench_with_input(
            BenchmarkId::new("validate_only", size),
            dir.path(),
            |b, dir| b.iter(|| validate_only(dir)),
        );
        group.bench_with_input(
            BenchmarkId::new("validate_and_render", size),
            dir.path(),
            |b, dir| b.iter(|| validate_and_render(dir, &renderer)),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
