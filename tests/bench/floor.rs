//! The floor of the benchmarks: build the same final objects compose writes and serialize them with
//! serde_json + serde_yaml, and nothing else (no values, no schema, no plugins).
//! Usage: floor TEMPLATE.yaml N > out.yaml, where TEMPLATE holds one agent's documents as compose
//! wrote them; each of the N agents gets a copy under its own name.

use serde_json::Value;
use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let template_file = args.next().expect("TEMPLATE.yaml");
    let agents: usize = args.next().expect("N").parse().expect("N is a number");
    let text = std::fs::read_to_string(template_file).expect("template");
    let template: Vec<Value> =
        serde_yaml::Deserializer::from_str(&text).map(|d| serde::Deserialize::deserialize(d).expect("YAML")).collect();
    let mut out = String::with_capacity(agents * 4096);
    for i in 0..agents {
        let name = format!("agent-broker-a{i}");
        for doc in &template {
            let mut object = doc.clone();
            object["metadata"]["name"] = Value::String(name.clone());
            out.push_str("---\n");
            out.push_str(&serde_yaml::to_string(&object).expect("YAML"));
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes()).expect("stdout");
}
