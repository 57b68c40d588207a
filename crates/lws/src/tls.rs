//! TLS for server ports: one rustls configuration per listening address, choosing the certificate (and so
//! the vhost) by SNI among the vhosts sharing that address.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::vhost::VhostInner;
use crate::BuildError;

/// ALPN protocol ids this build can serve.
const SUPPORTED_ALPN: &[&str] = &["h2", "http/1.1"];

/// Builds the TLS configuration for the vhosts sharing one listener; every one of them must have a
/// certificate.
pub(crate) fn server_config(vhosts: &[Arc<VhostInner>]) -> Result<Arc<ServerConfig>, BuildError> {
    let mut certs = Vec::with_capacity(vhosts.len());
    for v in vhosts {
        let Some(files) = &v.tls else {
            return Err(BuildError::new(
                &v.name,
                "shares a TLS listener but has no certificate".to_string(),
            ));
        };
        certs.push((
            v.name.clone(),
            Arc::new(load_certified_key(&v.name, &files.cert, &files.key)?),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BuildError::new(&vhosts[0].name, format!("tls: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SniResolver { certs }));
    config.alpn_protocols = vhosts[0]
        .alpn
        .iter()
        .filter(|p| SUPPORTED_ALPN.contains(&p.as_str()))
        .map(|p| p.as_bytes().to_vec())
        .collect();
    if config.alpn_protocols.is_empty() {
        config.alpn_protocols.push(b"http/1.1".to_vec());
    }
    Ok(Arc::new(config))
}

fn load_certified_key(
    vhost: &str,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<CertifiedKey, BuildError> {
    let err = |what: &std::path::Path, e: &dyn fmt::Display| {
        BuildError::new(vhost, format!("{}: {e}", what.display()))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| err(cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(cert, &e))?;
    if chain.is_empty() {
        return Err(err(cert, &"no certificate in file"));
    }
    let der = PrivateKeyDer::from_pem_file(key).map_err(|e| err(key, &e))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&der).map_err(|e| err(key, &e))?;
    let ck = CertifiedKey::new(chain, signing);
    ck.keys_match().map_err(|e| err(key, &e))?;
    Ok(ck)
}

/// Picks a certificate by SNI with the same rules as vhost selection by Host.
struct SniResolver {
    certs: Vec<(Arc<str>, Arc<CertifiedKey>)>,
}

impl fmt::Debug for SniResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SniResolver")
            .field(
                "names",
                &self.certs.iter().map(|c| &c.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

thread_local! {
    // The name the client hello being handled on this thread asked for, left by the resolver for the
    // handshake that is polling (see `take_offered_sni`).
    static OFFERED_SNI: Cell<Option<String>> = const { Cell::new(None) };
}

/// The name (SNI) the last client hello resolved on this thread asked for, taken. rustls's unbuffered server
/// connection does not tell it, and the resolver runs inside the handshake's poll: the handshake takes it
/// before that poll ends, so no other connection's hello comes in between.
pub(crate) fn take_offered_sni() -> Option<String> {
    OFFERED_SNI.take()
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        OFFERED_SNI.set(hello.server_name().map(str::to_owned));
        let name = hello.server_name().unwrap_or("");
        let idx = crate::vhost::select_name(self.certs.iter().map(|c| &*c.0), name);
        self.certs.get(idx).map(|c| c.1.clone())
    }
}
