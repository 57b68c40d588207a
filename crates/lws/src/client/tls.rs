//! TLS for `wss://`: which server certificates the client trusts, and the handshake.
//!
//! Trust is decided by [`Trust`]: the operating system's roots (loaded once per process through
//! `rustls-native-certs`), or only the certificates of a PEM file given with
//! [`super::WsClientBuilder::ca_file`], or — for tests only — anything.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::error::ClientError;

/// Which server certificates a client accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) enum Trust {
    /// Chains to one of the operating system's roots, for the URL's host.
    #[default]
    System,
    /// Chains to one of the certificates in this PEM file (and not to the system's roots), or is itself one
    /// of them, for the URL's host.
    CaFile(PathBuf),
    /// Anything: see [`super::WsClientBuilder::allow_self_signed_for_tests`].
    AnyForTests,
}

/// Runs the TLS handshake with `host` over `tcp`, offering ALPN `h2, http/1.1` when `offer_h2`, else
/// `http/1.1` only.
pub(crate) async fn handshake(
    tcp: TcpStream,
    host: &str,
    trust: &Trust,
    offer_h2: bool,
) -> Result<TlsStream<TcpStream>, ClientError> {
    let config = client_config(trust, offer_h2)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| ClientError::Tls(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(ClientError::Tls)
}

/// The rustls configuration for `trust`, offering ALPN `h2, http/1.1` or `http/1.1`.
fn client_config(trust: &Trust, offer_h2: bool) -> Result<Arc<ClientConfig>, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        Trust::System => {
            let roots = system_roots();
            if roots.is_empty() {
                return Err(ClientError::NoRootCertificates);
            }
            Arc::new(TrustedCerts::new(
                roots.clone(),
                Vec::new(),
                provider.clone(),
            )?)
        }
        Trust::CaFile(path) => {
            let certs = load_pem(path)?;
            let mut roots = RootCertStore::empty();
            // Certificates that cannot serve as trust anchors can still be pinned as end entities.
            let _ = roots.add_parsable_certificates(certs.iter().cloned());
            Arc::new(TrustedCerts::new(Arc::new(roots), certs, provider.clone())?)
        }
        Trust::AnyForTests => Arc::new(DangerousAcceptAnyServerCertForTests {
            provider: provider.clone(),
        }),
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(std::io::Error::other(e)))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = if offer_h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Arc::new(config))
}

/// The operating system's roots, loaded on first use; empty when none could be read.
fn system_roots() -> &'static Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::debug!("websocket client: loading system roots: {e}");
        }
        let mut roots = RootCertStore::empty();
        let _ = roots.add_parsable_certificates(found.certs);
        Arc::new(roots)
    })
}

/// The certificates of a PEM file; a file without any is an error rather than a trust store that accepts
/// no server.
fn load_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let fail = |error: std::io::Error| ClientError::CaFile {
        path: path.to_path_buf(),
        error,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(pem_io(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(pem_io(e)))?;
    if certs.is_empty() {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "no certificate in the file",
        )));
    }
    Ok(certs)
}

/// A PEM error as the `io::Error` that [`ClientError::CaFile`] carries.
fn pem_io(e: rustls_pki_types::pem::Error) -> std::io::Error {
    match e {
        rustls_pki_types::pem::Error::Io(e) => e,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
    }
}

/// WebPKI verification against `roots`, plus exact pins: a server certificate byte-identical to one of
/// `pinned` is accepted when it names the host, even though WebPKI refuses a self-signed CA certificate as an
/// end entity (OpenSSL, and so libwebsockets, accepts a self-signed certificate found in its trust store).
struct TrustedCerts {
    /// Chain verification; `None` when no certificate can serve as a trust anchor.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// Certificates accepted as they are.
    pinned: Vec<CertificateDer<'static>>,
    /// Checks the handshake signatures.
    provider: Arc<CryptoProvider>,
}

impl TrustedCerts {
    /// A verifier for `roots` and `pinned`.
    fn new(
        roots: Arc<RootCertStore>,
        pinned: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, ClientError> {
        let webpki = if roots.is_empty() {
            None
        } else {
            let v = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| ClientError::Tls(std::io::Error::other(e)))?;
            Some(v)
        };
        Ok(TrustedCerts {
            webpki,
            pinned,
            provider,
        })
    }
}

impl fmt::Debug for TrustedCerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedCerts")
            .field("pinned", &self.pinned.len())
            .finish_non_exhaustive()
    }
}

/// The handshake-signature half of a `ServerCertVerifier`, the same for every verifier here: checked with
/// the crypto provider's algorithms (`self.provider`), whatever the verifier decides about the certificate.
macro_rules! handshake_signature_checks {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

impl ServerCertVerifier for TrustedCerts {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    handshake_signature_checks!();
}

/// The verifier of [`Trust::AnyForTests`], for the crate's own TLS tests.
#[cfg(test)]
pub(crate) fn any_cert_for_tests(provider: Arc<CryptoProvider>) -> Arc<dyn ServerCertVerifier> {
    Arc::new(DangerousAcceptAnyServerCertForTests { provider })
}

/// DANGER: accepts any server certificate — any issuer, any name, expired — so anyone on the path can
/// impersonate the server. The handshake signatures are still checked, so the peer does hold the key of the
/// certificate it showed; that proves nothing about who it is. Only reachable through
/// [`super::WsClientBuilder::allow_self_signed_for_tests`].
struct DangerousAcceptAnyServerCertForTests {
    /// Checks the handshake signatures.
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for DangerousAcceptAnyServerCertForTests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DangerousAcceptAnyServerCertForTests")
    }
}

impl ServerCertVerifier for DangerousAcceptAnyServerCertForTests {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    handshake_signature_checks!();
}
