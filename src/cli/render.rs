//! `provider-forge render`: parses options, calls the library, prints, picks the exit code.

use std::collections::HashSet;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{CliError, EXIT_CHECK_INVALID, EXIT_INVALID};
use crate::catalog::{self, Loaded, Provider};
use crate::render::filter::{self, KnownNames, Selection};
use crate::render::output::{self, Drift, OutputError, PlanError, PlannedFile, WriteSummary};
use crate::render::staging::Staging;
use crate::render::{CatalogWriter, Format, Output, RenderError, Renderer};
use crate::resolve::table::ResolvedProvider;

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
.nango.yaml, .md, .env, or the template's file name without .j2/.jinja. Nothing is printed or \
written unless every definition is valid and every provider renders; then each file is replaced \
atomically.

Providers are read, checked and rendered one at a time on all cores, in constant memory; the \
output is the same whatever the number of threads. Rendered text waits in memory (up to 1 MiB) \
or an unnamed temporary file until the whole catalog has rendered.

Environment: RAYON_NUM_THREADS sets the number of worker threads (default: one per core).

Exit codes: 0 success; 1 invalid definition, template error, provider that does not fit the \
format, or --check found drift; 2 usage or I/O error (unknown --dc/--env, missing file); \
3 with --check only: nothing was compared because a definition is invalid (or the template \
fails, or a provider does not fit the format), so drift (1) and a broken definition (3) \
can be told apart.")]
pub(super) struct RenderArgs {
    /// Provider files, or directories of *.yaml providers (their data-centers/ sets included).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format; repeat it with --out to write several formats at once.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Vec<FormatArg>,
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

/// `--format`'s values: the library's [`Format`]s, named as [`Format::name`] spells them. The
/// variants' docs are the help of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    /// The resolved table as JSON (shape: schemas/rendered.schema.json). The default.
    Json,
    /// The resolved table as YAML, same shape as JSON.
    Yaml,
    /// A Nango providers.yaml entry per provider.
    Nango,
    /// A Markdown docs page per provider: data centers, endpoints, scopes.
    Markdown,
    /// dotenv lines per data center (ZOHO_CRM_EU_TOKEN_URL=...).
    Env,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Json => Format::Json,
            FormatArg::Yaml => Format::Yaml,
            FormatArg::Nango => Format::Nango,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Env => Format::Env,
        }
    }
}

pub(super) fn run(args: RenderArgs) -> Result<(), CliError> {
    // Invalid input under --check gets its own code: nothing was compared, unlike drift.
    let invalid = if args.check {
        EXIT_CHECK_INVALID
    } else {
        EXIT_INVALID
    };
    if args.format.len() > 1 && args.out.is_none() {
        return Err(CliError::usage("several --format values need --out DIR"));
    }
    let mut renderer = Renderer::new();
    let outputs = match &args.template {
        Some(path) => {
            let source = read_template(path).map_err(|source| CliError::Read {
                path: path.clone(),
                source,
            })?;
            match renderer.add_template(path, source) {
                Ok(output) => vec![output],
                Err(error) => {
                    report_template_error(&error);
                    return Err(CliError::Reported(invalid));
                }
            }
        }
        None if args.format.is_empty() => vec![Output::Builtin(Format::Json)],
        None => args
            .format
            .iter()
            .map(|f| Output::Builtin(Format::from(*f)))
            .collect(),
    };

    let selection = Selection {
        data_centers: args.data_centers,
        environments: args.environments,
    };
    let job = Job {
        renderer,
        outputs,
        selection,
        check: args.check,
        out: args.out,
        stop: AtomicBool::new(false),
    };
    let mut gathered = Gathered::new(&job);
    let diagnostics = catalog::stream(
        &args.paths,
        |provider| job.render(provider),
        |loaded| gathered.take(&job, loaded),
    )
    .map_err(CliError::usage)?;
    if !diagnostics.is_empty() {
        super::print_diagnostics(&diagnostics)?;
        return Err(CliError::Reported(invalid));
    }
    gathered
        .known
        .check(&job.selection)
        .map_err(CliError::usage)?;
    match gathered.failure {
        Some(PlanError::Render(RenderError::Template(error))) => {
            // Template errors read `FILE:LINE: error: ...` and show the template's line.
            report_template_error(&error);
            return Err(CliError::Reported(invalid));
        }
        Some(error) => {
            return Err(CliError::Failed {
                message: error.to_string(),
                code: invalid,
            });
        }
        None => {}
    }
    if let Some(error) = gathered.staging_error {
        return Err(CliError::usage(format!(
            "cannot stage rendered text: {error}"
        )));
    }
    match gathered.sink {
        Sink::Print(writer) => print(writer),
        Sink::Check { dir, drifts } => match gathered.check_error {
            Some(error) => Err(CliError::usage(error)),
            None => report_check(&dir, drifts, gathered.files),
        },
        Sink::Write { dir, staging } => write(&dir, staging),
    }
}

/// What a run renders and how: shared by the worker threads.
struct Job {
    renderer: Renderer,
    outputs: Vec<Output>,
    selection: Selection,
    out: Option<PathBuf>,
    check: bool,
    /// Set once the run is known to fail, so workers stop rendering what will not be output.
    stop: AtomicBool,
}

/// One provider, rendered on a worker thread.
struct Rendered {
    /// The names it has, when --dc or --env must be checked against the whole catalog.
    known: Option<KnownNames>,
    /// Each output's file, or nothing when the selection leaves the provider out (or the run
    /// already failed).
    files: Vec<RenderedFile>,
}

struct RenderedFile {
    /// `PROVIDER.SUFFIX` with --out; empty otherwise.
    name: String,
    content: Result<Content, RenderFailure>,
}

enum Content {
    /// The output's text for this provider.
    Text(String),
    /// With --check: how the file on disk differs, if it does.
    Drift(Option<Drift>),
}

enum RenderFailure {
    Render(RenderError),
    /// With --check: the file on disk could not be read.
    Check(OutputError),
}

impl Job {
    fn render(&self, provider: Provider) -> Rendered {
        let known = (!self.selection.is_empty()).then(|| {
            let mut known = KnownNames::default();
            known.add(&provider.resolved);
            known
        });
        let narrowed = filter::narrow_one(provider.resolved, &self.selection);
        let files = match narrowed {
            Some(resolved) if !self.stop.load(Ordering::Relaxed) => self
                .outputs
                .iter()
                .map(|output| self.render_file(&resolved, output))
                .collect(),
            _ => Vec::new(),
        };
        Rendered { known, files }
    }

    fn render_file(&self, provider: &ResolvedProvider, output: &Output) -> RenderedFile {
        let name = match self.out {
            Some(_) => format!("{}.{}", provider.id, output.file_suffix()),
            None => String::new(),
        };
        let content = match (self.renderer.provider(provider, output), &self.out) {
            (Err(error), _) => Err(RenderFailure::Render(error)),
            (Ok(text), Some(dir)) if self.check => {
                let planned = PlannedFile {
                    name: name.clone(),
                    contents: text,
                };
                match output::check(dir, std::slice::from_ref(&planned)) {
                    Ok(mut drifts) => Ok(Content::Drift(drifts.pop())),
                    Err(error) => Err(RenderFailure::Check(error)),
                }
            }
            (Ok(text), _) => Ok(Content::Text(text)),
        };
        RenderedFile { name, content }
    }
}

/// Where rendered providers go, in catalog order, until the run is known to succeed.
enum Sink {
    /// Stdout's text.
    Print(CatalogWriter<Staging>),
    /// --out DIR: the files to write.
    Write { dir: PathBuf, staging: Staging },
    /// --out DIR --check: the diffs to print.
    Check { dir: PathBuf, drifts: Drifts },
}

#[derive(Default)]
struct Drifts {
    diffs: Staging,
    count: usize,
    missing: usize,
}

/// What the providers came to, gathered on the calling thread in catalog order.
struct Gathered {
    sink: Sink,
    known: KnownNames,
    /// File names already planned (--out), so two providers never write one file.
    names: HashSet<String>,
    /// Files planned (--out).
    files: usize,
    invalid: bool,
    /// The first provider (in order) that could not be rendered or would overwrite another.
    failure: Option<PlanError>,
    /// --check: the first file on disk (in order) that could not be read.
    check_error: Option<OutputError>,
    staging_error: Option<io::Error>,
}

impl Gathered {
    fn new(job: &Job) -> Self {
        let sink = match (&job.out, job.check) {
            (None, _) => Sink::Print(CatalogWriter::new(&job.outputs[0], Staging::new())),
            (Some(dir), false) => Sink::Write {
                dir: dir.clone(),
                staging: Staging::new(),
            },
            (Some(dir), true) => Sink::Check {
                dir: dir.clone(),
                drifts: Drifts::default(),
            },
        };
        Gathered {
            sink,
            known: KnownNames::default(),
            names: HashSet::new(),
            files: 0,
            invalid: false,
            failure: None,
            check_error: None,
            staging_error: None,
        }
    }

    fn take(&mut self, job: &Job, loaded: Loaded<Rendered>) {
        let rendered = match loaded {
            Loaded::Valid(rendered) => rendered,
            Loaded::Invalid => {
                self.invalid = true;
                job.stop.store(true, Ordering::Relaxed);
                return;
            }
        };
        if let Some(known) = rendered.known {
            self.known.merge(known);
        }
        if self.invalid || self.failure.is_some() {
            return;
        }
        for file in rendered.files {
            if job.out.is_some() && !self.names.insert(file.name.clone()) {
                self.fail(job, PlanError::Collision(file.name));
                return;
            }
            self.files += 1;
            let staged = match (file.content, &mut self.sink) {
                (Err(RenderFailure::Render(error)), _) => {
                    self.fail(job, PlanError::Render(error));
                    return;
                }
                (Err(RenderFailure::Check(error)), _) => {
                    self.check_error.get_or_insert(error);
                    Ok(())
                }
                (Ok(Content::Text(text)), Sink::Print(writer)) => writer.push(&text),
                (Ok(Content::Text(text)), Sink::Write { staging, .. }) => {
                    staging.add_file(file.name, &text)
                }
                (Ok(Content::Drift(Some(drift))), Sink::Check { drifts, .. }) => {
                    drifts.count += 1;
                    drifts.missing += usize::from(drift.missing);
                    drifts.diffs.write_all(drift.diff.as_bytes())
                }
                (Ok(Content::Drift(_)), _) | (Ok(Content::Text(_)), Sink::Check { .. }) => Ok(()),
            };
            if let Err(error) = staged {
                self.staging_error.get_or_insert(error);
            }
        }
    }

    fn fail(&mut self, job: &Job, failure: PlanError) {
        self.failure = Some(failure);
        job.stop.store(true, Ordering::Relaxed);
    }
}

/// Without --out: the catalog's text to stdout.
fn print(writer: CatalogWriter<Staging>) -> Result<(), CliError> {
    writer
        .finish()
        .and_then(|staging| {
            let mut stdout = io::stdout().lock();
            staging.copy_to(&mut stdout)?;
            stdout.flush()
        })
        .map_err(CliError::stdout)
}

/// `--check`: prints a diff per stale file; exit 1 when any differs or is missing.
fn report_check(dir: &Path, drifts: Drifts, files: usize) -> Result<(), CliError> {
    if drifts.count == 0 {
        eprintln!("{files} file(s) in {} are up to date", dir.display());
        return Ok(());
    }
    {
        let mut stdout = io::stdout().lock();
        drifts
            .diffs
            .copy_to(&mut stdout)
            .and_then(|()| stdout.flush())
            .map_err(CliError::stdout)?;
    }
    eprintln!(
        "{} of {files} file(s) in {} are out of date ({} missing); run the same \
         command without --check to update them",
        drifts.count,
        dir.display(),
        drifts.missing,
    );
    Err(CliError::Reported(EXIT_INVALID))
}

/// `--out` without `--check`: writes the staged files, each atomically, and says how many
/// changed. Nothing is written before the whole catalog has rendered.
fn write(dir: &Path, staging: Staging) -> Result<(), CliError> {
    let mut summary = WriteSummary::default();
    let written = (|| -> Result<(), String> {
        // Creates DIR even when the selection leaves no file to write, as before.
        output::write(dir, &[]).map_err(|error| error.to_string())?;
        let files = staging
            .into_files()
            .map_err(|error| format!("cannot read staged files back: {error}"))?;
        for file in files {
            let file = file.map_err(|error| format!("cannot read staged files back: {error}"))?;
            let done = output::write(dir, std::slice::from_ref(&file))
                .map_err(|error| error.to_string())?;
            summary.written.extend(done.written);
            summary.unchanged.extend(done.unchanged);
        }
        Ok(())
    })();
    written.map_err(CliError::Usage)?;
    eprintln!(
        "wrote {} file(s) to {} ({} unchanged)",
        summary.written.len(),
        dir.display(),
        summary.unchanged.len()
    );
    Ok(())
}

/// Reads a `--template` file: a regular file of at most [`MAX_TEMPLATE_BYTES`], refused by its
/// size before any byte is read.
fn read_template(path: &Path) -> io::Result<String> {
    use crate::render::templates::MAX_TEMPLATE_BYTES;
    let too_large = |size: u64| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the file is {size} bytes, more than the {MAX_TEMPLATE_BYTES} bytes a template may have"
            ),
        )
    };
    let size = crate::regular_file::size(path)?;
    if size > MAX_TEMPLATE_BYTES as u64 {
        return Err(too_large(size));
    }
    // The file may grow after the check: never read more than one byte past the limit.
    let prefix = crate::regular_file::read_prefix(path, MAX_TEMPLATE_BYTES + 1)?;
    if prefix.bytes.len() > MAX_TEMPLATE_BYTES {
        return Err(too_large(prefix.len));
    }
    String::from_utf8(prefix.bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// A template error: its `FILE:LINE: error: ...` line, then the template's line with the part
/// minijinja blames underlined (when it says which and the file is on disk).
fn report_template_error(error: &crate::render::templates::TemplateError) {
    let color = crate::diagnostics::snippet::stderr_color();
    let excerpt = match (error.line, &error.range) {
        (Some(line), Some(range)) => crate::diagnostics::snippet::template_excerpt(
            Path::new(&error.file),
            line,
            range.clone(),
            color,
        ),
        _ => None,
    };
    eprintln!("{}", crate::diagnostics::visible(&error.to_string()));
    if let Some(excerpt) = excerpt {
        eprintln!("{excerpt}");
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::FormatArg;
    use crate::render::Format;

    #[test]
    fn every_library_format_is_a_format_value_of_its_own_name() {
        for format in Format::ALL {
            let arg = FormatArg::from_str(format.name(), false)
                .unwrap_or_else(|error| panic!("--format {}: {error}", format.name()));
            assert_eq!(Format::from(arg), format);
        }
        assert_eq!(FormatArg::value_variants().len(), Format::ALL.len());
    }
}
