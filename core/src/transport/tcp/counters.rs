//! TCP counters named like Linux's `Tcp` and `TcpExt` MIBs (as `nstat` prints them), plus
//! the reasons segments are dropped.
//!
//! Each connection and listener counts into its own [`TcpCounters`]; the stack folds them
//! into its per-stack totals with [`TcpCounters::add`] (e.g. after each batch, via
//! `take_counters`), so the state machines need no shared state.

use crate::wire::{ParseError, ParseErrorKind};

macro_rules! counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// TCP event and drop counters.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct TcpCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl TcpCounters {
            /// Adds every counter of `other` to this one.
            pub fn add(&mut self, other: &TcpCounters) {
                $( self.$field += other.$field; )*
            }

            /// Calls `f` with each counter's MIB name and value.
            pub fn for_each(&self, mut f: impl FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }
    };
}

counters! {
    /// Connections that went SYN-SENT from CLOSED (connect).
    active_opens => "TcpActiveOpens",
    /// Connections that went SYN-RECEIVED from LISTEN.
    passive_opens => "TcpPassiveOpens",
    /// Connection attempts that failed (reset or timed out in SYN-SENT or SYN-RECEIVED).
    attempt_fails => "TcpAttemptFails",
    /// Connections reset from ESTABLISHED or CLOSE-WAIT.
    estab_resets => "TcpEstabResets",
    /// Segments received.
    in_segs => "TcpInSegs",
    /// Segments sent, retransmissions excluded.
    out_segs => "TcpOutSegs",
    /// Segments retransmitted.
    retrans_segs => "TcpRetransSegs",
    /// Segments received with errors (bad checksum, offset, options).
    in_errs => "TcpInErrs",
    /// Segments sent with RST.
    out_rsts => "TcpOutRsts",
    /// SYNs or handshake ACKs dropped because the accept queue was full.
    listen_overflows => "TcpExtListenOverflows",
    /// SYNs dropped at a listener for any reason (overflows included).
    listen_drops => "TcpExtListenDrops",
    /// SYN cookies sent.
    syncookies_sent => "TcpExtSyncookiesSent",
    /// Valid SYN cookies received.
    syncookies_recv => "TcpExtSyncookiesRecv",
    /// Invalid SYN cookies received.
    syncookies_failed => "TcpExtSyncookiesFailed",
    /// Segments dropped by PAWS in a synchronized state (RFC 7323 §5).
    paws_estab_rejected => "TcpExtPAWSEstab",
    /// Challenge ACKs sent (RFC 5961).
    challenge_acks => "TcpExtTCPChallengeACK",
    /// Challenge ACKs suppressed by the rate limit.
    challenge_acks_skipped => "TcpExtTCPACKSkippedChallenge",
    /// Fast retransmissions.
    fast_retrans => "TcpExtTCPFastRetrans",
    /// Retransmissions after an RTO (in slow start).
    slow_start_retrans => "TcpExtTCPSlowStartRetrans",
    /// Recoveries entered with SACK.
    sack_recovery => "TcpExtTCPSACKRecovery",
    /// Recoveries entered without SACK (NewReno).
    reno_recovery => "TcpExtTCPRenoRecovery",
    /// Retransmission timeouts.
    timeouts => "TcpExtTCPTimeouts",
    /// Tail loss probes sent (RFC 8985 §7).
    loss_probes => "TcpExtTCPLossProbes",
    /// Connections aborted because retransmissions or keepalives went unanswered.
    abort_on_timeout => "TcpExtTCPAbortOnTimeout",
    /// Connections reset because new data arrived after close, or in FIN-WAIT-1/2 after
    /// shutdown of both directions.
    abort_on_data => "TcpExtTCPAbortOnData",
    /// Connections reset on close with unread data.
    abort_on_close => "TcpExtTCPAbortOnClose",
    /// Connections reset by SO_LINGER 0.
    abort_on_linger => "TcpExtTCPAbortOnLinger",
    /// Segments queued out of order.
    ofo_queue => "TcpExtTCPOFOQueue",
    /// Out-of-order segments dropped (no buffer or too many ranges).
    ofo_drop => "TcpExtTCPOFODrop",
    /// Delayed ACKs sent by the timer.
    delayed_acks => "TcpExtDelayedACKs",
    /// Zero-window probes sent.
    win_probe => "TcpExtTCPWinProbe",
    /// Keepalive probes sent.
    keepalive_probes => "TcpExtTCPKeepAlive",
    /// Connections that entered TIME-WAIT.
    time_wait => "TcpExtTW",
    /// TIME-WAIT connections replaced by a new SYN.
    time_wait_recycled => "TcpExtTWRecycled",
    /// RSTs ignored in TIME-WAIT (RFC 1337).
    time_wait_rst_ignored => "TcpExtTWKilledIgnored",
    /// Path MTU reductions applied.
    pmtu_changes => "TcpExtTCPPMTUChange",
    /// ICMP errors ignored because their quoted sequence number was not outstanding.
    icmp_out_of_window => "TcpExtOutOfWindowIcmps",
    /// Drop: bad checksum.
    drop_bad_checksum => "DropTcpCsum",
    /// Drop: header too short or data offset wrong.
    drop_bad_offset => "DropTcpBadOffset",
    /// Drop: malformed options.
    drop_bad_options => "DropTcpBadOptions",
    /// Drop: impossible flag combination.
    drop_bad_flags => "DropTcpFlags",
    /// Drop: sequence numbers outside the receive window.
    drop_out_of_window => "DropTcpInvalidSequence",
    /// Drop: acknowledges data never sent, or too old (RFC 5961 §5).
    drop_bad_ack => "DropTcpInvalidAck",
    /// Drop: segment without ACK in a synchronized state.
    drop_no_ack => "DropTcpNoAck",
    /// Drop: data that did not fit the receive buffer.
    drop_no_buffer => "DropTcpRcvBuf",
    /// Drop: segment for a closed connection.
    drop_closed => "DropTcpClosed",
    /// Drop: segment for no connection or listener (answered with a RST).
    drop_no_socket => "DropTcpNoSocket",
    /// Drop: segment to a broadcast or multicast address, or from or to port 0.
    drop_not_unicast => "DropTcpNotUnicast",
}

impl TcpCounters {
    /// Counts a segment the wire parser refused, by reason, as Linux does with its drop
    /// reasons and TcpInErrs.
    pub fn count_parse_error(&mut self, error: &ParseError) {
        self.in_errs += 1;
        match error.kind {
            ParseErrorKind::Checksum => self.drop_bad_checksum += 1,
            ParseErrorKind::Option(_) => self.drop_bad_options += 1,
            _ => self.drop_bad_offset += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Layer;

    #[test]
    fn parse_errors_are_counted_by_reason() {
        let mut c = TcpCounters::default();
        c.count_parse_error(&ParseError::new(Layer::Tcp, ParseErrorKind::Checksum));
        c.count_parse_error(&ParseError::new(Layer::Tcp, ParseErrorKind::Option("MSS length is not 4")));
        c.count_parse_error(&ParseError::truncated(Layer::Tcp));
        assert_eq!((c.in_errs, c.drop_bad_checksum, c.drop_bad_options, c.drop_bad_offset), (3, 1, 1, 1));
        let mut total = TcpCounters::default();
        total.add(&c);
        total.add(&c);
        let mut names = 0;
        total.for_each(|name, v| {
            names += 1;
            if name == "TcpInErrs" {
                assert_eq!(v, 6);
            }
        });
        assert!(names > 40);
    }
}
