//! `--set`, `--set-string`, `--set-file`, `--set-json` and `--set-literal`, as Helm reads them:
//! helm.sh/helm pkg/strvals (parser.go, literal_parser.go; Helm 3.22.0 and 4.3.2 differ only where
//! said below) and pkg/cli/values/options.go for how they layer. An argument is applied to the values
//! the `-f` files made, in place: `list[0].key=x` edits item 0 of a list a file gave and keeps the
//! rest of it, `map.key=x` adds to a map; whatever else a key names is replaced.
//!
//! An argument is assignments `KEY=VALUE` separated by `,`. A key is names joined by `.`, each
//! followed by any number of `[N]` list indexes (`a.b[0][1].c`). A backslash makes the next
//! character plain, in keys and values (`\,` `\.` `\=` `\[` `\\`). For --set, --set-string and
//! --set-file a value runs to the next plain `,`, and `{x,y}` right after `=` is a list; --set types
//! the value ([`typed`]), --set-string keeps it a string, --set-file reads the file it names.
//! --set-json reads one JSON value (a blank one is null), and a whole argument `{...}` is a JSON
//! object merged in (Helm 4; Helm 3 refuses it). --set-literal knows no escapes and no `,`:
//! everything after the first `=` is the string, so an argument holds one assignment.
//!
//! Helm's corners, kept because they decide what a chart sees: `a=` at the end is `""`, and `{}`
//! is `[""]`; an index past the end pads the list with nulls, up to index 65536; an empty key part
//! sets nothing (`=x`, `.a=x`, `[0]=x`); `a[0]` or `a.` with nothing after it ends the argument
//! (`a[0]` leaves an empty list); `a[N].b=` at the very end of an argument, for an N past the
//! list's end, is dropped (Helm's parser meets the end before it grows the list); `a={x}b=1` is two
//! assignments, and so is `a=1b=2` for --set-json; a key that walks into a value of another kind
//! (`a.b=x` where a file made `a` a string, a list or null) is an error, as Helm's parser panics on
//! it.
//!
//! Where Helm 3 and 4 differ, besides the JSON object: an index with no `]` (`a[1`) is an error to
//! Helm 3 and silently ends the argument for Helm 4 (its parser takes the wrapped end-of-input
//! error for the end of input); compose refuses it, as Helm 3 does.
//!
//! compose's own bounds, past which Helm would go on: a key path deeper than 128 keys and indexes,
//! JSON nested deeper than 128, more than 2^20 list entries added by one argument; and a lone
//! surrogate escape in JSON (`"\ud800"`), which Helm turns into U+FFFD, is refused.
//!
//! Errors never quote the argument: it may hold a secret, and after a `,` what looks like a key may
//! be a secret's tail (`botToken=abc,def`).

#[cfg(test)]
mod helm_cases;
mod json;

use super::path::{Segment, YamlPath};
use serde_json::{Map, Value};

/// The flag an argument came with. The order is Helm's order of applying them: after every `-f`
/// file, every --set-json argument, then --set, --set-string, --set-file and --set-literal, each
/// in command-line order (options.go, `MergeValues`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    Json,
    Typed,
    String,
    File,
    Literal,
}

impl Flag {
    /// Every flag, in Helm's order.
    pub const ALL: [Flag; 5] = [Flag::Json, Flag::Typed, Flag::String, Flag::File, Flag::Literal];

    /// The flag as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Flag::Json => "--set-json",
            Flag::Typed => "--set",
            Flag::String => "--set-string",
            Flag::File => "--set-file",
            Flag::Literal => "--set-literal",
        }
    }
}

/// Helm's bound on a list index (strvals `MaxIndex`).
const MAX_INDEX: usize = 65536;
/// Helm's bound on the `.`-nesting of a key (strvals `MaxNestedNameLevel`).
const MAX_NAME_NESTING: usize = 30;
/// compose's bound on keys and indexes in one key path: the parser recurses per level, and
/// `a[0][0]...` has no bound in Helm.
const MAX_DEPTH: usize = 128;
/// compose's bound on the list entries one argument may add: `a[65536][65536]...` would otherwise
/// take gigabytes.
const MAX_PADDING: usize = 1 << 20;

/// Applies one argument of `flag` to `values`, the user's values so far (a mapping), as Helm does.
/// `read_file` gives the content of a --set-file path. Returns what the argument wrote, as a tree
/// (for naming where a value came from). Errors say which assignment, counting from 1, and why.
pub fn apply(
    values: &mut Value,
    flag: Flag,
    arg: &str,
    read_file: impl FnMut(&str) -> Result<String, String>,
) -> Result<Value, String> {
    if flag == Flag::Json && arg.trim_start().starts_with('{') {
        let object = json::object(arg).map_err(|why| format!("the argument reads as one JSON object, but {why}"))?;
        let written = Value::Object(object);
        super::merge(values, &written);
        return Ok(written);
    }
    let Value::Object(map) = values else { unreachable!("the user's values are a mapping") };
    let mut parser = Parser { text: arg, pos: 0, flag, read_file, writes: Vec::new(), padding: 0 };
    for number in 1.. {
        match parser.assignment(map, &YamlPath::root(), 0) {
            Ok(()) => {}
            Err(Stop::End) => break,
            Err(Stop::Fail(why)) => return Err(format!("assignment {number} (counting from 1): {why}")),
        }
    }
    let mut written = Value::Object(Map::new());
    for (path, value) in parser.writes {
        assign(&mut written, &path, value);
    }
    Ok(written)
}

/// Helm's typing of a --set value (strvals `typedVal`): `true`, `false` and `null` in any case
/// (Go's `strings.EqualFold`, for which `ſ` is an `s`), a 64-bit decimal integer that does not start
/// with `0` (a sign may come first: `-01` is -1), and `0`; anything else is a string (`0x1F`, `1.5`,
/// `012`, `1e3`).
fn typed(text: &str) -> Value {
    if folds_to(text, "true") {
        Value::Bool(true)
    } else if folds_to(text, "false") {
        Value::Bool(false)
    } else if folds_to(text, "null") {
        Value::Null
    } else if text == "0" {
        Value::from(0)
    } else if text.starts_with('0') {
        Value::String(text.to_string())
    } else {
        text.parse::<i64>().map_or_else(|_| Value::String(text.to_string()), Value::from)
    }
}

/// Go's `strings.EqualFold` against an ASCII word: beyond ASCII case, Unicode folds `ſ` (U+017F)
/// to `s` and the Kelvin sign (U+212A) to `k`.
fn folds_to(text: &str, word: &str) -> bool {
    let mut chars = text.chars();
    let same = |c: char, w: char| c.eq_ignore_ascii_case(&w) || (c, w) == ('ſ', 's') || (c, w) == ('\u{212A}', 'k');
    word.chars().all(|w| chars.next().is_some_and(|c| same(c, w))) && chars.next().is_none()
}

/// Writes `value` at `path`, making maps and growing lists (with nulls) on the way.
fn assign(target: &mut Value, path: &YamlPath, value: Value) {
    let mut node = target;
    for segment in &path.0 {
        node = match segment {
            Segment::Key(k) => {
                if !node.is_object() {
                    *node = Value::Object(Map::new());
                }
                node.as_object_mut().expect("made a map above").entry(k.clone()).or_insert(Value::Null)
            }
            Segment::Index(i) => {
                if !node.is_array() {
                    *node = Value::Array(Vec::new());
                }
                let list = node.as_array_mut().expect("made a list above");
                if list.len() <= *i {
                    list.resize(i + 1, Value::Null);
                }
                &mut list[*i]
            }
        };
    }
    *node = value;
}

/// How a step of the parse stopped short: `End` is Helm's `io.EOF`, the input ran out (the caller
/// decides what stands), `Fail` an error.
enum Stop {
    End,
    Fail(String),
}

type Step = Result<(), Stop>;

fn fail<T>(why: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Fail(why.into()))
}

const NO_VALUE: &str =
    "it has no `=` (expected KEY=VALUE; a comma separates assignments, so write a comma inside a value as `\\,`)";

struct Parser<'a, F> {
    text: &'a str,
    /// Where the unread input starts, in bytes.
    pos: usize,
    flag: Flag,
    read_file: F,
    /// What was written where, in order (leaves only).
    writes: Vec<(YamlPath, Value)>,
    /// List entries added so far by indexing past a list's end.
    padding: usize,
}

impl<F: FnMut(&str) -> Result<String, String>> Parser<'_, F> {
    /// One assignment into `map` (Helm's `key`): a key part up to `=`, `[`, `.` (or a `,`, an
    /// error), then what that stop leads to.
    fn assignment(&mut self, map: &mut Map<String, Value>, at: &YamlPath, names: usize) -> Step {
        within_depth(at)?;
        let stops: &[char] = if self.flag == Flag::Literal { &['=', '[', '.'] } else { &['=', '[', '.', ','] };
        let (key, stop) = self.until(stops);
        match stop {
            None if key.is_empty() => Err(Stop::End),
            None | Some(',') => fail(NO_VALUE),
            Some('[') => self.list_at_key(map, key, at, names),
            Some('.') => self.map_at_key(map, key, at, names + 1),
            _ => {
                let (value, ended) = self.value()?;
                self.set(map, key, at, value);
                if ended { Err(Stop::End) } else { Ok(()) }
            }
        }
    }

    /// `key[N]...`: the list at `key`, edited in place when there is one. Helm's `set` skips an
    /// empty key, so for `[N]` the list it would grow is a copy it drops (and one it edits in
    /// place keeps the edit).
    fn list_at_key(&mut self, map: &mut Map<String, Value>, key: String, at: &YamlPath, names: usize) -> Step {
        let index = self.index()?;
        let at = at.key(&key);
        let existing = match map.get_mut(&key) {
            Some(Value::Array(list)) => Some(list),
            Some(other) => return fail(conflict(other, "a list")),
            None => None,
        };
        let in_place = existing.filter(|list| !key.is_empty() || index_within(index, list.len()));
        let fresh_list = in_place.is_none();
        let mut fresh = Vec::new();
        let step = self.entry(in_place.unwrap_or(&mut fresh), index, &at, names);
        if fresh_list && !key.is_empty() {
            map.insert(key, Value::Array(fresh));
        }
        step
    }

    /// `key.rest`: the map at `key`, edited in place when there is one; a new one is kept only
    /// when something was set in it. Setting nothing in a map is an error unless the input ended.
    fn map_at_key(&mut self, map: &mut Map<String, Value>, key: String, at: &YamlPath, names: usize) -> Step {
        if names > MAX_NAME_NESTING {
            return fail(format!("its key has more than {MAX_NAME_NESTING} dots, Helm's limit"));
        }
        let at = at.key(&key);
        let existing = match map.get_mut(&key) {
            Some(Value::Object(inner)) => Some(inner),
            Some(other) => return fail(conflict(other, "a map")),
            None => None,
        };
        let mut fresh = Map::new();
        let inner = existing.unwrap_or(&mut fresh);
        let step = self.assignment(inner, &at, names);
        if step.is_ok() && inner.is_empty() {
            return fail("a key part ending in `.` is followed by nothing that sets a value");
        }
        if !fresh.is_empty() && !key.is_empty() {
            map.insert(key, Value::Object(fresh));
        }
        step
    }

    /// What follows `[index]` in `list` (Helm's `listItem`): `=` a value, another `[`, or `.` and
    /// a key in the map there. A list past its end grows only once its entry is complete.
    fn entry(&mut self, list: &mut Vec<Value>, index: i64, at: &YamlPath, names: usize) -> Step {
        let Ok(i) = usize::try_from(index) else {
            return fail("its key has a negative list index");
        };
        let at = at.index(i);
        within_depth(&at)?;
        let (text, stop) = self.until(&['[', '.', '=']);
        if !text.is_empty() {
            return fail("its key has text right after a `]` (expected `.`, `[` or `=`)");
        }
        match stop {
            None => Err(Stop::End),
            Some('=') => {
                let (value, _) = self.value()?;
                self.writes.push((at, value.clone()));
                self.store(list, i, value)
            }
            Some('[') => {
                let inner_index = self.index()?;
                match list.get_mut(i) {
                    Some(Value::Array(inner)) => self.entry(inner, inner_index, &at, names),
                    Some(Value::Null) | None => {
                        let mut inner = Vec::new();
                        self.entry(&mut inner, inner_index, &at, names)?;
                        self.store(list, i, Value::Array(inner))
                    }
                    Some(other) => fail(conflict(other, "a list")),
                }
            }
            _ => match list.get_mut(i) {
                // An entry that is not a map becomes one (Helm: "indices out of order").
                Some(slot) => {
                    if !slot.is_object() {
                        *slot = Value::Object(Map::new());
                    }
                    let Value::Object(inner) = slot else { unreachable!("made a map above") };
                    self.assignment(inner, &at, names)
                }
                None => {
                    let mut inner = Map::new();
                    self.assignment(&mut inner, &at, names)?;
                    self.store(list, i, Value::Object(inner))
                }
            },
        }
    }

    /// The value after `=`, and whether the input ended right there (`a=` at the end: `""`).
    fn value(&mut self) -> Result<(Value, bool), Stop> {
        match self.flag {
            Flag::Json => Ok((self.json()?, false)),
            Flag::Literal => {
                let rest = self.text[self.pos..].to_string();
                self.pos = self.text.len();
                Ok((Value::String(rest), false))
            }
            _ if self.pos == self.text.len() => Ok((Value::String(String::new()), true)),
            _ if self.text[self.pos..].starts_with('{') => {
                self.pos += 1;
                Ok((self.list()?, false))
            }
            _ => {
                let (text, _) = self.until(&[',']);
                Ok((self.scalar(text)?, false))
            }
        }
    }

    /// `{x,y}` after its `{`; a `,` right after the `}` is taken too.
    fn list(&mut self) -> Result<Value, Stop> {
        let mut items = Vec::new();
        loop {
            let (text, stop) = self.until(&[',', '}']);
            match stop {
                None => return fail("a list `{` has no closing `}`"),
                Some(',') => items.push(self.scalar(text)?),
                _ => {
                    items.push(self.scalar(text)?);
                    if self.text[self.pos..].starts_with(',') {
                        self.pos += 1;
                    }
                    return Ok(Value::Array(items));
                }
            }
        }
    }

    /// One value of --set, --set-string or --set-file.
    fn scalar(&mut self, text: String) -> Result<Value, Stop> {
        match self.flag {
            Flag::Typed => Ok(typed(&text)),
            Flag::File => (self.read_file)(&text).map(Value::String).map_err(Stop::Fail),
            _ => Ok(Value::String(text)),
        }
    }

    /// One JSON value (Helm's `emptyVal`, then `json.Decoder` and `emptyVal` again): blank up to a
    /// `,` or the end is null; after a value, blanks and one `,` are skipped.
    fn json(&mut self) -> Result<Value, Stop> {
        if self.skip_blank_and_comma() {
            return Ok(Value::Null);
        }
        let rest = &self.text[self.pos..];
        let len = json::value_len(rest).map_err(Stop::Fail)?;
        let value = json::parse(&rest[..len]).map_err(Stop::Fail)?;
        self.pos += len;
        self.skip_blank_and_comma();
        Ok(value)
    }

    /// Skips blanks (Go's `unicode.IsSpace`, Rust's `char::is_whitespace`: the same set) and one
    /// `,`; true when that reached a `,` or the end.
    fn skip_blank_and_comma(&mut self) -> bool {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
        match self.text[self.pos..].chars().next() {
            None => true,
            Some(',') => {
                self.pos += 1;
                true
            }
            Some(_) => false,
        }
    }

    /// `N]` after a `[`: Go's `strconv.Atoi` (a sign allowed, decimal, 64 bits).
    fn index(&mut self) -> Result<i64, Stop> {
        let (digits, stop) = self.until(&[']']);
        if stop.is_none() {
            return fail("its key has a `[` with no `]`");
        }
        digits.parse::<i64>().map_err(|_| Stop::Fail("its key has a list index in `[...]` that is not a number".into()))
    }

    /// Text up to (and taking) the first plain character of `stops`, without escapes (but for
    /// --set-literal, which has none); `None` when the input ends first, or right after a `\`.
    fn until(&mut self, stops: &[char]) -> (String, Option<char>) {
        let mut text = String::new();
        let mut chars = self.text[self.pos..].chars();
        let stop = loop {
            match chars.next() {
                None => break None,
                Some(c) if stops.contains(&c) => break Some(c),
                Some('\\') if self.flag != Flag::Literal => match chars.next() {
                    Some(escaped) => text.push(escaped),
                    None => break None,
                },
                Some(c) => text.push(c),
            }
        };
        self.pos = self.text.len() - chars.as_str().len();
        (text, stop)
    }

    /// Helm's `set`: an empty key sets nothing.
    fn set(&mut self, map: &mut Map<String, Value>, key: String, at: &YamlPath, value: Value) {
        if !key.is_empty() {
            self.writes.push((at.key(&key), value.clone()));
            map.insert(key, value);
        }
    }

    /// Helm's `setIndex`: `value` at `i`, growing the list with nulls.
    fn store(&mut self, list: &mut Vec<Value>, i: usize, value: Value) -> Step {
        if i > MAX_INDEX {
            return fail(format!("a list index is past {MAX_INDEX}, Helm's limit"));
        }
        if list.len() <= i {
            self.padding += i + 1 - list.len();
            if self.padding > MAX_PADDING {
                return fail(format!("it adds more than {MAX_PADDING} list entries"));
            }
            list.resize(i + 1, Value::Null);
        }
        list[i] = value;
        Ok(())
    }
}

fn within_depth(at: &YamlPath) -> Step {
    if at.0.len() >= MAX_DEPTH {
        return fail(format!("its key is nested more than {MAX_DEPTH} levels deep"));
    }
    Ok(())
}

fn index_within(index: i64, len: usize) -> bool {
    usize::try_from(index).is_ok_and(|i| i < len)
}

/// Why a key cannot go into `found`, which an earlier input made.
fn conflict(found: &Value, wanted: &str) -> String {
    let kind = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    };
    format!("its key goes into {kind} that an earlier input set, where it needs {wanted} (Helm refuses this too)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Applies `args` in order onto `base`; files are read from `files` by name.
    fn apply_all(base: Value, args: &[(Flag, &str)], files: &[(&str, &str)]) -> Result<Value, String> {
        let mut values = base;
        for (flag, arg) in args {
            apply(&mut values, *flag, arg, |path| {
                files
                    .iter()
                    .find(|(name, _)| *name == path)
                    .map(|(_, text)| text.to_string())
                    .ok_or("no such file".into())
            })?;
        }
        Ok(values)
    }

    fn set(args: &[&str]) -> Value {
        apply_all(json!({}), &args.iter().map(|a| (Flag::Typed, *a)).collect::<Vec<_>>(), &[]).unwrap()
    }

    /// Each row as Helm 3.22.0 and 4.3.2 print `.Values` for it (`helm template` of a chart whose
    /// template is `{{ toJson .Values }}`); tests/test_set_as_helm.py runs many more against both.
    #[test]
    fn types_and_corners_as_helm_reads_them() {
        let v = set(&["a=falſe,b=-01,c=+5,d=0x1F,e=1.5,f=TRUE,g=0,h=00,i=9223372036854775808,j=Null,k="]);
        assert_eq!(
            v,
            json!({"a": false, "b": -1, "c": 5, "d": "0x1F", "e": "1.5", "f": true, "g": 0, "h": "00",
                   "i": "9223372036854775808", "j": null, "k": ""})
        );
        assert_eq!(set(&["a[0].b="]), json!({"a": []}), "dropped: the input ends before the list grows");
        assert_eq!(set(&["a[0].b=,c=1"]), json!({"a": [{"b": ""}], "c": 1}));
        assert_eq!(set(&["a[0]"]), json!({"a": []}));
        assert_eq!(set(&["a.", "=1", ".b=1", "[0]=1", ""]), json!({}));
        assert_eq!(set(&["a={x}y=1"]), json!({"a": ["x"], "y": 1}));
        assert_eq!(
            set(&["x.list={a,b\\,c}", "x.dotted\\.key=v\\=w", "x.empty={}", "x.eq=b=c"]),
            json!({"x": {"list": ["a", "b,c"], "dotted.key": "v=w", "empty": [""], "eq": "b=c"}})
        );
        assert_eq!(set(&["a[2][1]=x"]), json!({"a": [null, null, [null, "x"]]}));
    }

    #[test]
    fn a_set_edits_the_lists_and_maps_of_earlier_inputs() {
        let base =
            json!({"t": [{"key": "gpu", "operator": "Equal", "effect": "NoSchedule"}], "m": {"x": 1}, "s": "str"});
        let v =
            apply_all(base.clone(), &[(Flag::Typed, "t[0].operator=Exists,m.y=2"), (Flag::String, "t[1].key=b")], &[])
                .unwrap();
        assert_eq!(
            v,
            json!({"t": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}, {"key": "b"}], "m": {"x": 1, "y": 2},
                   "s": "str"})
        );
        for bad in ["s.x=1", "s[0]=1", "m[0]=1", "t.x=1", "t[0][0]=1"] {
            let why = apply_all(base.clone(), &[(Flag::Typed, bad)], &[]).unwrap_err();
            assert!(why.contains("earlier input") && why.starts_with("assignment 1"), "{bad}: {why}");
        }
        let nulls = json!({"n": null});
        assert!(apply_all(nulls, &[(Flag::Typed, "n.x=1")], &[]).is_err(), "Helm cannot walk into a null either");
    }

    #[test]
    fn json_literal_and_file_values() {
        let v = apply_all(
            json!({"m": {"keep": 1}}),
            &[
                (Flag::Json, "a=[1,{\"b\":null}],c= ,d=\"x,y\"e=12345678901234567890"),
                (Flag::Json, " {\"m\": {\"n\": 1.5}}"),
                (Flag::Literal, "l.x=a,b=c\\d"),
                (Flag::File, "f={one,two},g=one"),
            ],
            &[("one", "1,\n"), ("two", "")],
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"m": {"keep": 1, "n": 1.5}, "a": [1, {"b": null}], "c": null, "d": "x,y", "e": 12345678901234567890.0,
                   "l": {"x": "a,b=c\\d"}, "f": ["1,\n", ""], "g": "1,\n"})
        );
        for bad in [(Flag::Json, "a=01"), (Flag::Json, "a=[1"), (Flag::Json, "{\"a\":1} x"), (Flag::File, "f=missing")]
        {
            assert!(apply_all(json!({}), &[bad], &[("one", "")]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refuses_malformed_arguments_without_quoting_them() {
        for bad in [
            "novalue",
            "a,b=c",
            "a[x]=1",
            "a[1",
            "a[1=2",
            "a..b=1",
            "k=SECRET1,SECRET2",
            "k[=SECRET3",
            "k\\",
            "a[-1]=x",
            "a[65537]=x",
            "a[0]x=1",
            "a={x",
        ] {
            let why = apply_all(json!({}), &[(Flag::Typed, bad)], &[]).expect_err(bad);
            for part in ["novalue", "SECRET", "[x]", "[1=2", "65537"] {
                assert!(!why.contains(part), "{bad}: {why}");
            }
        }
        let deep = format!("a{}=1", "[0]".repeat(200));
        assert!(apply_all(json!({}), &[(Flag::Typed, &deep)], &[]).unwrap_err().contains("levels deep"));
        let dots = format!("a{}=1", ".a".repeat(31));
        assert!(apply_all(json!({}), &[(Flag::Typed, &dots)], &[]).unwrap_err().contains("dots"));
    }

    #[test]
    fn what_an_argument_wrote_is_returned_as_a_tree() {
        let mut values = json!({"t": [{"key": "gpu"}]});
        let written = apply(&mut values, Flag::Typed, "t[0].effect=NoExecute,x.y=1", |_| unreachable!()).unwrap();
        assert_eq!(written, json!({"t": [{"effect": "NoExecute"}], "x": {"y": 1}}));
    }
}
