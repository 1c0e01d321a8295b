//! Fuzz-target bodies, compiled always so that the crate's own tests run them too.
//!
//! **Not a stable API**: used by `fuzz/fuzz_targets/*.rs` and the tests. The functions panic
//! (assert) when they find a bug; that is their purpose.

use crate::{
    CompressionFraming, ControlProtection, DataPacketMut, Decoded, Framed, OccMessage, Packet,
    TcpFrameDecoder, WireError, parse_tcp_frame, peek,
};

/// Every control layout the wire-packet target tries.
const PROTECTIONS: [ControlProtection; 6] = [
    ControlProtection::None,
    ControlProtection::TlsAuth { hmac_len: 16 },
    ControlProtection::TlsAuth { hmac_len: 20 },
    ControlProtection::TlsAuth { hmac_len: 32 },
    ControlProtection::TlsAuth { hmac_len: 64 },
    ControlProtection::TlsCrypt,
];

/// Parses `data` as a packet under every control layout; whenever that succeeds, writes it back
/// and asserts the bytes are identical (and that a one-byte-short buffer is refused). Also runs
/// the data-packet, OCC and compression-framing parsers on it.
pub fn wire_packet(data: &[u8]) {
    let peeked = peek(data);
    for protection in PROTECTIONS {
        let Ok(packet) = Packet::parse(data, protection) else {
            continue;
        };
        assert_eq!(peeked.map(|(op, _)| op), Ok(packet.opcode()));
        assert_eq!(peeked.map(|(_, kid)| kid), Ok(packet.key_id()));
        assert_rewrites(data, packet.encoded_len(), |out| packet.write(out));
        match packet {
            Packet::TlsAuth(auth) => {
                if let Ok(control) = auth.control() {
                    assert_rewrites(data, auth.encoded_len(), |out| {
                        control.write_tls_auth(auth.hmac, auth.replay_id, auth.time, out)
                    });
                }
            }
            Packet::Control(control) => {
                assert_eq!(
                    control.remote_session_id.is_some(),
                    !control.acks.is_empty()
                );
                assert_eq!(
                    control.message_id.is_some(),
                    control.opcode.has_message_id()
                );
            }
            Packet::TlsCrypt(crypt) => {
                assert_eq!(crypt.wkc.is_some(), crypt.opcode.carries_wkc());
            }
            Packet::Data(_) => {}
        }
    }

    let mut copy = data.to_vec();
    if let Ok(packet) = DataPacketMut::parse(&mut copy) {
        assert_eq!(packet.header_bytes.len() + packet.payload.len(), data.len());
        assert_eq!(
            packet.header_bytes,
            data.get(..packet.header.encoded_len()).unwrap_or_default()
        );
    }

    if let Ok(message) = OccMessage::parse(data) {
        let mut out = vec![0u8; message.encoded_len()];
        let n = message
            .write(&mut out)
            .expect("OCC write into exact buffer");
        assert_eq!(
            OccMessage::parse(out.get(..n).unwrap_or_default()),
            Ok(message)
        );
    }

    for framing in CompressionFraming::ALL {
        // frame then unframe is the identity
        let mut buf = data.to_vec();
        buf.resize(data.len() + framing.max_overhead(), 0);
        let framed = framing
            .frame(&mut buf, data.len())
            .expect("frame with room");
        let packet = framing
            .unframe(buf.get_mut(..framed).unwrap_or_default())
            .expect("unframe what was framed");
        assert_eq!(buf.get(packet), Some(data));

        // unframe arbitrary bytes: never panics; what comes out frames and unframes back
        let mut buf = data.to_vec();
        if let Ok(range) = framing.unframe(&mut buf) {
            let inner = buf.get(range).unwrap_or_default().to_vec();
            let mut again = inner.clone();
            again.resize(inner.len() + framing.max_overhead(), 0);
            let n = framing
                .frame(&mut again, inner.len())
                .expect("frame with room");
            let back = framing.unframe(again.get_mut(..n).unwrap_or_default());
            assert_eq!(back.ok().and_then(|r| again.get(r)), Some(&inner[..]));
        }
    }
}

/// Writes with `write` into an exact buffer and asserts the bytes equal `expected`; also asserts
/// that a buffer one byte short is refused with `BufferTooSmall` and left untouched.
fn assert_rewrites(
    expected: &[u8],
    len: usize,
    write: impl Fn(&mut [u8]) -> Result<usize, WireError>,
) {
    assert_eq!(len, expected.len(), "encoded_len");
    let mut out = vec![0u8; len];
    let n = write(&mut out).expect("write what was parsed");
    assert_eq!(out.get(..n), Some(expected), "rewrite differs");
    if let Some(short) = len.checked_sub(1) {
        let mut out = vec![0xEEu8; short];
        assert!(matches!(
            write(&mut out),
            Err(WireError::BufferTooSmall { .. })
        ));
        assert!(
            out.iter().all(|&b| b == 0xEE),
            "failed write touched the buffer"
        );
    }
}

/// Decodes a TCP byte stream cut at input-chosen points and asserts that every cut gives the
/// same packets (and the same error, if the stream is broken) as the pure [`parse_tcp_frame`]
/// over the whole stream.
///
/// Input: byte 0 picks the frame-size limit, bytes 1..4 seed the cut points, the rest is the
/// stream.
pub fn tcp_framing(data: &[u8]) {
    let (config, stream) = data.split_at(data.len().min(4));
    let mut config = config.iter().copied();
    let max = match config.next().unwrap_or(0) % 4 {
        0 => crate::DEFAULT_MAX_FRAME_LEN,
        1 => 1,
        2 => 64,
        _ => crate::TCP_MAX_FRAME_LEN,
    };
    let seed: Vec<u8> = config.collect();

    // Reference: the pure function over the whole stream.
    let mut expected = Vec::new();
    let mut rest = stream;
    let expected_end = loop {
        match parse_tcp_frame(rest, max) {
            Ok(Framed::Complete { frame, consumed }) => {
                expected.push(rest.get(frame).expect("frame in bounds").to_vec());
                rest = rest.get(consumed..).expect("consumed in bounds");
            }
            Ok(Framed::Partial { needed }) => {
                assert!(needed > 0);
                break Ok(rest.len());
            }
            Err(e) => break Err(e),
        }
    };

    // Cut strategies: whole, every byte, and chunk sizes cycling through the seed bytes.
    let whole = [stream.len().max(1)];
    let single = [1usize];
    let seeded: Vec<usize> = seed.iter().map(|&b| usize::from(b % 7) + 1).collect();
    let strategies: [&[usize]; 3] = [&whole, &single, &seeded];
    for sizes in strategies.into_iter().filter(|s| !s.is_empty()) {
        let mut decoder = TcpFrameDecoder::with_max_frame_len(max);
        let mut got = Vec::new();
        let mut error = None;
        let mut rest = stream;
        let mut i = 0;
        'stream: while !rest.is_empty() {
            let size = sizes.get(i % sizes.len()).copied().unwrap_or(1);
            i += 1;
            let (mut chunk, after) = rest.split_at(size.min(rest.len()));
            rest = after;
            loop {
                match decoder.decode(chunk) {
                    Ok(Decoded::Frame { frame, consumed }) => {
                        got.push(frame.to_vec());
                        chunk = chunk.get(consumed..).expect("consumed in bounds");
                        if chunk.is_empty() {
                            break;
                        }
                    }
                    Ok(Decoded::NeedMore) => break,
                    Err(e) => {
                        error = Some(e);
                        break 'stream;
                    }
                }
            }
        }
        assert_eq!(got, expected, "frames differ for cut sizes {sizes:?}");
        match expected_end {
            Ok(leftover) => {
                assert_eq!(error, None);
                assert_eq!(decoder.buffered(), leftover);
            }
            Err(e) => {
                assert_eq!(error, Some(e));
                // sticky
                assert_eq!(decoder.decode(&[0, 1, 0]), Err(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_packet_runs_on_sample_inputs() {
        let inputs: [&[u8]; 8] = [
            &[],
            &[0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0],
            &[
                0x40, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5,
                6, 7, 8, 0, 0, 0, 0,
            ],
            &[0x48, 0, 0, 5, 1, 2, 3],
            &[0x30, 9],
            &[0x28, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            &[0xfa, 0x50, 0x00],
            &crate::OCC_MAGIC,
        ];
        for input in inputs {
            wire_packet(input);
        }
    }

    #[test]
    fn tcp_framing_runs_on_sample_inputs() {
        let inputs: [&[u8]; 5] = [
            &[],
            &[0, 3, 5, 7, 0, 2, 0xaa, 0xbb, 0, 1, 0xcc, 0],
            &[1, 1, 1, 1, 0, 1, 0xaa, 0, 2, 0xbb],
            &[2, 2, 2, 2, 0, 0],
            &[3, 6, 1, 2, 0, 3, 1, 2],
        ];
        for input in inputs {
            tcp_framing(input);
        }
    }
}
