//! Fuzz target: see `trek_core::fuzzing::check_file_name` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trek_core::fuzzing::check_file_name(data));
