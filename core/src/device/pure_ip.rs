//! Pure-IP devices (Linux TUN opened with IFF_TUN | IFF_NO_PI): frames are bare IPv4 or
//! IPv6 packets with no link header and no neighbour resolution; the version nibble says
//! which (RFC 791 §3.1, RFC 8200 §3).

use crate::addr::IpVersion;

/// Why a received packet was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PureIpRxDrop {
    /// Empty frame.
    #[error("empty packet")]
    Empty,
    /// The version nibble is neither 4 nor 6.
    #[error("IP version {0} is not 4 or 6")]
    UnknownVersion(u8),
}

/// What a pure-IP device counted on receive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PureIpRxCounters {
    /// Packets accepted.
    pub packets: u64,
    /// Bytes of accepted packets.
    pub bytes: u64,
    /// Dropped: empty.
    pub drop_empty: u64,
    /// Dropped: unknown version.
    pub drop_unknown_version: u64,
}

/// Which IP version `packet` is, counting it in `counters`.
pub fn classify(packet: &[u8], counters: &mut PureIpRxCounters) -> Result<IpVersion, PureIpRxDrop> {
    let result = match packet.first().map(|b| b >> 4) {
        None => Err(PureIpRxDrop::Empty),
        Some(4) => Ok(IpVersion::V4),
        Some(6) => Ok(IpVersion::V6),
        Some(v) => Err(PureIpRxDrop::UnknownVersion(v)),
    };
    match result {
        Ok(_) => {
            counters.packets += 1;
            counters.bytes += packet.len() as u64;
        }
        Err(PureIpRxDrop::Empty) => counters.drop_empty += 1,
        Err(PureIpRxDrop::UnknownVersion(_)) => counters.drop_unknown_version += 1,
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_nibble_selects_the_protocol() {
        let mut c = PureIpRxCounters::default();
        assert_eq!(classify(&[0x45, 0], &mut c), Ok(IpVersion::V4));
        assert_eq!(classify(&[0x60, 0, 0], &mut c), Ok(IpVersion::V6));
        assert_eq!(classify(&[0x50], &mut c), Err(PureIpRxDrop::UnknownVersion(5)));
        assert_eq!(classify(&[], &mut c), Err(PureIpRxDrop::Empty));
        assert_eq!(c, PureIpRxCounters { packets: 2, bytes: 5, drop_empty: 1, drop_unknown_version: 1 });
    }
}
