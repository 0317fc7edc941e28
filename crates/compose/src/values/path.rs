//! A location inside the values tree, printed the way operators write it:
//! `agents.kiro.discord.allowedChannels[0]`.

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YamlPath(pub Vec<Segment>);

impl YamlPath {
    pub fn root() -> Self {
        YamlPath(Vec::new())
    }

    /// From a JSON pointer (`/agents/kiro/comand`), as JSON Schema validators report locations.
    pub fn from_pointer(pointer: &str, value: &Value) -> Self {
        let mut segments = Vec::new();
        let mut node = Some(value);
        for raw in pointer.split('/').skip(1) {
            let key = raw.replace("~1", "/").replace("~0", "~");
            let segment = match (node, key.parse::<usize>()) {
                (Some(Value::Array(_)), Ok(i)) => Segment::Index(i),
                _ => Segment::Key(key),
            };
            node = node.and_then(|n| match &segment {
                Segment::Index(i) => n.get(*i),
                Segment::Key(k) => n.get(k),
            });
            segments.push(segment);
        }
        YamlPath(segments)
    }

    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.to_string()));
        p
    }

    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(i));
        p
    }

    /// The value at this path, if every step exists.
    pub fn lookup<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(value, |node, segment| match segment {
            Segment::Key(k) => node.get(k),
            Segment::Index(i) => node.get(*i),
        })
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => write!(f, "[{}]", serde_json::to_string(k).map_err(|_| fmt::Error)?)?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prints_keys_indices_and_odd_keys() {
        let v = json!({"agents": {"kiro": {"discord": {"allowedChannels": ["1"]}}}});
        let p = YamlPath::from_pointer("/agents/kiro/discord/allowedChannels/0", &v);
        assert_eq!(p.to_string(), "agents.kiro.discord.allowedChannels[0]");
        let p = YamlPath::root().key("serviceAccount").key("annotations").key("eks.amazonaws.com/role-arn");
        assert_eq!(p.to_string(), "serviceAccount.annotations[\"eks.amazonaws.com/role-arn\"]");
    }

    #[test]
    fn numeric_map_keys_stay_keys() {
        let v = json!({"env": {"0": "x"}});
        assert_eq!(YamlPath::from_pointer("/env/0", &v).0[1], Segment::Key("0".into()));
    }
}
