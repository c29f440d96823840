//! Whole-stack checks of the per-socket TCP knobs Linux offers as `SOL_TCP` options:
//! TCP_SYNCNT (`tcp_sock_set_syncnt`), TCP_LINGER2 (`tcp_sock_set_linger2`), seen through
//! the socket layer over the fake network.

use super::tcp::{accept4, listen4, port};
use super::*;
use crate::transport::tcp::{State, TcpSocketId};

type Id4 = TcpSocketId<Ipv4>;

/// A connection from A (192.0.2.1) to B (192.0.2.2) port 80, accepted, with A's address
/// resolution done.
fn connected(net: &mut FakeNetwork<Host>, a: NodeIndex, b: NodeIndex) -> (Id4, Id4) {
    let listener = listen4(net, b, 80);
    let client = call(net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            tcp.connect(tctx, s, super::tcp::addr("192.0.2.2"), port(80)).unwrap();
            s
        })
    });
    net.run_for(Duration::from_millis(50));
    (client, accept4(net, b, listener).expect("the handshake completed"))
}

fn state(net: &FakeNetwork<Host>, host: NodeIndex, s: Id4) -> Result<State, SocketError> {
    net.node(host).stack.tcp().state(s)
}

#[test]
fn tcp_syncnt_bounds_the_syn_retransmissions_of_connect() {
    let (mut net, hosts, segment) = lan_segment(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    // One connection first, so A knows B's link address; then the link drops everything.
    connected(&mut net, a, b);
    net.set_impairments(segment, Impairments { loss_ppm: 1_000_000, ..Impairments::default() });
    let client = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            // Linux's range is 1..=127.
            assert_eq!(tcp.set_syn_retries(s, 0), Err(SocketError::InvalidArgument));
            assert_eq!(tcp.set_syn_retries(s, 128), Err(SocketError::InvalidArgument));
            assert_eq!(tcp.options(s).unwrap().0.syn_retries, 6, "the default, tcp_syn_retries");
            tcp.set_syn_retries(s, 2).unwrap();
            assert_eq!(tcp.options(s).unwrap().0.syn_retries, 2);
            tcp.connect(tctx, s, super::tcp::addr("192.0.2.2"), port(80)).unwrap();
            s
        })
    });
    let retrans_before = net.node(a).stack.tcp().counters().retrans_segs;
    // SYNs at 0, 1 s and 3 s; the last one's RTO (4 s) ends the attempt at 7 s.
    net.run_for(Duration::from_millis(6900));
    assert_eq!(state(&net, a, client), Ok(State::SynSent));
    net.run_for(Duration::from_millis(200));
    assert_eq!(state(&net, a, client), Ok(State::Closed));
    assert_eq!(call(&mut net, a, |stack, _| stack.tcp.take_error(client)), Ok(Some(SocketError::TimedOut)));
    assert_eq!(net.node(a).stack.tcp().counters().retrans_segs - retrans_before, 2);
}
