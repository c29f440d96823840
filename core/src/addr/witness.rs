//! Witness types: an address wrapped in one of these has been checked for a property once, at
//! construction, and carries the proof in its type.

use core::fmt;
use core::ops::Deref;

use super::{Ipv4Addr, Ipv6Addr, Mac};

/// A specified address: not 0.0.0.0, ::, or the all-zero MAC.
pub trait IsSpecified {
    /// Whether the address is specified.
    fn is_specified(&self) -> bool;
}

/// A unicast address: specified, not multicast, not broadcast.
pub trait IsUnicast: IsSpecified {
    /// Whether the address is unicast.
    fn is_unicast(&self) -> bool;
}

/// A multicast address (for MACs: the I/G bit set, which includes broadcast).
pub trait IsMulticast {
    /// Whether the address is multicast.
    fn is_multicast(&self) -> bool;
}

/// An address whose scope is the link: link-local unicast (169.254/16, fe80::/10) or
/// link-scoped multicast (224.0.0.0/24, ff02::/16).
pub trait IsLinkLocal {
    /// Whether the address is link-local.
    fn is_link_local(&self) -> bool;
}

/// A loopback address (127/8, ::1).
pub trait IsLoopback {
    /// Whether the address is loopback.
    fn is_loopback(&self) -> bool;
}

impl IsSpecified for Ipv4Addr {
    fn is_specified(&self) -> bool {
        !self.is_unspecified()
    }
}

impl IsSpecified for Ipv6Addr {
    fn is_specified(&self) -> bool {
        !self.is_unspecified()
    }
}

impl IsSpecified for Mac {
    fn is_specified(&self) -> bool {
        *self != Mac::UNSPECIFIED
    }
}

impl IsUnicast for Ipv4Addr {
    fn is_unicast(&self) -> bool {
        self.is_specified() && !Ipv4Addr::is_multicast(self) && !self.is_limited_broadcast()
    }
}

impl IsUnicast for Ipv6Addr {
    fn is_unicast(&self) -> bool {
        self.is_specified() && !Ipv6Addr::is_multicast(self)
    }
}

impl IsUnicast for Mac {
    fn is_unicast(&self) -> bool {
        self.is_specified() && Mac::is_unicast(self)
    }
}

impl IsMulticast for Ipv4Addr {
    fn is_multicast(&self) -> bool {
        Ipv4Addr::is_multicast(self)
    }
}

impl IsMulticast for Ipv6Addr {
    fn is_multicast(&self) -> bool {
        Ipv6Addr::is_multicast(self)
    }
}

impl IsMulticast for Mac {
    fn is_multicast(&self) -> bool {
        Mac::is_multicast(self)
    }
}

impl IsLinkLocal for Ipv4Addr {
    fn is_link_local(&self) -> bool {
        let b = self.bytes();
        Ipv4Addr::is_link_local(self) || (b[0] == 224 && b[1] == 0 && b[2] == 0)
    }
}

impl IsLinkLocal for Ipv6Addr {
    fn is_link_local(&self) -> bool {
        self.is_unicast_link_local() || self.multicast_scope() == Some(super::Ipv6Scope::LinkLocal)
    }
}

impl IsLoopback for Ipv4Addr {
    fn is_loopback(&self) -> bool {
        Ipv4Addr::is_loopback(self)
    }
}

impl IsLoopback for Ipv6Addr {
    fn is_loopback(&self) -> bool {
        Ipv6Addr::is_loopback(self)
    }
}

/// What every witness offers: checked construction and access to the address.
pub trait Witness<A>: Deref<Target = A> + Sized {
    /// Wraps `addr` if it has the property, or `None`.
    fn new(addr: A) -> Option<Self>;
    /// The address.
    fn get(&self) -> A;
}

macro_rules! witness {
    ($(#[$doc:meta])* $name:ident, $trait:ident :: $method:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name<A>(A);

        impl<A> $name<A> {
            /// Wraps `addr` without checking; only for constants known to hold the property.
            #[allow(dead_code, reason = "not every witness has constants")]
            pub(crate) const fn new_unchecked(addr: A) -> Self {
                Self(addr)
            }

            /// The address, unwrapped.
            pub fn into_addr(self) -> A {
                self.0
            }
        }

        impl<A: Copy> Witness<A> for $name<A>
        where
            A: $trait,
        {
            fn new(addr: A) -> Option<Self> {
                $trait::$method(&addr).then_some(Self(addr))
            }

            fn get(&self) -> A {
                self.0
            }
        }

        impl<A: Copy> $name<A>
        where
            A: $trait,
        {
            /// Wraps `addr` if it has the property, or `None`.
            pub fn new(addr: A) -> Option<Self> {
                <Self as Witness<A>>::new(addr)
            }

            /// The address.
            pub fn get(&self) -> A {
                self.0
            }
        }

        impl<A> Deref for $name<A> {
            type Target = A;

            fn deref(&self) -> &A {
                &self.0
            }
        }

        impl<A: fmt::Display> fmt::Display for $name<A> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl<A: fmt::Debug> fmt::Debug for $name<A> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

witness!(
    /// An address that is not the unspecified address.
    SpecifiedAddr,
    IsSpecified::is_specified
);
witness!(
    /// A unicast address (which is always specified).
    UnicastAddr,
    IsUnicast::is_unicast
);
witness!(
    /// A multicast address.
    MulticastAddr,
    IsMulticast::is_multicast
);
witness!(
    /// A link-local address (unicast or multicast).
    LinkLocalAddr,
    IsLinkLocal::is_link_local
);

/// An IPv6 address that is not IPv4-mapped (::ffff:0:0/96), the kind a dual-stack socket
/// must never put on the wire as IPv6.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NonMappedAddr(Ipv6Addr);

impl NonMappedAddr {
    /// Wraps `addr` unless it is IPv4-mapped.
    pub fn new(addr: Ipv6Addr) -> Option<Self> {
        addr.to_ipv4_mapped().is_none().then_some(Self(addr))
    }

    /// The address.
    pub fn get(&self) -> Ipv6Addr {
        self.0
    }
}

impl Deref for NonMappedAddr {
    type Target = Ipv6Addr;

    fn deref(&self) -> &Ipv6Addr {
        &self.0
    }
}

impl<A> From<UnicastAddr<A>> for SpecifiedAddr<A> {
    fn from(a: UnicastAddr<A>) -> Self {
        SpecifiedAddr(a.0)
    }
}

/// Multicast IP addresses are never the unspecified address.
impl From<MulticastAddr<Ipv4Addr>> for SpecifiedAddr<Ipv4Addr> {
    fn from(a: MulticastAddr<Ipv4Addr>) -> Self {
        SpecifiedAddr(a.0)
    }
}

/// Multicast IP addresses are never the unspecified address.
impl From<MulticastAddr<Ipv6Addr>> for SpecifiedAddr<Ipv6Addr> {
    fn from(a: MulticastAddr<Ipv6Addr>) -> Self {
        SpecifiedAddr(a.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witnesses_reject_addresses_without_the_property() {
        assert!(SpecifiedAddr::new(Ipv4Addr::UNSPECIFIED).is_none());
        assert!(SpecifiedAddr::new(Ipv6Addr::LOOPBACK).is_some());
        assert!(UnicastAddr::new(Ipv4Addr::LIMITED_BROADCAST).is_none());
        assert!(UnicastAddr::new(Ipv6Addr::ALL_NODES).is_none());
        assert!(UnicastAddr::new(Mac::BROADCAST).is_none());
        assert!(UnicastAddr::new(Mac::UNSPECIFIED).is_none());
        assert!(UnicastAddr::new(Mac::new([2, 0, 0, 0, 0, 1])).is_some());
        assert!(MulticastAddr::new(Ipv4Addr::new([192, 0, 2, 1])).is_none());
        assert!(MulticastAddr::new(Ipv4Addr::ALL_SYSTEMS).is_some());
        assert!(LinkLocalAddr::new(Ipv6Addr::ALL_NODES).is_some());
        assert!(LinkLocalAddr::new("2001:db8::1".parse::<Ipv6Addr>().unwrap()).is_none());
        assert!(NonMappedAddr::new(Ipv4Addr::new([192, 0, 2, 1]).to_ipv6_mapped()).is_none());
    }

    #[test]
    fn unicast_converts_to_specified() {
        let u = UnicastAddr::new(Ipv4Addr::new([192, 0, 2, 1])).unwrap();
        let s: SpecifiedAddr<Ipv4Addr> = u.into();
        assert_eq!(*s, Ipv4Addr::new([192, 0, 2, 1]));
    }
}
