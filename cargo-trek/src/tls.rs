//! TLS for connections to a database URL, with libpq's meaning of `sslmode` and `sslrootcert`.
//!
//! [`TlsOptions::take`] removes the two parameters from a connection string (URL or
//! `key=value` form), because `postgres::Config` knows only `disable`, `prefer` and `require`,
//! and turns them into a [`Connector`]:
//!
//! | `sslmode`          | TLS                          | certificate checked          |
//! |--------------------|------------------------------|------------------------------|
//! | `disable`          | never                        | —                            |
//! | `allow`, `prefer` (default) | when the server offers it | no                     |
//! | `require`          | always                       | no                           |
//! | `verify-ca`        | always                       | the chain, against the roots |
//! | `verify-full`      | always                       | the chain and the host name  |
//!
//! The roots are the PEM file `sslrootcert=PATH`, else the Mozilla roots of `webpki-roots`
//! (`sslrootcert=system` names them too, and like libpq then requires `verify-full`). As in
//! libpq, giving `sslrootcert` makes `prefer` and `require` check the chain as `verify-ca`
//! does, and a connection over unix-domain sockets only is plain whatever `sslmode` says
//! ([`TlsOptions::for_hosts`]).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;
use trek::postgres::config::{Host, SslMode as PgSslMode};
use trek::postgres::{Client, Config, NoTls};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it, without checking its certificate (also `allow`).
    Prefer,
    /// TLS, without checking the certificate.
    Require,
    /// TLS, with the certificate's chain checked against the roots.
    VerifyCa,
    /// TLS, with the chain and the host name checked.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            // libpq tries plain first, then TLS; either is acceptable, as with `prefer`.
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "has sslmode={other}: use disable, prefer, require, verify-ca or verify-full"
                ))
            }
        })
    }

    /// The name libpq gives the mode: `disable`, `prefer`, `require`, `verify-ca`,
    /// `verify-full`.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The Mozilla roots built into the binary (`webpki-roots`).
    Builtin,
    /// A PEM file of one or more certificates (`sslrootcert=PATH`).
    File(PathBuf),
}

/// The TLS parameters of a connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// The effective mode (after `sslrootcert` upgraded `prefer`/`require`).
    pub mode: SslMode,
    /// The roots the certificate is checked against, in the verifying modes.
    pub roots: Roots,
}

impl TlsOptions {
    /// Plain TCP, as the local server is reached.
    #[must_use]
    pub fn plain() -> TlsOptions {
        TlsOptions {
            mode: SslMode::Disable,
            roots: Roots::Builtin,
        }
    }

    /// Takes `sslmode` and `sslrootcert` out of `conninfo` (a URL or `key=value` string) and
    /// returns the rest, for `postgres::Config`, with the options they mean.
    ///
    /// # Errors
    /// A message to follow the (masked) string, for a value libpq would refuse too.
    pub fn take(conninfo: &str) -> Result<(String, TlsOptions), String> {
        let is_url = ["postgres://", "postgresql://"]
            .iter()
            .any(|scheme| conninfo.starts_with(scheme));
        let (rest, sslmode, rootcert) = if is_url {
            take_from_url(conninfo)
        } else {
            take_from_key_value(conninfo)
        };
        let mode = sslmode.as_deref().map(SslMode::parse).transpose()?;
        let (mode, roots) = match rootcert.as_deref() {
            None | Some("") => (mode.unwrap_or(SslMode::Prefer), Roots::Builtin),
            Some("system") => match mode {
                None | Some(SslMode::VerifyFull) => (SslMode::VerifyFull, Roots::Builtin),
                Some(weak) => {
                    return Err(format!(
                        "has sslmode={} with sslrootcert=system, which needs sslmode=verify-full",
                        weak.name()
                    ))
                }
            },
            Some(path) => {
                let mode = match mode {
                    None | Some(SslMode::Prefer | SslMode::Require) => SslMode::VerifyCa,
                    Some(other) => other,
                };
                (mode, Roots::File(PathBuf::from(path)))
            }
        };
        Ok((rest, TlsOptions { mode, roots }))
    }

    /// These options for the hosts of `config`: plain when they are all unix-domain sockets,
    /// where libpq ignores `sslmode` (the server offers no TLS there).
    #[must_use]
    pub fn for_hosts(self, config: &Config) -> TlsOptions {
        let hosts = config.get_hosts();
        if !hosts.is_empty() && hosts.iter().all(|h| matches!(h, Host::Unix(_))) {
            TlsOptions::plain()
        } else {
            self
        }
    }

    /// The mode to set on `postgres::Config`, which does the negotiation.
    #[must_use]
    pub fn postgres_mode(&self) -> PgSslMode {
        match self.mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
        }
    }

    /// Builds the connector: reads the roots and sets up rustls with the ring provider.
    ///
    /// # Errors
    /// When `sslrootcert` cannot be read or holds no usable certificate.
    pub fn connector(&self) -> Result<Connector, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match self.mode {
            SslMode::Disable => return Ok(Connector::Plain),
            SslMode::Prefer | SslMode::Require => Arc::new(NoVerification(Arc::clone(&provider))),
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = Arc::new(self.root_store()?);
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
                        .build()
                        .map_err(|e| format!("has unusable root certificates: {e}"))?;
                if self.mode == SslMode::VerifyCa {
                    Arc::new(ChainOnly(webpki))
                } else {
                    webpki
                }
            }
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Connector::Tls(MakeRustlsConnect::new(config)))
    }

    fn root_store(&self) -> Result<RootCertStore, String> {
        let path = match &self.roots {
            Roots::Builtin => {
                return Ok(RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                })
            }
            Roots::File(path) => path,
        };
        let shown = path.display();
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("has sslrootcert={shown}, which cannot be read: {e}"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("has sslrootcert={shown}, which is not valid PEM: {e}"))?;
        let mut store = RootCertStore::empty();
        for cert in certs {
            store.add(cert).map_err(|e| {
                format!("has sslrootcert={shown}, which holds a certificate rustls refuses: {e}")
            })?;
        }
        if store.is_empty() {
            return Err(format!(
                "has sslrootcert={shown}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            ));
        }
        Ok(store)
    }

    /// What to do about a connection that failed in the TLS layer; `None` for other failures.
    #[must_use]
    pub fn advice(&self, error: &trek::postgres::Error) -> Option<String> {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(cause) = source {
            if let Some(tls) = as_rustls(cause) {
                return Some(self.explain(tls));
            }
            source = cause.source();
        }
        let text = error.to_string();
        text.contains("server does not support TLS").then(|| {
            format!(
                "the server does not accept TLS connections, and sslmode={} requires TLS: \
                 use sslmode=prefer or sslmode=disable only on a network you trust",
                self.mode.name()
            )
        })
    }

    fn explain(&self, error: &rustls::Error) -> String {
        let fix_roots = match &self.roots {
            Roots::File(path) => format!(
                "check that {} holds the CA that signed it, or use sslmode=require to encrypt \
                 without verifying",
                path.display()
            ),
            Roots::Builtin => "pass sslrootcert=PATH with the CA that signed it, or use \
                               sslmode=require to encrypt without verifying"
                .to_owned(),
        };
        match error {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    format!(
                        "the server's certificate is not for the host connected to ({error}): \
                         connect with a host name the certificate names, or use \
                         sslmode=verify-ca to check only the chain"
                    )
                }
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => format!(
                    "the server's certificate is outside its validity period ({error}): renew \
                     it on the server, or check this machine's clock"
                ),
                _ => format!("the server's certificate is not trusted ({error}): {fix_roots}"),
            },
            other => format!("the TLS handshake failed ({other})"),
        }
    }
}

/// `cause` as a rustls error, also when an `io::Error` carries it (as tokio-rustls reports).
fn as_rustls<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    cause.downcast_ref::<rustls::Error>().or_else(|| {
        cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    })
}

/// How a connection is made: plain, or through rustls.
#[derive(Clone)]
pub enum Connector {
    /// No TLS.
    Plain,
    /// rustls, configured for the mode.
    Tls(MakeRustlsConnect),
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Connector::Plain => "Connector::Plain",
            Connector::Tls(_) => "Connector::Tls",
        })
    }
}

impl Connector {
    /// Connects with `config`.
    ///
    /// # Errors
    /// The driver's error.
    pub fn connect(self, config: &Config) -> Result<Client, trek::postgres::Error> {
        match self {
            Connector::Plain => config.connect(NoTls),
            Connector::Tls(tls) => config.connect(tls),
        }
    }
}

/// Accepts any certificate (`prefer`, `require`: encryption without authentication, as libpq),
/// but still checks that the server holds the certificate's key.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the web PKI check without its last step, the host name. (rustls checks the
/// chain first and the name last, so a name error means the chain was good.)
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Removes `sslmode` and `sslrootcert` from a URL's query; returns the URL and their decoded
/// values (the last one of each wins, as in `postgres::Config`).
fn take_from_url(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None, None);
    };
    let (mut sslmode, mut rootcert) = (None, None);
    let kept: Vec<&str> = query
        .split('&')
        .filter(|param| {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match key {
                "sslmode" => sslmode = Some(percent_decode(value)),
                "sslrootcert" => rootcert = Some(percent_decode(value)),
                _ => return true,
            }
            false
        })
        .collect();
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, sslmode, rootcert)
}

/// `%XX` decoding of a query value (`+` stays itself, as in `postgres::Config`).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes `sslmode` and `sslrootcert` from a `key=value` string, keeping everything else as
/// written; returns the string and their values. A string it cannot read is returned whole,
/// for `postgres::Config` to report (it refuses the verifying modes, so nothing is weakened).
fn take_from_key_value(conninfo: &str) -> (String, Option<String>, Option<String>) {
    let Some(pairs) = key_value_pairs(conninfo) else {
        return (conninfo.to_owned(), None, None);
    };
    let (mut sslmode, mut rootcert) = (None, None);
    let mut rest = String::new();
    let mut kept_to = 0;
    for pair in pairs {
        let slot = match pair.key.as_str() {
            "sslmode" => &mut sslmode,
            "sslrootcert" => &mut rootcert,
            _ => continue,
        };
        *slot = Some(pair.value);
        rest.push_str(&conninfo[kept_to..pair.start]);
        kept_to = pair.end;
    }
    rest.push_str(&conninfo[kept_to..]);
    (rest, sslmode, rootcert)
}

struct Pair {
    key: String,
    value: String,
    start: usize,
    end: usize,
}

/// The pairs of a `key=value` string with their spans, read as `postgres::Config` reads them:
/// spaces around `=`, values unquoted or in single quotes, `\` escaping the next character.
fn key_value_pairs(text: &str) -> Option<Vec<Pair>> {
    let mut pairs = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            return Some(pairs);
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        chars.next_if(|(_, c)| *c == '=')?;
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let end = loop {
            match chars.peek().copied() {
                None if quoted => return None,
                None => break text.len(),
                Some((i, c)) if !quoted && c.is_whitespace() => break i,
                Some((i, '\'')) if quoted => {
                    chars.next();
                    break i + 1;
                }
                Some((_, '\\')) => {
                    chars.next();
                    let (_, escaped) = chars.next()?;
                    value.push(escaped);
                }
                Some((_, c)) => {
                    chars.next();
                    value.push(c);
                }
            }
        };
        pairs.push(Pair {
            key,
            value,
            start,
            end,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{Roots, SslMode, TlsOptions};
    use std::path::PathBuf;

    fn take(conninfo: &str) -> (String, SslMode, Roots) {
        let (rest, options) = TlsOptions::take(conninfo).unwrap();
        (rest, options.mode, options.roots)
    }

    #[test]
    fn urls_lose_the_tls_parameters_and_keep_the_rest() {
        assert_eq!(
            take("postgres://u:pw@h/db"),
            (
                "postgres://u:pw@h/db".into(),
                SslMode::Prefer,
                Roots::Builtin
            )
        );
        assert_eq!(
            take("postgres://h/db?sslmode=verify-full&application_name=x"),
            (
                "postgres://h/db?application_name=x".into(),
                SslMode::VerifyFull,
                Roots::Builtin
            )
        );
        assert_eq!(
            take("postgres://h/db?sslmode=verify-ca&sslrootcert=%2Fetc%2Fca%20x.pem"),
            (
                "postgres://h/db".into(),
                SslMode::VerifyCa,
                Roots::File(PathBuf::from("/etc/ca x.pem"))
            )
        );
        assert_eq!(take("postgres://h/db?sslmode=disable").1, SslMode::Disable);
        assert_eq!(take("postgres://h/db?sslmode=allow").1, SslMode::Prefer);
    }

    #[test]
    fn key_value_strings_lose_the_tls_parameters_and_keep_the_rest() {
        assert_eq!(
            take("host=h sslmode = verify-full password='a b\\' c' dbname=d"),
            (
                "host=h  password='a b\\' c' dbname=d".into(),
                SslMode::VerifyFull,
                Roots::Builtin
            )
        );
        assert_eq!(
            take("sslrootcert='/tmp/my ca.pem' host=h sslmode=verify-full"),
            (
                " host=h ".into(),
                SslMode::VerifyFull,
                Roots::File(PathBuf::from("/tmp/my ca.pem"))
            )
        );
        // Unreadable: left whole for postgres::Config to report.
        assert_eq!(
            take("host=h sslmode='verify-full"),
            (
                "host=h sslmode='verify-full".into(),
                SslMode::Prefer,
                Roots::Builtin
            )
        );
    }

    #[test]
    fn a_root_certificate_makes_prefer_and_require_check_the_chain_as_libpq_does() {
        assert_eq!(
            take("postgres://h/db?sslrootcert=ca.pem").1,
            SslMode::VerifyCa
        );
        assert_eq!(
            take("postgres://h/db?sslmode=require&sslrootcert=ca.pem").1,
            SslMode::VerifyCa
        );
        assert_eq!(
            take("postgres://h/db?sslrootcert=system"),
            (
                "postgres://h/db".into(),
                SslMode::VerifyFull,
                Roots::Builtin
            )
        );
        let weak = TlsOptions::take("postgres://h/db?sslmode=require&sslrootcert=system");
        assert!(weak.unwrap_err().contains("needs sslmode=verify-full"));
    }

    #[test]
    fn unix_sockets_are_plain_as_libpq_ignores_sslmode_there() {
        let (rest, options) = TlsOptions::take("host=/run/postgresql sslmode=require").unwrap();
        let config: trek::postgres::Config = rest.parse().unwrap();
        assert_eq!(options.for_hosts(&config).mode, SslMode::Disable);
        let (rest, options) = TlsOptions::take("host=db.example.com sslmode=require").unwrap();
        let config: trek::postgres::Config = rest.parse().unwrap();
        assert_eq!(options.for_hosts(&config).mode, SslMode::Require);
    }

    #[test]
    fn an_unknown_sslmode_is_refused_with_the_choices() {
        let err = TlsOptions::take("postgres://h/db?sslmode=verify").unwrap_err();
        assert!(err.contains("verify-ca or verify-full"), "{err}");
    }

    #[test]
    fn a_missing_or_empty_root_file_is_a_clear_error() {
        let options =
            TlsOptions::take("postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
                .unwrap()
                .1;
        let err = options.connector().unwrap_err();
        assert!(
            err.contains("sslrootcert=/nonexistent/ca.pem, which cannot be read"),
            "{err}"
        );

        let dir = std::env::temp_dir().join(format!("trek-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let options = TlsOptions {
            mode: SslMode::VerifyCa,
            roots: Roots::File(empty),
        };
        let err = options.connector().unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.contains("holds no PEM certificate"), "{err}");
    }
}
