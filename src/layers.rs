//! The crate's layers, and a test that keeps the flow one-way.
//!
//! Each top-level module sits in one layer, lowest first; a module may use its own layer and
//! the layers below it, never one above:
//!
//! 1. `definition`, `env_var`, `regular_file`: the format's types and YAML reader, and leaf
//!    helpers;
//! 2. `diagnostics`: what a problem looks like and how it is printed;
//! 3. `resolve`: the semantic rules and the resolved table (URLs are built here only);
//! 4. `schema`, `validate`: the generated schemas and the checks of one file, whose messages
//!    reuse resolve's URL and placeholder rules (and the rendered-output schema is generated
//!    from resolve's table);
//! 5. `render`, `catalog`, `nango`: outputs, loading many files, and everything Nango;
//! 6. `oauth`: the OAuth engine;
//! 7. `simulate`: the provider simulator, which speaks the engine's types;
//! 8. `service`, `lsp`: the long-running front ends;
//! 9. `cli`: the command line, which may use everything.
//!
//! The test reads the source of every file under `src/` and takes each `crate::` path (and each
//! `super::` path that climbs to the crate root) outside comments and `#[cfg(test)]` modules: a
//! scan of the text, not a parse, which is enough for how this crate writes its paths. Doc links
//! are comments, so they may point anywhere.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, lowest first.
const LAYERS: &[&[&str]] = &[
    &["definition", "env_var", "regular_file"],
    &["diagnostics"],
    &["resolve"],
    &["schema", "validate"],
    &["render", "catalog", "nango"],
    &["oauth"],
    &["simulate"],
    &["service", "lsp"],
    &["cli"],
];

/// Edges that break the order on purpose, with the reason: `(from, to)`. Empty: keep it so.
const EXCEPTIONS: &[(&str, &str)] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ is readable").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The module path of a file below `src/`: `resolve/connection/mod.rs` is `[resolve, connection]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// The source without comments and without `#[cfg(test)]` modules written inline.
fn code_of(source: &str) -> String {
    let mut code = String::new();
    let mut test_attribute = false;
    let mut skip_until: Option<String> = None;
    for line in source.lines() {
        if let Some(end) = &skip_until {
            if line == end {
                skip_until = None;
            }
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            test_attribute = true;
            continue;
        }
        if test_attribute && trimmed.starts_with("mod ") && trimmed.ends_with('{') {
            let indent = &line[..line.len() - trimmed.len()];
            skip_until = Some(format!("{indent}}}"));
            test_attribute = false;
            continue;
        }
        if !trimmed.starts_with("#[") {
            test_attribute = false;
        }
        let without_comment = line.find("//").map_or(line, |at| &line[..at]);
        code.push_str(without_comment);
        code.push('\n');
    }
    code
}

/// The top-level modules `code` (of the module at `path`) refers to.
fn uses(code: &str, path: &[String]) -> BTreeSet<String> {
    let identifier = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `$crate::` in a macro, or a longer name
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(
                inner
                    .split(',')
                    .map(|item| identifier(item.trim()))
                    .filter(|name| !name.is_empty() && name != "self"),
            );
        } else {
            found.insert(identifier(rest));
        }
    }
    // `super::` chains that climb out of the top-level module name another one.
    for (at, _) in code.match_indices("super::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue; // counted from the first `super::` of the chain
        }
        let mut rest = &code[at..];
        let mut depth = path.len();
        while let Some(after) = rest.strip_prefix("super::") {
            depth = depth.saturating_sub(1);
            rest = after;
        }
        if depth == 0 {
            found.insert(identifier(rest));
        }
    }
    found
}

/// Every edge from a lower layer to a higher one: `(file, used module)`.
fn back_edges(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src/");
        let path = module_path(relative);
        // The crate root, the binary, this file and test-only files are not layered.
        let Some(top) = path.first() else {
            continue;
        };
        if ["lib", "main", "layers"].contains(&top.as_str()) || path.last().unwrap() == "tests" {
            continue;
        }
        let Some(own) = layer_of(top) else {
            problems.push(format!(
                "{}: module `{top}` has no layer",
                relative.display()
            ));
            continue;
        };
        let source = std::fs::read_to_string(&file).expect("source is readable");
        for used in uses(&code_of(&source), &path) {
            if used == *top || EXCEPTIONS.contains(&(top.as_str(), used.as_str())) {
                continue;
            }
            match layer_of(&used) {
                Some(layer) if layer <= own => {}
                Some(_) => problems.push(format!(
                    "{}: `{top}` uses `crate::{used}`, a higher layer",
                    relative.display()
                )),
                None => problems.push(format!(
                    "{}: `crate::{used}` has no layer",
                    relative.display()
                )),
            }
        }
    }
    problems
}

#[test]
fn no_module_uses_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = back_edges(&src);
    assert!(
        problems.is_empty(),
        "the flow runs one way (see src/layers.rs); move the code, or add a layer:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_scan_sees_through_groups_supers_comments_and_test_modules() {
    let path = ["resolve".to_owned(), "connection".to_owned()];
    let code = code_of(
        "use crate::{definition::types, diagnostics};\n\
         use super::super::render::x; // crate::cli\n\
         /// [`crate::oauth`]\n\
         #[cfg(test)]\n\
         mod tests {\n    use crate::service;\n}\n\
         fn f() { crate::lsp::g() }\n",
    );
    let found: Vec<String> = uses(&code, &path).into_iter().collect();
    assert_eq!(found, ["definition", "diagnostics", "lsp", "render"]);
}
