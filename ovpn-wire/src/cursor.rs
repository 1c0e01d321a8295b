//! Bounds-checked reading and writing helpers. Nothing here can panic: every access goes through
//! `get`/`split_at_checked`, and running out of bytes is a [`WireError`].

use crate::WireError;

/// Reads big-endian fields from a packet. Errors report offsets relative to the whole packet
/// (`base` is the offset of `buf` inside it).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// A reader over `buf`, which starts at offset `base` of the packet (for error reporting).
    pub(crate) fn with_base(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Offset of the next byte, relative to the whole packet.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(WireError::Truncated {
                field,
                needed: self.base.saturating_add(self.pos).saturating_add(n),
                had: self.base + self.buf.len(),
            }),
        }
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<&'a [u8; N], WireError> {
        let bytes = self.take(N, field)?;
        bytes.try_into().map_err(|_| WireError::Truncated {
            field,
            needed: self.offset(),
            had: self.base + self.buf.len(),
        })
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(*self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(*self.array(field)?))
    }

    /// Everything not read yet.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }
}

/// Writes fields into the front of a caller buffer. [`Writer::new`] checks the total size first,
/// so a failing write leaves the buffer untouched.
pub(crate) struct Writer<'a> {
    rest: &'a mut [u8],
    written: usize,
}

impl<'a> Writer<'a> {
    /// A writer for exactly `needed` bytes at the start of `out`, or `BufferTooSmall`.
    pub(crate) fn new(out: &'a mut [u8], needed: usize) -> Result<Self, WireError> {
        let had = out.len();
        match out.get_mut(..needed) {
            Some(rest) => Ok(Writer { rest, written: 0 }),
            None => Err(WireError::BufferTooSmall { needed, had }),
        }
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        let rest = core::mem::take(&mut self.rest);
        let had = self.written + rest.len();
        match rest.split_at_mut_checked(bytes.len()) {
            Some((head, tail)) => {
                head.copy_from_slice(bytes);
                self.rest = tail;
                self.written += bytes.len();
                Ok(())
            }
            None => Err(WireError::BufferTooSmall {
                needed: self.written + bytes.len(),
                had,
            }),
        }
    }

    pub(crate) fn u8(&mut self, v: u8) -> Result<(), WireError> {
        self.put(&[v])
    }

    pub(crate) fn u16(&mut self, v: u16) -> Result<(), WireError> {
        self.put(&v.to_be_bytes())
    }

    pub(crate) fn u32(&mut self, v: u32) -> Result<(), WireError> {
        self.put(&v.to_be_bytes())
    }

    /// Bytes written so far.
    pub(crate) fn finish(self) -> usize {
        self.written
    }
}
