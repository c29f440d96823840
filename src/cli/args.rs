//! A small hand-written parser for the admin commands' arguments: a cursor over the words
//! after `netstack OBJECT COMMAND`, and the value syntaxes they share (interfaces by name or
//! id, `ADDR/PREFIX`, MAC addresses, lifetimes). No argument-parsing crate: the grammar is
//! iproute2's keyword style (`via GW dev IFACE metric N`), which such crates do not model.

use std::net::IpAddr;
use std::time::Duration;

use super::CliError;

/// The words of one command, consumed front to back. Errors name the command (`if add-addr`)
/// and point at its help.
#[derive(Debug)]
pub(crate) struct Args<'a> {
    words: &'a [String],
    position: usize,
    /// The object, for the help hint: `netstack <object> --help`.
    object: &'static str,
}

impl<'a> Args<'a> {
    /// A cursor over `words` of a command of `object`.
    pub(crate) fn new(object: &'static str, words: &'a [String]) -> Self {
        Args { words, position: 0, object }
    }

    /// The next word, consumed.
    pub(crate) fn next(&mut self) -> Option<&'a str> {
        let word = self.words.get(self.position)?;
        self.position += 1;
        Some(word.as_str())
    }

    /// The next word, not consumed.
    pub(crate) fn peek(&self) -> Option<&'a str> {
        self.words.get(self.position).map(String::as_str)
    }

    /// The next word, which must be there: `what` names it in the error (`IFACE`).
    pub(crate) fn required(&mut self, what: &str) -> Result<&'a str, CliError> {
        self.next().ok_or_else(|| self.usage(format!("missing {what}")))
    }

    /// The value after option or keyword `name`.
    pub(crate) fn value(&mut self, name: &str) -> Result<&'a str, CliError> {
        self.next().ok_or_else(|| self.usage(format!("'{name}' needs a value")))
    }

    /// The value after option `name`, parsed by `parse` (whose error is the reason).
    pub(crate) fn parsed<T>(
        &mut self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, CliError> {
        let word = self.value(name)?;
        parse(word).map_err(|why| self.usage(format!("bad {name} '{word}': {why}")))
    }

    /// The next word, which must be there, parsed by `parse`: `what` names it in errors
    /// (`missing MTU`, `bad MTU '20': ...`).
    pub(crate) fn positional<T>(
        &mut self,
        what: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, CliError> {
        let word = self.required(what)?;
        parse(word).map_err(|why| self.usage(format!("bad {what} '{word}': {why}")))
    }

    /// Fails when words are left over.
    pub(crate) fn finish(&self) -> Result<(), CliError> {
        match self.peek() {
            None => Ok(()),
            Some(word) => Err(self.unexpected(word)),
        }
    }

    /// A usage error about `word`, which the command does not take.
    pub(crate) fn unexpected(&self, word: &str) -> CliError {
        self.usage(format!("unexpected argument '{word}'"))
    }

    /// A usage error pointing at this object's help.
    pub(crate) fn usage(&self, message: String) -> CliError {
        CliError::usage(self.object, message)
    }
}

/// An interface as the user named it: by name, or by id when the word is a number (a
/// number that is also some interface's name means that interface).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IfaceRef(pub(crate) String);

impl IfaceRef {
    /// Whether this names the interface `id` called `name`.
    pub(crate) fn matches_name(&self, name: &str) -> bool {
        self.0 == name
    }

    /// The id the word spells, if it is a number.
    pub(crate) fn as_id(&self) -> Option<u64> {
        self.0.parse().ok()
    }
}

impl std::fmt::Display for IfaceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `ADDR/PREFIX`: an address with the prefix length of its subnet.
pub(crate) fn parse_cidr(word: &str) -> Result<(IpAddr, u8), String> {
    let (addr, prefix) = word.split_once('/').ok_or("no prefix length (ADDR/PREFIX)")?;
    let addr: IpAddr = addr.parse().map_err(|_| "not an IP address".to_owned())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    match prefix.parse::<u8>() {
        Ok(prefix) if prefix <= max => Ok((addr, prefix)),
        _ => Err(format!("prefix length must be 0 to {max}")),
    }
}

/// A route destination: `default`, `ADDR/PREFIX`, or a bare address (a host route). With a
/// prefix, host bits must be zero, as `ip route` requires.
pub(crate) fn parse_destination(word: &str, v6_default: bool) -> Result<(IpAddr, u8), String> {
    if word == "default" {
        let any = if v6_default { IpAddr::from([0u16; 8]) } else { IpAddr::from([0u8; 4]) };
        return Ok((any, 0));
    }
    let (addr, prefix) = if word.contains('/') {
        parse_cidr(word)?
    } else {
        let addr: IpAddr = word.parse().map_err(|_| "not an IP address or 'default'".to_owned())?;
        (addr, if addr.is_ipv4() { 32 } else { 128 })
    };
    if mask(addr, prefix) != addr {
        return Err(format!("host bits set; the network is {}/{prefix}", mask(addr, prefix)));
    }
    Ok((addr, prefix))
}

/// `addr` with the bits after the first `prefix` cleared.
pub(crate) fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4) & u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::from(bits.to_be_bytes())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::from(bits.to_be_bytes())
        }
    }
}

/// Whether `addr` is inside `network/prefix`.
pub(crate) fn in_subnet(addr: IpAddr, network: IpAddr, prefix: u8) -> bool {
    addr.is_ipv4() == network.is_ipv4() && mask(addr, prefix) == mask(network, prefix)
}

/// An IP address.
pub(crate) fn parse_ip(word: &str) -> Result<IpAddr, String> {
    word.parse().map_err(|_| "not an IP address".to_owned())
}

/// A MAC address: six hex octets separated by colons (or dashes).
pub(crate) fn parse_mac(word: &str) -> Result<[u8; 6], String> {
    const WHY: &str = "not a MAC address (like 02:00:00:00:00:01)";
    let mut octets = [0u8; 6];
    let mut parts = word.split([':', '-']);
    for octet in &mut octets {
        let part = parts.next().filter(|p| (1..=2).contains(&p.len())).ok_or(WHY)?;
        *octet = u8::from_str_radix(part, 16).map_err(|_| WHY)?;
    }
    if parts.next().is_some() {
        return Err(WHY.to_owned());
    }
    Ok(octets)
}

/// A lifetime in seconds, or `forever`.
pub(crate) fn parse_lifetime(word: &str) -> Result<Option<Duration>, String> {
    if word == "forever" || word == "infinity" {
        return Ok(None);
    }
    word.parse::<u64>()
        .map(|s| Some(Duration::from_secs(s)))
        .map_err(|_| "not a number of seconds or 'forever'".to_owned())
}

/// An interval in seconds, fractions allowed, above zero.
pub(crate) fn parse_interval(word: &str) -> Result<Duration, String> {
    match word.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err("not a positive number of seconds".to_owned()),
    }
}

/// A decimal number in `min..=max`.
pub(crate) fn parse_number<T>(min: T, max: T) -> impl Fn(&str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    move |word| match word.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(format!("not a number from {min} to {max}")),
    }
}

/// Linux's `IFNAMSIZ - 1`: the longest interface name.
pub(crate) const MAX_IFACE_NAME: usize = 15;

/// A name for a new interface, as Linux accepts it.
pub(crate) fn parse_iface_name(word: &str) -> Result<String, String> {
    if word.is_empty() || word.len() > MAX_IFACE_NAME {
        return Err(format!("must be 1 to {MAX_IFACE_NAME} bytes"));
    }
    if word == "." || word == ".." || word.contains(['/', ':']) || word.chars().any(char::is_whitespace) {
        return Err("contains '/', ':' or white space, or is '.' or '..'".to_owned());
    }
    Ok(word.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_needs_an_address_and_a_prefix_in_range() {
        assert_eq!(parse_cidr("192.0.2.1/24"), Ok(("192.0.2.1".parse().unwrap(), 24)));
        assert_eq!(parse_cidr("2001:db8::1/64"), Ok(("2001:db8::1".parse().unwrap(), 64)));
        assert!(parse_cidr("192.0.2.1").unwrap_err().contains("no prefix"));
        assert!(parse_cidr("192.0.2.1/33").unwrap_err().contains("0 to 32"));
        assert!(parse_cidr("2001:db8::1/129").unwrap_err().contains("0 to 128"));
        assert!(parse_cidr("192.0.2.300/24").unwrap_err().contains("not an IP"));
    }

    #[test]
    fn destinations_are_networks_hosts_or_default() {
        assert_eq!(parse_destination("default", false), Ok(("0.0.0.0".parse().unwrap(), 0)));
        assert_eq!(parse_destination("default", true), Ok(("::".parse().unwrap(), 0)));
        assert_eq!(parse_destination("198.51.100.0/24", false), Ok(("198.51.100.0".parse().unwrap(), 24)));
        assert_eq!(parse_destination("198.51.100.7", false), Ok(("198.51.100.7".parse().unwrap(), 32)));
        assert!(parse_destination("198.51.100.7/24", false).unwrap_err().contains("198.51.100.0/24"));
        assert_eq!(parse_destination("2001:db8:1::/48", false), Ok(("2001:db8:1::".parse().unwrap(), 48)));
    }

    #[test]
    fn masks_and_subnets() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(mask(ip("192.0.2.77"), 0), ip("0.0.0.0"));
        assert_eq!(mask(ip("192.0.2.77"), 25), ip("192.0.2.0"));
        assert_eq!(mask(ip("192.0.2.77"), 32), ip("192.0.2.77"));
        assert_eq!(mask(ip("2001:db8::1"), 128), ip("2001:db8::1"));
        assert!(in_subnet(ip("192.0.2.254"), ip("192.0.2.1"), 24));
        assert!(!in_subnet(ip("198.51.100.1"), ip("192.0.2.1"), 24));
        assert!(!in_subnet(ip("::"), ip("0.0.0.0"), 0));
    }

    #[test]
    fn macs_are_six_hex_octets() {
        assert_eq!(parse_mac("02:00:5e:00:53:01"), Ok([2, 0, 0x5e, 0, 0x53, 1]));
        assert_eq!(parse_mac("2-0-5E-0-53-1"), Ok([2, 0, 0x5e, 0, 0x53, 1]));
        for bad in ["02:00:5e:00:53", "02:00:5e:00:53:01:02", "02:00:5e:00:53:zz", "020:0:0:0:0:1", ""] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lifetimes_intervals_and_numbers() {
        assert_eq!(parse_lifetime("forever"), Ok(None));
        assert_eq!(parse_lifetime("30"), Ok(Some(Duration::from_secs(30))));
        assert!(parse_lifetime("-1").is_err());
        assert_eq!(parse_interval("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "nan", "inf", "x"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_number(68u32, 65535)("1500"), Ok(1500));
        assert!(parse_number(68u32, 65535)("67").unwrap_err().contains("68 to 65535"));
    }

    #[test]
    fn new_interface_names_follow_linux_rules() {
        assert_eq!(parse_iface_name("tap0"), Ok("tap0".to_owned()));
        for bad in ["", "a-name-that-is-too-long", "a/b", "a b", "..", "a:b"] {
            assert!(parse_iface_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cursor_reports_missing_and_extra_words() {
        let words: Vec<String> = ["ns0", "extra"].iter().map(|s| s.to_string()).collect();
        let mut args = Args::new("if", &words);
        assert_eq!(args.required("IFACE").unwrap(), "ns0");
        let error = args.finish().unwrap_err();
        assert_eq!(error.to_string(), "unexpected argument 'extra'; see 'netstack if --help'");
        args.next();
        assert_eq!(args.required("MTU").unwrap_err().to_string(), "missing MTU; see 'netstack if --help'");
    }
}
