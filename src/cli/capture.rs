//! `netstack capture IFACE -w FILE`: a packet capture through `netstack.admin/Interfaces.
//! StartCapture`, written as a classic pcap file (`pcap.rs`) with the interface's link type,
//! until `--count` packets, the end of the capture (the interface went away), or SIGINT or
//! SIGTERM; on every one of these the file is flushed and complete. `-w -` writes to stdout,
//! flushed after each burst, so `netstack capture ns0 -w - | tshark -r -` shows packets live.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::OwnedFd;
use std::pin::pin;

use futures::future::{select, Either};
use netstack_fidl::netstack_admin::{
    interfaces, CaptureOptions, CaptureRecordHeader, LinkType, DEFAULT_SNAPLEN, INTERFACES_PROTOCOL_NAME,
};
use tokio::signal::unix::{signal, SignalKind};

use super::args::{parse_number, Args, IfaceRef};
use super::pcap::PcapWriter;
use super::svc::{call_failed, status_text};
use super::{iface, CliError, Context};

pub(crate) const HELP: &str = "\
Usage: netstack capture IFACE -w FILE [--count N] [--snaplen N]

Captures every frame interface IFACE (a name or an id) sends and receives into FILE, a
classic pcap file that tshark, tcpdump and Wireshark read, with the interface's link type
(Ethernet for a TAP, raw IP for a TUN). Stops after N packets, or on Ctrl-C or SIGTERM,
with the file flushed and complete either way.

  -w FILE        where to write; '-' for stdout
  -c, --count N  stop after N packets
  -s, --snaplen N
                 keep at most N bytes of each frame (default and maximum 262144)

Examples:
  netstack capture ns0 -w /tmp/ns0.pcap --count 10
  netstack capture ns0 -w - | tshark -r -
";

/// What `capture` was asked.
#[derive(Debug, PartialEq, Eq)]
struct CaptureArgs {
    iface: IfaceRef,
    file: String,
    count: Option<u64>,
    snaplen: u32,
}

fn parse(words: &[String]) -> Result<CaptureArgs, CliError> {
    let mut args = Args::new("capture", words);
    let (mut iface, mut file, mut count, mut snaplen) = (None, None, None, DEFAULT_SNAPLEN);
    while let Some(word) = args.next() {
        match word {
            "-w" | "--write" => file = Some(args.value("-w")?.to_owned()),
            "-c" | "--count" => count = Some(args.parsed("--count", parse_number(1u64, u64::MAX))?),
            "-s" | "--snaplen" => snaplen = args.parsed("--snaplen", parse_number(1u32, DEFAULT_SNAPLEN))?,
            option if option.starts_with('-') => return Err(args.usage(format!("unknown option '{option}'"))),
            name if iface.is_none() => iface = Some(IfaceRef(name.to_owned())),
            other => return Err(args.unexpected(other)),
        }
    }
    let iface = iface.ok_or_else(|| args.usage("missing IFACE".to_owned()))?;
    let file = file.ok_or_else(|| args.usage("missing '-w FILE'".to_owned()))?;
    Ok(CaptureArgs { iface, file, count, snaplen })
}

pub(crate) fn run(ctx: &Context, words: &[String]) -> Result<(), CliError> {
    let args = parse(words)?;
    let out: Box<dyn Write> = if args.file == "-" {
        Box::new(io::stdout().lock())
    } else {
        let file = File::create(&args.file).map_err(|e| CliError::failed(format!("{}: {e}", args.file)))?;
        Box::new(BufWriter::new(file))
    };
    let (id, name) = iface::resolve(ctx, &args.iface)?;
    let what = format!("capture on {name}");
    let client = ctx.svc.client(INTERFACES_PROTOCOL_NAME)?;
    let options = CaptureOptions { snaplen: Some(args.snaplen) };
    let (records, link_type) = client
        .call::<interfaces::StartCapture>((id, options))
        .map_err(|e| call_failed(&what, e))?
        .map_err(|status| CliError::failed(format!("{what}: {}", status_text(status))))?;
    let write_failed = |e: io::Error| CliError::failed(format!("writing {}: {e}", args.file));
    let mut pcap = PcapWriter::new(out, args.snaplen, link_type as u32).map_err(write_failed)?;
    pcap.flush().map_err(write_failed)?;
    eprintln!(
        "capturing on {name}, link-type {}, snapshot length {} bytes",
        link_type_name(link_type),
        args.snaplen
    );
    let outcome = capture(records, &mut pcap, args.snaplen, args.count);
    let flushed = pcap.flush();
    let summary = outcome.map_err(|e| CliError::failed(format!("{what}: {e}")))?;
    flushed.map_err(write_failed)?;
    eprintln!("{} packets captured{}", summary.packets, summary.ended.describe());
    if summary.malformed > 0 {
        eprintln!("{} malformed capture records skipped", summary.malformed);
    }
    Ok(())
}

/// How a capture went.
#[derive(Debug)]
struct Summary {
    packets: u64,
    malformed: u64,
    ended: Ended,
}

/// Why a capture stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Count,
    Signal,
    /// The daemon closed the record socket: the interface was removed or the daemon stopped.
    Closed,
}

impl Ended {
    fn describe(self) -> &'static str {
        match self {
            Ended::Count | Ended::Signal => "",
            Ended::Closed => " (the netstack ended the capture: interface removed or daemon stopped)",
        }
    }
}

/// Copies records from the daemon's socket into `pcap` until `count` packets, a signal, or
/// the end of the socket.
fn capture(
    records: OwnedFd,
    pcap: &mut PcapWriter<Box<dyn Write>>,
    snaplen: u32,
    count: Option<u64>,
) -> io::Result<Summary> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    runtime.block_on(async {
        let records = std::os::unix::net::UnixDatagram::from(records);
        records.set_nonblocking(true)?;
        let records = tokio::net::UnixDatagram::from_std(records)?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut buffer =
            vec![0u8; netstack_fidl::netstack_admin::CAPTURE_RECORD_HEADER_LEN + snaplen as usize];
        let mut summary = Summary { packets: 0, malformed: 0, ended: Ended::Count };
        loop {
            if count.is_some_and(|count| summary.packets >= count) {
                summary.ended = Ended::Count;
                return Ok(summary);
            }
            let (interrupted, terminated) = (pin!(interrupt.recv()), pin!(terminate.recv()));
            let stop = select(interrupted, terminated);
            let received = match select(pin!(records.recv(&mut buffer)), stop).await {
                Either::Left((received, _)) => received?,
                Either::Right(_) => {
                    summary.ended = Ended::Signal;
                    return Ok(summary);
                }
            };
            if received == 0 {
                summary.ended = Ended::Closed;
                return Ok(summary);
            }
            write_record(pcap, &buffer[..received], &mut summary)?;
            // Take what else is queued, then flush once for the burst.
            while count.is_none_or(|count| summary.packets < count) {
                match records.try_recv(&mut buffer) {
                    Ok(0) => break,
                    Ok(received) => write_record(pcap, &buffer[..received], &mut summary)?,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                    Err(error) => return Err(error),
                }
            }
            pcap.flush()?;
        }
    })
}

fn write_record(
    pcap: &mut PcapWriter<Box<dyn Write>>,
    record: &[u8],
    summary: &mut Summary,
) -> io::Result<()> {
    match CaptureRecordHeader::parse(record) {
        Ok((header, frame)) => {
            pcap.packet(header.timestamp_ns, header.original_len, frame)?;
            summary.packets += 1;
        }
        Err(_) => summary.malformed += 1,
    }
    Ok(())
}

/// The link type as tcpdump names it.
fn link_type_name(link_type: LinkType) -> &'static str {
    match link_type {
        LinkType::Ethernet => "EN10MB (Ethernet)",
        LinkType::Raw => "RAW (Raw IP)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::words;

    #[test]
    fn arguments_in_any_order() {
        let parsed = parse(&words(&["-w", "-", "ns0", "--count", "3", "-s", "96"])).unwrap();
        assert_eq!(
            parsed,
            CaptureArgs { iface: IfaceRef("ns0".into()), file: "-".into(), count: Some(3), snaplen: 96 }
        );
        assert_eq!(parse(&words(&["2", "-w", "x.pcap"])).unwrap().snaplen, DEFAULT_SNAPLEN);
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for (bad, message) in [
            (&["ns0"][..], "missing '-w FILE'"),
            (&["-w", "x"][..], "missing IFACE"),
            (&["ns0", "-w"][..], "'-w' needs a value"),
            (&["ns0", "-w", "x", "--snaplen", "300000"][..], "bad --snaplen '300000'"),
            (&["ns0", "-w", "x", "--count", "0"][..], "bad --count '0'"),
            (&["ns0", "ns1", "-w", "x"][..], "unexpected argument 'ns1'"),
        ] {
            let error = parse(&words(bad)).unwrap_err();
            assert!(error.to_string().contains(message), "{bad:?}: {error}");
        }
    }
}
