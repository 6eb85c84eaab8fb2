//! The JSON Lines record parser on arbitrary bytes: it never panics, and what it accepts
//! agrees with serde_json.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tropescan::reader::{parse_line, FieldPath, Fields};

fuzz_target!(|data: &[u8]| {
    let plain = Fields::default();
    let mut buf = String::new();
    if let Ok(doc) = parse_line(data, &plain, &mut buf) {
        // An accepted line is a JSON object whose `text` is that string.
        // Fields that are not extracted are skipped without checking their UTF-8 (a stray
        // byte in metadata does not cost the document), so compare with the line made
        // valid: the replaced bytes can only be in skipped fields.
        let valid = String::from_utf8_lossy(data);
        let v: serde_json::Value = match serde_json::from_str(&valid) {
            Ok(v) => v,
            // Fields that are not needed are skipped without a depth limit; a full parse
            // has one.
            Err(e) if e.to_string().contains("recursion limit") => return,
            Err(e) => panic!("accepted a line serde_json rejects: {e}"),
        };
        assert_eq!(v["text"].as_str(), Some(doc.text.as_ref()));
        if let Some(id) = &doc.id {
            match &v["id"] {
                serde_json::Value::String(s) => assert_eq!(s, id.as_ref()),
                serde_json::Value::Number(_) => assert!(!id.is_empty()),
                other => panic!("id {id:?} from {other}"),
            }
        }
    }
    // Dotted paths, one of them both a field and the parent of another.
    let dotted = Fields::new(
        FieldPath::parse("doc.body").unwrap(),
        FieldPath::parse("meta.id").unwrap(),
        FieldPath::parse("doc").unwrap(),
    );
    let _ = parse_line(data, &dotted, &mut buf);
});
