//! `fuchsia.inspect/Tree.GetContent`: the whole Inspect tree (`INSPECT.md`) as JSON in a
//! memfd (where Fuchsia hands out a VMO in the Inspect format).
//!
//! The tree is written on the loop's thread, at the moment of the request, into a new memfd;
//! the memfd is then sealed (`F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL`), so
//! the client holds an immutable snapshot that nobody, the server included, can change, and
//! may `mmap` it or read it from offset 0. `TreeContent.buffer.size` is the JSON's length in
//! bytes.

use std::io::{Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;

use netstack_fidl::fuchsia_inspect::{tree, TreeContent, TreeRequest};
use netstack_fidl::fuchsia_mem::Buffer;
use netstack_fidl::wire::DecodeError;
use netstack_fidl::zx;
use rustix::fs::{MemfdFlags, SealFlags};

use super::{AdminCounters, AdminServer, Payload, Request};
use crate::eventloop::{BindingsCtx, NetStack};
use crate::socket::SocketServer;

/// Serves one request of a `fuchsia.inspect/Tree` connection.
pub(super) fn tree_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    sockets: Option<&SocketServer>,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(TreeRequest::decode)? {
        TreeRequest::GetContent {} => match snapshot(stack, ctx, sockets, &server.counters) {
            Ok(buffer) => {
                server.counters.inspect_trees += 1;
                server.reply::<tree::GetContent>(request, TreeContent { buffer: Some(buffer) });
            }
            Err(error) => {
                tracing::warn!(%error, "cannot write the Inspect tree");
                server.epitaph(request.key, zx::ERR_NO_RESOURCES);
            }
        },
    }
    Ok(())
}

/// The tree, written into a sealed memfd.
fn snapshot(
    stack: &NetStack,
    ctx: &BindingsCtx,
    sockets: Option<&SocketServer>,
    admin: &AdminCounters,
) -> std::io::Result<Buffer> {
    let fd = rustix::fs::memfd_create("netstack-inspect", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut file = std::fs::File::from(fd);
    {
        let mut out = std::io::BufWriter::new(&mut file);
        crate::inspect::write_tree(&mut out, stack, ctx, sockets, Some(admin))?;
        out.flush()?;
    }
    let size = file.stream_position()?;
    file.seek(SeekFrom::Start(0))?;
    let fd = OwnedFd::from(file);
    rustix::fs::fcntl_add_seals(
        &fd,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )?;
    Ok(Buffer { vmo: fd, size })
}
