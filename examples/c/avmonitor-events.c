/* The avmonitor elements' messages read from C, by name.
 *
 * A pipeline of detectors over a file or URI, or, with no argument, over
 * test sources (three seconds of black picture, of silence, and of a tone the
 * loudness meter measures); every message an avmonitor element posts is
 * printed as one row of a table: its running time, the element, the event
 * (start, end, measurement) and its other fields.
 *
 *   cc -o avmonitor-events examples/c/avmonitor-events.c \
 *      $(pkg-config --cflags --libs gstreamer-1.0)
 *   ./avmonitor-events                      # generated
 *   ./avmonitor-events /path/to/file.mp4
 *
 * The plugin must be where GStreamer finds it (installed, or GST_PLUGIN_PATH
 * pointed at the build folder). Exits 0 at the end of the media, 1 on an
 * error. */
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>

/* the elements of the plugin; each posts element messages named after itself */
static const char *const ELEMENTS[] = {
  "blackdetect", "freezedetect", "blockdetect", "areadetect", "cadencedetect",
  "levelsdetect", "patterndetect", "silencedetect", "clipdetect",
  "loudnessmeter", "phasedetect", "avsyncdetect", "slicecheck", NULL
};

static const char GENERATED[] =
    "videotestsrc pattern=black num-buffers=75 "
    "! video/x-raw,width=320,height=240,framerate=25/1 "
    "! blackdetect min-duration=1000000000 ! fakesink "
    "audiotestsrc wave=silence samplesperbuffer=4800 num-buffers=30 "
    "! audio/x-raw,rate=48000,channels=2 "
    "! silencedetect min-duration=1000000000 ! fakesink "
    "audiotestsrc wave=sine freq=1000 volume=0.5 samplesperbuffer=4800 "
    "num-buffers=30 ! audio/x-raw,rate=48000,channels=2 ! loudnessmeter "
    "! fakesink";

static gboolean
is_ours (const gchar * name)
{
  for (const char *const *e = ELEMENTS; *e; e++)
    if (strcmp (*e, name) == 0)
      return TRUE;
  return FALSE;
}

/* a field's value as text: doubles rounded, arrays as lists */
static void
show (GString * out, const GValue * v)
{
  if (G_VALUE_HOLDS_DOUBLE (v)) {
    g_string_append_printf (out, "%.3f", g_value_get_double (v));
  } else if (GST_VALUE_HOLDS_ARRAY (v)) {
    g_string_append_c (out, '[');
    for (guint i = 0; i < gst_value_array_get_size (v); i++) {
      if (i > 0)
        g_string_append (out, ", ");
      show (out, gst_value_array_get_value (v, i));
    }
    g_string_append_c (out, ']');
  } else if (G_VALUE_HOLDS_STRING (v)) {
    g_string_append (out, g_value_get_string (v));
  } else {
    gchar *s = gst_value_serialize (v);
    g_string_append (out, s ? s : "?");
    g_free (s);
  }
}

static gboolean
field (GQuark id, const GValue * v, gpointer data)
{
  const gchar *name = g_quark_to_string (id);
  /* shown in their own columns, or not at all */
  if (!strcmp (name, "event") || !strcmp (name, "timestamp")
      || !strcmp (name, "stream-time") || !strcmp (name, "running-time"))
    return TRUE;
  GString *out = data;
  g_string_append_printf (out, " %s=", name);
  show (out, v);
  return TRUE;
}

static gchar *
description (const char *arg)
{
  if (arg == NULL)
    return g_strdup (GENERATED);
  gchar *uri = NULL;
  if (strstr (arg, "://")) {
    uri = g_strdup (arg);
  } else {
    GError *err = NULL;
    gchar *path = g_canonicalize_filename (arg, NULL);
    uri = gst_filename_to_uri (path, &err);
    g_free (path);
    if (uri == NULL) {
      fprintf (stderr, "%s: %s\n", arg, err->message);
      g_error_free (err);
      return NULL;
    }
  }
  gchar *d = g_strdup_printf ("uridecodebin name=d uri=\"%s\" "
      "d. ! video/x-raw ! queue ! videoconvert ! blackdetect ! freezedetect "
      "! levelsdetect post-messages=false ! fakesink "
      "d. ! audio/x-raw ! queue ! audioconvert ! silencedetect ! clipdetect "
      "! loudnessmeter ! fakesink", uri);
  g_free (uri);
  return d;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (!gst_element_factory_find ("blackdetect")) {
    fprintf (stderr, "the avmonitor plugin is not found: install it, or set "
        "GST_PLUGIN_PATH to the folder of libgstavmonitor.so\n");
    return 1;
  }
  gchar *d = description (argc > 1 ? argv[1] : NULL);
  if (d == NULL)
    return 1;
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (d, &err);
  g_free (d);
  if (pipeline == NULL || err != NULL) {
    fprintf (stderr, "cannot build the pipeline: %s\n",
        err ? err->message : "?");
    return 1;
  }
  GstBus *bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  printf ("%9s  %-14s %-12s fields\n", "time s", "element", "event");
  int code = 0;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      gst_message_unref (msg);
      break;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error (msg, &e, NULL);
      fprintf (stderr, "error from %s: %s\n", GST_OBJECT_NAME (msg->src),
          e->message);
      g_error_free (e);
      gst_message_unref (msg);
      code = 1;
      break;
    }
    const GstStructure *s = gst_message_get_structure (msg);
    if (s != NULL && is_ours (gst_structure_get_name (s))) {
      guint64 running;
      gchar when[32];
      if (gst_structure_get_uint64 (s, "running-time", &running))
        g_snprintf (when, sizeof when, "%9.3f", (double) running / GST_SECOND);
      else
        g_snprintf (when, sizeof when, "%9s", "-");
      const gchar *event = gst_structure_get_string (s, "event");
      GString *rest = g_string_new (NULL);
      gst_structure_foreach (s, field, rest);
      printf ("%s  %-14s %-12s%s\n", when, gst_structure_get_name (s),
          event ? event : "-", rest->str);
      fflush (stdout);
      g_string_free (rest, TRUE);
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return code;
}
