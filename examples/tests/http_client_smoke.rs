//! Runs the HTTP client examples against an lws server started in this process on `127.0.0.1:0`: each
//! example must exit 0 (unless the case says otherwise) and print what a user would look for.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use lws::{
    Context, HttpCtx, Mount, Protocol, ProtocolHandle, Pvo, Response, ShutdownHandle, Vhost,
};

/// Longest an example may run.
const RUN_LIMIT: Duration = Duration::from_secs(30);

const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server"
);

/// Answers `<method> <path>` and the number of body bytes, with the client's port in `x-peer-port`.
struct Echo;

impl Protocol for Echo {
    type Session = usize;

    fn http(&self, _n: &mut usize, _cx: &mut HttpCtx<'_>) {
        // Unanswered here: the body (if any) comes first.
    }

    fn http_body(&self, n: &mut usize, _cx: &mut HttpCtx<'_>, chunk: &[u8]) {
        *n += chunk.len();
    }

    fn http_body_completion(&self, n: &mut usize, cx: &mut HttpCtx<'_>) {
        let req = cx.request();
        let port = req.peer_addr().map_or(0, |a| a.port());
        let text = format!("{} {} {n}\n", req.method(), req.path());
        cx.respond(Response::text(200, text).header("x-peer-port", port.to_string()));
    }
}

/// A server with the minimal-http-server site at `/`, an echo at `/echo` and the post demo at `/formtest`.
struct Server {
    base: String,
    handle: ShutdownHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// Answers with [`BIG`] bytes.
struct Big;

/// Size of `/big`: several stream windows.
const BIG: usize = 3 * 1024 * 1024;

impl Protocol for Big {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        cx.respond(Response::text(200, vec![b'x'; BIG]));
    }
}

fn server() -> Server {
    let vhost = Vhost::new("localhost")
        .listen("127.0.0.1:0".parse().expect("address"))
        .protocol(ProtocolHandle::new("echo", Echo))
        .protocol(ProtocolHandle::new("big", Big))
        .mount(Mount::callback("/big", "big"))
        .protocol(ProtocolHandle::new(
            "protocol-post-demo",
            lws_plugins::PostDemo::from_pvo(&Pvo::default()).expect("post demo"),
        ))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::callback("/echo", "echo"))
        .mount(Mount::callback("/formtest", "protocol-post-demo"));
    let ctx = Context::builder()
        .vhost(vhost)
        .build()
        .expect("server builds");
    let base = format!("http://{}", ctx.local_addrs()[0]);
    let (handle, _join) = ctx.spawn();
    Server { base, handle }
}

/// Runs an example to completion (bounded) without blocking the server's runtime.
async fn run(bin: &'static str, args: Vec<String>) -> Output {
    let child = Command::new(bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let id = child.id();
    let waited = tokio::time::timeout(
        RUN_LIMIT,
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await;
    match waited {
        Ok(done) => done.expect("wait task").expect("wait for the example"),
        Err(_) => {
            // Our own child, by its id.
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("{bin} {args:?} still running after {RUN_LIMIT:?}");
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_http_client_fetches_a_page() {
    let s = server();
    let out = run(
        env!("CARGO_BIN_EXE_minimal-http-client"),
        vec![format!("{}/", s.base), "--h1".into()],
    )
    .await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("HTTP/1.1 200"), "{stderr}");
    assert!(stderr.contains("content-type: text/html"), "{stderr}");
    assert!(stdout.contains("lws-rs minimal-http-server"), "{stdout}");

    let out = run(
        env!("CARGO_BIN_EXE_minimal-http-client"),
        vec!["http://127.0.0.1:1/".into(), "--timeout".into(), "5".into()],
    )
    .await;
    assert!(!out.status.success(), "nothing listens on port 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_http_client_multi_both_modes() {
    let s = server();
    let url = format!("{}/echo/multi", s.base);
    for mode in [vec![], vec!["-p".to_string()]] {
        for post in [false, true] {
            for proto in ["--h1", "--h2c"] {
                let mut args = vec![url.clone(), "-n".into(), "6".into(), proto.into()];
                args.extend(mode.iter().cloned());
                if post {
                    args.push("--post".into());
                }
                let out = run(env!("CARGO_BIN_EXE_minimal-http-client-multi"), args).await;
                let stdout = text(&out.stdout);
                assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
                assert!(stdout.contains("6/6 requests succeeded"), "{stdout}");
                let version = if proto == "--h2c" {
                    "(HTTP/2)"
                } else {
                    "(HTTP/1.1)"
                };
                assert!(stdout.contains(version), "{stdout}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_http_client_h2c_and_rxflow() {
    let s = server();
    let out = run(
        env!("CARGO_BIN_EXE_minimal-http-client"),
        vec![format!("{}/", s.base), "--h2c".into()],
    )
    .await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("HTTP/2 200"), "{stderr}");

    let out = run(
        env!("CARGO_BIN_EXE_minimal-http-client-h2-rxflow"),
        vec![
            format!("{}/big", s.base),
            "--h2c".into(),
            "--delay-ms".into(),
            "0".into(),
        ],
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("HTTP/2 200"), "{stdout}");
    assert!(stdout.contains(&format!("done: {BIG} bytes")), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_http_client_post_uploads_a_file() {
    let s = server();
    let out = run(
        env!("CARGO_BIN_EXE_minimal-http-client-post"),
        vec![format!("{}/formtest", s.base)],
    )
    .await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("status 200"), "{stderr}");
    assert!(
        stdout.contains("<td>hello from minimal-http-client-post</td>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("<code>generated.txt</code>: 790 bytes"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_http_client_hugeurl_shows_the_refusal() {
    let s = server();
    let bin = env!("CARGO_BIN_EXE_minimal-http-client-hugeurl");
    let out = run(
        bin,
        vec![format!("{}/echo", s.base), "--size".into(), "2048".into()],
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("status 200"),
        "a 2 KiB URL is served: {stdout}"
    );
    let out = run(
        bin,
        vec![format!("{}/echo", s.base), "--size".into(), "9000".into()],
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("status 414") || stdout.contains("status 431"),
        "a 9 KiB URL is refused: {stdout}"
    );
}
