//! TLS for the sessions that need it (TLS server and client, WebSocket over TLS): building a
//! server's acceptor (a given PEM certificate and key, or a generated self-signed one) and a
//! client's connector (system roots, a given CA, or no verification at all), and turning a
//! finished handshake or a failed one into a typed note or fault for the log.
//!
//! Everything here uses the ring provider explicitly, so no process-wide default provider has
//! to be installed.
//!
//! - `config`: the server's acceptor and the client's connector, from the spec's options.
//! - `certificates`: a certificate's summary and fingerprint, and the generated self-signed one.
//! - `verifiers`: the client's certificate checks for `ca=FILE` and `insecure`.
//! - `handshake`: a finished handshake as a note, a failed one as a typed fault.

mod certificates;
mod config;
mod handshake;
mod verifiers;

pub(super) use config::{acceptor, connector};
pub(super) use handshake::{client_established, established, fault};
