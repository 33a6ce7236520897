//! The plugin documentation cache, `docs/plugins/gst_plugins_cache.json`,
//! in the format of GStreamer's and gst-plugins-rs's caches (what
//! `gst-hotdoc-plugins-scanner` writes): every element's metadata, pad
//! templates, properties (type, blurb, default, range, flags) and the enums
//! they take. Made here from the registered elements; this test fails when
//! the checked-in file differs from what the code registers, so it never
//! goes stale. `scripts/plugin-docs.sh` writes it again.

use gst::glib;
use gst::prelude::*;
use serde_json::{json, Map, Value};
use std::path::Path;

fn cache_path() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/plugins/gst_plugins_cache.json"
    ))
}

fn mutable(flags: glib::ParamFlags) -> &'static str {
    let f = flags.bits();
    if f & gst::PARAM_FLAG_MUTABLE_PLAYING.bits() != 0 {
        "playing"
    } else if f & gst::PARAM_FLAG_MUTABLE_PAUSED.bits() != 0 {
        "paused"
    } else if f & gst::PARAM_FLAG_MUTABLE_READY.bits() != 0 {
        "ready"
    } else {
        "null"
    }
}

/// A value as the caches write it: serialised by GStreamer.
fn text(v: &glib::Value) -> String {
    if let Ok(b) = v.get::<bool>() {
        return b.to_string();
    }
    if let Some(e) = glib::EnumValue::from_value(v) {
        return e.1.nick().to_string();
    }
    v.serialize()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "(none)".into())
}

fn range(pspec: &glib::ParamSpec) -> Option<(String, String)> {
    macro_rules! numeric {
        ($($t:ty),*) => {$(
            if let Some(p) = pspec.downcast_ref::<$t>() {
                return Some((p.minimum().to_string(), p.maximum().to_string()));
            }
        )*};
    }
    numeric!(
        glib::ParamSpecDouble,
        glib::ParamSpecFloat,
        glib::ParamSpecInt,
        glib::ParamSpecUInt,
        glib::ParamSpecInt64,
        glib::ParamSpecUInt64
    );
    None
}

fn enum_values(t: glib::Type) -> Value {
    let class = glib::EnumClass::with_type(t).unwrap();
    Value::Array(
        class
            .values()
            .iter()
            .map(|v| {
                json!({
                    "desc": v.name(),
                    "name": v.nick(),
                    "value": v.value().to_string(),
                })
            })
            .collect(),
    )
}

fn element(factory: &gst::ElementFactory, other: &mut Map<String, Value>) -> Value {
    let element = factory.create().build().unwrap();
    let mut hierarchy = vec![];
    let mut t = element.type_();
    while t.is_valid() {
        hierarchy.push(Value::from(t.name()));
        t = t.parent().unwrap_or(glib::Type::INVALID);
    }
    let mut pads = Map::new();
    for tpl in factory.static_pad_templates() {
        pads.insert(
            tpl.name_template().to_string(),
            json!({
                "caps": tpl.caps().to_string(),
                "direction": match tpl.direction() {
                    gst::PadDirection::Src => "src",
                    gst::PadDirection::Sink => "sink",
                    _ => "unknown",
                },
                "presence": match tpl.presence() {
                    gst::PadPresence::Always => "always",
                    gst::PadPresence::Sometimes => "sometimes",
                    gst::PadPresence::Request => "request",
                },
            }),
        );
    }
    let mut props = Map::new();
    for p in element.list_properties() {
        // the ones GstObject brings are documented there
        if p.owner_type() == gst::Object::static_type() {
            continue;
        }
        let flags = p.flags();
        let mut v = json!({
            "blurb": p.blurb().unwrap_or(""),
            "conditionally-available": false,
            "construct": flags.contains(glib::ParamFlags::CONSTRUCT),
            "construct-only": flags.contains(glib::ParamFlags::CONSTRUCT_ONLY),
            "controllable": flags.bits() & gst::PARAM_FLAG_CONTROLLABLE.bits() != 0,
            "default": text(p.default_value()),
            "mutable": mutable(flags),
            "readable": flags.contains(glib::ParamFlags::READABLE),
            "type": p.value_type().name(),
            "writable": flags.contains(glib::ParamFlags::WRITABLE),
        });
        if let Some((min, max)) = range(&p) {
            v["min"] = min.into();
            v["max"] = max.into();
        }
        if p.value_type().is_a(glib::Type::ENUM) {
            other.insert(
                p.value_type().name().to_string(),
                json!({ "kind": "enum", "values": enum_values(p.value_type()) }),
            );
        }
        props.insert(p.name().to_string(), v);
    }
    let meta = |k: &str| factory.metadata(k).unwrap_or("").to_string();
    json!({
        "author": meta(gst::ELEMENT_METADATA_AUTHOR),
        "description": meta(gst::ELEMENT_METADATA_DESCRIPTION),
        "hierarchy": hierarchy,
        "klass": meta(gst::ELEMENT_METADATA_KLASS),
        "pad-templates": pads,
        "properties": props,
        "rank": "none",
        "signals": {},
    })
}

fn cache() -> String {
    gst::init().unwrap();
    gstavmonitor::plugin_register_static().unwrap();
    let registry = gst::Registry::get();
    let plugin = registry
        .find_plugin("avmonitor")
        .expect("plugin registered");
    let mut factories: Vec<gst::ElementFactory> = registry
        .features_by_plugin("avmonitor")
        .into_iter()
        .filter_map(|f| f.downcast::<gst::ElementFactory>().ok())
        .collect();
    factories.sort_by_key(|f| f.name().to_string());
    let mut elements = Map::new();
    let mut other = Map::new();
    for f in &factories {
        elements.insert(f.name().to_string(), element(f, &mut other));
    }
    let doc = json!({
        "avmonitor": {
            "description": plugin.description().as_str(),
            "elements": elements,
            "filename": "gstavmonitor",
            "license": plugin.license().as_str(),
            "other-types": other,
            "package": plugin.package().as_str(),
            "source": plugin.source().as_str(),
            "tracers": {},
            "url": plugin.origin().as_str(),
        }
    });
    // keys sorted (serde_json's map is ordered by key), two-space indent
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

#[test]
fn the_plugin_docs_cache_is_current() {
    let made = cache();
    let doc: Value = serde_json::from_str(&made).unwrap();
    let elements = doc["avmonitor"]["elements"].as_object().unwrap();
    assert_eq!(elements.len(), 15, "{:?}", elements.keys());
    // every property says what it is
    for (name, e) in elements {
        for (prop, p) in e["properties"].as_object().unwrap() {
            let blurb = p["blurb"].as_str().unwrap();
            // briefly: the long explanations are in the docs
            assert!(
                (10..=200).contains(&blurb.len()),
                "{name}.{prop}: blurb of {} characters: {blurb:?}",
                blurb.len()
            );
        }
    }
    assert!(doc["avmonitor"]["other-types"]["GstLevelsPreset"]["values"].is_array());
    if std::env::var_os("AVMONITOR_WRITE_PLUGIN_DOCS").is_some() {
        std::fs::create_dir_all(cache_path().parent().unwrap()).unwrap();
        std::fs::write(cache_path(), &made).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(cache_path()).unwrap_or_default();
    assert!(
        checked_in == made,
        "{} is stale: run scripts/plugin-docs.sh and commit it",
        cache_path().display()
    );
}
