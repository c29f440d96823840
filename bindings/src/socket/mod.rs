//! The socket server (in progress).

mod reactor;
mod header;
mod dataplane;
