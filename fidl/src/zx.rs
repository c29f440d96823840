//! Bindings for `fidl/sdk/zx/zx.fidl`: the Zircon types the libraries name, and the
//! `zx.Status` values the netstack sends (the error of `error zx.Status` methods and of
//! epitaphs). The values are Zircon's (`zircon/errors.h`), so a Fuchsia tool reading them
//! sees the same errors.

/// A `zx.Status`: [`OK`], or a negative `ERR_*` value.
pub type Status = i32;
/// A `zx.Time`: nanoseconds of a monotonic clock (here `CLOCK_MONOTONIC`, unless a field's
/// documentation names another clock).
pub type Time = i64;
/// A `zx.Duration`, in nanoseconds.
pub type Duration = i64;

/// `ZX_TIME_INFINITE`: a time that never comes (an address lifetime that never ends).
pub const TIME_INFINITE: Time = i64::MAX;
/// `ZX_TIME_INFINITE_PAST`.
pub const TIME_INFINITE_PAST: Time = i64::MIN;

/// `ZX_OK`.
pub const OK: Status = 0;
/// `ZX_ERR_INTERNAL`: an unexpected failure.
pub const ERR_INTERNAL: Status = -1;
/// `ZX_ERR_NOT_SUPPORTED`: the operation (or method) is not supported.
pub const ERR_NOT_SUPPORTED: Status = -2;
/// `ZX_ERR_NO_RESOURCES`: a resource (memory, descriptors, a limit) ran out.
pub const ERR_NO_RESOURCES: Status = -3;
/// `ZX_ERR_INVALID_ARGS`: an argument is invalid (also: a malformed message).
pub const ERR_INVALID_ARGS: Status = -10;
/// `ZX_ERR_OUT_OF_RANGE`: an argument is outside the valid range.
pub const ERR_OUT_OF_RANGE: Status = -14;
/// `ZX_ERR_BAD_STATE`: the object is not in a state that allows the operation.
pub const ERR_BAD_STATE: Status = -20;
/// `ZX_ERR_NOT_FOUND`: the object (interface, route, neighbor) does not exist.
pub const ERR_NOT_FOUND: Status = -25;
/// `ZX_ERR_ALREADY_EXISTS`: the object already exists.
pub const ERR_ALREADY_EXISTS: Status = -26;
/// `ZX_ERR_ACCESS_DENIED`: the caller may not do this.
pub const ERR_ACCESS_DENIED: Status = -30;
/// `ZX_ERR_PEER_CLOSED`: the other end is gone.
pub const ERR_PEER_CLOSED: Status = -24;
/// `ZX_ERR_UNAVAILABLE`: the object exists but cannot be used now.
pub const ERR_UNAVAILABLE: Status = -28;
/// `ZX_ERR_ADDRESS_UNREACHABLE`: no route to the address.
pub const ERR_ADDRESS_UNREACHABLE: Status = -77;

/// The `ZX_*` name of `status` (`"ZX_ERR_NOT_FOUND"`), or `None` for a value not listed here.
pub fn status_name(status: Status) -> Option<&'static str> {
    Some(match status {
        OK => "ZX_OK",
        ERR_INTERNAL => "ZX_ERR_INTERNAL",
        ERR_NOT_SUPPORTED => "ZX_ERR_NOT_SUPPORTED",
        ERR_NO_RESOURCES => "ZX_ERR_NO_RESOURCES",
        ERR_INVALID_ARGS => "ZX_ERR_INVALID_ARGS",
        ERR_OUT_OF_RANGE => "ZX_ERR_OUT_OF_RANGE",
        ERR_BAD_STATE => "ZX_ERR_BAD_STATE",
        ERR_NOT_FOUND => "ZX_ERR_NOT_FOUND",
        ERR_ALREADY_EXISTS => "ZX_ERR_ALREADY_EXISTS",
        ERR_ACCESS_DENIED => "ZX_ERR_ACCESS_DENIED",
        ERR_PEER_CLOSED => "ZX_ERR_PEER_CLOSED",
        ERR_UNAVAILABLE => "ZX_ERR_UNAVAILABLE",
        ERR_ADDRESS_UNREACHABLE => "ZX_ERR_ADDRESS_UNREACHABLE",
        _ => return None,
    })
}

/// A short description of `status` for an error message ("not found"), or `None` for a value
/// not listed here.
pub fn status_description(status: Status) -> Option<&'static str> {
    Some(match status {
        OK => "success",
        ERR_INTERNAL => "internal error",
        ERR_NOT_SUPPORTED => "not supported",
        ERR_NO_RESOURCES => "no resources",
        ERR_INVALID_ARGS => "invalid argument",
        ERR_OUT_OF_RANGE => "out of range",
        ERR_BAD_STATE => "bad state",
        ERR_NOT_FOUND => "not found",
        ERR_ALREADY_EXISTS => "already exists",
        ERR_ACCESS_DENIED => "access denied",
        ERR_PEER_CLOSED => "peer closed",
        ERR_UNAVAILABLE => "unavailable",
        ERR_ADDRESS_UNREACHABLE => "address unreachable",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_zircons_values_and_names() {
        assert_eq!((ERR_NOT_FOUND, ERR_ALREADY_EXISTS, ERR_INVALID_ARGS), (-25, -26, -10));
        assert_eq!((ERR_NOT_SUPPORTED, ERR_NO_RESOURCES, ERR_BAD_STATE), (-2, -3, -20));
        assert_eq!((ERR_ACCESS_DENIED, ERR_OUT_OF_RANGE), (-30, -14));
        assert_eq!(status_name(ERR_NOT_FOUND), Some("ZX_ERR_NOT_FOUND"));
        assert_eq!(status_description(ERR_ALREADY_EXISTS), Some("already exists"));
        assert_eq!(status_name(-12345), None);
    }
}
