#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_wire::fuzzing::wire_packet(data));
