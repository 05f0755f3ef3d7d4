//! Whether a host name is a valid DNS name: the one label rule that the URL rules, the plain-URL
//! fast path and the connection values' host check all share.

/// Checks a host name against RFC 1035/1123 label rules.
///
/// Labels are found by byte offsets rather than `str::split`, whose searcher costs more to
/// set up than a host costs to scan, and this runs for every URL of every data center.
pub(crate) fn check_dns_name(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err("longer than 253 characters".into());
    }
    let mut start = 0;
    for end in (0..name.len())
        .filter(|&at| name.as_bytes()[at] == b'.')
        .chain([name.len()])
    {
        let label = &name[start..end];
        start = end + 1;
        let bytes = label.as_bytes();
        if bytes.is_empty() {
            return Err(
                "it has an empty label (two dots in a row, or a leading or trailing dot)".into(),
            );
        }
        if bytes.len() > 63 {
            return Err(format!("label `{label}` is longer than 63 characters"));
        }
        if !bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "label `{label}` has characters other than letters, digits and `-`"
            ));
        }
        if bytes[0] == b'-' || bytes[bytes.len() - 1] == b'-' {
            return Err(format!("label `{label}` starts or ends with `-`"));
        }
    }
    Ok(())
}
