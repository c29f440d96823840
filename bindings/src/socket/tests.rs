//! Tests of the socket server.
