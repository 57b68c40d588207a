//! Generic crypto, JOSE (JWK, JWS, JWE, JWT) and x.509 checks for lws-rs, usable without any networking.
//! This crate is reserved in the workspace layout; its API arrives with the crypto work and has no items yet.
