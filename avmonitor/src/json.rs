//! JSON lines with serde_json: bus message structures as objects in their
//! field order (numbers, strings, booleans and arrays as themselves, other
//! values as their string form), and numbers written as Rust prints them
//! (`1`, not `1.0`), with -inf and NaN as null.

use std::io;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// serde_json's compact output, with floats printed as Rust prints them, so
/// a level of exactly 1 reads `1` as it always did.
struct Compact;

impl serde_json::ser::Formatter for Compact {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        write!(w, "{v}")
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f32) -> io::Result<()> {
        write!(w, "{v}")
    }
}

/// `value` as one line of JSON.
pub fn line<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Compact);
    // writing to memory fails only for a value that cannot be serialized,
    // and every value here can (maps have string keys)
    if value.serialize(&mut ser).is_err() {
        return "{}".into();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A structure's fields as a JSON object, each name passed through
/// `rename`.
pub struct Fields<'a> {
    pub structure: &'a gst::StructureRef,
    pub rename: fn(&str) -> &str,
}

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(Some(self.structure.n_fields()))?;
        for (name, v) in self.structure.iter() {
            map.serialize_entry((self.rename)(name.as_str()), &Value(v))?;
        }
        map.end()
    }
}

/// One field's value.
struct Value<'a>(&'a gst::glib::SendValue);

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if let Ok(v) = v.get::<u64>() {
            ser.serialize_u64(v)
        } else if let Ok(v) = v.get::<i64>() {
            ser.serialize_i64(v)
        } else if let Ok(v) = v.get::<i32>() {
            ser.serialize_i32(v)
        } else if let Ok(v) = v.get::<u32>() {
            ser.serialize_u32(v)
        } else if let Ok(a) = v.get::<gst::Array>() {
            let mut seq = ser.serialize_seq(Some(a.len()))?;
            for item in a.iter() {
                seq.serialize_element(&Value(item))?;
            }
            seq.end()
        } else if let Ok(v) = v.get::<f64>() {
            ser.serialize_f64(v)
        } else if let Ok(v) = v.get::<bool>() {
            ser.serialize_bool(v)
        } else if let Ok(v) = v.get::<&str>() {
            ser.serialize_str(v)
        } else {
            ser.serialize_str(&format!("{v:?}"))
        }
    }
}

/// Names kept as they are.
pub fn same(name: &str) -> &str {
    name
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
            line(&Fields {
                structure: &s,
                rename: same
            }),
            r#"{"event":"start","timestamp":5,"level":null,"peaks":[1.5,null],"counts":[3,0],"ok":true,"name":"a\"b"}"#
        );
    }

    #[test]
    fn floats_as_rust_prints_them() {
        assert_eq!(line(&[1.0f64, 0.98, -23.0, 1e-7]), "[1,0.98,-23,0.0000001]");
    }
}
