//! The objects compose renders, typed with k8s-openapi, and the operator's fields that stay JSON
//! (ARCHITECTURE.md, "Typed objects"): a misspelt field of compose's own is a compile error.

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};

/// One output object and the agent it belongs to (`None` for shared objects).
#[derive(Debug, Clone)]
pub struct Document {
    pub agent: Option<String>,
    pub object: Object,
    /// The operator's fields, put into the object as written when it is serialized.
    pub pass_through: Vec<PassThrough>,
}

impl Document {
    /// The object as JSON, in k8s-openapi's key order (`apiVersion`, `kind`, then every field in
    /// alphabetical order), with the operator's fields in their places.
    pub fn to_value(&self) -> Value {
        let mut value = serde_json::to_value(&self.object).expect("k8s-openapi objects serialize");
        for pass in &self.pass_through {
            let (at, slot) = match pass {
                PassThrough::Replace(at, _) | PassThrough::Append(at, _) => (at, value.pointer_mut(at)),
            };
            let slot = slot.unwrap_or_else(|| panic!("the typed object holds a place at {at}"));
            match (pass, slot) {
                (PassThrough::Replace(_, given), slot) => *slot = given.clone(),
                (PassThrough::Append(_, given), Value::Array(items)) => items.extend(given.iter().cloned()),
                (PassThrough::Append(..), _) => panic!("the typed object holds a list at {at}"),
            }
        }
        value
    }

    /// Sets one annotation of the object's metadata.
    pub fn annotate(&mut self, key: &str, value: &str) {
        let annotations = self.object.metadata_mut().annotations.get_or_insert_default();
        annotations.insert(key.to_string(), value.to_string());
    }
}

/// A field the operator wrote, kept as JSON where a k8s-openapi type would change it: drop keys it does
/// not know (the schema lets an operator write any field of `affinity`, a security context, an extra
/// volume or container, an egress rule), or turn a quantity written as a number into a string
/// (`resources`). The typed object holds an empty placeholder at the JSON pointer, so the field keeps
/// its place in the key order.
#[derive(Debug, Clone)]
pub enum PassThrough {
    /// Replaces the placeholder at the pointer.
    Replace(String, Value),
    /// Appended to the list at the pointer, after compose's own items.
    Append(String, Vec<Value>),
}

/// The operator's fields of one object, collected while it is built.
#[derive(Default)]
pub struct PassThroughs(pub Vec<PassThrough>);

impl PassThroughs {
    /// `Some(placeholder)` and the operator's `given` put at `at`, or `None` when nothing is given.
    pub fn given<T: Default>(&mut self, at: String, given: &Map<String, Value>) -> Option<T> {
        if given.is_empty() {
            return None;
        }
        self.0.push(PassThrough::Replace(at, Value::Object(given.clone())));
        Some(T::default())
    }

    /// The operator's `items`, appended to the list at `at`.
    pub fn append(&mut self, at: String, items: &[Value]) {
        if !items.is_empty() {
            self.0.push(PassThrough::Append(at, items.to_vec()));
        }
    }
}

/// Declares [`Object`] over the kinds compose renders, with what every kind has.
macro_rules! objects {
    ($($kind:ident),* $(,)?) => {
        /// Every kind of object compose renders.
        #[derive(Debug, Clone, serde::Serialize)]
        #[serde(untagged)]
        pub enum Object {
            $(
                #[doc = concat!("A ", stringify!($kind), ".")]
                $kind(Box<$kind>),
            )*
        }

        impl Object {
            /// Its `kind`.
            pub fn kind(&self) -> &'static str {
                match self { $(Object::$kind(_) => <$kind as Resource>::KIND,)* }
            }

            /// Its `metadata`.
            pub fn metadata(&self) -> &ObjectMeta {
                match self { $(Object::$kind(object) => &object.metadata,)* }
            }

            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self { $(Object::$kind(object) => &mut object.metadata,)* }
            }
        }

        $(
            impl From<$kind> for Object {
                fn from(object: $kind) -> Self {
                    Object::$kind(Box::new(object))
                }
            }
        )*
    };
}

objects!(ServiceAccount, NetworkPolicy, Secret, ConfigMap, PersistentVolumeClaim, Deployment, Service, Ingress);

impl Object {
    /// Its `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }
}
