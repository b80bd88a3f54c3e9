//! How a client of the router connects: plain HTTP/2 on `http://`, TLS on `https://`
//! trusting the certificate authority named (`--ca FILE`: an operator's own, or the
//! router's self-signed certificate itself), and, where the router asks for one, the
//! client's own certificate (mTLS). The desktop, the bots and the benchmarks all connect here.

use std::path::Path;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// A client's TLS settings (all PEM).
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct ClientTls {
    /// Certificate authority to trust for the router's certificate (needed for https).
    pub ca_pem: Option<Vec<u8>>,
    /// The client's certificate chain and private key, for a router that asks (mTLS).
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl ClientTls {
    /// Read the files a user named (`--ca`, `--cert`, `--key`); a certificate needs its
    /// key and a key its certificate.
    pub fn load(
        ca: Option<&Path>,
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<ClientTls, String> {
        let read = |p: &Path, what: &str| {
            std::fs::read(p).map_err(|e| format!("reading the {what} {}: {e}", p.display()))
        };
        let ca_pem = ca.map(|p| read(p, "certificate authority")).transpose()?;
        let identity = match (cert, key) {
            (Some(c), Some(k)) => Some((read(c, "client certificate")?, read(k, "client key")?)),
            (None, None) => None,
            _ => return Err(
                "a client certificate needs its key, and a key its certificate (--cert with --key)"
                    .into(),
            ),
        };
        Ok(ClientTls { ca_pem, identity })
    }
}

/// An endpoint for `url` (`http://` or `https://`; no scheme means `http://`).
pub fn endpoint(url: &str, tls: &ClientTls) -> Result<Endpoint, String> {
    let url = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let mut e = Endpoint::from_shared(url.clone()).map_err(|e| format!("{url}: {e}"))?;
    if url.starts_with("https://") {
        let ca = tls.ca_pem.as_ref().ok_or_else(|| {
            format!("{url} is TLS: name the certificate authority that signed its certificate (--ca FILE)")
        })?;
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        if let Some((cert, key)) = &tls.identity {
            config = config.identity(Identity::from_pem(cert, key));
        }
        e = e
            .tls_config(config)
            .map_err(|e| format!("the TLS settings for {url} are not usable: {e}"))?;
    } else if tls.ca_pem.is_some() || tls.identity.is_some() {
        return Err(format!(
            "{url} is plain HTTP/2; certificates are for an https:// router"
        ));
    }
    Ok(e)
}
