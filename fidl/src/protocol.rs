//! The macros that turn a protocol's method list into bindings: one zero-sized [`Method`]
//! type per method ([`fidl_methods!`]) and, for the protocols the netstack serves, the request
//! enum a server decodes incoming messages into ([`fidl_protocol!`]).
//!
//! [`Method`]: crate::Method

use crate::message::TransactionHeader;
use crate::wire::DecodeError;
use crate::Method;

/// What the `.fidl` sources say about a method, as its binding has it.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MethodInfo {
    pub(crate) name: &'static str,
    pub(crate) ordinal: u64,
    pub(crate) one_way: bool,
    pub(crate) event: bool,
}

#[cfg(test)]
impl MethodInfo {
    pub(crate) const fn of<M: Method>() -> Self {
        MethodInfo { name: M::NAME, ordinal: M::ORDINAL, one_way: M::ONE_WAY, event: false }
    }

    pub(crate) const fn of_event<E: crate::Event>() -> Self {
        MethodInfo { name: E::NAME, ordinal: E::ORDINAL, one_way: true, event: true }
    }
}

/// Checks a request's transaction id: 0 for a one-way method, non-zero for a two-way one.
pub(crate) fn check_txid<M: Method>(header: &TransactionHeader) -> Result<(), DecodeError> {
    if (header.txid == 0) == M::ONE_WAY {
        Ok(())
    } else {
        Err(DecodeError::InvalidTxid { txid: header.txid, ordinal: header.ordinal })
    }
}

/// Declares `mod $module` with one [`Method`](crate::Method) type per method of protocol
/// `$protocol` (`"library/Protocol"`). Each method is written as in FIDL:
/// `Name(field: Type, ...) -> Response;` (no arrow for a one-way method), optionally preceded
/// by `@selector("library/Protocol.Method")` (the full selector). An optional
/// `events { Name(field: Type, ...); }` block after the methods declares the protocol's events:
/// one [`Event`](crate::Event) type each.
macro_rules! fidl_methods {
    (@selector $protocol:literal, $method:ident) => { concat!($protocol, ".", stringify!($method)) };
    (@selector $protocol:literal, $method:ident, $selector:literal) => { $selector };
    (@one_way) => { true };
    (@one_way $response:ty) => { false };
    (@request) => { () };
    (@request $ty:ty) => { $ty };
    (@request $($ty:ty),+) => { ($($ty,)+) };
    (@response) => { () };
    (@response $response:ty) => { $response };
    (
        $(#[$mod_attr:meta])*
        $vis:vis mod $module:ident = $protocol:literal {
            $(
                $(#[$attr:meta])*
                $(@selector($selector:literal))?
                $method:ident ( $($field:ident : $ty:ty),* $(,)? ) $(-> $response:ty)? ;
            )*
        }
        $(
            events {
                $( $(#[$ev_attr:meta])* $event:ident ( $($ev_field:ident : $ev_ty:ty),* $(,)? ) ; )*
            }
        )?
    ) => {
        $(#[$mod_attr])*
        $vis mod $module {
            #[allow(unused_imports)]
            use super::*;

            $(
                $(#[$attr])*
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
                pub struct $method;

                impl $crate::Method for $method {
                    const NAME: &'static str = concat!($protocol, ".", stringify!($method));
                    const SELECTOR: &'static str = fidl_methods!(@selector $protocol, $method $(, $selector)?);
                    const ORDINAL: u64 = $crate::ordinal::ordinal(<Self as $crate::Method>::SELECTOR);
                    const ONE_WAY: bool = fidl_methods!(@one_way $($response)?);
                    const FLEXIBLE: bool = false;
                    type Request = fidl_methods!(@request $($ty),*);
                    type Response = fidl_methods!(@response $($response)?);
                }
            )*

            $($(
                $(#[$ev_attr])*
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
                pub struct $event;

                impl $crate::Event for $event {
                    const NAME: &'static str = concat!($protocol, ".", stringify!($event));
                    const SELECTOR: &'static str = <Self as $crate::Event>::NAME;
                    const ORDINAL: u64 = $crate::ordinal::ordinal(<Self as $crate::Event>::SELECTOR);
                    const FLEXIBLE: bool = false;
                    type Payload = fidl_methods!(@request $($ev_ty),*);
                }
            )*)?

            /// Every method (and event) of the protocol, for the test that holds the bindings
            /// to the `.fidl` sources.
            #[cfg(test)]
            pub(crate) const METHODS: &[$crate::protocol::MethodInfo] = &[
                $($crate::protocol::MethodInfo::of::<$method>(),)*
                $($($crate::protocol::MethodInfo::of_event::<$event>(),)*)?
            ];
        }
    };
}

/// Declares a protocol's methods (as [`fidl_methods!`]) and its request enum: one variant per
/// method with the payload's fields, `import`ed variants for methods declared by another
/// protocol but flattened into this one, and `compose`d variants wrapping the request enum of
/// a composed protocol. `decode` tries the protocol's own and imported methods, then each
/// composed enum, and fails with [`DecodeError::UnknownOrdinal`] when none knows the ordinal.
///
/// An optional `events EventEnum { Name(field: Type, ...); }` block after the request block
/// declares the protocol's events: one [`Event`](crate::Event) type each in the protocol's
/// module, and `EventEnum`, the [`EventEnum`](crate::EventEnum) a client decodes them into.
macro_rules! fidl_protocol {
    (@tuple $value:ident; $field:ident) => { ($value,) };
    (@tuple $value:ident; $($field:ident),*) => { $value };
    (
        $(#[$mod_attr:meta])*
        $vis:vis mod $module:ident = $protocol:literal;
        $(#[$enum_attr:meta])*
        request $request:ident {
            compose { $( $(#[$compose_attr:meta])* $compose_variant:ident($compose_ty:ty) ),* $(,)? }
            import {
                $( $(#[$import_attr:meta])* $import_variant:ident ( $($import_field:ident : $import_ty:ty),* ) = $import_method:path ; )*
            }
            methods {
                $(
                    $(#[$attr:meta])*
                    $(@selector($selector:literal))?
                    $method:ident ( $($field:ident : $ty:ty),* $(,)? ) $(-> $response:ty)? ;
                )*
            }
        }
        $(
            $(#[$ev_enum_attr:meta])*
            events $event_enum:ident {
                $( $(#[$ev_attr:meta])* $event:ident ( $($ev_field:ident : $ev_ty:ty),* $(,)? ) ; )*
            }
        )?
    ) => {
        fidl_methods! {
            $(#[$mod_attr])*
            $vis mod $module = $protocol {
                $(
                    $(#[$attr])*
                    $(@selector($selector))?
                    $method ( $($field : $ty),* ) $(-> $response)? ;
                )*
            }
            $(
                events {
                    $( $(#[$ev_attr])* $event ( $($ev_field : $ev_ty),* ) ; )*
                }
            )?
        }

        $(
            $(#[$ev_enum_attr])*
            pub enum $event_enum {
                $( $(#[$ev_attr])* $event { $($ev_field: $ev_ty),* }, )*
            }

            impl $event_enum {
                /// The event's name (`library/Protocol.Event`), for logs.
                pub fn event_name(&self) -> &'static str {
                    match self {
                        $( Self::$event { .. } => <$module::$event as $crate::Event>::NAME, )*
                    }
                }
            }

            impl $crate::EventEnum for $event_enum {
                fn decode_event(
                    header: &$crate::message::TransactionHeader,
                    body: &[u8],
                    handles: &mut ::std::vec::Vec<::std::os::fd::OwnedFd>,
                ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                    $(
                        if header.ordinal == <$module::$event as $crate::Event>::ORDINAL {
                            if header.txid != 0 {
                                return Err($crate::wire::DecodeError::InvalidTxid {
                                    txid: header.txid,
                                    ordinal: header.ordinal,
                                });
                            }
                            let payload = $crate::message::decode_body::<<$module::$event as $crate::Event>::Payload>(body, handles)?;
                            #[allow(clippy::let_unit_value)]
                            let ($($ev_field,)*) = fidl_protocol!(@tuple payload; $($ev_field),*);
                            return Ok(Self::$event { $($ev_field),* });
                        }
                    )*
                    Err($crate::wire::DecodeError::UnknownOrdinal(header.ordinal))
                }
            }
        )?

        $(#[$enum_attr])*
        pub enum $request {
            $( $(#[$compose_attr])* $compose_variant($compose_ty), )*
            $( $(#[$import_attr])* $import_variant { $($import_field: $import_ty),* }, )*
            $( $(#[$attr])* $method { $($field: $ty),* }, )*
        }

        impl $request {
            /// Decodes a request of this protocol (including composed ones) from a message's
            /// header, body and handles.
            pub fn decode(
                header: &$crate::message::TransactionHeader,
                body: &[u8],
                handles: &mut ::std::vec::Vec<::std::os::fd::OwnedFd>,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                $(
                    if header.ordinal == <$import_method as $crate::Method>::ORDINAL {
                        $crate::protocol::check_txid::<$import_method>(header)?;
                        let request = $crate::message::decode_body::<<$import_method as $crate::Method>::Request>(body, handles)?;
                        #[allow(clippy::let_unit_value)]
                        let ($($import_field,)*) = fidl_protocol!(@tuple request; $($import_field),*);
                        return Ok(Self::$import_variant { $($import_field),* });
                    }
                )*
                $(
                    if header.ordinal == <$module::$method as $crate::Method>::ORDINAL {
                        $crate::protocol::check_txid::<$module::$method>(header)?;
                        let request = $crate::message::decode_body::<<$module::$method as $crate::Method>::Request>(body, handles)?;
                        #[allow(clippy::let_unit_value)]
                        let ($($field,)*) = fidl_protocol!(@tuple request; $($field),*);
                        return Ok(Self::$method { $($field),* });
                    }
                )*
                $(
                    match <$compose_ty>::decode(header, body, handles) {
                        Err($crate::wire::DecodeError::UnknownOrdinal(_)) => {}
                        other => return other.map(Self::$compose_variant),
                    }
                )*
                Err($crate::wire::DecodeError::UnknownOrdinal(header.ordinal))
            }

            /// The method's name (`library/Protocol.Method`), for logs.
            pub fn method_name(&self) -> &'static str {
                match self {
                    $( Self::$compose_variant(inner) => inner.method_name(), )*
                    $( Self::$import_variant { .. } => <$import_method as $crate::Method>::NAME, )*
                    $( Self::$method { .. } => <$module::$method as $crate::Method>::NAME, )*
                }
            }
        }
    };
}
