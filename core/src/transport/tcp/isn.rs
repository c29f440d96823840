//! Initial sequence numbers (RFC 6528 §3) and SYN cookies (RFC 4987 §3.6).
//!
//! The ISN is a 4 µs clock plus a keyed hash of the connection's addresses and ports, so
//! successive incarnations of one 4-tuple move forward while outsiders cannot guess
//! another tuple's numbers. A SYN cookie is an ISN that encodes what the listener would
//! have remembered: a coarse time counter (5 bits), an index into a table of MSS values
//! (3 bits) and a 24-bit keyed hash over the 4-tuple, the peer's ISN, the counter and the
//! index. When both sides use timestamps, the low bits of the SYN-ACK's TSval carry the
//! window scale and SACK-permitted options, recovered from the echoed TSecr.

use crate::addr::IpAddress;
use crate::hash::{SipHasher, SipKey};
use crate::time::Instant;

use super::seqnum::SeqNum;

/// One end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint<A> {
    /// The address.
    pub addr: A,
    /// The port.
    pub port: u16,
}

fn hash_tuple<A: IpAddress>(h: &mut SipHasher, local: Endpoint<A>, remote: Endpoint<A>) {
    h.write(local.addr.as_bytes());
    h.write(remote.addr.as_bytes());
    h.write(&local.port.to_be_bytes());
    h.write(&remote.port.to_be_bytes());
}

/// RFC 6528's ISN function F with its secret key.
#[derive(Clone, Debug)]
pub struct IsnGenerator {
    key: SipKey,
}

impl IsnGenerator {
    /// A generator with a key from the host's randomness.
    pub fn new(key: SipKey) -> Self {
        Self { key }
    }

    /// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a
    /// timer ticking every 4 µs.
    pub fn isn<A: IpAddress>(&self, now: Instant, local: Endpoint<A>, remote: Endpoint<A>) -> SeqNum {
        let mut h = SipHasher::new(&self.key);
        hash_tuple(&mut h, local, remote);
        let m = (now.as_nanos() / 4_000) as u32;
        SeqNum((h.finish() as u32).wrapping_add(m))
    }

    /// A per-connection offset for the timestamp clock (RFC 7323 §7.1 recommends one so the
    /// clock does not reveal uptime or link connections).
    pub fn timestamp_offset<A: IpAddress>(&self, local: Endpoint<A>, remote: Endpoint<A>) -> u32 {
        let mut h = SipHasher::new(&self.key);
        h.write(b"ts");
        hash_tuple(&mut h, local, remote);
        (h.finish() >> 32) as u32
    }
}

/// The MSS values a cookie can encode; the largest not above the peer's is chosen.
pub const COOKIE_MSS_TABLE: [u16; 8] = [536, 1200, 1220, 1300, 1360, 1400, 1440, 1460];
/// The cookie's time counter advances every 64 s.
const COUNTER_PERIOD_SECS: u64 = 64;
/// Cookies older than this many counter periods are refused (2 to 3 minutes).
const MAX_COUNTER_AGE: u32 = 2;
/// TSval low bits used to carry options: 4 bits of window scale, 1 of SACK, 1 marker.
const TS_OPTION_BITS: u32 = 6;
const TS_WSCALE_NONE: u32 = 0xf;
const TS_SACK_BIT: u32 = 1 << 4;
const TS_MARKER_BIT: u32 = 1 << 5;

/// Options recovered from a valid cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieOptions {
    /// The MSS (from the table).
    pub mss: u16,
    /// The peer's window shift, if it offered window scaling (needs timestamps to survive).
    pub window_scale: Option<u8>,
    /// Whether the peer offered SACK (needs timestamps to survive).
    pub sack_permitted: bool,
    /// Whether timestamps are in use.
    pub timestamps: bool,
}

/// The SYN cookie codec with its secret key.
#[derive(Clone, Debug)]
pub struct SynCookies {
    key: SipKey,
}

impl SynCookies {
    /// A codec with a key from the host's randomness.
    pub fn new(key: SipKey) -> Self {
        Self { key }
    }

    fn counter(now: Instant) -> u32 {
        (now.as_nanos() / 1_000_000_000 / COUNTER_PERIOD_SECS) as u32
    }

    fn mac<A: IpAddress>(
        &self,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        peer_isn: SeqNum,
        counter: u32,
        index: u32,
    ) -> u32 {
        let mut h = SipHasher::new(&self.key);
        hash_tuple(&mut h, local, remote);
        h.write(&peer_isn.0.to_be_bytes());
        h.write(&counter.to_be_bytes());
        h.write(&index.to_be_bytes());
        (h.finish() as u32) & 0x00ff_ffff
    }

    /// The cookie to use as our ISN in a SYN-ACK to a SYN with sequence number `peer_isn`
    /// and MSS `peer_mss`; returns it with the MSS it encodes.
    pub fn encode<A: IpAddress>(
        &self,
        now: Instant,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        peer_isn: SeqNum,
        peer_mss: u16,
    ) -> (SeqNum, u16) {
        let index = COOKIE_MSS_TABLE.iter().rposition(|&m| m <= peer_mss).unwrap_or(0);
        let counter = Self::counter(now);
        let mac = self.mac(local, remote, peer_isn, counter, index as u32);
        let cookie = ((counter & 0x1f) << 27) | ((index as u32) << 24) | mac;
        (SeqNum(cookie), COOKIE_MSS_TABLE[index])
    }

    /// Checks the cookie in the ACK completing a handshake: `ack_cookie` is SEG.ACK - 1 and
    /// `peer_isn` is SEG.SEQ - 1. Returns the MSS it encodes if it is ours and fresh.
    pub fn decode<A: IpAddress>(
        &self,
        now: Instant,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        peer_isn: SeqNum,
        ack_cookie: SeqNum,
    ) -> Option<u16> {
        let cookie = ack_cookie.0;
        let low_counter = cookie >> 27;
        let index = (cookie >> 24) & 0x7;
        let now_counter = Self::counter(now);
        let age = now_counter.wrapping_sub(low_counter) & 0x1f;
        if age > MAX_COUNTER_AGE {
            return None;
        }
        let counter = now_counter.wrapping_sub(age);
        (self.mac(local, remote, peer_isn, counter, index) == cookie & 0x00ff_ffff)
            .then(|| COOKIE_MSS_TABLE[index as usize])
    }

    /// The TSval for a cookie SYN-ACK: our clock with its low bits replaced by the options
    /// the peer offered (a clock a few ms behind does no harm to PAWS or RTTM).
    pub fn encode_timestamp(ts_now: u32, window_scale: Option<u8>, sack_permitted: bool) -> u32 {
        let wscale = window_scale.map_or(TS_WSCALE_NONE, |s| u32::from(s.min(14)));
        let sack = if sack_permitted { TS_SACK_BIT } else { 0 };
        let base = ts_now & !((1 << TS_OPTION_BITS) - 1);
        let candidate = base | TS_MARKER_BIT | sack | wscale;
        // Never ahead of the clock, so the echo cannot look like it comes from the future.
        if candidate > ts_now {
            candidate.wrapping_sub(1 << TS_OPTION_BITS)
        } else {
            candidate
        }
    }

    /// The options carried in an echoed TSecr, if it carries them and is not older than the
    /// cookie lifetime (`ts_now` in ms).
    pub fn decode_timestamp(ts_now: u32, echo: u32) -> Option<(Option<u8>, bool)> {
        let age_ms = ts_now.wrapping_sub(echo);
        let max_age_ms = (u64::from(MAX_COUNTER_AGE + 1) * COUNTER_PERIOD_SECS * 1000) as u32;
        if echo & TS_MARKER_BIT == 0 || age_ms > max_age_ms {
            return None;
        }
        let wscale = echo & 0xf;
        let window_scale = (wscale != TS_WSCALE_NONE).then_some(wscale.min(14) as u8);
        Some((window_scale, echo & TS_SACK_BIT != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Ipv4Addr;
    use core::time::Duration;

    const KEY: SipKey = SipKey([7; 16]);
    const A: Endpoint<Ipv4Addr> = Endpoint { addr: Ipv4Addr::new([192, 0, 2, 1]), port: 40000 };
    const B: Endpoint<Ipv4Addr> = Endpoint { addr: Ipv4Addr::new([192, 0, 2, 2]), port: 80 };

    #[test]
    fn rfc6528_3_isn_advances_with_the_clock_and_differs_per_tuple() {
        let g = IsnGenerator::new(KEY);
        let t0 = Instant::from_nanos(1_000_000_000);
        let later = t0 + Duration::from_millis(4);
        assert_eq!(g.isn(later, A, B).diff(g.isn(t0, A, B)), 1000);
        let other = Endpoint { port: 40001, ..A };
        assert_ne!(g.isn(t0, A, B), g.isn(t0, other, B));
        assert_ne!(IsnGenerator::new(SipKey([8; 16])).isn(t0, A, B), g.isn(t0, A, B));
    }

    #[test]
    fn rfc4987_3_6_cookie_round_trips_and_rejects_forgeries() {
        let c = SynCookies::new(KEY);
        let now = Instant::from_nanos(500_000_000_000);
        let (cookie, mss) = c.encode(now, B, A, SeqNum(12345), 1460);
        assert_eq!(mss, 1460);
        assert_eq!(c.decode(now, B, A, SeqNum(12345), cookie), Some(1460));
        // Another peer ISN, tuple or a flipped bit is refused.
        assert_eq!(c.decode(now, B, A, SeqNum(12346), cookie), None);
        assert_eq!(c.decode(now, B, Endpoint { port: 1, ..A }, SeqNum(12345), cookie), None);
        assert_eq!(c.decode(now, B, A, SeqNum(12345), cookie + 1), None);
        // The MSS index is authenticated too.
        assert_eq!(c.decode(now, B, A, SeqNum(12345), SeqNum(cookie.0 ^ (1 << 24))), None);
        let (_, small) = c.encode(now, B, A, SeqNum(1), 1000);
        assert_eq!(small, 536);
    }

    #[test]
    fn rfc4987_3_6_cookies_expire() {
        let c = SynCookies::new(KEY);
        let now = Instant::from_nanos(500_000_000_000);
        let (cookie, _) = c.encode(now, B, A, SeqNum(1), 1460);
        assert!(c.decode(now + Duration::from_secs(120), B, A, SeqNum(1), cookie).is_some());
        assert!(c.decode(now + Duration::from_secs(64 * 4), B, A, SeqNum(1), cookie).is_none());
    }

    #[test]
    fn rfc4987_3_6_timestamp_carries_window_scale_and_sack() {
        let ts = SynCookies::encode_timestamp(1_000_000, Some(7), true);
        assert!(ts <= 1_000_000);
        assert_eq!(SynCookies::decode_timestamp(1_000_050, ts), Some((Some(7), true)));
        let ts = SynCookies::encode_timestamp(1_000_000, None, false);
        assert_eq!(SynCookies::decode_timestamp(1_000_050, ts), Some((None, false)));
        // An echo far older than the cookie lifetime is refused.
        assert_eq!(SynCookies::decode_timestamp(1_000_000 + 400_000, ts), None);
    }
}
