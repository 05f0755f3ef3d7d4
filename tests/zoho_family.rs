//! The Zoho product family: every product renders, a data center added to the shared set is one
//! local change, and the README's comparison with Nango is computed, not written by hand.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use provider_forge::catalog::{self, Catalog};
use provider_forge::definition::DataCenterSet;
use provider_forge::nango::{self, NangoCatalog};
use provider_forge::render::{Format, Output, Renderer};
use provider_forge::resolve::ResolvedProvider;
use provider_forge::validate;

use crate::support::{ZOHO_FAMILY, repo_path};

fn load(dir: &Path) -> Catalog {
    let catalog = catalog::load(&[dir.to_path_buf()]).expect("the directory is readable");
    let diagnostics: Vec<String> = catalog.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(diagnostics.is_empty(), "{}", diagnostics.join("\n"));
    catalog
}

fn resolved(catalog: &Catalog, id: &str) -> ResolvedProvider {
    catalog
        .providers
        .iter()
        .find(|p| p.resolved.id == id)
        .unwrap_or_else(|| panic!("{id} is not in the catalog"))
        .resolved
        .clone()
}

#[test]
fn the_whole_providers_directory_renders_and_covers_the_family() {
    let catalog = load(&repo_path("providers"));
    let ids: BTreeSet<&str> = catalog
        .providers
        .iter()
        .map(|p| p.resolved.id.as_str())
        .collect();
    for id in ZOHO_FAMILY {
        assert!(ids.contains(id), "{id} missing from providers/");
    }
    let providers: Vec<ResolvedProvider> = catalog
        .providers
        .iter()
        .map(|p| p.resolved.clone())
        .collect();
    let json = Renderer::new()
        .catalog(&providers, &Output::Builtin(Format::Json))
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("render prints JSON");
    assert_eq!(parsed.as_array().map(Vec::len), Some(providers.len()));
    let yaml = Renderer::new()
        .catalog(&providers, &Output::Builtin(Format::Yaml))
        .unwrap();
    assert!(yaml.contains("id: zoho-workdrive"));
}

#[test]
fn every_family_member_uses_the_shared_set_and_canada_keeps_its_accounts_server() {
    let catalog = load(&repo_path("providers"));
    for id in ZOHO_FAMILY {
        let provider = catalog
            .providers
            .iter()
            .find(|p| p.resolved.id == id)
            .unwrap();
        let set = provider
            .definition
            .data_centers
            .as_ref()
            .and_then(|dcs| dcs.set.as_deref());
        assert_eq!(set, Some("zoho"), "{id} does not use the shared set");
        if let Some(ca) = provider.resolved.data_center("ca") {
            assert_eq!(
                ca.token.as_ref().unwrap().token_url,
                "https://accounts.zohocloud.ca/oauth/v2/token",
                "{id}"
            );
        }
    }
    // The product exceptions that overrides carry, as rendered.
    let mail = resolved(&catalog, "zoho-mail");
    assert_eq!(
        mail.data_center("ca").unwrap().api_base_urls["production"],
        "https://mail.zohocloud.ca"
    );
    assert_eq!(
        mail.data_center("eu").unwrap().api_base_urls["production"],
        "https://mail.zoho.eu"
    );
    let workdrive = resolved(&catalog, "zoho-workdrive");
    assert_eq!(
        workdrive.data_center("ca").unwrap().api_base_urls["production"],
        "https://www.zohoapis.ca/workdrive/api/v1"
    );
}

/// Copies `from` (files and one level of folders) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// The providers directory with the tenth DC appended to the shared set and nothing else changed.
fn providers_with_tenth_dc() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_path("providers"), dir.path());
    let set_path = dir.path().join("data-centers").join("zoho.yaml");
    let mut set = fs::read_to_string(&set_path).unwrap();
    if !set.ends_with('\n') {
        set.push('\n');
    }
    set.push_str(&fs::read_to_string(repo_path("tests/fixtures/family/tenth-dc-ae.yaml")).unwrap());
    fs::write(&set_path, set).unwrap();
    dir
}

#[test]
fn a_data_center_added_to_the_set_reaches_every_product_that_does_not_narrow() {
    let before = load(&repo_path("providers"));
    let dir = providers_with_tenth_dc();
    let after = load(dir.path());

    let mut inheriting = Vec::new();
    for id in ZOHO_FAMILY {
        let definition = &after
            .providers
            .iter()
            .find(|p| p.resolved.id == id)
            .unwrap()
            .definition;
        let narrows = definition
            .multi_dc
            .as_ref()
            .and_then(|m| m.data_centers.as_ref())
            .is_some();
        let with_ae = resolved(&after, id);
        assert_eq!(
            with_ae.data_center("ae").is_some(),
            !narrows,
            "{id}: `ae` must appear exactly when the product does not narrow its DCs"
        );
        if !narrows {
            inheriting.push(id);
        }
        // Locality: apart from the new DC, nothing in any product changed.
        let mut without_ae = with_ae.clone();
        without_ae.data_centers.retain(|dc| dc.code != "ae");
        assert_eq!(
            without_ae,
            resolved(&before, id),
            "{id} changed beyond gaining `ae`"
        );
    }
    // Zoho CRM is the product documented in every Zoho DC, so it lists none and inherits `ae`.
    assert_eq!(inheriting, ["zoho-crm"]);

    let crm = resolved(&after, "zoho-crm");
    let ae = crm.data_center("ae").unwrap();
    assert_eq!(ae.name, "United Arab Emirates");
    assert_eq!(ae.location.as_deref(), Some("ae"));
    assert_eq!(
        ae.authorization.as_ref().unwrap().issuer,
        "https://accounts.zoho.ae"
    );
    assert_eq!(
        ae.authorization.as_ref().unwrap().authorization_url,
        "https://accounts.zoho.ae/oauth/v2/auth"
    );
    assert_eq!(
        ae.token.as_ref().unwrap().token_url,
        "https://accounts.zoho.ae/oauth/v2/token"
    );
    assert_eq!(
        ae.token.as_ref().unwrap().refresh_url,
        "https://accounts.zoho.ae/oauth/v2/token"
    );
    assert_eq!(
        ae.token.as_ref().unwrap().revoke_url.as_deref(),
        Some("https://accounts.zoho.ae/oauth/v2/token/revoke")
    );
    // A multi-DC client still starts at the global accounts server.
    assert_eq!(ae.authorization.as_ref().unwrap().entry_data_center, "us");
    assert_eq!(
        ae.authorization.as_ref().unwrap().entry_authorization_url,
        "https://accounts.zoho.com/oauth/v2/auth"
    );
    assert_eq!(ae.api_base_urls["production"], "https://www.zohoapis.ae");
    assert_eq!(ae.api_base_urls["sandbox"], "https://sandbox.zohoapis.ae");
    assert_eq!(
        ae.api_base_urls["developer"],
        "https://developer.zohoapis.ae"
    );
    assert_eq!(ae.client_secret_key, "shared");
    // The new DC comes last, in set order.
    assert_eq!(crm.data_centers.last().unwrap().code, "ae");
}

/// The section of docs/zoho-family.md the family table lives in.
const TABLE_START: &str = "<!-- family-table:start (generated by tests/zoho_family.rs) -->\n";
const TABLE_END: &str = "<!-- family-table:end -->";

fn nango_providers_path() -> Option<PathBuf> {
    match std::env::var_os("PROVIDER_FORGE_NANGO_PROVIDERS") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            let message = "PROVIDER_FORGE_NANGO_PROVIDERS is not set: the comparison with \
Nango's providers.yaml was NOT checked. Run .ci/run, or set it to \
../shared/anchors/nango/providers.yaml.";
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{message} (CI must not skip it)"
            );
            eprintln!("\n!!!!!!!! SKIPPED !!!!!!!!\n{message}\n!!!!!!!!!!!!!!!!!!!!!!!!!\n");
            None
        }
    }
}

fn family_comparison(nango_path: &Path) -> Vec<nango::ProductComparison> {
    let text =
        fs::read_to_string(nango_path).unwrap_or_else(|e| panic!("{}: {e}", nango_path.display()));
    let nango = NangoCatalog::parse(&text).expect("Nango's providers.yaml parses");
    let providers = repo_path("providers");
    let catalog = load(&providers);
    let set_path = providers.join("data-centers/zoho.yaml");
    let set: DataCenterSet =
        validate::check_data_center_set(&set_path, &fs::read_to_string(&set_path).unwrap())
            .expect("the shared set is valid")
            .content;
    nango::compare(&catalog.providers, &set, "dc", &nango)
}

#[test]
fn the_readme_family_table_is_the_computed_one() {
    let Some(path) = nango_providers_path() else {
        return;
    };
    let fresh = nango::markdown_table(&family_comparison(&path));
    let readme = fs::read_to_string(repo_path("docs/zoho-family.md")).unwrap();
    let start = readme
        .find(TABLE_START)
        .expect("docs/zoho-family.md has the family-table start marker");
    let end = readme
        .find(TABLE_END)
        .expect("docs/zoho-family.md has the family-table end marker");
    let current = &readme[start + TABLE_START.len()..end];
    assert!(
        current == fresh,
        "docs/zoho-family.md's family table is stale; replace the text between the markers with:\n\n{fresh}"
    );
}

#[test]
fn the_comparison_finds_the_known_differences_in_nangos_file() {
    let Some(path) = nango_providers_path() else {
        return;
    };
    let products = family_comparison(&path);
    let product = |id: &str| products.iter().find(|p| p.id == id).unwrap();
    assert_eq!(products.len(), 12);

    // Nango has no entries for these two.
    assert!(product("zoho-projects").nango.is_none());
    assert!(product("zoho-workdrive").nango.is_none());

    // Every Nango Zoho product aliases `zoho` and offers the same six extensions.
    let crm = product("zoho-crm").nango.as_ref().unwrap();
    assert_eq!(crm.entry.alias.as_deref(), Some("zoho"));
    assert_eq!(crm.data_centers, ["us", "eu", "in", "au", "cn", "jp"]);
    assert_eq!(crm.only_ours, ["ca", "sa", "uk"]);
    // Canada: Nango's template would build accounts.zoho.ca.
    let ca: Vec<String> = crm
        .differences
        .iter()
        .filter(|d| d.data_center == "ca")
        .map(|d| format!("{:?} {} {}", d.role, d.ours, d.nango))
        .collect();
    assert_eq!(ca, ["Accounts accounts.zohocloud.ca accounts.zoho.ca"]);

    // Mail in Canada: the bug of Nango issue 7295.
    let mail = product("zoho-mail").nango.as_ref().unwrap();
    assert!(mail.differences.iter().any(|d| d.data_center == "ca"
        && d.ours == "mail.zohocloud.ca"
        && d.nango == "mail.zoho.ca"
        && !d.nango_lists_data_center));

    // Desk: Nango hard-codes desk.zoho.com, so the EU API host differs.
    let desk = product("zoho-desk").nango.as_ref().unwrap();
    assert_eq!(
        desk.entry.fixed_api_host().as_deref(),
        Some("desk.zoho.com")
    );
    assert!(
        desk.differences.iter().any(|d| d.data_center == "eu"
            && d.ours == "desk.zoho.eu"
            && d.nango == "desk.zoho.com")
    );

    // Calendar and People are hard-coded to .com as well.
    for id in ["zoho-calendar", "zoho-people"] {
        let side = product(id).nango.as_ref().unwrap();
        assert!(
            side.entry.fixed_api_host().unwrap().ends_with(".zoho.com"),
            "{id}"
        );
    }
}
