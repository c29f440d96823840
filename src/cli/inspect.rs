//! `netstack inspect [PATH]`: the daemon's Inspect tree (`INSPECT.md`), fetched through
//! `fuchsia.inspect/Tree.GetContent` (the JSON document in a memfd, this netstack's deviation
//! from the Inspect VMO format), printed whole or from a node down. `sock` and `stats` read
//! the tree through [`fetch_tree`] too.

use std::fs::File;
use std::os::unix::fs::FileExt;

use netstack_fidl::fuchsia_inspect::{tree, TREE_PROTOCOL_NAME};
use serde_json::Value;

use super::args::Args;
use super::svc::call_failed;
use super::{CliError, Context};

pub(crate) const HELP: &str = "\
Usage: netstack inspect [PATH]

Prints the daemon's Inspect tree as JSON (INSPECT.md describes every node and counter), or
only the node at PATH, whose parts are separated by dots. A part may itself contain dots
(an IP address, an interface name): the longest child name that matches is taken.

Examples:
  netstack inspect
  netstack inspect Stack.Devices.ns0
  netstack inspect Stack.Neighbors.ns0.192.0.2.2
";

/// The biggest tree this CLI reads: far more than any daemon's (its sockets are bounded).
const MAX_TREE_BYTES: u64 = 256 << 20;

pub(crate) fn run(ctx: &Context, words: &[String]) -> Result<(), CliError> {
    let mut args = Args::new("inspect", words);
    let path = args.next();
    if let Some(option) = path.filter(|p| p.starts_with('-')) {
        return Err(args.usage(format!("unknown option '{option}'")));
    }
    args.finish()?;
    let tree = fetch_tree(ctx)?;
    let node = match path {
        None => &tree,
        Some(path) => {
            lookup(&tree, path).ok_or_else(|| CliError::failed(format!("inspect {path}: no such node")))?
        }
    };
    // The tree is JSON whatever the output mode.
    ctx.out.document(node)
}

/// The daemon's whole Inspect tree.
pub(crate) fn fetch_tree(ctx: &Context) -> Result<Value, CliError> {
    const WHAT: &str = "reading the Inspect tree";
    let client = ctx.svc.client(TREE_PROTOCOL_NAME)?;
    let content = client.call::<tree::GetContent>(()).map_err(|e| call_failed(WHAT, e))?;
    let buffer =
        content.buffer.ok_or_else(|| CliError::failed(format!("{WHAT}: the reply has no buffer")))?;
    if buffer.size > MAX_TREE_BYTES {
        return Err(CliError::failed(format!("{WHAT}: {} bytes is more than this CLI reads", buffer.size)));
    }
    let mut bytes = vec![0u8; buffer.size as usize];
    File::from(buffer.vmo)
        .read_exact_at(&mut bytes, 0)
        .map_err(|e| CliError::failed(format!("{WHAT}: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| CliError::failed(format!("{WHAT}: not JSON: {e}")))
}

/// The node at dotted `path` below `tree`. Each step takes the longest run of parts that
/// names a child (so `192.0.2.2` is one step when a child has that name).
pub(crate) fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
    let mut node = tree;
    let mut at = 0;
    while at < parts.len() {
        let children = node.as_object()?;
        let take =
            (at + 1..=parts.len()).rev().find(|&end| children.contains_key(&parts[at..end].join(".")))?;
        node = &children[&parts[at..take].join(".")];
        at = take;
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_find_nodes_even_with_dots_in_names() {
        let tree = json!({"Stack": {
            "Devices": {"ns0": {"Mtu": 1500}, "eth0.100": {"Mtu": 1496}},
            "Neighbors": {"ns0": {"192.0.2.2": {"State": "REACHABLE"}}},
        }});
        assert_eq!(lookup(&tree, "Stack.Devices.ns0.Mtu"), Some(&json!(1500)));
        assert_eq!(lookup(&tree, "Stack.Devices.eth0.100"), Some(&json!({"Mtu": 1496})));
        assert_eq!(lookup(&tree, "Stack.Neighbors.ns0.192.0.2.2.State"), Some(&json!("REACHABLE")));
        assert_eq!(lookup(&tree, ""), Some(&tree));
        assert_eq!(lookup(&tree, "Stack.Devices.ns1"), None);
        assert_eq!(lookup(&tree, "Stack.Devices.ns0.Mtu.x"), None);
    }
}
