//! `change-tcp-mss`: lowers the MSS option of TCP SYNs to what the tunnel carries, in place, so
//! that TCP through the tunnel never sends segments the tunnel must drop (RouterOS's
//! `change-tcp-mss`, OpenVPN's `mssfix`). The TCP checksum is updated incrementally (RFC 1624),
//! without allocation; anything that is not a well-formed TCP SYN is left alone.

const IPV4_HEADER_MIN: usize = 20;
const IPV6_HEADER: usize = 40;
const TCP_HEADER_MIN: usize = 20;
const PROTO_TCP: u8 = 6;
const TCP_FLAG_SYN: u8 = 0x02;
const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;

/// The largest MSS for a tunnel `mtu`: the MTU less the IP and TCP headers (without options).
pub(crate) fn max_mss(mtu: u16, ipv6: bool) -> u16 {
    let headers = if ipv6 { IPV6_HEADER } else { IPV4_HEADER_MIN } + TCP_HEADER_MIN;
    mtu.saturating_sub(headers as u16)
}

/// Clamps the MSS of an IPv4 or IPv6 TCP SYN in `packet` to what `mtu` allows. Returns whether
/// the packet changed.
pub(crate) fn clamp(packet: &mut [u8], mtu: u16) -> bool {
    let Some(&first) = packet.first() else {
        return false;
    };
    let (tcp_at, ipv6) = match first >> 4 {
        4 => {
            let ihl = usize::from(first & 0x0f) * 4;
            // The first fragment only (offset 0), TCP, a full header.
            let frag = packet
                .get(6..8)
                .map(|b| u16::from_be_bytes([b[0], b[1]]) & 0x1fff);
            if ihl < IPV4_HEADER_MIN || packet.get(9) != Some(&PROTO_TCP) || frag != Some(0) {
                return false;
            }
            (ihl, false)
        }
        // Only a TCP header right after the fixed header (no extension headers).
        6 if packet.get(6) == Some(&PROTO_TCP) => (IPV6_HEADER, true),
        _ => return false,
    };
    let Some(tcp) = packet.get_mut(tcp_at..) else {
        return false;
    };
    if tcp.len() < TCP_HEADER_MIN || tcp[13] & TCP_FLAG_SYN == 0 {
        return false;
    }
    let header_len = usize::from(tcp[12] >> 4) * 4;
    if header_len < TCP_HEADER_MIN || header_len > tcp.len() {
        return false;
    }
    let limit = max_mss(mtu, ipv6);
    let mut i = TCP_HEADER_MIN;
    while i < header_len {
        match tcp[i] {
            OPT_END => return false,
            OPT_NOP => i += 1,
            kind => {
                let Some(&len) = tcp.get(i + 1) else {
                    return false;
                };
                let len = usize::from(len);
                if len < 2 || i + len > header_len {
                    return false;
                }
                if kind == OPT_MSS && len == 4 {
                    let old = u16::from_be_bytes([tcp[i + 2], tcp[i + 3]]);
                    if old <= limit {
                        return false;
                    }
                    // The checksum is over 16-bit words from the TCP header's start: after an odd
                    // number of NOPs the field straddles two of them, and each is updated.
                    let first = (i + 2) & !1;
                    let last = (i + 4).next_multiple_of(2).min(tcp.len());
                    let mut before = [0u8; 6];
                    before[..last - first].copy_from_slice(&tcp[first..last]);
                    tcp[i + 2..i + 4].copy_from_slice(&limit.to_be_bytes());
                    let mut sum = u16::from_be_bytes([tcp[16], tcp[17]]);
                    for w in (first..last).step_by(2) {
                        let o = w - first;
                        let old = u16::from_be_bytes([before[o], *before.get(o + 1).unwrap_or(&0)]);
                        let new = u16::from_be_bytes([tcp[w], *tcp.get(w + 1).unwrap_or(&0)]);
                        sum = update_checksum(sum, old, new);
                    }
                    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
                    return true;
                }
                i += len;
            }
        }
    }
    false
}

/// RFC 1624 eqn. 3: the checksum after one 16-bit word changes from `old` to `new`.
fn update_checksum(sum: u16, old: u16, new: u16) -> u16 {
    let mut s = u32::from(!sum) + u32::from(!old) + u32::from(new);
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The ones' complement sum of `data` (RFC 1071).
    fn sum(data: &[u8]) -> u32 {
        let mut s = 0u32;
        for c in data.chunks(2) {
            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        s
    }

    /// The TCP checksum of an IPv4 packet, computed from scratch.
    fn tcp_checksum_v4(p: &[u8]) -> u16 {
        let ihl = usize::from(p[0] & 0x0f) * 4;
        let tcp = &p[ihl..];
        let mut s = sum(&p[12..20]) + u32::from(PROTO_TCP) + tcp.len() as u32;
        let mut t = tcp.to_vec();
        t[16] = 0;
        t[17] = 0;
        s += sum(&t);
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }

    /// An IPv4 TCP segment with `flags` and an MSS option of `mss` after `pad` NOPs.
    fn syn(mss: u16, flags: u8, pad: usize) -> Vec<u8> {
        let opts_len = (pad + 4).div_ceil(4) * 4;
        let tcp_len = 20 + opts_len;
        let mut p = vec![0u8; 20 + tcp_len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        p[8] = 64;
        p[9] = PROTO_TCP;
        p[12..16].copy_from_slice(&[10, 8, 0, 2]);
        p[16..20].copy_from_slice(&[192, 0, 2, 80]);
        let t = &mut p[20..];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&80u16.to_be_bytes());
        t[12] = ((tcp_len / 4) as u8) << 4;
        t[13] = flags;
        for b in &mut t[20..20 + pad] {
            *b = OPT_NOP;
        }
        t[20 + pad..24 + pad].copy_from_slice(&[OPT_MSS, 4, (mss >> 8) as u8, mss as u8]);
        let c = tcp_checksum_v4(&p);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        p
    }

    fn mss_of(p: &[u8], pad: usize) -> u16 {
        u16::from_be_bytes([p[40 + pad + 2], p[40 + pad + 3]])
    }

    #[test]
    fn a_syn_above_the_tunnel_mss_is_lowered_with_a_valid_checksum() {
        let mut p = syn(1460, TCP_FLAG_SYN, 0);
        assert!(clamp(&mut p, 1400));
        assert_eq!(mss_of(&p, 0), 1360);
        assert_eq!(u16::from_be_bytes([p[36], p[37]]), tcp_checksum_v4(&p));
        // Already low enough: unchanged.
        let mut q = syn(1200, TCP_FLAG_SYN | 0x10, 2);
        let before = q.clone();
        assert!(!clamp(&mut q, 1400));
        assert_eq!(q, before);
    }

    /// Ethernet mode clamps the SYN inside a frame, past a VLAN tag too.
    #[test]
    fn a_syn_inside_an_ethernet_frame_is_lowered() {
        let mut f = vec![0xff; 12];
        f.extend([0x81, 0x00, 0x00, 0x0a, 0x08, 0x00]);
        f.extend(syn(1460, TCP_FLAG_SYN, 0));
        let ip = crate::ether::ip_payload_mut(&mut f).unwrap();
        assert!(clamp(ip, 1400));
        assert_eq!(mss_of(&f[18..], 0), 1360);
        assert_eq!(
            u16::from_be_bytes([f[18 + 36], f[18 + 37]]),
            tcp_checksum_v4(&f[18..])
        );
    }

    #[test]
    fn only_tcp_syns_are_touched() {
        let mut ack = syn(1460, 0x10, 0);
        let before = ack.clone();
        assert!(!clamp(&mut ack, 1400), "not a SYN");
        assert_eq!(ack, before);
        let mut udp = syn(1460, TCP_FLAG_SYN, 0);
        udp[9] = 17;
        assert!(!clamp(&mut udp, 1400));
        let mut frag = syn(1460, TCP_FLAG_SYN, 0);
        frag[7] = 1;
        assert!(!clamp(&mut frag, 1400), "not the first fragment");
        assert!(!clamp(&mut [], 1400));
        assert!(!clamp(&mut [0x45; 30], 1400), "truncated");
    }

    #[test]
    fn ipv6_syns_lose_the_larger_header() {
        let v4 = syn(1460, TCP_FLAG_SYN, 0);
        let mut p = vec![0u8; 40];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&((v4.len() - 20) as u16).to_be_bytes());
        p[6] = PROTO_TCP;
        p.extend_from_slice(&v4[20..]);
        assert!(clamp(&mut p, 1400));
        assert_eq!(u16::from_be_bytes([p[62], p[63]]), 1340);
    }

    proptest! {
        /// Any bytes: no panic, and a changed packet only ever lowers the MSS.
        #[test]
        fn never_panics(mut data in proptest::collection::vec(any::<u8>(), 0..120), mtu in 0u16..2000) {
            let _ = clamp(&mut data, mtu);
        }

        /// For every MSS, pad and MTU the checksum stays valid and the MSS ends at most the limit.
        #[test]
        fn checksum_stays_valid(mss in any::<u16>(), pad in 0usize..12, mtu in 41u16..9000) {
            let mut p = syn(mss, TCP_FLAG_SYN, pad);
            let changed = clamp(&mut p, mtu);
            let got = mss_of(&p, pad);
            prop_assert_eq!(changed, mss > max_mss(mtu, false));
            prop_assert_eq!(got, mss.min(max_mss(mtu, false)));
            prop_assert_eq!(u16::from_be_bytes([p[36], p[37]]), tcp_checksum_v4(&p));
        }
    }
}
