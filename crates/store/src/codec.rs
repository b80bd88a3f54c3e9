//! Versioned encoding of records: one version byte, then the record in postcard (a
//! compact, stable serde format). Each past version stays readable: its fixture file in
//! `tests/fixtures` is decoded by the tests.

use crate::error::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Version of the encoding written today.
pub const VERSION: u8 = 1;

/// Encode a record.
pub fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = vec![VERSION];
    // postcard only fails on writer errors, and a Vec never fails
    out.extend(postcard::to_stdvec(v).unwrap_or_default());
    out
}

/// Decode a record read from `tree` at `key`.
pub fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt {
        tree,
        key: hex(key),
        why,
    };
    match bytes.split_first() {
        Some((&1, body)) => postcard::from_bytes(body).map_err(|e| corrupt(e.to_string())),
        Some((v, _)) => Err(corrupt(format!("unknown encoding version {v}"))),
        None => Err(corrupt("empty record".into())),
    }
}

/// Lower-case hex of a key, for messages.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An enum's word as in the JSON records (kebab-case), for CSV columns and typed SQL
/// columns; empty for a value that is not a plain word.
pub fn word<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
