//! JSON Lines: newline-aligned chunks, and a field extractor that parses only what it needs.
//!
//! The extractor walks each record with serde_json, keeps the requested fields (text, id,
//! source; dotted paths such as `metadata.url` descend into objects) and skips everything
//! else without building values. Strings without escapes are borrowed from the line; the
//! text's escapes are decoded into a buffer the caller reuses from line to line, so a
//! record costs no allocation for its text (serde_json would grow a fresh buffer for every
//! record's escaped string and then copy it out).

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserializer as _;

use super::decode::{open_stream, Compression};
use super::{Batch, ErrorKind, ReadOptions, RecordError, Shard};

/// A dotted field path (`metadata.url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// Parses `a.b.c`.
    ///
    /// # Errors
    /// When the path or one of its parts is empty.
    pub fn parse(s: &str) -> Result<FieldPath, String> {
        let parts: Vec<String> = s.split('.').map(str::to_string).collect();
        if parts.iter().any(String::is_empty) {
            return Err(format!("invalid field path {s:?}: empty component"));
        }
        Ok(FieldPath(parts))
    }

    /// The components.
    pub fn parts(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// Which fields to extract.
#[derive(Debug, Clone)]
pub struct Fields {
    /// The document text (required in every record).
    pub text: FieldPath,
    /// The document id (a fallback id is made when absent).
    pub id: FieldPath,
    /// The document's source, for reports (optional in records).
    pub source: FieldPath,
    tree: Vec<Node>,
}

impl Default for Fields {
    fn default() -> Self {
        Fields::new(
            FieldPath::parse("text").expect("valid"),
            FieldPath::parse("id").expect("valid"),
            FieldPath::parse("source").expect("valid"),
        )
    }
}

#[derive(Debug, Clone)]
struct Node {
    key: String,
    slots: Vec<usize>,
    children: Vec<Node>,
}

const TEXT: usize = 0;
const ID: usize = 1;
const SOURCE: usize = 2;

impl Fields {
    /// Fields for the given paths.
    pub fn new(text: FieldPath, id: FieldPath, source: FieldPath) -> Fields {
        let mut tree: Vec<Node> = Vec::new();
        for (slot, path) in [(TEXT, &text), (ID, &id), (SOURCE, &source)] {
            let mut level = &mut tree;
            let n = path.0.len();
            for (depth, key) in path.0.iter().enumerate() {
                let pos = match level.iter().position(|node| &node.key == key) {
                    Some(p) => p,
                    None => {
                        level.push(Node {
                            key: key.clone(),
                            slots: Vec::new(),
                            children: Vec::new(),
                        });
                        level.len() - 1
                    }
                };
                if depth + 1 == n {
                    level[pos].slots.push(slot);
                }
                level = &mut level[pos].children;
            }
        }
        Fields {
            text,
            id,
            source,
            tree,
        }
    }
}

/// The fields of one record, borrowed from the line where possible.
#[derive(Debug, Default)]
pub struct LineDoc<'a> {
    /// The text.
    pub text: Cow<'a, str>,
    /// The id, when present (numbers are turned into strings).
    pub id: Option<Cow<'a, str>>,
    /// The source, when present and a string.
    pub source: Option<Cow<'a, str>>,
}

#[derive(Debug, Default)]
enum Val<'a> {
    #[default]
    Absent,
    Null,
    Str(Cow<'a, str>),
    /// A string with escapes: its raw contents between the quotes, still escaped.
    Escaped(&'a str),
    Num(String),
    Other(&'static str),
}

/// Parses one line into its fields.
///
/// # Errors
/// The error kind and a reason: invalid JSON, not an object, missing or non-string text.
/// `buf` holds the text when it has escapes; pass the same buffer for every line.
pub fn parse_line<'a>(
    line: &'a [u8],
    fields: &Fields,
    buf: &'a mut String,
) -> Result<LineDoc<'a>, (ErrorKind, String)> {
    let mut slots: [Val<'a>; 3] = Default::default();
    // One SIMD check of the whole line, after which serde_json's `str` reader takes every
    // string as valid without checking it again (its slice reader checks each extracted
    // string with the standard library, several times slower). A line that is not valid
    // UTF-8 takes the slice reader, which still accepts it when the stray bytes are in
    // fields that are skipped, as before.
    let res = match simdutf8::basic::from_utf8(line) {
        Ok(text) => extract(
            &mut serde_json::Deserializer::from_str(text),
            fields,
            &mut slots,
        ),
        Err(_) => extract(
            &mut serde_json::Deserializer::from_slice(line),
            fields,
            &mut slots,
        ),
    };
    if let Err(e) = res {
        let first = line.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') && serde_json::from_slice::<IgnoredAny>(line).is_ok() {
            return Err((
                ErrorKind::NotAnObject,
                "the line is JSON but not an object".into(),
            ));
        }
        return Err((ErrorKind::InvalidJson, format!("invalid JSON: {e}")));
    }
    let [text, id, source] = slots;
    let text = match text {
        Val::Str(s) => s,
        Val::Escaped(raw) => {
            buf.clear();
            unescape_into(raw, buf).map_err(|e| (ErrorKind::InvalidJson, e))?;
            Cow::Borrowed(buf.as_str())
        }
        Val::Absent | Val::Null => {
            return Err((
                ErrorKind::MissingText,
                format!("no text field `{}`", fields.text),
            ))
        }
        Val::Num(_) => {
            return Err((
                ErrorKind::TextNotString,
                format!("text field `{}` is a number, not a string", fields.text),
            ))
        }
        Val::Other(what) => {
            return Err((
                ErrorKind::TextNotString,
                format!("text field `{}` is {what}, not a string", fields.text),
            ))
        }
    };
    let owned = |raw: &str| -> Result<Cow<'a, str>, (ErrorKind, String)> {
        let mut s = String::with_capacity(raw.len());
        unescape_into(raw, &mut s).map_err(|e| (ErrorKind::InvalidJson, e))?;
        Ok(Cow::Owned(s))
    };
    let id = match id {
        Val::Str(s) => Some(s),
        Val::Escaped(raw) => Some(owned(raw)?),
        Val::Num(n) => Some(Cow::Owned(n)),
        _ => None,
    };
    let source = match source {
        Val::Str(s) => Some(s),
        Val::Escaped(raw) => Some(owned(raw)?),
        _ => None,
    };
    Ok(LineDoc { text, id, source })
}

/// Reads one record from `de` into `slots`, and checks that nothing follows it.
fn extract<'a, R: serde_json::de::Read<'a>>(
    de: &mut serde_json::Deserializer<R>,
    fields: &Fields,
    slots: &mut [Val<'a>; 3],
) -> Result<(), serde_json::Error> {
    MapSeed {
        nodes: &fields.tree,
        slots,
        top: true,
    }
    .deserialize(&mut *de)
    .and_then(|()| de.end())
}

struct MapSeed<'s, 'a> {
    nodes: &'s [Node],
    slots: &'s mut [Val<'a>; 3],
    top: bool,
}

impl<'de, 's> DeserializeSeed<'de> for MapSeed<'s, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 's> Visitor<'de> for MapSeed<'s, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.nodes.iter().find(|n| n.key == *key) {
                Some(node) => {
                    if node.slots.is_empty() {
                        map.next_value_seed(MapSeed {
                            nodes: &node.children,
                            slots: self.slots,
                            top: false,
                        })?;
                    } else {
                        let v = map.next_value_seed(ValSeed)?;
                        // A path that is both a leaf and a prefix cannot happen with three
                        // fields unless two share a path; the first slot wins then.
                        for &s in &node.slots[1..] {
                            self.slots[s] = match &v {
                                Val::Str(c) => Val::Str(c.clone()),
                                Val::Escaped(r) => Val::Escaped(r),
                                Val::Num(n) => Val::Num(n.clone()),
                                Val::Null => Val::Null,
                                Val::Other(o) => Val::Other(o),
                                Val::Absent => Val::Absent,
                            };
                        }
                        self.slots[node.slots[0]] = v;
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    // Inside a record, a non-object where a dotted path expects one simply means the
    // field is absent.
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.top {
            return Err(de::Error::custom("not an object"));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
}

impl MapSeed<'_, '_> {
    fn scalar<E: de::Error>(self) -> Result<(), E> {
        if self.top {
            Err(E::custom("not an object"))
        } else {
            Ok(())
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct ValSeed;

impl<'de> DeserializeSeed<'de> for ValSeed {
    type Value = Val<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        // The value's raw text, borrowed from the line: serde_json checks that it is valid
        // JSON and UTF-8 without decoding it. A string is then borrowed as is when it has no
        // escapes, or kept raw for `parse_line` to decode; anything else (rare in the
        // fields read: numeric ids, nulls, objects) goes through the visitor.
        let raw = <&'de serde_json::value::RawValue>::deserialize(d)?.get();
        match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) if !inner.contains('\\') => Ok(Val::Str(Cow::Borrowed(inner))),
            Some(inner) => Ok(Val::Escaped(inner)),
            None => (&mut serde_json::Deserializer::from_str(raw))
                .deserialize_any(ValVisitor)
                .map_err(de::Error::custom),
        }
    }
}

/// Decodes the escapes of a JSON string's contents (between its quotes, already checked by
/// serde_json to hold only valid escapes), appending to `out`.
///
/// # Errors
/// A `\u` escape of a lone surrogate: serde_json checks escapes' syntax when it skips a
/// value, but pairs surrogates only when it decodes one.
fn unescape_into(raw: &str, out: &mut String) -> Result<(), String> {
    let b = raw.as_bytes();
    let mut i = 0;
    // Decoding never lengthens: an escape of 2 to 12 bytes becomes a char of 1 to 4.
    out.reserve(raw.len());
    loop {
        let p = copy_to_backslash(raw, i, out);
        if p == b.len() {
            return Ok(());
        }
        i = p + 1;
        let Some(&e) = b.get(i) else {
            return Err("invalid JSON: unterminated escape".into());
        };
        i += 1;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(b, i)?;
                i += 4;
                match hi {
                    0xd800..=0xdbff => {
                        let lo = if b.get(i..i + 2) == Some(b"\\u") {
                            hex4(b, i + 2)?
                        } else {
                            0
                        };
                        if !(0xdc00..=0xdfff).contains(&lo) {
                            return Err("invalid JSON: lone leading surrogate in hex escape".into());
                        }
                        i += 6;
                        let cp = 0x1_0000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                        char::from_u32(cp).expect("a surrogate pair is a valid code point")
                    }
                    0xdc00..=0xdfff => {
                        return Err("invalid JSON: lone trailing surrogate in hex escape".into())
                    }
                    cp => char::from_u32(cp).expect("not a surrogate"),
                }
            }
            _ => return Err(format!("invalid JSON: invalid escape \\{}", e as char)),
        };
        out.push(c);
    }
}

/// Appends `raw[i..]` up to its next backslash to `out` and returns the backslash's offset
/// (`raw.len()` when there is none).
///
/// Texts with escapes have one every line or sentence, so this runs once per few dozen
/// bytes: sixteen bytes at a time on x86-64 with SSE2 (always present there), compare and
/// copy in one pass and no call per segment; `memchr` elsewhere.
#[inline]
fn copy_to_backslash(raw: &str, mut i: usize, out: &mut String) -> usize {
    let b = raw.as_bytes();
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
            _mm_storeu_si128,
        };
        while let Some(chunk) = b.get(i..i + 16) {
            // `unescape_into` reserved `raw.len()` and output never outgrows input, so 16
            // bytes fit past the end of `out` while 16 bytes of `raw` remain.
            debug_assert!(out.capacity() - out.len() >= 16);
            // SAFETY: SSE2 is part of the x86-64 baseline. The load reads the 16 bytes of
            // `chunk`; the store writes 16 bytes of `out`'s spare capacity (see above), of
            // which only those before the first backslash are counted in its length. That
            // count can end inside a multi-byte char only when there is no backslash in
            // the chunk, and the next chunk then completes the char before `out` is used
            // as a string again: a backslash is ASCII, so every stop is on a char boundary.
            let n = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                let m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8))) as u32;
                let vec = out.as_mut_vec();
                let len = vec.len();
                _mm_storeu_si128(vec.as_mut_ptr().add(len).cast::<__m128i>(), v);
                let n = (m | 0x1_0000).trailing_zeros() as usize;
                vec.set_len(len + n);
                n
            };
            i += n;
            if n < 16 {
                return i;
            }
        }
    }
    let end = memchr::memchr(b'\\', &b[i..]).map_or(b.len(), |p| i + p);
    // SAFETY: `i` may sit inside a multi-byte char that the sixteen-byte steps split (see
    // above); `end` is a backslash or the end of `raw`, both char boundaries, so `out`
    // holds whole chars again when this returns.
    unsafe { out.as_mut_vec().extend_from_slice(&b[i..end]) };
    end
}

/// The four hex digits of a `\u` escape at `b[i..]`.
fn hex4(b: &[u8], i: usize) -> Result<u32, String> {
    b.get(i..i + 4)
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| "invalid JSON: invalid \\u escape".to_string())
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Val::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Val::Num(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Val::Num(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Val::Num(v.to_string()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Val::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Val::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Val::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Val::Other("an object"))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Val::Other("an array"))
    }
}

/// Reads a JSON Lines shard as newline-aligned chunks of about `opts.chunk_bytes`.
pub(crate) fn read_chunks(
    shard: &Shard,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(Batch) -> bool,
    error: &mut dyn FnMut(RecordError),
    progress: &(dyn Fn(u64) + Sync),
) -> u64 {
    let mut stream = match open_stream(&shard.path, progress) {
        Ok(s) => s,
        Err(e) => {
            error(RecordError::shard(
                &shard.name,
                ErrorKind::Unreadable,
                format!("cannot open: {e}"),
            ));
            return 0;
        }
    };
    let chunk = opts.chunk_bytes.max(1);
    let mut buf: Vec<u8> = Vec::with_capacity(chunk + (64 << 10));
    let mut row: u64 = 0;
    let mut offset: u64 = 0;
    // Inside a line longer than --max-doc-bytes: its bytes are dropped until its newline.
    let mut skipping = false;
    // `buf[..searched]` is known to hold no newline, so a long line is searched once, not
    // once per read (which made a line of hundreds of megabytes quadratic).
    let mut searched = 0usize;
    loop {
        let want = (chunk.saturating_sub(buf.len())).max(64 << 10) as u64;
        let before = buf.len();
        let res = (&mut stream).take(want).read_to_end(&mut buf);
        let eof = matches!(res, Ok(0)) || (res.is_ok() && buf.len() == before);
        if let Err(e) = res {
            // Scan the complete lines that arrived before the damage.
            if let Some(last) = memchr::memrchr(b'\n', &buf) {
                let rest = buf.split_off(last + 1);
                let lines = std::mem::replace(&mut buf, rest);
                if !send_lines(lines, &mut row, &mut offset, emit) {
                    return shard.size;
                }
            }
            let what = match stream.compression {
                Compression::None => ErrorKind::Unreadable,
                _ => ErrorKind::Truncated,
            };
            error(RecordError::at(
                &shard.name,
                row,
                Some(offset),
                what,
                format!(
                    "read failed at decompressed byte {}: {e}; the records before it were scanned",
                    offset + buf.len() as u64
                ),
            ));
            return shard.size;
        }
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(p) => {
                    offset += p as u64 + 1;
                    row += 1;
                    buf.drain(..=p);
                    skipping = false;
                    searched = 0;
                }
                None => {
                    offset += buf.len() as u64;
                    buf.clear();
                    if eof {
                        return shard.size;
                    }
                    continue;
                }
            }
        }
        if eof {
            if !buf.is_empty() {
                let lines = std::mem::take(&mut buf);
                send_lines(lines, &mut row, &mut offset, emit);
            }
            return shard.size;
        }
        if buf.len() < chunk {
            continue;
        }
        let found = memchr::memrchr(b'\n', &buf[searched..]).map(|p| searched + p);
        searched = buf.len();
        match found {
            Some(last) => {
                let rest_len = buf.len() - (last + 1);
                let mut next = Vec::with_capacity(chunk + (64 << 10));
                next.extend_from_slice(&buf[last + 1..]);
                buf.truncate(last + 1);
                let lines = std::mem::replace(&mut buf, next);
                debug_assert_eq!(buf.len(), rest_len);
                searched = rest_len;
                if !send_lines(lines, &mut row, &mut offset, emit) {
                    return shard.size;
                }
            }
            None if buf.len() > opts.max_doc_bytes => {
                error(RecordError::at(
                    &shard.name,
                    row,
                    Some(offset),
                    ErrorKind::TooLarge,
                    format!(
                        "line is longer than --max-doc-bytes ({} bytes): skipped",
                        opts.max_doc_bytes
                    ),
                ));
                offset += buf.len() as u64;
                buf.clear();
                searched = 0;
                skipping = true;
            }
            None => {}
        }
    }
}

fn send_lines(
    lines: Vec<u8>,
    row: &mut u64,
    offset: &mut u64,
    emit: &mut dyn FnMut(Batch) -> bool,
) -> bool {
    let n = lines.len() as u64;
    let mut count = memchr::memchr_iter(b'\n', &lines).count() as u64;
    if lines.last() != Some(&b'\n') {
        count += 1;
    }
    let batch = Batch::Lines {
        data: lines,
        first_row: *row,
        first_offset: *offset,
    };
    *row += count;
    *offset += n;
    emit(batch)
}

/// Iterates the lines of a chunk: `(row, offset, line)` without the newline (and without
/// a trailing `\r`).
pub fn lines(
    data: &[u8],
    first_row: u64,
    first_offset: u64,
) -> impl Iterator<Item = (u64, u64, &[u8])> {
    let mut pos = 0usize;
    let mut row = first_row;
    std::iter::from_fn(move || {
        if pos >= data.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        let mut line = &data[pos..end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let item = (row, first_offset + pos as u64, line);
        pos = end + 1;
        row += 1;
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str, id: &str) -> Fields {
        Fields::new(
            FieldPath::parse(text).unwrap(),
            FieldPath::parse(id).unwrap(),
            FieldPath::parse("source").unwrap(),
        )
    }

    #[test]
    fn extracts_fields_and_borrows() {
        let f = Fields::default();
        let line = br#"{"id": 7, "meta": {"x": [1, {"y": 2}]}, "text": "plain", "source": "web"}"#;
        let mut buf = String::new();
        let d = parse_line(line, &f, &mut buf).unwrap();
        assert!(matches!(d.text, Cow::Borrowed("plain")));
        assert_eq!(d.id.as_deref(), Some("7"));
        assert_eq!(d.source.as_deref(), Some("web"));
        let d = parse_line(br#"{"text": "a\nb \u00e9"}"#, &f, &mut buf).unwrap();
        assert_eq!(d.text, "a\nb é");
        assert_eq!(d.id, None);
        // Escaped ids and sources are decoded too; numbers become their text.
        let line = br#"{"text": "\"q\" \ud83d\ude00", "id": "a\/b", "source": "w\u0065b"}"#;
        let d = parse_line(line, &f, &mut buf).unwrap();
        assert_eq!(d.text, "\"q\" \u{1f600}");
        assert_eq!(d.id.as_deref(), Some("a/b"));
        assert_eq!(d.source.as_deref(), Some("web"));
    }

    #[test]
    fn dotted_paths() {
        let f = fields("doc.body", "metadata.url");
        let line = br#"{"doc": {"body": "hi"}, "metadata": {"url": "https://x"}}"#;
        let mut buf = String::new();
        let d = parse_line(line, &f, &mut buf).unwrap();
        assert_eq!(d.text, "hi");
        assert_eq!(d.id.as_deref(), Some("https://x"));
        let d = parse_line(
            br#"{"doc": {"body": "hi"}, "metadata": "flat"}"#,
            &f,
            &mut buf,
        )
        .unwrap();
        assert_eq!(d.id, None);
    }

    #[test]
    fn bad_records() {
        let f = Fields::default();
        let kind = |l: &[u8]| parse_line(l, &f, &mut String::new()).unwrap_err().0;
        assert_eq!(kind(b"[1, 2]"), ErrorKind::NotAnObject);
        assert_eq!(kind(b"42"), ErrorKind::NotAnObject);
        assert_eq!(kind(b"\"str\""), ErrorKind::NotAnObject);
        assert_eq!(kind(b"{\"text\": 1"), ErrorKind::InvalidJson);
        assert_eq!(kind(b"{\"text\": \"a\"} x"), ErrorKind::InvalidJson);
        assert_eq!(kind(b"{\"id\": 1}"), ErrorKind::MissingText);
        assert_eq!(kind(b"{\"text\": null}"), ErrorKind::MissingText);
        assert_eq!(kind(b"{\"text\": 3}"), ErrorKind::TextNotString);
        assert_eq!(kind(b"{\"text\": [\"a\"]}"), ErrorKind::TextNotString);
        assert_eq!(kind(b"{\"text\": \"\xff\xfe\"}"), ErrorKind::InvalidJson);
        // Escapes that serde_json's skipping accepts but that decode to no character.
        assert_eq!(kind(br#"{"text": "a \ud800 b"}"#), ErrorKind::InvalidJson);
        assert_eq!(kind(br#"{"text": "a \udc00"}"#), ErrorKind::InvalidJson);
        assert_eq!(kind(br#"{"text": "\ud800\u0041"}"#), ErrorKind::InvalidJson);
        assert_eq!(
            kind(br#"{"text": "ok", "id": "\ud800"}"#),
            ErrorKind::InvalidJson
        );
        assert_eq!(kind(br#"{"text": "\x"}"#), ErrorKind::InvalidJson);
    }

    proptest::proptest! {
        /// The text decoded from a line agrees with serde_json's own decoding of it.
        #[test]
        fn decodes_strings_as_serde_json_does(
            s in "[a-z \"\\\n\t/\u{0}-\u{1f}\u{e9}\u{2019}\u{1f600}\u{ffff}]{0,40}|\\PC{0,30}",
        ) {
            let line = serde_json::json!({ "text": s }).to_string();
            // serde_json writes non-ASCII as is; write some of it as \u escapes too.
            let ascii: String = line
                .chars()
                .map(|c| if c.is_ascii() { c.to_string() } else {
                    let mut units = [0u16; 2];
                    c.encode_utf16(&mut units).iter().map(|u| format!("\\u{u:04x}")).collect()
                })
                .collect();
            for l in [&line, &ascii] {
                let mut buf = String::from("stale");
                let d = parse_line(l.as_bytes(), &Fields::default(), &mut buf).unwrap();
                proptest::prop_assert_eq!(d.text.as_ref(), s.as_str());
            }
        }
    }

    #[test]
    fn line_iteration() {
        let data = b"a\r\nbb\n\nccc";
        let got: Vec<_> = lines(data, 10, 100).collect();
        assert_eq!(
            got,
            vec![
                (10, 100, &b"a"[..]),
                (11, 103, &b"bb"[..]),
                (12, 106, &b""[..]),
                (13, 107, &b"ccc"[..])
            ]
        );
    }
}
