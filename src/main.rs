//! The `tropescan` command: a thin border around the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
