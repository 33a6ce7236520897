//! Bus message structures as JSON, for event logs (the `avmonitor` service
//! and the `monitor` example): numbers, strings, booleans and arrays of
//! numbers as themselves; -inf and NaN as null; other values as their string
//! form. Field order is kept.

/// `v` as a JSON string literal.
pub fn string(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number as JSON: null when not finite.
pub fn number(v: f64) -> String {
    if v.is_finite() {
        v.to_string()
    } else {
        "null".into()
    }
}

/// One field's value as JSON.
pub fn value(value: &gst::glib::SendValue) -> String {
    if let Ok(v) = value.get::<u64>() {
        v.to_string()
    } else if let Ok(v) = value.get::<i64>() {
        v.to_string()
    } else if let Ok(v) = value.get::<i32>() {
        v.to_string()
    } else if let Ok(v) = value.get::<u32>() {
        v.to_string()
    } else if let Ok(a) = value.get::<gst::Array>() {
        let items: Vec<String> = a.iter().map(self::value).collect();
        format!("[{}]", items.join(","))
    } else if let Ok(v) = value.get::<f64>() {
        number(v)
    } else if let Ok(v) = value.get::<bool>() {
        v.to_string()
    } else if let Ok(v) = value.get::<&str>() {
        string(v)
    } else {
        string(&format!("{value:?}"))
    }
}

/// The fields of `s` as (name, JSON value) pairs.
pub fn fields(s: &gst::StructureRef) -> Vec<(String, String)> {
    s.iter()
        .map(|(name, v)| (name.to_string(), value(v)))
        .collect()
}

/// A JSON object of (name, JSON value) pairs, in order.
pub fn object<K: AsRef<str>>(fields: &[(K, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", string(k.as_ref())))
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_as_json() {
        gst::init().unwrap();
        let s = gst::Structure::builder("x")
            .field("event", "start")
            .field("timestamp", 5u64)
            .field("level", f64::NEG_INFINITY)
            .field("peaks", gst::Array::new([1.5f64, f64::NAN]))
            .field("counts", gst::Array::new([3u64, 0]))
            .field("ok", true)
            .field("name", "a\"b")
            .build();
        assert_eq!(
            object(&fields(&s)),
            r#"{"event":"start","timestamp":5,"level":null,"peaks":[1.5,null],"counts":[3,0],"ok":true,"name":"a\"b"}"#
        );
    }
}
