//! Listing connections a page at a time (`GET /connections`): at most `limit` connections in
//! (provider, connection_id) order, and an opaque cursor to the page after.
//!
//! Keyset pagination: a page starts strictly after the last key of the one before, which is
//! one range scan of an index ([`Store::connections`]), never an OFFSET (which reads and
//! throws away every row before the page). A page deep into a million connections costs what
//! the first one does, and a connection created or deleted between two pages neither shifts
//! nor repeats the others.
//!
//! The cursor is that last key, sealed with the service's encryption key (the AES-256-GCM of
//! [`super::crypto`]) and bound to the listing's filters: callers cannot read or build one,
//! so its format may change, and an altered cursor, one from another listing (other filters)
//! or one sealed with a key no longer configured is refused with 400, never read as some other
//! position. Every instance sharing the encryption key reads the others' cursors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::ServiceError;
use super::crypto::{Cipher, Sealed};
use super::store::{ConnectionFilter, ConnectionKey, ConnectionRecord, Store};

/// Connections per page when the caller names no `limit`.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The largest `limit` accepted.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A request for one page.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Which connections.
    pub filter: ConnectionFilter,
    /// Connections per page, 1 to [`MAX_PAGE_SIZE`]; [`DEFAULT_PAGE_SIZE`] when `None`.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (with the same filter); the first page when `None`.
    pub cursor: Option<String>,
}

/// One page of connections.
#[derive(Debug, Clone)]
pub struct Page {
    /// The connections, in (provider, connection_id) order.
    pub items: Vec<ConnectionRecord>,
    /// Pass it back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Reads the page `request` asks for.
pub(crate) async fn page(
    store: &dyn Store,
    cipher: &Cipher,
    request: &PageRequest,
) -> Result<Page, ServiceError> {
    let limit = request.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ServiceError::BadRequest(format!(
            "limit must be 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}), not {limit}"
        )));
    }
    let after = request
        .cursor
        .as_deref()
        .map(|cursor| open_cursor(cipher, &request.filter, cursor))
        .transpose()?;
    // One more than asked tells whether a page follows, so the last page says so itself
    // rather than handing out a cursor to an empty one.
    let mut items = store
        .connections(&request.filter, after.as_ref(), limit + 1)
        .await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items
            .last()
            .map(|last| seal_cursor(cipher, &request.filter, &ConnectionKey::of(last)))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Associated data binding a cursor to its listing: a cursor opens only with the filters it
/// was made for.
fn cursor_context(filter: &ConnectionFilter) -> Vec<u8> {
    let mut context = b"cursor\0".to_vec();
    for part in [
        filter.provider.as_deref(),
        filter.status.map(|status| status.as_str()),
    ] {
        // `-` for no filter and `=` before a value: no filter and an empty one differ.
        match part {
            None => context.push(b'-'),
            Some(value) => {
                context.push(b'=');
                context.extend_from_slice(value.as_bytes());
            }
        }
        context.push(0);
    }
    context
}

/// `base64url(len(key id) || key id || nonce || ciphertext)`.
fn seal_cursor(cipher: &Cipher, filter: &ConnectionFilter, key: &ConnectionKey) -> String {
    let plaintext = serde_json::to_vec(key).expect("two strings always serialise");
    let sealed = cipher.seal(&cursor_context(filter), &plaintext);
    let key_id = sealed.key_id.as_bytes();
    let mut bytes = Vec::with_capacity(1 + key_id.len() + sealed.bytes.len());
    bytes.push(u8::try_from(key_id.len()).expect("key ids are a few hex digits"));
    bytes.extend_from_slice(key_id);
    bytes.extend_from_slice(&sealed.bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn open_cursor(
    cipher: &Cipher,
    filter: &ConnectionFilter,
    cursor: &str,
) -> Result<ConnectionKey, ServiceError> {
    let refused = || {
        ServiceError::InvalidCursor(
            "the cursor is not one this service handed out for this listing (altered, from a \
             listing with other provider or status filters, or sealed with an encryption key \
             no longer configured): pass next_cursor unchanged with the same filters, or start \
             again without a cursor"
                .to_owned(),
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| refused())?;
    let (&len, rest) = bytes.split_first().ok_or_else(refused)?;
    if rest.len() < usize::from(len) {
        return Err(refused());
    }
    let (key_id, sealed) = rest.split_at(usize::from(len));
    let sealed = Sealed {
        key_id: String::from_utf8(key_id.to_vec()).map_err(|_| refused())?,
        bytes: sealed.to_vec(),
    };
    let plaintext = cipher
        .open(&cursor_context(filter), &sealed)
        .map_err(|_| refused())?;
    serde_json::from_slice(&plaintext).map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::crypto::EncryptionKey;
    use crate::service::store::ConnectionStatus;

    fn cipher_of(byte: u8) -> Cipher {
        Cipher::new(EncryptionKey::from_bytes([byte; 32]), vec![])
    }

    fn key(provider: &str, id: &str) -> ConnectionKey {
        ConnectionKey {
            provider: provider.into(),
            connection_id: id.into(),
        }
    }

    fn by_provider(provider: &str) -> ConnectionFilter {
        ConnectionFilter {
            provider: Some(provider.into()),
            status: None,
        }
    }

    #[test]
    fn a_cursor_opens_to_its_key_and_shows_nothing_of_it() {
        let cipher = cipher_of(1);
        let filter = by_provider("zoho-crm");
        let cursor = seal_cursor(&cipher, &filter, &key("zoho-crm", "user-42"));
        assert!(
            !cursor.contains("user-42") && !cursor.contains("zoho"),
            "{cursor}"
        );
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        assert!(!bytes.windows(7).any(|w| w == b"user-42"));
        assert_eq!(
            open_cursor(&cipher, &filter, &cursor).unwrap(),
            key("zoho-crm", "user-42")
        );
        // Another instance with the same key reads it; a rotation keeps it readable.
        let rotated = Cipher::new(
            EncryptionKey::from_bytes([2; 32]),
            vec![EncryptionKey::from_bytes([1; 32])],
        );
        assert_eq!(
            open_cursor(&rotated, &filter, &cursor).unwrap(),
            key("zoho-crm", "user-42")
        );
    }

    #[test]
    fn altered_foreign_and_garbage_cursors_are_refused() {
        let cipher = cipher_of(1);
        let filter = by_provider("zoho-crm");
        let cursor = seal_cursor(&cipher, &filter, &key("zoho-crm", "user-42"));
        let refused = |text: &str, filter: &ConnectionFilter| {
            matches!(
                open_cursor(&cipher, filter, text),
                Err(ServiceError::InvalidCursor(_))
            )
        };
        // Every single-character change of the text is refused.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for at in 0..cursor.len() {
            for replacement in alphabet.chars().step_by(7) {
                let mut altered = cursor.clone();
                altered.replace_range(at..=at, &replacement.to_string());
                if altered != cursor {
                    assert!(refused(&altered, &filter), "{altered}");
                }
            }
        }
        // Cut short, lengthened, not base64, empty.
        assert!(refused(&cursor[..cursor.len() - 4], &filter));
        assert!(refused(&format!("{cursor}AAAA"), &filter));
        assert!(refused("not a cursor!", &filter));
        assert!(refused("", &filter));
        assert!(refused("AA", &filter));
        // The same cursor with other filters: another provider, a status added, none at all.
        assert!(refused(&cursor, &by_provider("gitlab")));
        assert!(refused(
            &cursor,
            &ConnectionFilter {
                provider: Some("zoho-crm".into()),
                status: Some(ConnectionStatus::Active),
            }
        ));
        assert!(refused(&cursor, &ConnectionFilter::default()));
        // A filter on the empty provider is not the absence of one.
        let unfiltered = seal_cursor(&cipher, &ConnectionFilter::default(), &key("a", "b"));
        assert!(refused(&unfiltered, &by_provider("")));
        // Another service's key.
        assert!(matches!(
            open_cursor(&cipher_of(3), &filter, &cursor),
            Err(ServiceError::InvalidCursor(_))
        ));
    }
}
