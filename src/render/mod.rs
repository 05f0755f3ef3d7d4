//! Outputs of resolved providers: the endpoint table itself (JSON, YAML) and the built-in and
//! user minijinja templates, for stdout or for one file per provider and format.
//!
//! Every output reads the resolved table ([`crate::resolve::ResolvedProvider`]); none builds a URL.

mod env;
pub(crate) mod filter;
mod json;
pub(crate) mod output;
// Where `render` keeps rendered text until the whole catalog has rendered: the command's.
#[cfg(feature = "cli")]
pub(crate) mod staging;
pub(crate) mod templates;
mod yaml;

use std::io::{self, Write};
use std::path::Path;

use crate::resolve::table::ResolvedProvider;
pub use env::EnvNameClash;
pub use filter::{FilterError, KnownNames, Selection, narrow, narrow_one};
pub use output::{Drift, OutputError, PlanError, PlannedFile, WriteSummary, check, plan, write};
pub use templates::{
    ENV, FUEL, MARKDOWN, MAX_OUTPUT_BYTES, MAX_TEMPLATE_BYTES, NANGO, TemplateError, Templates,
};

/// The built-in output formats. The command line's `--format` values map onto these one to one,
/// by [`Format::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
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

impl Format {
    /// Every built-in format.
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Yaml,
        Format::Nango,
        Format::Markdown,
        Format::Env,
    ];

    /// The format's name, as `--format` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Nango => "nango",
            Format::Markdown => "markdown",
            Format::Env => "env",
        }
    }

    /// What follows `PROVIDER.` in the name of the file `--out` writes.
    pub fn file_suffix(self) -> &'static str {
        match self {
            Format::Json => "resolved.json",
            Format::Yaml => "resolved.yaml",
            Format::Nango => "nango.yaml",
            Format::Markdown => "md",
            Format::Env => "env",
        }
    }
}

/// What to render: a built-in format or a user's template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A built-in format.
    Builtin(Format),
    /// A user template, by the name it was added under (its path) and its output file suffix.
    Template {
        /// The template's name in the environment (its path as given).
        name: String,
        /// What follows `PROVIDER.` in `--out` file names.
        file_suffix: String,
    },
}

impl Output {
    /// What follows `PROVIDER.` in the name of the file `--out` writes.
    pub fn file_suffix(&self) -> &str {
        match self {
            Output::Builtin(format) => format.file_suffix(),
            Output::Template { file_suffix, .. } => file_suffix,
        }
    }
}

/// A provider that could not be rendered in some format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A template failed (compile or render), at a file and line.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The provider's endpoints do not fit Nango's interpolation model.
    #[error(transparent)]
    Nango(#[from] crate::nango::export::NangoRenderError),
    /// Two settings would be written under one name in the env output.
    #[error(transparent)]
    EnvNameClash(#[from] EnvNameClash),
}

/// Renders resolved providers with the built-in templates and, optionally, one user template.
#[derive(Debug, Default)]
pub struct Renderer {
    templates: Templates,
}

impl Renderer {
    /// A renderer with the built-in formats only.
    pub fn new() -> Self {
        Renderer::default()
    }

    /// Adds a user template read from `path` (already read into `source`), returning the output
    /// that renders it. The `--out` file suffix is the file name without a `.j2`/`.jinja`
    /// extension (`terraform.tf.j2` → `PROVIDER.terraform.tf`).
    pub fn add_template(&mut self, path: &Path, source: String) -> Result<Output, TemplateError> {
        let name = self.templates.add_user_template(path, source)?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".to_owned());
        let file_suffix = [".j2", ".jinja2", ".jinja"]
            .iter()
            .find_map(|ext| file_name.strip_suffix(ext))
            .unwrap_or(&file_name)
            .to_owned();
        Ok(Output::Template { name, file_suffix })
    }

    /// The text of `output` for all `providers` together, as printed on stdout: JSON and YAML
    /// are one array of every provider; template outputs are each provider's text in turn,
    /// separated by a blank line.
    pub fn catalog(
        &self,
        providers: &[ResolvedProvider],
        output: &Output,
    ) -> Result<String, RenderError> {
        let mut writer = CatalogWriter::new(output, Vec::new());
        for provider in providers {
            let text = self.provider(provider, output)?;
            writer.push(&text).expect("writing to memory cannot fail");
        }
        let bytes = writer.finish().expect("writing to memory cannot fail");
        Ok(String::from_utf8(bytes).expect("every output is UTF-8"))
    }

    /// The text of `output` for one provider, as written to its own file by `--out`. JSON and
    /// YAML are an array of one provider, so each file still has the documented shape.
    pub fn provider(
        &self,
        provider: &ResolvedProvider,
        output: &Output,
    ) -> Result<String, RenderError> {
        match output {
            Output::Builtin(Format::Json) => Ok(table_json(std::slice::from_ref(provider))),
            Output::Builtin(Format::Yaml) => Ok(table_yaml(std::slice::from_ref(provider))),
            Output::Builtin(Format::Nango) => {
                let texts = crate::nango::export::entries(provider)?
                    .iter()
                    .map(|entry| {
                        self.templates
                            .render(templates::NANGO, provider, Some(entry))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(texts.join("\n"))
            }
            Output::Builtin(Format::Markdown) => {
                Ok(self.templates.render(templates::MARKDOWN, provider, None)?)
            }
            Output::Builtin(Format::Env) => {
                env::check_names(provider)?;
                Ok(self.templates.render(templates::ENV, provider, None)?)
            }
            Output::Template { name, .. } => Ok(self.templates.render(name, provider, None)?),
        }
    }
}

/// Joins providers' texts ([`Renderer::provider`], one file's worth each) into the catalog text
/// of an output ([`Renderer::catalog`]), writing each as it comes, so that a catalog can be
/// rendered one provider at a time (on any thread) and never held in memory as a whole.
#[derive(Debug)]
pub struct CatalogWriter<W> {
    out: W,
    joint: Joint,
    written: usize,
}

/// How an output's catalog text joins its providers' pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joint {
    /// A JSON array: each text is a one-item array whose item goes between `[`, `,` and `]`.
    JsonArray,
    /// A YAML sequence: each text is a one-item sequence, and they follow one another.
    YamlSequence,
    /// Template texts, separated by a newline.
    Texts,
}

impl<W: Write> CatalogWriter<W> {
    /// A writer of `output`'s catalog text to `out`.
    pub fn new(output: &Output, out: W) -> Self {
        let joint = match output {
            Output::Builtin(Format::Json) => Joint::JsonArray,
            Output::Builtin(Format::Yaml) => Joint::YamlSequence,
            _ => Joint::Texts,
        };
        CatalogWriter {
            out,
            joint,
            written: 0,
        }
    }

    /// Writes the next provider's text, as [`Renderer::provider`] gave it for the same output.
    pub fn push(&mut self, text: &str) -> io::Result<()> {
        let (separator, text) = match (self.joint, self.written) {
            // `[\n  {...}\n]\n`: the item is already indented as an item of the array.
            (Joint::JsonArray, written) => {
                let item = text
                    .strip_prefix("[\n")
                    .and_then(|rest| rest.strip_suffix("\n]\n"))
                    .ok_or_else(|| {
                        io::Error::new(io::ErrorKind::InvalidInput, "not a one-item JSON array")
                    })?;
                (if written == 0 { "[\n" } else { ",\n" }, item)
            }
            (Joint::Texts, 1..) => ("\n", text),
            _ => ("", text),
        };
        self.out.write_all(separator.as_bytes())?;
        self.out.write_all(text.as_bytes())?;
        self.written += 1;
        Ok(())
    }

    /// Ends the catalog text and gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        let end = match (self.joint, self.written) {
            (Joint::JsonArray | Joint::YamlSequence, 0) => "[]\n",
            (Joint::JsonArray, _) => "\n]\n",
            _ => "",
        };
        self.out.write_all(end.as_bytes())?;
        Ok(self.out)
    }
}

fn table_json(providers: &[ResolvedProvider]) -> String {
    let mut text = json::to_string_pretty(providers);
    text.push('\n');
    text
}

fn table_yaml(providers: &[ResolvedProvider]) -> String {
    yaml::to_string(providers)
}
