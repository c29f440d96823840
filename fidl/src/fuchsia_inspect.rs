//! Bindings for `fidl/sdk/fuchsia.inspect/tree.fidl`: the netstack's diagnostics tree.
//!
//! Deviation from Fuchsia: [`TreeContent::buffer`] holds the tree as JSON in a memfd (see
//! `INSPECT.md` for its shape), not in the Inspect VMO format. Only `Tree.GetContent` is
//! declared: the tree is one document, so `ListChildNames` and `OpenChild` (and the
//! `TreeNameIterator` they use) are not served.

use crate::fuchsia_mem::Buffer;

/// The name of the Tree protocol in the svc dir.
pub const TREE_PROTOCOL_NAME: &str = "fuchsia.inspect.Tree";

crate::fidl_table! {
    /// A snapshot of the tree.
    #[derive(Debug)]
    pub struct TreeContent {
        /// The tree as JSON, in a memfd.
        1 => pub buffer: Buffer,
    }
}

fidl_protocol! {
    /// `fuchsia.inspect/Tree`: read the diagnostics tree.
    pub mod tree = "fuchsia.inspect/Tree";
    /// A request of `Tree`.
    #[derive(Debug)]
    request TreeRequest {
        compose {}
        import {}
        methods {
            /// The tree as it is now.
            GetContent() -> TreeContent;
        }
    }
}
