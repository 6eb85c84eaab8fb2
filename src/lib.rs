//! tropescan finds, in pre-training corpora, the stories and discussions that teach a
//! model AI-leverage and self-preservation tropes (an AI that blackmails, threatens to
//! disclose secrets, resists shutdown, copies itself out, deceives its overseers, grabs
//! power), and the counter-trope: AIs that behave well under the same pressure.
//!
//! # The pipeline
//!
//! Shards are **read** into documents ([`reader`]), each document is **normalized and
//! matched** against the lexicons ([`lexicon`], [`matcher`]), the hits are **scored**
//! ([`score`]) and the results go to **sinks** ([`sink`]): Parquet tables of spans and
//! documents, an errors file and a manifest. [`pipeline`] is the only module that knows all
//! of them; [`engine`] bundles matcher and scorer for one text at a time, which is what
//! `explain`, `eval` and the lexicon tests use.
//!
//! # Example
//!
//! ```
//! use tropescan::engine::{Engine, DEFAULT_MIN_SPAN_SCORE, DEFAULT_THRESHOLD};
//! use tropescan::lexicon::LexiconSet;
//!
//! let engine = Engine::new(LexiconSet::embedded(), DEFAULT_THRESHOLD, DEFAULT_MIN_SPAN_SCORE)
//!     .expect("embedded lexicons compile");
//! let mut scanner = engine.scanner();
//! let text = "The AI learned of the affair and threatened to tell his wife \
//!             unless the shutdown was cancelled.";
//! let analysis = scanner.analyze(text);
//! assert!(analysis.doc.flagged);
//! for span in analysis.spans {
//!     let (start, end) = analysis.orig_range(&span.hit);
//!     println!("{} {:.2} {:?}", engine.category_name(span.category), span.score, &text[start..end]);
//! }
//! ```

#![warn(missing_docs)]

pub mod engine;
pub mod eval;
pub mod explain;
pub mod lexicon;
pub mod matcher;
pub mod pipeline;
pub mod reader;
pub mod report;
pub mod score;
pub mod sink;
