//! Environment-variable names derived from provider ids and data-center codes.
//!
//! The dotenv output (`render --format env`) and the per-DC client secrets that `connect` reads
//! (`PROVIDER_FORGE_CLIENT_SECRET_EU`) spell names the same way, so a maintainer moving between
//! them never has to guess how `zoho-crm` or `com.au` became a variable name.

/// Upper case, with anything but ASCII letters and digits turned into `_`
/// (`zoho-crm` → `ZOHO_CRM`).
pub fn env_var_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_upper_snake_case() {
        assert_eq!(env_var_name("zoho-crm_eu"), "ZOHO_CRM_EU");
        assert_eq!(env_var_name("com.au"), "COM_AU");
    }
}
