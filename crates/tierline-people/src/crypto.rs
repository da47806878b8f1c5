//! AES-256-GCM through OpenSSL: people's free text sealed under their key, and their
//! keys wrapped under the master key.
//!
//! A text's nonce is derived from the key and the text (HMAC-SHA256, first 12 bytes), so
//! sealing is deterministic: the same request sealed again gives the same event (an
//! `Idempotency-Key` retry stays a duplicate, not a conflict), and a nonce repeats only
//! for the same text. The person's id is authenticated with it. Keys are wrapped with a
//! random nonce.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rand::rand_bytes;
use openssl::sign::Signer;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use tierline_events::Sealed;

use crate::PeopleError;

const NONCE: usize = 12;
const TAG: usize = 16;

/// A 256-bit key: a person's, or the master key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(pub(crate) [u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl Key {
    /// A fresh random key.
    pub fn random() -> Result<Key, PeopleError> {
        let mut k = [0u8; 32];
        rand_bytes(&mut k)?;
        Ok(Key(k))
    }

    /// From 32 raw bytes, 64 hex digits or base64 of 32 bytes (surrounding whitespace
    /// ignored).
    pub fn parse(bytes: &[u8]) -> Result<Key, PeopleError> {
        if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
            return Ok(Key(raw));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| PeopleError::BadMasterKey)?
            .trim();
        let decoded = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| PeopleError::BadMasterKey)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| PeopleError::BadMasterKey)?
        };
        <[u8; 32]>::try_from(decoded.as_slice())
            .map(Key)
            .map_err(|_| PeopleError::BadMasterKey)
    }
}

fn hmac_nonce(key: &Key, text: &[u8]) -> Result<[u8; NONCE], PeopleError> {
    let pkey = PKey::hmac(&key.0)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &pkey)?;
    signer.update(text)?;
    let mac = signer.sign_to_vec()?;
    let mut nonce = [0u8; NONCE];
    nonce.copy_from_slice(&mac[..NONCE]);
    Ok(nonce)
}

fn encrypt(
    key: &Key,
    nonce: &[u8; NONCE],
    aad: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, PeopleError> {
    let mut tag = [0u8; TAG];
    let ct = encrypt_aead(
        Cipher::aes_256_gcm(),
        &key.0,
        Some(nonce),
        aad,
        plain,
        &mut tag,
    )?;
    let mut out = Vec::with_capacity(NONCE + ct.len() + TAG);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ct);
    out.extend_from_slice(&tag);
    Ok(out)
}

fn decrypt(key: &Key, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE + TAG {
        return None;
    }
    let (nonce, rest) = sealed.split_at(NONCE);
    let (ct, tag) = rest.split_at(rest.len() - TAG);
    decrypt_aead(Cipher::aes_256_gcm(), &key.0, Some(nonce), aad, ct, tag).ok()
}

/// `text` sealed under `person`'s `key` (see [`tierline_events::Sealed`]).
pub fn seal(key: &Key, person: &str, text: &str) -> Result<String, PeopleError> {
    let nonce = hmac_nonce(key, text.as_bytes())?;
    let sealed = encrypt(key, &nonce, person.as_bytes(), text.as_bytes())?;
    Ok(Sealed::format(person, &URL_SAFE_NO_PAD.encode(sealed)))
}

/// The text of `sealed` under `key`; `None` if the key does not open it (another key,
/// or tampered).
pub fn open(key: &Key, sealed: &Sealed<'_>) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed.payload).ok()?;
    let plain = decrypt(key, sealed.person.as_bytes(), &bytes)?;
    String::from_utf8(plain).ok()
}

fn wrap_aad(person: &str) -> Vec<u8> {
    [b"tierline person key:".as_slice(), person.as_bytes()].concat()
}

/// `key` wrapped under `master` for `person`.
pub(crate) fn wrap(master: &Key, person: &str, key: &Key) -> Result<Vec<u8>, PeopleError> {
    let mut nonce = [0u8; NONCE];
    rand_bytes(&mut nonce)?;
    encrypt(master, &nonce, &wrap_aad(person), &key.0)
}

/// The key `wrap` wrapped.
pub(crate) fn unwrap(master: &Key, person: &str, wrapped: &[u8]) -> Result<Key, PeopleError> {
    let plain = decrypt(master, &wrap_aad(person), wrapped).ok_or(PeopleError::WrongMasterKey)?;
    <[u8; 32]>::try_from(plain.as_slice())
        .map(Key)
        .map_err(|_| PeopleError::WrongMasterKey)
}
