//! The engine's messages in words: [`Render`] turns each typed value of
//! [`crate::protocol`] (and the log's [`LogNote`]) into a sentence of the [`Msg`] table in
//! the language asked for. `Display` is the English rendering, which headless output, export
//! and logs print: it is the same wording the engine used to write itself.

use std::fmt;

use super::errors::{rule_error_text, send_error_text};
use super::{Language, Msg, Text, tr, trf};
use crate::codec::display::escape_controls;
use crate::codec::hex::to_hex_spaced;
use crate::codec::reply::{MatchKind, ReplySummary, RuleSummary};
use crate::model::note::{LogNote, PeerRole};
use crate::protocol::{
    CertProblem, CertSummary, CloseReason, DirRefusal, Disconnected, FileError, Interface,
    JobFailure, JobOutcome, JoinCause, JoinProblem, NotRun, Note, OsError, PeerList, PemProblem,
    PemWrite, Refusal, SerialFault, SocketStep, StartFailure, TlsAlert, TlsFault, TlsRejection,
    TlsSession, TlsSetupError, Warning, WsClose, WsFault, WsSubprotocol,
};
use crate::relay::{Fired, Leg};
use crate::serial::SerialControl;
use crate::spec::SessionKind;

/// A typed message that has words in each language.
pub trait Render {
    /// The message in `language`.
    fn render(&self, language: Language) -> String;
}

/// `Display` as the English rendering.
macro_rules! english_display {
    ($($t:ty),* $(,)?) => {
        $(
            impl fmt::Display for $t {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(&self.render(Language::English))
                }
            }
        )*
    };
}

english_display!(
    NotRun,
    OsError,
    SerialFault,
    TlsFault,
    CertProblem,
    TlsAlert,
    TlsRejection,
    CertSummary,
    WsFault,
    WsClose,
    CloseReason,
    StartFailure,
    TlsSetupError,
    PemProblem,
    Interface,
    JoinProblem,
    SocketStep,
    Refusal,
    PeerList,
    Warning,
    Note,
    JobFailure,
    FileError,
    RuleSummary,
    LogNote,
);

impl Render for OsError {
    fn render(&self, l: Language) -> String {
        let key = match self {
            Self::AddrInUse => Msg::OsAddrInUse,
            Self::AddrInUseOrReserved => Msg::OsAddrInUseOrReserved,
            Self::AddrNotAvailable => Msg::OsAddrNotAvailable,
            // Windows has no privileged ports: its access denied means a firewall or policy.
            Self::PermissionDenied if cfg!(windows) => Msg::OsAccessDenied,
            Self::PermissionDenied => Msg::OsPermissionDenied,
            Self::ConnectionRefused => Msg::OsConnectionRefused,
            Self::ConnectionReset => Msg::OsConnectionReset,
            Self::ConnectionAborted => Msg::OsConnectionAborted,
            Self::BrokenPipe => Msg::OsBrokenPipe,
            Self::TimedOut => Msg::OsTimedOut,
            Self::HostUnreachable => Msg::OsHostUnreachable,
            Self::NetworkUnreachable => Msg::OsNetworkUnreachable,
            Self::FamilyUnsupported => Msg::OsFamilyUnsupported,
            Self::DiskFull => Msg::OsDiskFull,
            Self::Other { os_text } => return trf(l, Msg::OsOther, &[os_text]),
        };
        tr(l, key).to_string()
    }
}

impl Render for SerialFault {
    fn render(&self, l: Language) -> String {
        match self {
            Self::NotFound => tr(l, Msg::SerialNotFound).to_string(),
            Self::Busy => tr(l, Msg::SerialBusy).to_string(),
            Self::PermissionDenied => tr(l, Msg::SerialPermissionDenied).to_string(),
            Self::Settings { detail } => trf(l, Msg::SerialSettings, &[detail]),
            Self::NoControlLines => tr(l, Msg::SerialNoControlLines).to_string(),
            Self::NoModemLines => tr(l, Msg::SerialNoModemLines).to_string(),
            Self::Other { detail } => trf(l, Msg::SerialOther, &[detail]),
        }
    }
}

impl Render for TlsFault {
    fn render(&self, l: Language) -> String {
        match self {
            Self::ClosedDuringHandshake => tr(l, Msg::TlsClosedDuringHandshake).to_string(),
            Self::Io(cause) => cause.render(l),
            Self::Certificate(problem) => problem.render(l),
            Self::NotTls { detail } => trf(l, Msg::TlsNotTls, &[detail]),
            Self::Alert(alert) => alert.render(l),
            Self::Incompatible { detail } => trf(l, Msg::TlsIncompatible, &[detail]),
            Self::NoCertificate => tr(l, Msg::TlsNoCertificate).to_string(),
            Self::Other { detail } => trf(l, Msg::TlsOther, &[detail]),
        }
    }
}

impl Render for CertProblem {
    fn render(&self, l: Language) -> String {
        match self {
            Self::UnknownIssuer => tr(l, Msg::CertUnknownIssuer).to_string(),
            Self::BadSignature => tr(l, Msg::CertBadSignature).to_string(),
            Self::NotValidForName => tr(l, Msg::CertNotValidForName).to_string(),
            Self::NotValidForNames {
                expected,
                presented,
            } => {
                let listed = if presented.is_empty() {
                    tr(l, Msg::CertNoNames).to_string()
                } else {
                    presented.join(", ")
                };
                trf(l, Msg::CertNotValidForNames, &[expected, &listed])
            }
            Self::Expired { detail } => trf(l, Msg::CertExpired, &[detail]),
            Self::NotValidYet { detail } => trf(l, Msg::CertNotValidYet, &[detail]),
            Self::Revoked => tr(l, Msg::CertRevoked).to_string(),
            Self::CaUsedAsEndEntity => tr(l, Msg::CertCaAsEndEntity).to_string(),
            Self::Other { detail } => trf(l, Msg::CertOther, &[detail]),
        }
    }
}

impl Render for TlsAlert {
    fn render(&self, l: Language) -> String {
        match self {
            Self::RejectedOurCertificate { alert } => {
                trf(l, Msg::AlertRejectedOurCertificate, &[alert])
            }
            Self::NoCommonParameters { alert } => trf(l, Msg::AlertNoCommonParameters, &[alert]),
            Self::UnknownName { alert } => trf(l, Msg::AlertUnknownName, &[alert]),
            Self::ClientCertificateRequired => {
                tr(l, Msg::AlertClientCertificateRequired).to_string()
            }
            Self::Other { alert } => trf(l, Msg::AlertOther, &[alert]),
        }
    }
}

impl Render for TlsRejection {
    fn render(&self, l: Language) -> String {
        match self {
            Self::Tls(fault) => fault.render(l),
            Self::ClosedBeforeSending => tr(l, Msg::RejectClosedBeforeSending).to_string(),
            Self::NotTls { sent, more } => {
                let more = if *more { "..." } else { "" };
                trf(l, Msg::RejectNotTls, &[sent, &more])
            }
            Self::TimedOut { ms } => trf(l, Msg::RejectTimedOut, &[&limit_text(l, *ms)]),
        }
    }
}

impl Render for CertSummary {
    fn render(&self, l: Language) -> String {
        let Self::Parsed {
            subject,
            issuer,
            valid_until,
            expired,
        } = self
        else {
            return tr(l, Msg::CertUnparsable).to_string();
        };
        let subject = if subject.is_empty() {
            tr(l, Msg::CertEmptySubject).to_string()
        } else {
            subject.clone()
        };
        let issued_by = match issuer {
            None => tr(l, Msg::CertSelfSigned).to_string(),
            Some(issuer) => trf(l, Msg::CertIssuer, &[issuer]),
        };
        let expired = if *expired {
            tr(l, Msg::CertExpiredMark)
        } else {
            ""
        };
        trf(
            l,
            Msg::CertSummaryLine,
            &[&subject, &issued_by, valid_until, &expired],
        )
    }
}

/// `TLS 1.3, TLS13_AES_128_GCM_SHA256, ALPN h2`: what a handshake agreed on.
fn session_text(l: Language, session: &TlsSession) -> String {
    let mut text = match &session.version {
        Some(version) => version.clone(),
        None => tr(l, Msg::TlsUnknownVersion).to_string(),
    };
    if let Some(suite) = &session.suite {
        text.push_str(&trf(l, Msg::TlsSuite, &[suite]));
    }
    if let Some(alpn) = &session.alpn {
        text.push_str(&trf(l, Msg::TlsAlpn, &[alpn]));
    }
    text
}

impl Render for WsFault {
    fn render(&self, l: Language) -> String {
        match self {
            Self::Io(cause) => cause.render(l),
            Self::ConnectionClosed => tr(l, Msg::WsConnectionClosed).to_string(),
            Self::ClosedWithoutCloseFrame => tr(l, Msg::WsNoCloseFrame).to_string(),
            Self::MessageTooBig { size, max_size } => trf(l, Msg::WsTooBig, &[size, max_size]),
            Self::Protocol { detail } => trf(l, Msg::WsProtocol, &[detail]),
            Self::Other { detail } => trf(l, Msg::WsOther, &[detail]),
        }
    }
}

impl Render for WsClose {
    /// `1000 normal`, `1001 going away ("bye")`, or `no status code`.
    fn render(&self, l: Language) -> String {
        let Some(code) = self.code else {
            return tr(l, Msg::WsNoStatus).to_string();
        };
        let name = match code {
            1000 => Some(Msg::WsCodeNormal),
            1001 => Some(Msg::WsCodeAway),
            1002 => Some(Msg::WsCodeProtocol),
            1003 => Some(Msg::WsCodeUnsupported),
            1005 => Some(Msg::WsCodeStatus),
            1006 => Some(Msg::WsCodeAbnormal),
            1007 => Some(Msg::WsCodeInvalid),
            1008 => Some(Msg::WsCodePolicy),
            1009 => Some(Msg::WsCodeSize),
            1010 => Some(Msg::WsCodeExtension),
            1011 => Some(Msg::WsCodeError),
            1012 => Some(Msg::WsCodeRestart),
            1013 => Some(Msg::WsCodeAgain),
            1015 => Some(Msg::WsCodeTls),
            _ => None,
        };
        let mut text = code.to_string();
        if let Some(name) = name {
            text.push(' ');
            text.push_str(tr(l, name));
        }
        if !self.reason.is_empty() {
            text.push_str(&trf(
                l,
                Msg::Parenthesized,
                &[&format!("{:?}", self.reason)],
            ));
        }
        text
    }
}

impl Render for CloseReason {
    fn render(&self, l: Language) -> String {
        match self {
            Self::ClosedByPeer => tr(l, Msg::CloseByPeer).to_string(),
            Self::ClosedByPeerTls => tr(l, Msg::CloseByPeerTls).to_string(),
            Self::ClosedWithoutCloseNotify => tr(l, Msg::CloseWithoutNotify).to_string(),
            Self::ByUser => tr(l, Msg::CloseByUser).to_string(),
            Self::SessionStopped => tr(l, Msg::CloseSessionStopped).to_string(),
            Self::ForgottenByUser => tr(l, Msg::CloseForgotten).to_string(),
            Self::EvictedIdle { limit, evicted } => {
                trf(l, Msg::CloseEvictedIdle, &[limit, evicted])
            }
            Self::Io(cause) => cause.render(l),
            Self::Tls(fault) => fault.render(l),
            Self::Ws(fault) => fault.render(l),
            Self::WsClosedByPeer { close } => trf(l, Msg::CloseWsByPeer, &[&close.render(l)]),
            Self::GoneAfterHalfClose {
                peer_is_server,
                cause,
            } => trf(
                l,
                Msg::CloseGoneAfterHalfClose,
                &[&peer_noun(l, *peer_is_server), &cause.render(l)],
            ),
            Self::Internal { detail } => trf(l, Msg::CloseInternal, &[detail]),
            Self::ByTarget(reason) => trf(l, Msg::CloseByTarget, &[&reason.render(l)]),
            Self::TargetUnreachable(failure) => {
                trf(l, Msg::CloseTargetUnreachable, &[&failure.render(l)])
            }
            Self::ClientTls(rejection) => trf(l, Msg::CloseClientTls, &[&rejection.render(l)]),
            Self::Idle { ms } => trf(l, Msg::CloseIdle, &[&limit_text(l, *ms)]),
            Self::Fault { leg, fired } => {
                let (key, after) = match fired {
                    Fired::Close { after } => (Msg::CloseFaultClose, after),
                    Fired::Reset { after } => (Msg::CloseFaultReset, after),
                    Fired::Drop { after } => (Msg::CloseFaultDrop, after),
                };
                trf(l, key, &[&leg.word(), after])
            }
            Self::DeviceGone { path } => trf(l, Msg::CloseDeviceGone, &[path]),
        }
    }
}

/// A relay direction in words: `up (client → target)`.
pub fn leg_text(l: Language, leg: Leg) -> &'static str {
    tr(
        l,
        match leg {
            Leg::Up => Msg::LegUp,
            Leg::Down => Msg::LegDown,
        },
    )
}

/// A time limit: `10 s` when it is whole seconds, else `250 ms`.
fn limit_text(l: Language, ms: u64) -> String {
    if ms > 0 && ms.is_multiple_of(1000) {
        trf(l, Msg::LimitSeconds, &[&(ms / 1000)])
    } else {
        trf(l, Msg::LimitMillis, &[&ms])
    }
}

/// `client` or `server`.
fn peer_noun(l: Language, peer_is_server: bool) -> &'static str {
    tr(
        l,
        if peer_is_server {
            Msg::NounServer
        } else {
            Msg::NounClient
        },
    )
}

impl Render for StartFailure {
    fn render(&self, l: Language) -> String {
        match self {
            Self::Resolve { host, cause } => trf(l, Msg::FailResolve, &[host, &cause.render(l)]),
            Self::NoAddress { host } => trf(l, Msg::FailNoAddress, &[host]),
            Self::Bind { addr, cause } => trf(l, Msg::FailBind, &[addr, &cause.render(l)]),
            Self::Listen { addr, cause } => trf(l, Msg::FailListen, &[addr, &cause.render(l)]),
            Self::Connect { addr, cause } => trf(l, Msg::FailConnect, &[addr, &cause.render(l)]),
            Self::ConnectTimeout { addr, ms } => trf(l, Msg::FailConnectTimeout, &[addr, ms]),
            Self::ClosedWhileOpening => tr(l, Msg::FailClosedWhileOpening).to_string(),
            Self::SerialOpen { path, fault } => {
                trf(l, Msg::FailSerialOpen, &[path, &fault.render(l)])
            }
            Self::UdpSocket { cause } => trf(l, Msg::FailUdpSocket, &[&cause.render(l)]),
            Self::Unreachable { target, cause } => {
                trf(l, Msg::FailUnreachable, &[target, &cause.render(l)])
            }
            Self::NotMulticast { host } => trf(l, Msg::FailNotMulticast, &[host]),
            Self::JoinPoint { group, problem } => {
                trf(l, Msg::FailJoinPoint, &[group, &problem.render(l)])
            }
            Self::Join(problem) => problem.render(l),
            Self::GroupSocket { step, cause } => trf(
                l,
                Msg::FailGroupSocket,
                &[&step.render(l), &cause.render(l)],
            ),
            Self::TlsSetup(error) => error.render(l),
            Self::TlsHandshake { addr, fault } => {
                trf(l, Msg::FailTlsHandshake, &[addr, &fault.render(l)])
            }
            Self::TlsHandshakeTimeout { addr, ms } => trf(
                l,
                Msg::FailTlsHandshakeTimeout,
                &[addr, &limit_text(l, *ms)],
            ),
            Self::WsUpgradeTimeout { url, ms } => {
                trf(l, Msg::FailWsUpgradeTimeout, &[url, &limit_text(l, *ms)])
            }
            Self::WsBadUrl { url, detail } => trf(l, Msg::FailWsBadUrl, &[url, detail]),
            Self::WsBadSubprotocol { subprotocol } => {
                trf(l, Msg::FailWsBadSubprotocol, &[subprotocol])
            }
            Self::WsRefused {
                url,
                status,
                status_text,
                body,
            } => {
                let body = body
                    .as_ref()
                    .map_or_else(String::new, |b| trf(l, Msg::FailWsRefusedBody, &[b]));
                trf(l, Msg::FailWsRefused, &[url, status, status_text, &body])
            }
            Self::WsNoSubprotocol { url, asked } => trf(l, Msg::FailWsNoSubprotocol, &[url, asked]),
            Self::WsUpgradeFailed { url, fault } => {
                trf(l, Msg::FailWsUpgrade, &[url, &fault.render(l)])
            }
        }
    }
}

impl Render for TlsSetupError {
    fn render(&self, l: Language) -> String {
        match self {
            Self::KeyWithoutCert => tr(l, Msg::TlsKeyWithoutCert).to_string(),
            Self::Setup { detail } => trf(l, Msg::TlsSetupFailed, &[detail]),
            Self::KeyMismatch => tr(l, Msg::TlsKeyMismatch).to_string(),
            Self::CertKeyUnusable { detail } => trf(l, Msg::TlsCertKeyUnusable, &[detail]),
            Self::InvalidServerName { host } => trf(l, Msg::TlsInvalidServerName, &[host]),
            Self::CaUnusable { path, detail } => trf(l, Msg::TlsCaUnusable, &[path, detail]),
            Self::ReadCertificate { path, cause } => {
                trf(l, Msg::TlsReadCertificate, &[path, &cause.render(l)])
            }
            Self::NoCertificate { path } => trf(l, Msg::TlsNoCertificateIn, &[path]),
            Self::NoKey { path } => trf(l, Msg::TlsNoKey, &[path]),
            Self::ReadKey { path, cause } => trf(l, Msg::TlsReadKey, &[path, &cause.render(l)]),
            Self::ReadCa { path, cause } => trf(l, Msg::TlsReadCa, &[path, &cause.render(l)]),
            Self::NoUsableCa { path } => trf(l, Msg::TlsNoUsableCa, &[path]),
            Self::NoSystemRoots { detail } => {
                let detail = detail
                    .as_ref()
                    .map_or_else(String::new, |d| trf(l, Msg::Parenthesized, &[d]));
                trf(l, Msg::TlsNoSystemRoots, &[&detail])
            }
            Self::Generate { detail } => trf(l, Msg::TlsGenerate, &[detail]),
        }
    }
}

impl Render for PemProblem {
    fn render(&self, l: Language) -> String {
        match self {
            Self::Io(cause) => cause.render(l),
            Self::Invalid { detail } => trf(l, Msg::PemInvalid, &[detail]),
        }
    }
}

impl Render for Interface {
    /// `eth0`, `interface 3`, or `the default interface`.
    fn render(&self, l: Language) -> String {
        match self {
            Self::Named(name) => name.clone(),
            Self::Index(index) => trf(l, Msg::IfaceIndex, &[index]),
            Self::Default => tr(l, Msg::IfaceDefault).to_string(),
        }
    }
}

impl Render for JoinProblem {
    fn render(&self, l: Language) -> String {
        match self {
            Self::NoInterfaceWithAddress { addr } => trf(l, Msg::JoinNoAddress, &[addr]),
            Self::NoIndex { interface } => trf(l, Msg::JoinNoIndex, &[interface]),
            Self::WrongFamily { iface, group_ipv4 } => {
                let family = if *group_ipv4 { "IPv4" } else { "IPv6" };
                trf(l, Msg::JoinWrongFamily, &[iface, &family])
            }
            Self::NoInterfaceWithIndex { index } => trf(l, Msg::JoinNoInterfaceWithIndex, &[index]),
            Self::NoInterfaceNamed { name } => trf(l, Msg::JoinNoInterfaceNamed, &[name]),
            Self::NoIpv4 { interface } => trf(l, Msg::JoinNoIpv4, &[interface]),
            Self::Down { interface } => trf(l, Msg::JoinDown, &[&interface.render(l)]),
            Self::JoinFailed {
                group,
                interface,
                cause,
            } => {
                let interface = interface.render(l);
                let why = match cause {
                    JoinCause::NoMulticastRoute => tr(l, Msg::JoinNoRoute).to_string(),
                    JoinCause::NoSuchDevice => trf(l, Msg::JoinNoDevice, &[&interface]),
                    JoinCause::Os(cause) => cause.render(l),
                };
                trf(l, Msg::JoinFailed, &[group, &interface, &why])
            }
        }
    }
}

impl Render for SocketStep {
    fn render(&self, l: Language) -> String {
        match self {
            Self::OpenUdp => tr(l, Msg::StepOpenUdp).to_string(),
            Self::ShareAddress => tr(l, Msg::StepShareAddress).to_string(),
            Self::SharePort => tr(l, Msg::StepSharePort).to_string(),
            Self::SetTtl { ttl } => trf(l, Msg::StepSetTtl, &[ttl]),
            Self::SetLoopback => tr(l, Msg::StepSetLoopback).to_string(),
            Self::SendFrom { addr } => trf(l, Msg::StepSendFrom, &[addr]),
            Self::SetHops { hops } => trf(l, Msg::StepSetHops, &[hops]),
            Self::SendOn { interface } => trf(l, Msg::StepSendOn, &[&interface.render(l)]),
        }
    }
}

impl Render for Refusal {
    fn render(&self, l: Language) -> String {
        match self {
            Self::SessionNotRunning => tr(l, Msg::RefuseNotRunning).to_string(),
            Self::NoClient => tr(l, Msg::RefuseNoClient).to_string(),
            Self::DeviceAway => tr(l, Msg::RefuseDeviceAway).to_string(),
            Self::Reconnecting => tr(l, Msg::RefuseReconnecting).to_string(),
            Self::PeerGone { peer } => trf(l, Msg::RefusePeerGone, &[&peer.0]),
            Self::NoUdpPeer => tr(l, Msg::RefuseNoUdpPeer).to_string(),
            Self::ResponderForgotten => tr(l, Msg::RefuseResponderForgotten).to_string(),
            Self::SourceForgotten => tr(l, Msg::RefuseSourceForgotten).to_string(),
            Self::NotARelay => tr(l, Msg::RefuseNotARelay).to_string(),
            Self::NotASerialPort => tr(l, Msg::RefuseNotASerialPort).to_string(),
            Self::RelayNeedsLeg => tr(l, Msg::RefuseRelayNeedsLeg).to_string(),
        }
    }
}

impl Render for PeerList {
    /// `client #1`, or `3 clients (#1, #2, #5)` with at most a few ids.
    fn render(&self, l: Language) -> String {
        match self.shown.as_slice() {
            [one] if self.total == 1 => trf(l, Msg::PeersOne, &[&one.0]),
            shown => {
                let mut ids: Vec<String> = shown.iter().map(|p| format!("#{}", p.0)).collect();
                if self.total > shown.len() {
                    ids.push("...".to_string());
                }
                trf(l, Msg::PeersMany, &[&self.total, &ids.join(", ")])
            }
        }
    }
}

impl Render for Warning {
    fn render(&self, l: Language) -> String {
        match self {
            Self::NotSent(refusal) => refusal.render(l),
            Self::RulesRejected(error) => {
                trf(l, Msg::WarnRulesRejected, &[&rule_error_text(l, error)])
            }
            Self::QueueFull {
                peers,
                queued_kib,
                limit_kib,
                auto_reply,
            } => {
                let text = trf(
                    l,
                    Msg::WarnQueueFull,
                    &[&peers.render(l), queued_kib, limit_kib],
                );
                if *auto_reply {
                    trf(l, Msg::WarnAutoReply, &[&text])
                } else {
                    text
                }
            }
            Self::SendFailed { peer, cause } => {
                trf(l, Msg::WarnSendFailed, &[&peer.0, &cause.render(l)])
            }
            Self::Unsent {
                count,
                messages,
                bytes,
                peer,
                reason,
            } => {
                let unit = tr(
                    l,
                    if *messages {
                        Msg::UnitMessages
                    } else {
                        Msg::UnitSends
                    },
                );
                trf(
                    l,
                    Msg::WarnUnsent,
                    &[count, &unit, bytes, &peer.0, &reason.render(l)],
                )
            }
            Self::AcceptFailed { cause } => trf(l, Msg::WarnAcceptFailed, &[&cause.render(l)]),
            Self::DatagramTruncated { sent, len } => trf(l, Msg::WarnTruncated, &[sent, len]),
            Self::DatagramTooBig { len } => trf(l, Msg::WarnTooBig, &[len]),
            Self::UdpSendFailed { cause } => trf(l, Msg::WarnUdpSendFailed, &[&cause.render(l)]),
            Self::PortUnreachable => tr(l, Msg::WarnPortUnreachable).to_string(),
            Self::ReceiveFailed { cause } => trf(l, Msg::WarnReceiveFailed, &[&cause.render(l)]),
            Self::ReceiveBufferCapped {
                granted_kib,
                asked_kib,
                rmem_max,
            } => trf(
                l,
                Msg::WarnBufferCapped,
                &[granted_kib, asked_kib, rmem_max],
            ),
            Self::KernelDrops { dropped, total } => trf(l, Msg::WarnKernelDrops, &[dropped, total]),
            Self::ReplyUnbuildable {
                rule,
                summary,
                error,
            } => trf(
                l,
                Msg::WarnReplyUnbuildable,
                &[rule, &summary.render(l), &send_error_text(l, error)],
            ),
            Self::TlsClientDropped { addr, why } => {
                trf(l, Msg::WarnTlsClientDropped, &[addr, &why.render(l)])
            }
            Self::TlsHandshakeFailed { addr, fault } => {
                trf(l, Msg::FailTlsHandshake, &[addr, &fault.render(l)])
            }
            Self::WsUpgradeFailed { addr, fault } => {
                trf(l, Msg::WarnWsUpgradeFailed, &[addr, &fault.render(l)])
            }
            Self::WsTlsWithoutTls { addr } => trf(l, Msg::WarnWsTls, &[addr]),
            Self::WsNoRequest { addr } => trf(l, Msg::WarnWsNoRequest, &[addr]),
            Self::WsUpgradeTimeout { addr, ms } => {
                trf(l, Msg::WarnWsTimeout, &[addr, &limit_text(l, *ms)])
            }
            Self::GroupLeft { group, problem } => {
                trf(l, Msg::WarnGroupLeft, &[group, &problem.render(l)])
            }
            Self::LogSpillFailed {
                cause,
                lost_entries,
            } => trf(
                l,
                Msg::WarnLogSpillFailed,
                &[&cause.render(l), lost_entries],
            ),
            Self::LogDiskFull { cause } => trf(l, Msg::WarnLogDiskFull, &[&cause.render(l)]),
            Self::SerialControlFailed { control, fault } => trf(
                l,
                Msg::WarnSerialControlFailed,
                &[&control.render(l), &fault.render(l)],
            ),
        }
    }
}

impl Render for SerialControl {
    /// `DTR on`, `RTS off`, `break (250 ms)`.
    fn render(&self, l: Language) -> String {
        let level = |on: bool| tr(l, if on { Msg::LineOn } else { Msg::LineOff });
        match self {
            Self::Dtr(on) => format!("DTR {}", level(*on)),
            Self::Rts(on) => format!("RTS {}", level(*on)),
            Self::Break => trf(l, Msg::SerialBreak, &[&crate::serial::BREAK_MS]),
        }
    }
}

impl Render for RuleSummary {
    /// `contains "ping" => "pong\r\n"`: texts quoted once, as typed (control characters
    /// escaped so the line stays one line).
    fn render(&self, l: Language) -> String {
        let quoted = |text: &str| format!("\"{}\"", escape_controls(text));
        let hex = tr(l, Text::PatternHex);
        let kind = tr(
            l,
            match self.match_kind {
                MatchKind::Any => Text::MatchAny,
                MatchKind::Exact => Text::MatchExact,
                MatchKind::Contains => Text::MatchContains,
                MatchKind::StartsWith => Text::MatchStartsWith,
                MatchKind::Regex => Text::MatchRegex,
            },
        );
        let pattern = match (self.match_kind, self.pattern_hex) {
            (MatchKind::Any, _) => kind.to_string(),
            (_, true) => format!("{kind} {hex} {}", self.pattern),
            (_, false) => format!("{kind} {}", quoted(&self.pattern)),
        };
        let reply = match &self.reply {
            ReplySummary::Echo => tr(l, Text::ReplyEcho).to_string(),
            ReplySummary::Hex(reply) => format!("{hex} {reply}"),
            ReplySummary::Text(reply) => quoted(reply),
        };
        if self.name.is_empty() {
            format!("{pattern} => {reply}")
        } else {
            trf(l, Msg::SummaryNamed, &[&self.name, &pattern, &reply])
        }
    }
}

impl Render for Note {
    fn render(&self, l: Language) -> String {
        match self {
            Self::RelayLinked { local, target } => trf(l, Msg::NoteRelayLinked, &[local, target]),
            Self::SerialOpened { path, line } => trf(l, Msg::NoteSerialOpened, &[path, line]),
            Self::SerialWaiting { path } => trf(l, Msg::NoteSerialWaiting, &[path]),
            Self::Reconnecting { why, every_ms } => {
                trf(l, Msg::NoteReconnecting, &[&why.render(l), every_ms])
            }
            // `DTR on`, `break (250 ms)`: the control says it all.
            Self::SerialControlled(control) => control.render(l),
            Self::FaultsChanged { faults } => {
                let words = faults.words();
                if words.is_empty() {
                    trf(l, Msg::NoteFaultsChanged, &[&tr(l, Msg::NoteFaultsNone)])
                } else {
                    trf(l, Msg::NoteFaultsChanged, &[&words.join(",")])
                }
            }
            Self::Hold { leg, held: true } => trf(l, Msg::NoteHeld, &[&leg_text(l, *leg)]),
            Self::Hold { leg, held: false } => trf(l, Msg::NoteReleased, &[&leg_text(l, *leg)]),
            Self::Stepped { leg, bytes } => trf(l, Msg::NoteStepped, &[&leg_text(l, *leg), bytes]),
            Self::Dropping { leg, after } => trf(l, Msg::NoteDropping, &[&leg.word(), after]),
            Self::AutoReply {
                rule,
                summary,
                len,
                shown,
            } => {
                let mut bytes = to_hex_spaced(shown);
                if *len > shown.len() {
                    bytes.push_str(" …");
                }
                trf(
                    l,
                    Msg::NoteAutoReply,
                    &[rule, &summary.render(l), len, &bytes],
                )
            }
            Self::AutoReplyEmpty { rule, summary } => {
                trf(l, Msg::NoteAutoReplyEmpty, &[rule, &summary.render(l)])
            }
            Self::HalfClosed { peer_is_server } => {
                trf(l, Msg::NoteHalfClosed, &[&peer_noun(l, *peer_is_server)])
            }
            Self::PeerTableFull { limit } => trf(l, Msg::NotePeerTableFull, &[limit]),
            Self::ClientRefused { limit, addr } => trf(l, Msg::NoteClientRefused, &[limit, addr]),
            Self::ClientsRefused { limit, count } => {
                trf(l, Msg::NoteClientsRefused, &[limit, count])
            }
            Self::PeriodicStarted {
                bytes,
                interval_ms,
                count,
            } => {
                let times = match count {
                    Some(count) => trf(l, Msg::TimesCount, &[count]),
                    None => tr(l, Msg::TimesUntilStopped).to_string(),
                };
                trf(l, Msg::NotePeriodicStarted, &[bytes, interval_ms, &times])
            }
            Self::PeriodicPaused { why } => match why {
                Refusal::Reconnecting => tr(l, Msg::NotePeriodicWaitsToReconnect).to_string(),
                Refusal::DeviceAway => tr(l, Msg::NotePeriodicWaitsForDevice).to_string(),
                other => trf(l, Msg::NotePeriodicPaused, &[&other.render(l)]),
            },
            Self::PeriodicResumed { skipped } => trf(l, Msg::NotePeriodicResumed, &[skipped]),
            Self::PeriodicEnded { sent, outcome } => match outcome {
                JobOutcome::Completed => trf(l, Msg::NotePeriodicFinished, &[sent]),
                JobOutcome::Cancelled => trf(l, Msg::NotePeriodicStopped, &[sent]),
                JobOutcome::Failed(_) | JobOutcome::FileFailed(_) => trf(
                    l,
                    Msg::NotePeriodicEnded,
                    &[sent, &outcome_reason(l, outcome)],
                ),
            },
            Self::SendingFile { name, size } => match size {
                Some(size) => trf(l, Msg::NoteSendingFile, &[name, size]),
                None => trf(l, Msg::NoteSendingFileUnknownSize, &[name]),
            },
            Self::FileEnded {
                name,
                bytes,
                outcome,
            } => match outcome {
                JobOutcome::Completed => trf(l, Msg::NoteFileSent, &[name, bytes]),
                JobOutcome::Cancelled => trf(l, Msg::NoteFileCancelled, &[bytes, name]),
                JobOutcome::Failed(_) | JobOutcome::FileFailed(_) => trf(
                    l,
                    Msg::NoteFileFailed,
                    &[bytes, &outcome_reason(l, outcome)],
                ),
            },
            Self::Rejoined { group, interface } => {
                trf(l, Msg::NoteRejoined, &[group, &interface.render(l)])
            }
            Self::TlsCertificateLoaded { path, certificate } => {
                trf(l, Msg::TlsCertificateFrom, &[path, &certificate.render(l)])
            }
            Self::TlsCertificateGenerated {
                names,
                fingerprint,
                pem,
            } => {
                let names = names.join(", ");
                match pem {
                    PemWrite::Written { path } => {
                        trf(l, Msg::TlsGenerated, &[&names, fingerprint, path])
                    }
                    PemWrite::Failed { path, reason } => trf(
                        l,
                        Msg::TlsGeneratedUnwritten,
                        &[&names, fingerprint, path, reason],
                    ),
                    PemWrite::Refused { path, dir, why } => {
                        let key = match why {
                            DirRefusal::Symlink => Msg::DirIsSymlink,
                            DirRefusal::NotDirectory => Msg::DirNotDirectory,
                            DirRefusal::OtherOwner => Msg::DirOtherOwner,
                        };
                        let reason = trf(l, key, &[dir]);
                        trf(
                            l,
                            Msg::TlsGeneratedUnwritten,
                            &[&names, fingerprint, path, &reason],
                        )
                    }
                    PemWrite::NoDirectory => {
                        trf(l, Msg::TlsGeneratedNowhere, &[&names, fingerprint])
                    }
                }
            }
            Self::TlsEstablished {
                session,
                peer_certificate,
            } => {
                let mut text = trf(l, Msg::TlsEstablished, &[&session_text(l, session)]);
                match peer_certificate {
                    Some(cert) => {
                        text.push_str(&trf(l, Msg::TlsPeerCertificate, &[&cert.render(l)]))
                    }
                    None => text.push_str(tr(l, Msg::TlsNoPeerCertificate)),
                }
                text
            }
            Self::TlsClientEstablished {
                session,
                server_name,
                client_certificate,
            } => {
                let mut text = trf(l, Msg::TlsEstablished, &[&session_text(l, session)]);
                match server_name {
                    Some(name) => text.push_str(&trf(l, Msg::TlsClientAskedFor, &[name])),
                    None => text.push_str(tr(l, Msg::TlsNoSni)),
                }
                if let Some(cert) = client_certificate {
                    text.push_str(&trf(l, Msg::TlsClientCertificate, &[&cert.render(l)]));
                }
                text
            }
            Self::WsUpgraded {
                url,
                status,
                status_text,
                subprotocol,
            } => {
                let protocol = match subprotocol {
                    Some(p) => trf(l, Msg::WsSubprotocolIs, &[p]),
                    None => tr(l, Msg::WsNoSubprotocol).to_string(),
                };
                trf(l, Msg::WsUpgraded, &[url, status, status_text, &protocol])
            }
            Self::WsClientUpgraded { path, subprotocol } => {
                let protocol = match subprotocol {
                    WsSubprotocol::Chosen(p) => trf(l, Msg::WsSubprotocolIs, &[p]),
                    WsSubprotocol::NoneOffered { wanted } => trf(l, Msg::WsNoneOffered, &[wanted]),
                    WsSubprotocol::NotOffered { offered, wanted } => {
                        trf(l, Msg::WsNotOffered, &[&offered.join(", "), wanted])
                    }
                    WsSubprotocol::Nothing => tr(l, Msg::WsNoSubprotocol).to_string(),
                };
                trf(l, Msg::WsClientConnected, &[path, &protocol])
            }
            Self::WsUpgradeRefused { addr, path, serves } => match serves {
                Some(serves) => trf(l, Msg::WsRefusedUpgrade, &[addr, path, serves]),
                None => trf(l, Msg::WsRefusedUpgradeBare, &[addr, path]),
            },
            Self::PlainHttpAnswered { addr, request_line } => {
                trf(l, Msg::WsPlainHttp, &[addr, request_line])
            }
            Self::WsCloseSent { why } => trf(l, Msg::WsCloseSent, &[&why.render(l)]),
            Self::WsCloseFailed { why, fault } => {
                trf(l, Msg::WsCloseFailed, &[&why.render(l), &fault.render(l)])
            }
            Self::WsCloseStuck { why } => trf(l, Msg::WsCloseStuck, &[&why.render(l)]),
            Self::WsCloseAnswered { close } => trf(l, Msg::WsCloseAnswered, &[&close.render(l)]),
            Self::WsCloseUnanswered => tr(l, Msg::WsCloseUnanswered).to_string(),
            Self::WsCloseTimeout { ms } => trf(l, Msg::WsCloseTimeout, &[ms]),
            Self::WsPing { bytes } => trf(l, Msg::WsPing, &[bytes]),
            Self::WsPong { bytes } => trf(l, Msg::WsPong, &[bytes]),
            Self::WsPeerClosed { close } => trf(l, Msg::WsPeerClosed, &[&close.render(l)]),
        }
    }
}

/// Why a job that failed ended (for [`JobOutcome::Failed`] and [`JobOutcome::FileFailed`]).
fn outcome_reason(l: Language, outcome: &JobOutcome) -> String {
    match outcome {
        JobOutcome::Failed(failure) => failure.render(l),
        JobOutcome::FileFailed(error) => error.render(l),
        JobOutcome::Completed | JobOutcome::Cancelled => String::new(),
    }
}

impl Render for JobFailure {
    fn render(&self, l: Language) -> String {
        match self {
            Self::NotRunning => tr(l, Msg::JobNotRunning).to_string(),
            Self::SessionStopped => tr(l, Msg::JobSessionStopped).to_string(),
            Self::Refused(refusal) => refusal.render(l),
            Self::Expand(error) => super::scenario::expand_error_text(l, error),
        }
    }
}

impl Render for Disconnected {
    fn render(&self, l: Language) -> String {
        match self {
            Self::Connect(failure) => failure.render(l),
            Self::Ended(reason) => reason.render(l),
        }
    }
}

impl Render for NotRun {
    fn render(&self, l: Language) -> String {
        match self {
            Self::StartFailed(failure) => failure.render(l),
            Self::Refused(refused) => refused.render(l),
        }
    }
}

impl Render for FileError {
    fn render(&self, l: Language) -> String {
        match self {
            Self::Open { name, cause } => trf(l, Msg::FileOpen, &[name, &cause.render(l)]),
            Self::Read { name, cause } => trf(l, Msg::FileRead, &[name, &cause.render(l)]),
        }
    }
}

/// A running session's state: `listening on 0.0.0.0:6001`, `bound to ...`.
pub fn running_text(l: Language, kind: SessionKind, local_addr: &std::net::SocketAddr) -> String {
    let key = match kind {
        SessionKind::TcpServer
        | SessionKind::TlsServer
        | SessionKind::WsServer
        | SessionKind::Relay => Text::StateListening,
        SessionKind::TcpClient | SessionKind::TlsClient | SessionKind::WsClient => {
            Text::StateConnectedFrom
        }
        SessionKind::UdpServer | SessionKind::UdpRelay => Text::StateBound,
        SessionKind::UdpClient => Text::StateReady,
        SessionKind::UdpGroup => Text::StateJoined,
        // A port has no socket address: the note that follows names its path and settings.
        SessionKind::Serial => return tr(l, Text::StateOpen).to_string(),
    };
    trf(l, key, &[local_addr])
}

impl Render for LogNote {
    fn render(&self, l: Language) -> String {
        match self {
            Self::Started { kind, local_addr } => running_text(l, *kind, local_addr),
            Self::StartFailed(failure) => failure.render(l),
            Self::PeerConnected(role) => tr(
                l,
                match role {
                    PeerRole::Connected => Msg::LogConnected,
                    PeerRole::Target => Msg::LogTarget,
                    PeerRole::Group => Msg::LogGroup,
                    PeerRole::NewPeer => Msg::LogNewPeer,
                },
            )
            .to_string(),
            Self::PeerDisconnected(reason) => trf(l, Text::StateEnded, &[&reason.render(l)]),
            Self::Warning(warning) => warning.render(l),
            Self::Note(note) => note.render(l),
            Self::Stopped => tr(l, Text::StateStopped).to_string(),
            Self::Ended(reason) => trf(l, Msg::LogEnded, &[&reason.render(l)]),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::codec::reply::{ReplyKind, ReplyRule};
    use crate::protocol::{PeerId, Refusal};

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("address")
    }

    fn has_chinese(text: &str) -> bool {
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    /// The ping rule of the examples: `contains "ping" => "pong\r\n"` as typed (escapes on).
    fn ping_rule() -> RuleSummary {
        ReplyRule {
            match_kind: MatchKind::Contains,
            pattern: "ping".into(),
            reply_kind: ReplyKind::Send,
            reply: "pong\\r\\n".into(),
            ..ReplyRule::default()
        }
        .summary()
    }

    /// The English of each message is, word for word, what the engine used to write (and
    /// what scripts reading headless output parse).
    #[test]
    fn english_is_the_engines_former_wording() {
        let in_use = StartFailure::Bind {
            addr: addr("0.0.0.0:6001"),
            cause: OsError::AddrInUse,
        };
        let table: Vec<(String, &str)> = vec![
            (
                in_use.to_string(),
                "cannot bind 0.0.0.0:6001: address already in use (another program or session \
                 has this port)",
            ),
            (
                StartFailure::Connect {
                    addr: addr("127.0.0.1:1"),
                    cause: OsError::ConnectionRefused,
                }
                .to_string(),
                "cannot connect to 127.0.0.1:1: connection refused (nothing is listening there)",
            ),
            (
                StartFailure::ConnectTimeout {
                    addr: addr("10.255.255.1:80"),
                    ms: 3000,
                }
                .to_string(),
                "cannot connect to 10.255.255.1:80: timed out after 3000 ms (no answer; the host \
                 may be down or a firewall drops the connection)",
            ),
            (
                LogNote::PeerDisconnected(CloseReason::ClosedByPeer).to_string(),
                "disconnected: closed by peer",
            ),
            (
                LogNote::Ended(CloseReason::Io(OsError::ConnectionReset)).to_string(),
                "ended: connection reset by peer",
            ),
            (
                CloseReason::GoneAfterHalfClose {
                    peer_is_server: true,
                    cause: Box::new(CloseReason::Io(OsError::BrokenPipe)),
                }
                .to_string(),
                "server gone after its half-close: broken pipe (the peer closed the connection)",
            ),
            (
                Warning::QueueFull {
                    peers: PeerList::of(&[PeerId(1)]),
                    queued_kib: 4100,
                    limit_kib: 4096,
                    auto_reply: true,
                }
                .to_string(),
                "auto-reply not sent to client #1: 4100 KiB already queued because it is not \
                 reading (limit 4096 KiB); send again once it reads",
            ),
            (
                PeerList::of(&(1..=7).map(PeerId).collect::<Vec<_>>()).to_string(),
                "7 clients (#1, #2, #3, #4, #5, ...)",
            ),
            (
                Warning::Unsent {
                    count: 3,
                    messages: false,
                    bytes: 12,
                    peer: PeerId(2),
                    reason: CloseReason::ByUser,
                }
                .to_string(),
                "3 send(s) (12 bytes) to client #2 not sent: disconnected by user",
            ),
            (
                Warning::NotSent(Refusal::PeerGone { peer: PeerId(4) }).to_string(),
                "not sent: client #4 is no longer connected",
            ),
            (
                Note::AutoReply {
                    rule: 1,
                    summary: ping_rule(),
                    len: 6,
                    shown: b"pong\r\n".to_vec(),
                }
                .to_string(),
                "auto-reply rule 1 (contains \"ping\" => \"pong\\r\\n\") matched; replying 6 \
                 bytes: 70 6F 6E 67 0D 0A",
            ),
            (
                Note::PeriodicStarted {
                    bytes: 8,
                    interval_ms: 5,
                    count: None,
                }
                .to_string(),
                "periodic send started: 8 bytes every 5 ms, until stopped",
            ),
            (
                Note::PeriodicEnded {
                    sent: 2,
                    outcome: JobOutcome::Failed(JobFailure::Refused(Refusal::NoClient)),
                }
                .to_string(),
                "periodic send ended after 2 sends: not sent: no client is connected",
            ),
            (
                Note::PeriodicPaused {
                    why: Refusal::Reconnecting,
                }
                .to_string(),
                "periodic send waits for the connection (reconnect); it tries once each \
                 interval and goes on when a send goes through",
            ),
            (
                Note::PeriodicResumed { skipped: 3 }.to_string(),
                "periodic send goes on (3 skipped while waiting)",
            ),
            (
                Note::FileEnded {
                    name: "/tmp/x".into(),
                    bytes: 10,
                    outcome: JobOutcome::Completed,
                }
                .to_string(),
                "file sent: /tmp/x (10 bytes)",
            ),
            (
                WsClose {
                    code: Some(1001),
                    reason: "bye".into(),
                }
                .to_string(),
                "1001 going away (\"bye\")",
            ),
            (
                Note::TlsEstablished {
                    session: TlsSession {
                        version: Some("TLS 1.3".into()),
                        suite: Some("TLS13_AES_256_GCM_SHA384".into()),
                        alpn: None,
                    },
                    peer_certificate: Some(CertSummary::Parsed {
                        subject: "CN=localhost".into(),
                        issuer: None,
                        valid_until: "2027-01-01 00:00 UTC".into(),
                        expired: false,
                    }),
                }
                .to_string(),
                "TLS established: TLS 1.3, TLS13_AES_256_GCM_SHA384; peer certificate: subject \
                 CN=localhost, self-signed, valid until 2027-01-01 00:00 UTC",
            ),
            (
                LogNote::Started {
                    kind: SessionKind::TcpServer,
                    local_addr: addr("127.0.0.1:6001"),
                }
                .to_string(),
                "listening on 127.0.0.1:6001",
            ),
            (
                JoinProblem::JoinFailed {
                    group: "239.1.2.3".parse().expect("group"),
                    interface: Interface::Default,
                    cause: JoinCause::NoMulticastRoute,
                }
                .to_string(),
                "cannot join 239.1.2.3 on the default interface: no interface routes multicast \
                 here (give iface=ADDR|NAME or add a multicast route)",
            ),
            (
                Warning::TlsClientDropped {
                    addr: addr("127.0.0.1:5000"),
                    why: TlsRejection::NotTls {
                        sent: "GET / HTTP/1.1\\r\\n".into(),
                        more: false,
                    },
                }
                .to_string(),
                "TLS handshake with 127.0.0.1:5000 failed: the client does not speak TLS: it \
                 sent \"GET / HTTP/1.1\\r\\n\" (plain text or another protocol on a TLS port); \
                 client dropped",
            ),
            (
                Warning::TlsClientDropped {
                    addr: addr("127.0.0.1:5000"),
                    why: TlsRejection::TimedOut { ms: 10_000 },
                }
                .to_string(),
                "TLS handshake with 127.0.0.1:5000 failed: timed out after 10 s (the client did \
                 not finish its TLS handshake; is it a plain TCP client?); client dropped",
            ),
            (
                Warning::WsUpgradeTimeout {
                    addr: addr("127.0.0.1:5000"),
                    ms: 250,
                }
                .to_string(),
                "WebSocket client 127.0.0.1:5000 did not finish its upgrade within 250 ms; \
                 connection dropped",
            ),
        ];
        for (english, expected) in table {
            assert_eq!(english, expected);
        }
    }

    #[test]
    fn chinese_has_the_values_in_a_chinese_sentence() {
        let refused = StartFailure::Connect {
            addr: addr("127.0.0.1:1"),
            cause: OsError::ConnectionRefused,
        };
        assert_eq!(
            refused.render(Language::Chinese),
            "无法连接到 127.0.0.1:1：连接被拒绝（那里没有程序在监听）"
        );
        let other = CloseReason::Io(OsError::Other {
            os_text: "Bad file descriptor (os error 9)".into(),
        });
        assert_eq!(
            LogNote::PeerDisconnected(other).render(Language::Chinese),
            "已断开：系统错误：Bad file descriptor (os error 9)"
        );
        let note = Note::AutoReply {
            rule: 2,
            summary: ping_rule(),
            len: 6,
            shown: b"pong\r\n".to_vec(),
        };
        assert_eq!(
            note.render(Language::Chinese),
            "自动回复规则 2（包含 \"ping\" => \"pong\\r\\n\"）已匹配；回复 6 字节：70 6F 6E 67 0D 0A"
        );
        for text in [
            LogNote::PeerConnected(PeerRole::Connected).render(Language::Chinese),
            LogNote::Stopped.render(Language::Chinese),
            Warning::PortUnreachable.render(Language::Chinese),
            CloseReason::ClosedWithoutCloseNotify.render(Language::Chinese),
            TlsFault::Alert(TlsAlert::RejectedOurCertificate {
                alert: "UnknownCA".into(),
            })
            .render(Language::Chinese),
        ] {
            assert!(has_chinese(&text), "{text}");
        }
    }

    /// A reply typed with escapes is shown as typed, quoted once (issue 13, bug 4: it showed
    /// `"pong\\r\\n"`); a real control character in a text is shown escaped, on one line.
    #[test]
    fn a_rules_texts_are_quoted_once_as_typed() {
        assert_eq!(
            ping_rule().to_string(),
            "contains \"ping\" => \"pong\\r\\n\""
        );
        let raw = ReplyRule {
            name: "greet".into(),
            match_kind: MatchKind::Exact,
            pattern: "hi\n".into(),
            reply: "hello".into(),
            ..ReplyRule::default()
        };
        assert_eq!(
            raw.summary().to_string(),
            "greet: exactly \"hi\\n\" => \"hello\""
        );
        let hex = ReplyRule {
            match_kind: MatchKind::Any,
            reply: "06".into(),
            options: crate::codec::send::SendOptions {
                hex: true,
                ..Default::default()
            },
            ..ReplyRule::default()
        };
        assert_eq!(hex.summary().to_string(), "anything => hex 06");
        assert_eq!(
            hex.summary().render(Language::Chinese),
            "任意数据 => 十六进制 06"
        );
    }

    /// A refused directory for the generated certificate's PEM (a symlink, not a directory,
    /// another user's) reads in the window's language; its English is the former wording.
    #[test]
    fn a_refused_pem_directory_reads_in_either_language() {
        use crate::protocol::{DirRefusal, PemWrite};
        for (why, english) in [
            (DirRefusal::Symlink, "is a symlink"),
            (DirRefusal::NotDirectory, "is not a directory"),
            (DirRefusal::OtherOwner, "belongs to another user"),
        ] {
            let note = Note::TlsCertificateGenerated {
                names: vec!["localhost".into()],
                fingerprint: "AB:CD".into(),
                pem: PemWrite::Refused {
                    path: "/c/certs/x.pem".into(),
                    dir: "/c/certs".into(),
                    why,
                },
            };
            let en = note.render(Language::English);
            assert!(
                en.ends_with(&format!(
                    "could not write its PEM to /c/certs/x.pem: /c/certs {english}; not used for private files"
                )),
                "{en}"
            );
            let zh = note.render(Language::Chinese);
            assert!(has_chinese(&zh) && !zh.contains(english), "{zh}");
        }
    }
}
