//! The ways in besides `compose -f`: Helm's post-renderer, a KRM function, and the migration of
//! older charts' values (0.3.x, openab's). Each turns its input into values and a release, runs the same pipeline
//! ([`crate::render`]), and writes its own kind of output. The post-renderer and the KRM function
//! both take AgentSets, and expand them the one way [`agent_set`] does; they differ only in how they
//! read their input and write their output.

pub mod agent_set;
pub mod krm;
pub mod migrate;
pub mod post_render;
