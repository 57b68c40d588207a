//! TLS for tests: the repository's test certificates, and a client that trusts exactly those.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

pub(crate) fn cert_path(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/certs")).join(name)
}

pub(crate) fn cert_der(name: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(cert_path(&format!("{name}.cert.pem"))).expect("test cert")
}

/// Trusts exactly the given self-signed certificates (they carry `CA:TRUE`, which WebPKI refuses as an end
/// entity) and checks the handshake signatures properly; the tests then compare which one was presented.
#[derive(Debug)]
struct Pinned {
    certs: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.certs.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

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
}

pub(crate) fn client_config() -> Arc<ClientConfig> {
    client_config_for(rustls::DEFAULT_VERSIONS)
}

/// [`client_config`] speaking only the given protocol versions.
pub(crate) fn client_config_for(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinned {
        certs: ["localhost", "a.example", "b.example"]
            .iter()
            .map(|n| cert_der(n))
            .collect(),
        provider: provider.clone(),
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A TLS connection to `addr` naming `sni`, trusting the repository's test certificates, wrapped in the
/// tests' HTTP/1 client; the handshake is bounded like every other step.
pub(crate) async fn connect(
    addr: std::net::SocketAddr,
    sni: &str,
) -> super::Client<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    connect_with(addr, sni, client_config()).await
}

/// [`connect`] with a client configuration of the test's own.
pub(crate) async fn connect_with(
    addr: std::net::SocketAddr,
    sni: &str,
    config: Arc<ClientConfig>,
) -> super::Client<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from(sni.to_string()).expect("server name");
    let tls = tokio::time::timeout(
        super::IO_TIMEOUT,
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .expect("handshake timed out")
    .expect("handshake failed");
    super::Client::new(tls)
}
