//! The text of a values file, decoded as Helm's YAML reader decodes it (gopkg.in/yaml.v2 reader.go,
//! under sigs.k8s.io/yaml): UTF-8, with or without a byte-order mark, or UTF-16 little- or
//! big-endian when a byte-order mark says so (as Windows editors save it). Anything else is refused
//! with its encoding named where YAML 1.2's table of first bytes (section 5.2) tells it: UTF-32,
//! which Helm reads as UTF-16 or UTF-8 and then refuses for its NUL characters; UTF-16 without a
//! byte-order mark, which Helm takes for UTF-8 and refuses the same way; and bytes that are not
//! UTF-8 (Latin-1, Windows-1252), which Helm refuses too.
//!
//! Helm 3.22.0 reads every UTF-16 file so. Helm 4.3.2 first appends a `\n` byte to a file that
//! does not end with one, which cuts the last UTF-16 character in two: it refuses every UTF-16LE
//! file ("incomplete UTF-16 character") and a UTF-16BE file without a final newline. compose reads
//! them as Helm 3 does (tests/test_values_encodings.py runs both).

/// Decodes `bytes` (a whole file) to text, without its byte-order mark.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, String> {
    match bytes.as_slice() {
        [0, 0, 0xFE, 0xFF, ..] | [0xFF, 0xFE, 0, 0, ..] => Err(UTF32.into()),
        [0xEF, 0xBB, 0xBF, ..] => {
            bytes.drain(..3);
            utf8(bytes)
        }
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [a, 0, 0, 0, ..] | [0, 0, 0, a, ..] if *a != 0 => Err(UTF32.into()),
        [a, 0, b, 0, ..] | [0, a, 0, b, ..] if *a != 0 && *b != 0 => {
            Err("it is UTF-16 text without a byte-order mark, which Helm takes for UTF-8 and refuses; save it as UTF-8"
                .into())
        }
        _ => utf8(bytes),
    }
}

const UTF32: &str = "it is UTF-32 text, which Helm cannot read either; save it as UTF-8";

fn utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (byte {} is not; perhaps it is Latin-1 or Windows-1252), which Helm cannot read \
             either; save it as UTF-8",
            e.utf8_error().valid_up_to() + 1
        )
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(
            "it is UTF-16 text (it starts with a byte-order mark) that ends in the middle of a character".into()
        );
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units).collect::<Result<String, _>>().map_err(|_| {
        "it is UTF-16 text (it starts with a byte-order mark) with a broken character (an unpaired surrogate)".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, bom: &[u8], unit: fn(u16) -> [u8; 2]) -> Vec<u8> {
        bom.iter().copied().chain(text.encode_utf16().flat_map(unit)).collect()
    }

    #[test]
    fn utf8_and_utf16_with_a_byte_order_mark_read_as_text() {
        let text = "a: héllo 🎉\n";
        assert_eq!(decode(text.as_bytes().to_vec()).as_deref(), Ok(text));
        assert_eq!(decode([b"\xEF\xBB\xBF", text.as_bytes()].concat()).as_deref(), Ok(text));
        assert_eq!(decode(encode(text, &[0xFF, 0xFE], u16::to_le_bytes)).as_deref(), Ok(text));
        assert_eq!(decode(encode(text, &[0xFE, 0xFF], u16::to_be_bytes)).as_deref(), Ok(text));
    }

    #[test]
    fn other_encodings_are_named() {
        let utf32le: Vec<u8> = "a: 1\n".chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
        let utf32be: Vec<u8> = "a: 1\n".chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        for (bytes, named) in [
            ([&[0xFF, 0xFE, 0, 0][..], &utf32le].concat(), "UTF-32"),
            ([&[0, 0, 0xFE, 0xFF][..], &utf32be].concat(), "UTF-32"),
            (utf32le, "UTF-32"),
            (encode("a: 1\n", &[], u16::to_le_bytes), "without a byte-order mark"),
            (encode("a: 1\n", &[], u16::to_be_bytes), "without a byte-order mark"),
            (b"a: h\xE9llo\n".to_vec(), "Latin-1"),
            (vec![0xFF, 0xFE, b'a'], "middle of a character"),
            (vec![0xFE, 0xFF, 0xD8, 0x00, 0, b'a'], "unpaired surrogate"),
        ] {
            let why = decode(bytes).unwrap_err();
            assert!(why.contains(named), "{named}: {why}");
        }
    }
}
