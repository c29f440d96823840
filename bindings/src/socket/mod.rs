//! The socket server (in progress).

mod reactor;
mod header;
mod dataplane;
mod slab;
mod stream;
mod datagram;
