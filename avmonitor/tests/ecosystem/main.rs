//! What a user installs and reads: the install script and the Debian
//! packages, the plugin documentation cache, and the JSON Schema of the
//! service's events. One test binary for the three, to link once.

#[path = "../support/mod.rs"]
mod support;

mod install;
mod plugin_docs;
mod schema;
