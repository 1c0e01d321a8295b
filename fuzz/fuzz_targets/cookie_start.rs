#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_session::fuzzing::cookie_start(data));
