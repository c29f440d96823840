//! FIDL for the netstack: the wire format, channels over AF_UNIX SEQPACKET sockets, and the
//! protocols the netstack serves (see `fidl/README.md`).
