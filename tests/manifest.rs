//! `meta/netstack.cml` and the daemon agree: the manifest exposes exactly the protocols the
//! daemon serves and uses exactly the directories it opens, with the arguments it takes.

use netstack_bindings::manifest::{EXPOSED_PROTOCOLS, PROGRAM_ARGS, USED_DIRECTORIES};

const CML: &str = include_str!("../meta/netstack.cml");

/// The CML without `//` comments.
fn cml() -> String {
    CML.lines().map(|l| l.split_once("//").map_or(l, |(code, _)| code)).collect::<Vec<_>>().join("\n")
}

/// The text of the `[...]` list after `key:` (lists in the manifest do not nest brackets).
fn list(text: &str, key: &str) -> String {
    let start = text.find(&format!("{key}:")).unwrap_or_else(|| panic!("no '{key}' in the manifest"));
    let rest = &text[start..];
    let open = rest.find('[').expect("a list");
    let close = rest.find(']').expect("a closed list");
    rest[open + 1..close].to_owned()
}

/// Every `"value"` following `field:` in `text`.
fn values(text: &str, field: &str) -> Vec<String> {
    text.split(&format!("{field}:"))
        .skip(1)
        .filter_map(|rest| rest.split('"').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn manifest_exposes_what_the_daemon_serves() {
    let cml = cml();
    let exposed = values(&list(&cml, "expose"), "protocol");
    assert_eq!(exposed, EXPOSED_PROTOCOLS);
}

#[test]
fn manifest_uses_what_the_daemon_opens() {
    let cml = cml();
    let start = cml.find("use:").expect("a use section");
    let end = cml[start..].find("expose:").map_or(cml.len(), |e| start + e);
    let uses = &cml[start..end];
    let names = values(uses, "directory");
    let paths = values(uses, "path");
    let want_names: Vec<_> = USED_DIRECTORIES.iter().map(|d| d.name).collect();
    let want_paths: Vec<_> = USED_DIRECTORIES.iter().map(|d| d.path).collect();
    assert_eq!(names, want_names);
    assert_eq!(paths, want_paths);
    assert!(values(uses, "protocol").is_empty(), "the daemon uses no protocols yet");
}

#[test]
fn manifest_starts_the_daemon_with_its_arguments() {
    let args: Vec<String> = list(&cml(), "args")
        .split(',')
        .map(|a| a.trim().trim_matches('"').to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(args, PROGRAM_ARGS);
}
