//! Parsing and writing costs of the hot packet shapes: a `P_DATA_V2` header (per data packet),
//! a `P_CONTROL_V1` with acks, and the TCP deframer.
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ovpn_wire::{
    AckList, ControlPacket, DataHeader, DataPacketMut, Decoded, KeyId, Opcode, PeerId, SessionId,
    TcpFrameDecoder, write_tcp_frame,
};

fn data_header(c: &mut Criterion) {
    let mut group = c.benchmark_group("data_v2");
    for size in [64usize, 576, 1400, 1500] {
        let mut datagram = vec![0u8; size];
        let header = DataHeader::V2 {
            key_id: KeyId::new(1).unwrap(),
            peer_id: PeerId::new(7).unwrap(),
        };
        header.write(&mut datagram).unwrap();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("parse_mut/{size}"), |b| {
            b.iter(|| {
                let packet = DataPacketMut::parse(black_box(&mut datagram[..])).unwrap();
                black_box((packet.header.peer_id(), packet.payload.len()))
            })
        });
    }
    let mut out = [0u8; 4];
    let header = DataHeader::V2 {
        key_id: KeyId::new(1).unwrap(),
        peer_id: PeerId::new(7).unwrap(),
    };
    group.throughput(Throughput::Bytes(DataHeader::V2_LEN as u64));
    group.bench_function("write_header", |b| {
        b.iter(|| black_box(black_box(header).write(&mut out).unwrap()))
    });
    group.finish();
}

fn control_with_acks(c: &mut Criterion) {
    let payload = [0x16u8; 1000];
    let packet = ControlPacket::new(
        Opcode::ControlV1,
        KeyId::ZERO,
        SessionId([1, 2, 3, 4, 5, 6, 7, 8]),
        9,
        &payload,
    )
    .with_acks(
        AckList::from_slice(&[5, 6, 7, 8]).unwrap(),
        SessionId([0xa1; 8]),
    );
    let mut wire = vec![0u8; packet.encoded_len()];
    packet.write(&mut wire).unwrap();

    let mut group = c.benchmark_group("control_v1_4_acks");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| black_box(ControlPacket::parse(black_box(&wire)).unwrap()))
    });
    let mut out = vec![0u8; 1500];
    group.bench_function("write", |b| {
        b.iter(|| black_box(black_box(&packet).write(&mut out).unwrap()))
    });
    group.finish();
}

fn tcp_deframe(c: &mut Criterion) {
    // 16 packets of 1400 bytes in one stream, fed in 1000-byte reads (most frames span reads)
    let packet = [0x48u8; 1400];
    let mut stream = Vec::new();
    for _ in 0..16 {
        let mut frame = [0u8; 1402];
        let n = write_tcp_frame(&packet, &mut frame).unwrap();
        stream.extend_from_slice(&frame[..n]);
    }
    let mut group = c.benchmark_group("tcp_deframe");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    let mut decoder = TcpFrameDecoder::new();
    group.bench_function("16x1400_in_1000_byte_reads", |b| {
        b.iter(|| {
            let mut frames = 0usize;
            for read in stream.chunks(1000) {
                let mut input = read;
                while let Decoded::Frame { frame, consumed } = decoder.decode(input).unwrap() {
                    frames += frame.len();
                    input = &input[consumed..];
                }
            }
            black_box(frames)
        })
    });
    group.finish();
}

criterion_group!(benches, data_header, control_with_acks, tcp_deframe);
criterion_main!(benches);
