//! `tropescan explain [FILE|-]`

use std::io::Read;
use std::path::PathBuf;

use clap::Args;

use super::{fail, print, EngineArgs, Exit};

#[derive(Args)]
pub struct ExplainArgs {
    /// A text file, or `-` (the default) for standard input
    #[arg(value_name = "FILE|-")]
    file: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: ExplainArgs) -> Exit {
    let engine = match args.engine.engine() {
        Ok(e) => e,
        Err(x) => return x,
    };
    let mut bytes = Vec::new();
    let res = match args.file.as_deref() {
        None => std::io::stdin().read_to_end(&mut bytes).map(|_| ()),
        Some(p) if p.as_os_str() == "-" => std::io::stdin().read_to_end(&mut bytes).map(|_| ()),
        Some(p) => std::fs::read(p).map(|b| bytes = b),
    };
    if let Err(e) = res {
        return fail(&format!("cannot read input: {e}"), None);
    }
    let text = String::from_utf8_lossy(&bytes);
    print(&tropescan::explain::explain(&engine, &text));
    Exit::Ok
}
