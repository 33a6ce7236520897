//! Streams changed while the service runs: added, removed, their detector
//! properties set on the running pipeline, and the configuration file
//! reloaded (SIGHUP). The control API's requests are answered here, on the
//! main loop.
//!
//! A reload applies the file's streams: those it no longer has are
//! removed, new ones added; one whose source or detectors changed gets a
//! new pipeline, one whose detector properties alone changed has them set
//! on its running pipeline (a property the file no longer sets goes back to
//! its default), and one that did not change is not touched. Streams added
//! through the control API are the API's: a reload leaves them, unless the
//! file now has a stream with the same id (the file's then replaces it).
//! Alarm rules and restart settings take effect at once; `http`, `output`
//! and `webhook` need a restart (a reload that changes them says so).

use std::collections::HashSet;

use serde_json::{json, Value};

use super::cluster::{self, Command};
use super::config::{self, Config};
use super::control::{Properties, Reply, Request};
use super::metrics::Metrics;
use super::record::{EndCause, Source, StreamEvent};
use super::supervisor::Supervised;
use super::{book::Book, Runtime, Stream};

impl Runtime {
    /// Answers a control request on `reply` (at once, or from the cluster
    /// thread once the shared streams have changed).
    pub(super) fn answer(&mut self, request: Request, reply: std::sync::mpsc::Sender<Reply>) {
        let Some(cluster) = &self.cluster else {
            let _ = reply.send(self.call(request));
            return;
        };
        // in a cluster, writes go to the shared streams (checked here as
        // far as they can be without them)
        match request {
            Request::Add(conf) => match conf
                .check("stream", &mut HashSet::new())
                .and_then(|()| self.config.sources.check_uri("stream", &conf.uri))
            {
                Ok(()) => cluster.command(Command::Write(Request::Add(conf), reply)),
                Err(e) => {
                    let _ = reply.send(Reply::error(400, e.0));
                }
            },
            r @ (Request::Remove(_) | Request::Patch(..)) => {
                cluster.command(Command::Write(r, reply));
            }
            r @ (Request::List | Request::Get(_)) => {
                let _ = reply.send(self.call(r));
            }
        }
    }

    /// Answers a control request on this instance's own streams.
    fn call(&mut self, request: Request) -> Reply {
        match request {
            Request::List => Reply::ok(Value::Array(
                self.order
                    .iter()
                    .filter_map(|id| self.describe(id))
                    .collect(),
            )),
            Request::Get(id) => self.describe(&id).map_or_else(|| no_stream(&id), Reply::ok),
            Request::Add(conf) => {
                if self.streams.contains_key(&conf.id) {
                    return Reply::error(409, format!("id: stream \"{}\" exists", conf.id));
                }
                if let Err(e) = conf
                    .check("stream", &mut HashSet::new())
                    .and_then(|()| self.config.sources.check_uri("stream", &conf.uri))
                {
                    return Reply::error(400, e.0);
                }
                let id = conf.id.clone();
                self.add(*conf, Source::Api);
                let mut reply = Reply::ok(self.describe(&id).unwrap_or_default());
                reply.status = 201;
                reply
            }
            Request::Remove(id) => {
                let Some(gone) = self.describe(&id) else {
                    return no_stream(&id);
                };
                self.remove(&id, Source::Api);
                Reply::ok(gone)
            }
            Request::Patch(id, properties) => {
                let Some(s) = self.streams.get(&id) else {
                    return no_stream(&id);
                };
                let at = format!("properties of stream \"{id}\"");
                if let Err(e) = s.life.conf.check_properties(&at, &properties) {
                    return Reply::error(400, e.0);
                }
                let mut wanted = s.life.conf.properties.clone();
                cluster::merge(&mut wanted, properties);
                self.set_properties(&id, wanted, Source::Api);
                Reply::ok(self.describe(&id).unwrap_or_default())
            }
        }
    }

    /// What the control API says of stream `id`.
    fn describe(&self, id: &str) -> Option<Value> {
        let s = self.streams.get(id)?;
        let conf = &s.life.conf;
        let label = Metrics::stream(id);
        let open: Vec<Value> = s
            .book
            .open()
            .map(|o| {
                let mut v = json!({ "detector": o.detector, "since-utc": o.started });
                if let (Some(m), Ok(Value::Object(which))) =
                    (v.as_object_mut(), serde_json::to_value(&o.which))
                {
                    m.extend(which);
                }
                v
            })
            .collect();
        Some(json!({
            "id": id,
            "uri": conf.uri,
            "detectors": conf.detectors(),
            "properties": conf.properties,
            "source": match s.origin {
                Source::Reload => "file",
                Source::Api => "api",
                Source::Cluster => "cluster",
            },
            "state": s.life.phase.as_str(),
            "open": open,
            "restarts": self.metrics.restarts.get_or_create(&label).get(),
            "frames": self.metrics.frames.get_or_create(&label).get(),
            "samples": self.metrics.samples.get_or_create(&label).get(),
            "started-utc": s.life.started_utc,
        }))
    }

    /// Takes stream `conf` (checked) on, not started yet; `origin` added it.
    pub(super) fn insert(&mut self, conf: config::Stream, origin: Source) {
        let id = conf.id.clone();
        self.metrics.add_stream(&id);
        let life = Supervised::new(conf, self.config.restart.initial_ms);
        let stream = Stream {
            life,
            book: Book::default(),
            transport: Default::default(),
            origin,
            loops: 0,
        };
        self.streams.insert(id.clone(), stream);
        self.order.push(id);
        super::stream::plan_decoder_threads(self.streams.len(), self.config.decode.threads);
    }

    /// Adds stream `conf` (checked) while running, and starts it.
    fn add(&mut self, conf: config::Stream, source: Source) {
        let id = conf.id.clone();
        self.insert(conf, source);
        self.service_event(&id, StreamEvent::Added { source });
        self.start(&id);
    }

    /// Stops and forgets stream `id`; its open defects end.
    fn remove(&mut self, id: &str, source: Source) {
        self.close_all(id, EndCause::Removed);
        let Some(mut s) = self.streams.remove(id) else {
            return;
        };
        s.life.stop();
        self.order.retain(|o| o != id);
        self.metrics.remove_stream(id);
        self.service_event(id, StreamEvent::Removed { source });
    }

    /// Gives stream `id` the detector properties `wanted`, on its running
    /// pipeline: those changed or new are set, those no longer wanted go
    /// back to their defaults.
    fn set_properties(&mut self, id: &str, wanted: Properties, source: Source) {
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        let old = std::mem::take(&mut s.life.conf.properties);
        for (det, props) in &wanted {
            for (name, value) in props {
                if old.get(det).and_then(|p| p.get(name)) != Some(value) {
                    s.life
                        .set_property(det, name, Some(&config::value_string(value)));
                }
            }
        }
        for (det, props) in &old {
            for name in props.keys() {
                if wanted.get(det).is_none_or(|p| !p.contains_key(name)) {
                    s.life.set_property(det, name, None);
                }
            }
        }
        s.life.conf.properties = wanted;
        self.service_event(
            id,
            StreamEvent::Changed {
                source,
                restarted: false,
            },
        );
    }

    /// Stream `id` with a new source or detectors: a new pipeline.
    fn replace(&mut self, conf: config::Stream, source: Source) {
        let id = conf.id.clone();
        self.close_all(&id, EndCause::Reconfigured);
        let initial = self.config.restart.initial_ms;
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        s.life.stop();
        s.life = Supervised::new(conf, initial);
        s.book = Book::default();
        s.origin = source;
        self.metrics.stream_up(&id, false);
        self.service_event(
            &id,
            StreamEvent::Changed {
                source,
                restarted: true,
            },
        );
        self.start(&id);
    }

    /// SIGHUP: the configuration file read again and applied (see the
    /// module documentation); a bad one changes nothing and says why.
    pub(super) fn reload(&mut self) {
        let Some(load) = &self.load else {
            eprintln!("avmonitor: SIGHUP: no configuration file to reload");
            return;
        };
        let new = match load() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("avmonitor: reload refused, nothing changed: {e}");
                self.count_reload("failed");
                return;
            }
        };
        for (what, changed) in [
            ("http", new.http != self.config.http),
            ("output", new.output != self.config.output),
            ("webhook", new.webhook != self.config.webhook),
        ] {
            if changed {
                eprintln!("avmonitor: reload: [{what}] changed: it takes effect at the next start");
            }
        }
        if let Some(cluster) = &self.cluster {
            // the shared streams follow the file; this instance runs its
            // share of them as the cluster assigns it
            let dropped = self
                .config
                .streams
                .iter()
                .filter(|o| !new.streams.iter().any(|s| s.id == o.id))
                .map(|o| o.id.clone())
                .collect();
            cluster.command(Command::Reseed {
                streams: new.streams.clone(),
                dropped,
            });
        } else {
            self.converge(&new.streams, Source::Reload);
        }
        self.config.alarms = new.alarms;
        self.config.restart = new.restart;
        self.config.streams = new.streams;
        self.count_reload("ok");
        eprintln!("avmonitor: configuration reloaded");
    }

    /// Makes the streams that `source` gave this instance those of
    /// `wanted` (see the module documentation): the others it gave are
    /// removed, new ones added, changed ones changed, the same left alone.
    pub(super) fn converge(&mut self, wanted: &[config::Stream], source: Source) {
        let ids: HashSet<&str> = wanted.iter().map(|s| s.id.as_str()).collect();
        let gone: Vec<String> = self
            .order
            .iter()
            .filter(|id| self.streams[id.as_str()].origin == source && !ids.contains(id.as_str()))
            .cloned()
            .collect();
        for id in gone {
            self.remove(&id, source);
        }
        for conf in wanted {
            let Some(s) = self.streams.get_mut(&conf.id) else {
                self.add(conf.clone(), source);
                continue;
            };
            s.origin = source;
            let cur = &s.life.conf;
            if cur == conf {
                continue;
            }
            let same_pipeline = config::Stream {
                properties: conf.properties.clone(),
                ..cur.clone()
            } == *conf;
            if same_pipeline {
                self.set_properties(&conf.id, conf.properties.clone(), source);
            } else {
                self.replace(conf.clone(), source);
            }
        }
    }

    fn count_reload(&self, result: &str) {
        self.metrics
            .reloads
            .get_or_create(&super::metrics::ResultLabel {
                result: result.into(),
            })
            .inc();
    }
}

fn no_stream(id: &str) -> Reply {
    Reply::error(404, format!("no stream \"{id}\""))
}

/// A configuration as the service loads it again on SIGHUP.
pub type Load = Box<dyn Fn() -> Result<Config, String>>;
