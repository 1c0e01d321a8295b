#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_examples::fuzzing::console_command(data));
