//! The async client library (`netstack_fidl::tokio_client`, feature `tokio`) against the real
//! socket server: two netstacks over the memory device pair ([`host`]), each serving
//! `fuchsia.posix.socket.Provider` from its svc dir on a loop thread of its own, while the
//! tests drive `TcpListener`, `TcpStream` and `UdpSocket` from their own tokio runtime.

mod host;
mod tcp;
mod udp;
