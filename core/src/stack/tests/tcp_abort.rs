//! Whole-stack aborts on close (RFC 2525 §2.17, RFC 1122 §4.2.2.13, Linux `tcp_close` and
//! the "data after close" rule of `tcp_rcv_state_process`): data nobody will read turns the
//! orderly close into a RST, which the peer sees as ECONNRESET.

use super::tcp::{accept4, connect4, listen4};
use super::*;
use crate::transport::tcp::{Shutdown, State, TcpSocketId};

type Id4 = TcpSocketId<Ipv4>;

/// A connection from host A (192.0.2.1) to host B: (net, a, b, client on A, server on B).
fn connected() -> (FakeNetwork<Host>, NodeIndex, NodeIndex, Id4, Id4) {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let listener = listen4(&mut net, b, 80);
    let client = connect4(&mut net, a, "192.0.2.2", 80);
    net.run_for(Duration::from_millis(50));
    let server = accept4(&mut net, b, listener).unwrap();
    (net, a, b, client, server)
}

fn send(net: &mut FakeNetwork<Host>, host: NodeIndex, s: Id4, data: &[u8]) -> Result<usize, SocketError> {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.send(tctx, s, data)))
}

fn recv(net: &mut FakeNetwork<Host>, host: NodeIndex, s: Id4) -> Result<usize, SocketError> {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.recv(tctx, s, &mut [0; 64])))
}

fn close(net: &mut FakeNetwork<Host>, host: NodeIndex, s: Id4) {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, s))).unwrap();
}

fn state(net: &FakeNetwork<Host>, host: NodeIndex, s: Id4) -> State {
    net.node(host).stack.tcp().state(s).unwrap()
}

#[test]
fn rfc2525_2_17_close_with_unread_data_resets_and_the_peer_sees_econnreset() {
    let (mut net, a, b, client, server) = connected();
    assert_eq!(send(&mut net, a, client, b"never read"), Ok(10));
    net.run_for(Duration::from_millis(50));
    close(&mut net, b, server);
    net.run_for(Duration::from_millis(50));
    let counters = net.node(b).stack.tcp().counters();
    assert_eq!((counters.abort_on_close, counters.out_rsts), (1, 1));
    assert_eq!(state(&net, a, client), State::Closed);
    assert_eq!(recv(&mut net, a, client), Err(SocketError::ConnectionReset));
    assert_eq!(net.node(a).stack.tcp().counters().estab_resets, 1);
}

#[test]
fn close_with_everything_read_is_an_orderly_fin() {
    let (mut net, a, b, client, server) = connected();
    assert_eq!(send(&mut net, a, client, b"read"), Ok(4));
    net.run_for(Duration::from_millis(50));
    assert_eq!(recv(&mut net, b, server), Ok(4));
    close(&mut net, b, server);
    net.run_for(Duration::from_millis(50));
    assert_eq!(state(&net, a, client), State::CloseWait);
    assert_eq!(recv(&mut net, a, client), Ok(0));
    assert_eq!(net.node(b).stack.tcp().counters().abort_on_close, 0);
}

#[test]
fn linux_data_arriving_after_close_resets_the_connection() {
    let (mut net, a, b, client, server) = connected();
    close(&mut net, b, server);
    net.run_for(Duration::from_millis(50));
    // B is in FIN-WAIT-2, nobody left to read: A's next data gets a RST (TCPAbortOnData).
    assert_eq!(state(&net, a, client), State::CloseWait);
    assert_eq!(send(&mut net, a, client, b"too late"), Ok(8));
    net.run_for(Duration::from_millis(50));
    let counters = net.node(b).stack.tcp().counters();
    assert_eq!((counters.abort_on_data, counters.out_rsts), (1, 1));
    assert_eq!(state(&net, a, client), State::Closed);
    assert_eq!(send(&mut net, a, client, b"x"), Err(SocketError::ConnectionReset));
}

#[test]
fn linux_data_arriving_after_shutdown_of_both_directions_resets_too() {
    // tcp_rcv_state_process checks RCV_SHUTDOWN, which shutdown(SHUT_RDWR) sets as close does.
    let (mut net, a, b, client, server) = connected();
    call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| tcp.shutdown(tctx, server, Shutdown::Both))
    })
    .unwrap();
    net.run_for(Duration::from_millis(50));
    assert_eq!(state(&net, b, server), State::FinWait2);
    assert_eq!(send(&mut net, a, client, b"too late"), Ok(8));
    net.run_for(Duration::from_millis(50));
    assert_eq!(net.node(b).stack.tcp().counters().abort_on_data, 1);
    assert_eq!(state(&net, a, client), State::Closed);
    assert_eq!(recv(&mut net, b, server), Err(SocketError::ConnectionReset));
}

#[test]
fn rfc2525_2_17_bytes_unread_past_the_core_reset_through_close_unread() {
    // The bindings moved the bytes out of TCP's receive buffer; the application never read
    // them from the data plane, so the socket server closes with close_unread.
    let (mut net, a, b, client, server) = connected();
    assert_eq!(send(&mut net, a, client, b"in the data plane"), Ok(17));
    net.run_for(Duration::from_millis(50));
    assert_eq!(recv(&mut net, b, server), Ok(17));
    call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close_unread(tctx, server))).unwrap();
    net.run_for(Duration::from_millis(50));
    let counters = net.node(b).stack.tcp().counters();
    assert_eq!((counters.abort_on_close, counters.out_rsts), (1, 1));
    assert_eq!(recv(&mut net, a, client), Err(SocketError::ConnectionReset));
}
