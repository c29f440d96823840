//! Writes the seed corpus of the `requests` target (`netstack_fidl_fuzz::seeds`) into the
//! directory given as the only argument: `fidl/fuzz/run.sh` runs it before fuzzing.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args_os().nth(1).unwrap_or_else(|| "corpus/requests".into()));
    std::fs::create_dir_all(&dir)?;
    let seeds = netstack_fidl_fuzz::seeds();
    for (name, input) in &seeds {
        std::fs::write(dir.join(format!("seed-{}", name.replace('/', "-"))), input)?;
    }
    println!("{} seeds in {}", seeds.len(), dir.display());
    Ok(())
}
