//! Cluster mode: many instances share the streams over NATS.
//!
//! Three JetStream key-value buckets hold the shared state:
//! - `avmonitor-streams`: the desired streams, by id, each a `[[stream]]`
//!   table as JSON; seeded from the configuration files (a stream already
//!   there is left as it is) and changed through any instance's control API;
//! - `avmonitor-members`: every live instance, put again every heartbeat;
//!   one not heard from for `ttl-ms` is gone (a clean stop deletes its key);
//! - `avmonitor-claims`: `GROUP.STREAM` = the instance running that stream
//!   for that group, created or renewed only with a revision check, so two
//!   instances never both hold one.
//!
//! Each instance runs the streams that rendezvous hashing of stream id and
//! live members of its group gives it, once it holds their claims: an
//! instance that joins or leaves moves only its share. A claim held by an
//! instance that is no longer a member is taken over (revision checked).
//! An instance that cannot renew its membership for `ttl-ms` less one
//! heartbeat stops its streams (the others take them over when its
//! membership lapses), unless `keep-streams-without-nats` is set; shorter
//! outages change nothing, and when NATS returns each claim is renewed or,
//! if another instance took it meanwhile, given up at once.
//!
//! Events are published to JetStream (`avmonitor.events.STREAM`, stream
//! `AVMONITOR_EVENTS`, each with a message id so a retry is not stored
//! twice, and the instance in header `Avmonitor-Instance`), measurements to plain NATS (`avmonitor.measurements.STREAM`).
//! While NATS is away events wait in a bounded queue; beyond it they are
//! dropped and counted.
//!
//! All of it runs in a thread of its own on a single-threaded tokio
//! runtime; it tells the main loop which streams to run and answers the
//! control API's writes.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc as tmpsc;

use super::config::{self, Cluster};
use super::control::{Properties, Reply, Request};
use super::metrics::Metrics;

const STREAMS: &str = "avmonitor-streams";
const MEMBERS: &str = "avmonitor-members";
const CLAIMS: &str = "avmonitor-claims";
const EVENTS: &str = "AVMONITOR_EVENTS";

/// The streams this instance is to run now, by id (detectors narrowed to
/// its group's).
pub(crate) type Assignment = BTreeMap<String, config::Stream>;

/// What the main loop asks of the cluster thread.
pub(crate) enum Command {
    /// A control API write (add, remove, patch), answered on `reply`.
    Write(Request, mpsc::Sender<Reply>),
    /// The configuration file was reloaded: its streams are put (changed
    /// or new), those it dropped deleted.
    Reseed {
        streams: Vec<config::Stream>,
        dropped: Vec<String>,
    },
}

/// An event or measurement line on its way to NATS.
struct Outgoing {
    subject: String,
    payload: Bytes,
    /// An event (JetStream, kept) rather than a measurement (plain NATS).
    event: bool,
}

/// Hands output lines to the cluster thread (for `Outputs`).
#[derive(Clone)]
pub(crate) struct Publisher {
    events: tmpsc::Sender<Outgoing>,
    metrics: Arc<Metrics>,
}

impl Publisher {
    /// Publishes one output line of stream `stream` (never waits: beyond
    /// the queue an event is dropped and counted).
    pub fn publish(&self, stream: &str, event: &str, line: &str) {
        let event = event != "measurement";
        let subject = format!(
            "avmonitor.{}.{stream}",
            if event { "events" } else { "measurements" }
        );
        let sent = self.events.try_send(Outgoing {
            subject,
            payload: Bytes::copy_from_slice(line.as_bytes()),
            event,
        });
        if sent.is_err() && event {
            self.metrics.cluster_events_dropped.inc();
        }
    }
}

/// The main loop's side of the cluster thread.
pub(crate) struct Handle {
    commands: tmpsc::UnboundedSender<Command>,
    events: tmpsc::Sender<Outgoing>,
    metrics: Arc<Metrics>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What an instance says of itself in the members bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Member {
    group: String,
    detectors: Option<Vec<String>>,
}

impl Handle {
    /// Starts the cluster thread: it connects (and keeps reconnecting) to
    /// `cluster.nats`, seeds the shared streams with `seed`, and sends each
    /// new assignment on `assign`.
    pub fn start(
        cluster: &Cluster,
        seed: Vec<config::Stream>,
        metrics: Arc<Metrics>,
        assign: futures_channel::mpsc::UnboundedSender<Assignment>,
    ) -> Result<Handle, String> {
        let (commands, commands_rx) = tmpsc::unbounded_channel();
        let (events, events_rx) = tmpsc::channel(cluster.queue);
        let node = Node {
            me: cluster.instance(),
            cluster: cluster.clone(),
            metrics: metrics.clone(),
            assign,
            members: HashMap::new(),
            desired: BTreeMap::new(),
            replay: None,
            members_replay: true,
            held: BTreeMap::new(),
            sent: None,
            last_beat_ok: None,
            connected: false,
            beats: 0,
        };
        metrics.set_instance(&node.me, &cluster.group);
        let thread = std::thread::Builder::new()
            .name("avmonitor-cluster".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("avmonitor: cluster: no runtime: {e}");
                        return;
                    }
                };
                rt.block_on(node.run(seed, commands_rx, events_rx));
            })
            .map_err(|e| format!("cluster thread: {e}"))?;
        Ok(Handle {
            commands,
            events,
            metrics,
            thread: Some(thread),
        })
    }

    pub fn publisher(&self) -> Publisher {
        Publisher {
            events: self.events.clone(),
            metrics: self.metrics.clone(),
        }
    }

    pub fn command(&self, command: Command) {
        if let Err(tmpsc::error::SendError(Command::Write(_, reply))) = self.commands.send(command)
        {
            let _ = reply.send(Reply::error(503, "the cluster thread has stopped"));
        }
    }

    /// Leaves the cluster: claims and membership given up (the others take
    /// the streams at once), queued events flushed for up to `wait`.
    pub fn leave(&mut self, wait: Duration) {
        let until = Instant::now() + wait;
        while self.events.capacity() < self.events.max_capacity() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        // closing the command channel ends the thread's loop
        let (tx, _) = tmpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.commands, tx));
        if let Some(t) = self.thread.take() {
            let until = Instant::now() + Duration::from_secs(3);
            while !t.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// The rendezvous (highest random weight) owner of stream `id` among
/// `members`: each member's weight is a hash of both names, the highest
/// wins, so a member joining or leaving moves only the streams it wins or
/// held.
pub fn owner<'a>(id: &str, members: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    members.into_iter().max_by_key(|m| (weight(m, id), *m))
}

/// XXH64 of `member`, a zero byte and `id` (fixed by its specification:
/// the same on every build and machine, unlike std's hasher).
fn weight(member: &str, id: &str) -> u64 {
    let mut h = twox_hash::XxHash64::with_seed(0);
    std::hash::Hasher::write(&mut h, member.as_bytes());
    std::hash::Hasher::write(&mut h, &[0]);
    std::hash::Hasher::write(&mut h, id.as_bytes());
    std::hash::Hasher::finish(&h)
}

/// A claim's key: `GROUP.STREAM`.
fn claim_key(group: &str, id: &str) -> String {
    format!("{group}.{id}")
}

/// The buckets, once made.
struct Buckets {
    streams: kv::Store,
    members: kv::Store,
    claims: kv::Store,
}

/// The cluster thread's state.
struct Node {
    me: String,
    cluster: Cluster,
    metrics: Arc<Metrics>,
    assign: futures_channel::mpsc::UnboundedSender<Assignment>,
    /// Members seen, with when they were last heard from.
    members: HashMap<String, (Member, Instant)>,
    /// The shared streams, by id, with their revisions.
    desired: BTreeMap<String, (u64, config::Stream)>,
    /// The members' watch is replaying what the bucket holds.
    members_replay: bool,
    /// The streams of a watch being replayed, until complete.
    replay: Option<BTreeMap<String, (u64, config::Stream)>>,
    /// Claims held: stream id to revision.
    held: BTreeMap<String, u64>,
    /// The assignment last sent to the main loop.
    sent: Option<Assignment>,
    /// Connected to NATS at the last heartbeat.
    connected: bool,
    /// Heartbeats since the buckets were opened: nothing is claimed in the
    /// first two, so that instances started together see each other first.
    beats: u32,
    /// When membership was last renewed.
    last_beat_ok: Option<Instant>,
}

async fn next_entry(w: &mut Option<kv::Watch>) -> Option<Result<kv::Entry, kv::WatcherError>> {
    match w {
        Some(w) => w.next().await,
        None => std::future::pending().await,
    }
}

impl Node {
    async fn run(
        mut self,
        seed: Vec<config::Stream>,
        mut commands: tmpsc::UnboundedReceiver<Command>,
        events: tmpsc::Receiver<Outgoing>,
    ) {
        let heartbeat = Duration::from_millis(self.cluster.heartbeat_ms);
        let reconnected = Arc::new(AtomicBool::new(false));
        let flag = reconnected.clone();
        let metrics = self.metrics.clone();
        let client = async_nats::ConnectOptions::new()
            .name(format!("avmonitor {}", self.me))
            .retry_on_initial_connect()
            .ping_interval(heartbeat.max(Duration::from_secs(2)))
            .request_timeout(Some(heartbeat.max(Duration::from_secs(2))))
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((attempts as u64 * 100).min(1000))
            })
            .event_callback(move |e| {
                let (flag, metrics) = (flag.clone(), metrics.clone());
                async move {
                    match e {
                        async_nats::Event::Connected => {
                            metrics.cluster_connected.set(1);
                            flag.store(true, Ordering::SeqCst);
                            eprintln!("avmonitor: cluster: connected to NATS");
                        }
                        async_nats::Event::Disconnected => {
                            metrics.cluster_connected.set(0);
                            eprintln!("avmonitor: cluster: NATS connection lost")
                        }
                        _ => (),
                    }
                }
            })
            .connect(&self.cluster.nats)
            .await;
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                eprintln!("avmonitor: cluster: {}: {e}", self.cluster.nats);
                return;
            }
        };
        let js = jetstream::new(client.clone());
        let publisher = tokio::spawn(publish(
            js.clone(),
            client.clone(),
            events,
            self.metrics.clone(),
            self.me.clone(),
        ));
        let mut buckets: Option<Buckets> = None;
        let mut seed = Some(seed);
        let mut members_watch: Option<kv::Watch> = None;
        let mut streams_watch: Option<kv::Watch> = None;
        let mut beat = tokio::time::interval(heartbeat);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = beat.tick() => {
                    let connected =
                        client.connection_state() == async_nats::connection::State::Connected;
                    self.metrics.cluster_connected.set(i64::from(connected));
                    self.connected = connected;
                    if connected && buckets.is_none() {
                        match make_buckets(&js, &self.cluster).await {
                            Ok(b) => buckets = Some(b),
                            Err(e) => eprintln!("avmonitor: cluster: buckets: {e}"),
                        }
                    }
                    let Some(b) = &buckets else {
                        self.converge(None).await;
                        continue;
                    };
                    if let Some(streams) = seed.take() {
                        seed_streams(&b.streams, &streams).await;
                    }
                    // after a reconnection the watches start again (a
                    // watch may not survive the server's restart)
                    if reconnected.swap(false, Ordering::SeqCst) {
                        members_watch = None;
                        streams_watch = None;
                    }
                    if connected && members_watch.is_none() {
                        // nothing is claimed until the members are known
                        self.members_replay = held(&js, MEMBERS).await != Some(0);
                        members_watch = b.members.watch_with_history(">").await.ok();
                    }
                    if connected && streams_watch.is_none() {
                        // replayed into a fresh list, which replaces the
                        // old one once complete
                        self.replay = if held(&js, STREAMS).await == Some(0) {
                            self.desired.clear();
                            None
                        } else {
                            Some(BTreeMap::new())
                        };
                        streams_watch = b.streams.watch_with_history(">").await.ok();
                    }
                    self.beat(b).await;
                    self.converge(Some(b)).await;
                }
                e = next_entry(&mut members_watch) => match e {
                    Some(Ok(e)) => self.member_seen(e),
                    _ => members_watch = None,
                },
                e = next_entry(&mut streams_watch) => match e {
                    Some(Ok(e)) => if self.stream_seen(e) {
                        if let Some(b) = &buckets {
                            self.converge(Some(b)).await;
                        }
                    },
                    _ => streams_watch = None,
                },
                c = commands.recv() => match c {
                    Some(c) => if let Some(b) = &buckets {
                        self.command(b, c).await;
                    } else if let Command::Write(_, reply) = c {
                        let _ = reply.send(Reply::error(503, "not connected to NATS yet"));
                    },
                    None => break,
                },
            }
        }
        // a clean leave: the others take the streams at once
        self.assign(Assignment::new());
        if let Some(b) = &buckets {
            for (id, rev) in std::mem::take(&mut self.held) {
                let key = claim_key(&self.cluster.group, &id);
                let _ = b.claims.delete_expect_revision(&key, Some(rev)).await;
            }
            let _ = b.members.delete(&self.me).await;
        }
        publisher.abort();
        let _ = client.flush().await;
    }

    /// A member's heartbeat (or its leaving).
    fn member_seen(&mut self, e: kv::Entry) {
        if e.delta == 0 || e.seen_current {
            self.members_replay = false;
        }
        match e.operation {
            kv::Operation::Put => match serde_json::from_slice::<Member>(&e.value) {
                Ok(m) => {
                    self.members.insert(e.key, (m, Instant::now()));
                }
                Err(err) => eprintln!("avmonitor: cluster: member {}: {err}", e.key),
            },
            kv::Operation::Delete | kv::Operation::Purge => {
                self.members.remove(&e.key);
            }
        }
    }

    /// A change to the shared streams; whether the list changed.
    fn stream_seen(&mut self, e: kv::Entry) -> bool {
        let caught_up = e.delta == 0 || e.seen_current;
        let list = self.replay.as_mut().unwrap_or(&mut self.desired);
        match e.operation {
            kv::Operation::Put => match serde_json::from_slice::<config::Stream>(&e.value) {
                Ok(s) if s.id == e.key => {
                    list.insert(e.key, (e.revision, s));
                }
                Ok(s) => eprintln!(
                    "avmonitor: cluster: stream {}: its id says \"{}\" (ignored)",
                    e.key, s.id
                ),
                Err(err) => eprintln!("avmonitor: cluster: stream {}: {err} (ignored)", e.key),
            },
            kv::Operation::Delete | kv::Operation::Purge => {
                list.remove(&e.key);
            }
        }
        if self.replay.is_some() {
            if !caught_up {
                return false;
            }
            if let Some(r) = self.replay.take() {
                self.desired = r;
            }
        }
        true
    }

    /// Renews this instance's membership.
    async fn beat(&mut self, b: &Buckets) {
        if !self.connected {
            return;
        }
        let me = Member {
            group: self.cluster.group.clone(),
            detectors: self.cluster.detectors.clone(),
        };
        let value = serde_json::to_vec(&me).unwrap_or_default();
        if b.members.put(&self.me, value.into()).await.is_ok() {
            self.last_beat_ok = Some(Instant::now());
            self.beats = self.beats.saturating_add(1);
        }
    }

    /// Whether this instance's lease holds: it renewed its membership less
    /// than `ttl-ms` less one heartbeat ago (or does not care).
    fn lease_holds(&self) -> bool {
        self.cluster.keep_streams_without_nats
            || self.last_beat_ok.is_some_and(|t| {
                t.elapsed() < Duration::from_millis(self.cluster.ttl_ms - self.cluster.heartbeat_ms)
            })
    }

    /// The live members of this instance's group (this one among them
    /// while its lease holds).
    fn live(&self) -> Vec<&str> {
        let ttl = Duration::from_millis(self.cluster.ttl_ms);
        let mut live: Vec<&str> = self
            .members
            .iter()
            .filter(|(name, (m, seen))| {
                m.group == self.cluster.group && seen.elapsed() < ttl && **name != self.me
            })
            .map(|(name, _)| name.as_str())
            .collect();
        if self.lease_holds() {
            live.push(&self.me);
        }
        live
    }

    /// Works out which streams this instance owns, claims or renews them,
    /// gives up the others, and tells the main loop what to run. Without
    /// the buckets (never connected) only the lease is checked.
    async fn converge(&mut self, b: Option<&Buckets>) {
        // members long gone are forgotten (pods come and go by name)
        let forget = Duration::from_millis(self.cluster.ttl_ms * 10);
        self.members.retain(|_, (_, seen)| seen.elapsed() < forget);
        self.metrics.cluster_members.set(self.live().len() as i64);
        if !self.lease_holds() {
            if self.sent.as_ref().is_some_and(|s| !s.is_empty()) {
                eprintln!(
                    "avmonitor: cluster: membership not renewed for {} ms: stopping this instance's streams (the others take them over)",
                    self.cluster.ttl_ms - self.cluster.heartbeat_ms
                );
            }
            self.assign(Assignment::new());
            return;
        }
        // (nothing to ask while NATS is away: the lease runs out, or NATS
        // returns and the claims are renewed)
        let Some(b) = b.filter(|_| self.connected) else {
            return;
        };
        if self.replay.is_some() || self.members_replay || self.beats < 2 {
            // the streams or the members are not known yet
            return;
        }
        let live: Vec<String> = self.live().into_iter().map(String::from).collect();
        let live_set: std::collections::HashSet<&str> = live.iter().map(String::as_str).collect();
        let only = self.cluster.detectors.as_deref();
        let mine: Assignment = self
            .desired
            .iter()
            .filter(|(id, _)| owner(id, live.iter().map(String::as_str)) == Some(self.me.as_str()))
            .filter_map(|(id, (_, s))| Some((id.clone(), s.narrowed(only)?)))
            .collect();
        let group = self.cluster.group.clone();
        // give up what is no longer ours
        let gone: Vec<(String, u64)> = self
            .held
            .iter()
            .filter(|(id, _)| !mine.contains_key(*id))
            .map(|(id, rev)| (id.clone(), *rev))
            .collect();
        for id in mine.keys() {
            let key = claim_key(&group, id);
            let me = Bytes::from(self.me.clone());
            if let Some(rev) = self.held.get(id) {
                match b.claims.update(&key, me, *rev).await {
                    Ok(r) => {
                        self.held.insert(id.clone(), r);
                    }
                    Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                        eprintln!("avmonitor: cluster: stream {id}: claimed by another instance meanwhile: given up");
                        self.held.remove(id);
                    }
                    // (NATS away: kept while the lease holds)
                    Err(_) => (),
                }
                continue;
            }
            let entry = match b.claims.entry(&key).await {
                Ok(e) => e.filter(|e| e.operation == kv::Operation::Put),
                Err(_) => continue,
            };
            let got = match entry {
                None => b.claims.create(&key, me).await.ok(),
                Some(e) => {
                    let holder = String::from_utf8_lossy(&e.value).to_string();
                    if holder == self.me || !live_set.contains(holder.as_str()) {
                        b.claims.update(&key, me, e.revision).await.ok()
                    } else {
                        // (a live holder gives it up when it sees the
                        // members this one sees)
                        None
                    }
                }
            };
            if let Some(rev) = got {
                self.held.insert(id.clone(), rev);
            }
        }
        let running: Assignment = mine
            .into_iter()
            .filter(|(id, _)| self.held.contains_key(id))
            .collect();
        // stop before the claim goes, so that no other starts it first
        self.assign(running);
        for (id, rev) in gone {
            self.held.remove(&id);
            let _ = b
                .claims
                .delete_expect_revision(claim_key(&group, &id), Some(rev))
                .await;
        }
    }

    /// Sends `running` to the main loop if it changed.
    fn assign(&mut self, running: Assignment) {
        if self.sent.as_ref() != Some(&running) {
            let _ = self.assign.unbounded_send(running.clone());
            self.sent = Some(running);
        }
    }

    /// A control API write, or a reloaded file's streams.
    async fn command(&mut self, b: &Buckets, c: Command) {
        match c {
            Command::Write(request, reply) => {
                let _ = reply.send(write(&b.streams, request).await);
            }
            Command::Reseed { streams, dropped } => {
                for s in &streams {
                    let value = serde_json::to_vec(s).unwrap_or_default();
                    let same = matches!(b.streams.get(&s.id).await, Ok(Some(v)) if v == value);
                    if !same {
                        if let Err(e) = b.streams.put(&s.id, value.into()).await {
                            eprintln!("avmonitor: cluster: reload: stream {}: {e}", s.id);
                        }
                    }
                }
                for id in dropped {
                    if let Err(e) = b.streams.delete(&id).await {
                        eprintln!("avmonitor: cluster: reload: stream {id}: {e}");
                    }
                }
            }
        }
    }
}

/// A control API write to the shared streams (the request checked as far
/// as it can be without them).
async fn write(streams: &kv::Store, request: Request) -> Reply {
    let unavailable = |e: &dyn std::fmt::Display| Reply::error(503, format!("NATS: {e}"));
    match request {
        Request::Add(s) => {
            let value = serde_json::to_vec(&*s).unwrap_or_default();
            match streams.create(&s.id, value.into()).await {
                Ok(_) => Reply {
                    status: 201,
                    body: stored(&s),
                },
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                    Reply::error(409, format!("id: stream \"{}\" exists", s.id))
                }
                Err(e) => unavailable(&e),
            }
        }
        Request::Remove(id) => match current(streams, &id).await {
            Ok(Some((rev, s))) => match streams.delete_expect_revision(&id, Some(rev)).await {
                Ok(()) => Reply::ok(stored(&s)),
                Err(e) => unavailable(&e),
            },
            Ok(None) => Reply::error(404, format!("no stream \"{id}\"")),
            Err(e) => unavailable(&e),
        },
        Request::Patch(id, properties) => match current(streams, &id).await {
            Ok(Some((rev, mut s))) => {
                let at = format!("properties of stream \"{id}\"");
                if let Err(e) = s.check_properties(&at, &properties) {
                    return Reply::error(400, e.0);
                }
                merge(&mut s.properties, properties);
                let value = serde_json::to_vec(&s).unwrap_or_default();
                match streams.update(&id, value.into(), rev).await {
                    Ok(_) => Reply::ok(stored(&s)),
                    Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                        Reply::error(409, format!("stream \"{id}\" changed meanwhile: try again"))
                    }
                    Err(e) => unavailable(&e),
                }
            }
            Ok(None) => Reply::error(404, format!("no stream \"{id}\"")),
            Err(e) => unavailable(&e),
        },
        Request::List | Request::Get(_) => Reply::error(500, "not a write"),
    }
}

/// Stream `id` as stored, with its revision.
async fn current(
    streams: &kv::Store,
    id: &str,
) -> Result<Option<(u64, config::Stream)>, kv::EntryError> {
    Ok(streams
        .entry(id)
        .await?
        .filter(|e| e.operation == kv::Operation::Put)
        .and_then(|e| Some((e.revision, serde_json::from_slice(&e.value).ok()?))))
}

/// Adds `more` detector properties to `to` (a value given again replaces
/// the old).
pub(crate) fn merge(to: &mut Properties, more: Properties) {
    for (det, props) in more {
        to.entry(det).or_default().extend(props);
    }
}

/// What a write reply says of stream `s`: the stream as stored.
fn stored(s: &config::Stream) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("cluster".into(), "stored".into());
    }
    v
}

/// The three buckets and the events stream, made if missing.
async fn make_buckets(js: &jetstream::Context, c: &Cluster) -> Result<Buckets, String> {
    let ttl = Duration::from_millis(c.ttl_ms);
    // the bucket's stream made as `create_key_value` would make it: that
    // asks for account fields nats-server 2.9 does not send
    let open = |name: &'static str, max_age: Duration, description: &str| {
        let config = jetstream::stream::Config {
            name: format!("KV_{name}"),
            description: Some(description.into()),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: 1,
            max_age,
            // (at most the age, which it must not exceed)
            duplicate_window: if max_age.is_zero() {
                Duration::from_secs(120)
            } else {
                max_age.min(Duration::from_secs(120))
            },
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            num_replicas: 1,
            discard: jetstream::stream::DiscardPolicy::New,
            ..Default::default()
        };
        async move {
            js.get_or_create_stream(config)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
            js.get_key_value(name)
                .await
                .map_err(|e| format!("{name}: {e}"))
        }
    };
    let streams = open(STREAMS, Duration::ZERO, "avmonitor: the streams to run").await?;
    let members = open(MEMBERS, ttl, "avmonitor: live instances").await?;
    let claims = open(CLAIMS, ttl, "avmonitor: which instance runs which stream").await?;
    js.get_or_create_stream(jetstream::stream::Config {
        name: EVENTS.into(),
        description: Some("avmonitor: every instance's events".into()),
        subjects: vec!["avmonitor.events.>".into()],
        max_age: Duration::from_secs(7 * 24 * 3600),
        max_bytes: 1 << 30,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .map_err(|e| format!("{EVENTS}: {e}"))?;
    Ok(Buckets {
        streams,
        members,
        claims,
    })
}

/// How many messages bucket `name` holds now (`Store::status` only
/// repeats what it was when opened).
async fn held(js: &jetstream::Context, name: &str) -> Option<u64> {
    let mut stream = js.get_stream(format!("KV_{name}")).await.ok()?;
    Some(stream.info().await.ok()?.state.messages)
}

/// Puts the configuration file's streams that are not there yet.
async fn seed_streams(kv: &kv::Store, streams: &[config::Stream]) {
    for s in streams {
        let value = serde_json::to_vec(s).unwrap_or_default();
        match kv.create(&s.id, value.into()).await {
            Ok(_) => (),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => (),
            Err(e) => eprintln!("avmonitor: cluster: seeding stream {}: {e}", s.id),
        }
    }
}

/// Publishes the queued lines, in order; an event is retried until
/// JetStream takes it (its message id keeps a retry from being stored
/// twice).
async fn publish(
    js: jetstream::Context,
    client: async_nats::Client,
    mut lines: tmpsc::Receiver<Outgoing>,
    metrics: Arc<Metrics>,
    instance: String,
) {
    // message ids unique across restarts of an instance of the same name
    let prefix = format!("{instance}-{}", super::stream::now_ms());
    let mut n = 0u64;
    while let Some(o) = lines.recv().await {
        if !o.event {
            let _ = client.publish(o.subject, o.payload).await;
            continue;
        }
        n += 1;
        let id = format!("{prefix}-{n}");
        loop {
            let publish = jetstream::context::Publish::build()
                .message_id(&id)
                .header("Avmonitor-Instance", instance.as_str())
                .payload(o.payload.clone());
            if let Ok(ack) = js.send_publish(o.subject.clone(), publish).await {
                if ack.await.is_ok() {
                    metrics.cluster_events_published.inc();
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(ids: &[String], members: &[&str]) -> BTreeMap<String, String> {
        ids.iter()
            .map(|id| {
                let o = owner(id, members.iter().copied()).unwrap();
                (id.clone(), o.to_string())
            })
            .collect()
    }

    #[test]
    fn rendezvous_spreads_streams_and_moves_only_a_joiners_share() {
        let ids: Vec<String> = (0..3000).map(|i| format!("channel-{i}")).collect();
        let three = share(&ids, &["a", "b", "c"]);
        for m in ["a", "b", "c"] {
            let n = three.values().filter(|o| *o == m).count();
            assert!((900..1100).contains(&n), "{m}: {n} of 3000");
        }
        let four = share(&ids, &["a", "b", "c", "d"]);
        let moved: Vec<&String> = ids.iter().filter(|id| three[*id] != four[*id]).collect();
        assert!(moved.iter().all(|id| four[*id] == "d"));
        assert!((650..850).contains(&moved.len()), "{} moved", moved.len());
        // the order members are listed in does not matter
        assert_eq!(share(&ids, &["c", "a", "b"]), three);
        assert_eq!(owner("x", std::iter::empty()), None);
    }
}
