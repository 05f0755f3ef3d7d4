//! The comparison with Nango's catalog, on a small made-up catalog written here (so it runs
//! without Nango's file): alias merging, extension mapping, host differences and the table.

use std::fs;
use std::path::PathBuf;

use provider_forge::catalog;
use provider_forge::nango::{self, HostRole, NangoCatalog};
use provider_forge::validate;

use crate::support::ZOHO_FAMILY;

/// An invented catalog in Nango's shape: a base entry, aliases of it, one entry with a
/// hard-coded API host and one that stands alone.
const CATALOG: &str = r#"
base:
  authorization_url: https://accounts.zoho.${connectionConfig.extension}/oauth/v2/auth || https://accounts.zoho.com/oauth/v2/auth
  token_url: https://accounts.zoho.${connectionConfig.extension}/oauth/v2/token
  proxy:
    base_url: https://www.zohoapis.${connectionConfig.extension} || ${connectionConfig.api_domain}
  connection_config:
    extension:
      enum: [com, eu, com.au]
zoho-crm:
  alias: base
zoho-desk:
  alias: base
  proxy:
    base_url: https://desk.zoho.com/api
zoho-mail:
  token_url: ${connectionConfig.accounts-server}/oauth/v2/token
  connection_config:
    extension:
      enum: [com]
"#;

fn comparison() -> Vec<nango::ProductComparison> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("providers");
    let catalog = catalog::load(std::slice::from_ref(&root)).unwrap();
    assert!(catalog.is_valid());
    let set_path = root.join("data-centers/zoho.yaml");
    let set = validate::check_data_center_set(&set_path, &fs::read_to_string(&set_path).unwrap())
        .unwrap()
        .content;
    let nango = NangoCatalog::parse(CATALOG).unwrap();
    nango::compare(&catalog.providers, &set, "dc", &nango)
}

#[test]
fn an_alias_takes_the_base_fields_it_does_not_set() {
    let nango = NangoCatalog::parse(CATALOG).unwrap();
    let desk = nango.entry("zoho-desk").unwrap();
    assert_eq!(desk.alias.as_deref(), Some("base"));
    assert_eq!(
        desk.token_url.as_deref(),
        Some("https://accounts.zoho.${connectionConfig.extension}/oauth/v2/token")
    );
    assert_eq!(
        desk.api_base_url.as_deref(),
        Some("https://desk.zoho.com/api")
    );
    assert_eq!(desk.extensions, ["com", "eu", "com.au"]);
    assert_eq!(desk.fixed_api_host().as_deref(), Some("desk.zoho.com"));
    assert!(nango.entry("zoho-books").is_none());
}

#[test]
fn the_family_is_every_provider_on_the_set_in_id_order() {
    let ids: Vec<String> = comparison().into_iter().map(|p| p.id).collect();
    assert_eq!(ids, ZOHO_FAMILY);
}

#[test]
fn data_centers_and_hosts_are_compared_through_the_extension() {
    let products = comparison();
    let product = |id: &str| products.iter().find(|p| p.id == id).unwrap();

    let crm = product("zoho-crm").nango.as_ref().unwrap();
    assert_eq!(crm.data_centers, ["us", "eu", "au"]);
    assert_eq!(crm.only_ours, ["in", "cn", "jp", "ca", "sa", "uk"]);
    assert!(crm.only_nango.is_empty());
    // Only Canada differs: the accounts host (authorization and token agree, so reported once).
    assert_eq!(crm.differences.len(), 1);
    let ca = &crm.differences[0];
    assert_eq!(
        (
            ca.data_center.as_str(),
            ca.role,
            ca.ours.as_str(),
            ca.nango.as_str()
        ),
        (
            "ca",
            HostRole::Accounts,
            "accounts.zohocloud.ca",
            "accounts.zoho.ca"
        )
    );
    assert!(!ca.nango_lists_data_center);

    let desk = product("zoho-desk").nango.as_ref().unwrap();
    assert_eq!(desk.only_nango, ["au"]);
    assert_eq!(desk.differences.len(), 1);
    let eu = &desk.differences[0];
    assert_eq!(
        (
            eu.data_center.as_str(),
            eu.role,
            eu.ours.as_str(),
            eu.nango.as_str()
        ),
        ("eu", HostRole::Api, "desk.zoho.eu", "desk.zoho.com")
    );
    assert!(eu.nango_lists_data_center);

    // Templates that need more than the extension are not compared.
    let mail = product("zoho-mail").nango.as_ref().unwrap();
    assert_eq!(mail.data_centers, ["us"]);
    assert!(mail.differences.is_empty());

    assert!(product("zoho-books").nango.is_none());
}

#[test]
fn the_table_has_one_row_per_product_and_marks_unlisted_data_centers() {
    let products = comparison();
    let table = nango::markdown_table(&products);
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| Zoho")).collect();
    assert_eq!(rows.len(), 12);
    assert!(rows.contains(
        &"| Zoho Desk (`zoho-desk`) | us, eu | `zoho-desk` (alias of `base`) | us, eu, au | — | au | \
eu API: `desk.zoho.eu` / `desk.zoho.com`; Nango's API host is `desk.zoho.com` for every DC |"
    ));
    assert!(rows.contains(
        &"| Zoho Books (`zoho-books`) | us, eu, in, au, cn, jp, ca, sa | none | — | — | — | — |"
    ));
    assert!(table.contains("ca* accounts: `accounts.zohocloud.ca` / `accounts.zoho.ca`"));
}
