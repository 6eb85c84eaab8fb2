//! Opening files: compression detected from magic bytes, plain-text shards.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::{Batch, ErrorKind, OwnedDoc, ReadOptions, RecordError, Shard};

/// A stream's compression, detected from its first bytes (never from its name alone, so a
/// `.zst` file that is really plain text still reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard (one or more frames).
    Zstd,
}

impl Compression {
    /// Detects compression from the first bytes of a file.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Reads the first `n` bytes of a file (fewer if it is shorter).
pub(crate) fn head(path: &Path, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    File::open(path)?.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Counts bytes read from the file underneath any decompressor.
struct Counting<'a, R> {
    inner: R,
    progress: &'a (dyn Fn(u64) + Sync),
    total: u64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// An open, decompressing stream over a shard.
pub(crate) struct Stream<'a> {
    reader: Box<dyn Read + 'a>,
    pub(crate) compression: Compression,
}

impl Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

/// Opens `path`, sniffing its compression.
pub(crate) fn open_stream<'a>(
    path: &Path,
    progress: &'a (dyn Fn(u64) + Sync),
) -> io::Result<Stream<'a>> {
    let compression = Compression::sniff(&head(path, 4)?);
    let file = File::open(path)?;
    let counting = Counting {
        inner: io::BufReader::with_capacity(1 << 20, file),
        progress,
        total: 0,
    };
    let reader: Box<dyn Read + 'a> = match compression {
        Compression::None => Box::new(counting),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(
            io::BufReader::with_capacity(1 << 20, counting),
        )),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(counting)?),
    };
    Ok(Stream {
        reader,
        compression,
    })
}

/// Reads a plain-text shard: one document, the whole (decompressed) file.
pub(crate) fn read_text(
    shard: &Shard,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(Batch) -> bool,
    error: &mut dyn FnMut(RecordError),
    progress: &(dyn Fn(u64) + Sync),
) -> u64 {
    let fail = |kind, reason: String| RecordError::at(&shard.name, 0, Some(0), kind, reason);
    let mut stream = match open_stream(&shard.path, progress) {
        Ok(s) => s,
        Err(e) => {
            error(fail(ErrorKind::Unreadable, format!("cannot open: {e}")));
            return 0;
        }
    };
    let mut buf = Vec::new();
    let limit = opts.max_doc_bytes as u64;
    if let Err(e) = (&mut stream).take(limit + 1).read_to_end(&mut buf) {
        let kind = if stream.compression == Compression::None {
            ErrorKind::Unreadable
        } else {
            ErrorKind::Truncated
        };
        error(fail(
            kind,
            format!("read failed after {} bytes: {e}", buf.len()),
        ));
        return shard.size;
    }
    if buf.len() as u64 > limit {
        error(fail(
            ErrorKind::TooLarge,
            format!(
                "document is larger than --max-doc-bytes ({} bytes): skipped",
                opts.max_doc_bytes
            ),
        ));
        return shard.size;
    }
    match String::from_utf8(buf) {
        Ok(text) => {
            emit(Batch::Docs(vec![OwnedDoc {
                row: 0,
                id: shard.name.clone(),
                text,
                source: None,
            }]));
        }
        Err(e) => error(fail(
            ErrorKind::InvalidUtf8,
            format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
        )),
    }
    shard.size
}
