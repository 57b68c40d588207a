//! Fuzz `lws_proto::cgi::parse_head`: any bytes as the start of a CGI script's output, with small limits
//! taken from the first two bytes. A complete head stays within its limits, never claims bytes it was not
//! given, and parses the same with more bytes behind it; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lws_proto::cgi::fuzz_check(data));
