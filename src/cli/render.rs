//! `provider-forge render`: parses options, calls the library, prints, picks the exit code.

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::catalog;
use crate::render::filter::{self, Selection};
use crate::render::output::{self, PlanError, PlannedFile};
use crate::render::{Format as RenderFormat, Output, RenderError, Renderer};

/// Arguments of `render`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Output shape: json/yaml print an array of resolved providers (schemas/rendered.schema.json); \
nango prints one Nango providers.yaml entry per provider (data center chosen through the \
`issuer` connection-config field, an enum of the exact accounts-server origins); markdown \
prints a docs page per provider; env prints dotenv lines PROVIDER_DC_NAME=VALUE per data center.

User templates (--template) are minijinja, rendered once per provider with the variable \
`provider` (one item of schemas/rendered.schema.json) and the filters quoted, dotenv, env_key \
and md. Undefined variables are errors; trim_blocks and lstrip_blocks are on.

--out DIR writes DIR/PROVIDER.SUFFIX per provider and format: .resolved.json, .resolved.yaml, \
.nango.yaml, .md, .env, or the template's file name without .j2/.jinja. Everything is rendered \
before anything is written, and each file is replaced atomically.

Exit codes: 0 success; 1 invalid definition, template error, provider that does not fit the \
format, or --check found drift; 2 usage or I/O error (unknown --dc/--env, missing file).")]
pub struct Args {
    /// Provider files, or directories of *.yaml providers (their data-centers/ sets included).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format; repeat it with --out to write several formats at once.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Vec<Format>,
    /// Render this minijinja template instead of a built-in format.
    #[arg(long, value_name = "FILE", conflicts_with = "format")]
    template: Option<PathBuf>,
    /// Keep only this data center (repeatable); `default` for providers without data centers.
    #[arg(long = "dc", value_name = "CODE")]
    data_centers: Vec<String>,
    /// Keep only this API environment (repeatable), e.g. production, sandbox, developer.
    #[arg(long = "env", value_name = "NAME")]
    environments: Vec<String>,
    /// Write one file per provider and format into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// With --out: write nothing; show a diff and exit 1 if DIR's files are not up to date.
    #[arg(long, requires = "out")]
    check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The resolved table as JSON (shape: schemas/rendered.schema.json). The default.
    Json,
    /// The resolved table as YAML.
    Yaml,
    /// A Nango providers.yaml entry per provider.
    Nango,
    /// A Markdown docs page per provider: data centers, endpoints, scopes.
    Markdown,
    /// dotenv lines per data center (ZOHO_CRM_EU_TOKEN_URL=...).
    Env,
}

impl From<Format> for RenderFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Json => RenderFormat::Json,
            Format::Yaml => RenderFormat::Yaml,
            Format::Nango => RenderFormat::Nango,
            Format::Markdown => RenderFormat::Markdown,
            Format::Env => RenderFormat::Env,
        }
    }
}

pub fn run(args: Args) -> u8 {
    if args.format.len() > 1 && args.out.is_none() {
        eprintln!("provider-forge: error: several --format values need --out DIR");
        return EXIT_USAGE;
    }
    let mut renderer = Renderer::new();
    let outputs = match &args.template {
        Some(path) => {
            let source = match std::fs::read_to_string(path) {
                Ok(source) => source,
                Err(error) => {
                    return super::io_error(&format!("{}: cannot read: {error}", path.display()));
                }
            };
            match renderer.add_template(path, source) {
                Ok(output) => vec![output],
                Err(error) => {
                    eprintln!("{error}");
                    return EXIT_INVALID;
                }
            }
        }
        None if args.format.is_empty() => vec![Output::Builtin(RenderFormat::Json)],
        None => args
            .format
            .iter()
            .map(|f| Output::Builtin((*f).into()))
            .collect(),
    };

    let catalog = match catalog::load(&args.paths) {
        Ok(catalog) => catalog,
        Err(error) => return super::io_error(&error),
    };
    if !catalog.is_valid() {
        return match super::print_diagnostics(&catalog.diagnostics) {
            Ok(()) => EXIT_INVALID,
            Err(code) => code,
        };
    }
    let providers: Vec<_> = catalog.providers.into_iter().map(|p| p.resolved).collect();
    let selection = Selection {
        data_centers: args.data_centers,
        environments: args.environments,
    };
    let providers = match filter::narrow(&providers, &selection) {
        Ok(providers) => providers,
        Err(error) => return super::io_error(&error),
    };

    let Some(dir) = args.out else {
        return match renderer.catalog(&providers, &outputs[0]) {
            Ok(text) => match super::print_stdout(&text) {
                Ok(()) => EXIT_OK,
                Err(code) => code,
            },
            Err(error) => report_render_error(&error),
        };
    };
    let files = match output::plan(&renderer, &providers, &outputs) {
        Ok(files) => files,
        Err(PlanError::Render(error)) => return report_render_error(&error),
        Err(error @ PlanError::Collision(_)) => {
            eprintln!("provider-forge: error: {error}");
            return EXIT_INVALID;
        }
    };
    if args.check {
        check(&dir, &files)
    } else {
        write(&dir, &files)
    }
}

/// `--check`: prints a diff per stale file; exit 1 when any differs or is missing.
fn check(dir: &Path, files: &[PlannedFile]) -> u8 {
    match output::check(dir, files) {
        Ok(drifts) if drifts.is_empty() => {
            eprintln!(
                "{} file(s) in {} are up to date",
                files.len(),
                dir.display()
            );
            EXIT_OK
        }
        Ok(drifts) => {
            for drift in &drifts {
                if let Err(code) = super::print_stdout(&drift.diff) {
                    return code;
                }
            }
            let missing = drifts.iter().filter(|d| d.missing).count();
            eprintln!(
                "{} of {} file(s) in {} are out of date ({missing} missing); run the same \
                 command without --check to update them",
                drifts.len(),
                files.len(),
                dir.display()
            );
            EXIT_INVALID
        }
        Err(error) => super::io_error(&error),
    }
}

/// `--out` without `--check`: writes the files and says how many changed.
fn write(dir: &Path, files: &[PlannedFile]) -> u8 {
    match output::write(dir, files) {
        Ok(summary) => {
            eprintln!(
                "wrote {} file(s) to {} ({} unchanged)",
                summary.written.len(),
                dir.display(),
                summary.unchanged.len()
            );
            EXIT_OK
        }
        Err(error) => super::io_error(&error),
    }
}

/// Template errors already read `FILE:LINE: error: ...`; other render errors get the prefix.
fn report_render_error(error: &RenderError) -> u8 {
    match error {
        RenderError::Template(error) => eprintln!("{error}"),
        RenderError::Nango(error) => eprintln!("provider-forge: error: {error}"),
    }
    EXIT_INVALID
}
