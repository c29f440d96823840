//! Bindings for `fidl/sdk/fuchsia.unknown/unknown.fidl`: the connection-level methods every
//! socket protocol composes (duplicating, closing and identifying a connection).

use crate::channel::Channel;

fidl_methods! {
    /// `fuchsia.unknown/Cloneable`.
    pub mod cloneable = "fuchsia.unknown/Cloneable" {
        /// Opens another connection to the same object on `request` (one-way). Its selector is
        /// `Clone`: the ordinal is that of `fuchsia.unknown/Cloneable.Clone`.
        @selector("fuchsia.unknown/Cloneable.Clone")
        Clone2(request: Channel);
    }
}

fidl_methods! {
    /// `fuchsia.unknown/Closeable`.
    pub mod closeable = "fuchsia.unknown/Closeable" {
        /// Closes the connection; the server replies, then closes the channel without an
        /// epitaph. The error is a `zx.Status`. It keeps the ordinal of `fuchsia.io/Node.Close`.
        @selector("fuchsia.io/Node.Close")
        Close() -> Result<(), i32>;
    }
}

fidl_methods! {
    /// `fuchsia.unknown/Queryable`.
    pub mod queryable = "fuchsia.unknown/Queryable" {
        /// Names the protocol the connection speaks (for example
        /// `fuchsia.posix.socket/StreamSocket`), as bytes.
        Query() -> Vec<u8>;
    }
}
