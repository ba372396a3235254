//! Certificate mode: X.509 parsing (just enough DER) for `app_cert_sn`, `alipay_cert_sn`,
//! `alipay_root_cert_sn` and the Alipay public key inside `alipayCertPublicKey_RSA2.crt`.
//!
//! A serial number ("SN") is the md5 hex of the issuer DN in RFC 2253 order (as Java's
//! `X500Principal.getName()` prints it) followed by the certificate serial in decimal.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};

use crate::error::{Error, Result};
use crate::keys::PublicKeyRsa;

mod der;

use der::{R, expect, integer_to_decimal, oid_to_string, read_tlv, rfc2253};

/// The OID prefix of RSA signature algorithms (`1.2.840.113549.1.1.*`).
const RSA_SIGNATURE_OID_PREFIX: &str = "1.2.840.113549.1.1.";

/// One parsed X.509 certificate.
///
/// ```
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/alipay/");
/// let cert = alipay::Certificate::from_file(format!("{dir}alipayCertPublicKey_RSA2.crt"))?;
/// assert_eq!(cert.sn(), "7513daaaa48aa3ba2e4018d84402479c");
/// let _key = cert.public_key()?; // verifies notifications in certificate mode
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Certificate {
    issuer: String,
    serial: String,
    signature_oid: String,
    spki: Vec<u8>,
}

impl Certificate {
    /// Parses the first certificate of a PEM text.
    pub fn from_pem(text: &str) -> Result<Self> {
        Self::from_pem_named(text, "inline text")
    }

    /// Reads the first certificate of a PEM file; errors name the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let (text, name) = read(path.as_ref())?;
        Self::from_pem_named(&text, &name)
    }

    fn from_pem_named(text: &str, name: &str) -> Result<Self> {
        let ders = pem_certificates(text).map_err(|r| cert_err(name, r))?;
        let der = ders.first().ok_or_else(|| cert_err(name, "no -----BEGIN CERTIFICATE----- block found".into()))?;
        Self::from_der(der).map_err(|e| match e {
            Error::Certificate { reason, .. } => cert_err(name, reason),
            other => other,
        })
    }

    /// Parses one DER-encoded certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        parse_certificate(der).map_err(|r| cert_err("DER", r))
    }

    /// The issuer DN in RFC 2253 form (most specific RDN first), e.g. `CN=…,OU=…,O=…,C=CN`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The serial number in decimal.
    pub fn serial_decimal(&self) -> &str {
        &self.serial
    }

    /// The dotted OID of the certificate's signature algorithm.
    pub fn signature_algorithm_oid(&self) -> &str {
        &self.signature_oid
    }

    /// True if the certificate is RSA-signed (`1.2.840.113549.1.1.*`).
    pub fn is_rsa_signed(&self) -> bool {
        self.signature_oid.starts_with(RSA_SIGNATURE_OID_PREFIX)
    }

    /// The certificate's SN as Alipay defines it: md5 hex of issuer + decimal serial.
    pub fn sn(&self) -> String {
        let digest = Md5::digest(format!("{}{}", self.issuer, self.serial).as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The subject public key, e.g. Alipay's key from `alipayCertPublicKey_RSA2.crt`.
    pub fn public_key(&self) -> Result<PublicKeyRsa> {
        PublicKeyRsa::from_der(&self.spki)
    }
}

/// `alipay_root_cert_sn` of a root bundle: the SNs of the RSA-signed certificates, joined with `_`
/// in file order.
///
/// ```
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/alipay/");
/// let text = std::fs::read_to_string(format!("{dir}alipayRootCert.crt")).unwrap();
/// assert_eq!(alipay::cert::root_cert_sn(&text)?, "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6");
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn root_cert_sn(bundle: &str) -> Result<String> {
    root_cert_sn_named(bundle, "inline text")
}

/// [`root_cert_sn`] of a file; errors name the file.
pub fn root_cert_sn_from_file(path: impl AsRef<Path>) -> Result<String> {
    let (text, name) = read(path.as_ref())?;
    root_cert_sn_named(&text, &name)
}

fn root_cert_sn_named(bundle: &str, name: &str) -> Result<String> {
    let ders = pem_certificates(bundle).map_err(|r| cert_err(name, r))?;
    if ders.is_empty() {
        return Err(cert_err(name, "no -----BEGIN CERTIFICATE----- block found".into()));
    }
    let mut sns = Vec::new();
    for (i, der) in ders.iter().enumerate() {
        let cert = parse_certificate(der).map_err(|r| cert_err(name, format!("certificate #{}: {r}", i + 1)))?;
        if cert.is_rsa_signed() {
            sns.push(cert.sn());
        }
    }
    if sns.is_empty() {
        return Err(cert_err(name, "no RSA-signed root certificate in the bundle".into()));
    }
    Ok(sns.join("_"))
}

fn read(path: &Path) -> Result<(String, String)> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| cert_err(&name, e.to_string()))?;
    Ok((text, name))
}

fn cert_err(name: &str, reason: String) -> Error {
    Error::Certificate { source_name: name.to_owned(), reason }
}

/// Extracts the DER of every `CERTIFICATE` block (blank lines between blocks or not).
fn pem_certificates(text: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let end = after.find(END).ok_or("a certificate block has no END line")?;
        let body: String = after[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| format!("certificate #{} is not valid base64 ({e})", out.len() + 1))?;
        out.push(der);
        rest = &after[end + END.len()..];
    }
    Ok(out)
}

fn parse_certificate(der: &[u8]) -> R<Certificate> {
    let (cert, _) = expect(der, 0x30, "Certificate SEQUENCE")?;
    let (tbs, rest) = expect(cert.content, 0x30, "TBSCertificate SEQUENCE")?;
    let (sig_alg, _) = expect(rest, 0x30, "signatureAlgorithm SEQUENCE")?;
    let (oid, _) = expect(sig_alg.content, 0x06, "signature algorithm OID")?;
    let signature_oid = oid_to_string(oid.content)?;

    let mut body = tbs.content;
    let (first, _) = read_tlv(body)?;
    if first.tag == 0xa0 {
        body = read_tlv(body)?.1; // explicit version
    }
    let (serial, body) = expect(body, 0x02, "serialNumber INTEGER")?;
    let (_sig, body) = expect(body, 0x30, "signature AlgorithmIdentifier")?;
    let (issuer, body) = expect(body, 0x30, "issuer Name")?;
    let (_validity, body) = expect(body, 0x30, "validity")?;
    let (_subject, body) = expect(body, 0x30, "subject Name")?;
    let (spki, _) = expect(body, 0x30, "subjectPublicKeyInfo")?;
    Ok(Certificate {
        issuer: rfc2253(issuer.content)?,
        serial: integer_to_decimal(serial.content)?,
        signature_oid,
        spki: spki.whole.to_vec(),
    })
}
