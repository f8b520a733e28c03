//! Certificates as the log shows them (subject, issuer, expiry, SHA-256 fingerprint), and
//! the self-signed certificate a TLS server without `cert=` generates, its PEM written
//! owner-only where a client can use it as `ca=FILE`.

use std::net::Ipv6Addr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::SupportedCipherSuite;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::protocol::{CertSummary, Note, PemWrite, TlsSetupError};

/// Subject, issuer and expiry of a DER certificate.
pub(super) fn certificate_summary(der: &CertificateDer<'_>) -> CertSummary {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return CertSummary::Unparsable;
    };
    let issuer = (cert.subject() != cert.issuer()).then(|| cert.issuer().to_string());
    let not_after = cert.validity().not_after.timestamp();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    CertSummary::Parsed {
        subject: cert.subject().to_string(),
        issuer,
        valid_until: utc_date(not_after),
        expired: not_after < now,
    }
}

/// `2027-11-30 12:00 UTC` for seconds since 1970 (civil-from-days, proleptic Gregorian).
fn utc_date(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// `AB:CD:...` SHA-256 of `der`, as `openssl x509 -fingerprint -sha256` prints it.
fn sha256_fingerprint(der: &[u8]) -> String {
    let SupportedCipherSuite::Tls13(suite) =
        rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256
    else {
        return "(unavailable)".to_string();
    };
    let digest = suite.common.hash_provider.hash(der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Distinguishes generated-certificate files of servers on port 0 in one process.
static GENERATED: AtomicU64 = AtomicU64::new(0);

/// A self-signed certificate for the local names, its key, and the note saying where its PEM
/// went and its fingerprint.
pub(super) fn generate_self_signed(
    port: u16,
    files_dir: Option<&Path>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, Note), TlsSetupError> {
    let generation_failed = |e: rcgen::Error| TlsSetupError::Generate {
        detail: e.to_string(),
    };
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ];
    if let Some(host) = host_name()
        && !names.contains(&host)
    {
        names.push(host);
    }
    let mut params = rcgen::CertificateParams::new(names.clone()).or_else(|_| {
        // A host name rcgen refuses (odd characters) is left out rather than failing.
        names.truncate(3);
        rcgen::CertificateParams::new(names.clone())
    });
    if let Ok(params) = &mut params {
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "sockdbg self-signed");
        dn.push(rcgen::DnType::OrganizationName, "sockdbg");
        params.distinguished_name = dn;
    }
    let params = params.map_err(generation_failed)?;
    let key_pair = rcgen::KeyPair::generate().map_err(generation_failed)?;
    let cert = params.self_signed(&key_pair).map_err(generation_failed)?;
    let der = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(key_pair.serialize_der().into());
    let fingerprint = sha256_fingerprint(der.as_ref());
    let name = generated_cert_name(port);
    let pem = match files_dir {
        Some(dir) => match crate::private_files::write_private(dir, &name, cert.pem().as_bytes()) {
            Ok(path) => PemWrite::Written {
                path: path.display().to_string(),
            },
            Err(crate::private_files::PrivateFileError::Refused { dir: refused, why }) => {
                PemWrite::Refused {
                    path: dir.join(&name).display().to_string(),
                    dir: refused.display().to_string(),
                    why,
                }
            }
            Err(crate::private_files::PrivateFileError::Io(e)) => PemWrite::Failed {
                path: dir.join(&name).display().to_string(),
                reason: e.to_string(),
            },
        },
        None => PemWrite::NoDirectory,
    };
    let note = Note::TlsCertificateGenerated {
        names,
        fingerprint,
        pem,
    };
    Ok((vec![der], key, note))
}

/// `sockdbg-<port>-cert.pem`; for port 0 a name unique to this process and server.
fn generated_cert_name(port: u16) -> String {
    if port == 0 {
        let n = GENERATED.fetch_add(1, Ordering::Relaxed);
        format!("sockdbg-{}-{n}-cert.pem", std::process::id())
    } else {
        format!("sockdbg-{port}-cert.pem")
    }
}

/// This machine's host name, if the OS tells it without a system call crate.
fn host_name() -> Option<String> {
    let from_file = |path: &str| std::fs::read_to_string(path).ok();
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        let table = [
            (0, "1970-01-01 00:00 UTC"),
            (951_782_400, "2000-02-29 00:00 UTC"),
            (1_796_083_200 + 3_600 * 13 + 60 * 7, "2026-12-01 13:07 UTC"),
            (-86_400, "1969-12-31 00:00 UTC"),
        ];
        for (secs, expected) in table {
            assert_eq!(utc_date(secs), expected, "{secs}");
        }
    }

    #[test]
    fn a_generated_certificate_names_the_local_addresses() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (chain, _key, note) = generate_self_signed(0, Some(dir.path())).expect("generated");
        let summary = certificate_summary(&chain[0]).to_string();
        let note = note.to_string();
        assert!(summary.contains("CN=sockdbg self-signed"), "{summary}");
        assert!(summary.contains("self-signed"), "{summary}");
        assert!(note.contains("SHA-256 fingerprint"), "{note}");
        assert!(note.contains("ca="), "{note}");
        let (_, cert) = x509_parser::parse_x509_certificate(chain[0].as_ref()).expect("x509");
        let sans = cert
            .subject_alternative_name()
            .expect("parsable")
            .expect("present")
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(sans.contains("localhost"), "{sans}");
        assert!(sans.contains("IPAddress(7f:00:00:01)"), "{sans}");
    }

    #[test]
    fn fingerprints_are_sha256_in_openssl_style() {
        // SHA-256 of the empty string.
        assert!(sha256_fingerprint(b"").starts_with("E3:B0:C4:42:98:FC:1C:14"));
        assert_eq!(sha256_fingerprint(b"").len(), 32 * 3 - 1);
    }
}
