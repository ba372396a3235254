//! RSA keys in every form people paste: PEM (PKCS#1, PKCS#8, SPKI, `RSA PUBLIC KEY`) or one-line base64 DER.

use std::fmt;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, PublicKey};
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};

/// Which signature algorithm Alipay's `sign_type` names.
///
/// ```
/// use alipay::SignType;
/// assert_eq!(SignType::Rsa2.as_str(), "RSA2");
/// assert_eq!("RSA".parse::<SignType>().unwrap(), SignType::Rsa);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignType {
    /// `RSA2`: SHA256withRSA (PKCS#1 v1.5). The only type we sign with.
    #[default]
    Rsa2,
    /// `RSA`: SHA1withRSA, accepted for verification only (legacy merchants).
    Rsa,
}

impl SignType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Rsa2 => "RSA2",
            SignType::Rsa => "RSA",
        }
    }
}

impl std::str::FromStr for SignType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "RSA2" => Ok(SignType::Rsa2),
            "RSA" => Ok(SignType::Rsa),
            other => Err(Error::BadSignature(format!("unsupported sign_type {other:?}"))),
        }
    }
}

/// Where a key came from, for error messages.
const INLINE: &str = "inline text";

/// Decoded key material: the PEM label (if armoured) and the DER bytes.
struct Der {
    label: Option<String>,
    bytes: Vec<u8>,
}

/// Reads PEM armour or bare base64 into DER, stripping all whitespace.
fn decode_text(text: &str) -> std::result::Result<Der, String> {
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err("the key is empty".into());
    }
    let (label, body) = if let Some(rest) = text.strip_prefix("-----BEGIN ") {
        let (label, rest) = rest.split_once("-----").ok_or("PEM header is not terminated by -----")?;
        let end = format!("-----END {label}-----");
        let body =
            rest.split_once(end.as_str()).map(|(b, _)| b).ok_or_else(|| format!("PEM footer {end:?} not found"))?;
        (Some(label.to_owned()), body)
    } else {
        (None, text)
    };
    // PEM bodies may carry headers like "Proc-Type:" (encrypted keys): refuse them clearly.
    if body.contains(':') {
        return Err("encrypted or header-carrying PEM keys are not supported; export it unencrypted".into());
    }
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = STANDARD.decode(compact.as_bytes()).map_err(|e| format!("not valid base64 ({e})"))?;
    if bytes.is_empty() {
        return Err("the key is empty".into());
    }
    Ok(Der { label, bytes })
}

/// The merchant's ("app") RSA private key, used to sign requests (and, for a gateway
/// implementation, notifications and responses).
///
/// Signing uses aws-lc-rs (constant-time) and PKCS#1 v1.5 with SHA-256, which is
/// deterministic: the same key and text always give the same signature.
///
/// ```
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/app_private_pkcs8.pem")).unwrap();
/// use alipay::PrivateKey;
/// let key = PrivateKey::from_text(&pem)?;
/// let sig = key.sign_rsa2(b"a=1&b=2")?;
/// assert_eq!(sig.len(), 344);
/// # Ok::<(), alipay::Error>(())
/// ```
pub struct PrivateKey {
    pair: KeyPair,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl PrivateKey {
    /// Parses a key from PEM (`PRIVATE KEY` or `RSA PRIVATE KEY`) or from one-line base64 DER
    /// (PKCS#8 tried first, then PKCS#1).
    pub fn from_text(text: &str) -> Result<Self> {
        Self::from_text_named(text, INLINE)
    }

    /// Reads and parses a key file; errors name the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| key_err("app private", &name, e.to_string()))?;
        Self::from_text_named(&text, &name)
    }

    /// Parses a key, naming `source_name` in errors.
    pub fn from_text_named(text: &str, source_name: &str) -> Result<Self> {
        let err = |reason: String| key_err("app private", source_name, reason);
        let der = decode_text(text).map_err(err)?;
        let pair = match der.label.as_deref() {
            Some("PRIVATE KEY") => KeyPair::from_pkcs8(&der.bytes)
                .map_err(|e| err(format!("PEM PRIVATE KEY is not an RSA PKCS#8 key ({e})")))?,
            Some("RSA PRIVATE KEY") => KeyPair::from_der(&der.bytes)
                .map_err(|e| err(format!("PEM RSA PRIVATE KEY is not a PKCS#1 RSA key ({e})")))?,
            Some(label) if label.contains("PUBLIC") => {
                return Err(err(format!("this is a public key (PEM {label}); a private key is needed here")));
            }
            Some("ENCRYPTED PRIVATE KEY") => {
                return Err(err("the key is encrypted; export it unencrypted (openssl pkcs8 -topk8 -nocrypt)".into()));
            }
            Some(label) => return Err(err(format!("unsupported PEM label {label:?}"))),
            None => match KeyPair::from_pkcs8(&der.bytes) {
                Ok(p) => p,
                Err(_) => KeyPair::from_der(&der.bytes).map_err(|_| {
                    if PublicKey::from_der(&der.bytes).is_ok() {
                        err("this is a public key; a private key is needed here".into())
                    } else {
                        err("base64 DER is neither a PKCS#8 nor a PKCS#1 RSA private key".into())
                    }
                })?,
            },
        };
        let bits = pair.public_modulus_len() * 8;
        if bits < 2048 {
            return Err(err(format!("RSA key has {bits} bits; RSA2 needs at least 2048")));
        }
        Ok(PrivateKey { pair })
    }

    /// Signs `message` with SHA256withRSA and returns standard base64 (with padding, no line breaks).
    pub fn sign_rsa2(&self, message: &[u8]) -> Result<String> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
            .map_err(|_| Error::BadSignature("RSA signing failed".into()))?;
        Ok(STANDARD.encode(sig))
    }

    /// The matching public key (SPKI), e.g. to hand to the other side.
    pub fn public_key(&self) -> Result<PublicKeyRsa> {
        PublicKeyRsa::from_der_named(self.pair.public_key().as_ref(), "derived from the private key")
    }
}

/// An RSA public key (typically Alipay's, to verify what Alipay sends; or a merchant's,
/// for a gateway that checks requests).
///
/// ```
/// use alipay::PublicKeyRsa;
/// // Alipay's console gives a one-line base64 SPKI:
/// let k = PublicKeyRsa::from_text("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqObrdC7hrgAVM98tK0nv3hSQRGGKT4lBsQjHiGjeYZjOPIPHR5knm2jnnz/YGIXIofVHkA/tAlBAd5DrY7YpvI4tP5EONLtZKC2ghBMx7McI2wRD0xiqzxOQr1FuhZGJ8/AUokBzJrzY+aGX2xcOrxFYRlFilvVLTXg4LWjR1tdPkO6+i7wQZAIVMClPkwVRZEbaERRHlKqTzv2gGv5rDU8gRoe1LeaN+6BlbTqHWkQcNCUNrA8C6l17XAXGKDsm/9TFWwO8EPHHHCaQdjtV5/FdcWIt+L8SR1ss7EXTjYDFtxcKVv9rEoY1lX8T4mX+GbXfZHraG5NCF1+XioL5JwIDAQAB")?;
/// assert!(k.verify(alipay::SignType::Rsa2, b"x", "AAAA").is_err());
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Clone)]
pub struct PublicKeyRsa {
    /// DER as given (SPKI or PKCS#1 `RSAPublicKey`); aws-lc-rs accepts both.
    der: Vec<u8>,
}

impl fmt::Debug for PublicKeyRsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKeyRsa({} DER bytes)", self.der.len())
    }
}

impl PublicKeyRsa {
    /// Parses PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`) or one-line base64 DER (SPKI or PKCS#1).
    pub fn from_text(text: &str) -> Result<Self> {
        Self::from_text_named(text, INLINE)
    }

    /// Reads and parses a key file; errors name the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| key_err("public", &name, e.to_string()))?;
        Self::from_text_named(&text, &name)
    }

    /// Parses a key, naming `source_name` in errors.
    pub fn from_text_named(text: &str, source_name: &str) -> Result<Self> {
        let err = |reason: String| key_err("public", source_name, reason);
        let der = decode_text(text).map_err(err)?;
        match der.label.as_deref() {
            None | Some("PUBLIC KEY") | Some("RSA PUBLIC KEY") => {}
            Some(label) if label.contains("PRIVATE") => {
                return Err(err(format!(
                    "this is a private key (PEM {label}); give the public key here (and never share the private one)"
                )));
            }
            Some("CERTIFICATE") => {
                return Err(err("this is a certificate; use certificate mode (Certificate::public_key) for it".into()));
            }
            Some(label) => return Err(err(format!("unsupported PEM label {label:?}"))),
        }
        if der.label.is_none() && (KeyPair::from_pkcs8(&der.bytes).is_ok() || KeyPair::from_der(&der.bytes).is_ok()) {
            return Err(err("this is a private key; give the public key here".into()));
        }
        Self::from_der_named(&der.bytes, source_name)
    }

    /// Parses DER (SPKI or PKCS#1 `RSAPublicKey`).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        Self::from_der_named(der, INLINE)
    }

    fn from_der_named(der: &[u8], source_name: &str) -> Result<Self> {
        let key = PublicKey::from_der(der).map_err(|e| {
            key_err("public", source_name, format!("not an RSA public key in SPKI or PKCS#1 DER ({e})"))
        })?;
        let bits = key.modulus_len() * 8;
        if bits < 1024 {
            return Err(key_err("public", source_name, format!("RSA key has only {bits} bits")));
        }
        Ok(PublicKeyRsa { der: der.to_vec() })
    }

    /// The DER bytes as parsed (SPKI or PKCS#1).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Verifies a base64 signature over `message` with the algorithm of `sign_type`.
    /// Whitespace inside the base64 is ignored (some transports wrap it).
    pub fn verify(&self, sign_type: SignType, message: &[u8], signature_b64: &str) -> Result<()> {
        let compact: String = signature_b64.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(Error::BadSignature("signature is empty".into()));
        }
        let sig = STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| Error::BadSignature(format!("signature is not base64 ({e})")))?;
        let alg: &'static signature::RsaParameters = match sign_type {
            SignType::Rsa2 => &signature::RSA_PKCS1_2048_8192_SHA256,
            SignType::Rsa => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        };
        UnparsedPublicKey::new(alg, &self.der)
            .verify(message, &sig)
            .map_err(|_| Error::BadSignature(format!("{} signature does not match", sign_type.as_str())))
    }
}

fn key_err(kind: &'static str, source_name: &str, reason: String) -> Error {
    Error::Key { kind, source_name: source_name.to_owned(), reason }
}
