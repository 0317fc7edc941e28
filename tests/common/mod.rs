//! Runs the real `compose` binary the way an operator does.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn fixture(name: &str) -> String {
    repo().join("tests/fixtures").join(name).display().to_string()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs compose in the repository root with its own plugin cache folder.
pub fn compose(args: &[&str]) -> Run {
    run(args, "", &[])
}

pub fn compose_with_stdin(args: &[&str], stdin: &str) -> Run {
    run(args, stdin, &[])
}

/// Runs compose with extra environment variables.
pub fn compose_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run(args, "", env)
}

fn run(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_compose"));
    cmd.args(args).current_dir(repo()).env("COMPOSE_CACHE_DIR", repo().join("target/test-plugin-cache"));
    cmd.envs(env.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("compose runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A values file in a temporary folder; the folder lives as long as the returned guard.
pub fn values_file(yaml: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.yaml");
    std::fs::write(&path, yaml).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

/// Asserts a bad-input run: exit 2, nothing on stdout, and every `expected` text on stderr.
pub fn assert_input_error(run: &Run, expected: &[&str]) {
    assert_eq!(run.code, 2, "exit code; stderr:\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout must stay empty on error, got:\n{}", run.stdout);
    for text in expected {
        assert!(run.stderr.contains(text), "stderr lacks {text:?}:\n{}", run.stderr);
    }
}

/// The documents of a YAML stream.
pub fn documents(yaml: &str) -> Vec<serde_yaml::Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(yaml).map(|d| serde_yaml::Value::deserialize(d).unwrap()).collect()
}

pub fn find<'a>(docs: &'a [serde_yaml::Value], kind: &str, name: &str) -> &'a serde_yaml::Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}
