#!/usr/bin/env python3
"""The avmonitor elements' messages read from Python (PyGObject), by name.

A pipeline of detectors over a file or URI, or, with no argument, over test
sources (three seconds of black picture, of silence, and of a tone
the loudness meter measures); every message an
avmonitor element posts is printed as one row of a table: its running time,
the element, the event (start, end, measurement) and its other fields.

    python3 examples/python/avmonitor_events.py                 # generated
    python3 examples/python/avmonitor_events.py /path/to/file.mp4

Needs Debian's python3-gi and python3-gst-1.0 (GStreamer's Python
overrides: without them PyGObject cannot read the per-channel array fields,
such as loudnessmeter's true-peak-db, and this script says so), and the
plugin where GStreamer finds it (installed, or GST_PLUGIN_PATH pointed at
the build folder). Exits 0 at the end of the media, 1 on an error.
"""

import os
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

# the elements of the plugin; each posts element messages named after itself
ELEMENTS = {
    "blackdetect", "freezedetect", "blockdetect", "areadetect", "cadencedetect",
    "levelsdetect", "patterndetect", "silencedetect", "clipdetect",
    "loudnessmeter", "phasedetect", "avsyncdetect", "slicecheck",
}
# fields every message carries, shown in their own columns or not at all
COMMON = {"event", "timestamp", "stream-time", "running-time"}

GENERATED = (
    "videotestsrc pattern=black num-buffers=75 "
    "! video/x-raw,width=320,height=240,framerate=25/1 "
    "! blackdetect min-duration=1000000000 ! fakesink "
    "audiotestsrc wave=silence samplesperbuffer=4800 num-buffers=30 "
    "! audio/x-raw,rate=48000,channels=2 "
    "! silencedetect min-duration=1000000000 ! fakesink "
    "audiotestsrc wave=sine freq=1000 volume=0.5 samplesperbuffer=4800 num-buffers=30 "
    "! audio/x-raw,rate=48000,channels=2 ! loudnessmeter ! fakesink"
)


def description(arg):
    if arg is None:
        return GENERATED
    uri = arg if "://" in arg else Gst.filename_to_uri(os.path.abspath(arg))
    return (
        f'uridecodebin name=d uri="{uri}" '
        "d. ! video/x-raw ! queue ! videoconvert ! blackdetect ! freezedetect "
        "! levelsdetect post-messages=false ! fakesink "
        "d. ! audio/x-raw ! queue ! audioconvert ! silencedetect ! clipdetect "
        "! loudnessmeter ! fakesink"
    )


def show(value):
    """A field's value as text: numbers rounded, arrays as lists."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, Gst.ValueArray) or isinstance(value, Gst.ValueList):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def fields(s):
    """The message's own fields, in order, as name=value."""
    out = []
    for i in range(s.n_fields()):
        name = s.nth_field_name(i)
        if name in COMMON:
            continue
        try:
            value = s.get_value(name)
        except TypeError:
            sys.exit(
                f"cannot read {s.get_name()}'s field {name}: install "
                "python3-gst-1.0 (GStreamer's Python overrides)"
            )
        out.append(f"{name}={show(value)}")
    return " ".join(out)


def main():
    Gst.init(None)
    if Gst.ElementFactory.find("blackdetect") is None:
        sys.exit("the avmonitor plugin is not found: install it, or set "
                 "GST_PLUGIN_PATH to the folder of libgstavmonitor.so")
    if not hasattr(Gst, "ValueArray"):
        sys.exit("GStreamer's Python overrides are missing: install python3-gst-1.0")
    arg = sys.argv[1] if len(sys.argv) > 1 else None
    pipeline = Gst.parse_launch(description(arg))
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    print(f"{'time s':>9}  {'element':<14} {'event':<12} fields")
    code = 0
    try:
        while True:
            msg = bus.timed_pop_filtered(
                Gst.CLOCK_TIME_NONE,
                Gst.MessageType.ELEMENT | Gst.MessageType.ERROR | Gst.MessageType.EOS,
            )
            if msg.type == Gst.MessageType.EOS:
                break
            if msg.type == Gst.MessageType.ERROR:
                err, debug = msg.parse_error()
                print(f"error from {msg.src.get_name()}: {err.message}", file=sys.stderr)
                code = 1
                break
            s = msg.get_structure()
            if s is None or s.get_name() not in ELEMENTS:
                continue
            ok, running = s.get_uint64("running-time")
            when = f"{running / Gst.SECOND:9.3f}" if ok else f"{'-':>9}"
            event = s.get_string("event") or "-"
            print(f"{when}  {s.get_name():<14} {event:<12} {fields(s)}", flush=True)
    finally:
        pipeline.set_state(Gst.State.NULL)
    return code


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
    except GLib.Error as e:
        sys.exit(f"cannot build the pipeline: {e.message}")
