#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_session::fuzzing::server_stream(data));
