//! Snapshots of every built-in format for every bundled provider (providers/*.yaml, so a
//! provider added later gets its snapshots automatically), stored in the top-level
//! `snapshots/` folder. Review a changed snapshot by reading it: it is the whole output users
//! load into their platform.

use provider_forge::catalog;
use provider_forge::definition::AuthMode;
use provider_forge::render::{Format, Output, Renderer};

#[test]
fn every_format_of_every_bundled_provider() {
    let renderer = Renderer::new();
    insta::glob!("../providers", "*.yaml", |path: &std::path::Path| {
        let catalog = catalog::load(&[path.to_path_buf()]).expect("bundled files are readable");
        assert!(
            catalog.is_valid(),
            "{} is invalid: {:#?}",
            path.display(),
            catalog.diagnostics
        );
        let provider = &catalog.providers[0].resolved;
        for format in Format::ALL {
            let text = match renderer.provider(provider, &Output::Builtin(format)) {
                Ok(text) => text,
                // The Nango export does not write the other modes yet: what it says instead
                // is reviewed like any output.
                Err(error)
                    if format == Format::Nango && provider.auth_mode != AuthMode::Oauth2Code =>
                {
                    format!("error: {error}\n")
                }
                Err(error) => panic!("{}: {format:?}: {error}", path.display()),
            };
            insta::with_settings!({
                snapshot_path => "../snapshots",
                prepend_module_to_snapshot => false,
                snapshot_suffix => format!("{}.{}", provider.id, format.file_suffix()),
                omit_expression => true,
                description => format!("provider-forge render {} --format {}", path.file_name().unwrap().to_string_lossy(), format.name()),
            }, {
                insta::assert_snapshot!(format.name(), text);
            });
        }
    });
}
