#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ngx_http_authotron_module::fuzzing::jwt(data));
