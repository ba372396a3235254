//! The deployment's secret key: configured, or generated once and kept in the data directory. It
//! signs login tokens (HS256) and keys the hashes of SMS codes.

use std::path::Path;

use anyhow::Context;
use aws_lc_rs::hmac;
use jsonwebtoken::{DecodingKey, EncodingKey};

use crate::config::Config;

const SECRET_FILE: &str = "secret.key";

pub struct Keys {
    pub jwt_encoding: EncodingKey,
    pub jwt_decoding: DecodingKey,
    code_key: hmac::Key,
    password_key: hmac::Key,
    csrf_key: hmac::Key,
}

impl Keys {
    /// The configured key, else `<data_dir>/secret.key`, created on first use (mode 0600).
    pub fn load(config: &Config) -> anyhow::Result<Self> {
        if let Some(secret) = &config.secret_key {
            check_secret(config)?;
            return Ok(Self::from_secret(secret.expose()));
        }
        let secret = read_or_create(&config.data_dir.join(SECRET_FILE))?;
        Ok(Self::from_secret(&secret))
    }

    pub fn from_secret(secret: &str) -> Self {
        // The code key is derived, so that a leaked code hash says nothing about the JWT key.
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let derived = hmac::sign(&master, b"mxshop sms codes");
        let password_derived = hmac::sign(&master, b"mxshop password versions");
        let csrf_derived = hmac::sign(&master, b"mxshop storefront csrf");
        Self {
            jwt_encoding: EncodingKey::from_secret(secret.as_bytes()),
            jwt_decoding: DecodingKey::from_secret(secret.as_bytes()),
            code_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
            password_key: hmac::Key::new(hmac::HMAC_SHA256, password_derived.as_ref()),
            csrf_key: hmac::Key::new(hmac::HMAC_SHA256, csrf_derived.as_ref()),
        }
    }

    /// A short tag of a stored password hash and the user's session epoch, carried in login
    /// tokens: when the password changes (a new hash, a new salt) or the user logs out (the epoch
    /// moves on), tokens issued before stop matching. Keyed, so a token reveals nothing about the
    /// hash. Epoch 0 tags the hash alone, so tokens issued before epochs existed stay valid.
    pub fn password_version(&self, stored_hash: &str, session_epoch: i32) -> String {
        let tag = if session_epoch == 0 {
            hmac::sign(&self.password_key, stored_hash.as_bytes())
        } else {
            // A PHC or Django hash never contains a newline, so the pair is unambiguous.
            hmac::sign(&self.password_key, format!("{stored_hash}\n{session_epoch}").as_bytes())
        };
        hex::encode(&tag.as_ref()[..8])
    }

    /// The storefront's CSRF token for a session binding (browser id and login token): keyed, so
    /// another site can neither read nor forge it.
    pub fn csrf_token(&self, binding: &str) -> String {
        hex::encode(hmac::sign(&self.csrf_key, binding.as_bytes()))
    }

    /// Constant-time check of a submitted CSRF token.
    pub fn csrf_matches(&self, binding: &str, token: &str) -> bool {
        let Ok(given) = hex::decode(token) else { return false };
        hmac::verify(&self.csrf_key, binding.as_bytes(), &given).is_ok()
    }

    /// Hex HMAC-SHA256 of `mobile` and `code`: what is stored instead of the code.
    pub fn code_hash(&self, mobile: &str, code: &str) -> String {
        hex::encode(hmac::sign(&self.code_key, format!("{mobile}:{code}").as_bytes()))
    }

    /// Constant-time comparison of a code against a stored hash.
    pub fn code_matches(&self, mobile: &str, code: &str, stored_hash: &str) -> bool {
        let Ok(expected) = hex::decode(stored_hash) else { return false };
        hmac::verify(&self.code_key, format!("{mobile}:{code}").as_bytes(), &expected).is_ok()
    }
}

/// Checks the key `Keys::load` would use without creating anything; a description of it.
pub fn check_secret(config: &Config) -> anyhow::Result<String> {
    if let Some(secret) = &config.secret_key {
        anyhow::ensure!(secret.expose().len() >= 32, "secret_key must be at least 32 characters long");
        return Ok("secret_key is set".to_owned());
    }
    let path = config.data_dir.join(SECRET_FILE);
    if !path.exists() {
        return Ok(format!("{} will be generated at the first start", path.display()));
    }
    let secret = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(secret.trim().len() >= 32, "{} holds a secret shorter than 32 characters", path.display());
    Ok(format!("{} is readable", path.display()))
}

fn read_or_create(path: &Path) -> anyhow::Result<String> {
    if path.exists() {
        tighten(path)?;
        let secret = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let secret = secret.trim().to_owned();
        anyhow::ensure!(secret.len() >= 32, "{} holds a secret shorter than 32 characters", path.display());
        return Ok(secret);
    }
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    let secret = hex::encode(bytes);
    write_private_file(path, &secret)?;
    tracing::info!(path = %path.display(), "generated a new secret key");
    Ok(secret)
}

/// Creates `dir` and any missing parents, those it creates accessible by the owner only (0700):
/// the data directory holds the database, keys and uploads.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Creates an empty file readable by the owner only (0600) if `path` does not exist, so that a
/// program that creates it later (SQLite) keeps those permissions.
pub fn ensure_private_file(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => tighten(path),
        Err(error) => Err(error).with_context(|| format!("creating {}", path.display())),
    }
}

/// A file made by an earlier release (or by hand) that others can read is made owner-only.
#[cfg(unix)]
pub fn tighten(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} private", path.display()))?;
        tracing::warn!(path = %path.display(), was = format!("{:o}", mode & 0o777), "made a data file owner-only (0600)");
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn tighten(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Creates `path` (it must not exist) readable by the owner only, and writes `contents`.
#[cfg(unix)]
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Creates `path` and writes `contents`.
#[cfg(not(unix))]
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// Compares a presented secret with the expected one in time independent of where they differ.
pub fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(given, expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn existing_data_files_are_made_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mxshop.db");
        std::fs::write(&file, b"").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private_file(&file).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        let fresh = dir.path().join("new/dir/state.sqlite");
        ensure_private_file(&fresh).unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(dir.path().join("new")).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        let first = Keys::load(&config).unwrap();
        let stored = std::fs::read_to_string(dir.path().join(SECRET_FILE)).unwrap();
        assert_eq!(stored.len(), 64);
        let second = Keys::load(&config).unwrap();
        let hash = first.code_hash("13800000000", "1234");
        assert!(second.code_matches("13800000000", "1234", &hash));
        assert!(!second.code_matches("13800000000", "1235", &hash));
        assert!(!second.code_matches("13800000001", "1234", &hash));
        assert!(!second.code_matches("13800000000", "1234", "zz"));
    }
}
