//! `getsockopt(TCP_INFO)`: Linux's `struct tcp_info` (`include/uapi/linux/tcp.h`, 248 bytes
//! since Linux 6.7), filled from the fields `StreamSocket.GetTcpInfo` reports; every other
//! field is 0, which is what Linux reports for counters that never moved.

/// The size of `struct tcp_info`.
pub const TCP_INFO_LEN: usize = 248;

/// The fields the netstack reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// `tcpi_state` (`TCP_ESTABLISHED` = 1, ...).
    pub state: u8,
    /// `tcpi_ca_state` (`TCP_CA_Open` = 0, ...).
    pub ca_state: u8,
    /// `tcpi_rto`, microseconds.
    pub rto_usec: u32,
    /// `tcpi_rtt`, microseconds.
    pub rtt_usec: u32,
    /// `tcpi_rttvar`, microseconds.
    pub rtt_var_usec: u32,
    /// `tcpi_snd_ssthresh`, segments.
    pub snd_ssthresh: u32,
    /// `tcpi_snd_cwnd`, segments.
    pub snd_cwnd: u32,
    /// `tcpi_reord_seen`: reordering events (the netstack says only whether there were any).
    pub reord_seen: u32,
}

// Byte offsets in struct tcp_info.
const OFF_STATE: usize = 0;
const OFF_CA_STATE: usize = 1;
const OFF_RTO: usize = 8;
const OFF_RTT: usize = 68;
const OFF_RTTVAR: usize = 72;
const OFF_SND_SSTHRESH: usize = 76;
const OFF_SND_CWND: usize = 80;
const OFF_REORD_SEEN: usize = 220;

impl TcpInfo {
    /// The structure as Linux lays it out, in native byte order.
    pub fn to_linux_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; TCP_INFO_LEN];
        b[OFF_STATE] = self.state;
        b[OFF_CA_STATE] = self.ca_state;
        let mut put = |off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        put(OFF_RTO, self.rto_usec);
        put(OFF_RTT, self.rtt_usec);
        put(OFF_RTTVAR, self.rtt_var_usec);
        put(OFF_SND_SSTHRESH, self.snd_ssthresh);
        put(OFF_SND_CWND, self.snd_cwnd);
        put(OFF_REORD_SEEN, self.reord_seen);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout as in linux/tcp.h, written out so the offsets are checked against a
    /// structure rather than against themselves.
    #[repr(C)]
    #[derive(Default)]
    struct LinuxTcpInfo {
        state: u8,
        ca_state: u8,
        retransmits: u8,
        probes: u8,
        backoff: u8,
        options: u8,
        wscale: u8,
        flags: u8,
        rto: u32,
        ato: u32,
        snd_mss: u32,
        rcv_mss: u32,
        unacked: u32,
        sacked: u32,
        lost: u32,
        retrans: u32,
        fackets: u32,
        last_data_sent: u32,
        last_ack_sent: u32,
        last_data_recv: u32,
        last_ack_recv: u32,
        pmtu: u32,
        rcv_ssthresh: u32,
        rtt: u32,
        rttvar: u32,
        snd_ssthresh: u32,
        snd_cwnd: u32,
        advmss: u32,
        reordering: u32,
        rcv_rtt: u32,
        rcv_space: u32,
        total_retrans: u32,
        pacing_rate: u64,
        max_pacing_rate: u64,
        bytes_acked: u64,
        bytes_received: u64,
        segs_out: u32,
        segs_in: u32,
        notsent_bytes: u32,
        min_rtt: u32,
        data_segs_in: u32,
        data_segs_out: u32,
        delivery_rate: u64,
        busy_time: u64,
        rwnd_limited: u64,
        sndbuf_limited: u64,
        delivered: u32,
        delivered_ce: u32,
        bytes_sent: u64,
        bytes_retrans: u64,
        dsack_dups: u32,
        reord_seen: u32,
        rcv_ooopack: u32,
        snd_wnd: u32,
        rcv_wnd: u32,
        rehash: u32,
        total_rto: u16,
        total_rto_recoveries: u16,
        total_rto_time: u32,
    }

    #[test]
    fn layout_matches_linux() {
        assert_eq!(std::mem::size_of::<LinuxTcpInfo>(), TCP_INFO_LEN);
        let info = TcpInfo {
            state: 1,
            ca_state: 3,
            rto_usec: 204_000,
            rtt_usec: 1500,
            rtt_var_usec: 750,
            snd_ssthresh: 20,
            snd_cwnd: 10,
            reord_seen: 1,
        };
        let bytes = info.to_linux_bytes();
        let mut linux = LinuxTcpInfo::default();
        // SAFETY: LinuxTcpInfo is repr(C) plain old data of exactly TCP_INFO_LEN bytes, and
        // every bit pattern is a valid value of its integer fields.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), (&raw mut linux).cast::<u8>(), TCP_INFO_LEN) };
        assert_eq!(linux.state, 1);
        assert_eq!(linux.ca_state, 3);
        assert_eq!(linux.rto, 204_000);
        assert_eq!(linux.rtt, 1500);
        assert_eq!(linux.rttvar, 750);
        assert_eq!(linux.snd_ssthresh, 20);
        assert_eq!(linux.snd_cwnd, 10);
        assert_eq!(linux.reord_seen, 1);
        assert_eq!(linux.total_retrans, 0);
    }
}
