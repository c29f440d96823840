//! Bindings for `fidl/sdk/fuchsia.mem/buffer.fidl`: shared memory handed from server to
//! client. Where Fuchsia passes a VMO, the netstack passes a memfd (`memfd_create(2)`): the
//! client maps or reads it from offset 0.

use std::os::fd::OwnedFd;

crate::fidl_struct! {
    /// A memfd and the number of meaningful bytes at its start.
    #[derive(Debug)]
    pub struct Buffer {
        /// The memory: a memfd, sealed or not written any more once sent.
        pub vmo: OwnedFd,
        /// How many bytes of `vmo` hold data.
        pub size: u64,
    }
}
