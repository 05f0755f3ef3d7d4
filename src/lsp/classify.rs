//! Which open YAML files the server speaks about: provider definitions and data-center sets,
//! and nothing else.
//!
//! Editors hand a language server every YAML file of the workspace (CI workflows, the service's
//! `clients.yaml`, …); checking those against the provider format would only bury them in
//! false errors. A file is a definition when it says so (the `yaml-language-server` schema
//! modeline naming one of the two schemas), when it sits under a `providers/` tree (the
//! layout `validate` and `serve` read), or when its top-level keys have a definition's shape.
//! The shape is read line by line rather than parsed, so a file that is half typed, and not
//! valid YAML for the moment, keeps its kind.

use std::path::{Component, Path};

use crate::catalog::DATA_CENTER_SET_DIR;

/// The folder whose tree holds provider definitions (and their sets in `data-centers/`).
const PROVIDERS_DIR: &str = "providers";

/// Top-level keys that, beside `id`, only a provider definition has among the YAML files a
/// provider repository holds: the sections describing how its OAuth and API work.
const PROVIDER_SECTIONS: [&str; 4] = ["authorization", "scopes", "auth", "api"];

/// Which format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    /// A provider definition.
    Provider,
    /// A shared data-center set.
    DataCenterSet,
}

impl FileKind {
    /// The kind `validate` gives a file by its place alone: a set in a `data-centers/` folder,
    /// else a provider.
    pub(super) fn by_folder(path: &Path) -> FileKind {
        let folder = path.parent().and_then(Path::file_name);
        if folder.is_some_and(|name| name == DATA_CENTER_SET_DIR) {
            FileKind::DataCenterSet
        } else {
            FileKind::Provider
        }
    }
}

/// The kind of the file at `path` holding `text`, or `None` for YAML that is neither format.
pub(super) fn classify(path: &Path, text: &str) -> Option<FileKind> {
    by_modeline(text)
        .or_else(|| under_providers(path).then(|| FileKind::by_folder(path)))
        .or_else(|| by_shape(text))
}

/// The kind named by a `# yaml-language-server: $schema=…` line among the leading comments.
fn by_modeline(text: &str) -> Option<FileKind> {
    text.lines()
        .map(str::trim)
        .take_while(|line| line.is_empty() || line.starts_with('#') || *line == "---")
        .filter_map(|line| line.strip_prefix('#'))
        .filter_map(|comment| comment.trim_start().strip_prefix("yaml-language-server:"))
        .find_map(|setting| {
            let schema = setting.trim_start().strip_prefix("$schema=")?.trim();
            if schema.ends_with("data-center-set.schema.json") {
                Some(FileKind::DataCenterSet)
            } else if schema.ends_with("provider.schema.json") {
                Some(FileKind::Provider)
            } else {
                None
            }
        })
}

fn under_providers(path: &Path) -> bool {
    path.parent().is_some_and(|folder| {
        folder
            .components()
            .any(|part| part == Component::Normal(PROVIDERS_DIR.as_ref()))
    })
}

/// A provider has `id` and one of its OAuth or API sections at the top; a set has `name` and
/// `data_centers` (and no `id`).
fn by_shape(text: &str) -> Option<FileKind> {
    let keys = top_level_keys(text);
    let has = |key: &str| keys.contains(&key);
    if has("id") && PROVIDER_SECTIONS.iter().any(|section| has(section)) {
        Some(FileKind::Provider)
    } else if !has("id") && has("name") && has("data_centers") {
        Some(FileKind::DataCenterSet)
    } else {
        None
    }
}

/// The plain keys written at the first column of `text`.
fn top_level_keys(text: &str) -> Vec<&str> {
    text.lines()
        .map(|line| line.trim_start_matches('\u{feff}'))
        .filter_map(|line| {
            let (key, _) = line.split_once(':')?;
            let plain = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            plain.then_some(key)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_told_by_modeline_place_or_shape() {
        let anywhere = Path::new("/repo/misc/x.yaml");
        let modeline = "# yaml-language-server: $schema=../schemas/provider.schema.json\nfoo: 1\n";
        assert_eq!(classify(anywhere, modeline), Some(FileKind::Provider));
        let set_modeline =
            "# yaml-language-server: $schema=../../schemas/data-center-set.schema.json\n";
        assert_eq!(
            classify(anywhere, set_modeline),
            Some(FileKind::DataCenterSet)
        );
        assert_eq!(
            classify(Path::new("/repo/providers/x.yaml"), "on: push\n"),
            Some(FileKind::Provider)
        );
        assert_eq!(
            classify(Path::new("/repo/providers/data-centers/x.yaml"), ""),
            Some(FileKind::DataCenterSet)
        );
        assert_eq!(
            classify(anywhere, "id: x\nscopes:\n  default: []\n"),
            Some(FileKind::Provider)
        );
        assert_eq!(
            classify(anywhere, "name: x\ndata_centers:\n  - code: us\n"),
            Some(FileKind::DataCenterSet)
        );
    }

    #[test]
    fn other_yaml_is_not_a_definition() {
        let workflow = "name: CI\non:\n  push:\njobs:\n  test:\n    runs-on: ubuntu-latest\n";
        assert_eq!(
            classify(Path::new("/repo/.github/workflows/ci.yml"), workflow),
            None
        );
        let clients = "zoho-crm:\n  client_id: 1000.ABC\n  client_secret_env: S\n";
        assert_eq!(classify(Path::new("/repo/clients.yaml"), clients), None);
        // A path that merely contains the word is not the folder.
        assert_eq!(
            classify(Path::new("/repo/my-providers/x.yaml"), "a: 1\n"),
            None
        );
    }
}
