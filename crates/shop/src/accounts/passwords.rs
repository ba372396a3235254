//! Password hashes: Argon2id for everything we write; Django's `pbkdf2_sha256$…` accepted so that
//! users imported from the original keep their passwords, and rehashed on their first login.

use std::num::NonZeroU32;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use aws_lc_rs::pbkdf2;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::http::ApiError;

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Correct, and stored with the current scheme.
    Valid,
    /// Correct, but stored with a legacy scheme: store a new hash.
    ValidNeedsRehash,
    Invalid,
}

/// An Argon2id PHC string. CPU-heavy: call from a blocking task.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let hashed =
        Argon2::default().hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(hashed.to_string())
}

/// Checks `password` against `stored`. CPU-heavy: call from a blocking task.
pub fn verify(password: &str, stored: &str) -> Verdict {
    if stored.starts_with("$argon2") {
        return match Argon2::default().verify_password(password.as_bytes(), stored) {
            Ok(()) => Verdict::Valid,
            Err(_) => Verdict::Invalid,
        };
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        return if verify_django_pbkdf2(password, rest) { Verdict::ValidNeedsRehash } else { Verdict::Invalid };
    }
    // Django's unusable passwords (`!…`) and anything unknown never match.
    Verdict::Invalid
}

/// `<iterations>$<salt>$<base64 hash>`, as Django's `PBKDF2PasswordHasher` writes it.
fn verify_django_pbkdf2(password: &str, encoded: &str) -> bool {
    let mut parts = encoded.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(hash)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(iterations) = iterations.parse::<u32>().ok().and_then(NonZeroU32::new) else { return false };
    let Ok(expected) = STANDARD.decode(hash) else { return false };
    pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt.as_bytes(), password.as_bytes(), &expected).is_ok()
}

/// Hashes computed at once. Each Argon2id run takes about 19 MiB and a core for tens of
/// milliseconds: a burst of logins queues here instead of exhausting memory and the blocking pool.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

/// How long a request waits for its turn to hash; beyond it the shop is overloaded and says so
/// (503) rather than queueing without end.
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a password was not hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every hashing slot stayed taken for `HASHING_WAIT`: try again in this many seconds.
    #[error("password hashing is saturated")]
    Busy(u64),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<HashingError> for ApiError {
    fn from(error: HashingError) -> Self {
        match error {
            HashingError::Busy(seconds) => ApiError::Busy(seconds),
            HashingError::Failed(error) => ApiError::Internal(error),
        }
    }
}

/// Runs `work` on the blocking pool, at most `HASHING` at a time.
async fn run_bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashingError> {
    let permit = tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await;
    let Ok(Ok(_permit)) = permit else {
        tracing::warn!("password hashing is saturated; answering 503");
        return Err(HashingError::Busy(HASHING_WAIT.as_secs()));
    };
    tokio::task::spawn_blocking(work).await.map_err(|error| HashingError::Failed(error.into()))
}

/// Runs `hash` off the async executor.
pub async fn hash_blocking(password: String) -> Result<String, HashingError> {
    Ok(run_bounded(move || hash(&password)).await??)
}

/// Spends the time of a real check on an account that does not exist, so response times do not
/// reveal which names are registered. Always `Invalid`.
pub async fn verify_nobody_blocking(password: String) -> Result<Verdict, HashingError> {
    static NOBODY: LazyLock<String> = LazyLock::new(|| hash("no account has this password").unwrap_or_default());
    run_bounded(move || {
        let _ = verify(&password, &NOBODY);
        Verdict::Invalid
    })
    .await
}

/// Runs `verify` off the async executor.
pub async fn verify_blocking(password: String, stored: String) -> Result<Verdict, HashingError> {
    run_bounded(move || verify(&password, &stored)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    // Produced by Django's algorithm with Python's hashlib (an independent implementation):
    //   base64(hashlib.pbkdf2_hmac('sha256', b'pw123456', b'mxshopSalt2026', 260000))
    const DJANGO_HASH: &str = "pbkdf2_sha256$260000$mxshopSalt2026$ko62uiuKpM/3iA9AXOvl0NPh7bE8kktqBzWA4dPj4wE=";
    // Django 3.1's default iteration count, with the 12-character salts it generated.
    const DJANGO_31_HASH: &str = "pbkdf2_sha256$216000$Ab3dE6gH9jK2$SaoJExTWqt/ZySRsHyWoQUxMpAA41Gff8SBhfXAwx1Q=";

    #[test]
    fn django_hashes_verify_and_ask_for_rehash() {
        assert_eq!(verify("pw123456", DJANGO_HASH), Verdict::ValidNeedsRehash);
        assert_eq!(verify("pw1234567", DJANGO_HASH), Verdict::Invalid);
        assert_eq!(verify("admin123", DJANGO_31_HASH), Verdict::ValidNeedsRehash);
        assert_eq!(verify("admin124", DJANGO_31_HASH), Verdict::Invalid);
        for broken in [
            "pbkdf2_sha256$0$s$AAAA",
            "pbkdf2_sha256$x$s$AAAA",
            "pbkdf2_sha256$1$s$!!",
            "pbkdf2_sha256$",
            "!unusable",
            "",
        ] {
            assert_eq!(verify("pw", broken), Verdict::Invalid, "{broken}");
        }
    }

    #[test]
    fn argon2id_round_trip() {
        let stored = hash("secret-pw").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert_eq!(verify("secret-pw", &stored), Verdict::Valid);
        assert_eq!(verify("secret-pX", &stored), Verdict::Invalid);
    }
}
