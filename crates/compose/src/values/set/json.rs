//! The JSON of `--set-json`, read as Helm reads it with Go's encoding/json. A value in `KEY=JSON`
//! is read by a `json.Decoder`, which stops where the value's syntax ends: `1,b=2`, `"x"b=2` and
//! `[1]b=2` leave the rest for the next assignment, and `01` is 0 followed by a key `1`. Go decodes
//! every number into a float64, so a number here is what that float64 is ([`helm_yaml::number`]).

use crate::values::helm_yaml;
use serde_json::{Map, Value};

const UNFINISHED: &str = "its JSON value ends before it is complete";

/// The length in bytes of the JSON value `text` starts with. Only its extent is found here; its
/// syntax is checked by [`parse`].
pub fn value_len(text: &str) -> Result<usize, String> {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'{' | b'[') => bracket_end(bytes),
        Some(b'"') => string_end(bytes, 0),
        Some(b'-' | b'0'..=b'9') => Ok(number_end(bytes)),
        _ => ["true", "false", "null"]
            .into_iter()
            .find(|word| text.starts_with(word))
            .map(str::len)
            .ok_or_else(|| "its value is not JSON (quote a string: `\"text\"`)".to_string()),
    }
}

/// A JSON text as Helm holds it: numbers as Go's float64.
pub fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map(go_numbers).map_err(|e| format!("its value is not valid JSON: {e}"))
}

/// Helm 4's form of a whole argument: one JSON object (blanks around it allowed).
pub fn object(text: &str) -> Result<Map<String, Value>, String> {
    let object: Map<String, Value> =
        serde_json::from_str(text.trim()).map_err(|e| format!("it is not valid JSON: {e}"))?;
    Ok(object.into_iter().map(|(k, v)| (k, go_numbers(v))).collect())
}

fn go_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) => n.as_f64().map_or(Value::Null, helm_yaml::number),
        Value::Array(items) => Value::Array(items.into_iter().map(go_numbers).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, go_numbers(v))).collect()),
        other => other,
    }
}

/// After the bracket that closes the one `bytes` starts with (strings skipped).
fn bracket_end(bytes: &[u8]) -> Result<usize, String> {
    let (mut depth, mut i) = (0usize, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(UNFINISHED.into())
}

/// After the quote that closes the string starting at `start`.
fn string_end(bytes: &[u8], start: usize) -> Result<usize, String> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(UNFINISHED.into())
}

/// The longest prefix in JSON's number syntax, `-?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][-+]?[0-9]*)?`
/// (an incomplete fraction or exponent is taken too, for [`parse`] to refuse).
fn number_end(bytes: &[u8]) -> usize {
    let digits = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = usize::from(bytes[0] == b'-');
    i = if bytes.get(i) == Some(&b'0') { i + 1 } else { digits(i) };
    if bytes.get(i) == Some(&b'.') {
        i = digits(i + 1);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(i);
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_ends_where_its_syntax_does() {
        for (text, len) in [
            ("1,b=2", 1),
            ("01", 1),
            ("-1.5e+3x", 7),
            ("\"a\\\"b,\"c", 7),
            ("[1,[2],\"]\"]b", 11),
            ("{\"a\":{}}x", 8),
            ("truex", 4),
            ("null", 4),
        ] {
            assert_eq!(value_len(text), Ok(len), "{text}");
        }
        for text in ["[1,2", "\"abc", "x", "tru"] {
            assert!(value_len(text).is_err(), "{text}");
        }
    }

    #[test]
    fn numbers_are_go_floats() {
        assert_eq!(
            parse("[1, 1.5, -0, 12345678901234567890, 1e3]").unwrap(),
            json!([1, 1.5, 0, 12345678901234567890.0, 1000])
        );
        for bad in ["1.", "-", "1e", "1e400", "[1,]", "\"\\ud800\""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(object(" {\"a\": 2} ").unwrap(), json!({"a": 2}).as_object().unwrap().clone());
        assert!(object("{\"a\": 1} x").is_err() && object("{").is_err());
    }
}
