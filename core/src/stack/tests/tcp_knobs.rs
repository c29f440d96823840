//! Whole-stack checks of the per-socket TCP knobs Linux offers as `SOL_TCP` options, seen
//! through the socket layer over the fake network: TCP_SYNCNT (`tcp_sock_set_syncnt`),
//! TCP_LINGER2 (`tcp_sock_set_linger2`, `tcp_close`), TCP_QUICKACK
//! (`__tcp_sock_set_quickack`, quickack and pingpong modes), TCP_CORK (tcp(7): full
//! segments only, for 200 ms at most) and TCP_WINDOW_CLAMP (`tcp_set_window_clamp`).

use super::tcp::{accept4, listen4, port};
use super::*;
use crate::transport::tcp::{Shutdown, State, TcpSocketId};

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

fn set_fin_timeout(net: &mut FakeNetwork<Host>, host: NodeIndex, s: Id4, timeout: Option<Duration>) {
    call(net, host, |stack, _| stack.tcp.set_fin_timeout(s, timeout)).unwrap();
}

fn fin_timeout(net: &FakeNetwork<Host>, host: NodeIndex, s: Id4) -> Option<Duration> {
    net.node(host).stack.tcp().options(s).unwrap().0.fin_timeout
}

/// The sockets open on `host`, orphaned connections included.
fn open(net: &FakeNetwork<Host>, host: NodeIndex) -> usize {
    net.node(host).stack.tcp().len()
}

fn close(net: &mut FakeNetwork<Host>, host: NodeIndex, s: Id4) {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, s))).unwrap();
}

#[test]
fn tcp_linger2_sets_how_long_an_orphan_waits_in_fin_wait_2() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (client, server) = connected(&mut net, a, b);
    // Zero restores the default (tcp_fin_timeout, 60 s); more than 120 s is cut to 120 s.
    let secs = |s| Some(Duration::from_secs(s));
    assert_eq!(fin_timeout(&net, a, client), secs(60));
    set_fin_timeout(&mut net, a, client, secs(1000));
    assert_eq!(fin_timeout(&net, a, client), secs(120));
    set_fin_timeout(&mut net, a, client, secs(0));
    assert_eq!(fin_timeout(&net, a, client), secs(60));
    set_fin_timeout(&mut net, a, client, secs(5));
    // The server never closes: the orphaned client leaves FIN-WAIT-2 after 5 s, not 60.
    close(&mut net, a, client);
    net.run_for(Duration::from_millis(4900));
    assert_eq!(open(&net, a), 1, "the orphan still waits for the server's FIN");
    net.run_for(Duration::from_millis(300));
    assert_eq!(open(&net, a), 0);
    assert_eq!(state(&net, b, server), Ok(State::CloseWait));
}

#[test]
fn a_negative_tcp_linger2_drops_an_orphan_once_its_fin_is_acknowledged() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (client, server) = connected(&mut net, a, b);
    set_fin_timeout(&mut net, a, client, None);
    assert_eq!(fin_timeout(&net, a, client), None);
    close(&mut net, a, client);
    net.run_for(Duration::from_millis(100));
    // Gone without a RST: the server saw an orderly FIN.
    assert_eq!(open(&net, a), 0);
    assert_eq!(state(&net, b, server), Ok(State::CloseWait));
    assert_eq!(net.node(a).stack.tcp().counters().out_rsts, 0);
}

#[test]
fn closing_in_fin_wait_2_with_a_negative_tcp_linger2_resets_the_connection() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (client, server) = connected(&mut net, a, b);
    call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| tcp.shutdown(tctx, client, Shutdown::Write))
    })
    .unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!(state(&net, a, client), Ok(State::FinWait2));
    set_fin_timeout(&mut net, a, client, None);
    close(&mut net, a, client);
    net.run_for(Duration::from_millis(100));
    assert_eq!(open(&net, a), 0);
    let counters = net.node(a).stack.tcp().counters();
    assert_eq!((counters.out_rsts, counters.abort_on_linger), (1, 1));
    assert_eq!(state(&net, b, server), Ok(State::Closed));
    assert_eq!(
        call(&mut net, b, |stack, _| stack.tcp.take_error(server)),
        Ok(Some(SocketError::ConnectionReset))
    );
}

fn send(net: &mut FakeNetwork<Host>, host: NodeIndex, s: Id4, data: &[u8]) {
    let sent = call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.send(tctx, s, data)));
    assert_eq!(sent, Ok(data.len()));
}

/// Bytes `s` sent that the peer has not acknowledged yet.
fn unacked(net: &FakeNetwork<Host>, host: NodeIndex, s: Id4) -> usize {
    net.node(host).stack.tcp().queues(s).unwrap().1
}

fn set_quickack(net: &mut FakeNetwork<Host>, host: NodeIndex, s: Id4, on: bool) {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.set_quickack(tctx, s, on))).unwrap();
}

fn delayed_acks(net: &FakeNetwork<Host>, host: NodeIndex) -> u64 {
    net.node(host).stack.tcp().counters().delayed_acks
}

#[test]
fn tcp_quickack_sends_the_delayed_ack_now_and_acks_at_once_until_pingpong_returns() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (client, server) = connected(&mut net, a, b);
    assert_eq!(net.node(b).stack.tcp().quickack(server), Ok(true), "not in pingpong mode");
    // A lone segment waits for the delayed-ACK timer (40 ms)...
    send(&mut net, a, client, b"request");
    net.run_for(Duration::from_millis(10));
    assert_eq!(unacked(&net, a, client), 7);
    // ...until TCP_QUICKACK sends it.
    set_quickack(&mut net, b, server, true);
    net.run_for(Duration::from_millis(1));
    assert_eq!(unacked(&net, a, client), 0);
    // The next segments are acknowledged at once, none by the timer.
    for _ in 0..3 {
        send(&mut net, a, client, b"more");
        net.run_for(Duration::from_millis(1));
        assert_eq!(unacked(&net, a, client), 0);
    }
    assert_eq!(delayed_acks(&net, b), 0);
    // Off: pingpong mode, whose ACKs wait for data to ride on; the timer that fires
    // without any ends it, as in Linux.
    set_quickack(&mut net, b, server, false);
    assert_eq!(net.node(b).stack.tcp().quickack(server), Ok(false));
    send(&mut net, a, client, b"again");
    net.run_for(Duration::from_millis(10));
    assert_eq!(unacked(&net, a, client), 5);
    net.run_for(Duration::from_millis(100));
    assert_eq!((unacked(&net, a, client), delayed_acks(&net, b)), (0, 1));
    assert_eq!(net.node(b).stack.tcp().quickack(server), Ok(true));
}

fn set_cork(net: &mut FakeNetwork<Host>, host: NodeIndex, s: Id4, on: bool) {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.set_cork(tctx, s, on))).unwrap();
}

/// Bytes that arrived at `s` and wait to be read.
fn received(net: &FakeNetwork<Host>, host: NodeIndex, s: Id4) -> usize {
    net.node(host).stack.tcp().queues(s).unwrap().0
}

#[test]
fn tcp_cork_holds_partial_segments_until_uncorked_or_for_200_ms() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (client, server) = connected(&mut net, a, b);
    set_cork(&mut net, a, client, true);
    assert!(net.node(a).stack.tcp().options(client).unwrap().0.cork);
    let mss = net.node(a).stack.tcp().info(client).unwrap().snd_mss as usize;
    // Corked, a partial segment waits even with nothing in flight (Nagle would send it)...
    send(&mut net, a, client, &[1; 100]);
    net.run_for(Duration::from_millis(50));
    assert_eq!(received(&net, b, server), 0);
    // ...a full one goes, the rest waits...
    send(&mut net, a, client, &vec![2; mss]);
    net.run_for(Duration::from_millis(50));
    assert_eq!(received(&net, b, server), mss);
    // ...until the cork comes out.
    set_cork(&mut net, a, client, false);
    net.run_for(Duration::from_millis(1));
    assert_eq!(received(&net, b, server), mss + 100);
    // Corked again, a partial segment waits 200 ms at most.
    set_cork(&mut net, a, client, true);
    send(&mut net, a, client, &[3; 10]);
    net.run_for(Duration::from_millis(195));
    assert_eq!(received(&net, b, server), mss + 100);
    net.run_for(Duration::from_millis(10));
    assert_eq!(received(&net, b, server), mss + 110);
}

#[test]
fn tcp_window_clamp_bounds_the_window_offered() {
    let impairments = Impairments { delay: Duration::from_millis(10), ..Impairments::default() };
    let (mut net, hosts) = lan(impairments, 2);
    let (a, b) = (hosts[0], hosts[1]);
    let listener = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            assert_eq!(tcp.window_clamp(s), Ok(0), "unset on a closed socket");
            // Below Linux's floor, raised to it; 0 clears it while the socket is closed.
            tcp.set_window_clamp(s, 1).unwrap();
            assert_eq!(tcp.window_clamp(s), Ok(2176));
            tcp.set_window_clamp(s, 0).unwrap();
            assert_eq!(tcp.window_clamp(s), Ok(0));
            tcp.set_window_clamp(s, 10_000).unwrap();
            tcp.bind(tctx, s, None, Some(port(80))).unwrap();
            tcp.listen(tctx, s, 16).unwrap();
            assert_eq!(tcp.set_window_clamp(s, 0), Err(SocketError::InvalidArgument));
            s
        })
    });
    let client = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            tcp.connect(tctx, s, super::tcp::addr("192.0.2.2"), port(80)).unwrap();
            s
        })
    });
    net.run_for(Duration::from_millis(100));
    let server = accept4(&mut net, b, listener).unwrap();
    assert_eq!(net.node(b).stack.tcp().window_clamp(server), Ok(10_000), "inherited");
    let zero = call(&mut net, b, |stack, _| stack.tcp.set_window_clamp(server, 0));
    assert_eq!(zero, Err(SocketError::InvalidArgument), "0 only while closed");
    // One round trip carries at most the clamp, though the initial congestion window
    // (ten segments) and the buffer would allow more; the window never opens wider.
    send(&mut net, a, client, &vec![7; 100_000]);
    net.run_for(Duration::from_millis(15));
    let got = received(&net, b, server);
    assert!((8_000..=10_000).contains(&got), "{got} bytes in the first round trip");
    for _ in 0..10 {
        net.run_for(Duration::from_millis(7));
        assert!(net.node(a).stack.tcp().info(client).unwrap().snd_wnd <= 10_000);
        assert!(net.node(b).stack.tcp().info(server).unwrap().rcv_wnd <= 10_000);
    }
}
