//! Reads a values document the way Helm does, so that one values file means the same to `helm
//! install` and to compose. Helm reads values with sigs.k8s.io/yaml over Go's yaml.v2, whose rules
//! are YAML 1.1's: a plain `yes`, `on` or `y` is `true`, `012` is 10, `0b101` is 5, `1_000` is 1000;
//! then it converts the document to JSON, which refuses `.inf` and `.nan` and turns a key `yes`
//! into `"true"`. A YAML 1.2 reader (serde_yaml) takes the first three for strings and the last
//! for a float it cannot keep. Here the events of the YAML parser (saphyr-parser, which keeps each
//! scalar's style and tag) are resolved with yaml.v2's `resolve()` (gopkg.in/yaml.v2 resolve.go)
//! and sigs.k8s.io/yaml's key conversion. tests/test_values_as_helm.py checks every special form
//! against Go's own reader (.tools/bin/yamlread).
//!
//! Where the two could only differ, compose refuses instead: a key written twice (Helm keeps the
//! last silently), a custom tag such as `!secret` (Helm drops it), a float or null key.

use super::path::YamlPath;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Why a document cannot be read: where, and what (never the scalar's text, which may be a secret).
#[derive(Debug, PartialEq)]
pub struct Problem {
    pub at: YamlPath,
    pub message: String,
}

/// Nesting deeper than this is refused (serde_yaml's limit too): the reader recurses per level.
const MAX_DEPTH: usize = 128;
/// Values an alias-expanded document may hold at most: aliases repeat what they point at, and a
/// few lines of nested aliases (a "billion laughs") would otherwise fill the memory.
const MAX_VALUES: usize = 1 << 20;

/// Reads one YAML document into the JSON value Helm would hold. An empty document is `null`.
/// Errors: YAML syntax (with line and column), more than one document, and the refusals above.
pub fn parse(text: &str) -> Result<Value, Problem> {
    if let Some((line, _)) = text.lines().enumerate().find(|(_, l)| l.chars().any(|c| !is_printable(c))) {
        return Err(Problem {
            at: YamlPath::root(),
            message: format!(
                "not valid YAML: line {} holds a control character, which YAML allows only escaped in a \
                 double-quoted string (\"\\x07\")",
                line + 1
            ),
        });
    }
    // Helm 4 refuses every directive and Helm 3 a `%YAML 1.2` one ("found incompatible YAML
    // document"); compose reads neither, so that no file means YAML 1.2 to one reader only.
    // A directive stands before a `---` line; without one, a `%` line is no directive.
    let marker = text.lines().position(|l| l.starts_with("---"));
    if let Some(line) = marker.and_then(|end| text.lines().take(end).position(|l| l.starts_with('%'))) {
        return Err(Problem {
            at: YamlPath::root(),
            message: format!(
                "line {}: a directive (`%YAML`, `%TAG`), which Helm 4 refuses; remove it (values are read \
                 with YAML 1.1 rules, as Helm reads them)",
                line + 1
            ),
        });
    }
    let mut reader = Reader { parser: Parser::new_from_str(text), anchors: HashMap::new(), values: 0 };
    let root = YamlPath::root();
    let mut document = Value::Null;
    let mut documents = 0;
    loop {
        let (event, span) = reader.next(&root)?;
        match event {
            Event::StreamEnd => return Ok(document),
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(reader.problem(
                        &root,
                        span,
                        "a values file holds one YAML document; this one has a second `---`",
                    ));
                }
            }
            node => document = reader.node(node, span, &root, 0)?,
        }
    }
}

struct Reader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Value>,
    values: usize,
}

impl<'a> Reader<'a> {
    fn next(&mut self, at: &YamlPath) -> Result<(Event<'a>, Span), Problem> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(e)) => Err(Problem {
                at: at.clone(),
                message: format!(
                    "not valid YAML: {} at line {} column {}",
                    e.info(),
                    e.marker().line(),
                    e.marker().col() + 1
                ),
            }),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn problem(&self, at: &YamlPath, span: Span, why: &str) -> Problem {
        Problem { at: at.clone(), message: format!("{why} (line {})", span.start.line()) }
    }

    fn node(&mut self, event: Event<'a>, span: Span, at: &YamlPath, depth: usize) -> Result<Value, Problem> {
        if depth > MAX_DEPTH {
            return Err(self.problem(at, span, &format!("nested more than {MAX_DEPTH} levels deep")));
        }
        // Counted before an alias's value is copied, so a bomb is refused before it fills memory.
        self.values += match &event {
            Event::Alias(id) => self.anchors.get(id).map_or(1, count),
            _ => 1,
        };
        if self.values > MAX_VALUES {
            return Err(self.problem(
                at,
                span,
                &format!("more than {MAX_VALUES} values once its aliases are expanded"),
            ));
        }
        let (value, anchor) = match event {
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(value) => (value.clone(), 0),
                None => return Err(self.problem(at, span, "an alias (`*name`) names no anchor defined before it")),
            },
            Event::Scalar(text, style, anchor, tag) => {
                (resolve(&text, style, tag.as_deref()).map_err(|why| self.problem(at, span, &why))?, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.collection_tag(tag.as_deref(), "seq", at, span)?;
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next(at)?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span, &at.index(items.len()), depth + 1)?);
                }
                (Value::Array(items), anchor)
            }
            Event::MappingStart(anchor, tag) => {
                self.collection_tag(tag.as_deref(), "map", at, span)?;
                (Value::Object(self.mapping(at, depth)?), anchor)
            }
            _ => return Err(self.problem(at, span, "not valid YAML here")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }

    /// A mapping's entries in order, as yaml.v2 sets them: a merge key (`<<: *base` or `<<: [*a,
    /// *b]`) copies the merged mappings' entries (the earlier of a list wins) over what came
    /// before it, and entries after it win over merged ones.
    fn mapping(&mut self, at: &YamlPath, depth: usize) -> Result<Map<String, Value>, Problem> {
        let mut map = Map::new();
        let mut explicit = std::collections::HashSet::new();
        loop {
            let (event, key_span) = self.next(at)?;
            if matches!(event, Event::MappingEnd) {
                return Ok(map);
            }
            let is_merge = matches!(&event, Event::Scalar(text, ScalarStyle::Plain, _, tag)
                if text == "<<" && tag.as_deref().is_none_or(|t| is_core(t, "merge")));
            // A key in float syntax (`1e7`, `1.0`) becomes Go's `%g` text of a float32 in Helm
            // ("1e+07"), which only a copy of Go's formatting would match: refused, as a float key.
            let float_key = matches!(&event, Event::Scalar(text, ScalarStyle::Plain, _, None)
                if resolve_plain(text).is_ok_and(|v| v.is_number()) && parse_go_int(&text.replace('_', "")).is_none());
            if float_key {
                return Err(self.problem(at, key_span, FLOAT_KEY));
            }
            let key = if is_merge { None } else { Some(self.node(event, key_span, at, depth + 1)?) };
            let key = match key {
                None => None,
                Some(key) => Some(key_text(&key).map_err(|why| self.problem(at, key_span, &why))?),
            };
            let child_at = key.as_ref().map_or_else(|| at.key("<<"), |k| at.key(k));
            let (event, span) = self.next(&child_at)?;
            let value = self.node(event, span, &child_at, depth + 1)?;
            match key {
                Some(key) => {
                    if !explicit.insert(key.clone()) {
                        return Err(self.problem(
                            &child_at,
                            key_span,
                            "a duplicate key: it is written twice in its mapping (Helm would silently keep the last)",
                        ));
                    }
                    map.insert(key, value);
                }
                None => {
                    let sources = match value {
                        Value::Object(source) => vec![source],
                        Value::Array(list) => list
                            .into_iter()
                            .rev()
                            .map(|item| match item {
                                Value::Object(source) => Ok(source),
                                _ => Err(()),
                            })
                            .collect::<Result<_, _>>()
                            .map_err(|()| self.problem(&child_at, span, MERGE_TAKES_MAPPINGS))?,
                        _ => return Err(self.problem(&child_at, span, MERGE_TAKES_MAPPINGS)),
                    };
                    map.extend(sources.into_iter().flatten());
                }
            }
        }
    }

    fn collection_tag(&self, tag: Option<&Tag>, core: &str, at: &YamlPath, span: Span) -> Result<(), Problem> {
        match tag {
            None => Ok(()),
            Some(t) if is_core(t, core) => Ok(()),
            Some(t) => Err(self.problem(at, span, &unsupported_tag(t))),
        }
    }
}

/// YAML's `c-printable` (YAML 1.1 and 1.2, section 5.1), what Go's reader accepts in a stream.
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

const FLOAT_KEY: &str = "a mapping key reads as a float (`1e7`, `1.5`); quote it";

const MERGE_TAKES_MAPPINGS: &str = "a merge key (`<<`) takes a mapping or a list of mappings";

fn count(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(count).sum::<usize>(),
        _ => 1,
    }
}

fn is_core(tag: &Tag, suffix: &str) -> bool {
    tag.is_yaml_core_schema() && tag.suffix == suffix
}

fn unsupported_tag(tag: &Tag) -> String {
    let shown = if tag.is_yaml_core_schema() { format!("!!{}", tag.suffix) } else { tag.to_string() };
    format!(
        "compose does not read the tag `{shown}` (Helm would drop it or fail); remove it, or quote the value \
         for a string"
    )
}

/// A mapping key as sigs.k8s.io/yaml writes it into JSON: a string as it is, `true`/`false` for a
/// boolean (so a plain `yes:` key is `"true"`), an integer in decimal (`0x1F:` is `"31"`).
fn key_text(key: &Value) -> Result<String, String> {
    match key {
        Value::String(text) => Ok(text.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_i64() => Ok(n.to_string()),
        Value::Number(n) if n.is_u64() => {
            Err("a mapping key is an integer past 2^63; Helm cannot read it either".into())
        }
        Value::Null => Err("a mapping key is empty or null; Helm cannot read it either".into()),
        Value::Number(_) => Err(FLOAT_KEY.into()),
        _ => Err("a mapping key is a list or a mapping; Helm cannot read it either".into()),
    }
}

/// One scalar, as yaml.v2 resolves it and JSON keeps it. Quoted and block scalars are strings; a
/// plain one goes through [`resolve_plain`]. Tags: `!!str`, `!!binary` (base64, decoded to text),
/// and `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp` when the text reads as one.
pub fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let Some(tag) = tag else {
        return if style == ScalarStyle::Plain { resolve_plain(text) } else { Ok(Value::String(text.into())) };
    };
    // The non-specific tag `!` makes a scalar a string (YAML 1.1 and 1.2, section 6.9.1).
    if matches!((tag.handle.as_str(), tag.suffix.as_str()), ("!" | "", "" | "!")) {
        return Ok(Value::String(text.into()));
    }
    if !tag.is_yaml_core_schema() {
        return Err(unsupported_tag(tag));
    }
    let wrong = || format!("the value does not read as the `!!{}` its tag asks for", tag.suffix);
    match tag.suffix.as_str() {
        "str" | "timestamp" => Ok(Value::String(text.into())),
        "binary" => {
            use base64::Engine as _;
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(compact).map_err(|_| wrong())?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| "the `!!binary` value is not UTF-8 text, which JSON (and Helm) cannot hold".into())
        }
        "int" => resolve_plain(text).ok().filter(|v| v.is_i64() || v.is_u64()).ok_or_else(wrong),
        "float" => resolve_plain(text).ok().filter(Value::is_number).ok_or_else(wrong),
        "bool" => resolve_plain(text).ok().filter(Value::is_boolean).ok_or_else(wrong),
        "null" => resolve_plain(text).ok().filter(Value::is_null).ok_or_else(wrong),
        _ => Err(unsupported_tag(tag)),
    }
}

/// yaml.v2's `resolve()` for an untagged plain scalar, then JSON: the spellings of booleans and
/// null it lists (and no others: `yEs` is a string), integers in Go's `strconv.ParseInt(s, 0, 64)`
/// forms with every `_` removed (`012` octal, `0o17`, `0x1F`, `0b101`), past i64 as u64, then
/// YAML-style decimals as floats (`08` is 8). `.inf` and `.nan` are refused: sigs.k8s.io/yaml
/// cannot write them as JSON, so Helm fails on them too. A float with no fraction that fits is kept
/// as an integer, as Go's JSON writes it (`1e3` is 1000).
pub fn resolve_plain(text: &str) -> Result<Value, String> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::Bool(false));
        }
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf"
        | "-.INF" => {
            return Err("the value is infinity or not-a-number, which JSON (and Helm) cannot hold; quote it for a \
                        string"
                .into());
        }
        _ => {}
    }
    let string = || Ok(Value::String(text.into()));
    match text.as_bytes()[0] {
        b'.' => text.parse::<f64>().ok().filter(|f| f.is_finite()).map_or_else(string, |f| Ok(number(f))),
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = text.replace('_', "");
            if let Some(i) = parse_go_int(&plain) {
                return Ok(Value::Number(i));
            }
            if is_yaml_style_float(&plain)
                && let Ok(f) = plain.parse::<f64>()
                && f.is_finite()
            {
                return Ok(number(f));
            }
            string()
        }
        _ => string(),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, else `ParseUint(s, 0, 64)`: an optional sign (ParseInt only),
/// then `0x`/`0X` hex, `0o`/`0O` or a leading `0` octal, `0b`/`0B` binary, or decimal.
fn parse_go_int(s: &str) -> Option<Number> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    match (negative, s.starts_with('+')) {
        (true, _) => 0i64.checked_sub_unsigned(magnitude).map(Number::from),
        (false, signed) => match i64::try_from(magnitude) {
            Ok(i) => Some(Number::from(i)),
            // ParseUint takes no sign.
            Err(_) if !signed => Some(Number::from(magnitude)),
            Err(_) => None,
        },
    }
}

/// yaml.v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// A float as JSON holds it after Go: integral values that f64 holds exactly stay integers.
pub(crate) fn number(f: f64) -> Value {
    const EXACT: f64 = (1u64 << 53) as f64;
    if f.fract() == 0.0 && f.abs() < EXACT {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each row: the plain scalar, and what Go's reader (sigs.k8s.io/yaml over yaml.v2) makes of
    /// it, as `.tools/bin/yamlread` printed it. tests/test_values_as_helm.py runs the whole set of
    /// forms against the real reader.
    #[test]
    fn plain_scalars_resolve_as_yaml_v2_does() {
        let cases = [
            ("yes", json!(true)),
            ("Yes", json!(true)),
            ("yEs", json!("yEs")),
            ("y", json!(true)),
            ("ON", json!(true)),
            ("off", json!(false)),
            ("n", json!(false)),
            ("~", json!(null)),
            ("NuLL", json!("NuLL")),
            ("012", json!(10)),
            ("08", json!(8)),
            ("0o17", json!(15)),
            ("-0o17", json!(-15)),
            ("0x1F", json!(31)),
            ("+0x1F", json!(31)),
            ("0b101", json!(5)),
            ("-0b101", json!(-5)),
            ("1_000", json!(1000)),
            ("_1", json!("_1")),
            ("1_", json!(1)),
            ("9223372036854775808", json!(9223372036854775808u64)),
            ("+9223372036854775808", json!(9223372036854775808.0)),
            ("1e3", json!(1000)),
            ("6.8523015e+5", json!(685230.15)),
            ("685_230.15", json!(685230.15)),
            ("1.", json!(1)),
            (".5", json!(0.5)),
            ("12:30", json!("12:30")),
            ("2001-12-14", json!("2001-12-14")),
            ("1.2.3", json!("1.2.3")),
            ("0x", json!("0x")),
            ("-", json!("-")),
        ];
        for (text, expected) in cases {
            assert_eq!(resolve_plain(text), Ok(expected), "{text}");
        }
        for text in [".inf", "-.Inf", "+.INF", ".nan", ".NaN"] {
            assert!(resolve_plain(text).is_err(), "{text}");
        }
    }

    #[test]
    fn keys_merges_and_tags_read_as_helm_reads_them() {
        let doc =
            parse("yes: a\n0x1F: b\nbase: &b {x: 1, z: 2}\nm:\n  x: 0\n  <<: *b\n  z: 3\nbin: !!binary aGVsbG8=\n")
                .unwrap();
        assert_eq!(
            doc,
            json!({"true": "a", "31": "b", "base": {"x": 1, "z": 2}, "m": {"x": 1, "z": 3}, "bin": "hello"})
        );
        assert_eq!(parse("v: ! 012\n").unwrap(), json!({"v": "012"}), "the non-specific tag makes a string");
        assert_eq!(parse("1_0: a\n0o17: b\n'1e7': c\n").unwrap(), json!({"10": "a", "15": "b", "1e7": "c"}));
        assert!(parse("a: !!set {x}\n").unwrap_err().message.contains("`!!set`"));
        let list = parse("a: &a {k: 1}\nb: &b {k: 2}\nc: {<<: [*a, *b]}\n").unwrap();
        assert_eq!(list["c"], json!({"k": 1}), "the earlier mapping of a merge list wins");
        for (text, at) in [
            ("a: {b: 1, b: 2}\n", "a.b"),
            ("a: !secret x\n", "a"),
            ("a: !!set {x}\n", "a"),
            ("~: x\n", ""),
            ("a: .inf\n", "a"),
            ("a: !!int x\n", "a"),
            ("a: *nothing\n", "a"),
            ("a: 1\n---\nb: 2\n", ""),
            ("%YAML 1.2\n---\na: yes\n", ""),
            ("a: {9223372036854775808: x}\n", "a"),
            ("a: {1e7: x}\n", "a"),
            ("a: {1.0: x}\n", "a"),
            ("a: {.5: x}\n", "a"),
        ] {
            let problem = parse(text).unwrap_err();
            assert_eq!(problem.at.to_string(), at, "{text}: {}", problem.message);
        }
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            bomb += &format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            );
        }
        assert!(parse(&bomb).unwrap_err().message.contains("aliases are expanded"));
        let deep = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep).unwrap_err().message.contains("levels deep"));
    }
}
