//! Integration tests: the built binary on small corpora, outputs read back with test-side
//! code.

mod common;

mod eval;
mod explain;
mod lexicon;
mod model;
mod reliability;
mod report;
mod scan;
mod scan_bad_input;
