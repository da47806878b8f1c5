//! Sealing without a database: round trip, determinism, authentication, key forms.

#![allow(clippy::unwrap_used)]

use tierline_events::Sealed;
use tierline_people::{Key, open, seal};

#[test]
fn sealed_text_opens_only_with_its_key_and_person() {
    let k = Key::random().unwrap();
    let text = "Spoke with Jan Novák about lot 7 ✓";
    let s = seal(&k, "P-7", text).unwrap();
    assert!(
        s.starts_with("tierline:sealed:v1:") && s.ends_with(":P-7"),
        "{s}"
    );
    assert!(!s.contains("Novák"));
    let p = Sealed::parse(&s).unwrap();
    assert_eq!(p.person, "P-7");
    assert_eq!(open(&k, &p).as_deref(), Some(text));
    // Deterministic: the same request sealed again is the same event.
    assert_eq!(seal(&k, "P-7", text).unwrap(), s);
    assert_ne!(seal(&k, "P-7", "another text").unwrap(), s);
    // Another key, another person, a flipped byte: nothing.
    assert_eq!(open(&Key::random().unwrap(), &p), None);
    assert_eq!(
        open(
            &k,
            &Sealed {
                person: "P-8",
                payload: p.payload
            }
        ),
        None
    );
    let mut bad = p.payload.to_owned();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        open(
            &k,
            &Sealed {
                person: "P-7",
                payload: &bad
            }
        ),
        None
    );
}

#[test]
fn a_master_key_reads_as_raw_bytes_hex_or_base64() {
    let raw = [7u8; 32];
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let b64 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let k = Key::parse(&raw).unwrap();
    assert_eq!(Key::parse(format!("{hex}\n").as_bytes()).unwrap(), k);
    assert_eq!(Key::parse(b64.as_bytes()).unwrap(), k);
    assert!(Key::parse(b"too short").is_err());
    assert!(Key::parse(&[1u8; 31]).is_err());
    assert_eq!(format!("{k:?}"), "Key(<redacted>)");
}
