//! Holds the bindings to the `.fidl` sources under `fidl/sdk/`: every method declared there
//! has a [`Method`](crate::Method) type with the same name, the ordinal of its selector and
//! the same direction, and every binding is declared there.

use std::collections::BTreeMap;
use std::path::Path;

use crate::ordinal::ordinal;
use crate::protocol::MethodInfo;
use crate::{fuchsia_posix_socket as socket, fuchsia_posix_socket_raw as raw, fuchsia_unknown as unknown};

/// A method as a `.fidl` file declares it.
#[derive(Debug)]
struct Declared {
    /// `library/Protocol.Method`.
    name: String,
    /// The selector its ordinal is hashed from.
    selector: String,
    one_way: bool,
    /// A server-sent event (`-> Name(...)`).
    event: bool,
}

/// A small line-based scan of a `.fidl` file: `library`, `protocol` blocks, `@selector`
/// attributes and method declarations (which may span lines up to their `;`).
fn scan(text: &str) -> Vec<Declared> {
    let mut library = String::new();
    let mut protocol: Option<String> = None;
    let mut depth = 0usize;
    let mut selector: Option<String> = None;
    let mut method: Option<(String, String, bool)> = None; // (name, text so far, event)
    let mut declared = Vec::new();
    for raw_line in text.lines() {
        let line = raw_line.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("library ") {
            library = name.trim_end_matches(';').to_string();
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if protocol.is_none() {
            if let Some(at) = words.iter().position(|w| *w == "protocol") {
                protocol = Some(words[at + 1].to_string());
                depth = 1;
            }
            continue;
        }
        let depth_before = depth;
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
        if depth == 0 {
            protocol = None;
            continue;
        }
        if let Some((_, text, _)) = method.as_mut() {
            text.push_str(line);
        } else if depth_before == 1 {
            if let Some(value) = line.strip_prefix("@selector(\"") {
                selector = Some(value.trim_end_matches("\")").to_string());
                continue;
            }
            if line.starts_with("compose ") || line.starts_with('@') {
                continue;
            }
            let mut rest = words.iter().copied().skip_while(|w| matches!(*w, "strict" | "flexible"));
            let mut start = rest.next().unwrap_or("");
            let event = start == "->";
            if event {
                start = rest.next().unwrap_or("");
            }
            let name = start.split('(').next().unwrap_or("").to_string();
            assert!(start.contains('('), "unexpected line in protocol: {line}");
            method = Some((name, line.to_string(), event));
        }
        if depth == 1 && line.ends_with(';') {
            if let Some((name, text, event)) = method.take() {
                let protocol = protocol.as_deref().unwrap_or("");
                let selector = match selector.take() {
                    Some(s) if s.contains('/') => s,
                    Some(s) => format!("{library}/{protocol}.{s}"),
                    None => format!("{library}/{protocol}.{name}"),
                };
                declared.push(Declared {
                    name: format!("{library}/{protocol}.{name}"),
                    selector,
                    one_way: event || !text.contains("->"),
                    event,
                });
            }
        }
    }
    declared
}

fn declared_methods() -> Vec<Declared> {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk");
    let mut files = Vec::new();
    for library in std::fs::read_dir(&sdk).expect("fidl/sdk exists") {
        for file in std::fs::read_dir(library.expect("entry").path()).expect("library dir") {
            let path = file.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == "fidl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files.iter().flat_map(|path| scan(&std::fs::read_to_string(path).expect("readable"))).collect()
}

fn bound_methods() -> BTreeMap<&'static str, MethodInfo> {
    [
        unknown::cloneable::METHODS,
        unknown::closeable::METHODS,
        unknown::queryable::METHODS,
        socket::base_socket::METHODS,
        socket::base_network_socket::METHODS,
        socket::base_datagram_socket::METHODS,
        socket::datagram_socket::METHODS,
        socket::stream_socket::METHODS,
        socket::provider::METHODS,
        raw::socket::METHODS,
        raw::provider::METHODS,
        crate::fuchsia_inspect::tree::METHODS,
        crate::netstack_admin::interfaces::METHODS,
        crate::fuchsia_net_interfaces::state::METHODS,
        crate::fuchsia_net_interfaces::watcher::METHODS,
        crate::fuchsia_net_interfaces_admin::control::METHODS,
        crate::fuchsia_net_interfaces_admin::address_state_provider::METHODS,
        crate::fuchsia_net_root::interfaces::METHODS,
        crate::fuchsia_net_root::routes_v4::METHODS,
        crate::fuchsia_net_root::routes_v6::METHODS,
        crate::fuchsia_net_routes::state_v4::METHODS,
        crate::fuchsia_net_routes::watcher_v4::METHODS,
        crate::fuchsia_net_routes::state_v6::METHODS,
        crate::fuchsia_net_routes::watcher_v6::METHODS,
        crate::fuchsia_net_routes_admin::route_set_v4::METHODS,
        crate::fuchsia_net_routes_admin::route_set_v6::METHODS,
        crate::fuchsia_net_neighbor::entry_iterator::METHODS,
        crate::fuchsia_net_neighbor::view::METHODS,
        crate::fuchsia_net_neighbor::controller::METHODS,
    ]
    .concat()
    .into_iter()
    .map(|info| (info.name, info))
    .collect()
}

#[test]
fn every_declared_method_has_a_matching_binding() {
    let declared = declared_methods();
    let bound = bound_methods();
    assert!(declared.len() > 100, "the scan found only {} methods", declared.len());
    for method in &declared {
        let binding =
            bound.get(method.name.as_str()).unwrap_or_else(|| panic!("no binding for {}", method.name));
        assert_eq!(
            binding.ordinal,
            ordinal(&method.selector),
            "ordinal of {} ({})",
            method.name,
            method.selector
        );
        assert_eq!(binding.one_way, method.one_way, "direction of {}", method.name);
        assert_eq!(binding.event, method.event, "{} is an event in one place only", method.name);
    }
    for name in bound.keys() {
        assert!(declared.iter().any(|m| m.name == *name), "{name} is bound but not declared");
    }
    assert_eq!(declared.len(), bound.len(), "a method is declared twice");
}

#[test]
fn ordinals_are_unique_within_each_request_enum() {
    let bound = bound_methods();
    let mut seen = BTreeMap::new();
    for info in bound.values() {
        if let Some(other) = seen.insert(info.ordinal, info.name) {
            panic!("{} and {other} share ordinal {:#x}", info.name, info.ordinal);
        }
    }
}

#[test]
fn scan_reads_selectors_and_multi_line_methods() {
    let declared = scan(
        "library a.b;\nclosed protocol P {\n    compose Q;\n    @selector(\"Other\")\n    strict M(struct {\n        x bool;\n    }) -> ();\n    strict OneWay(struct { y bool; });\n    strict -> OnThing(struct {\n        z bool;\n    });\n    -> OnOther();\n};\n",
    );
    assert_eq!(declared.len(), 4);
    assert_eq!(declared[0].name, "a.b/P.M");
    assert_eq!(declared[0].selector, "a.b/P.Other");
    assert!(!declared[0].one_way);
    assert_eq!(declared[1].selector, "a.b/P.OneWay");
    assert!(declared[1].one_way);
    assert!(!declared[1].event);
    assert_eq!(declared[2].name, "a.b/P.OnThing");
    assert!(declared[2].event && declared[2].one_way);
    assert_eq!(declared[3].selector, "a.b/P.OnOther");
    assert!(declared[3].event);
}
