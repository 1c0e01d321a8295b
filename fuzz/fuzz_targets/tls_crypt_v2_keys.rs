#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_crypto::fuzzing::tls_crypt_v2_keys(data));
