//! The sandbox's public key as an SPKI PEM (what merchants and SDKs paste as "Alipay public key").

use alipay::PublicKeyRsa;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const RSA_ALGORITHM_ID: &[u8] =
    &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, (len & 0xff) as u8]);
    }
}

/// The key as SPKI DER (wrapping a PKCS#1 `RSAPublicKey` if that is what it holds).
pub fn spki_der(key: &PublicKeyRsa) -> Result<Vec<u8>, String> {
    let der = key.der();
    // SEQUENCE, length, then either SEQUENCE (SPKI's AlgorithmIdentifier) or INTEGER (PKCS#1's modulus).
    let header = match der.get(1) {
        Some(b) if *b < 0x80 => 2,
        Some(b) => 2 + usize::from(*b & 0x7f),
        None => return Err("empty key".into()),
    };
    match der.get(header) {
        Some(0x30) => Ok(der.to_vec()),
        Some(0x02) => {
            let mut bits = vec![0x03];
            der_len(der.len() + 1, &mut bits);
            bits.push(0x00);
            bits.extend_from_slice(der);
            let mut out = vec![0x30];
            der_len(RSA_ALGORITHM_ID.len() + bits.len(), &mut out);
            out.extend_from_slice(RSA_ALGORITHM_ID);
            out.extend(bits);
            Ok(out)
        }
        _ => Err("unrecognised public key DER".into()),
    }
}

/// The key as a `PUBLIC KEY` PEM.
pub fn spki_pem(key: &PublicKeyRsa) -> Result<String, String> {
    let b64 = STANDARD.encode(spki_der(key)?);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    Ok(pem)
}

/// The key as one-line base64 SPKI (what Alipay's console shows).
pub fn spki_base64(key: &PublicKeyRsa) -> Result<String, String> {
    Ok(STANDARD.encode(spki_der(key)?))
}

/// Generates a fresh RSA-2048 private key as a PKCS#8 `PRIVATE KEY` PEM (for the sandbox's own
/// "Alipay" key pair, or a test merchant's).
pub fn generate_private_key_pem() -> crate::Result<String> {
    use aws_lc_rs::encoding::AsDer as _;
    let failed = |what: &str| crate::Error::Config(format!("generating an RSA key: {what}"));
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(|_| failed("generate"))?;
    let der = pair.as_der().map_err(|_| failed("encode"))?;
    let b64 = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(pem)
}

/// Reads the private key at `path`, or generates one and writes it there (mode 0600 on Unix)
/// when the file does not exist. Returns the key and whether it was generated.
pub fn load_or_generate_private_key(path: &std::path::Path) -> crate::Result<(alipay::PrivateKey, bool)> {
    if path.exists() {
        return Ok((alipay::PrivateKey::from_file(path)?, false));
    }
    let pem = generate_private_key_pem()?;
    let io = |e: std::io::Error| crate::Error::Config(format!("writing {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    std::io::Write::write_all(&mut file, pem.as_bytes()).map_err(io)?;
    Ok((alipay::PrivateKey::from_text_named(&pem, &path.display().to_string())?, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_their_spki_pem_round_trips() {
        let key = alipay::PrivateKey::from_text(&generate_private_key_pem().unwrap()).unwrap();
        let public = key.public_key().unwrap();
        let pem = spki_pem(&public).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let again = alipay::PublicKeyRsa::from_text(&pem).unwrap();
        let sig = key.sign_rsa2(b"x").unwrap();
        again.verify(alipay::SignType::Rsa2, b"x", &sig).unwrap();
        assert_eq!(spki_der(&again).unwrap(), again.der());
    }

    #[test]
    fn load_or_generate_persists_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/alipay_key.pem");
        let (a, generated) = load_or_generate_private_key(&path).unwrap();
        assert!(generated);
        let (b, generated) = load_or_generate_private_key(&path).unwrap();
        assert!(!generated);
        assert_eq!(a.public_key().unwrap().der(), b.public_key().unwrap().der());
    }
}
