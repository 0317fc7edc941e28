//! `--set` and `--set-string`, with Helm's rules (`helm.sh/helm/v3/pkg/strvals`):
//! `a.b=c,d[0]=e`, lists as `{x,y}`, `\,` and `\.` escape, and Helm's typing of bare values
//! (`true`, `false`, `null` in any case, 64-bit integers without a leading zero; everything else is a
//! string). Errors never quote the argument: it may hold a secret.

use super::path::{Segment, YamlPath};
use serde_json::{Map, Value};

/// One `--set` argument parsed into the assignments it makes, in order.
pub fn parse(arg: &str, typed: bool) -> Result<Vec<(YamlPath, Value)>, String> {
    let mut assignments = Vec::new();
    let mut rest = arg;
    while !rest.is_empty() {
        // The argument's text is never quoted back: after a comma, what looks like a key may be the
        // tail of a secret (`botToken=abc,def`).
        let (path, after_key) =
            parse_key(rest).map_err(|why| format!("assignment {} (counting from 1): {why}", assignments.len() + 1))?;
        let (value, after_value) = parse_value(after_key, typed);
        assignments.push((path, value));
        rest = after_value.strip_prefix(',').unwrap_or(after_value);
    }
    if assignments.is_empty() {
        return Err("expected KEY=VALUE".into());
    }
    Ok(assignments)
}

fn parse_key(s: &str) -> Result<(YamlPath, &str), String> {
    let mut segments = Vec::new();
    let mut name = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, escaped)) => name.push(escaped),
                None => return Err("its key ends with a backslash".into()),
            },
            '.' => {
                if !name.is_empty() {
                    segments.push(Segment::Key(std::mem::take(&mut name)));
                } else if !matches!(segments.last(), Some(Segment::Index(_))) {
                    return Err("its key has an empty part (`..`, or a `.` first)".into());
                }
            }
            '[' => {
                if !name.is_empty() {
                    segments.push(Segment::Key(std::mem::take(&mut name)));
                }
                let close = s[i..].find(']').ok_or("its key has `[` without `]`")?;
                let digits = &s[i + 1..i + close];
                let index = digits
                    .parse::<usize>()
                    .map_err(|_| "its key has a list index in `[...]` that is not a non-negative number".to_string())?;
                if index > 65535 {
                    return Err(format!("list index {index} is too large"));
                }
                segments.push(Segment::Index(index));
                for _ in 0..close {
                    chars.next();
                }
            }
            '=' => {
                if !name.is_empty() {
                    segments.push(Segment::Key(name));
                }
                if segments.is_empty() {
                    return Err("expected KEY=VALUE, the key is empty".into());
                }
                return Ok((YamlPath(segments), &s[i + 1..]));
            }
            ',' => {
                return Err(NO_VALUE.into());
            }
            _ => name.push(c),
        }
    }
    Err(NO_VALUE.into())
}

const NO_VALUE: &str = "it has no `=` (expected KEY=VALUE; a comma separates assignments, so write a comma inside a \
                        value as `\\,`)";

/// A value runs to the next unescaped `,`; `{a,b}` is a list.
fn parse_value(s: &str, typed: bool) -> (Value, &str) {
    if let Some(inner) = s.strip_prefix('{')
        && let Some(close) = inner.find('}')
    {
        // Like Helm, `{}` is a list of one empty string, not an empty list.
        let list = split_unescaped(&inner[..close]).into_iter().map(|item| typed_value(&item, typed)).collect();
        return (Value::Array(list), &inner[close + 1..]);
    }
    let mut text = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    text.push(escaped);
                }
            }
            ',' => return (typed_value(&text, typed), &s[i..]),
            _ => text.push(c),
        }
    }
    (typed_value(&text, typed), "")
}

fn split_unescaped(s: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => items.last_mut().unwrap().extend(chars.next()),
            ',' => items.push(String::new()),
            _ => items.last_mut().unwrap().push(c),
        }
    }
    items
}

fn typed_value(text: &str, typed: bool) -> Value {
    if !typed {
        return Value::String(text.to_string());
    }
    // Helm compares these without case (strings.EqualFold): `TRUE` and `Null` are typed too.
    match text {
        _ if text.eq_ignore_ascii_case("true") => Value::Bool(true),
        _ if text.eq_ignore_ascii_case("false") => Value::Bool(false),
        _ if text.eq_ignore_ascii_case("null") => Value::Null,
        "0" => Value::from(0),
        _ if text.starts_with('0') => Value::String(text.to_string()),
        _ => text.parse::<i64>().map_or_else(|_| Value::String(text.to_string()), Value::from),
    }
}

/// Writes `value` at `path`, creating maps and growing lists (with nulls) as Helm does.
pub fn assign(target: &mut Value, path: &YamlPath, value: Value) {
    let mut node = target;
    for segment in &path.0 {
        node = match segment {
            Segment::Key(k) => {
                if !node.is_object() {
                    *node = Value::Object(Map::new());
                }
                node.as_object_mut().unwrap().entry(k.clone()).or_insert(Value::Null)
            }
            Segment::Index(i) => {
                if !node.is_array() {
                    *node = Value::Array(Vec::new());
                }
                let list = node.as_array_mut().unwrap();
                if list.len() <= *i {
                    list.resize(i + 1, Value::Null);
                }
                &mut list[*i]
            }
        };
    }
    *node = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(args: &[&str], typed: bool) -> Value {
        let mut v = json!({});
        for arg in args {
            for (path, value) in parse(arg, typed).unwrap() {
                assign(&mut v, &path, value);
            }
        }
        v
    }

    #[test]
    fn types_bare_values_like_helm() {
        let v = set(&["a=true,b=123,c=0123,d=1.5,e=null,f=,g=9223372036854775808,h=TRUE,i=fAlSe,j=Null,k=+5"], true);
        assert_eq!(
            v,
            json!({"a": true, "b": 123, "c": "0123", "d": "1.5", "e": null, "f": "", "g": "9223372036854775808",
                   "h": true, "i": false, "j": null, "k": 5})
        );
    }

    #[test]
    fn set_string_keeps_strings() {
        assert_eq!(set(&["a.b={123,true}"], false), json!({"a": {"b": ["123", "true"]}}));
    }

    #[test]
    fn lists_indices_and_escapes() {
        let v = set(&["x.list={a,b\\,c}", "x.items[1].name=n", "x.dotted\\.key=v", "x.empty={}"], true);
        assert_eq!(
            v,
            json!({"x": {"list": ["a", "b,c"], "items": [null, {"name": "n"}], "dotted.key": "v", "empty": [""]}})
        );
    }

    #[test]
    fn value_may_hold_equals_sign() {
        assert_eq!(set(&["a=b=c"], true), json!({"a": "b=c"}));
    }

    #[test]
    fn rejects_malformed_arguments_without_quoting_them() {
        for bad in ["novalue", "a,b=c", "=x", "a[x]=1", "a[1=2", "a..b=1", "k=SECRET1,SECRET2", "k[=SECRET3", "k\\"] {
            let why = parse(bad, true).expect_err(bad);
            for part in ["novalue", "SECRET", "[x]", "[1=2"] {
                assert!(!why.contains(part), "{bad}: {why}");
            }
        }
    }
}
