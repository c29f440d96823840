//! `libfdio.so`: BSD sockets for unmodified programs, served by the netstack over FIDL.
