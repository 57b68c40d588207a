//! The frame header (RFC 6455 §5.2) and payload masking (§5.3).
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```
//!
//! Decoding checks only what the header alone can tell (opcode, length encoding, control frame rules); the
//! engine checks what depends on the connection (mask per role, RSV bits per extension, fragmentation).

use super::WsError;

/// The longest possible frame header: 2 bytes, 8 bytes of extended length, 4 bytes of masking key.
pub const MAX_HEADER: usize = 14;

/// The largest payload of a control frame (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame opcode that RFC 6455 defines; the reserved ones fail decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    /// 0x0: a further fragment of a data message.
    Continuation,
    /// 0x1: the first frame of a text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: starts or answers the closing handshake.
    Close,
    /// 0x9: asks the peer for a Pong.
    Ping,
    /// 0xA: answers a Ping (or is an unsolicited heartbeat).
    Pong,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for a reserved one.
    pub fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Whether this is a control frame (Close, Ping, Pong), which may interleave with a fragmented message.
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }
}

/// One decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The final frame of a message.
    pub fin: bool,
    /// RSV1: with permessage-deflate, marks the first frame of a compressed message.
    pub rsv1: bool,
    /// RSV2: no extension we implement uses it.
    pub rsv2: bool,
    /// RSV3: no extension we implement uses it.
    pub rsv3: bool,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key (client-to-server frames carry one).
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub len: u64,
}

impl FrameHeader {
    /// Decodes a header from the front of `buf`: `Ok(None)` when more bytes are needed, otherwise the header
    /// and its size. Non-minimal length encodings are accepted (RFC 6455 does not ask receivers to check).
    pub fn decode(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, WsError> {
        let [b0, b1, rest @ ..] = buf else {
            return Ok(None);
        };
        let opcode = OpCode::from_bits(b0 & 0x0F).ok_or(WsError::UnknownOpcode)?;
        let fin = b0 & 0x80 != 0;
        let masked = b1 & 0x80 != 0;
        let (len, ext) = match b1 & 0x7F {
            126 => match rest {
                [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 2),
                _ => return Ok(None),
            },
            127 => match rest.get(..8) {
                Some(bytes) => {
                    let mut be = [0u8; 8];
                    be.copy_from_slice(bytes);
                    let len = u64::from_be_bytes(be);
                    if len >> 63 != 0 {
                        return Err(WsError::BadLength);
                    }
                    (len, 8)
                }
                None => return Ok(None),
            },
            n => (u64::from(n), 0),
        };
        if opcode.is_control() {
            if len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(WsError::ControlTooLong);
            }
            if !fin {
                return Err(WsError::FragmentedControl);
            }
        }
        let mut size = 2 + ext;
        let mask = if masked {
            let Some(key) = rest.get(ext..ext + 4) else {
                return Ok(None);
            };
            size += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        let header = FrameHeader {
            fin,
            rsv1: b0 & 0x40 != 0,
            rsv2: b0 & 0x20 != 0,
            rsv3: b0 & 0x10 != 0,
            opcode,
            mask,
            len,
        };
        Ok(Some((header, size)))
    }

    /// Encodes the header (shortest length form) into `out`, returning how many bytes of it were written.
    pub fn encode(&self, out: &mut [u8; MAX_HEADER]) -> usize {
        out[0] = u8::from(self.fin) << 7
            | u8::from(self.rsv1) << 6
            | u8::from(self.rsv2) << 5
            | u8::from(self.rsv3) << 4
            | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut n = match self.len {
            len @ 0..=125 => {
                out[1] = mask_bit | len as u8;
                2
            }
            len @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                4
            }
            len => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&len.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        n
    }
}

/// XORs `buf` with `key`, where `buf` starts `offset` bytes into the payload (so a payload masked in several
/// pieces gives the same result as masked whole). Masking and unmasking are the same operation.
///
/// Works 8 bytes at a time as a `u64` with the key repeated, in safe code; the compiler vectorises the loop.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let mut key = key;
    key.rotate_left(offset % 4);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
    }
    // The tail starts at a multiple of 8 bytes, so the key phase is unchanged.
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time definition from RFC 6455 §5.3.
    fn mask_reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn mask_matches_reference() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..70 {
            for offset in 0..8 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut fast = data.clone();
                let mut slow = data.clone();
                apply_mask(&mut fast, key, offset);
                mask_reference(&mut slow, key, offset);
                assert_eq!(fast, slow, "len {len} offset {offset}");
                apply_mask(&mut fast, key, offset);
                assert_eq!(fast, data);
            }
        }
    }

    #[test]
    fn mask_in_pieces_equals_whole() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..100u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for split in 0..data.len() {
            let mut parts = data.clone();
            let (a, b) = parts.split_at_mut(split);
            apply_mask(a, key, 0);
            apply_mask(b, key, split);
            assert_eq!(parts, whole, "split {split}");
        }
    }

    #[test]
    fn header_round_trip() {
        for len in [0u64, 1, 125, 126, 127, 0xFFFF, 0x10000, 1 << 40] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let h = FrameHeader {
                    fin: len % 2 == 0,
                    rsv1: true,
                    rsv2: false,
                    rsv3: false,
                    opcode: OpCode::Binary,
                    mask,
                    len,
                };
                let mut out = [0u8; MAX_HEADER];
                let n = h.encode(&mut out);
                assert_eq!(FrameHeader::decode(&out[..n]), Ok(Some((h, n))));
                for short in 0..n {
                    assert_eq!(
                        FrameHeader::decode(&out[..short]),
                        Ok(None),
                        "{len} {short}"
                    );
                }
            }
        }
    }

    #[test]
    fn header_errors() {
        assert_eq!(FrameHeader::decode(&[0x83, 0]), Err(WsError::UnknownOpcode));
        assert_eq!(FrameHeader::decode(&[0x8B, 0]), Err(WsError::UnknownOpcode));
        assert_eq!(
            FrameHeader::decode(&[0x89, 126, 0, 126]),
            Err(WsError::ControlTooLong)
        );
        assert_eq!(
            FrameHeader::decode(&[0x09, 0]),
            Err(WsError::FragmentedControl)
        );
        let mut huge = vec![0x82, 127, 0x80];
        huge.extend_from_slice(&[0; 7]);
        assert_eq!(FrameHeader::decode(&huge), Err(WsError::BadLength));
        // Non-minimal encodings are accepted.
        let (h, n) = FrameHeader::decode(&[0x82, 126, 0, 5]).unwrap().unwrap();
        assert_eq!((h.len, n), (5, 4));
        let (h, n) = FrameHeader::decode(&[0x82, 127, 0, 0, 0, 0, 0, 0, 0, 5])
            .unwrap()
            .unwrap();
        assert_eq!((h.len, n), (5, 10));
    }
}
