//! The small HTML pages sent for error statuses: no script, no inline style, no reflected input.

use super::Response;

/// The error page for `status`.
pub(crate) fn page(status: u16) -> Response {
    let reason = lws_proto::http1::reason(status);
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} {reason}</title></head>\
         <body><h1>{status} {reason}</h1><hr><p>lws-rs</p></body></html>\n"
    );
    Response::html(status, body)
}
