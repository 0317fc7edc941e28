//! compose's values loader against what the real Helm 3.22.0 and 4.3.2 hold for each generated case
//! of tests/test_set_as_helm.py, as recorded in tests/fixtures/set-as-helm.json (which that test
//! checks against both Helm binaries): the same values, or a refusal that names the same flag and
//! shows no value.

use crate::error::Error;
use crate::values::set::Flag;
use crate::values::{Input, Values};
use serde_json::Value;

const RECORD: &str = include_str!("../../../../../tests/fixtures/set-as-helm.json");
/// The marker the cases put in values; no error may show it.
const SECRET: &str = "S3CR3T";

#[test]
fn every_recorded_case_loads_as_helm_holds_it() {
    let record: Value = serde_json::from_str(RECORD).unwrap();
    let defaults = Values::load(&[], || Ok(String::new())).unwrap().merged;
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in record["files"].as_object().unwrap() {
        std::fs::write(dir.path().join(name), text.as_str().unwrap()).unwrap();
    }
    let mut failures = Vec::new();
    for (i, case) in record["cases"].as_array().unwrap().iter().enumerate() {
        let got = load(case, dir.path(), i).map(|values| without_defaults(values.merged, &defaults));
        let flags = &case["flags"];
        let answer = &case["compose"];
        match (answer.get("values"), answer.get("error").and_then(Value::as_str), got) {
            (Some(held), _, Ok(user)) if !same(&user, held) => {
                failures.push(format!("{flags}: Helm holds {held}, compose {user}"));
            }
            (_, Some(flag), Err(Error::Input(diagnostics))) => {
                let shown = diagnostics[0].to_string();
                if !diagnostics[0].source.starts_with(&format!("{flag} #")) || shown.contains(SECRET) {
                    failures.push(format!("{flags}: Helm refuses {flag}; compose said {shown}"));
                }
            }
            (Some(_), _, Ok(_)) => {}
            (_, _, Ok(user)) => failures.push(format!("{flags}: Helm's answer {answer}, compose holds {user}")),
            (_, _, Err(e)) => failures.push(format!("{flags}: Helm's answer {answer}, compose: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of the recorded cases differ:\n{}", failures.len(), failures.join("\n"));
}

fn load(case: &Value, dir: &std::path::Path, i: usize) -> crate::error::Result<Values> {
    let mut inputs = Vec::new();
    for (n, base) in case["base"].as_array().unwrap().iter().enumerate() {
        let path = dir.join(format!("case{i}-base{n}.yaml"));
        std::fs::write(&path, base.as_str().unwrap()).unwrap();
        inputs.push(Input::File(path.display().to_string()));
    }
    for pair in case["flags"].as_array().unwrap() {
        let name = pair[0].as_str().unwrap();
        let flag = Flag::ALL.into_iter().find(|f| f.name() == name).unwrap();
        let arg = pair[1].as_str().unwrap().replace("@DIR@", &dir.display().to_string());
        inputs.push(Input::Set { flag, arg });
    }
    let stdin = case["stdin"].as_str().unwrap_or_default().to_string();
    Values::load(&inputs, || Ok(stdin))
}

/// The values without the chart's defaults, which no case sets.
fn without_defaults(merged: Value, defaults: &Value) -> Value {
    let Value::Object(mut map) = merged else { return merged };
    for (key, default) in defaults.as_object().unwrap() {
        if map.get(key) == Some(default) {
            map.shift_remove(key);
        }
    }
    Value::Object(map)
}

/// Equal as JSON, numbers by value: Helm holds --set-json numbers as float64, which its JSON writes
/// as `12345678901234567000`.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64() && (x.is_f64() || y.is_f64()),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
