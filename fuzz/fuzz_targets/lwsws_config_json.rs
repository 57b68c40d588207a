//! Fuzzes the position-aware JSON reader of the lwsws configuration (JSON with `#` comments): any text must
//! give a value or a syntax error with a position inside the text, never a panic or unbounded recursion.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The reader lives in the lwsws binary crate; it depends on std only, so the target compiles it directly
// instead of pulling the whole server (tokio, rustls) into the fuzz build.
#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/lwsws/src/config/json.rs"]
mod json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = json::parse(text) {
        let lines = text.split('\n').count();
        assert!(e.pos.line >= 1 && e.pos.line <= lines + 1, "{e:?}");
    }
});
