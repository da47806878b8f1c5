//! Avro binary encoding primitives (zig-zag varints, IEEE doubles, length-prefixed
//! bytes). Reading never panics: every malformed input is a [`DatumError`].

use crate::error::DatumError;

/// A cursor over an Avro datum.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The bytes read since `start` (a position).
    pub(crate) fn since(&self, start: usize) -> &'a [u8] {
        self.buf.get(start..self.pos).unwrap_or_default()
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], DatumError> {
        let end = self.pos.checked_add(n).ok_or(DatumError::Truncated)?;
        let out = self.buf.get(self.pos..end).ok_or(DatumError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    /// A zig-zag varint of at most 10 bytes.
    #[inline]
    pub(crate) fn long(&mut self) -> Result<i64, DatumError> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(DatumError::Truncated);
            };
            self.pos += 1;
            // The tenth byte may only carry the top bit of a 64-bit value.
            if shift == 63 && byte > 1 {
                return Err(DatumError::VarintOverflow);
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
    }

    #[inline]
    pub(crate) fn int(&mut self) -> Result<i32, DatumError> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| DatumError::IntOutOfRange(v))
    }

    #[inline]
    pub(crate) fn boolean(&mut self) -> Result<bool, DatumError> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(DatumError::InvalidBoolean(b)),
        }
    }

    #[inline]
    pub(crate) fn float(&mut self) -> Result<f32, DatumError> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    pub(crate) fn double(&mut self) -> Result<f64, DatumError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    #[inline]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], DatumError> {
        let len = self.long()?;
        let len = usize::try_from(len).map_err(|_| DatumError::NegativeLength(len))?;
        if len > self.remaining() {
            return Err(DatumError::Truncated);
        }
        self.take(len)
    }

    #[inline]
    pub(crate) fn str(&mut self) -> Result<&'a str, DatumError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| DatumError::InvalidUtf8)
    }

    pub(crate) fn fixed(&mut self, n: usize) -> Result<&'a [u8], DatumError> {
        self.take(n)
    }
}

/// Appends a zig-zag varint.
#[inline]
pub(crate) fn put_long(buf: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        buf.push((z as u8) | 0x80);
        z >>= 7;
    }
    buf.push(z as u8);
}

#[inline]
pub(crate) fn put_double(buf: &mut Vec<u8>, v: f64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

#[inline]
pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_long(buf, s.len() as i64);
    buf.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        for v in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ] {
            let mut buf = Vec::new();
            put_long(&mut buf, v);
            let mut c = Cursor::new(&buf);
            assert_eq!(c.long().ok(), Some(v), "value {v}");
            assert_eq!(c.remaining(), 0);
        }
    }

    #[test]
    fn overlong_varint_is_an_error() {
        let buf = [0xffu8; 11];
        assert_eq!(Cursor::new(&buf).long(), Err(DatumError::VarintOverflow));
        assert_eq!(Cursor::new(&[0x80u8]).long(), Err(DatumError::Truncated));
    }

    #[test]
    fn bytes_length_is_checked_before_reading() {
        let mut buf = Vec::new();
        put_long(&mut buf, i64::MAX);
        assert_eq!(Cursor::new(&buf).bytes(), Err(DatumError::Truncated));
        let mut buf = Vec::new();
        put_long(&mut buf, -3);
        assert_eq!(
            Cursor::new(&buf).bytes(),
            Err(DatumError::NegativeLength(-3))
        );
    }
}
