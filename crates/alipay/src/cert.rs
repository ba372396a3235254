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

/// A DER element: tag, content, and the whole encoding.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

type R<T> = std::result::Result<T, String>;

fn read_tlv(input: &[u8]) -> R<(Tlv<'_>, &[u8])> {
    let tag = *input.first().ok_or("truncated DER (no tag)")?;
    if tag & 0x1f == 0x1f {
        return Err("unsupported multi-byte DER tag".into());
    }
    let first = *input.get(1).ok_or("truncated DER (no length)")?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err("unsupported DER length".into());
        }
        let bytes = input.get(2..2 + n).ok_or("truncated DER length")?;
        (bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize), 2 + n)
    };
    let end = header.checked_add(len).ok_or("DER length overflow")?;
    let whole = input.get(..end).ok_or("truncated DER content")?;
    Ok((Tlv { tag, content: &whole[header..], whole }, &input[end..]))
}

fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> R<(Tlv<'a>, &'a [u8])> {
    let (tlv, rest) = read_tlv(input)?;
    if tlv.tag != tag {
        return Err(format!("expected {what} (tag {tag:#04x}), found tag {:#04x}", tlv.tag));
    }
    Ok((tlv, rest))
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

fn oid_to_string(bytes: &[u8]) -> R<String> {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        acc = acc.checked_mul(128).ok_or("OID component too large")? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = if acc < 40 {
                    0
                } else if acc < 80 {
                    1
                } else {
                    2
                };
                parts.push(first);
                parts.push(acc - first * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        } else if i + 1 == bytes.len() {
            return Err("truncated OID".into());
        }
    }
    if parts.is_empty() {
        return Err("empty OID".into());
    }
    Ok(parts.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

/// The Java `X500Principal.getName()` (RFC 2253) rendering of a DER Name's content.
fn rfc2253(name: &[u8]) -> R<String> {
    let mut rdns = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let (set, r) = expect(rest, 0x31, "RelativeDistinguishedName SET")?;
        rest = r;
        let mut atvs = Vec::new();
        let mut inner = set.content;
        while !inner.is_empty() {
            let (atv, r) = expect(inner, 0x30, "AttributeTypeAndValue")?;
            inner = r;
            let (oid, value_rest) = expect(atv.content, 0x06, "attribute type OID")?;
            let (value, _) = read_tlv(value_rest)?;
            let oid = oid_to_string(oid.content)?;
            let rendered = match keyword(&oid) {
                Some(kw) => match string_value(&value) {
                    Some(s) => format!("{kw}={}", escape_rfc2253(&s)),
                    None => format!("{kw}=#{}", hex(value.whole)),
                },
                None => format!("{oid}=#{}", hex(value.whole)),
            };
            atvs.push(rendered);
        }
        rdns.push(atvs.join("+"));
    }
    rdns.reverse();
    Ok(rdns.join(","))
}

/// RFC 2253 keywords that Java prints by name.
fn keyword(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn string_value(v: &Tlv<'_>) -> Option<String> {
    match v.tag {
        0x0c | 0x13 | 0x16 | 0x12 => std::str::from_utf8(v.content).ok().map(str::to_owned),
        0x14 => Some(v.content.iter().map(|b| *b as char).collect()),
        0x1e => {
            if !v.content.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = v.content.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).ok()
        }
        0x1c => {
            if !v.content.len().is_multiple_of(4) {
                return None;
            }
            v.content.chunks(4).map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect()
        }
        _ => None,
    }
}

fn escape_rfc2253(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let count = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == count && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decimal rendering of a DER INTEGER (two's complement, big-endian), like `BigInteger.toString(10)`.
fn integer_to_decimal(bytes: &[u8]) -> R<String> {
    if bytes.is_empty() {
        return Err("empty serial number".into());
    }
    let negative = bytes[0] & 0x80 != 0;
    let mut mag: Vec<u8> = if negative {
        // Two's complement negate: invert and add one.
        let mut v: Vec<u8> = bytes.iter().map(|b| !b).collect();
        for b in v.iter_mut().rev() {
            let (s, carry) = b.overflowing_add(1);
            *b = s;
            if !carry {
                break;
            }
        }
        v
    } else {
        bytes.to_vec()
    };
    let mut digits = Vec::new();
    while mag.iter().any(|b| *b != 0) {
        let mut rem: u32 = 0;
        for b in mag.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(char::from(b'0' + rem as u8));
    }
    if digits.is_empty() {
        digits.push('0');
    }
    if negative {
        digits.push('-');
    }
    Ok(digits.iter().rev().collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_integers() {
        assert_eq!(integer_to_decimal(&[0x00]).unwrap(), "0");
        assert_eq!(integer_to_decimal(&[0x01, 0x00]).unwrap(), "256");
        assert_eq!(integer_to_decimal(&[0xff]).unwrap(), "-1");
        assert_eq!(
            integer_to_decimal(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap(),
            "18446744073709551615"
        );
    }

    #[test]
    fn oids() {
        assert_eq!(
            oid_to_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]).unwrap(),
            "1.2.840.113549.1.1.11"
        );
        assert_eq!(oid_to_string(&[0x55, 0x04, 0x03]).unwrap(), "2.5.4.3");
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_rfc2253("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape_rfc2253(" #x "), "\\ #x\\ ");
    }
}
