#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_examples::fuzzing::rsc_script(data));
