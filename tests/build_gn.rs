//! BUILD.gn mirrors the cargo crates: every GN target's `sources` list names exactly the
//! Rust files of the crate its `source_root` belongs to, so the two builds cannot drift.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A GN target with a crate root and its source list.
struct Target {
    name: String,
    source_root: String,
    sources: BTreeSet<String>,
}

/// Splits BUILD.gn into top-level `kind("name") { ... }` blocks and reads each one's
/// `source_root` and `sources`.
fn targets(gn: &str) -> Vec<Target> {
    let mut out = Vec::new();
    let mut lines = gn.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(name) =
            line.strip_suffix(") {").and_then(|l| l.split_once("(\"")).map(|(_, n)| n.trim_end_matches('"'))
        else {
            continue;
        };
        let mut body = Vec::new();
        for inner in lines.by_ref() {
            if inner == "}" {
                break;
            }
            body.push(inner.trim());
        }
        let source_root =
            body.iter().find_map(|l| l.strip_prefix("source_root = \"")).map(|s| s.trim_end_matches('"'));
        let Some(source_root) = source_root else { continue };
        let joined = body.join(" ");
        let sources = joined
            .split_once("sources = [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| {
                list.split(',')
                    .map(|s| s.trim().trim_matches('"').to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        out.push(Target { name: name.to_owned(), source_root: source_root.to_owned(), sources });
    }
    out
}

fn rust_files(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.insert(path.strip_prefix(ROOT).unwrap().to_string_lossy().into_owned());
        }
    }
}

#[test]
fn gn_sources_match_crate_files() {
    let gn = std::fs::read_to_string(Path::new(ROOT).join("BUILD.gn")).unwrap();
    let targets = targets(&gn);
    let roots: BTreeSet<&str> = targets.iter().map(|t| t.source_root.as_str()).collect();
    for expected in ["src/main.rs", "core/src/lib.rs", "bindings/src/lib.rs"] {
        assert!(roots.contains(expected), "BUILD.gn has no target for {expected}");
    }
    let mut fuzz_targets = BTreeSet::new();
    rust_files(&Path::new(ROOT).join("core/fuzz/fuzz_targets"), &mut fuzz_targets);
    for target in &fuzz_targets {
        assert!(roots.contains(target.as_str()), "BUILD.gn has no rustc_fuzzer for {target}");
    }
    for t in &targets {
        let dir = Path::new(ROOT).join(&t.source_root).parent().unwrap().to_path_buf();
        let mut on_disk = BTreeSet::new();
        if t.source_root.ends_with("lib.rs") || t.source_root.ends_with("main.rs") {
            rust_files(&dir, &mut on_disk);
        } else {
            on_disk.insert(t.source_root.clone());
        }
        assert_eq!(
            t.sources,
            on_disk,
            "BUILD.gn target {} lists other files than {} holds",
            t.name,
            dir.display()
        );
    }
}
