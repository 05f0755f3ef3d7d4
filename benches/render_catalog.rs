//! The catalog benchmark: validate and render catalogs of N = 1, 1,000 and 5,000
//! definitions, half copies of providers/zoho-crm.yaml and half of providers/gitlab.yaml, with
//! the shared Zoho data-center set beside them, against two floors and the Node toolchain.
//!
//! One `cargo bench --bench render_catalog` run gives:
//!
//! 1. criterion, in process: the floors `file_read` (read every file) and `yaml_events` (read
//!    and run the yaml-rust2 event parser over every file, one thread: no values, no positions),
//!    then `validate` (the library's streaming load: parse, schema, resolve, every file, all
//!    cores) and `render_json` (the same plus the resolved table as JSON, written to a sink).
//! 2. a table of whole processes, each timed by `/usr/bin/time` (wall, user + system CPU, peak
//!    RSS), median of paired runs: `provider-forge validate DIR`, `provider-forge render DIR
//!    --format json` (release binary, stdout to /dev/null), `validate` again on one worker
//!    thread (`RAYON_NUM_THREADS=1`), the event-parse floor as a process of its own (this
//!    binary again, one thread), and the Node peer (benches/node/peer.mjs:
//!    js-yaml + Ajv 2020 against schemas/provider.schema.json) when `node` and the peer's
//!    packages are installed; it says so when they are not.
//!
//! Results and how to read them: BENCHMARKS.md.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use provider_forge::catalog::{self, Loaded};
use provider_forge::render::{CatalogWriter, Format, Output, Renderer};
use yaml_rust2::parser::{Event, EventReceiver, Parser};

const SIZES: [usize; 3] = [1, 1000, 5000];

/// The allocator the `provider-forge` binary uses (src/main.rs), so the in-process numbers are
/// the shipped configuration's, and the event-parse floor (this binary too) is measured under
/// the same allocator as the work it is compared with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Set to a catalog directory, this binary runs the event-parse floor over it and exits: the
/// floor measured as a process, like the others in the table.
const FLOOR_ENV: &str = "PROVIDER_FORGE_BENCH_FLOOR";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Writes a catalog of `count` providers into `dir` (the first half copies of zoho-crm, the
/// rest of gitlab, each with its own id) and the Zoho set in `dir/data-centers`; returns the
/// provider files.
fn generate(dir: &Path, count: usize) -> Vec<PathBuf> {
    let providers = repo().join("providers");
    let sets = dir.join("data-centers");
    fs::create_dir_all(&sets).expect("temp dir is writable");
    fs::copy(
        providers.join("data-centers/zoho.yaml"),
        sets.join("zoho.yaml"),
    )
    .expect("the Zoho set is readable");
    let zoho = fs::read_to_string(providers.join("zoho-crm.yaml")).expect("zoho-crm.yaml");
    let gitlab = fs::read_to_string(providers.join("gitlab.yaml")).expect("gitlab.yaml");
    let zoho_count = count.div_ceil(2);
    (0..count)
        .map(|index| {
            let (base, template) = if index < zoho_count {
                ("zoho-crm", &zoho)
            } else {
                ("gitlab", &gitlab)
            };
            let id = format!("{base}-{index:05}");
            let text = template.replace(&format!("\nid: {base}\n"), &format!("\nid: {id}\n"));
            assert_ne!(
                &text, template,
                "{base}.yaml has its id on a line of its own"
            );
            let path = dir.join(format!("{id}.yaml"));
            fs::write(&path, text).expect("temp dir is writable");
            path
        })
        .collect()
}

fn read_all(files: &[PathBuf]) -> usize {
    files
        .iter()
        .map(|file| fs::read_to_string(file).expect("readable").len())
        .sum()
}

struct CountEvents(usize);

impl EventReceiver for CountEvents {
    fn on_event(&mut self, _event: Event) {
        self.0 += 1;
    }
}

/// The floor: read every file and run the YAML event parser over it, on one thread.
fn yaml_events(files: &[PathBuf]) -> usize {
    let mut events = CountEvents(0);
    for file in files {
        let text = fs::read_to_string(file).expect("readable");
        Parser::new_from_str(&text)
            .load(&mut events, false)
            .expect("valid YAML");
    }
    events.0
}

fn validate(dir: &Path) -> usize {
    let mut valid = 0;
    let diagnostics = catalog::stream(&[dir.to_path_buf()], drop, |loaded: Loaded<()>| {
        valid += usize::from(matches!(loaded, Loaded::Valid(())));
    })
    .expect("readable");
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    valid
}

fn render_json(dir: &Path, renderer: &Renderer) -> usize {
    let output = Output::Builtin(Format::Json);
    let mut writer = CatalogWriter::new(&output, io::sink());
    let diagnostics = catalog::stream(
        &[dir.to_path_buf()],
        |provider| renderer.provider(&provider.resolved, &output),
        |loaded| {
            let Loaded::Valid(text) = loaded else {
                panic!("a generated provider is invalid")
            };
            writer.push(&text.expect("renders")).expect("a sink");
        },
    )
    .expect("readable");
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    writer.finish().expect("a sink");
    1
}

fn criterion_groups(criterion: &mut Criterion, catalogs: &[(usize, PathBuf, Vec<PathBuf>)]) {
    let renderer = Renderer::new();
    let mut group = criterion.benchmark_group("catalog");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for (size, dir, files) in catalogs {
        group.throughput(Throughput::Elements(*size as u64));
        group.bench_with_input(BenchmarkId::new("file_read", size), files, |b, files| {
            b.iter(|| read_all(files))
        });
        group.bench_with_input(BenchmarkId::new("yaml_events", size), files, |b, files| {
            b.iter(|| yaml_events(files))
        });
        group.bench_with_input(BenchmarkId::new("validate", size), dir, |b, dir| {
            b.iter(|| validate(dir))
        });
        group.bench_with_input(BenchmarkId::new("render_json", size), dir, |b, dir| {
            b.iter(|| render_json(dir, &renderer))
        });
    }
    group.finish();
}

/// One process as `/usr/bin/time` saw it.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    cpu: f64,
    rss_kb: u64,
}

/// Runs `command` under `/usr/bin/time`, stdout to /dev/null; `None` (and a message) when it
/// fails.
fn timed(
    label: &str,
    program: &Path,
    args: &[String],
    dir: &Path,
    envs: &[(&str, &str)],
) -> Option<Run> {
    let report = tempfile::NamedTempFile::new().expect("temp file");
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(report.path())
        .arg(program)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("/usr/bin/time runs");
    if !status.status.success() {
        println!(
            "  {label}: failed ({}): {}",
            status.status,
            String::from_utf8_lossy(&status.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let text = fs::read_to_string(report.path()).expect("time's report");
    let fields: Vec<f64> = text
        .lines()
        .last()?
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    let [wall, user, system, rss] = fields[..] else {
        println!("  {label}: cannot read /usr/bin/time's report: {text}");
        return None;
    };
    Some(Run {
        wall,
        cpu: user + system,
        rss_kb: rss as u64,
    })
}

fn median(runs: &[Run]) -> Run {
    let pick = |key: fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(key).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Run {
        wall: pick(|r| r.wall),
        cpu: pick(|r| r.cpu),
        rss_kb: pick(|r| r.rss_kb as f64) as u64,
    }
}

/// The Node peer's command, or why it cannot run here.
fn node_peer() -> Result<(PathBuf, Vec<String>), String> {
    let peer = repo().join("benches/node");
    let version = Command::new("node").arg("--version").output();
    match version {
        Ok(output) if output.status.success() => {}
        _ => return Err("`node` is not installed; the Node columns are left out".into()),
    }
    if !peer.join("node_modules/ajv").is_dir() || !peer.join("node_modules/js-yaml").is_dir() {
        return Err(format!(
            "the Node peer's packages are not installed; run `npm install --prefix {}`",
            peer.display()
        ));
    }
    Ok((
        PathBuf::from("node"),
        vec![
            peer.join("peer.mjs").display().to_string(),
            "--schema".into(),
            repo()
                .join("schemas/provider.schema.json")
                .display()
                .to_string(),
            "--repeat".into(),
            "1".into(),
        ],
    ))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// The process table: paired runs of every command per catalog size.
fn processes(catalogs: &[(usize, PathBuf, Vec<PathBuf>)]) {
    println!();
    println!(
        "== whole processes (median of paired runs; /usr/bin/time: wall, user+sys CPU, peak RSS)"
    );
    if !Path::new("/usr/bin/time").is_file() {
        println!("skipped: /usr/bin/time is not installed");
        return;
    }
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_provider-forge"));
    let this = std::env::current_exe().expect("the bench binary's path");
    let node = node_peer();
    let node_program = match &node {
        Ok((program, _)) => which(&program.display().to_string()),
        Err(why) => {
            println!("Node peer: {why}");
            None
        }
    };
    println!("load average before: {}", load_average());
    println!(
        "| N | validate wall / CPU / RSS | render json wall / CPU / RSS | floor (events, 1 thread) CPU | Node wall / CPU / RSS | validate / Node wall | render / Node wall | validate CPU / floor | render CPU / floor | validate on 1 thread: CPU / floor |"
    );
    println!("|---:|---|---|---:|---|---:|---:|---:|---:|---:|");
    for (size, dir, files) in catalogs {
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // Five rounds at every size: one command's runs spread by a fifth on a busy 2-vCPU machine.
        let rounds = 5;
        let (mut ours_v, mut ours_r, mut floor, mut theirs) = (vec![], vec![], vec![], vec![]);
        // Validate on one worker: its CPU against the one-thread floor shows what the code
        // costs apart from what two threads cost each other on the machine (BENCHMARKS.md).
        let mut ours_v1 = vec![];
        for _ in 0..rounds {
            let here = ".".to_owned();
            ours_v.extend(timed(
                "validate",
                &binary,
                &["validate".into(), here.clone()],
                dir,
                &[],
            ));
            ours_r.extend(timed(
                "render",
                &binary,
                &[
                    "render".into(),
                    here.clone(),
                    "--format".into(),
                    "json".into(),
                ],
                dir,
                &[],
            ));
            ours_v1.extend(timed(
                "validate, 1 thread",
                &binary,
                &["validate".into(), here],
                dir,
                &[("RAYON_NUM_THREADS", "1")],
            ));
            let dir_text = dir.display().to_string();
            floor.extend(timed("floor", &this, &[], dir, &[(FLOOR_ENV, &dir_text)]));
            if let (Ok((_, args)), Some(program)) = (&node, &node_program) {
                let mut args = args.clone();
                args.extend(names.iter().cloned());
                theirs.extend(timed("node", program, &args, dir, &[]));
            }
        }
        let (v, r, v1, f) = (
            median(&ours_v),
            median(&ours_r),
            median(&ours_v1),
            median(&floor),
        );
        // /usr/bin/time counts in hundredths of a second: a shorter run reads as 0, so it is
        // shown as below that, and a ratio to it as a bound.
        let seconds = |value: f64| {
            if value > 0.0 {
                format!("{value:.3} s")
            } else {
                "< 0.01 s".to_owned()
            }
        };
        let cell = |run: &Run| {
            format!(
                "{} / {} / {:.1} MB",
                seconds(run.wall),
                seconds(run.cpu),
                run.rss_kb as f64 / 1024.0
            )
        };
        let (node_cell, v_ratio, r_ratio) = if theirs.is_empty() {
            ("n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned())
        } else {
            let n = median(&theirs);
            let per_node = |run: &Run| {
                if run.wall > 0.0 {
                    format!("{:.3}", run.wall / n.wall)
                } else {
                    format!("< {:.3}", 0.01 / n.wall)
                }
            };
            (cell(&n), per_node(&v), per_node(&r))
        };
        let per_floor = |run: &Run| {
            if f.cpu > 0.0 {
                format!("{:.2}", run.cpu / f.cpu)
            } else {
                "n/a (floor < 0.01 s)".to_owned()
            }
        };
        println!(
            "| {size} | {} | {} | {} | {node_cell} | {v_ratio} | {r_ratio} | {} | {} | {} |",
            cell(&v),
            cell(&r),
            seconds(f.cpu),
            per_floor(&v),
            per_floor(&r),
            per_floor(&v1),
        );
    }
    println!("load average after: {}", load_average());
}

fn floor_process(dir: &Path) {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("the catalog directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    println!("{} events", yaml_events(&files));
}

fn main() {
    if let Some(dir) = std::env::var_os(FLOOR_ENV) {
        floor_process(Path::new(&dir));
        return;
    }
    let root = tempfile::tempdir().expect("temp dir");
    let catalogs: Vec<(usize, PathBuf, Vec<PathBuf>)> = SIZES
        .iter()
        .map(|&size| {
            let dir = root.path().join(format!("catalog-{size}"));
            let files = generate(&dir, size);
            (size, dir, files)
        })
        .collect();
    let mut criterion = Criterion::default().configure_from_args();
    criterion_groups(&mut criterion, &catalogs);
    criterion.final_summary();
    // `cargo bench` passes --bench; a test run of the benches (`cargo test --benches`) skips the
    // minutes of whole-process runs.
    if std::env::args().any(|arg| arg == "--bench") {
        processes(&catalogs);
    }
}
