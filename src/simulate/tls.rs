//! The simulator's certificate authority: generated at start, never stored anywhere but where
//! the caller writes its PEM, and one server certificate it signs for every host name the
//! simulator answers to. Clients trust the CA explicitly (`--ca-cert`, or
//! [`HttpOptions::extra_root_certificates`](crate::oauth::HttpOptions)), so the definition's
//! real `https://` URLs are exercised unchanged.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The CA's certificate (PEM, for clients to trust) and a TLS server config for the hosts,
/// signed by it.
pub(crate) struct Authority {
    pub(crate) ca_pem: String,
    pub(crate) server_config: Arc<rustls::ServerConfig>,
}

/// Generates a fresh CA and a server certificate for `hosts`.
pub(crate) fn authority(hosts: &[String]) -> Result<Authority, String> {
    let failed = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    let ca_key = KeyPair::generate().map_err(|e| failed("CA key", &e))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| failed("CA", &e))?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "provider-forge simulate CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| failed("CA certificate", &e))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(|e| failed("server key", &e))?;
    let mut server_params =
        CertificateParams::new(hosts.to_vec()).map_err(|e| failed("server certificate", &e))?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "provider-forge simulate");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(|e| failed("server certificate", &e))?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .map_err(|e| failed("TLS config", &e))?;
    Ok(Authority {
        ca_pem: ca_cert.pem(),
        server_config: Arc::new(config),
    })
}
